"""Orders (sandbox choice: read-only list and get; orders are created by checkout)."""

from __future__ import annotations

from airflow_provider_simplestore.sandbox.routes import Api
from airflow_provider_simplestore.sandbox.routes.crud import read_routes
from airflow_provider_simplestore.sandbox.state import SandboxState
from airflow_provider_simplestore.sandbox.store import Row
from airflow_provider_simplestore.sandbox.web import Query


def _select(rows: list[Row], query: Query) -> list[Row]:
    if ids := query.get_all("OrderId"):
        wanted = set(ids)
        rows = [r for r in rows if r["orderId"] in wanted]
    if customers := query.get_all("CustomerId"):
        wanted_customers = set(customers)
        rows = [r for r in rows if r["customerId"] in wanted_customers]
    if statuses := query.get_all("Status"):
        wanted_statuses = {s.casefold() for s in statuses}
        rows = [r for r in rows if r["status"].casefold() in wanted_statuses]
    # Stamps share one text form (`...T..:..:..mmmZ`), so text order is time order.
    if (start := query.get_datetime("CreatedFromUtc")) is not None:
        rows = [r for r in rows if r["createdOnUtc"] >= start]
    if (end := query.get_datetime("CreatedToUtc")) is not None:
        rows = [r for r in rows if r["createdOnUtc"] < end]
    return rows


def register(api: Api, state: SandboxState) -> None:
    read_routes(api, state, "orders", "/v1/orders", "/v1/orders/{orderId}", _select)
