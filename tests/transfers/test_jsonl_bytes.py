"""The bytes of an exported JSON Lines file: each record as `json.dumps(record, ensure_ascii=False,
separators=(",", ":"))` and a newline, whichever way a page is encoded (msgspec where it writes the
same bytes, the standard library elsewhere), with the standard library's errors."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from airflow_provider_simplestore.transfers.simplestore_to_storage import SimpleStoreToObjectStorageOperator
from airflow_provider_simplestore.utils import formats
from airflow_provider_simplestore.utils.formats import JsonlEncoder
from tests.local_server import LocalServer, Reply, Seen, token_reply
from tests.operator_support import context


def stdlib_lines(records: list[Any]) -> bytes:
    return b"".join((json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n").encode() for r in records)


# Keys out of sorted order, text that needs escaping, nesting and empties: what msgspec writes.
ORDERS = [
    {"orderId": "o-1", "total": 433.2, "items": [{"sellPrice": 137.75, "quantity": 3}], "attributes": {}},
    {
        "orderId": "o-2",
        "purchaserName": 'Zo\u00eb "Q" O\'Brien\\',
        "status": "Paid",
        "big": 2**70,
        "zero": -0.0,
        "note": "line\nbreak\ttab\x00\x1f\x7f\u2028 \U0001f600",
        "payments": [],
        "nested": [[[{"a": [None, True, False, 0.1, 1e-4, 9999999999999998.0]}]]],
    },
    {"status": "Cancelled", "orderId": "o-3", "total": 0.0},
]
# Every float spelling where msgspec and json.dumps differ (exponents both ways, subnormal, huge).
ODD_FLOATS = [
    {"orderId": "o-4", "weight": 1e-05, "ratio": 1e16, "tiny": 5e-324, "huge": 1.5e300, "small": 9.999999999999999e-05},
]


@pytest.fixture
def shop(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[list[Any]]]:
    """The pages of a shop's orders listing (full pages of 3, then one of 1), as the JSON the standard
    library writes (1e-05, 1e+16, NaN); a test may change them before it runs. Connection:
    `simplestore_floats`."""
    pages: list[list[Any]] = [list(ORDERS), list(ODD_FLOATS)]

    def respond(seen: Seen) -> Reply:
        if seen.method == "POST":
            return token_reply("floats-token")
        index = int(parse_qs(urlsplit(seen.path).query)["pageIndex"][0])
        return Reply(
            200,
            {
                "result": pages[index],
                "pageSize": 3,
                "pageIndex": index,
                "totalRecordsFound": sum(map(len, pages)),
                "totalPages": len(pages),
            },
        )

    with LocalServer(respond) as server:
        monkeypatch.setenv(
            "AIRFLOW_CONN_SIMPLESTORE_FLOATS",
            json.dumps(
                {
                    "conn_type": "simplestore",
                    "host": server.url,
                    "login": "floats-client",
                    "password": "floats-secret",
                    "extra": {"auth_url": server.url + "/connect/token"},
                }
            ),
        )
        yield pages


def export(target: Path) -> SimpleStoreToObjectStorageOperator:
    return SimpleStoreToObjectStorageOperator(
        task_id="export",
        resource="orders",
        incremental=False,
        page_size=3,
        destination=str(target),
        simplestore_conn_id="simplestore_floats",
    )


def test_the_exported_file_is_json_dumps_of_each_record_byte_for_byte(shop: list[list[Any]], tmp_path: Path) -> None:
    target = tmp_path / "orders.jsonl"
    summary = export(target).execute(context())

    assert target.read_bytes() == stdlib_lines(ORDERS + ODD_FLOATS)
    assert b'"weight":1e-05,"ratio":1e+16,"tiny":5e-324,"huge":1.5e+300' in target.read_bytes()
    assert summary["records"] == 4 and summary["bytes"] == len(stdlib_lines(ORDERS + ODD_FLOATS))


def test_a_nan_from_the_server_fails_the_export_as_json_dumps_does_and_writes_nothing(
    shop: list[list[Any]], tmp_path: Path
) -> None:
    shop[1] = [{"orderId": "o-4", "total": math.nan}]  # sent as NaN, which json.loads reads
    target = tmp_path / "orders.jsonl"

    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        export(target).execute(context())
    assert list(tmp_path.iterdir()) == []


def test_msgspec_is_used_where_installed() -> None:
    """Else every test here would pass through json.dumps alone."""
    pytest.importorskip("msgspec")
    assert formats._msgspec_writes_as_dumps()


@pytest.mark.parametrize(
    "records",
    [
        pytest.param(ORDERS, id="orders"),
        pytest.param(ORDERS + ODD_FLOATS, id="odd floats"),
        pytest.param([{"n": math.inf}], id="infinity"),
        pytest.param([{"a": 1}, {3: 4, 2.5: 5}], id="number keys"),
        pytest.param([{"a": 1}, {True: 1, None: 2}], id="keys msgspec refuses"),
        pytest.param([{1e16: 6}], id="float key with an exponent"),
        pytest.param([{"a": {"b": [{dt.date(2026, 1, 1): 1}]}}], id="a nested key msgspec writes and dumps refuses"),
        pytest.param([{"deep": json.loads("[" * 40 + "1.0" + "]" * 40)}], id="nesting past MAX_NESTING"),
        pytest.param([{"text": "\ud800"}], id="lone surrogate"),
        pytest.param([{"when": dt.date(2026, 1, 1)}], id="not a JSON type"),
        pytest.param([], id="no records"),
    ],
)
def test_encode_all_writes_and_refuses_exactly_what_encode_does(records: list[Any]) -> None:
    encoder = JsonlEncoder()
    try:
        expected: bytes | BaseException = b"".join(encoder.encode(record) for record in records)
    except (TypeError, ValueError) as exc:
        expected = exc
    if isinstance(expected, bytes):
        assert encoder.encode_all(records) == expected == stdlib_lines(records)
        return
    with pytest.raises(type(expected)) as raised:
        encoder.encode_all(records)
    assert str(raised.value) == str(expected)


@pytest.mark.timeout(60)  # a walk that follows the cycle never returns
def test_a_cycle_is_refused_as_json_dumps_refuses_it() -> None:
    looped: dict[str, Any] = {"orderId": "o-1"}
    looped["self"] = looped
    with pytest.raises(ValueError, match="Circular reference detected"):
        JsonlEncoder().encode_all([looped])
