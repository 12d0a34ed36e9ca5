"""One token per worker machine: task processes share it through token_share.py.

Real processes against the real sandbox: each child builds a hook from the connection in its
environment (as a task process does), makes one call, and exits. The finer cases use hooks in
this process, each with a cache of its own over one share folder, as separate processes have.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_simplestore.client.oauth import TokenCache
from airflow_provider_simplestore.client.token_share import MAX_TOKEN_FILE, SHARE_DIR_ENV, TokenShare, TokenSlot
from airflow_provider_simplestore.hooks.simplestore import SimpleStoreHook

CHILD = """
from airflow_provider_simplestore.hooks.simplestore import SimpleStoreHook
hook = SimpleStoreHook("simplestore_default")
print(hook.count("/v1/products"))
"""


def run_tasks(sb: Any, share_dir: Path, count: int, **extras: Any) -> None:
    env = {
        **os.environ,
        "AIRFLOW_CONN_SIMPLESTORE_DEFAULT": sb.connection_json(**extras),
        SHARE_DIR_ENV: str(share_dir),
    }

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


def test_shared_file_is_private_and_opaque(fresh_sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sb = fresh_sandbox(seed=3)
    share = tmp_path / "share"
    process_call(sb, share, monkeypatch)
    (token_file,) = share.glob("*.token")
    assert stat.S_IMODE(share.stat().st_mode) == 0o700
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    data = token_file.read_bytes()
    assert sb.client_secret.encode() not in data and sb.client_id.encode() not in data
    key = (sb.token_url, sb.client_id)
    other = TokenShare(share).slot(key, "another-secret-entirely")
    assert other is not None and other.load() is None  # other secret: a miss
    token = _slot(sb, share).load()
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
    assert _slot(sb, share).load() is not None


def _slot(sb: Any, share: Path) -> TokenSlot:
    slot = TokenShare(share).slot((sb.token_url, sb.client_id), sb.client_secret)
    assert slot is not None
    return slot


def test_a_symlink_at_the_lock_is_never_followed(
    fresh_sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    sb = fresh_sandbox(seed=3)
    share = tmp_path / "share"
    share.mkdir(mode=0o700)
    victim = tmp_path / "victim"
    _slot(sb, share)._lock_path.symlink_to(victim)  # planted where the lock belongs
    with caplog.at_level(logging.WARNING):
        process_call(sb, share, monkeypatch)  # the task still runs: it fetches its own token
    assert not victim.exists(), "the lock was opened through the symlink: its target was created"
    assert "not sharing this client's token" in caplog.text
    assert sb.stats()["token_grants"] == 1 and not list(share.glob("*.token"))


def test_a_symlink_at_the_token_file_is_not_read_through(
    fresh_sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sb = fresh_sandbox(seed=3)
    share = tmp_path / "share"
    process_call(sb, share, monkeypatch)
    slot = _slot(sb, share)
    elsewhere = tmp_path / "elsewhere.token"
    slot.path.rename(elsewhere)  # a good token file, reached only through a link
    slot.path.symlink_to(elsewhere)
    process_call(sb, share, monkeypatch)
    assert sb.stats()["token_grants"] == 2  # a miss: a grant of its own, not the linked file's token
    assert not slot.path.is_symlink() and slot.load() is not None  # replaced by a regular file
    assert elsewhere.exists()


def test_an_oversized_token_file_is_a_miss(fresh_sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sb = fresh_sandbox(seed=3)
    share = tmp_path / "share"
    process_call(sb, share, monkeypatch)
    slot = _slot(sb, share)
    good = slot.load()
    assert good is not None
    # A valid file of this very secret and a good token, padded past the limit: read whole, it would
    # be adopted; a reader that stops at MAX_TOKEN_FILE bytes treats it as damaged.
    padded = {
        "value": good.value,
        "expires_at": good.expires_at,
        "lifetime": good.lifetime,
        "padding": "x" * MAX_TOKEN_FILE,
    }
    slot.path.write_bytes(slot._fernet.encrypt(json.dumps(padded).encode()))
    assert slot.load() is None
    process_call(sb, share, monkeypatch)
    assert sb.stats()["token_grants"] == 2 and slot.path.stat().st_size <= MAX_TOKEN_FILE


def test_a_fifo_at_the_token_file_does_not_hang_the_task(
    fresh_sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sb = fresh_sandbox(seed=3)
    share = tmp_path / "share"
    share.mkdir(mode=0o700)
    slot = _slot(sb, share)
    os.mkfifo(slot.path)
    done = threading.Event()
    worker = threading.Thread(target=lambda: (process_call(sb, share, monkeypatch), done.set()), daemon=True)
    worker.start()
    assert done.wait(60), "reading the token file blocked on a FIFO"
    assert stat.S_ISREG(slot.path.lstat().st_mode) and sb.stats()["token_grants"] == 1
