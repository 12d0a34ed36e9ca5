"""Object storage for exports and imports: resolving a destination, and writing it atomically.

A destination is checked (its scheme has a filesystem) before any API call, so a typo or a
missing provider fails fast. A write is all or nothing (docs/storage.md):

* local files (and filesystems without an upload committed at close): a hidden temporary sibling,
  moved into place only when the whole file is written, removed on any failure;
* object stores (S3, GCS, Azure Blob): straight to the final key in one multipart upload that is
  completed only after a clean exit and aborted on any failure. A "move" there is a copy plus a
  delete: it would show a temporary object and send every byte twice.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import re
import stat
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import urlsplit

from airflow_provider_simplestore.compat import AirflowFailException
from airflow_provider_simplestore.exceptions import SimpleStoreConfigError

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import ObjectStoragePath

log = logging.getLogger(__name__)
# Local write errors a retry cannot fix: reported naming the destination, not its temporary sibling.
_UNFIXABLE_BY_RETRY = {errno.EACCES, errno.EPERM, errno.EROFS, errno.EISDIR, errno.ENOTDIR, errno.ENOENT}

# Filesystems that come from an Airflow provider, to tell the user which one to install.
_PROVIDER_FOR_SCHEME = {
    "s3": "apache-airflow-providers-amazon",
    "s3a": "apache-airflow-providers-amazon",
    "gs": "apache-airflow-providers-google",
    "gcs": "apache-airflow-providers-google",
    "abfs": "apache-airflow-providers-microsoft-azure",
    "abfss": "apache-airflow-providers-microsoft-azure",
    "adl": "apache-airflow-providers-microsoft-azure",
    "msabfs": "apache-airflow-providers-microsoft-azure",
    "sftp": "apache-airflow-providers-sftp",
    "hdfs": "apache-airflow-providers-apache-hdfs",
}

# Object stores whose fsspec file sends parts while it is written but makes the object exist only
# when it is closed (S3 multipart, GCS resumable, Azure block list), and whose `discard()` drops it.
_OBJECT_STORES = frozenset({"s3", "s3a", "s3n", "gs", "gcs", "abfs", "abfss", "az"})
_S3 = frozenset({"s3", "s3a", "s3n"})
# Bytes buffered before a part goes up: about what an object-store write holds in memory. At least
# S3's 5 MiB minimum part; its 10,000-part limit then caps one object at about 78 GiB.
UPLOAD_PART_SIZE = 8 * 2**20


class StorageError(SimpleStoreConfigError, AirflowFailException):
    """A storage location that cannot be used (no filesystem for its scheme, not a file).

    Raised before any API call; an ``AirflowFailException``, since retrying cannot fix it.
    """


def storage_path(location: str | ObjectStoragePath, *, conn_id: str | None = None, role: str) -> ObjectStoragePath:
    """An ``ObjectStoragePath`` whose filesystem is known to be installed, or a clear error."""
    from airflow.providers.common.compat.sdk import ObjectStoragePath

    text = str(location).strip()
    if not text:
        raise StorageError(f"{role}: empty path")
    if not isinstance(location, ObjectStoragePath) and "://" not in text:
        if not text.startswith("/"):
            raise StorageError(f"{role} {text!r}: give a URL such as file:///abs/path or s3://bucket/key")
        text = f"file://{text}"
    if not isinstance(location, ObjectStoragePath) and text.lower().startswith("file://"):
        text = _local_url(text, role)
    try:
        if isinstance(location, ObjectStoragePath):
            path = location
        else:
            path = ObjectStoragePath(text, conn_id=conn_id) if conn_id else ObjectStoragePath(text)
        # Resolving the filesystem is the check. Local files need none (they are written with `os`
        # below), and resolving one loads every provider's filesystem (boto3 among them: 0.3 s).
        if not _is_local(path):
            path.fs  # noqa: B018
    except (ValueError, ImportError) as exc:
        scheme = text.split("://", 1)[0] if "://" in text else "file"
        hint = _PROVIDER_FOR_SCHEME.get(scheme)
        install = f"; install {hint}" if hint else ""
        raise StorageError(
            f"{role} {text!r}: no filesystem is installed for scheme {scheme!r}{install} ({exc})"
        ) from None
    if not path.name or text.endswith("/"):
        raise StorageError(f"{role} {str(path)!r} names a directory; give a file name")
    if not _is_local(path):
        _check_key(path, role)
    return path


def _check_key(path: ObjectStoragePath, role: str) -> None:
    """Refuse `.`, `..` and empty segments in a remote key. Local paths are normalised, but an
    object store keeps `a/../b` as a literal key, and a tool that syncs the bucket to disk may
    follow it; normalising instead would silently write elsewhere than the template said."""
    for segment in path.path.removeprefix("/").split("/"):
        if segment in ("", ".", ".."):
            what = "an empty segment (//)" if not segment else f"a {segment!r} segment"
            raise StorageError(
                f"{role} {str(path)!r}: the key has {what}, which object stores keep literally; give the key without it"
            )


def _local_url(text: str, role: str) -> str:
    """`file:///a/./b/../c` -> `file:///a/c`; `file://host/x` is refused (it would write ./host/x)."""
    parts = urlsplit(text)
    if parts.netloc.lower() not in ("", "localhost"):
        raise StorageError(
            f"{role} {text!r} names the host {parts.netloc!r}; a local file URL has three slashes: file:///abs/path"
        )
    if parts.query or parts.fragment:
        raise StorageError(f"{role} {text!r}: a file URL has no query or fragment")
    trailing = "/" if parts.path.endswith("/") else ""  # kept: a directory is refused below
    return "file://" + os.path.normpath(parts.path or "/") + trailing


def location_key(path: ObjectStoragePath) -> tuple[str, str]:
    """What a path writes to, to tell two spellings of one place apart from two places: a local
    path with its links resolved (a manifest written through a linked folder onto one of its parts
    must be caught), a remote one by protocol and key (a connection id in the URL does not count)."""
    if _is_local(path):
        return ("file", os.path.realpath(path.path))
    return (_protocol(path), path.path)


def _protocol(path: ObjectStoragePath) -> str:
    protocol = path.protocol
    return str(protocol[0] if isinstance(protocol, (tuple, list)) else protocol)


def _is_local(path: ObjectStoragePath) -> bool:
    return _protocol(path) in ("file", "local")


def _is_object_store(path: ObjectStoragePath) -> bool:
    return _protocol(path) in _OBJECT_STORES


def check_destination(path: ObjectStoragePath, *, role: str = "destination") -> None:
    """Before any API call: the destination is a regular file or absent, and (locally) writable.

    Also removes what runs killed mid-write left behind: temporary siblings, and on S3 the
    unfinished multipart uploads to the key."""
    if _is_object_store(path):
        _check_object_destination(path, role)
        return
    if not _is_local(path):
        with suppress(FileNotFoundError):
            if path.exists() and not path.is_file():
                raise StorageError(f"{role} {str(path)!r} exists and is not a file")
        return
    target = path.path
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise StorageError(f"{role} {target!r} cannot be inspected: {exc.strerror}") from None
    if mode is not None and not stat.S_ISREG(mode):
        kind = "a directory" if stat.S_ISDIR(mode) else "not a regular file (a device, FIFO or socket)"
        raise StorageError(f"{role} {target!r} is {kind}; give the path of a file to (re)place")
    parent = os.path.dirname(target)
    existing = parent
    while not os.path.exists(existing):  # the nearest existing ancestor decides (missing ones are created)
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise StorageError(f"{role} {target!r}: {existing!r} is not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise StorageError(f"{role} {target!r}: the directory {existing!r} is not writable (read-only location?)")
    if existing == parent:
        _remove_stale_temporaries(parent, os.path.basename(target))


def _check_object_destination(path: ObjectStoragePath, role: str) -> None:
    """The key is an object or absent, and (S3) its bucket exists: a write never creates a bucket."""
    where = f"{role} {str(path)!r}"
    try:
        kind = path.fs.info(path.path).get("type")
    except FileNotFoundError:
        kind = None
    except PermissionError as exc:
        raise StorageError(f"{where}: access denied ({exc})") from None
    if kind not in (None, "file"):
        raise StorageError(f"{where} is a prefix with objects under it; give the key of a file to (re)place")
    if _protocol(path) not in _S3:
        return
    bucket = path.path.split("/", 1)[0]
    try:
        path.fs.call_s3("head_bucket", Bucket=bucket)
    except FileNotFoundError:
        raise StorageError(f"{where}: the bucket {bucket!r} does not exist; create it first") from None
    except PermissionError:
        pass  # HeadBucket needs s3:ListBucket, which a write-only role may lack: the upload will tell
    _remove_stale_s3_leftovers(path)


def _remove_stale_s3_leftovers(path: ObjectStoragePath) -> None:
    """Abort unfinished multipart uploads to exactly this key (a killed run's parts: invisible, but
    stored and billed), and delete temporary siblings written by releases that copied them into place.

    A task instance runs once at a time, so such leftovers are stale, as local temporaries are.
    Best effort (one listing each): without the permission, a bucket lifecycle rule does it."""
    fs = path.fs
    bucket, _, key = path.path.partition("/")
    folder, _, name = key.rpartition("/")
    try:
        uploads = fs.call_s3("list_multipart_uploads", Bucket=bucket, Prefix=key).get("Uploads", [])
        for upload in uploads:
            if upload.get("Key") == key:
                fs.abort_mpu(bucket, key, upload["UploadId"])
                log.info("Aborted an unfinished upload to %s, left by an interrupted run", path)
        prefix = f"{folder}/.{name}." if folder else f".{name}."
        listing = fs.call_s3("list_objects_v2", Bucket=bucket, Prefix=prefix).get("Contents", [])
        pattern = _temporary_pattern(name)
        for entry in listing:
            if pattern.fullmatch(entry["Key"].rpartition("/")[2]):
                fs.rm_file(f"{bucket}/{entry['Key']}")
                log.info("Removed s3://%s/%s, left behind by an interrupted run", bucket, entry["Key"])
    except Exception as exc:  # never fail an export over the cleanup
        log.info("Could not clean up leftovers of earlier runs at %s (%s)", path, type(exc).__name__)


def _temporary_pattern(name: str) -> re.Pattern[str]:
    return re.compile(re.escape(f".{name}.") + r"[0-9a-f]{12}\.tmp")


def _remove_stale_temporaries(directory: str, name: str) -> None:
    pattern = _temporary_pattern(name)
    with suppress(OSError):
        for entry in os.scandir(directory):
            if pattern.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
                with suppress(OSError):
                    os.unlink(entry.path)
                    log.info("Removed %s, left behind by an interrupted run", entry.path)


class HashingWriter:
    """A binary writer that counts bytes and hashes them (sha256) on the way through."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self._sha = hashlib.sha256()
        self.bytes = 0

    def write(self, data: bytes) -> None:
        if data:
            self._raw.write(data)
            self._sha.update(data)
            self.bytes += len(data)

    @property
    def sha256(self) -> str:
        return self._sha.hexdigest()


def _temporary_name(name: str) -> str:
    """The hidden sibling a write goes to first (`_temporary_pattern` finds those a killed run left)."""
    return f".{name}.{uuid.uuid4().hex[:12]}.tmp"


def temporary_sibling(path: ObjectStoragePath) -> ObjectStoragePath:
    return path.parent / _temporary_name(path.name)


@contextmanager
def atomic_write(path: ObjectStoragePath) -> Iterator[HashingWriter]:
    """Write ``path`` all or nothing: on object stores one upload to the final key, completed after a
    clean exit; elsewhere a temporary sibling, moved into place after a clean exit."""
    if _is_object_store(path):
        with _upload(path) as writer:
            yield writer
        return
    if _is_local(path):
        with _local_write(path) as writer:
            yield writer
        return
    with suppress(FileExistsError, NotImplementedError):
        path.fs.makedirs(path.parent.path, exist_ok=True)
    temporary = temporary_sibling(path)
    try:
        with temporary.open("wb") as raw:
            yield HashingWriter(raw)
        path.fs.mv(temporary.path, path.path)  # the filesystem's own move (a copy + delete on some)
    except BaseException:
        with suppress(Exception):
            if temporary.exists():
                temporary.unlink()
        raise


@contextmanager
def _local_write(path: ObjectStoragePath) -> Iterator[HashingWriter]:
    """A temporary sibling, flushed to disk, then renamed over the file (atomic on POSIX), with plain
    `os` calls: fsspec's local filesystem would not fsync before the rename."""
    target = path.path
    directory, name = os.path.split(target)
    temporary = os.path.join(directory, _temporary_name(name))
    try:
        with suppress(FileExistsError):  # a file where a folder should be: the open below says so
            os.makedirs(directory, exist_ok=True)
        with open(temporary, "wb") as raw:
            yield HashingWriter(raw)
            raw.flush()  # the data must be on disk before the rename makes it visible
            os.fsync(raw.fileno())
        os.replace(temporary, target)
        _fsync_directory(directory)
    except BaseException as exc:
        with suppress(OSError):
            os.unlink(temporary)
        if isinstance(exc, OSError) and exc.errno in _UNFIXABLE_BY_RETRY:
            raise StorageError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from None
        raise


@contextmanager
def _upload(path: ObjectStoragePath) -> Iterator[HashingWriter]:
    """Stream to the final key: parts go up every UPLOAD_PART_SIZE bytes (so memory stays flat), and
    the object appears, whole, only when `close()` completes the upload. No makedirs: an object
    store has no folders, and s3fs would create a missing bucket."""
    raw = path.fs.open(path.path, "wb", block_size=UPLOAD_PART_SIZE)
    try:
        writer = HashingWriter(raw)
        yield writer
        raw.close()  # sends the last part and completes the upload
    except BaseException:
        _abandon(raw, path)
        raise


def _abandon(raw: Any, path: ObjectStoragePath) -> None:
    """Abort the upload: the parts sent are deleted and no object appears.

    Never `close()` a failed upload: fsspec's `close()` (so `with` and garbage collection too)
    completes it with whatever was written, and the partial object would replace the old one."""
    try:
        raw.discard()
    except Exception as exc:
        log.warning(
            "Could not abort the upload to %s (%s): the next run to it aborts it, or a bucket "
            "lifecycle rule (AbortIncompleteMultipartUpload)",
            path,
            type(exc).__name__,
        )
    with suppress(AttributeError):
        raw.closed = True  # so that its __del__ does not close (complete) it


def _fsync_directory(directory: str) -> None:
    with suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def open_binary(path: ObjectStoragePath) -> IO[bytes]:
    """`path` opened for reading bytes; a local file with `open` (see `storage_path` on why not fsspec)."""
    return open(path.path, "rb") if _is_local(path) else path.open("rb")


def remove_if_exists(path: ObjectStoragePath) -> bool:
    if _is_local(path):
        try:
            os.unlink(path.path)
        except FileNotFoundError:
            return False
        return True
    if path.exists():
        path.unlink()
        return True
    return False
