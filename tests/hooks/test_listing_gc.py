"""While a listing runs, the garbage collector's full passes leave out the objects that were there
before it (gc.freeze), and get them back when it ends, however it ends."""

from __future__ import annotations

import gc
from collections.abc import Callable, Generator
from typing import Any

from airflow_provider_simplestore.hooks.simplestore import SimpleStoreHook


def test_a_listing_keeps_older_objects_out_of_full_collections_until_it_ends(
    fresh_sandbox: Callable[..., Any], connect: Callable[..., str]
) -> None:
    hook = SimpleStoreHook(connect(fresh_sandbox(orders=40)))
    assert gc.get_freeze_count() == 0
    pages = hook.paginate_pages("/v1/orders", page_size=10, max_workers=2)
    next(pages)
    frozen_while_listing = [gc.get_freeze_count() for _ in pages]
    assert len(frozen_while_listing) == 3 and all(n > 0 for n in frozen_while_listing)
    assert gc.get_freeze_count() == 0


def test_a_listing_given_up_halfway_gives_the_objects_back(
    fresh_sandbox: Callable[..., Any], connect: Callable[..., str]
) -> None:
    hook = SimpleStoreHook(connect(fresh_sandbox(orders=40)))
    pages = hook.paginate_pages("/v1/orders", page_size=10)
    assert isinstance(pages, Generator)
    next(pages)
    next(pages)
    assert gc.get_freeze_count() > 0
    pages.close()  # the consumer stopped early (a limit reached, an error in its loop)
    assert gc.get_freeze_count() == 0
