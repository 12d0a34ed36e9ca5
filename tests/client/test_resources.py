"""resources.RESOURCES is the one description of a resource: every layer that lists, reads, writes,
exports, loads or imports a resource agrees with it, and the sandbox answers what it declares.

Each test names what is missing, so adding a resource is led from one failure to the next (see
docs/architecture.md, "Adding a listable resource").
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_simplestore.client.resources import (
    CREATED_FILTERS,
    ENDPOINTS,
    IRREGULAR_ENDPOINTS,
    REGULAR_CALLS,
    RESOURCES,
    Resource,
)
from airflow_provider_simplestore.exceptions import SimpleStoreConfigError
from airflow_provider_simplestore.hooks.endpoints import EndpointMethods
from airflow_provider_simplestore.hooks.simplestore import SimpleStoreAsyncHook, SimpleStoreHook
from airflow_provider_simplestore.utils import import_rows
from airflow_provider_simplestore.utils.formats import CSV_COLUMNS, lookup
from airflow_provider_simplestore.utils.source import SYNC_RESOURCES, created_params, is_incremental
from airflow_provider_simplestore.utils.sql_statements import TYPED_COLUMNS
from tests.local_server import LocalServer, Reply, Seen, page_reply, token_reply

PAGING = {"params", "page_size", "max_workers"}  # what every list_* method takes besides its filters
NOTHING = "zz-no-such-value"  # matches no id, name, slug, email or status of the seeded sandbox


def regular_calls() -> Iterator[tuple[Resource, str]]:
    for spec in RESOURCES.values():
        for call in spec.calls:
            yield spec, call


# --- the table itself ------------------------------------------------------------------------------


# The platform's convention for a resource's regular calls: the method, and whether on the item path.
CONVENTION = {
    "list": ("GET", False),
    "get": ("GET", True),
    "create": ("POST", False),
    "update": ("PUT", True),
    "delete": ("DELETE", True),
}


def test_regular_endpoints_come_from_the_resource_rows() -> None:
    assert set(REGULAR_CALLS) == set(CONVENTION)
    for spec, call in regular_calls():
        method, on_item = CONVENTION[call]
        path = spec.item_path.replace("{id}", "{" + spec.id_param + "}") if on_item else spec.list_path
        endpoint = ENDPOINTS.get(spec.call_name(call))
        assert endpoint is not None, f"ENDPOINTS lacks {spec.call_name(call)}"
        assert (endpoint.method, endpoint.path) == (method, path), spec.call_name(call)


def test_irregular_endpoints_never_shadow_a_regular_one() -> None:
    regular = {spec.call_name(call) for spec, call in regular_calls()}
    assert not regular & set(IRREGULAR_ENDPOINTS), "write a regular call in RESOURCES, not in IRREGULAR_ENDPOINTS"
    assert len(ENDPOINTS) == len(regular) + len(IRREGULAR_ENDPOINTS)


def test_a_row_refuses_natural_keys_and_creation_times_it_cannot_filter_on() -> None:
    with pytest.raises(ValueError, match=r"resource things: .*\['code'\]"):
        Resource("things", "thing", "/v1/things", "/v1/things/{id}", "thingId", natural_keys={"code": "code"})
    with pytest.raises(ValueError, match=r"resource things: .*\['created_from', 'created_to'\]"):
        Resource("things", "thing", "/v1/things", "/v1/things/{id}", "thingId", created_field="createdOnUtc")
    with pytest.raises(ValueError, match=r"unknown regular calls \['patch'\]"):
        Resource("things", "thing", "/v1/things", "/v1/things/{id}", "thingId", calls=("list", "patch"))


# --- the hooks: a typed method for every regular call ----------------------------------------------


@pytest.mark.parametrize("hook_class", [SimpleStoreHook, SimpleStoreAsyncHook])
def test_every_regular_call_has_a_typed_method(hook_class: type) -> None:
    for spec, call in regular_calls():
        name = spec.call_name(call)
        method = getattr(hook_class, name, None)
        assert callable(method), f"{hook_class.__name__} lacks {name}() (hooks/endpoints.py)"
        parameters = inspect.signature(method).parameters
        if call == "list":
            keywords = {p for p, v in parameters.items() if v.kind is inspect.Parameter.KEYWORD_ONLY}
            assert keywords - PAGING == set(spec.filters), f"{name}() keywords differ from RESOURCES[{spec.name!r}]"
            assert keywords >= PAGING, f"{name}() lacks {sorted(PAGING - keywords)}"
        else:
            expected = {
                "get": [spec.id_param],
                "delete": [spec.id_param],
                "create": ["body"],
                "update": [spec.id_param, "body"],
            }[call]
            assert list(parameters)[1:] == expected, f"{name}() should take {expected}"
            assert parameters[list(parameters)[1]].annotation in ("str", "Body"), f"{name}() lacks type hints"


# What EndpointMethods has besides the endpoint methods: the hook's I/O and the generic entry points.
GENERIC = {"request", "paginate", "empty", "call", "list_resource", "regular_call"}


def test_the_written_out_methods_are_exactly_the_endpoints() -> None:
    written = {name for name in vars(EndpointMethods) if not name.startswith("_")} - GENERIC
    unknown, missing = sorted(written - set(ENDPOINTS)), sorted(set(ENDPOINTS) - written)
    assert not unknown, f"methods of hooks/endpoints.py that name no ENDPOINTS entry: {unknown}"
    assert not missing, f"ENDPOINTS entries without a method in hooks/endpoints.py: {missing}"


ITEM_ID = "item-7"
BODY = {"name": "sent as given"}
ARGUMENTS: dict[str, list[Any]] = {
    "list": [],
    "get": [ITEM_ID],
    "delete": [ITEM_ID],
    "create": [BODY],
    "update": [ITEM_ID, BODY],
}


@pytest.fixture
def recording_conn(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, LocalServer]]:
    """A connection to a local server that records every request and answers each with an empty page."""

    def respond(seen: Seen) -> Reply:
        return token_reply("tok-recorded") if seen.path.startswith("/connect/token") else page_reply([], 0)

    with LocalServer(respond) as server:
        monkeypatch.setenv(
            "AIRFLOW_CONN_SIMPLESTORE_RECORDED",
            json.dumps(
                {
                    "conn_type": "simplestore",
                    "host": server.url,
                    "login": "recorder",
                    "password": "unused",
                    "extra": {"auth_url": server.url + "/connect/token", "max_retries": 0},
                }
            ),
        )
        yield "simplestore_recorded", server


def api_requests(server: LocalServer, since: int) -> list[tuple[str, str, Any]]:
    """(method, path without the query, JSON body) of each API request after the first `since`."""
    return [
        (s.method, s.path.partition("?")[0], json.loads(s.body) if s.body else None)
        for s in server.seen[since:]
        if not s.path.startswith("/connect/token")
    ]


async def answer(result: Any) -> Any:
    """A method's result on either hook: awaited, or its items read (which sends a list's request)."""
    if inspect.isawaitable(result):
        return await result
    if hasattr(result, "__aiter__"):
        return [item async for item in result]
    return list(result) if isinstance(result, Iterator) else result


@pytest.mark.parametrize("hook_class", [SimpleStoreHook, SimpleStoreAsyncHook])
def test_every_regular_method_sends_its_rows_request(recording_conn: tuple[str, LocalServer], hook_class: type) -> None:
    """Each list and item method sends its own row's ENDPOINTS request, id and body included (real HTTP)."""
    conn_id, server = recording_conn
    sent: dict[str, list[tuple[str, str, Any]]] = {}

    async def call_each() -> None:
        hook = hook_class(conn_id)
        for spec, call in regular_calls():
            name, since = spec.call_name(call), len(server.seen)
            await answer(getattr(hook, name)(*ARGUMENTS[call]))
            sent[name] = api_requests(server, since)
        await answer(hook.aclose() if hook_class is SimpleStoreAsyncHook else hook.close())

    asyncio.run(call_each())
    for spec, call in regular_calls():
        name, endpoint = spec.call_name(call), ENDPOINTS[spec.call_name(call)]
        body = BODY if call in ("create", "update") else None
        expected = [(endpoint.method, endpoint.format(**{spec.id_param: ITEM_ID}), body)]
        assert sent[name] == expected, f"{name}() sent {sent[name]}, its row says {expected}"


def test_item_methods_take_the_id_by_position_or_by_its_name(simplestore_conn: Any) -> None:
    hook = SimpleStoreHook()
    product_id = next(iter(hook.list_products()))["productId"]
    assert hook.get_product(product_id)["productId"] == product_id
    assert hook.get_product(product_id=product_id)["productId"] == product_id
    assert SimpleStoreHook.get_product(hook, product_id)["productId"] == product_id
    with pytest.raises(TypeError):
        hook.get_product(order_id=product_id)  # type: ignore[call-arg]  # the wrong name on purpose


def test_regular_call_names_what_a_resource_cannot_do() -> None:
    hook = SimpleStoreHook("unused")
    with pytest.raises(TypeError, match=r"orders has no item call 'create'; it has: get$"):
        hook.regular_call("create", "orders", body={})


# --- syncs: export, SQL, incremental ---------------------------------------------------------------


def test_every_listable_resource_syncs_and_only_timed_ones_incrementally(monkeypatch: pytest.MonkeyPatch) -> None:
    assert tuple(RESOURCES) == SYNC_RESOURCES
    for spec in RESOURCES.values():
        assert is_incremental(spec.name, None) is (spec.created_field is not None), spec.name
    # A second resource with a creation time syncs incrementally too, on its own filters.
    monkeypatch.setitem(
        RESOURCES,
        "things",
        Resource(
            "things",
            "thing",
            "/v1/things",
            "/v1/things/{id}",
            "thingId",
            created_field="madeOnUtc",
            filters={"created_from": "madeFromUtc", "created_to": "madeToUtc"},
        ),
    )
    assert is_incremental("things", None) is True
    assert set(created_params("things", _window())) == {"madeFromUtc", "madeToUtc"}
    with pytest.raises(SimpleStoreConfigError, match="only orders, things do"):
        is_incremental("products", True)


def test_csv_columns_follow_the_resources() -> None:
    assert set(CSV_COLUMNS) == set(RESOURCES), "utils/formats.py CSV_COLUMNS needs one entry per resource"
    for spec in RESOURCES.values():
        columns = CSV_COLUMNS[spec.name]
        assert columns[0] == spec.id_field, f"CSV_COLUMNS[{spec.name!r}] starts with its id {spec.id_field}"
        needed = {*spec.natural_keys, *([spec.created_field] if spec.created_field else [])}
        assert needed <= set(columns), f"CSV_COLUMNS[{spec.name!r}] lacks {sorted(needed - set(columns))}"


def test_sql_columns_follow_the_resources() -> None:
    assert set(TYPED_COLUMNS) == set(RESOURCES), "utils/sql_statements.py TYPED_COLUMNS: one per resource"
    for spec in RESOURCES.values():
        sources = {column.source for column in TYPED_COLUMNS[spec.name]}
        needed = {*spec.natural_keys, *([spec.created_field] if spec.created_field else [])}
        assert needed <= sources, f"TYPED_COLUMNS[{spec.name!r}] lacks columns for {sorted(needed - sources)}"


# --- the importer ----------------------------------------------------------------------------------


def test_the_importer_imports_exactly_the_importable_resources() -> None:
    importable = {spec.name for spec in RESOURCES.values() if spec.importable}
    assert set(import_rows.TARGETS) == importable
    for name in importable:
        spec = RESOURCES[name]
        assert {"create", "update"} <= set(spec.calls), f"{name} is importable: it needs create and update"
        missing = set(spec.natural_keys) - set(import_rows.TARGETS[name].fields)
        assert not missing, f"IMPORT_FIELDS[{name!r}] lacks its natural keys {sorted(missing)}"
        assert spec.natural_keys, f"{name} is importable: it needs natural keys to match rows"


def test_an_importable_resource_without_fields_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(import_rows.IMPORT_FIELDS, "customers")
    with pytest.raises(TypeError, match="resource customers is importable but IMPORT_FIELDS has no fields"):
        import_rows.import_targets()


# --- the sandbox answers every filter a resource declares (real HTTP) ------------------------------


def _window() -> Any:
    import datetime as dt

    from airflow_provider_simplestore.utils.source import Window

    return Window(dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc), dt.datetime(2021, 1, 1, tzinfo=dt.timezone.utc))


def _ids(hook: SimpleStoreHook, spec: Resource, **filters: Any) -> list[str]:
    return [record[spec.id_field] for record in hook.list_resource(spec.name, **filters)]


FILTERS = [(spec, keyword) for spec in RESOURCES.values() for keyword in spec.filters]


@pytest.mark.parametrize(("spec", "keyword"), FILTERS, ids=[f"{s.name}-{k}" for s, k in FILTERS])
def test_the_sandbox_applies_every_declared_filter(simplestore_conn: Any, spec: Resource, keyword: str) -> None:
    hook = SimpleStoreHook()
    records = list(hook.list_resource(spec.name))
    assert records, f"the shared sandbox has no {spec.name}: nothing to check the filter on"
    every = [record[spec.id_field] for record in records]
    if keyword.startswith("include_"):
        field = keyword.removeprefix("include_")
        assert all(field in record for record in records), f"{spec.name} records have no {field!r}"
        hidden: dict[str, Any] = {keyword: False}
        shown = list(hook.list_resource(spec.name, **hidden))
        assert len(shown) == len(records)
        assert not any(field in record for record in shown), f"the sandbox ignores {spec.filters[keyword]}=false"
    elif keyword == "is_active":
        active, inactive = _ids(hook, spec, is_active=True), _ids(hook, spec, is_active=False)
        assert sorted(active + inactive) == sorted(every), f"the sandbox ignores {spec.filters[keyword]}"
    elif keyword in CREATED_FILTERS:
        assert spec.created_field is not None
        field = spec.created_field
        moment = records[len(records) // 2][field]
        chosen = _ids(hook, spec, **{keyword: moment})
        after = keyword == "created_from"  # inclusive; created_to is exclusive
        expected = [r[spec.id_field] for r in records if (r[field] >= moment if after else r[field] < moment)]
        assert sorted(chosen) == sorted(expected), f"the sandbox ignores {spec.filters[keyword]}"
    else:
        value: Any = [NOTHING] if keyword.endswith("_ids") else NOTHING
        assert _ids(hook, spec, **{keyword: value}) == [], f"the sandbox ignores {spec.filters[keyword]}"


NATURAL_KEYS = [(spec, key) for spec in RESOURCES.values() for key in spec.natural_keys]


@pytest.mark.parametrize(("spec", "key"), NATURAL_KEYS, ids=[f"{s.name}-{k}" for s, k in NATURAL_KEYS])
def test_a_natural_key_is_found_by_its_filter_without_case(simplestore_conn: Any, spec: Resource, key: str) -> None:
    hook = SimpleStoreHook()
    record = next(r for r in hook.list_resource(spec.name) if lookup(r, key))
    found = _ids(hook, spec, **{spec.natural_keys[key]: lookup(record, key).upper()})
    assert record[spec.id_field] in found, f"filter {spec.natural_keys[key]!r} does not find {spec.name} by {key}"
