"""What the API shows for rows with derived fields (tree links, counts)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_simplestore.sandbox.store import Store

Row = dict[str, Any]


def _brief(row: Row) -> Row:
    return {"categoryId": row["categoryId"], "name": row["name"], "slug": row["slug"], "names": row["names"]}


def category_view(store: Store, row: Row) -> Row:
    categories = store.categories.rows()
    parent = store.categories.get(row["parentId"]) if row.get("parentId") else None
    children = [_brief(c) for c in categories if c.get("parentId") == row["categoryId"]]
    siblings = [
        _brief(c)
        for c in categories
        if c.get("parentId") == row.get("parentId") and c["categoryId"] != row["categoryId"]
    ]
    return {
        "categoryId": row["categoryId"],
        "version": row["version"],
        "slug": row["slug"],
        "name": row["name"],
        "description": row["description"],
        "names": row["names"],
        "descriptions": row["descriptions"],
        "parentId": row.get("parentId"),
        "parentName": parent["name"] if parent else None,
        "itemCount": store.memberships()[0][row["categoryId"]],
        "attributes": row["attributes"],
        "children": children,
        "totalChildren": len(children),
        "sibling": siblings,  # singular, as documented
        "totalSibling": len(siblings),
        "isActive": row["isActive"],
        "files": row["files"],
    }


def collection_view(store: Store, row: Row) -> Row:
    return {**row, "totalItems": store.memberships()[1][row["collectionId"]]}


def folder_summary(row: Row) -> Row:
    """Folder search items carry no attributes (as documented)."""
    return {"folderId": row["folderId"], "version": row["version"], "name": row["name"], "parentId": row["parentId"]}
