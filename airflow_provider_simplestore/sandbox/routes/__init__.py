"""Route modules, one per resource; each exposes `register(api, state)`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

Handler = Callable[[Request], Awaitable[Response]]


class Api:
    """Registers plain `async def handler(request) -> Response` endpoints on the FastAPI app."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def route(self, method: str, *paths: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            for path in paths:
                self.app.add_api_route(path, handler, methods=[method], name=f"{method} {path}")
            return handler

        return register
