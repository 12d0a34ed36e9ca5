"""HTTP plumbing shared by every route: problem responses, JSON in and out, query parsing, paging."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any, TypeVar
from urllib.parse import parse_qsl

import msgspec
from starlette.requests import Request
from starlette.responses import Response

T = TypeVar("T")

JSON = "application/json"
PROBLEM_JSON = "application/problem+json"

_encoder = msgspec.json.Encoder()
encode = _encoder.encode

TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class ApiError(Exception):
    """Raised by route code; answered as an RFC 7807 problem body with this status."""

    def __init__(self, status: int, detail: str, *, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = dict(headers or {})


def not_found(kind: str, key: str) -> ApiError:
    return ApiError(404, f"{kind} {key!r} was not found")


def bad_request(detail: str) -> ApiError:
    return ApiError(400, detail)


def conflict(detail: str) -> ApiError:
    return ApiError(409, detail)


def problem_body(status: int, detail: str, instance: str) -> bytes:
    return encode(
        {
            "type": "about:blank",
            "title": TITLES.get(status, "Error"),
            "status": status,
            "detail": detail,
            "instance": instance,
        }
    )


def problem(status: int, detail: str, instance: str, headers: Mapping[str, str] | None = None) -> Response:
    return Response(problem_body(status, detail, instance), status, headers=headers, media_type=PROBLEM_JSON)


def json_response(value: Any, status: int = 200) -> Response:
    return Response(encode(value), status, media_type=JSON)


def raw_json(body: bytes, status: int = 200) -> Response:
    return Response(body, status, media_type=JSON)


def empty(status: int = 200) -> Response:
    return Response(b"", status)


# ---- request bodies ------------------------------------------------------------------------------


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refusing (413) anything larger than `limit` even without a Content-Length."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, f"request body is larger than the sandbox limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(request: Request, schema: type[T], limit: int) -> T:
    """Decode and validate a JSON body against a msgspec schema; any problem is a 400 naming it."""
    value = await read_optional_json(request, schema, limit)
    if value is None:
        raise bad_request("request body is empty; a JSON object is required")
    return value


async def read_optional_json(request: Request, schema: type[T], limit: int) -> T | None:
    """Like `read_json`, but an empty body is allowed (returns None)."""
    content_type = request.headers.get("content-type", "")
    body = await read_body(request, limit)
    if not body.strip():
        return None
    if content_type and "json" not in content_type.lower():
        raise ApiError(415, f"request body must be application/json, got {content_type!r}")
    try:
        return msgspec.json.decode(body, type=schema)
    except msgspec.ValidationError as exc:
        raise bad_request(f"invalid request body: {exc}") from None
    except msgspec.DecodeError as exc:
        raise bad_request(f"malformed JSON body: {exc}") from None
    except RecursionError:  # free-form fields (attributes) decode recursively
        raise bad_request("JSON body is nested too deeply") from None


# ---- query strings -------------------------------------------------------------------------------


class Query:
    """Query parameters with case-insensitive names (`PageSize` == `pageSize`); repeats kept in order."""

    __slots__ = ("_values",)

    def __init__(self, raw: bytes | str) -> None:
        text = raw.decode("latin-1") if isinstance(raw, bytes) else raw
        values: dict[str, list[str]] = {}
        for key, value in parse_qsl(text, keep_blank_values=True):
            values.setdefault(key.lower(), []).append(value)
        self._values = values

    @classmethod
    def of(cls, request: Request) -> Query:
        return cls(request.scope.get("query_string", b""))

    def get(self, name: str) -> str | None:
        values = self._values.get(name.lower())
        return values[-1] if values else None

    def get_all(self, name: str) -> list[str]:
        """Every value of a repeated parameter; `a,b` in one value also counts as two."""
        out: list[str] = []
        for value in self._values.get(name.lower(), ()):
            out.extend(part.strip() for part in value.split(",") if part.strip())
        return out

    def get_int(self, name: str, default: int, *, minimum: int) -> int:
        value = self.get(name)
        if value is None or value == "":
            return default
        try:
            number = int(value.strip())
        except ValueError:
            raise bad_request(f"query parameter {name} must be an integer, got {value!r}") from None
        if number < minimum:
            raise bad_request(f"query parameter {name} must be at least {minimum}, got {number}")
        return number

    def get_bool(self, name: str, default: bool | None = None) -> bool | None:
        value = self.get(name)
        if value is None or value == "":
            return default
        lowered = value.strip().lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
        raise bad_request(f"query parameter {name} must be true or false, got {value!r}")

    def get_datetime(self, name: str) -> str | None:
        """A datetime filter, normalised to the stored `...Z` text form so strings compare in order."""
        value = self.get(name)
        if value is None or value == "":
            return None
        return format_utc(parse_datetime(value.replace(" ", "+"), f"query parameter {name}"))


def parse_datetime(value: str, what: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise bad_request(f"{what} must be an ISO 8601 datetime, got {value!r}") from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=timezone.utc)
    try:
        return parsed.astimezone(timezone.utc)
    except OverflowError:
        raise bad_request(f"{what} is out of range once converted to UTC, got {value!r}") from None


def format_utc(value: datetime) -> str:
    """`2020-04-29T10:02:03.212Z`: the platform's timestamp form (UTC, milliseconds)."""
    value = value.astimezone(timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


# ---- paging --------------------------------------------------------------------------------------

DEFAULT_PAGE_SIZE = 10


def paging(query: Query, max_page_size: int) -> tuple[int, int]:
    """(applied page size, page index): the size is capped at `max_page_size`, never an error."""
    size = query.get_int("PageSize", DEFAULT_PAGE_SIZE, minimum=1)
    index = query.get_int("PageIndex", 0, minimum=0)
    return min(size, max_page_size), index


def page_bytes(items: Iterable[bytes], total: int, size: int, index: int) -> bytes:
    """The documented envelope around already-encoded items, joined without re-encoding them."""
    result = list(items)
    pages = math.ceil(total / size) if total else 0
    return b"".join(
        (
            b'{"result":[',
            b",".join(result),
            b'],"pageSize":%d,"pageIndex":%d,"totalRecordsFound":%d,"resultCount":%d,'
            b'"totalPages":%d,"queryDurationMilliseconds":0}' % (size, index, total, len(result), pages),
        )
    )
