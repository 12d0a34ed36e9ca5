"""A real S3-compatible server for the object-storage tests: moto in server mode, on 127.0.0.1.

It runs in a child process (`python -m moto.server`), so its threads never share a GIL with the
code under test. `tests/conftest.py` imports the fixtures `s3_server` and `s3` (one server per session).
moto, s3fs and the Amazon provider come with the `deploy` extra (`make install`); without them
the tests skip with the reason, except under CI=true, where that is a failure.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support import unavailable

CONN_ID = "aws_test"
BUCKET = "lake"
ACCESS_KEY = "simplestore-test-key"
SECRET_KEY = "s3-secret-never-shown"  # the tests check it reaches no log line, error or XCom
START_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class S3Server:
    endpoint: str

    def client(self) -> Any:
        """A plain boto3 client, independent of the filesystem under test (its own connections)."""
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name="us-east-1",
        )

    def connection_json(self) -> str:
        """The `aws` connection users put in AIRFLOW_CONN_<ID>, with the endpoint in its extra."""
        return json.dumps(
            {
                "conn_type": "aws",
                "login": ACCESS_KEY,
                "password": SECRET_KEY,
                "extra": {"endpoint_url": self.endpoint, "region_name": "us-east-1"},
            }
        )

    def reset(self) -> None:
        """moto's own control route: every bucket, object and unfinished upload is forgotten."""
        import requests

        requests.post(f"{self.endpoint}/moto-api/reset", timeout=10).raise_for_status()


def _start(log: Path) -> tuple[subprocess.Popen[bytes], S3Server]:
    """moto on a free port; a port taken between probe and bind gets another try (bounded)."""
    import requests

    for _attempt in range(3):
        port = free_port()
        with log.open("ab") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
            )
        server = S3Server(f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + START_TIMEOUT
        while process.poll() is None and time.monotonic() < deadline:
            with contextlib.suppress(requests.RequestException):
                requests.get(f"{server.endpoint}/moto-api/data.json", timeout=1).raise_for_status()
                return process, server
            time.sleep(0.1)
        _stop(process)
    raise RuntimeError(f"moto server did not start:\n{log.read_text(errors='replace')[-2000:]}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def missing_package() -> str | None:
    """What the S3 tests (and the S3 benchmark) lack, if anything."""
    for module, what in (
        ("moto.server", "moto[server]"),
        ("s3fs", "s3fs"),
        ("airflow.providers.amazon.aws.fs.s3", "apache-airflow-providers-amazon"),
    ):
        try:
            __import__(module)
        except ImportError:
            return f"{what} is not installed; run `make install` (the deploy dependency group)"
    return None


@contextlib.contextmanager
def running_s3_server() -> Iterator[S3Server]:
    """A moto server for the block, stopped after it (its objects live in its memory only)."""
    with tempfile.TemporaryDirectory(prefix="simplestore-moto-") as tmp:
        process, server = _start(Path(tmp) / "moto.log")
        try:
            yield server
        finally:
            _stop(process)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    if reason := missing_package():
        unavailable(reason)
    with running_s3_server() as server:
        yield server


@pytest.fixture
def s3(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> S3Server:
    """An empty server with the bucket `lake`, and the Airflow connection `aws_test` pointing at it."""
    s3_server.reset()
    s3_server.client().create_bucket(Bucket=BUCKET)
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", s3_server.connection_json())
    return s3_server
