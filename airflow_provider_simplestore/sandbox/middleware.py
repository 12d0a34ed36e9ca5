"""Pure ASGI middleware in front of the FastAPI app: body limit, auth, rate limit, faults, latency, stats.

Pure ASGI (not Starlette's BaseHTTPMiddleware) because it sits on the hot path of every page.
"""

from __future__ import annotations

import asyncio
import math
import socket
import struct
from collections.abc import Awaitable, Callable, MutableMapping
from contextlib import suppress
from typing import Any

from starlette.routing import Match

from airflow_provider_simplestore.sandbox.faults import FAULT_KINDS, FaultRule
from airflow_provider_simplestore.sandbox.state import UNAUTHORIZED_KINDS, SandboxState
from airflow_provider_simplestore.sandbox.web import PROBLEM_JSON, problem_body

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

TOKEN_PATH = "/connect/token"
UNMATCHED = "<unmatched>"


class SandboxMiddleware:
    def __init__(self, app: Any, state: SandboxState) -> None:
        self.app = app
        self.state = state
        self._templates: dict[tuple[str, str], str] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith("/_sandbox/"):
            await self.app(scope, receive, send)
            return
        state = self.state
        method: str = scope["method"]
        authorization: bytes | None = None
        length: bytes | None = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value
            elif name == b"content-length":
                length = value
        if path == TOKEN_PATH:
            state.stats.token_requests += 1
            rule = state.faults.draw(method, path, token=True)
            authenticate = False
        elif path.startswith("/v1/"):
            state.stats.requests[f"{method} {self._template(scope)}"] += 1
            rule = state.faults.draw(method, path)
            authenticate = True
        else:
            await self.app(scope, receive, send)
            return
        stats = state.stats
        stats.in_flight += 1
        stats.in_flight_peak = max(stats.in_flight_peak, stats.in_flight)
        try:
            await self._handle(scope, receive, send, rule, authorization, authenticate, length)
        finally:
            stats.in_flight -= 1

    async def _handle(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        rule: FaultRule | None,
        authorization: bytes | None,
        authenticate: bool,
        length: bytes | None,
    ) -> None:
        state, path = self.state, scope["path"]
        if length is not None and length.isdigit() and int(length) > state.options.max_body_bytes:
            limit = state.options.max_body_bytes
            await _send_problem(send, 413, f"request body is larger than the sandbox limit of {limit} bytes", path)
            return
        if state.options.latency_ms:
            await asyncio.sleep(state.options.latency_ms / 1000)
        if rule is not None and rule.phase == "before":
            state.stats.faults[rule.kind] += 1
            await self._fault_before(rule, scope, receive, send, authorization, authenticate)
            return
        if authenticate and not await self._authorized(authorization, path, send):
            return
        if authenticate and state.rate_limit.rate is not None:
            limited_send = await self._rate_limited(path, send)
            if limited_send is None:
                return
            send = limited_send
        if rule is None:
            await self.app(scope, receive, send)
        else:
            await self._fault_after(rule, scope, receive, send)

    async def _authorized(self, authorization: bytes | None, path: str, send: Send) -> bool:
        token = None
        if authorization is not None:
            scheme, _, value = authorization.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer":
                token = value.strip()
        reason = self.state.tokens.problem(token)
        if reason is None:
            return True
        self.state.stats.unauthorized[UNAUTHORIZED_KINDS[reason]] += 1
        await _send_problem(send, 401, reason, path, [(b"www-authenticate", b'Bearer error="invalid_token"')])
        return False

    async def _rate_limited(self, path: str, send: Send) -> Send | None:
        """Take a token of the client's bucket: None once a 429 was sent, else a `send` that adds
        the X-RateLimit-* headers. Every valid token belongs to the one configured client."""
        limit = self.state.rate_limit
        allowed, left, wait = limit.take(self.state.options.client_id)
        headers = [(b"x-ratelimit-limit", f"{limit.rate:g}".encode()), (b"x-ratelimit-remaining", b"%d" % left)]
        if not allowed:
            self.state.stats.rate_limited += 1
            # Fractional seconds (a sandbox choice): whole seconds would stall a client for 1 s per 429.
            retry_after = f"{max(math.ceil(wait * 1000), 1) / 1000:.3f}".encode()
            await _send_problem(send, 429, "rate limit exceeded", path, [(b"retry-after", retry_after), *headers])
            return None

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *headers]}
            await send(message)

        return send_with_headers

    async def _fault_before(
        self,
        rule: FaultRule,
        scope: Scope,
        receive: Receive,
        send: Send,
        authorization: bytes | None,
        authenticate: bool,
    ) -> None:
        """The request is not processed; `slow` holds it and then serves it if the client stayed."""

        async def serve() -> None:
            replay = await _hold(receive, rule.delay)
            if replay is None:  # the client gave up while held: never process it
                return
            if authenticate and not await self._authorized(authorization, scope["path"], send):
                return
            await self.app(scope, replay, send)

        await _inject(rule, receive, send, scope["path"], serve)

    async def _fault_after(self, rule: FaultRule, scope: Scope, receive: Receive, send: Send) -> None:
        """The request is processed and committed; only then does the fault replace the answer."""
        held: list[Message] = []

        async def keep(message: Message) -> None:
            held.append(message)

        await self.app(scope, receive, keep)
        self.state.stats.faults[rule.kind] += 1

        async def serve() -> None:
            await asyncio.sleep(rule.delay)
            for message in held:
                await send(message)

        await _inject(rule, receive, send, scope["path"], serve)

    def _template(self, scope: Scope) -> str:
        """The route template (`/v1/products/{productId}`) a request matches, for the stats."""
        key = (scope["method"], scope["path"])
        template = self._templates.get(key)
        if template is None:
            template = UNMATCHED
            for route in self.app.router.routes:
                match, _ = route.matches(scope)
                if match is Match.FULL:
                    template = route.path
                    break
                if match is Match.PARTIAL and template == UNMATCHED:
                    template = route.path
            if len(self._templates) > 50_000:
                self._templates.clear()
            self._templates[key] = template
        return template


async def _send_problem(
    send: Send, status: int, detail: str, path: str, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    body = problem_body(status, detail, path)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _inject(
    rule: FaultRule,
    receive: Receive,
    send: Send,
    path: str,
    serve: Callable[[], Awaitable[None]],
) -> None:
    """What the rule's kind (`FAULT_KINDS`) does in place of the plain answer, in either phase;
    `serve` sends the request's own answer after the rule's delay (`slow`)."""
    kind = FAULT_KINDS[rule.kind]
    if kind.reset:
        await reset_connection(receive, send)
    elif kind.status is None:
        await serve()
    else:
        headers = [(b"retry-after", str(math.ceil(rule.retry_after)).encode())] if kind.retry_after else []
        await _send_problem(send, kind.status, f"injected fault: {rule.kind}", path, headers)


async def _hold(receive: Receive, delay: float) -> Receive | None:
    """Read the whole body, then wait `delay` seconds for a disconnect.

    Returns a `receive` that replays the body, or None if the client went away meanwhile.
    """
    messages: list[Message] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        messages.append(message)
        if not message.get("more_body"):
            break
    try:
        message = await asyncio.wait_for(receive(), timeout=delay)
    except asyncio.TimeoutError:
        pass
    else:
        if message["type"] == "http.disconnect":
            return None

    async def replay() -> Message:
        return messages.pop(0) if messages else await receive()

    return replay


async def reset_connection(receive: Receive, send: Send) -> None:
    """Close the client's socket with no HTTP response at all (an RST, not a 500).

    ASGI has no message for this, so reach the transport through uvicorn's `send`, which is a
    bound method of its request/response cycle (we are the outermost app, so nothing wraps it).
    """
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        raise RuntimeError("the ASGI server does not expose its transport: cannot inject a reset")
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with suppress(OSError, AttributeError, TypeError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
    # Wait for the server to see the loss, so it does not try to answer with its own 500.
    with suppress(asyncio.TimeoutError):
        await asyncio.wait_for(_until_disconnect(receive), timeout=2)


async def _until_disconnect(receive: Receive) -> None:
    for _ in range(10_000):
        if (await receive())["type"] == "http.disconnect":
            return
