"""A throwaway redis-server (Debian's binary) on 127.0.0.1 and a free port: the Celery broker.

Its own directory, no persistence (no RDB snapshots, no AOF), its log in that directory; stopped
(SIGTERM, then SIGKILL) when the context exits. `make redis` installs the binary as root.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

from tests.support import unavailable

from .harness import free_port, wait_for


def redis_binary() -> str:
    """The redis-server binary, or a skip (a failure under CI=true) saying how to get it."""
    path = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not os.access(path, os.X_OK):
        unavailable("Debian's redis-server is not installed; as root run `make redis` (apt-get install redis-server)")
    return path


def _pong(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
        sock.sendall(b"PING\r\n")
        return sock.recv(64).startswith(b"+PONG")
    return False


@contextlib.contextmanager
def redis_server(directory: Path) -> Iterator[str]:
    """Start redis-server in `directory`; yield its URL (`redis://127.0.0.1:<port>`)."""
    binary = redis_binary()
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = directory / "redis.log"
    process = subprocess.Popen(
        [
            binary,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--dir",
            str(directory),
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            "--protected-mode",
            "yes",
            "--logfile",
            str(log),
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(
            lambda: _pong(port),
            timeout=20,
            what=f"redis-server on 127.0.0.1:{port}",
            abort=lambda: None if process.poll() is None else f"redis-server exited with {process.returncode}",
            diagnostics=lambda: log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)",
            interval=0.1,
        )
        yield f"redis://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
