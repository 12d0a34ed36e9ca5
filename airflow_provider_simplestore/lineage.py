"""Lineage: how a sync names what it reads and writes, for Airflow assets and for OpenLineage.

One naming for both. Each dataset has an OpenLineage ``namespace`` and ``name`` (the OpenLineage
naming spec where it has one) and an Airflow asset ``uri``:

- SimpleStore: ``simplestore://<api host[:port]>`` + the resource (``orders``);
  asset ``simplestore://<host>/orders``.
- local file: ``file`` + ``/abs/path``; asset ``file:///abs/path``.
- object store: ``s3://<bucket>`` (gs, abfs, ...) + the key; asset ``s3://<bucket>/<key>``.
- PostgreSQL: ``postgres://<host>:<port>`` + ``<db>.<schema>.<table>``;
  asset ``postgres://<host>:<port>/<db>/<schema>/<table>`` (Airflow's postgres asset form).
- SQLite (not in the spec): ``sqlite://localhost<abs db file>`` + ``main.<table>``;
  asset ``sqlite://localhost<abs db file>/main/<table>``.

Other SQL connections follow PostgreSQL's form with their connection type as the scheme.
OpenLineage itself (``apache-airflow-providers-openlineage``, the ``openlineage`` extra) is
optional: it is imported only by ``operator_lineage`` and ``asset_to_openlineage``, which only
its listener calls, never at DAG parse time.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

log = logging.getLogger(__name__)
SCHEME = "simplestore"
SQLITE_SCHEMA = "main"  # SQLite's name for the database a connection opens
# Object stores whose OpenLineage namespace is scheme://bucket (the key is the name).
_BUCKET_SCHEMES = {"s3", "s3a", "gs", "gcs", "abfs", "abfss", "wasbs", "az", "adl"}
# URL path segment after /v1 -> resource name (the API has singular routes for carts and folders).
_SEGMENT_RESOURCE = {"basket": "baskets", "cart": "carts", "folder": "folders"}


@dataclass(frozen=True)
class LineageDataset:
    namespace: str
    name: str
    uri: str


@dataclass(frozen=True)
class Node:
    """A dataset as one run saw it: its columns (name, type) and, for outputs, what was written."""

    dataset: LineageDataset
    fields: Sequence[tuple[str, str]] = ()
    rows: int | None = None
    bytes: int | None = None


@dataclass
class Lineage:
    inputs: list[Node] = field(default_factory=list)
    outputs: list[Node] = field(default_factory=list)

    def with_output_counts(self, rows: int, bytes: int | None = None) -> Lineage:
        """This lineage with what the run wrote (rows, and bytes for a file) on its first output."""
        first = self.outputs[0]
        return Lineage(list(self.inputs), [Node(first.dataset, first.fields, rows, bytes), *self.outputs[1:]])

    @property
    def output_uri(self) -> str:
        """The asset URI of what the run wrote: its asset event's."""
        return self.outputs[0].dataset.uri


# --- naming -------------------------------------------------------------------------------------


def simplestore_dataset(base_url: str, resource: str) -> LineageDataset:
    """A SimpleStore resource: namespace ``simplestore://<api host[:port]>``, name the resource."""
    namespace = f"{SCHEME}://{_authority(base_url)}"
    return LineageDataset(namespace, resource, f"{namespace}/{resource}")


def location_dataset(location: Any) -> LineageDataset:
    """A file in object storage, from the URL an export writes or an import reads."""
    text = str(location).strip()
    if "://" not in text:
        text = "file://" + text
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme in ("file", "local"):
        path = os.path.normpath(parts.path or "/")
        return LineageDataset("file", path, f"file://{path}")
    host = parts.hostname or ""  # without an ObjectStoragePath's `conn_id@`
    key = parts.path.lstrip("/")
    if scheme in _BUCKET_SCHEMES:
        return LineageDataset(f"{scheme}://{host}", key, f"{scheme}://{host}/{key}")
    authority = host + (f":{parts.port}" if parts.port else "")
    return LineageDataset(f"{scheme}://{authority}", parts.path, f"{scheme}://{authority}{parts.path}")


def table_dataset(
    conn_type: str, table: str, *, host: str | None = None, port: int | None = None, database: str | None = None
) -> LineageDataset:
    """A SQL table of a connection (``table`` is ``name`` or ``schema.name``)."""
    schema, _, name = table.rpartition(".")
    if conn_type == "sqlite":
        # An authority, so that the URI keeps its `//` (Airflow rewrites `sqlite:///x` as `sqlite:/x`).
        namespace = f"sqlite://localhost{os.path.abspath(host or '')}"
        schema = schema or SQLITE_SCHEMA
        return LineageDataset(namespace, f"{schema}.{name}", f"{namespace}/{schema}/{name}")
    scheme = "postgres" if conn_type in ("postgres", "postgresql") else conn_type
    port = port or (5432 if scheme == "postgres" else None)
    namespace = f"{scheme}://{host or 'localhost'}" + (f":{port}" if port else "")
    schema = schema or ("public" if scheme == "postgres" else "")
    parts = [part for part in (database, schema, name) if part]
    return LineageDataset(namespace, ".".join(parts), f"{namespace}/{'/'.join(parts)}")


def resource_of_path(path: str) -> str | None:
    """``/v1/orders/ord_1`` -> ``orders``; None for a path outside the versioned API."""
    segments = [segment for segment in path.split("?", 1)[0].split("/") if segment]
    if len(segments) < 2 or segments[0] != "v1":
        return None
    return _SEGMENT_RESOURCE.get(segments[1], segments[1])


def _authority(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    return host + (f":{parts.port}" if parts.port else "")


# --- the hook-level lineage collector -----------------------------------------------------------


def report_call(hook: Any, base_url: str, method: str, path: str) -> None:
    """Tell Airflow's hook lineage collector which resource a call read (GET) or wrote.

    Each (direction, resource) is reported once per hook: a listing of a thousand pages is one
    input. Without a lineage reader (the OpenLineage provider) the collector is a no-op."""
    resource = resource_of_path(path)
    if resource is None:
        return
    output = method.upper() not in ("GET", "HEAD")
    seen: set[tuple[bool, str]] = hook.__dict__.setdefault("_lineage_reported", set())
    if (output, resource) in seen:
        return
    seen.add((output, resource))
    from airflow_provider_simplestore.compat import get_hook_lineage_collector

    uri = simplestore_dataset(base_url, resource).uri
    try:
        collector = get_hook_lineage_collector()
        (collector.add_output_asset if output else collector.add_input_asset)(context=hook, uri=uri)
    except Exception:  # lineage is a report on the call, which has succeeded: it must not fail it
        log.warning("Could not report %s to Airflow's hook lineage collector", uri, exc_info=True)


# --- assets ---------------------------------------------------------------------------------------


def run_extra(context: Mapping[str, Any], **values: Any) -> dict[str, Any]:
    """An asset event's extra: the values given, and the run's data interval (ISO-8601 text)."""
    extra = {key: value for key, value in values.items() if value is not None}
    for key in ("data_interval_start", "data_interval_end"):
        moment = context.get(key)
        if isinstance(moment, dt.datetime):
            extra[key] = moment.isoformat()
    return extra


def static_asset(location: Any) -> Any:
    """The asset of a destination known when the DAG is parsed (no template); else None."""
    if not isinstance(location, str) or "{{" in location or "{%" in location:
        return None
    from airflow_provider_simplestore.compat import Asset

    return Asset(location_dataset(location).uri)


def emit_asset_event(
    context: Mapping[str, Any], uri: str, extra: dict[str, Any], *, alias: str | None, asset: Any = None
) -> None:
    """Record what the run wrote: on its static outlet ``asset``, else through ``alias``."""
    from airflow_provider_simplestore.compat import Asset, AssetAlias, register_asset_alias

    events = context.get("outlet_events")
    if events is None:  # not run by Airflow's task runner (a test calling execute directly)
        return
    if asset is not None:
        events[asset].extra.update(extra)
    elif alias:
        register_asset_alias(alias)
        events[AssetAlias(alias)].add(Asset(uri), extra=extra)


# --- OpenLineage (imported only by the OpenLineage listener) ------------------------------------


def operator_lineage(lineage: Lineage | None) -> Any:
    """An ``OperatorLineage`` with a schema facet per dataset and output statistics."""
    from airflow.providers.common.compat.openlineage.facet import (
        InputDataset,
        OutputDataset,
        OutputStatisticsOutputDatasetFacet,
        SchemaDatasetFacet,
        SchemaDatasetFacetFields,
    )
    from airflow.providers.openlineage.extractors import OperatorLineage

    if lineage is None:
        return OperatorLineage()

    def facets(node: Node) -> dict[str, Any]:
        if not node.fields:
            return {}
        return {
            "schema": SchemaDatasetFacet(
                fields=[SchemaDatasetFacetFields(name=name, type=kind) for name, kind in node.fields]
            )
        }

    inputs = [
        InputDataset(namespace=n.dataset.namespace, name=n.dataset.name, facets=facets(n)) for n in lineage.inputs
    ]
    outputs = []
    for node in lineage.outputs:
        stats: dict[str, Any] = {}
        if node.rows is not None:
            stats["outputStatistics"] = OutputStatisticsOutputDatasetFacet(rowCount=node.rows, size=node.bytes)
        outputs.append(
            OutputDataset(
                namespace=node.dataset.namespace, name=node.dataset.name, facets=facets(node), outputFacets=stats
            )
        )
    return OperatorLineage(inputs=inputs, outputs=outputs)


def asset_to_openlineage(asset: Any, lineage_context: Any = None) -> Any:
    """The OpenLineage dataset of a ``simplestore://`` asset (registered in the provider info)."""
    from airflow.providers.common.compat.openlineage.facet import Dataset

    parts = urlsplit(asset.uri)
    if parts.scheme != SCHEME or not parts.netloc:
        raise ValueError(f"not a SimpleStore asset URI: {asset.uri!r}")
    return Dataset(namespace=f"{SCHEME}://{parts.netloc}", name=parts.path.strip("/"))
