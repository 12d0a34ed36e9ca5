"""`POST /connect/token`: OAuth2 client credentials, answered exactly like the platform's token server."""

from __future__ import annotations

import base64
import binascii
import secrets
from urllib.parse import parse_qsl, unquote

from starlette.requests import Request
from starlette.responses import Response

from airflow_provider_simplestore.sandbox.routes import Api
from airflow_provider_simplestore.sandbox.state import SandboxState
from airflow_provider_simplestore.sandbox.web import ApiError, json_response, read_body

FORM = "application/x-www-form-urlencoded"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def oauth_error(code: str, status: int = 400) -> Response:
    response = json_response({"error": code}, status)
    response.headers.update(NO_STORE)
    return response


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    return (unquote(client_id), unquote(secret)) if sep else None


def register(api: Api, state: SandboxState) -> None:
    @api.route("POST", "/connect/token")
    async def token(request: Request) -> Response:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        try:
            body = await read_body(request, state.options.max_body_bytes)
        except ApiError:
            return oauth_error("invalid_request", 413)
        if content_type != FORM:
            return oauth_error("invalid_request")
        try:
            form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body)))
        except (UnicodeDecodeError, ValueError):
            return oauth_error("invalid_request")
        grant_type = form.get("grant_type")
        if not grant_type:
            return oauth_error("invalid_request")
        if grant_type != "client_credentials":
            return oauth_error("unsupported_grant_type")
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        basic = _basic_credentials(request)
        if basic and not (client_id or client_secret):
            client_id, client_secret = basic
        if not client_id or not client_secret:
            return oauth_error("invalid_request")
        options = state.options
        good_id = secrets.compare_digest(client_id.encode(), options.client_id.encode())
        good_secret = secrets.compare_digest(client_secret.encode(), options.client_secret.encode())
        if not (good_id and good_secret):
            return oauth_error("invalid_client")
        state.stats.token_grants += 1
        response = json_response(
            {
                "access_token": state.tokens.issue(),
                "expires_in": max(1, round(options.token_ttl)),
                "token_type": "Bearer",
            }
        )
        response.headers.update(NO_STORE)
        return response
