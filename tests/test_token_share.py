"""One token per worker machine: task processes share it through token_share.py.

Real processes against the real sandbox: each child builds a hook from the connection in its
environment (as a task process does), makes one call, and exits. The finer cases use hooks in
this process, each with a cache of its own over one share folder, as separate processes have.
"""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_simplestore.hooks.simplestore import SimpleStoreHook
from airflow_provider_simplestore.token import TokenCache
from airflow_provider_simplestore.token_share import SHARE_DIR_ENV, TokenShare

CHILD = """
from airflow_provider_simplestore.hooks.simplestore import SimpleStoreHook
hook = SimpleStoreHook("simplestore_default")
print(hook.count("/v1/products"))
"""


def run_tasks(sb: Any, share_dir: Path, count: int, **extras: Any) -> None:
    env = {**os.environ, "AIRFLOW_CONN_SIMPLESTORE_DEFAULT": sb.connection_json(**extras),
           SHARE_DIR_ENV: str(share_dir)}

    def one(_: int) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=120)

    with ThreadPoolExecutor(count) as pool:  # at the same time: the grant must be single-flight too
        results = list(pool.map(one, range(count)))
    for proc in results:
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert proc.stdout.strip().splitlines()[-1] == "200"  # 2.11 and 3.0 may log to stdout first


def process_call(sb: Any, share_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What one more task process does: a hook with an empty cache of its own over the share."""
    monkeypatch.setenv("AIRFLOW_CONN_SIMPLESTORE_DEFAULT", sb.connection_json())
    hook = SimpleStoreHook("simplestore_default", token_cache=TokenCache(share=TokenShare(share_dir)))
    try:
        assert hook.count("/v1/products") == 200
    finally:
        hook.close()


def test_task_processes_of_a_worker_share_one_grant(fresh_sandbox: Any, tmp_path: Path) -> None:
    sb = fresh_sandbox(seed=3)
    run_tasks(sb, tmp_path / "share", 3)
    assert sb.stats()["token_grants"] == 1


def test_sharing_off_means_one_grant_per_process(fresh_sandbox: Any, tmp_path: Path) -> None:
    sb = fresh_sandbox(seed=3)
    run_tasks(sb, tmp_path / "share", 2, share_across_processes=False)
    assert sb.stats()["token_grants"] == 2
    assert not list((tmp_path / "share").glob("*.token"))


def test_shared_file_is_private_and_opaque(
    fresh_sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sb = fresh_sandbox(seed=3)
    share = tmp_path / "share"
    process_call(sb, share, monkeypatch)
    (token_file,) = share.glob("*.token")
    assert stat.S_IMODE(share.stat().st_mode) == 0o700
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    data = token_file.read_bytes()
    assert sb.client_secret.encode() not in data and sb.client_id.encode() not in data
    key = (sb.token_url, sb.client_id)
    assert TokenShare(share).slot(key, "another-secret-entirely").load() is None  # other secret: a miss
    token = TokenShare(share).slot(key, sb.client_secret).load()
    assert token is not None and token.value.encode() not in data


def test_revoked_token_is_dropped_from_the_share(
    fresh_sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sb = fresh_sandbox(seed=3)
    process_call(sb, tmp_path / "share", monkeypatch)
    sb.revoke()
    process_call(sb, tmp_path / "share", monkeypatch)  # 401, the shared token discarded, one new grant
    process_call(sb, tmp_path / "share", monkeypatch)  # which the next task adopts
    assert sb.stats()["token_grants"] == 2


def test_folder_open_to_others_turns_sharing_off(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    share = tmp_path / "share"
    share.mkdir(mode=0o700)
    share.chmod(0o777)
    with caplog.at_level(logging.WARNING):
        assert TokenShare(share).slot(("https://auth", "client"), "secret") is None
    assert "open to other users" in caplog.text
    assert not list(share.iterdir())


def test_damaged_file_is_a_miss_and_gets_replaced(
    fresh_sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sb = fresh_sandbox(seed=3)
    share = tmp_path / "share"
    process_call(sb, share, monkeypatch)
    (token_file,) = share.glob("*.token")
    token_file.write_bytes(b"not a fernet token")
    process_call(sb, share, monkeypatch)
    assert sb.stats()["token_grants"] == 2
    assert TokenShare(share).slot((sb.token_url, sb.client_id), sb.client_secret).load() is not None
