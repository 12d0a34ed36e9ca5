"""Where the sync operators (export, SQL, import) announce what they wrote: outlets and OpenLineage.

An output known when the DAG is parsed is a static outlet asset; one that depends on a template or
a connection is emitted through the operator's ``AssetAlias`` (``simplestore-<kind>-<resource>`` by
default), so that a downstream DAG can be scheduled on it either way. Each operator says what it
reads and writes in its own ``lineage_plan()`` and keeps the run's ``Lineage`` in ``self.lineage``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_provider_simplestore.lineage import Lineage, emit_asset_event, operator_lineage


def default_alias(kind: str, resource: str) -> str:
    return f"simplestore-{kind}-{resource}"


def sync_outlet(kind: str, resource: str, asset_alias: str | None, static_asset: Any = None) -> tuple[str | None, Any]:
    """(the alias name, or None for a static asset; the outlet to declare): the static asset if
    there is one, else the alias (``asset_alias``, or the default one of this kind and resource)."""
    if static_asset is not None:
        return None, static_asset
    from airflow_provider_simplestore.compat import AssetAlias

    alias = asset_alias or default_alias(kind, resource)
    return alias, AssetAlias(alias)


def with_outlet(kwargs: dict[str, Any], outlet: Any) -> dict[str, Any]:
    """The operator's keyword arguments with ``outlet`` added to the outlets the user gave.

    Already there, it is not added twice: a mapped operator (``.partial()`` runs no ``__init__``)
    declares its alias in ``outlets`` itself, so that the DAG registers it.
    """
    given = kwargs.get("outlets")
    outlets = list(given) if isinstance(given, (list, tuple)) else ([given] if given is not None else [])
    return {**kwargs, "outlets": outlets if outlet in outlets else [*outlets, outlet]}


def publish_output(
    context: Mapping[str, Any], lineage: Lineage, extra: dict[str, Any], *, alias: str | None, asset: Any
) -> None:
    """After a successful run: the asset event of what it wrote (``lineage``'s output), with ``extra``."""
    emit_asset_event(context, lineage.output_uri, extra, alias=alias, asset=asset)


class OpenLineageMethods:
    """The two methods the OpenLineage listener looks up on an operator, by these names.

    For an operator with a ``lineage_plan()`` that keeps its run's ``Lineage`` in ``self.lineage``
    (None until it ran). Sets nothing; called by the listener only, never at DAG parse time.
    """

    lineage: Lineage | None

    def lineage_plan(self) -> Lineage:
        raise NotImplementedError

    def get_openlineage_facets_on_start(self) -> Any:
        return operator_lineage(self.lineage_plan())

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        return operator_lineage(self.lineage or self.lineage_plan())
