"""Asset events and OpenLineage facets of the sync operators (export, SQL, import), in one place.

Each operator says what it reads and writes (``lineage_plan``: names and columns, known once its
templates are rendered and its connections readable) and, when it succeeds, what it wrote
(``publish_lineage``: rows, bytes, the asset event's extra). An output known when the DAG is
parsed is a static outlet asset; one that depends on a template or a connection is emitted
through the operator's ``AssetAlias`` (``simplestore-<kind>-<resource>`` by default), so that a
downstream DAG can be scheduled on it either way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_provider_simplestore.lineage import Lineage, emit_asset_event


def default_alias(kind: str, resource: str) -> str:
    return f"simplestore-{kind}-{resource}"


def with_outlet(kwargs: dict[str, Any], outlet: Any) -> dict[str, Any]:
    """The operator's keyword arguments with ``outlet`` added to the outlets the user gave.

    Already there, it is not added twice: a mapped operator (``.partial()`` runs no ``__init__``)
    declares its alias in ``outlets`` itself, so that the DAG registers it.
    """
    given = kwargs.get("outlets")
    outlets = list(given) if isinstance(given, (list, tuple)) else ([given] if given is not None else [])
    return {**kwargs, "outlets": outlets if outlet in outlets else [*outlets, outlet]}


class SimpleStoreLineageMixin:
    """``lineage_plan()`` is the operator's; the OpenLineage methods and asset events are here."""

    asset_alias: str | None = None
    static_asset: Any = None
    _lineage: Lineage | None = None

    def lineage_outlets(self, kwargs: dict[str, Any], kind: str, resource: str, asset_alias: str | None,
                        static_asset: Any = None) -> dict[str, Any]:
        """Call before BaseOperator.__init__: adds the static asset, else the alias, to the outlets."""
        from airflow_provider_simplestore.compat import AssetAlias

        self.static_asset = static_asset
        if static_asset is not None:
            self.asset_alias = None
            return with_outlet(kwargs, static_asset)
        self.asset_alias = asset_alias or default_alias(kind, resource)
        return with_outlet(kwargs, AssetAlias(self.asset_alias))

    def lineage_plan(self) -> Lineage:
        raise NotImplementedError

    def publish_lineage(self, context: Mapping[str, Any], lineage: Lineage, extra: dict[str, Any]) -> None:
        """After a successful run: keep the lineage for OpenLineage, and emit the asset event."""
        self._lineage = lineage
        output = lineage.outputs[0].dataset
        emit_asset_event(context, output.uri, extra, alias=self.asset_alias, asset=self.static_asset)

    # Called by the OpenLineage provider's listener only (never at DAG parse time).

    def get_openlineage_facets_on_start(self) -> Any:
        from airflow_provider_simplestore.lineage import operator_lineage

        return operator_lineage(self.lineage_plan())

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        from airflow_provider_simplestore.lineage import operator_lineage

        return operator_lineage(self._lineage or self.lineage_plan())
