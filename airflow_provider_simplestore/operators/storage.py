"""Object storage for exports and imports: resolving a destination, and writing it atomically.

A destination is checked (its scheme has a filesystem) before any API call, so a typo or a
missing provider fails fast. Writes go to a hidden temporary sibling and are moved into place
only when the whole file is written; on any failure the temporary object is removed, so a
failed task leaves neither a partial file nor a temporary one.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import IO, TYPE_CHECKING

from airflow_provider_simplestore.compat import AirflowFailException
from airflow_provider_simplestore.errors import SimpleStoreConfigError

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import ObjectStoragePath

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
    try:
        if isinstance(location, ObjectStoragePath):
            path = location
        else:
            path = ObjectStoragePath(text, conn_id=conn_id) if conn_id else ObjectStoragePath(text)
        path.fs  # noqa: B018 - resolving the filesystem is the check
    except (ValueError, ImportError) as exc:
        scheme = text.split("://", 1)[0] if "://" in text else "file"
        hint = _PROVIDER_FOR_SCHEME.get(scheme)
        install = f"; install {hint}" if hint else ""
        raise StorageError(
            f"{role} {text!r}: no filesystem is installed for scheme {scheme!r}{install} ({exc})"
        ) from None
    if not path.name or text.endswith("/"):
        raise StorageError(f"{role} {str(path)!r} names a directory; give a file name")
    return path


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


def temporary_sibling(path: ObjectStoragePath) -> ObjectStoragePath:
    return path.parent / f".{path.name}.{uuid.uuid4().hex[:12]}.tmp"


@contextmanager
def atomic_write(path: ObjectStoragePath) -> Iterator[HashingWriter]:
    """Write ``path`` all or nothing: a temporary sibling, moved into place after a clean exit."""
    with suppress(FileExistsError, NotImplementedError):
        path.fs.makedirs(path.parent.path, exist_ok=True)
    temporary = temporary_sibling(path)
    try:
        with temporary.open("wb") as raw:
            writer = HashingWriter(raw)
            yield writer
        # Same store: a rename for local files, a server-side copy + delete for object stores.
        path.fs.mv(temporary.path, path.path)
    except BaseException:
        with suppress(Exception):
            if temporary.exists():
                temporary.unlink()
        raise


def remove_if_exists(path: ObjectStoragePath) -> bool:
    if path.exists():
        path.unlink()
        return True
    return False
