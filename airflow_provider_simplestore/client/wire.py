"""What both hooks do with a request and a response, without doing any I/O.

The hooks are thin shells around requests and httpx: everything they share (URLs, headers,
query and body encoding, response decoding, the paged envelope and the page plan) lives here.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, NamedTuple, Protocol
from urllib.parse import unquote, urlsplit

from airflow_provider_simplestore import __version__
from airflow_provider_simplestore.client.failures import describe, error_from_response, request_id_from
from airflow_provider_simplestore.client.redaction import body_excerpt, redact_window
from airflow_provider_simplestore.client.retry import parse_retry_after
from airflow_provider_simplestore.exceptions import SimpleStoreError, SimpleStorePathError, SimpleStoreResponseError
from airflow_provider_simplestore.utils.timestamps import iso

log = logging.getLogger(__name__)

USER_AGENT = f"airflow-provider-simplestore/{__version__}"
JSON_TYPE = "application/json"
PAGE_SIZE_PARAM = "pageSize"
PAGE_INDEX_PARAM = "pageIndex"
# A 401 from the API means the token died early (revoked, restarted server): drop it, replay once.
REPLAY_STATUS = 401
_PAGING_NAMES = {PAGE_SIZE_PARAM.lower(), PAGE_INDEX_PARAM.lower()}

QueryParams = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Page:
    """One page of a list endpoint: the documented envelope, validated."""

    index: int
    items: list[dict[str, Any]]
    page_size: int
    total_records: int
    total_pages: int


class ReadResponse(Protocol):
    """A response whose whole body was read: an `Answer`, or an httpx.Response."""

    @property
    def status_code(self) -> int: ...
    @property
    def headers(self) -> Mapping[str, str]: ...
    @property
    def content(self) -> bytes: ...


class Answer(NamedTuple):
    """A `ReadResponse` made of its parts (the sync hook reads the body itself, in chunks)."""

    status_code: int
    headers: Mapping[str, str]
    content: bytes


@dataclass(frozen=True)
class Call:
    """A request ready to send: `path` is what errors and log lines show (no query, no host)."""

    method: str
    url: str
    path: str
    query: QueryParams
    body: bytes | None


def prepare(base_url: str, method: str, path: str, params: Any = None, json: Any = None) -> Call:
    return Call(
        method=method.upper(),
        url=build_url(base_url, path),
        path=path.split("?", 1)[0],
        query=encode_params(params),
        body=encode_body(json),
    )


def build_url(base_url: str, path: str) -> str:
    check_path(path)
    return base_url.rstrip("/") + path


def check_path(path: str) -> None:
    """A path must stay under the API base: HTTP stacks resolve `..`, so
    `/v1/products/../customers/1` would reach another resource than the one logged."""
    if not isinstance(path, str) or not path.startswith("/") or path.startswith("//"):
        raise SimpleStorePathError(f"API paths start with '/' and name no host or scheme, got {path!r}")
    bare = path.split("?", 1)[0]
    if "#" in path or "\\" in bare or any(ord(char) < 0x20 or char == "\x7f" for char in path):
        raise SimpleStorePathError(f"API path {path!r} has a fragment, a backslash or a control character")
    for segment in bare.split("/"):  # `%2e%2e`, `..%2f` too: servers and proxies decode first
        # and some normalise Unicode: NFKC folds the full-width dot (U+FF0E) and U+2025 to dots
        parts = re.split(r"[/\\]", unicodedata.normalize("NFKC", unquote(segment)))
        if any(part in (".", "..") for part in parts):
            raise SimpleStorePathError(
                f"API path {path!r} has a {segment!r} segment, which would reach another resource; "
                "pass ids through path_ids (they are quoted) instead of building paths by hand"
            )


def request_deadline(connect_timeout: float, timeout: float) -> float:
    """Seconds one request may take in all: connecting, then twice the read timeout for the answer
    (the read timeout itself bounds each socket read, not the whole body)."""
    return connect_timeout + 2 * timeout


def url_path(url: str) -> str:
    """The path of a URL, as errors and log lines name a request (never its query)."""
    return urlsplit(url).path or "/"


def headers(token: str | None = None, *, body: bool = False) -> dict[str, str]:
    out = {"User-Agent": USER_AGENT, "Accept": JSON_TYPE}
    if body:
        out["Content-Type"] = JSON_TYPE
    if token is not None:
        out["Authorization"] = f"Bearer {token}"
    return out


def token_headers() -> dict[str, str]:
    return {"User-Agent": USER_AGENT, "Accept": JSON_TYPE}


def format_value(value: Any) -> str:
    """One query value: bools as true/false, datetimes as ISO UTC with Z, enums by value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):  # the platform keeps milliseconds: finer digits are cut
        return iso(value, timespec="milliseconds" if value.microsecond else "seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return format_value(value.value)
    return str(value)


def encode_params(params: Any) -> QueryParams:
    """Query parameters (a mapping or (name, value) pairs) as (name, text) pairs: lists repeat
    the key, None is dropped."""
    if params is None:
        return ()
    pairs = params.items() if isinstance(params, Mapping) else params
    out: list[tuple[str, str]] = []
    for name, value in pairs:
        if value is None:
            continue
        if isinstance(value, (list, tuple, set, frozenset)):
            values = sorted(value, key=str) if isinstance(value, (set, frozenset)) else value
            out.extend((name, format_value(item)) for item in values if item is not None)
        else:
            out.append((name, format_value(value)))
    return tuple(out)


def page_params(params: Any, index: int, size: int) -> QueryParams:
    """`params` plus pageSize/pageIndex (any caller-given paging parameter is replaced)."""
    kept = [(name, value) for name, value in encode_params(params) if name.lower() not in _PAGING_NAMES]
    return (*kept, (PAGE_SIZE_PARAM, str(size)), (PAGE_INDEX_PARAM, str(index)))


def _json_default(value: Any) -> Any:
    if isinstance(value, (datetime, date, Enum)):
        return format_value(value)
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"cannot send a {type(value).__name__} as JSON")


def encode_body(body: Any) -> bytes | None:
    """The JSON request body (datetimes as ISO UTC, Decimals as numbers); None for no body."""
    if body is None:
        return None
    return json.dumps(body, default=_json_default, separators=(",", ":"), ensure_ascii=False).encode()


@functools.cache
def _msgspec_decode() -> Callable[[bytes], Any] | None:
    try:
        import msgspec  # Airflow 3 requires it; 2.11 may not have it
    except ImportError:
        return None
    return msgspec.json.Decoder().decode


def loads(content: bytes) -> Any:
    """`json.loads(content)`, about twice as fast on a page of records: msgspec decodes it where it
    can, and what it decodes is what `json.loads` gives. What msgspec refuses and `json.loads` may
    take (NaN, lone surrogates, a BOM, numbers beyond a float) or refuses its own way goes to
    `json.loads`, so results and errors stay `json.loads`'s."""
    decode = _msgspec_decode()
    if decode is not None:
        try:
            return decode(content)
        except Exception:  # msgspec.DecodeError, ValidationError, RecursionError: json.loads decides
            pass
    return json.loads(content)


def decode_response(method: str, path: str, answer: ReadResponse, *, secrets: Iterable[str | None] = ()) -> Any:
    """The decoded JSON of a 2xx answer (None when empty), or raise the typed error."""
    secrets = tuple(secrets)  # used more than once below
    status, response_headers, content = answer.status_code, answer.headers, answer.content
    if not 200 <= status < 300:
        raise error_for(method, path, answer, secrets=secrets)
    if not content or not content.strip():
        return None
    try:
        return loads(content)
    except (ValueError, RecursionError) as exc:
        content_type = response_headers.get("content-type") or response_headers.get("Content-Type") or "?"
        what = "JSON nested too deeply to read" if isinstance(exc, RecursionError) else "a body that is not JSON"
        request_id = request_id_from(response_headers, secrets)
        raise SimpleStoreResponseError(
            describe(
                method,
                path,
                f"HTTP {status} with {what} ({redact_window(content_type, secrets)[0]})",
                request_id=request_id,
            ),
            method=method,
            path=path,
            status=status,
            request_id=request_id,
            body_excerpt=body_excerpt(content, secrets),
        ) from None


def error_for(method: str, path: str, answer: ReadResponse, *, secrets: Iterable[str | None] = ()) -> SimpleStoreError:
    """The typed error of a non-2xx answer, with its Retry-After already parsed."""
    headers = answer.headers
    retry_after = parse_retry_after(headers.get("retry-after") or headers.get("Retry-After"))
    return error_from_response(
        method, path, answer.status_code, headers, answer.content, secrets=secrets, retry_after=retry_after
    )


def _envelope_error(path: str, problem: str) -> SimpleStoreResponseError:
    return SimpleStoreResponseError(
        describe("GET", path, f"not the paged envelope SimpleStore list endpoints return: {problem}"),
        method="GET",
        path=path,
        status=200,
    )


def _count(data: Mapping[str, Any], name: str, path: str, *, required: bool = True) -> int | None:
    value = data.get(name)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _envelope_error(path, f"{name} is {value!r}")
    return value


def parse_page(path: str, data: Any, *, requested_index: int, requested_size: int | None = None) -> Page:
    """Validate the documented envelope (`result`, `pageSize`, `pageIndex`, `totalRecordsFound`,
    `totalPages`) and return it as a `Page`.

    Pages after the first are requested with the first page's applied size; a server that applies
    another size mid-listing would make the page offsets skip or repeat records, so that is an error.
    """
    if not isinstance(data, Mapping):
        raise _envelope_error(path, f"the body is a {type(data).__name__}, not an object")
    items = data.get("result")
    if not isinstance(items, list):
        raise _envelope_error(path, "there is no `result` list")
    size = _count(data, "pageSize", path)
    total = _count(data, "totalRecordsFound", path)
    assert size is not None and total is not None
    index = _count(data, "pageIndex", path, required=False)
    pages = _count(data, "totalPages", path, required=False)
    if index is not None and index != requested_index:
        raise _envelope_error(path, f"asked for page {requested_index}, got page {index}")
    if size == 0 and (total or items):
        raise _envelope_error(path, "pageSize is 0 but there are records")
    if pages is None:
        pages = math.ceil(total / size) if size else 0
    if len(items) > size:
        raise _envelope_error(path, f"{len(items)} items on a page of {size}")
    if requested_index > 0 and requested_size is not None and size != requested_size and requested_index + 1 < pages:
        raise _envelope_error(
            path,
            f"page {requested_index} was asked with pageSize {requested_size} but has pageSize {size}; "
            "the server changed its page size during the listing, so records would be skipped or repeated",
        )
    return Page(index=requested_index, items=items, page_size=size, total_records=total, total_pages=pages)


def remaining_pages(first: Page) -> range:
    """Indexes still to fetch after the first page (requested with the first page's applied size);
    the plan is fixed by the first page, so a listing that changes under us cannot loop."""
    return range(first.index + 1, first.total_pages)


class ListingCheck:
    """What a listing promised on its first page against what it delivered.

    Sequential and parallel walks both fetch exactly the pages the first page announced, so they
    give the same records; a short page before the last, a total that changes mid-listing, or fewer
    records than the first page's total are problems, logged as one warning with the numbers.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.first: Page | None = None
        self.records = 0
        self.problems: list[str] = []

    def add(self, page: Page) -> Page:
        """Count the page in; returns it, so a walk can check each page as it passes it on."""
        first = self.first = self.first or page
        self.records += len(page.items)
        if page.total_records != first.total_records:
            self.problems.append(
                f"the total went from {first.total_records} to {page.total_records} records at page {page.index}"
            )
        if page.index + 1 < first.total_pages and len(page.items) < first.page_size:
            self.problems.append(
                f"page {page.index} of {first.total_pages} held {len(page.items)} of {first.page_size} records"
            )
        return page

    def finish(self) -> list[str]:
        """The problems, once the last page was seen (logged here, so every caller gets the warning)."""
        promised = self.first.total_records if self.first else 0
        if self.records < promised:
            self.problems.append(f"{self.records} of the {promised} records promised were listed")
        if self.problems:
            log.warning("SimpleStore listing GET %s is incomplete: %s", self.path, "; ".join(self.problems))
        return self.problems
