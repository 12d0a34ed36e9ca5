"""Helpers shared by resource routes: versions, small validators, merging, parent checks."""

from __future__ import annotations

import re
from typing import Any

from msgspec import UNSET
from starlette.requests import Request

from airflow_provider_simplestore.sandbox.store import Row, Table, check_version
from airflow_provider_simplestore.sandbox.web import Query, bad_request

CURRENCY = re.compile(r"^[A-Z]{3}$")
SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


def sent_version(body_version: Any, request: Request) -> list[str | None]:
    """The `version` a write names, from the body and/or the `Version` query parameter."""
    return [None if body_version is UNSET else body_version, Query.of(request).get("Version")]


def guard_version(row: Row, body_version: Any, request: Request) -> None:
    check_version(row, *sent_version(body_version, request))


def text(value: Any, name: str, *, required: bool = False) -> None:
    if value is UNSET:
        if required:
            raise bad_request(f"{name} is required")
        return
    if required and (value is None or not str(value).strip()):
        raise bad_request(f"{name} must not be empty")


def not_negative(value: Any, name: str) -> None:
    if value is not UNSET and value is not None and value < 0:
        raise bad_request(f"{name} must not be negative, got {value}")


def currency(value: Any, name: str) -> None:
    if value is not UNSET and not CURRENCY.match(value or ""):
        raise bad_request(f"{name} must be an ISO 4217 code such as AUD, got {value!r}")


def slug(value: Any, name: str = "slug") -> None:
    if value is not UNSET and not SLUG.match(value or ""):
        raise bad_request(f"{name} must be letters, digits, '-' or '_', got {value!r}")


def merge(target: Row, changes: dict[str, Any], nested: tuple[str, ...] = ()) -> None:
    """Apply the present fields; the `nested` objects are merged key by key, not replaced."""
    for key, value in changes.items():
        if key in nested and isinstance(value, dict) and isinstance(target.get(key), dict):
            target[key] = {**target[key], **value}
        else:
            target[key] = value


def check_parent(table: Table, own_id: str, parent_id: str | None) -> None:
    """400 unless `parent_id` is None or an existing row of `table` whose ancestry avoids `own_id`."""
    seen = {own_id}
    current = parent_id
    while current:
        if current in seen:
            raise bad_request(f"parentId {parent_id!r} would make a cycle")
        parent = table.get(current)
        if parent is None:
            raise bad_request(f"parentId {current!r} does not exist")
        seen.add(current)
        current = parent.get("parentId")
