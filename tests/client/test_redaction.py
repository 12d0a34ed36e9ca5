"""client/redaction.py: redact() masks bearer tokens, token fields, form secrets, URL passwords and
the literal secrets it is given."""

from __future__ import annotations

import pytest

from airflow_provider_simplestore.client.redaction import redact


@pytest.mark.parametrize(
    ("text", "secret_part"),
    [
        ("Authorization: Bearer eyJhbGciOi.xyz-123", "eyJhbGciOi"),
        ('{"access_token": "tok-123456", "expires_in": 3600}', "tok-123456"),
        ("grant_type=client_credentials&client_id=a&client_secret=p4ssw0rd!", "p4ssw0rd"),
        ("'access_token':'zzz999'", "zzz999"),
        ("cannot reach https://client:pw-in-url@api.example.com/v1", "pw-in-url"),
    ],
)
def test_redact(text: str, secret_part: str) -> None:
    redacted = redact(text)
    assert secret_part not in redacted and "***" in redacted


def test_redact_literal_secrets_but_not_tiny_ones() -> None:
    assert redact("my secret is opensesame", ["opensesame"]) == "my secret is ***"
    assert redact("a b c", ["b"]) == "a b c"  # too short to mask safely
