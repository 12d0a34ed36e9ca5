"""A tiny scripted HTTP server on 127.0.0.1 for what the sandbox will not do on purpose: redirect
elsewhere, echo secrets back, answer in a fixed sequence. It records every request it gets."""

from __future__ import annotations

import contextlib
import http.server
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Seen:
    """One request the server received."""

    method: str
    path: str  # with the query string
    headers: dict[str, str]
    body: bytes


@dataclass
class Reply:
    status: int = 200
    body: bytes | str | Any = b""  # bytes/str as is; anything else is sent as JSON
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> tuple[bytes, str]:
        if isinstance(self.body, bytes):
            return self.body, "application/octet-stream"
        if isinstance(self.body, str):
            return self.body.encode(), "text/plain; charset=utf-8"
        return json.dumps(self.body).encode(), "application/json"


Responder = Callable[[Seen], Reply]


class LocalServer:
    """`url` of a server whose every answer comes from `respond(request)`; `seen` lists requests."""

    def __init__(self, respond: Responder) -> None:
        self.respond = respond
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = Seen(self.command, self.path, dict(self.headers.items()), self.rfile.read(length))
                with outer._lock:
                    outer.seen.append(request)
                reply = outer.respond(request)
                body, content_type = reply.encoded()
                self.send_response(reply.status)
                headers = {"Content-Type": content_type, **reply.headers, "Content-Length": str(len(body))}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

            def log_message(self, *args: Any) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="local-server", daemon=True
        )

    def paths(self) -> list[str]:
        with self._lock:
            return [f"{s.method} {s.path}" for s in self.seen]

    def __enter__(self) -> LocalServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        with contextlib.suppress(OSError):
            self._server.server_close()
        self._thread.join(5)


@contextlib.contextmanager
def local_server(respond: Responder) -> Iterator[LocalServer]:
    with LocalServer(respond) as server:
        yield server


def token_reply(token: str, expires_in: int = 3600) -> Reply:
    return Reply(200, {"access_token": token, "expires_in": expires_in, "token_type": "Bearer"})


def page_reply(items: list[Any], total: int, page_size: int = 1) -> Reply:
    """The paged envelope of a list endpoint (page 0)."""
    pages = -(-total // page_size) if page_size else 0
    return Reply(
        200,
        {
            "result": items,
            "pageSize": page_size,
            "pageIndex": 0,
            "totalRecordsFound": total,
            "resultCount": len(items),
            "totalPages": pages,
            "queryDurationMilliseconds": 1,
        },
    )
