"""Access tokens shared by the task processes of one worker machine.

On Airflow 3 every task instance runs in a process of its own (and on 2.11 under its own
`airflow tasks run`), so a per-process cache still costs one token grant per task. A worker
keeps one token per (auth URL, client id) in a file instead:

- the file holds the token encrypted (Fernet) with a key derived from the client secret, so it is
  worth nothing without the secret, and a changed secret simply misses;
- the folder is the OS user's own (mode 0700, owned by them; anything else turns sharing off with a
  warning), the file 0600, written whole and renamed into place;
- an advisory lock per key (`flock`) makes the grant single-flight across processes, as the
  per-key thread lock of `token.py` does across threads;
- nothing is followed: the lock and the token file are opened with `O_NOFOLLOW` and must be
  regular files (a symlink planted at either is never opened through; at the lock it turns
  sharing off for that key, with a warning), and a token file is read up to `MAX_TOKEN_FILE`
  bytes only (a larger one is damaged: a miss, replaced by the next grant).

The folder is `$SIMPLESTORE_TOKEN_SHARE_DIR`, else `<tmp>/simplestore-tokens-<uid>`. The connection
extra `share_across_processes: false` keeps tokens in the process (token.py) only.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import json
import logging
import os
import stat
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

SHARE_DIR_ENV = "SIMPLESTORE_TOKEN_SHARE_DIR"
_SALT = b"airflow-provider-simplestore token share v1"
_SUFFIX = ".token"
# A token file is a Fernet token of a small JSON document: a few KiB even for a large JWT.
MAX_TOKEN_FILE = 64 * 1024
_NO_FOLLOW = os.O_NOFOLLOW | os.O_CLOEXEC


def default_share_dir() -> Path:
    return Path(os.environ.get(SHARE_DIR_ENV) or Path(tempfile.gettempdir()) / f"simplestore-tokens-{os.getuid()}")


@dataclass(frozen=True)
class SharedToken:
    value: str = field(repr=False)
    expires_at: float  # wall clock (time.time()): other processes have other monotonic origins
    lifetime: float


class TokenSlot:
    """The shared file of one (auth URL, client id), opened with that client's secret."""

    def __init__(self, directory: Path, key: tuple[str, str], secret: str) -> None:
        name = hashlib.sha256("\0".join(key).encode()).hexdigest()[:32]
        self.path = directory / f"{name}{_SUFFIX}"
        self._lock_path = directory / f"{name}.lock"
        self._fernet = _fernet(key, secret)
        self._lock_fd: int | None = None
        self._refused = False  # the lock could not be opened safely: this slot shares nothing

    def try_lock(self) -> bool:
        """True once this process holds the key's lock (or the slot was refused: it then shares
        nothing, and the caller fetches its own token); False while another process holds it."""
        if self._refused:
            return True
        try:
            fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT | _NO_FOLLOW, 0o600)
        except OSError as exc:  # ELOOP: a symlink sits where the lock belongs
            return self._refuse(f"cannot open {self._lock_path} without following it ({exc.strerror})")
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            return self._refuse(f"{self._lock_path} is not a regular file")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._lock_fd = fd
        return True

    def _refuse(self, problem: str) -> bool:
        log.warning("SimpleStore: not sharing this client's token between processes: %s; remove it", problem)
        self._refused = True
        return True

    def unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the descriptor releases the flock
            self._lock_fd = None

    def _read(self) -> bytes | None:
        """The token file's bytes: not through a symlink, a regular file, at most MAX_TOKEN_FILE."""
        # O_NONBLOCK: a FIFO planted there must not hang the open (it is then refused as not regular).
        fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK | _NO_FOLLOW)
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return None
            data = handle.read(MAX_TOKEN_FILE + 1)
        return data if len(data) <= MAX_TOKEN_FILE else None

    def load(self) -> SharedToken | None:
        """The shared token if there is one this secret opens and it has not expired."""
        if self._refused:
            return None
        try:
            raw = self._read()
            if raw is None:  # oversized or not a file: damaged, a miss (the next grant replaces it)
                return None
            data: dict[str, Any] = json.loads(self._fernet.decrypt(raw))
            token = SharedToken(str(data["value"]), float(data["expires_at"]), float(data["lifetime"]))
        except FileNotFoundError:
            return None
        except Exception:  # another secret's file, a symlink, or damaged: treat as absent (it gets replaced)
            return None
        return token if token.expires_at > time.time() else None

    def save(self, value: str, lifetime: float) -> None:
        payload = json.dumps({"value": value, "expires_at": time.time() + lifetime, "lifetime": lifetime})
        sealed = self._fernet.encrypt(payload.encode())
        if self._refused or len(sealed) > MAX_TOKEN_FILE:  # no reader would take it
            return
        fd, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".tmp-", suffix=_SUFFIX)  # mode 0600
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(sealed)
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise

    def discard(self, value: str) -> None:
        """Remove the shared token if it is `value` (the server refused it); a newer one stays."""
        shared = self.load()
        if shared is not None and shared.value == value:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()


class TokenShare:
    """The folder of shared tokens; `slot()` is None when sharing is off or the folder unsafe."""

    def __init__(self, directory: Path | None = None) -> None:
        self._directory = directory
        self._checked: Path | None = None
        self._refused = False

    @property
    def directory(self) -> Path:
        return self._directory or default_share_dir()

    def slot(self, key: tuple[str, str], secret: str) -> TokenSlot | None:
        directory = self._usable_directory()
        return None if directory is None else TokenSlot(directory, key, secret)

    def clear(self) -> None:
        """Forget every shared token of this folder (tests; `TokenCache.clear`)."""
        with contextlib.suppress(FileNotFoundError):
            for path in self.directory.glob(f"*{_SUFFIX}"):
                path.unlink(missing_ok=True)

    def _usable_directory(self) -> Path | None:
        directory = self.directory
        if directory == self._checked:
            return directory
        problem = _unsafe(directory)
        if problem:
            if not self._refused:
                log.warning(
                    "SimpleStore: not sharing tokens between processes: %s; each process fetches its own", problem
                )
                self._refused = True
            return None
        self._checked = directory
        return directory


def _unsafe(directory: Path) -> str | None:
    """Why `directory` may not hold tokens, or None. Created 0700 if missing."""
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = directory.lstat()
    except OSError as exc:
        return f"cannot use {directory}: {exc.strerror}"
    if not stat.S_ISDIR(info.st_mode):
        return f"{directory} is not a folder"
    if info.st_uid != os.getuid():
        return f"{directory} belongs to another user"
    if info.st_mode & 0o077:
        return f"{directory} is open to other users (mode {stat.S_IMODE(info.st_mode):o}; it must be 700)"
    return None


def _fernet(key: tuple[str, str], secret: str) -> Any:
    # cryptography ships with Airflow (it encrypts connections with Fernet); imported when used.
    from cryptography.fernet import Fernet
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    material = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info="\0".join(key).encode())
    return Fernet(base64.urlsafe_b64encode(material.derive(secret.encode())))
