"""Pacing (pacing.py) through both hooks against a rate-limited sandbox: one 429 pauses every
request of the connection, the client-side cap is shared by every hook, "auto" keeps to its
ceiling, and the records are the same whatever the concurrency. Plus the controllers themselves
on a fake clock (the only thing mocked)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import pytest

from airflow_provider_simplestore.client.pacing import (
    AdaptiveLimit,
    Pacer,
    check_workers,
    pacer_for,
    parse_remaining,
)
from airflow_provider_simplestore.exceptions import SimpleStoreConfigError, SimpleStoreRateLimitError
from airflow_provider_simplestore.hooks.simplestore import SimpleStoreHook
from tests.hook_support import SyncClient
from tests.local_server import LocalServer, Reply, Seen, page_reply, token_reply

ONE_ORDER = {"pageSize": 1}


def _get(c: SyncClient) -> Any:
    return c.call("request", "GET", "/v1/orders", params=ONE_ORDER)


def test_one_429_pauses_every_request_of_the_connection(
    fresh_sandbox: Callable[..., Any], connect: Callable[..., str], client: Callable[..., SyncClient]
) -> None:
    sb = fresh_sandbox(orders=5, rate_limit=1, burst=1)
    conn = connect(sb)
    first = SyncClient(conn, max_retries=0)
    try:
        _get(first)
        with pytest.raises(SimpleStoreRateLimitError):
            _get(first)  # the bucket is empty: Retry-After ~1 s
        # Another hook of the connection (a thread's or an event loop's) waits out that pause,
        # so the server never has to refuse it: with no retries allowed, a 429 would raise.
        other = client(conn, max_retries=0)
        assert _get(other)["totalRecordsFound"] == 5
    finally:
        first.close()
    assert sb.stats()["rate_limited"] == 1


def test_a_listing_that_reads_the_buckets_remaining_is_seldom_refused(
    fresh_sandbox: Callable[..., Any], connect: Callable[..., str]
) -> None:
    """The sandbox's answers say how many requests its bucket holds (X-RateLimit-Remaining): a listing
    faster than the limit learns the rate while the bucket drains and spends it to the end. Without
    reading it, the pacer learned only from refusals: 9-13 of them in this listing (0-1 with it, on a
    machine busy with a whole test run; a page answered late makes the pacer think the bucket refilled
    more than it did, so none at all is not promised)."""
    sb = fresh_sandbox(orders=600, rate_limit=100, burst=50)
    hook = SimpleStoreHook(connect(sb))
    ids = [order["orderId"] for order in hook.paginate("/v1/orders", page_size=4, max_workers=4)]
    assert len(ids) == len(set(ids)) == 600
    assert sb.stats()["rate_limited"] <= 3


def test_client_side_cap_is_shared_by_every_hook_of_the_connection(
    fresh_sandbox: Callable[..., Any], connect: Callable[..., str], client: Callable[..., SyncClient]
) -> None:
    sb = fresh_sandbox(orders=5, rate_limit=10, burst=2)
    conn = connect(sb, max_requests_per_second="8")
    hooks = [client(conn, max_retries=0) for _ in range(2)]
    errors: list[BaseException] = []

    def work(c: SyncClient) -> None:
        try:
            for _ in range(8):
                _get(c)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(c,)) for c in hooks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    # Two hooks at 8/s each would be 16/s against a limit of 10: only a shared cap stays under it.
    assert errors == []
    assert sb.stats()["rate_limited"] == 0 and sb.stats()["requests"]["GET /v1/orders"] == 16


def test_auto_never_exceeds_its_ceiling(
    fresh_sandbox: Callable[..., Any], connect: Callable[..., str], client: Callable[..., SyncClient]
) -> None:
    sb = fresh_sandbox(orders=600, latency_ms=30)
    c = client(connect(sb), auto_max_workers=3)
    items = c.items("paginate", "/v1/orders", page_size=5, max_workers="auto")
    assert len(items) == 600
    # It grew, and never past the ceiling. How far it grows in 120 pages depends on the machine's load
    # (a step that buys no throughput is undone); reaching exactly the ceiling is checked on a fake
    # clock in test_adaptive_limit_grows_to_its_ceiling_and_no_further.
    assert 2 <= sb.stats()["in_flight_peak"] <= 3


def test_same_records_whatever_the_concurrency(
    fresh_sandbox: Callable[..., Any], connect: Callable[..., str], client: Callable[..., SyncClient]
) -> None:
    sb = fresh_sandbox(orders=400, rate_limit=50, burst=2, latency_ms=5)
    c = client(connect(sb))
    runs = {workers: c.items("list_orders", page_size=10, max_workers=workers) for workers in (1, 4, "auto")}
    assert len(runs[1]) == 400 and len({o["orderId"] for o in runs[1]}) == 400
    assert runs[4] == runs[1] and runs["auto"] == runs[1]
    assert sb.stats()["rate_limited"] > 0  # the limit did refuse some: retries were part of it


@pytest.mark.parametrize("value", ["0", "-2", "fast", True])
def test_a_bad_rate_cap_names_the_field(
    fresh_sandbox: Callable[..., Any], connect: Callable[..., str], value: Any
) -> None:
    conn = connect(fresh_sandbox(orders=0, customers=0, products=0), max_requests_per_second=value)
    with pytest.raises(SimpleStoreConfigError, match="max_requests_per_second"):
        SimpleStoreHook(conn).settings  # noqa: B018 - reading it validates the connection


def test_rate_cap_is_optional(fresh_sandbox: Callable[..., Any], connect: Callable[..., str]) -> None:
    sb = fresh_sandbox(orders=0, customers=0, products=0)
    assert SimpleStoreHook(connect(sb, "a")).settings.max_requests_per_second is None
    assert SimpleStoreHook(connect(sb, "b", max_requests_per_second="")).settings.max_requests_per_second is None
    assert SimpleStoreHook(connect(sb, "c", max_requests_per_second="2.5")).settings.max_requests_per_second == 2.5


@pytest.mark.parametrize("value", [0, -1, "many", "AUTO", 2.5, True, None])
def test_max_workers_is_a_positive_integer_or_auto(value: Any) -> None:
    with pytest.raises(ValueError, match="max_workers"):
        check_workers(value)
    with pytest.raises(ValueError, match="auto_max_workers"):
        SimpleStoreHook(auto_max_workers=value if value is not None else "auto")  # type: ignore[arg-type]  # on purpose


# ---- the controllers on a fake clock ---------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _round(limit: AdaptiveLimit, clock: Clock, latency: float) -> int:
    """Fill the limit, let `latency` pass, finish them all; how many were in flight."""
    n = 0
    while limit._try_enter():
        n += 1
    clock.now += latency
    for _ in range(n):
        limit._leave(latency)
    return n


def test_adaptive_limit_grows_to_its_ceiling_and_no_further() -> None:
    clock = Clock()
    limit = AdaptiveLimit(Pacer(clock), ceiling=6, clock=clock)
    seen = [_round(limit, clock, 0.02) for _ in range(20)]
    assert max(seen) == 6 and limit.peak == 6 and limit.limit == 6
    assert seen[0] == 4 and seen[-1] == 6


def test_adaptive_limit_backs_off_on_latency_without_throughput() -> None:
    clock = Clock()
    limit = AdaptiveLimit(Pacer(clock), ceiling=16, clock=clock)
    for _ in range(18):  # up to the ceiling, then holding there
        _round(limit, clock, 0.02)
    assert limit.limit == 16
    for _ in range(6):  # ten times slower, no more throughput: queueing somewhere (two epochs of rounds)
        _round(limit, clock, 0.2)
    assert limit.limit < 16


def test_a_429_is_left_to_the_pacer_not_the_concurrency() -> None:
    """The pacer pauses the account and slows its turns; pages beyond its rate wait for a turn in
    this process. Cutting the concurrency as well (by a quarter on each storm, regrown only when
    more of it raised throughput, which a paced listing never shows) left too few pages waiting at
    the pacer to take every turn it gives."""
    clock = Clock()
    pacer = Pacer(clock)
    limit = AdaptiveLimit(pacer, ceiling=16, clock=clock)
    for _ in range(12):
        _round(limit, clock, 0.02)
    assert limit.limit == 16
    for _ in range(5):  # storms of 429s, a second apart: every page in flight refused
        in_flight = 0
        while limit._try_enter():
            in_flight += 1
        for _ in range(in_flight):
            pacer.observe(429, 0.0)
            limit._leave(None)
        clock.now += 1
        _round(limit, clock, 0.02)
    assert limit.limit == 16
    assert pacer.rate() is not None  # the pacer is what slowed down


def _answers(pacer: Pacer, clock: Clock, rate: float, seconds: float) -> None:
    """`rate` answers a second (not 429) for `seconds`."""
    for _ in range(round(rate * seconds)):
        clock.now += 1 / rate
        pacer.observe(200, None)


def test_pacer_learns_what_the_server_admits_then_probes_upward() -> None:
    clock = Clock()
    pacer = Pacer(clock)
    _answers(pacer, clock, 300, 1.0)  # 300/s went through (the server's burst included)
    pacer.observe(429, 0.004)
    assert pacer.rate() == pytest.approx(300 * 0.4, rel=0.05)  # nothing measured yet: 40 % of that
    for _ in range(4):  # the server keeps refusing: it admits 80/s
        _answers(pacer, clock, 80, 0.1)
        pacer.observe(429, 0.004)
    assert pacer.rate() == pytest.approx(80 * 0.97, rel=0.05)
    learned = pacer.rate()
    assert learned is not None
    clock.now += 5
    assert pacer.rate() == pytest.approx(learned * 1.10, rel=0.01)  # 2 % a second
    pacer.set_cap("conn", 10)
    assert pacer.rate() == 10


def test_a_first_guess_is_made_from_the_listings_full_speed_not_its_slow_start() -> None:
    """An "auto" listing starts with a few pages in flight and doubles: a second of answers before
    the first 429 is mostly its slow start. Guessing from that paced a 200/s server at about 100/s,
    and the probe took seconds to climb back."""
    clock = Clock()
    pacer = Pacer(clock)
    _answers(pacer, clock, 40, 0.9)
    _answers(pacer, clock, 400, 0.1)  # full speed; then the server's bucket runs dry
    pacer.observe(429, 0.004)
    assert pacer.rate() == pytest.approx(400 * 0.4, rel=0.05)  # not 40 % of the 76 answers of the second


def test_answers_already_under_way_when_the_server_ran_dry_are_not_counted_as_admitted() -> None:
    """Pages sent before the first 429 come back during its pause, a few admitted just before the
    bucket ran dry: counting them as admitted since then paced a 200/s server at about 240/s (more
    429s) until a longer measure corrected it."""
    clock = Clock()
    pacer = Pacer(clock)
    _answers(pacer, clock, 600, 0.2)
    pacer.observe(429, 0.005)  # the bucket is dry: the account pauses 5 ms
    for _ in range(4):  # the rest of what was under way comes back within the pause
        clock.now += 0.001
        pacer.observe(200, None)
    pacer.observe(429, 0.001)
    _answers(pacer, clock, 200, 0.06)  # what the server admits from then on
    pacer.observe(429, 0.004)
    assert pacer.rate() == pytest.approx(200 * 0.97, rel=0.05)


def test_a_later_episode_starts_under_what_went_through_not_under_a_probe_past_it() -> None:
    """A probe can run past the server's rate for a while before its 429 (the bucket refilled
    while the pacer went slower); cutting 5 % from there still went faster than the server admits."""
    clock = Clock()
    pacer = Pacer(clock)
    pacer._learned, pacer._learned_at, pacer._measured = 150.0, clock.now, False  # a guess, probing 50 %/s
    _answers(pacer, clock, 200, 2.0)  # the server admitted 200/s while the probe went on to 300/s
    assert pacer.rate() == pytest.approx(300, rel=0.02)
    pacer.observe(429, 0.005)
    assert pacer.rate() == pytest.approx(200 * 0.95, rel=0.02)


def _drain(pacer: Pacer, clock: Clock, sent_per_second: float, refill: float, burst: int, seconds: float) -> int:
    """Requests sent as fast as `sent_per_second` to a bucket of `burst` refilling at `refill`; each
    answer says what the bucket holds, as X-RateLimit-Remaining does. Returns the bucket's tokens."""
    tokens = float(burst)
    for _ in range(round(sent_per_second * seconds)):
        clock.now += 1 / sent_per_second
        tokens = min(burst, tokens + refill / sent_per_second)
        _, turn = pacer._reserve()
        assert tokens >= 1, "the simulated client ran the bucket dry"
        tokens -= 1
        pacer.observe(200, None, int(tokens), turn)
    return int(tokens)


def test_the_buckets_remaining_teaches_its_rate_before_any_429() -> None:
    """Answers that say how many requests the bucket holds tell its rate while it drains: nothing
    has to be refused first. Before, the pacer knew nothing until a 429, then went at 40 % of the
    listing's speed and probed back up: a fifth of the limit unused over a one-second listing."""
    clock = Clock()
    pacer = Pacer(clock)
    _drain(pacer, clock, sent_per_second=300, refill=200, burst=20, seconds=0.1)  # 19 -> 9 left
    assert pacer.rate() == pytest.approx(200 * 0.97, rel=0.05)
    assert pacer.rate_limited == 0


def test_a_bucket_that_stays_full_teaches_nothing() -> None:
    clock = Clock()
    pacer = Pacer(clock)
    _drain(pacer, clock, sent_per_second=50, refill=200, burst=20, seconds=1)
    assert pacer.rate() is None


def test_what_the_bucket_still_holds_goes_at_once_then_the_pace_binds() -> None:
    """The credit: as many turns as the last answer says the bucket holds, less the turns given
    since that request's own and one spare, go without waiting for the learned pace."""
    clock = Clock()
    pacer = Pacer(clock)
    pacer._learned, pacer._learned_at, pacer._measured = 10.0, clock.now, True
    _, turn = pacer._reserve()  # paced: now
    pacer._reserve()  # another request after it, paced: in 0.1 s
    pacer.observe(200, None, 5, turn)  # 5 left: one was sent since, one kept spare -> 3 go at once
    assert [pacer._reserve()[0] for _ in range(5)] == pytest.approx([0, 0, 0, 0.2, 0.3])
    pacer.set_cap("conn", 10)  # a connection's own cap is never run past
    pacer.observe(200, None, 5, pacer._reserve()[1])
    assert pacer._reserve()[0] > 0


def test_what_the_bucket_refilled_since_the_request_went_counts_too() -> None:
    """The requests sent after it reach the server as much later as they went: by then the bucket
    has refilled for that long. Left out, a listing at 20 ms kept about seven requests' worth of the
    bucket unspent all along."""
    clock = Clock()
    pacer = Pacer(clock)
    pacer._learned, pacer._learned_at, pacer._measured = 10.0, clock.now, True
    _, turn = pacer._reserve()
    clock.now += 0.5  # its answer comes back half a second later: 5 more in the bucket by now
    pacer.observe(200, None, 0, turn)
    assert pacer._credit == 4  # one kept spare


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12", 12),
        (" 0 ", 0),
        (None, None),
        ("", None),
        ("-1", None),
        ("1.5", None),
        ("١٢", None),  # digits, but not ASCII ones
        ("9" * 18, 10**18 - 1),
        ("9" * 5000, None),  # a hostile server: int() would raise ValueError past 4,300 digits
    ],
)
def test_remaining_is_a_whole_number_or_not_read(value: str | None, expected: int | None) -> None:
    assert parse_remaining(value) == expected


def test_pacer_spaces_requests_at_its_cap_and_pauses_after_a_429() -> None:
    clock = Clock()
    pacer = Pacer(clock)
    pacer.set_cap("conn", 4)
    waits = [pacer._reserve()[0] for _ in range(4)]
    assert waits == pytest.approx([0, 0.25, 0.5, 0.75])
    pacer.set_cap("conn", None)
    pacer.observe(429, 2.0)
    assert pacer._reserve()[0] == pytest.approx(2.0)


def test_a_long_retry_after_pauses_no_longer_than_max_retry_wait(
    fresh_sandbox: Callable[..., Any], connect: Callable[..., str], client: Callable[..., SyncClient]
) -> None:
    sb = fresh_sandbox(orders=5)
    conn = connect(sb, max_retry_wait=0.3)
    sb.set_faults(rules=[{"kind": "429", "probability": 1, "retry_after": 3600}])
    first = SyncClient(conn, max_retries=0)
    try:
        with pytest.raises(SimpleStoreRateLimitError):
            _get(first)
    finally:
        first.close()
    sb.clear_faults()
    other = client(conn, max_retries=0)
    done = threading.Event()
    worker = threading.Thread(target=lambda: (_get(other), done.set()), daemon=True)
    worker.start()
    # An hour's Retry-After must not stall the whole connection for an hour.
    assert done.wait(30), "the pause after a 429 was not capped by max_retry_wait"


def test_a_page_that_asked_first_enters_first() -> None:
    """A worker that finished a page and asks again at once must not take the room ahead of a page
    already waiting: pages are handed out in order, so the listing waited for the starved page
    (up to a quarter of a second under load) while the pacer's turns went unused."""
    limit = AdaptiveLimit(Pacer(), ceiling=1)
    assert limit._try_enter()  # one page in flight: no room
    entered: list[str] = []
    waiting = threading.Thread(target=limit.run, args=(lambda: entered.append("waiting page"),), daemon=True)
    waiting.start()
    _until(lambda: len(limit._line) == 1)
    with limit._cond:  # the page in flight ends and its worker asks again, before anyone else runs
        limit._in_flight -= 1
        limit._cond.notify_all()
        overtook = limit._admit(None)
    if overtook:
        limit._leave(None)  # the newcomer's page is done: the waiting one can still end
    waiting.join(30)
    assert not overtook and entered == ["waiting page"]


def test_a_page_cancelled_in_line_does_not_hold_up_the_ones_behind_it() -> None:
    async def main() -> list[str]:
        limit = AdaptiveLimit(Pacer(), ceiling=1)
        assert limit._try_enter()
        entered: list[str] = []

        async def page(name: str) -> None:
            entered.append(name)

        first = asyncio.ensure_future(limit.arun(lambda: page("cancelled")))
        second = asyncio.ensure_future(limit.arun(lambda: page("behind it")))
        while len(limit._line) < 2:
            await asyncio.sleep(0.001)
        first.cancel()  # e.g. the listing stopped early
        limit._leave(None)
        if limit._room is not None:
            limit._room.set()
        await asyncio.wait_for(second, 10)
        return entered

    assert asyncio.run(main()) == ["behind it"]


def _until(condition: Callable[[], bool], deadline: float = 30) -> None:
    stop = time.monotonic() + deadline
    while not condition():
        assert time.monotonic() < stop, "condition not met in time"
        time.sleep(0.001)


# ---- what one pacer serves: an account (API URL, client id), not a connection ----------------------


def test_connections_of_one_account_share_a_pause(
    fresh_sandbox: Callable[..., Any], connect: Callable[..., str], client: Callable[..., SyncClient]
) -> None:
    sb = fresh_sandbox(orders=5, rate_limit=1, burst=1)
    first = SyncClient(connect(sb, "shop_reports"), max_retries=0)
    try:
        _get(first)
        with pytest.raises(SimpleStoreRateLimitError):
            _get(first)  # the bucket is empty: Retry-After ~1 s
    finally:
        first.close()
    # Another connection with the same URL and client id draws on the same server bucket: it waits
    # out that pause (with no retries allowed, a 429 would raise).
    other = client(connect(sb, "shop_imports"), max_retries=0)
    assert _get(other)["totalRecordsFound"] == 5
    assert sb.stats()["rate_limited"] == 1


def test_the_lowest_cap_of_an_accounts_connections_binds_them_all(
    fresh_sandbox: Callable[..., Any], connect: Callable[..., str], client: Callable[..., SyncClient]
) -> None:
    # The server admits 2/s with no burst to spare; the account is capped at 1.5/s by one connection.
    # Connections without the extra, or with a higher one, must not lift that cap for their requests.
    sb = fresh_sandbox(orders=5, rate_limit=2, burst=1)
    capped = client(connect(sb, "shop_capped", max_requests_per_second="1.5"), max_retries=0)
    plain = client(connect(sb, "shop_plain"), max_retries=0)
    looser = client(connect(sb, "shop_looser", max_requests_per_second="50"), max_retries=0)
    for c in (capped, plain, looser, plain):
        _get(c)  # with no retries allowed, a request the cap did not space out raises a 429
    assert sb.stats()["rate_limited"] == 0 and sb.stats()["requests"]["GET /v1/orders"] == 4


def test_an_accounts_cap_is_the_lowest_registered_and_each_connection_can_change_its_own() -> None:
    url = "https://api.example.test"
    assert pacer_for(url, "client", "a", 2.0).rate() == 2.0
    assert pacer_for(url, "client", "b", None).rate() == 2.0  # no extra: no lift
    assert pacer_for(url, "client", "c", 10.0).rate() == 2.0  # a higher one: no lift
    assert pacer_for(url, "other-client", "d", None).rate() is None  # another account: its own
    assert pacer_for(url, "client", "a", 5.0).rate() == 5.0  # "a" raised its own cap; "c" still caps
    assert pacer_for(url, "client", "a", None).rate() == 10.0
    assert pacer_for(url, "client", "c", None).rate() is None


def test_a_429_for_one_client_id_does_not_pause_another(sandbox: Any, connect: Callable[..., str]) -> None:
    """Two client ids on one API: the server limits each on its own, so one's pause is not the other's."""

    def respond(seen: Seen) -> Reply:
        if seen.method == "POST":  # the token request: a token naming its client
            return token_reply("token-" + parse_qs(seen.body.decode())["client_id"][0])
        if seen.headers.get("Authorization") == "Bearer token-client-a":
            return Reply(429, {"title": "rate limit exceeded"}, {"Retry-After": "600"})
        return page_reply([{"orderId": 1}], 1)

    with LocalServer(respond) as server:

        def conn(conn_id: str, login: str) -> str:
            return connect(
                sandbox,
                conn_id,
                host=server.url,
                login=login,
                auth_url=server.url + "/connect/token",
                max_retries=0,
                max_retry_wait=600,
            )

        a = SimpleStoreHook(conn("shop_a", "client-a"))
        b = SimpleStoreHook(conn("shop_b", "client-b"))
        try:
            with pytest.raises(SimpleStoreRateLimitError):
                a.count("/v1/orders")  # client-a is now paused for 600 s
            done = threading.Event()
            worker = threading.Thread(target=lambda: (b.count("/v1/orders"), done.set()), daemon=True)
            worker.start()
            assert done.wait(30), "client-b waited out client-a's pause: the pacer ignores the client id"
        finally:
            a.close()
            b.close()


def test_a_shorter_retry_after_never_shortens_a_held_pause() -> None:
    clock = Clock()
    pacer = Pacer(clock)
    pacer.observe(429, 10.0)
    clock.now += 0.5
    pacer.observe(429, 1.0)  # another request's 429, asking for less: the first pause still holds
    assert pacer._reserve()[0] == pytest.approx(9.5)
    pacer.observe(429, 30.0)  # a longer one extends it
    assert pacer._reserve()[0] == pytest.approx(30.0)
