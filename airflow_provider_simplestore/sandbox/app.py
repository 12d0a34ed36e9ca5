"""The ASGI application: FastAPI routes behind the sandbox middleware."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from airflow_provider_simplestore.sandbox.middleware import SandboxMiddleware
from airflow_provider_simplestore.sandbox.options import SandboxOptions
from airflow_provider_simplestore.sandbox.routes import Api
from airflow_provider_simplestore.sandbox.state import SandboxState
from airflow_provider_simplestore.sandbox.web import ApiError, problem

log = logging.getLogger(__name__)


def _route_modules(options: SandboxOptions) -> list[Any]:
    from airflow_provider_simplestore.sandbox.routes import (
        cart,
        catalog,
        control,
        customers,
        folders,
        oauth,
        orders,
        products,
    )

    modules: list[Any] = [control, oauth, customers, cart, folders, orders]
    if options.catalog_routes:
        modules += [products, catalog]
    return modules


def create_app(options: SandboxOptions | None = None) -> SandboxMiddleware:
    """A fresh sandbox (seeded state included) as an ASGI app; `app.state` is its `SandboxState`."""
    options = options or SandboxOptions()
    state = SandboxState(options)
    api = FastAPI(
        title="SimpleStore sandbox",
        docs_url="/_sandbox/docs",
        redoc_url=None,
        openapi_url="/_sandbox/openapi.json",
    )

    async def api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return problem(exc.status, exc.detail, request.url.path, exc.headers)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        detail = exc.detail if exc.status_code != 404 else f"no route matches {request.url.path}"
        return problem(exc.status_code, str(detail), request.url.path, exc.headers)

    async def crash(request: Request, exc: Exception) -> Response:
        log.exception("sandbox route failed: %s %s", request.method, request.url.path)
        return problem(500, f"sandbox bug: {type(exc).__name__}", request.url.path)

    api.add_exception_handler(ApiError, api_error)
    api.add_exception_handler(HTTPException, http_error)
    api.add_exception_handler(Exception, crash)
    routes = Api(api)
    for module in _route_modules(options):
        module.register(routes, state)
    return SandboxMiddleware(api, state)
