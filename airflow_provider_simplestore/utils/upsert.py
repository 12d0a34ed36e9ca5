"""The import's natural-key upsert: one row matched to an existing object by its natural keys, then
created, updated (only the fields that differ, with the object's version) or left unchanged.

A create whose outcome was lost (5xx or a dropped connection after sending: the hook does not
repeat a POST) is reconciled by looking the natural key up again instead of sending it blindly a
second time. `Upserter` needs only the hook's `list_resource` and `regular_call`, and a Target.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from airflow_provider_simplestore.client.resources import natural_key
from airflow_provider_simplestore.exceptions import (
    SimpleStoreAuthError,
    SimpleStoreConfigError,
    SimpleStoreConflictError,
    SimpleStoreError,
    SimpleStoreNotFoundError,
    SimpleStoreRateLimitError,
    SimpleStoreServerError,
    SimpleStoreTransportError,
    SimpleStoreValidationError,
)
from airflow_provider_simplestore.utils.formats import lookup, unflatten
from airflow_provider_simplestore.utils.import_rows import Target, changes, same
from airflow_provider_simplestore.utils.progress import TaskLog


class RecordsHook(Protocol):
    """What the engine calls on a SimpleStoreHook (a test may hand it a recording wrapper)."""

    def list_resource(self, resource: str, **filters: Any) -> Iterator[dict[str, Any]]: ...
    def regular_call(self, call: str, resource: str, item_id: str | None = None, body: Any = None) -> Any: ...


# How many times one row's create may be reconciled and re-sent before the row is given up.
MAX_WRITE_ATTEMPTS = 3


class RowRejected(Exception):
    """One row cannot be written; the reason (and the HTTP status, if any) go to the rejects report.

    `unknown` marks a row whose write may or may not have landed: the next run finds it by its
    natural key and reconciles it."""

    def __init__(self, reason: str, *, status: int | None = None, unknown: bool = False) -> None:
        super().__init__(reason)
        self.status = status
        self.unknown = unknown


def row_failure(exc: SimpleStoreError) -> RowRejected | None:
    """What an API error means for the one row being written; None when it concerns the whole task
    (configuration, credentials), which must fail."""
    if isinstance(exc, (SimpleStoreConfigError, SimpleStoreAuthError)):
        return None
    if isinstance(exc, (SimpleStoreServerError, SimpleStoreTransportError, SimpleStoreRateLimitError)):
        return RowRejected(
            f"outcome unknown after retries ({exc}); the next run reconciles it by natural key",
            status=exc.status,
            unknown=True,
        )
    if exc.status is not None and 400 <= exc.status < 500:
        return RowRejected(
            f"refused by SimpleStore (HTTP {exc.status}): {exc.detail or exc.title or exc}", status=exc.status
        )
    return None


class NaturalKeys:
    """The natural keys met so far in one file: a later row with one of them is a duplicate."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.first_line: dict[tuple[str, Any], int] = {}

    def claim(self, line: int, row: Mapping[str, Any]) -> None:
        keys = [(key, row[key]) for key in self.target.natural_keys if row.get(key) is not None]
        keys = [(key, natural_key(value) if key in self.target.case_insensitive else value) for key, value in keys]
        for key, value in keys:
            if (key, value) in self.first_line:
                raise RowRejected(f"duplicate {key} {row[key]!r}: line {self.first_line[key, value]} has it already")
        self.first_line.update((key, line) for key in keys)


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0

    @property
    def rows(self) -> int:
        return self.created + self.updated + self.unchanged + self.rejected

    def add(self, outcome: str) -> None:
        """One more row with this outcome (created, updated, unchanged or rejected)."""
        setattr(self, outcome, getattr(self, outcome) + 1)


class Upserter:
    """Writes the rows of one Target through a hook, each matched by its natural keys.

    One Upserter per file: it remembers the natural keys of the rows it was given, so that a later
    row repeating one is rejected as a duplicate."""

    def __init__(self, hook: RecordsHook, target: Target, log: TaskLog | None = None) -> None:
        self.hook = hook
        self.target = target
        self.resource = target.resource
        self.log = log or logging.getLogger(__name__)
        self.keys = NaturalKeys(target)

    def write(self, line: int, row: dict[str, Any]) -> str:
        """Write the parsed row of input line `line`: created, updated or unchanged. RowRejected when
        this row cannot be written (a duplicate, a 4xx, an outcome still unknown after retries); any
        other error (configuration, credentials: the whole task's) is raised as it is."""
        try:
            self.keys.claim(line, row)
            return self.upsert(row)
        except SimpleStoreError as exc:
            failure = row_failure(exc)
            if failure is None:
                raise
            raise failure from None

    def _find(self, wanted: Mapping[str, Any]) -> dict[str, Any] | None:
        """The object the row's natural keys point at; RowRejected when they point at two."""
        found: dict[str, Any] | None = None
        for key in self.target.natural_keys:
            value = wanted.get(key)
            if value is None:
                continue
            match = self._lookup(key, value)
            if match is None:
                continue
            if found is not None and found[self.target.id_field] != match[self.target.id_field]:
                raise RowRejected(
                    f"{' and '.join(self.target.natural_keys)} match different {self.resource}: "
                    f"{found[self.target.id_field]} and {match[self.target.id_field]}"
                )
            found = match
        return found

    def _lookup(self, key: str, value: str) -> dict[str, Any] | None:
        """The object whose natural key `key` is `value`, listed by the filter that finds that key."""
        finder: dict[str, Any] = {self.target.spec.natural_keys[key]: value}
        candidates = self.hook.list_resource(self.resource, **finder)
        for candidate in candidates:
            if same(self.target, key, lookup(candidate, key), value):
                return candidate
        return None

    def _create(self, body: dict[str, Any]) -> Any:
        return self.hook.regular_call("create", self.resource, body=body)

    def _update(self, object_id: str, body: dict[str, Any]) -> Any:
        return self.hook.regular_call("update", self.resource, object_id, body)

    def upsert(self, wanted: dict[str, Any]) -> str:
        """Write one row; returns created, updated or unchanged (or raises RowRejected)."""
        current = self._find(wanted)
        if current is None:
            return self._create_reconciled(wanted)
        return self._update_reconciled(current, wanted)

    def _create_reconciled(self, wanted: dict[str, Any]) -> str:
        for attempt in range(1, MAX_WRITE_ATTEMPTS + 1):
            lost = False
            try:
                self._create(unflatten(wanted))
                return "created"
            except SimpleStoreValidationError as exc:
                raise RowRejected(
                    f"refused by SimpleStore: {exc.detail or exc.title or exc}", status=exc.status
                ) from None
            except SimpleStoreConflictError:
                pass  # the key was taken meanwhile: look again below
            except (SimpleStoreServerError, SimpleStoreTransportError) as exc:
                if attempt == MAX_WRITE_ATTEMPTS:
                    raise
                if isinstance(exc, SimpleStoreTransportError) and not exc.request_sent:
                    continue  # it never reached the server: sending again is safe
                lost = True
                self.log.warning("Create outcome unknown (%s); reconciling by natural key", exc)
            current = self._find(wanted)
            if current is not None:
                outcome = self._update_reconciled(current, wanted)
                # Our own create that landed although its answer was lost still counts as created.
                return "created" if lost and outcome == "unchanged" else outcome
            self.log.info("The create did not land; sending it again (attempt %d)", attempt + 1)
        raise RowRejected("could not create it: its natural key kept conflicting")

    def _update_reconciled(self, current: dict[str, Any], wanted: dict[str, Any]) -> str:
        object_id = current[self.target.id_field]
        for attempt in range(1, MAX_WRITE_ATTEMPTS + 1):
            diff = changes(self.target, current, wanted)
            if not diff:
                return "unchanged" if attempt == 1 else "updated"
            body = unflatten(diff)
            if current.get("version") is not None:
                body["version"] = current["version"]
            try:
                self._update(object_id, body)
                return "updated"
            except SimpleStoreValidationError as exc:
                raise RowRejected(
                    f"refused by SimpleStore: {exc.detail or exc.title or exc}", status=exc.status
                ) from None
            except SimpleStoreNotFoundError:
                raise RowRejected(f"{self.resource} {object_id} was deleted during the import", status=404) from None
            except (SimpleStoreConflictError, SimpleStoreServerError, SimpleStoreTransportError) as exc:
                # Stale version, a duplicate key, or an outcome we did not see: read it again.
                if attempt == MAX_WRITE_ATTEMPTS:
                    if isinstance(exc, SimpleStoreConflictError):
                        raise RowRejected(f"conflict: {exc.detail or exc.title or exc}", status=exc.status) from None
                    raise
                self.log.info("Update of %s not confirmed (%s); reading it again", object_id, exc)
            refreshed = self._find(wanted)
            if refreshed is None or refreshed[self.target.id_field] != object_id:
                raise RowRejected(f"{self.resource} {object_id} changed its natural key during the import")
            current = refreshed
        raise AssertionError("unreachable")  # pragma: no cover
