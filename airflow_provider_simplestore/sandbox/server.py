"""`run_sandbox(...)`: serve a sandbox on a free 127.0.0.1 port, in a thread or a child process."""

from __future__ import annotations

import asyncio
import json
import os
import re
import selectors
import shlex
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote, urlencode

from airflow_provider_simplestore.sandbox.faults import FaultRule
from airflow_provider_simplestore.sandbox.options import SandboxOptions

HOST = "127.0.0.1"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0


class SandboxError(RuntimeError):
    """The sandbox could not start, stop or answer a control call."""


def connection_uri(url: str, client_id: str, client_secret: str, **extras: Any) -> str:
    """A `simplestore` connection to the sandbox at `url` as an `AIRFLOW_CONN_<ID>` URI: the API URL
    percent-encoded where the host goes, its token URL in the extra `auth_url`. Airflow reads a URI
    without the deprecation warning its JSON form gets on 3.1-3.2."""
    query = urlencode({"auth_url": url + "/connect/token", **extras})
    return f"simplestore://{quote(client_id, safe='')}:{quote(client_secret, safe='')}@{quote(url, safe='')}?{query}"


def paste_instructions(url: str, client_id: str, client_secret: str, conn_id: str = "simplestore_default") -> str:
    """Two ways to point Airflow at the sandbox, each one line to paste into a shell: the environment
    variable, or the same connection saved in Airflow's database."""
    extra = json.dumps({"auth_url": url + "/connect/token"})
    add = [
        "airflow",
        "connections",
        "add",
        conn_id,
        "--conn-type",
        "simplestore",
        "--conn-host",
        url,
        "--conn-login",
        client_id,
        "--conn-password",
        client_secret,
        "--conn-extra",
        extra,
    ]
    return (
        f"export AIRFLOW_CONN_{conn_id.upper()}={shlex.quote(connection_uri(url, client_id, client_secret))}\n"
        f"{shlex.join(add)}"
    )


class Sandbox:
    """A running sandbox: where it is, its credentials, and its `/_sandbox` control calls."""

    def __init__(self, url: str, options: SandboxOptions, *, control_ssl: ssl.SSLContext | None = None) -> None:
        self.url = url
        self._control_ssl = control_ssl
        self.token_url = url + "/connect/token"
        self.options = options
        self.client_id = options.client_id
        self.client_secret = options.client_secret

    def __repr__(self) -> str:  # no secret in reprs
        return f"Sandbox(url={self.url!r}, client_id={self.client_id!r})"

    def connection_uri(self, **extras: Any) -> str:
        """The same connection as a URI for `AIRFLOW_CONN_<ID>` (what the CLI prints to paste)."""
        return connection_uri(self.url, self.client_id, self.client_secret, **extras)

    def paste_instructions(self, conn_id: str = "simplestore_default") -> str:
        """`export AIRFLOW_CONN_...='...'` and the equivalent `airflow connections add ...`, one per line."""
        return paste_instructions(self.url, self.client_id, self.client_secret, conn_id)

    def connection_json(self, **extra_overrides: Any) -> str:
        """JSON for `AIRFLOW_CONN_<ID>`: a `simplestore` connection pointing at this sandbox."""
        return json.dumps(
            {
                "conn_type": "simplestore",
                "host": self.url,
                "login": self.client_id,
                "password": self.client_secret,
                "extra": {"auth_url": self.token_url, **extra_overrides},
            }
        )

    def stats(self) -> dict[str, Any]:
        return self._call("GET", "/_sandbox/stats")

    def set_faults(
        self,
        rules: list[dict[str, Any] | FaultRule] | None = None,
        token_rules: list[dict[str, Any] | FaultRule] | None = None,
        seed: int | None = None,
    ) -> dict[str, Any]:
        """Replace every fault rule (API and token); the draws restart from `seed`."""
        payload = {
            "rules": [_rule(r) for r in rules or ()],
            "token_rules": [_rule(r) for r in token_rules or ()],
            "seed": seed,
        }
        return self._call("POST", "/_sandbox/faults", payload)

    def set_rate_limit(self, rate_limit: float | None, burst: int | None = None) -> dict[str, Any]:
        """Requests per second per client id (None: no limit) and bucket size; buckets start full."""
        return self._call("POST", "/_sandbox/rate-limit", {"rate_limit": rate_limit, "burst": burst})

    def clear_faults(self) -> dict[str, Any]:
        return self.set_faults()

    def issued_tokens(self) -> list[str]:
        """Every access token this sandbox has handed out (for leak checks)."""
        return list(self._call("GET", "/_sandbox/tokens")["tokens"])

    def revoke(self) -> int:
        return int(self._call("POST", "/_sandbox/revoke")["revoked"])

    def reset(self) -> dict[str, Any]:
        return self._call("POST", "/_sandbox/reset")

    def create_orders(self, n: int = 1) -> list[str]:
        return list(self._call("POST", "/_sandbox/orders", {"count": n})["orderIds"])

    def _call(self, method: str, path: str, payload: Any = None) -> Any:
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=30, context=self._control_ssl) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            body = exc.read()[:500].decode("utf-8", "replace")
            raise SandboxError(f"{method} {path} answered {exc.code}: {body}") from None


def _rule(rule: dict[str, Any] | FaultRule) -> dict[str, Any]:
    return rule.to_json() if isinstance(rule, FaultRule) else dict(rule)


def bind_socket(host: str = HOST, port: int = 0) -> socket.socket:
    """A listening socket; port 0 picks a free one (no race between choosing and binding)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def timed_protocol(base: type[Any], request_timeout: float) -> type[Any]:
    """uvicorn's HTTP protocol, closing a connection that takes over `request_timeout` seconds to
    deliver a whole request: idle after connecting, or half-sent (uvicorn only times out the idle
    gap after a response). Works for its httptools and h11 protocols alike (both keep `cycle`)."""

    class TimedProtocol(base):
        _expiry: asyncio.TimerHandle | None = None

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._rearm()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            self._rearm()

        def connection_lost(self, exc: Exception | None) -> None:
            if self._expiry is not None:
                self._expiry.cancel()
            super().connection_lost(exc)

        def _waiting(self) -> bool:
            """A request is (partly) on its way: none yet, its body incomplete, or the next one."""
            cycle = getattr(self, "cycle", None)
            return cycle is None or cycle.more_body or cycle.response_complete

        def _rearm(self) -> None:
            waiting = self._waiting()
            if waiting and self._expiry is None:
                self._expiry = self.loop.call_later(request_timeout, self._expire)
            elif not waiting and self._expiry is not None:
                self._expiry.cancel()
                self._expiry = None

        def _expire(self) -> None:
            self._expiry = None
            if self._waiting() and not self.transport.is_closing():
                self.transport.close()

    return TimedProtocol


def uvicorn_config(app: Any, sock: socket.socket, *, request_timeout: float = 10.0, **tls: str) -> Any:
    import uvicorn

    host, port = sock.getsockname()[:2]
    kwargs: dict[str, Any] = {
        **tls,
        "host": host,
        "port": port,
        "log_level": "warning",
        "access_log": False,
        "lifespan": "off",
        "timeout_graceful_shutdown": 2,
        "timeout_keep_alive": 30,
    }
    try:
        import httptools  # noqa: F401
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as protocol
    except ImportError:
        from uvicorn.protocols.http.h11_impl import H11Protocol as protocol  # type: ignore[assignment]
    kwargs["http"] = timed_protocol(protocol, request_timeout)
    try:
        import uvloop  # noqa: F401

        kwargs["loop"] = "uvloop"
    except ImportError:
        kwargs["loop"] = "asyncio"
    return uvicorn.Config(app, **kwargs)


@contextmanager
def run_sandbox(
    *, subprocess: bool = False, ssl_certfile: str | None = None, ssl_keyfile: str | None = None, **options: Any
) -> Iterator[Sandbox]:
    """Start a sandbox on 127.0.0.1 (free port), yield its `Sandbox` handle, stop it on exit.

    `subprocess=True` serves it from a child process (so benchmarks do not share a core with it);
    otherwise from a daemon thread of this process. Options: see `SandboxOptions`.
    `ssl_certfile`/`ssl_keyfile` (PEM; thread mode only) serve it over https:// (TLS tests).
    """
    opts = SandboxOptions.build(**options)
    if ssl_certfile or ssl_keyfile:
        if subprocess or not (ssl_certfile and ssl_keyfile):
            raise ValueError("https needs both ssl_certfile and ssl_keyfile, and thread mode (subprocess=False)")
        with _run_in_thread(opts, ssl_certfile=ssl_certfile, ssl_keyfile=ssl_keyfile) as sandbox:
            yield sandbox
        return
    runner = _run_in_subprocess if subprocess else _run_in_thread
    with runner(opts) as sandbox:
        yield sandbox


def _control_context() -> ssl.SSLContext:
    """For the handle's own /_sandbox calls to its own https server on 127.0.0.1: the clients under
    test do the certificate checking; the control calls only need to get through."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


@contextmanager
def _run_in_thread(options: SandboxOptions, **tls: str) -> Iterator[Sandbox]:
    import uvicorn

    from airflow_provider_simplestore.sandbox.app import create_app

    app = create_app(options)  # seeds the data; before the socket exists, so a failure leaks nothing
    sock = bind_socket()
    server = uvicorn.Server(uvicorn_config(app, sock, request_timeout=options.request_timeout, **tls))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="simplestore-sandbox", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise SandboxError("the sandbox thread did not start (see the log above)")
            time.sleep(0.01)
        port = sock.getsockname()[1]
        scheme = "https" if tls else "http"
        yield Sandbox(f"{scheme}://{HOST}:{port}", options, control_ssl=_control_context() if tls else None)
    finally:
        server.should_exit = True
        thread.join(STOP_TIMEOUT)
        if thread.is_alive():
            server.force_exit = True
            thread.join(STOP_TIMEOUT)
        sock.close()


URL_LINE = re.compile(r"(http://[\w.\-]+:\d+)")


@contextmanager
def _run_in_subprocess(options: SandboxOptions) -> Iterator[Sandbox]:
    command = [sys.executable, "-m", "airflow_provider_simplestore.sandbox", "--host", HOST, "--port", "0"]
    command += options.to_cli_args()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env, text=True)
    try:
        url = _read_url(proc)
        sandbox = Sandbox(url, options)
        _wait_healthy(sandbox, proc)
        assert proc.stdout is not None
        threading.Thread(target=_drain, args=(proc.stdout,), daemon=True).start()
        yield sandbox
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(STOP_TIMEOUT)


def _read_url(proc: subprocess.Popen[str]) -> str:
    """The first URL the child prints (it prints once it listens)."""
    assert proc.stdout is not None
    deadline = time.monotonic() + START_TIMEOUT
    seen: list[str] = []
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if not selector.select(timeout=max(0.0, deadline - time.monotonic())):
                break
            line = proc.stdout.readline()
            if not line:
                break
            seen.append(line)
            match = URL_LINE.search(line)
            if match:
                return match.group(1)
    raise SandboxError(f"the sandbox process did not report its URL (exit code {proc.poll()}): {''.join(seen)[-500:]}")


def _wait_healthy(sandbox: Sandbox, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SandboxError(f"the sandbox process exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(sandbox.url + "/_sandbox/health", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.05)
    raise SandboxError(f"the sandbox at {sandbox.url} did not become healthy in {START_TIMEOUT:.0f}s")


def _drain(stream: Any) -> None:
    for _ in stream:
        pass
