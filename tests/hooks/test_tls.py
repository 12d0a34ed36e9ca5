"""TLS against a real https:// sandbox with a private CA: the `verify` / `ca_bundle` extras must
reach every request (token and API, both hooks), not only pass validation."""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_simplestore.exceptions import SimpleStoreTransportError
from airflow_provider_simplestore.hooks.simplestore import SimpleStoreHook


def write_private_ca(folder: Path) -> tuple[Path, Path, Path]:
    """(ca.pem, server.pem, server.key): a CA and a 127.0.0.1 server certificate it signed."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.timezone.utc)
    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "SimpleStore test CA")])

    def builder(subject: x509.Name, key: Any) -> x509.CertificateBuilder:
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        )

    usage = dict.fromkeys(
        (
            "content_commitment",
            "key_encipherment",
            "data_encipherment",
            "key_agreement",
            "encipher_only",
            "decipher_only",
        ),
        False,
    )
    ca = (
        builder(ca_name, ca_key)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(digital_signature=False, key_cert_sign=True, crl_sign=True, **usage), critical=True
        )
        .sign(ca_key, hashes.SHA256())
    )
    server = (
        builder(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]), server_key)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(digital_signature=True, key_cert_sign=False, crl_sign=False, **usage), critical=True
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(server.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return paths


@pytest.fixture(scope="module")
def ca_bundle(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    return write_private_ca(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def https_sandbox(ca_bundle: tuple[Path, Path, Path]) -> Iterator[Any]:
    from airflow_provider_simplestore.sandbox import run_sandbox

    _, cert, key = ca_bundle
    with run_sandbox(seed=3, products=7, customers=2, orders=3, ssl_certfile=str(cert), ssl_keyfile=str(key)) as sb:
        assert sb.url.startswith("https://127.0.0.1:")
        yield sb


def test_the_ca_bundle_is_used_for_the_token_and_the_api(
    https_sandbox: Any, ca_bundle: Any, connect: Callable[..., str], client: Callable
) -> None:
    before = https_sandbox.stats()
    c = client(connect(https_sandbox, ca_bundle=str(ca_bundle[0])))
    assert c.call("count", "/v1/products") == 7
    after = https_sandbox.stats()
    assert after["token_requests"] == before["token_requests"] + 1
    assert after["requests"]["GET /v1/products"] == before["requests"].get("GET /v1/products", 0) + 1


def test_verify_may_name_the_ca_bundle(
    https_sandbox: Any, ca_bundle: Any, connect: Callable[..., str], client: Callable
) -> None:
    assert client(connect(https_sandbox, verify=str(ca_bundle[0]))).call("count", "/v1/products") == 7


@pytest.mark.filterwarnings("ignore:Unverified HTTPS request")
def test_verify_false_accepts_any_certificate(
    https_sandbox: Any, connect: Callable[..., str], client: Callable
) -> None:
    assert client(connect(https_sandbox, verify=False)).call("count", "/v1/products") == 7


def test_without_the_ca_bundle_the_certificate_is_refused(
    https_sandbox: Any, connect: Callable[..., str], client: Callable
) -> None:
    before = https_sandbox.stats()["token_requests"]
    with pytest.raises(SimpleStoreTransportError) as caught:
        client(connect(https_sandbox)).call("count", "/v1/products")
    assert caught.value.reason == "tls" and not caught.value.request_sent
    assert "verify/ca_bundle" in str(caught.value)
    assert https_sandbox.stats()["token_requests"] == before  # refused before any secret was sent


def test_test_connection_names_tls(https_sandbox: Any, ca_bundle: Any, connect: Callable[..., str]) -> None:
    ok, message = SimpleStoreHook(connect(https_sandbox)).test_connection()
    assert not ok and "TLS handshake failed" in message
    ok, message = SimpleStoreHook(connect(https_sandbox, ca_bundle=str(ca_bundle[0]))).test_connection()
    assert ok and "7 products visible" in message, message


def test_the_sandbox_refuses_half_a_tls_setup(ca_bundle: Any) -> None:
    from airflow_provider_simplestore.sandbox import run_sandbox

    with (
        pytest.raises(ValueError, match="both ssl_certfile and ssl_keyfile"),
        run_sandbox(ssl_certfile=str(ca_bundle[1])),
    ):
        pass
    with (
        pytest.raises(ValueError, match="thread mode"),
        run_sandbox(subprocess=True, ssl_certfile=str(ca_bundle[1]), ssl_keyfile=str(ca_bundle[2])),
    ):
        pass
