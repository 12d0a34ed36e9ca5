"""Orders (sandbox choice: read-only list and get; orders are created by checkout)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from airflow_provider_simplestore.sandbox.routes import Api
from airflow_provider_simplestore.sandbox.routes.common import one, page
from airflow_provider_simplestore.sandbox.state import SandboxState
from airflow_provider_simplestore.sandbox.web import Query


def register(api: Api, state: SandboxState) -> None:
    @api.route("GET", "/v1/orders")
    async def list_orders(request: Request) -> Response:
        query = Query.of(request)
        rows = state.store.orders.rows()
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
        return page(state, state.store.orders, rows, query)

    @api.route("GET", "/v1/orders/{orderId}")
    async def get_order(request: Request) -> Response:
        return one(state.store.orders, request.path_params["orderId"])
