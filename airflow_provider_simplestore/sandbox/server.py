"""`run_sandbox(...)`: serve a sandbox on a free 127.0.0.1 port, in a thread or a child process."""

from __future__ import annotations

import json
import os
import re
import selectors
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from airflow_provider_simplestore.sandbox.faults import FaultRule
from airflow_provider_simplestore.sandbox.options import SandboxOptions

HOST = "127.0.0.1"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0


class SandboxError(RuntimeError):
    """The sandbox could not start, stop or answer a control call."""


class Sandbox:
    """A running sandbox: where it is, its credentials, and its `/_sandbox` control calls."""

    def __init__(self, url: str, options: SandboxOptions) -> None:
        self.url = url
        self.token_url = url + "/connect/token"
        self.options = options
        self.client_id = options.client_id
        self.client_secret = options.client_secret

    def __repr__(self) -> str:  # no secret in reprs
        return f"Sandbox(url={self.url!r}, client_id={self.client_id!r})"

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
            with urllib.request.urlopen(request, timeout=30) as response:
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


def uvicorn_config(app: Any, sock: socket.socket) -> Any:
    import uvicorn

    host, port = sock.getsockname()[:2]
    kwargs: dict[str, Any] = {
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

        kwargs["http"] = "httptools"
    except ImportError:
        kwargs["http"] = "h11"
    try:
        import uvloop  # noqa: F401

        kwargs["loop"] = "uvloop"
    except ImportError:
        kwargs["loop"] = "asyncio"
    return uvicorn.Config(app, **kwargs)


@contextmanager
def run_sandbox(*, subprocess: bool = False, **options: Any) -> Iterator[Sandbox]:
    """Start a sandbox on 127.0.0.1 (free port), yield its `Sandbox` handle, stop it on exit.

    `subprocess=True` serves it from a child process (so benchmarks do not share a core with it);
    otherwise from a daemon thread of this process. Options: see `SandboxOptions`.
    """
    opts = SandboxOptions.build(**options)
    runner = _run_in_subprocess if subprocess else _run_in_thread
    with runner(opts) as sandbox:
        yield sandbox


@contextmanager
def _run_in_thread(options: SandboxOptions) -> Iterator[Sandbox]:
    import uvicorn

    from airflow_provider_simplestore.sandbox.app import create_app

    app = create_app(options)  # seeds the data; before the socket exists, so a failure leaks nothing
    sock = bind_socket()
    server = uvicorn.Server(uvicorn_config(app, sock))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="simplestore-sandbox", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise SandboxError("the sandbox thread did not start (see the log above)")
            time.sleep(0.01)
        port = sock.getsockname()[1]
        yield Sandbox(f"http://{HOST}:{port}", options)
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
