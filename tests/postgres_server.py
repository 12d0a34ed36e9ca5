"""A throwaway PostgreSQL server: Debian's binaries, a temp dir, 127.0.0.1 and a free port.

Used by the SQL operator's tests (tests/transfers/conftest.py) and as the metadata database of the
Celery deployment test. `make postgres` installs Debian's `postgresql` (as root); nothing here starts
a system service. initdb refuses to run as root, so as root the server runs as the `postgres` user.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support import unavailable

PG_USER = "simplestore"
PG_DATABASE = "simplestore_test"
PG_BINARIES = ("initdb", "pg_ctl", "postgres")
START_TIMEOUT = 30.0
STOP_TIMEOUT = 30


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    user: str
    database: str

    @property
    def uri(self) -> str:
        """The form users put in AIRFLOW_CONN_<ID> (Airflow reads `postgresql://` as conn_type postgres)."""
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.database}"

    def connect(self, database: str | None = None, **kwargs: Any) -> Any:
        import psycopg

        return psycopg.connect(
            host=self.host, port=self.port, user=self.user, dbname=database or self.database, **kwargs
        )


def postgres_bin_dir() -> Path | None:
    """Debian's /usr/lib/postgresql/<version>/bin (newest first), else the directory of `pg_ctl` on PATH."""
    candidates = sorted(
        (Path(d) for d in glob.glob("/usr/lib/postgresql/*/bin")),
        key=lambda d: int(d.parent.name) if d.parent.name.isdigit() else 0,
        reverse=True,
    )
    if on_path := shutil.which("pg_ctl"):
        candidates.append(Path(on_path).resolve().parent)
    for directory in candidates:
        if all(os.access(directory / name, os.X_OK) for name in PG_BINARIES):
            return directory
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def log_tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


class Cluster:
    """initdb into a temp dir, then `postgres` on 127.0.0.1 with its socket in that dir."""

    def __init__(self, bin_dir: Path, run_as: pwd.struct_passwd | None) -> None:
        self.bin_dir = bin_dir
        self.prefix = ["runuser", "-u", run_as.pw_name, "--"] if run_as else []
        self.root = Path(tempfile.mkdtemp(prefix="simplestore-pg-"))
        if run_as:
            os.chown(self.root, run_as.pw_uid, run_as.pw_gid)
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.process: subprocess.Popen[bytes] | None = None

    def run(self, *args: str, timeout: float) -> None:
        # cwd: the server's user may not be allowed into the caller's directory.
        result = subprocess.run(
            [*self.prefix, *args], cwd=self.root, capture_output=True, text=True, timeout=timeout, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} exited {result.returncode}: {result.stderr.strip()[-2000:]}")

    def init(self) -> None:
        self.run(
            str(self.bin_dir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            PG_USER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
            timeout=120,
        )

    def start(self) -> PostgresServer:
        """Start on a free port; a port taken between probe and bind gets another try (bounded)."""
        for _attempt in range(3):
            server = PostgresServer("127.0.0.1", free_port(), PG_USER, "postgres")
            # Throwaway data: durability off keeps the tests fast.
            command = [
                str(self.bin_dir / "postgres"),
                "-D",
                str(self.data),
                "-p",
                str(server.port),
                "-k",
                str(self.root),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "max_connections=20",
            ]
            with self.log.open("ab") as log:
                self.process = subprocess.Popen(
                    [*self.prefix, *command], cwd=self.root, stdin=subprocess.DEVNULL, stdout=log, stderr=log
                )
            if self.wait_until_accepting(server):
                return server
            if "could not bind" not in log_tail(self.log):
                break
        raise RuntimeError(f"postgres did not start:\n{log_tail(self.log)}")

    def wait_until_accepting(self, server: PostgresServer) -> bool:
        """Poll a real connection until it succeeds, the server exits (False) or START_TIMEOUT passes."""
        import psycopg

        assert self.process is not None
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            try:
                server.connect(connect_timeout=2).close()
                return True
            except psycopg.OperationalError:
                pass
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=0.05)  # the poll interval doubles as an early-exit check
            if self.process.poll() is not None:
                return False
        raise RuntimeError(f"postgres not accepting connections after {START_TIMEOUT:.0f} s:\n{log_tail(self.log)}")

    def stop(self) -> None:
        try:
            if self.process is not None and self.process.poll() is None:
                try:
                    self.run(
                        str(self.bin_dir / "pg_ctl"),
                        "stop",
                        "-D",
                        str(self.data),
                        "-m",
                        "fast",
                        "-w",
                        "-t",
                        str(STOP_TIMEOUT),
                        timeout=STOP_TIMEOUT + 10,
                    )
                except (RuntimeError, subprocess.TimeoutExpired):
                    self.quit_postmaster()
                self.process.wait(timeout=10)
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def quit_postmaster(self) -> None:
        """Immediate shutdown; signalled by pid because killing `runuser` would orphan the server."""
        with contextlib.suppress(OSError, ValueError, IndexError):
            os.kill(int((self.data / "postmaster.pid").read_text().split()[0]), signal.SIGQUIT)


@contextmanager
def running_postgres(database: str = PG_DATABASE) -> Iterator[PostgresServer]:
    """A private PostgreSQL cluster with an empty `database`, removed on exit.

    Missing PostgreSQL (or psycopg): skipped with the reason, but under CI=true the test fails.
    """
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        unavailable(
            "PostgreSQL server binaries (initdb, pg_ctl, postgres) are not installed; "
            "as root run `make postgres` (apt-get install postgresql)"
        )
    try:
        import psycopg  # noqa: F401
    except ImportError:
        unavailable("psycopg is not installed; run `make install` (the test dependency group)")
    run_as = None
    if os.geteuid() == 0:
        try:
            run_as = pwd.getpwnam("postgres")
        except KeyError:
            unavailable("running as root and there is no `postgres` user to run initdb and the server as")
    cluster = Cluster(bin_dir, run_as)
    try:
        cluster.init()
        server = cluster.start()
        with server.connect(autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {database}")
        yield PostgresServer(server.host, server.port, server.user, database)
    finally:
        cluster.stop()
