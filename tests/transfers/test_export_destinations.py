"""A destination is a regular file or nothing; anything else fails before the API."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_simplestore.transfers.simplestore_to_storage import SimpleStoreToObjectStorageOperator
from airflow_provider_simplestore.utils.storage import StorageError
from tests.operator_support import context, total_requests


def export(destination: str) -> dict[str, Any]:
    return SimpleStoreToObjectStorageOperator(task_id="export", resource="categories", destination=destination).execute(
        context()
    )


def refused(sb: Any, destination: str, match: str) -> None:
    before = total_requests(sb)
    with pytest.raises(StorageError, match=match):
        export(destination)
    assert total_requests(sb) == before, "the API was called before the destination was checked"


def test_an_existing_directory_is_refused(simplestore_conn: Any, tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    target.mkdir()
    refused(simplestore_conn, str(target), "is a directory")
    assert os.listdir(target) == []


def test_a_fifo_or_a_device_is_never_replaced(simplestore_conn: Any, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    refused(simplestore_conn, str(fifo), "not a regular file")
    assert fifo.is_fifo()
    null = tmp_path / "null.jsonl"  # a link to /dev/null: the device itself is never touched
    null.symlink_to("/dev/null")
    refused(simplestore_conn, f"file://{null}", "not a regular file")
    assert null.is_symlink() and Path("/dev/null").is_char_device()


def test_a_file_url_with_a_host_is_refused(
    simplestore_conn: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    refused(simplestore_conn, "file://host/x.jsonl", "three slashes")
    assert not (tmp_path / "host").exists()


def test_a_read_only_location_is_refused_naming_the_destination(simplestore_conn: Any) -> None:
    # /proc/sys takes no new files, even from root; the message names the destination, not a temp file.
    before = total_requests(simplestore_conn)
    with pytest.raises(StorageError, match="not writable") as info:
        export("/proc/sys/categories.jsonl")
    assert ".tmp" not in str(info.value) and total_requests(simplestore_conn) == before


def test_stale_temporaries_go_and_the_path_reported_is_normalised(simplestore_conn: Any, tmp_path: Path) -> None:
    stale = tmp_path / ".categories.jsonl.0123456789ab.tmp"  # what a kill -9 mid-export leaves
    stale.write_text("half")
    other = tmp_path / ".other.jsonl.0123456789ab.tmp"
    other.write_text("not ours")
    summary = export(f"file://{tmp_path}/sub/../categories.jsonl")
    assert summary["destination"] == f"file://{tmp_path}/categories.jsonl"
    assert (tmp_path / "categories.jsonl").stat().st_size == summary["bytes"] > 0
    assert not stale.exists() and other.exists()


def test_only_names_that_are_exactly_a_temporary_are_cleaned_up(simplestore_conn: Any, tmp_path: Path) -> None:
    stale = tmp_path / ".categories.jsonl.0123456789ab.tmp"
    # A user's files that begin like a temporary of the destination: the whole name must match.
    kept = [
        tmp_path / ".categories.jsonl.0123456789ab.tmp.keep",
        tmp_path / ".categories.jsonl.0123456789ab.tmpx",
        tmp_path / ".categories.jsonl.0123456789abc.tmp",
    ]
    for path in (stale, *kept):
        path.write_text("data")
    export(str(tmp_path / "categories.jsonl"))
    assert not stale.exists() and all(path.read_text() == "data" for path in kept)


def test_the_file_is_fsynced_before_it_is_moved_into_place(
    simplestore_conn: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "categories.jsonl"
    synced: list[tuple[str, bool]] = []
    real_fsync = os.fsync

    def spy(fd: int) -> None:  # records, then really syncs
        synced.append((os.readlink(f"/proc/self/fd/{fd}"), target.exists()))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", spy)
    export(str(target))
    assert synced and synced[0][0].endswith(".tmp") and synced[0][1] is False
