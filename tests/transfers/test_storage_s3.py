"""Exports to s3:// through ObjectStoragePath, against a real S3 server (moto) on 127.0.0.1.

An object appears only whole: one multipart upload to the final key, completed at the end and
aborted on failure (utils/storage.py, docs/storage.md). The server is watched with a plain boto3
client of its own, never through the filesystem under test.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from airflow_provider_simplestore.exceptions import SimpleStoreServerError
from airflow_provider_simplestore.transfers.simplestore_to_storage import SimpleStoreToObjectStorageOperator
from airflow_provider_simplestore.utils.storage import UPLOAD_PART_SIZE, StorageError
from tests.operator_support import context, total_requests
from tests.s3_server import BUCKET, CONN_ID, SECRET_KEY, S3Server

KEY = "exports/orders.jsonl"
LARGE_ORDERS = 30_000  # about 30 MB of JSON Lines: several 8 MiB parts


@pytest.fixture(scope="module")
def large_sandbox() -> Iterator[Any]:
    """One sandbox with enough orders for a multi-part object (a child process: it serves while we upload)."""
    from airflow_provider_simplestore.client.pacing import clear_pacers
    from airflow_provider_simplestore.sandbox import run_sandbox

    clear_pacers()
    with run_sandbox(seed=14, orders=LARGE_ORDERS, products=50, customers=300, subprocess=True) as sb:
        yield sb


def export_orders(key: str = KEY, **kwargs: Any) -> SimpleStoreToObjectStorageOperator:
    return SimpleStoreToObjectStorageOperator(
        task_id="export",
        resource="orders",
        incremental=False,
        destination=f"s3://{BUCKET}/{key}",
        storage_conn_id=CONN_ID,
        **kwargs,
    )


def body(s3: S3Server, key: str = KEY) -> bytes:
    return bytes(s3.client().get_object(Bucket=BUCKET, Key=key)["Body"].read())


def keys(s3: S3Server) -> list[str]:
    return [entry["Key"] for entry in s3.client().list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def unfinished_uploads(s3: S3Server) -> list[dict[str, Any]]:
    return list(s3.client().list_multipart_uploads(Bucket=BUCKET).get("Uploads", []))


def test_a_large_export_goes_up_in_parts_in_flat_memory_and_its_sha256_is_the_objects(
    s3: S3Server, large_sandbox: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_SIMPLESTORE_DEFAULT", large_sandbox.connection_json())
    summary = export_orders().execute(context())

    data = body(s3)
    assert summary["records"] == LARGE_ORDERS and summary["bytes"] == len(data) > 3 * UPLOAD_PART_SIZE
    assert summary["sha256"] == hashlib.sha256(data).hexdigest()
    assert summary["destination"] == f"s3://{CONN_ID}@{BUCKET}/{KEY}"
    # A part went up whenever UPLOAD_PART_SIZE bytes were buffered: memory holds about one part, whatever
    # the size (benchmarks/memory.py measures the RSS). A multipart object's ETag ends in its part count.
    etag = s3.client().head_object(Bucket=BUCKET, Key=KEY)["ETag"].strip('"')
    parts = int(etag.rpartition("-")[2]) if "-" in etag else 1
    assert math.floor(len(data) / UPLOAD_PART_SIZE) <= parts <= math.ceil(len(data) / UPLOAD_PART_SIZE)
    assert keys(s3) == [KEY] and unfinished_uploads(s3) == []
    assert SECRET_KEY not in caplog.text and SECRET_KEY not in json.dumps(summary)


class Watcher(threading.Thread):
    """Lists the bucket and its unfinished uploads as fast as it can, until stopped."""

    def __init__(self, s3: S3Server) -> None:
        super().__init__(daemon=True)
        self.client = s3.client()
        self.stop = threading.Event()
        self.seen: list[tuple[tuple[str, str], ...]] = []  # (key, etag) of every object, per poll
        self.polls_during_upload = 0

    def run(self) -> None:
        while True:
            stopping = self.stop.is_set()  # one more poll after the export returned: it sees the end
            listing = self.client.list_objects_v2(Bucket=BUCKET).get("Contents", [])
            self.seen.append(tuple((entry["Key"], entry["ETag"]) for entry in listing))
            if self.client.list_multipart_uploads(Bucket=BUCKET).get("Uploads"):
                self.polls_during_upload += 1
            if stopping:
                return


def test_no_partial_or_temporary_object_is_ever_visible_during_a_slow_export(
    s3: S3Server, fresh_sandbox: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    sb = fresh_sandbox(seed=5, orders=10_000, products=50, customers=200, latency_ms=10, subprocess=True)
    monkeypatch.setenv("AIRFLOW_CONN_SIMPLESTORE_DEFAULT", sb.connection_json())
    client = s3.client()
    # Versioning keeps every object ever written (and a delete marker for each one removed): the
    # record of what was visible between two polls too.
    client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    client.put_object(Bucket=BUCKET, Key=KEY, Body=b"yesterday's export\n")
    old = client.head_object(Bucket=BUCKET, Key=KEY)["ETag"]
    watcher = Watcher(s3)
    watcher.start()
    try:
        summary = export_orders(page_size=50).execute(context())
    finally:
        watcher.stop.set()
        watcher.join(timeout=30)

    new = client.head_object(Bucket=BUCKET, Key=KEY)["ETag"]
    assert summary["sha256"] == hashlib.sha256(body(s3)).hexdigest() and summary["bytes"] > UPLOAD_PART_SIZE
    # Ever written: the old object, then the new one; nothing partial, no temporary, nothing deleted.
    history = client.list_object_versions(Bucket=BUCKET)
    assert sorted((v["Key"], v["ETag"]) for v in history.get("Versions", [])) == sorted([(KEY, old), (KEY, new)])
    assert history.get("DeleteMarkers", []) == []
    # Polled while the upload was in progress: only ever the old object, then the new one.
    states = set(watcher.seen)
    assert states <= {((KEY, old),), ((KEY, new),)}, states - {((KEY, old),), ((KEY, new),)}
    first_new = next(i for i, state in enumerate(watcher.seen) if state == ((KEY, new),))
    assert all(state == ((KEY, new),) for state in watcher.seen[first_new:])
    assert watcher.polls_during_upload >= 5, "the watcher never saw the upload in progress"


@pytest.mark.parametrize("old", [None, b"yesterday's export\n"], ids=["new-key", "existing-key"])
def test_a_failure_mid_upload_aborts_it_leaving_no_object_and_no_parts(
    s3: S3Server, large_sandbox: Any, monkeypatch: pytest.MonkeyPatch, old: bytes | None
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_SIMPLESTORE_DEFAULT", large_sandbox.connection_json(max_retries=0))
    if old is not None:
        s3.client().put_object(Bucket=BUCKET, Key=KEY, Body=old)
    operator = export_orders()
    real_pages = operator.hook.paginate_pages
    parts_sent: list[int] = []

    def pages_then_outage(*args: Any, **kwargs: Any) -> Iterator[Any]:
        for page in real_pages(*args, **kwargs):
            yield page
            uploads = unfinished_uploads(s3)
            if uploads:  # the first part went up: now the platform fails
                upload = uploads[0]
                listed = s3.client().list_parts(Bucket=BUCKET, Key=KEY, UploadId=upload["UploadId"])
                parts_sent.append(len(listed.get("Parts", [])))
                large_sandbox.set_faults(rules=[{"kind": "503", "probability": 1, "routes": ["/v1/orders"]}])

    monkeypatch.setattr(operator.hook, "paginate_pages", pages_then_outage)
    try:
        with pytest.raises(SimpleStoreServerError):
            operator.execute(context())
    finally:
        large_sandbox.clear_faults()

    assert parts_sent and parts_sent[0] >= 1, "the failure did not come in the middle of a multipart upload"
    assert unfinished_uploads(s3) == [], "the parts sent were left behind"
    if old is None:
        assert keys(s3) == []
    else:
        assert keys(s3) == [KEY] and body(s3) == old


def test_leftovers_of_a_killed_run_are_cleaned_up_and_nothing_else(s3: S3Server, simplestore_conn: Any) -> None:
    client = s3.client()
    key = "exports/categories.jsonl"
    stale = client.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]  # a run killed mid-upload
    client.upload_part(Bucket=BUCKET, Key=key, UploadId=stale, PartNumber=1, Body=b"half")
    other = client.create_multipart_upload(Bucket=BUCKET, Key=key + ".bak")["UploadId"]  # same prefix, not ours
    client.put_object(Bucket=BUCKET, Key="exports/.categories.jsonl.0123456789ab.tmp", Body=b"half")  # older release
    client.put_object(Bucket=BUCKET, Key="exports/.other.jsonl.0123456789ab.tmp", Body=b"not ours")
    client.put_object(Bucket=BUCKET, Key="exports/.categories.jsonl.0123456789ab.tmp.keep", Body=b"a user's")

    summary = SimpleStoreToObjectStorageOperator(
        task_id="export", resource="categories", destination=f"s3://{BUCKET}/{key}", storage_conn_id=CONN_ID
    ).execute(context())

    assert summary["sha256"] == hashlib.sha256(body(s3, key)).hexdigest()
    assert [(u["Key"], u["UploadId"]) for u in unfinished_uploads(s3)] == [(key + ".bak", other)]
    assert sorted(keys(s3)) == [
        "exports/.categories.jsonl.0123456789ab.tmp.keep",
        "exports/.other.jsonl.0123456789ab.tmp",
        key,
    ]


def test_a_missing_bucket_or_a_prefix_is_refused_before_any_api_call(s3: S3Server, simplestore_conn: Any) -> None:
    s3.client().put_object(Bucket=BUCKET, Key="exports/daily/part-1.jsonl", Body=b"{}\n")
    before = total_requests(simplestore_conn)
    with pytest.raises(StorageError, match="the bucket 'no-such-bucket' does not exist"):
        SimpleStoreToObjectStorageOperator(
            task_id="x", resource="categories", destination="s3://no-such-bucket/c.jsonl", storage_conn_id=CONN_ID
        ).execute(context())
    with pytest.raises(StorageError, match="is a prefix with objects under it"):
        SimpleStoreToObjectStorageOperator(
            task_id="x", resource="categories", destination=f"s3://{BUCKET}/exports/daily", storage_conn_id=CONN_ID
        ).execute(context())
    assert total_requests(simplestore_conn) == before
    assert [b["Name"] for b in s3.client().list_buckets()["Buckets"]] == [BUCKET], "a bucket was created"
    assert keys(s3) == ["exports/daily/part-1.jsonl"]


@pytest.mark.parametrize(
    ("key", "what"),
    [
        ("exports/../daily/../../orders.jsonl", "a '..' segment"),
        ("exports/.", "a '.' segment"),
        ("exports/./orders.jsonl", "a '.' segment"),
        ("exports//orders.jsonl", "an empty segment"),
    ],
)
def test_a_key_with_dot_or_empty_segments_is_refused_before_any_api_call(
    s3: S3Server, simplestore_conn: Any, key: str, what: str
) -> None:
    # file:// paths are normalised; an object store would keep these keys literally, and a tool that
    # syncs the bucket to disk may follow the "..".
    before = total_requests(simplestore_conn)
    with pytest.raises(StorageError, match=what):
        SimpleStoreToObjectStorageOperator(
            task_id="x", resource="categories", destination=f"s3://{BUCKET}/{key}", storage_conn_id=CONN_ID
        ).execute(context())
    assert total_requests(simplestore_conn) == before and keys(s3) == [] and unfinished_uploads(s3) == []
