"""A secret echoed in another encoding than the one it was sent in is scrubbed too.

Servers echo what they parsed: a client secret holding `"` or `\\` comes back JSON-escaped inside
a JSON body (`\\"`, `\\\\`), and a form echo may carry the URL-encoded value without its
`client_secret=` name. Both must be scrubbed from every error field and message, on both hooks.
A small platform on 127.0.0.1 echoes them (the sandbox never echoes a secret).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qsl, quote

import pytest

from airflow_provider_simplestore.client.redaction import redact
from airflow_provider_simplestore.exceptions import SimpleStoreError
from tests.local_server import LocalServer, Reply, Seen, token_reply

SECRET = 'qu"ote\\back/slash sp!ce-9f2c71'
TOKEN = "tok-7d1e5c0a9b4f3e2d"


def _form_value(body: bytes) -> str:
    """The client secret exactly as it went over the wire (URL-encoded), without its name."""
    raw = body.decode()
    return next(part.split("=", 1)[1] for part in raw.split("&") if part.startswith("client_secret="))


def respond(request: Seen) -> Reply:
    path = request.path.split("?")[0]
    if path == "/connect/token":
        return token_reply(TOKEN)
    if path == "/connect/token-json-echo":  # the parsed form, echoed as JSON: the secret JSON-escaped
        return Reply(500, {"received": dict(parse_qsl(request.body.decode()))})
    if path == "/connect/token-form-echo":  # the raw value, URL-encoded, with no field name before it
        return Reply(400, f"could not verify {_form_value(request.body)} for this client")
    if path == "/v1/json-echo":
        return Reply(502, {"message": f"upstream said {SECRET}"})
    if path == "/v1/problem-echo":
        return Reply(400, {"title": "Bad request", "detail": f"rejected {quote(SECRET, safe='')}"})
    return Reply(404, {"title": "Not Found"})


@pytest.fixture
def echo_conn(sandbox: Any, connect: Callable[..., str]) -> Iterator[Callable[[str], str]]:
    with LocalServer(respond) as server:
        yield lambda auth_path: connect(
            sandbox, host=server.url, password=SECRET, auth_url=server.url + auth_path, max_retries=0
        )


def texts(error: BaseException) -> str:
    fields = {k: v for k, v in vars(error).items() if isinstance(v, str)}
    return " ".join([str(error), repr(error), json.dumps(fields, ensure_ascii=False)])


def echoes(text: str) -> list[str]:
    """Which encodings of the secret are in `text` (the secret's distinctive middle part)."""
    forms = {
        "plain": "ote\\back/slash",
        "json": json.dumps(SECRET)[4:-6],
        "url": quote(SECRET, safe="")[4:-6],
        "form": quote(SECRET, safe="").replace("%20", "+")[4:-6],
    }
    return [name for name, form in forms.items() if form in text]


@pytest.mark.parametrize(
    ("auth_path", "route"),
    [
        ("/connect/token-json-echo", None),
        ("/connect/token-form-echo", None),
        ("/connect/token", "/v1/json-echo"),
        ("/connect/token", "/v1/problem-echo"),
    ],
)
def test_an_escaped_or_encoded_echo_of_the_secret_is_scrubbed(
    echo_conn: Callable[[str], str], client: Callable[..., Any], auth_path: str, route: str | None
) -> None:
    c = client(echo_conn(auth_path))
    with pytest.raises(SimpleStoreError) as caught:
        c.call("request", "GET", route or "/v1/products")
    text = texts(caught.value)
    assert not echoes(text), text
    assert "***" in text, f"nothing was scrubbed, the echo was dropped: {text}"


ACCENTED = 'clé/"sécrète\\x'
ENCODINGS = {
    "json": json.dumps(SECRET)[1:-1],
    "json-ascii-slash": json.dumps(ACCENTED)[1:-1].replace("/", "\\/"),  # \u00e9 and \/ as PHP writes them
    "json-utf8": json.dumps(ACCENTED, ensure_ascii=False)[1:-1],
    "percent": quote(SECRET, safe=""),
    "percent-utf8": quote(ACCENTED, safe=""),
    "percent-partial-lowercase": quote(SECRET, safe="!/").lower(),  # JavaScript leaves `!` alone
    "form": quote(SECRET, safe="").replace("%20", "+"),
}


@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
def test_redact_knows_each_encoding_of_a_secret(encoding: str) -> None:
    secret = ACCENTED if "utf8" in encoding or "ascii" in encoding else SECRET
    assert redact(f"before {ENCODINGS[encoding]} after", [secret]) == "before *** after"
