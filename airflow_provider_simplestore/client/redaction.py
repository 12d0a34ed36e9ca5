"""Redaction of everything a server sends before it reaches a message or a log line.

Bearer tokens, URL passwords, token/secret fields (JSON or form) and the caller's own secrets, as is,
JSON-escaped or percent-encoded. The cost is bounded: only a window of a text is read.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable
from urllib.parse import quote

BODY_EXCERPT_CHARS = 300
# Redaction reads at most this much of a body, title or detail: far more than a message shows, so
# a secret is recognised before it is cut, and a bounded cost whatever a server sends.
REDACT_WINDOW_CHARS = 16 * 1024
# A run of characters that may be part of a token, matched at the start of the reversed window
# (a `\Z`-anchored search would retry from every position: quadratic). Dropped, never shown.
_RUN = re.compile(r"[^\s\"',;{}\[\]<>&]*")

_BEARER = re.compile(r"(?i)(bearer\s+)[^\s\"',;]+")
# scheme://user:password@ (the scheme is at most 32 characters: an unbounded one made every
# position of a long `a.a.a...` run a candidate scanned to its end, quadratic)
_URL_PASSWORD = re.compile(r"(?i)(\b[a-z][a-z0-9+.-]{0,31}://[^\s/@:]*:)[^\s/@]+@")
_SECRET_FIELDS = re.compile(  # JSON, Python-repr and form encodings of a secret-bearing field
    r"(?i)([\"']?\b(?:access_token|refresh_token|id_token|client_secret|password)\b[\"']?\s*[:=]\s*[\"']?)"
    r"[^\"'&\s,;}]+"
)


def _char_pattern(char: str) -> str:
    """`char` as a server may echo it: as is, JSON-escaped (`\\"`, `\\u00e9`, `\\/`), percent-encoded
    (either hex case; `+` for a space, as forms encode it)."""
    escapes = {json.dumps(char)[1:-1], json.dumps(char, ensure_ascii=False)[1:-1], quote(char, safe="")}
    if char == "/":
        escapes.add("\\/")
    if char == " ":
        escapes.add("+")
    escapes.discard(char)
    if not escapes:
        return re.escape(char)
    return "(?:" + "|".join([re.escape(char), *(f"(?i:{re.escape(form)})" for form in sorted(escapes))]) + ")"


@functools.lru_cache(maxsize=64)
def _secret_pattern(secret: str) -> re.Pattern[str]:
    """One pattern for every echo of `secret`, however each character was escaped (a server may
    escape some and not others: JavaScript leaves `!` alone where Python encodes it)."""
    return re.compile("".join(_char_pattern(char) for char in secret))


def _json_forms(secret: str) -> set[str]:
    """`secret` as is and JSON-escaped: the forms that may hold a delimiter at a cut."""
    escaped = (json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1])
    return {secret, *escaped, *(form.replace("/", "\\/") for form in escaped)}


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """Scrub bearer tokens, URL passwords, token/secret fields (JSON or form) and the given secrets
    (4 characters or more), as is, JSON-escaped or percent-encoded. Linear in the text's length;
    callers holding server-sent text pass a bounded window (`redact_window`)."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = _secret_pattern(secret).sub("***", text)
    text = _BEARER.sub(r"\1***", text)
    text = _URL_PASSWORD.sub(r"\1***@", text)
    return _SECRET_FIELDS.sub(r"\1***", text)


def _drop_cut_secret(text: str, secrets: Iterable[str | None]) -> str:
    """`text` ends where a body was cut: drop whatever there may be the start of a secret or token."""
    run = _RUN.match(text[::-1])  # always matches (`*`), perhaps empty
    text = text[: len(text) - (run.end() if run else 0)]
    forms = sorted({form for secret in secrets if secret for form in _json_forms(secret)}, key=len, reverse=True)
    for form in forms:
        for length in range(len(form) - 1, 3, -1):
            if text.endswith(form[:length]):
                return text[:-length]
    return text


def redact_window(text: str, secrets: Iterable[str | None] = ()) -> tuple[str, bool]:
    """The first REDACT_WINDOW_CHARS of `text`, redacted (a secret across the cut dropped first),
    and whether it was cut: what every server-sent text goes through, so the cost is bounded."""
    secrets = tuple(secrets)
    if len(text) <= REDACT_WINDOW_CHARS:
        return redact(text, secrets), False
    return redact(_drop_cut_secret(text[:REDACT_WINDOW_CHARS], secrets), secrets), True


def body_excerpt(content: bytes | str | None, secrets: Iterable[str | None] = ()) -> str | None:
    """A short, one-line, redacted excerpt of a body: redacted first, then cut (never the reverse)."""
    if not content:
        return None
    raw_limit = REDACT_WINDOW_CHARS * 4  # bytes enough for the window even in 4-byte UTF-8
    text = content[:raw_limit].decode("utf-8", "replace") if isinstance(content, bytes) else content
    text, cut = redact_window(text, secrets)
    cut = cut or len(content) > raw_limit
    text = " ".join(text.split())
    if len(text) > BODY_EXCERPT_CHARS:
        return text[:BODY_EXCERPT_CHARS] + "..."
    return text + "..." if cut else text or None
