"""The read and write steps every resource's routes share: list and item reads, create, update, delete.

Each step keeps the platform's order of checks: the row a path names (404), then the body (400),
then its version (409).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from msgspec import UNSET
from starlette.requests import Request
from starlette.responses import Response

from airflow_provider_simplestore.sandbox.routes import Api
from airflow_provider_simplestore.sandbox.routes.common import guard_version
from airflow_provider_simplestore.sandbox.schemas import Versioned
from airflow_provider_simplestore.sandbox.state import SandboxState
from airflow_provider_simplestore.sandbox.store import Row, Store, Table
from airflow_provider_simplestore.sandbox.web import (
    Query,
    conflict,
    empty,
    encode,
    json_response,
    page_bytes,
    paging,
    raw_json,
    read_json,
)

BodyT = TypeVar("BodyT", bound=Versioned)
Select = Callable[[list[Row], Query], list[Row]]  # a list route's filters


def page(state: SandboxState, table: Table, rows: list[Row], query: Query) -> Response:
    size, index = paging(query, state.options.max_page_size)
    return raw_json(table.page(rows, size, index))


def page_views(state: SandboxState, rows: list[Row], query: Query, view: Callable[[Row], Row]) -> Response:
    """A page of per-request views of rows (e.g. without phones), encoded on the fly, not cached."""
    size, index = paging(query, state.options.max_page_size)
    start = size * index
    items = (encode(view(row)) for row in rows[start : start + size])
    return raw_json(page_bytes(items, len(rows), size, index))


def one(table: Table, key: str) -> Response:
    return raw_json(table.encoded(table.require(key)))


def listing(
    state: SandboxState,
    table: Table,
    rows: list[Row],
    query: Query,
    *,
    hideable: tuple[tuple[str, str], ...] = (),
    view: Callable[[Row], Row] | None = None,
) -> Response:
    """A page of `rows`: cached JSON, or per-request views (`view`, or fields an `Include<X>=false` hides)."""
    hidden = [field for flag, field in hideable if query.get_bool(flag, True) is False]
    if hidden:
        shown = view or table.show

        def without_hidden(row: Row) -> Row:
            return {k: v for k, v in shown(row).items() if k not in hidden}

        view = without_hidden
    if view is None:
        return page(state, table, rows, query)
    return page_views(state, rows, query, view)


def read_routes(
    api: Api, state: SandboxState, resource: str, list_path: str, item_path: str, select: Select, **listing_options: Any
) -> None:
    """`GET list_path` (filtered by `select`) and `GET item_path` (one row by the path's id)."""

    async def list_rows(request: Request) -> Response:
        query = Query.of(request)
        table = state.store.table(resource)
        return listing(state, table, select(table.rows(), query), query, **listing_options)

    async def get_row(request: Request) -> Response:
        table = state.store.table(resource)
        return one(table, next(iter(request.path_params.values())))

    list_rows.__name__, get_row.__name__ = f"list_{resource}", f"get_{resource}"
    api.route("GET", list_path)(list_rows)
    api.route("GET", item_path)(get_row)


def written(row: Row, id_field: str, status: int = 200) -> Response:
    return json_response({id_field: row[id_field], "version": row["version"]}, status)


async def addressed(state: SandboxState, table: Table, request: Request, schema: type[BodyT]) -> tuple[Row, BodyT]:
    """The row the path names (404) and the request body (400), its version checked (409), in that order."""
    row = table.require(request.path_params[table.id_field])
    body = await read_json(request, schema, state.options.max_body_bytes)
    guard_version(row, body.version, request)
    return row, body


def update_route(
    api: Api, state: SandboxState, method: str, path: str, resource: str, schema: type[BodyT], status: int = 200
) -> Callable[[Callable[[Store, Row, BodyT], None]], Callable[[Store, Row, BodyT], None]]:
    """Register `apply(store, row, body)` as an update: the row the path names (404), the body (400),
    its version (409), then `apply` changes the row in place, which gets a new version."""

    def register(apply: Callable[[Store, Row, BodyT], None]) -> Callable[[Store, Row, BodyT], None]:
        async def handler(request: Request) -> Response:
            store = state.store
            table = store.table(resource)
            row, body = await addressed(state, table, request, schema)
            apply(store, row, body)
            return bumped(store, table, row, status)

        handler.__name__ = apply.__name__
        api.route(method, path)(handler)
        return apply

    return register


def inserted(store: Store, resource: str, row: Row) -> Response:
    """Store a new row and answer 201 `{<idField>, version}`."""
    table = store.table(resource)
    table.insert(row)
    store.created(resource)
    return written(row, table.id_field, 201)


def bumped(store: Store, table: Table, row: Row, status: int = 200) -> Response:
    """A row changed in place: a new version, its cached JSON dropped; answers `{<idField>, version}`."""
    row["version"] = store.next_version()
    table.changed(row[table.id_field])
    return written(row, table.id_field, status)


def deletable(table: Table, request: Request, children: str | None = None) -> Row:
    """The row a DELETE names (404), its `Version` checked (409); with `children`, 409 while rows name it
    as their `parentId`."""
    row = table.require(request.path_params[table.id_field])
    guard_version(row, UNSET, request)
    key = row[table.id_field]
    if children and any(other.get("parentId") == key for other in table.rows()):
        raise conflict(f"{table.kind} {key!r} has {children}; delete or move them first")
    return row


def deleted(table: Table, row: Row) -> Response:
    table.delete(row[table.id_field])
    return empty(200)
