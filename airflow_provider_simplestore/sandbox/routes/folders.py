"""Asset folders: the 5 documented endpoints (search plural, item singular, update by POST)."""

from __future__ import annotations

from msgspec import UNSET
from starlette.requests import Request
from starlette.responses import Response

from airflow_provider_simplestore.sandbox.routes import Api
from airflow_provider_simplestore.sandbox.routes.common import check_parent, merge, text
from airflow_provider_simplestore.sandbox.routes.crud import deletable, deleted, inserted, read_routes, update_route
from airflow_provider_simplestore.sandbox.schemas import FolderIn, present
from airflow_provider_simplestore.sandbox.state import SandboxState
from airflow_provider_simplestore.sandbox.store import Row, Store
from airflow_provider_simplestore.sandbox.views import folder_summary
from airflow_provider_simplestore.sandbox.web import Query, read_json


def _select(rows: list[Row], query: Query) -> list[Row]:
    if name := query.get("Name"):
        rows = [r for r in rows if name.casefold() in (r.get("name") or "").casefold()]
    if (parent := query.get("ParentId")) is not None:
        rows = [r for r in rows if (r.get("parentId") or "") == parent]
    return rows


def register(api: Api, state: SandboxState) -> None:
    max_body = state.options.max_body_bytes
    read_routes(api, state, "folders", "/v1/folders", "/v1/folder/{folderId}", _select, view=folder_summary)

    @api.route("POST", "/v1/folder/", "/v1/folder")
    async def create_folder(request: Request) -> Response:
        body = await read_json(request, FolderIn, max_body)
        text(body.name, "name", required=True)
        store = state.store
        folder_id = store.new_uuid()
        parent_id = None if body.parent_id is UNSET else body.parent_id
        check_parent(store.folders, folder_id, parent_id)
        row: Row = {"folderId": folder_id, "version": store.next_version(), "name": body.name, "parentId": parent_id}
        row["attributes"] = {} if body.attributes is UNSET else body.attributes
        return inserted(store, "folders", row)

    @update_route(api, state, "POST", "/v1/folder/{folderId}", "folders", FolderIn)
    def update_folder(store: Store, row: Row, body: FolderIn) -> None:
        if body.name is not UNSET:
            text(body.name, "name", required=True)
        if body.parent_id is not UNSET:
            check_parent(store.folders, row["folderId"], body.parent_id)
        merge(row, {k: v for k, v in present(body).items() if k in ("name", "parentId", "attributes")})

    @api.route("DELETE", "/v1/folder/{folderId}")
    async def delete_folder(request: Request) -> Response:
        return deleted(state.store.folders, deletable(state.store.folders, request, "sub-folders"))
