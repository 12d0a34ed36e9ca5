"""Asset folders: the 5 documented endpoints (search plural, item singular, update by POST)."""

from __future__ import annotations

from msgspec import UNSET
from starlette.requests import Request
from starlette.responses import Response

from airflow_provider_simplestore.sandbox.routes import Api
from airflow_provider_simplestore.sandbox.routes.common import (
    check_parent,
    guard_version,
    merge,
    one,
    page_views,
    text,
    written,
)
from airflow_provider_simplestore.sandbox.schemas import FolderIn, present
from airflow_provider_simplestore.sandbox.state import SandboxState
from airflow_provider_simplestore.sandbox.store import Row
from airflow_provider_simplestore.sandbox.views import folder_summary
from airflow_provider_simplestore.sandbox.web import Query, conflict, empty, read_json


def register(api: Api, state: SandboxState) -> None:
    max_body = state.options.max_body_bytes

    @api.route("GET", "/v1/folders")
    async def list_folders(request: Request) -> Response:
        query = Query.of(request)
        rows = state.store.folders.rows()
        if name := query.get("Name"):
            rows = [r for r in rows if name.casefold() in (r.get("name") or "").casefold()]
        if (parent := query.get("ParentId")) is not None:
            rows = [r for r in rows if (r.get("parentId") or "") == parent]
        return page_views(state, rows, query, folder_summary)

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
        store.folders.insert(row)
        store.created("folders")
        return written(row, "folderId", 201)

    @api.route("GET", "/v1/folder/{folderId}")
    async def get_folder(request: Request) -> Response:
        return one(state.store.folders, request.path_params["folderId"])

    @api.route("POST", "/v1/folder/{folderId}")
    async def update_folder(request: Request) -> Response:
        store = state.store
        row = store.folders.require(request.path_params["folderId"])
        body = await read_json(request, FolderIn, max_body)
        guard_version(row, body.version, request)
        if body.name is not UNSET:
            text(body.name, "name", required=True)
        if body.parent_id is not UNSET:
            check_parent(store.folders, row["folderId"], body.parent_id)
        merge(row, {k: v for k, v in present(body).items() if k in ("name", "parentId", "attributes")})
        row["version"] = store.next_version()
        store.folders.changed(row["folderId"])
        return written(row, "folderId")

    @api.route("DELETE", "/v1/folder/{folderId}")
    async def delete_folder(request: Request) -> Response:
        store = state.store
        row = store.folders.require(request.path_params["folderId"])
        guard_version(row, UNSET, request)
        if any(f.get("parentId") == row["folderId"] for f in store.folders.rows()):
            raise conflict(f"folder {row['folderId']!r} has sub-folders; delete or move them first")
        store.folders.delete(row["folderId"])
        return empty(200)
