"""`/_sandbox/*`: control and observation routes that exist only in the sandbox (no token needed)."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any, TypeVar

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from airflow_provider_simplestore.sandbox.data import make_order, now_utc
from airflow_provider_simplestore.sandbox.faults import FaultRule, FaultSpecError
from airflow_provider_simplestore.sandbox.options import check_rate_limit
from airflow_provider_simplestore.sandbox.routes import Api
from airflow_provider_simplestore.sandbox.schemas import OrdersIn
from airflow_provider_simplestore.sandbox.state import RateLimit, SandboxState
from airflow_provider_simplestore.sandbox.web import (
    bad_request,
    conflict,
    format_utc,
    json_response,
    read_body,
    read_optional_json,
)

MAX_NEW_ORDERS = 100_000
T = TypeVar("T")


class FaultsIn(msgspec.Struct, forbid_unknown_fields=True):
    rules: list[dict[str, Any]] = []
    token_rules: list[dict[str, Any]] = []
    seed: int | None = None


class RateLimitIn(msgspec.Struct, forbid_unknown_fields=True):
    rate_limit: float | None = None
    burst: int | None = None


def register(api: Api, state: SandboxState) -> None:
    @api.route("GET", "/_sandbox/health")
    async def health(request: Request) -> Response:
        return json_response({"status": "ok"})

    @api.route("GET", "/_sandbox/stats")
    async def stats(request: Request) -> Response:
        return json_response(state.stats.snapshot(state.store))

    def setting(path: str, schema: type[T], replace: Callable[[T], None], show: Callable[[], Any]) -> None:
        """`GET path` shows a setting; `POST path` replaces it with the body (empty: the schema's defaults)."""

        @api.route("GET", path)
        async def get_setting(request: Request) -> Response:
            return json_response(show())

        @api.route("POST", path)
        async def set_setting(request: Request) -> Response:
            replace(await read_optional_json(request, schema, state.options.max_body_bytes) or schema())
            return json_response(show())

    def replace_faults(body: FaultsIn) -> None:
        try:
            rules = [FaultRule.from_json(rule) for rule in body.rules]
            token_rules = [FaultRule.from_json(rule) for rule in body.token_rules]
        except FaultSpecError as exc:
            raise bad_request(str(exc)) from None
        state.set_faults(rules, token_rules, body.seed)

    def replace_rate_limit(body: RateLimitIn) -> None:
        try:
            check_rate_limit(body.rate_limit, body.burst)
        except ValueError as exc:
            raise bad_request(str(exc).replace("sandbox option ", "")) from None
        state.rate_limit = RateLimit(body.rate_limit, body.burst)

    setting("/_sandbox/faults", FaultsIn, replace_faults, lambda: state.faults.to_json())
    setting("/_sandbox/rate-limit", RateLimitIn, replace_rate_limit, lambda: state.rate_limit.to_json())

    @api.route("POST", "/_sandbox/revoke")
    async def revoke(request: Request) -> Response:
        await read_body(request, state.options.max_body_bytes)
        return json_response({"revoked": state.tokens.revoke_all()})

    @api.route("GET", "/_sandbox/tokens")
    async def tokens(request: Request) -> Response:
        # A sandbox has no secrets worth keeping: tests grep their logs for what it handed out.
        return json_response({"tokens": state.tokens.issued()})

    @api.route("POST", "/_sandbox/reset")
    async def reset(request: Request) -> Response:
        await read_body(request, state.options.max_body_bytes)
        state.reset()
        return json_response(state.stats.snapshot(state.store))

    @api.route("POST", "/_sandbox/orders")
    async def new_orders(request: Request) -> Response:
        body = await read_optional_json(request, OrdersIn, state.options.max_body_bytes) or OrdersIn()
        if not 0 <= body.count <= MAX_NEW_ORDERS:
            raise bad_request(f"count must be between 0 and {MAX_NEW_ORDERS}, got {body.count}")
        store = state.store
        customers = store.customers.rows()
        products = [p for p in store.products.rows() if p["isActive"] and p["status"] == "Available"]
        products = products or store.products.rows()
        if body.count and not (customers and products):
            raise conflict("new orders need at least one customer and one product")
        rng = random.Random(f"{state.options.seed}-new-orders-{store.creations['orders']}")
        now = now_utc()
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)
        created = [make_order(store, rng, customers, products, now, paid=False)["orderId"] for _ in range(body.count)]
        store.created("orders", len(created))
        store.created("baskets", len(created))
        return json_response({"orderIds": created, "createdOnUtc": format_utc(now)})
