"""The Graph app's credential: the client assertion a certificate signs (RFC 7523, as the
Microsoft identity platform reads it) and the shapes the Graph secret may hold."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from micromoments.adapters.graph_calendar import ClientCertificate, ClientSecret
from micromoments.adapters.graph_calendar.credentials import ASSERTION_TYPE, graph_credential
from micromoments.adapters.secrets import SecretError
from tests.certificates import private_key_pem, self_signed

TOKEN_URL = "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
CLIENT_ID = "00000000-0000-0000-0000-0000000000a1"
NOW = 1_900_000_000  # given, so nothing here reads the wall clock


@pytest.fixture(scope="module")
def pems() -> tuple[str, str]:
    return self_signed()


def segment(text: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))


def test_the_assertion_is_an_rs256_jwt_for_the_token_endpoint(pems: tuple[str, str]) -> None:
    certificate_pem, key_pem = pems
    assertion = ClientCertificate(certificate_pem, key_pem).assertion(CLIENT_ID, TOKEN_URL, now=NOW)
    head, body, signature = assertion.split(".")
    certificate = x509.load_pem_x509_certificate(certificate_pem.encode())
    public = certificate.public_key()
    assert isinstance(public, rsa.RSAPublicKey)
    public.verify(  # raises InvalidSignature when it does not verify
        base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)),
        f"{head}.{body}".encode(),
        padding.PKCS1v15(),
        hashes.SHA256(),
    )
    der = certificate.public_bytes(serialization.Encoding.DER)
    x5t = base64.urlsafe_b64encode(hashlib.sha1(der).digest()).rstrip(b"=").decode()
    assert segment(head) == {"alg": "RS256", "typ": "JWT", "x5t": x5t}
    claims = segment(body)
    assert {k: v for k, v in claims.items() if k != "jti"} == {
        "aud": TOKEN_URL,
        "iss": CLIENT_ID,
        "sub": CLIENT_ID,
        "nbf": NOW,
        "iat": NOW,
        "exp": NOW + 600,
    }
    assert len(claims["jti"]) == 36  # a GUID


def test_every_token_request_gets_a_fresh_assertion(pems: tuple[str, str]) -> None:
    credential = ClientCertificate(*pems)
    first, second = (credential.form(CLIENT_ID, TOKEN_URL) for _ in range(2))
    assert first["client_assertion_type"] == ASSERTION_TYPE
    assert (
        segment(first["client_assertion"].split(".")[1])["jti"]
        != (segment(second["client_assertion"].split(".")[1])["jti"])
    )
    assert "client_secret" not in first


def test_the_first_shape_of_the_secret_is_still_a_client_secret() -> None:
    found = graph_credential("abc8Q~secret-value\n", "mm/graph")
    assert found == ClientSecret("abc8Q~secret-value")
    found = graph_credential(json.dumps({"client_secret": "abc8Q~other"}), "mm/graph")
    assert found == ClientSecret("abc8Q~other")
    assert "abc8Q" not in repr(found)
    assert found.form(CLIENT_ID, TOKEN_URL) == {"client_secret": "abc8Q~other"}


def test_a_certificate_in_the_secret(pems: tuple[str, str]) -> None:
    certificate_pem, key_pem = pems
    text = json.dumps({"certificate_pem": certificate_pem, "private_key_pem": key_pem})
    found = graph_credential(text, "mm/graph")
    assert isinstance(found, ClientCertificate)
    assert "PRIVATE" not in repr(found)


def malformed(pems: tuple[str, str]) -> list[tuple[str, str]]:
    certificate_pem, key_pem = pems
    other_key = private_key_pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    small_certificate, small_key = self_signed(key_bits=1024)
    ours = serialization.load_pem_private_key(key_pem.encode(), password=None)
    assert isinstance(ours, rsa.RSAPrivateKey)
    right = ours.private_numbers()
    broken = rsa.RSAPrivateNumbers(  # the certificate's modulus, wrong private exponents
        right.p, right.q, right.d + 2, right.dmp1 + 2, right.dmq1 + 2, right.iqmp,
        right.public_numbers,
    )  # fmt: skip
    corrupted = private_key_pem(broken.private_key(unsafe_skip_rsa_key_validation=True))
    encrypted = (
        serialization.load_pem_private_key(key_pem.encode(), password=None)
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"passphrase"),
        )
        .decode()
    )

    def both(certificate: str, key: str) -> str:
        return json.dumps({"certificate_pem": certificate, "private_key_pem": key})

    return [
        ("{" + key_pem, "looks like JSON but is not JSON"),
        (key_pem, "holds neither a client_secret nor a certificate_pem and a private_key_pem"),
        (json.dumps([key_pem]), "holds neither a client_secret nor a certificate_pem"),
        (json.dumps({"private_key_pem": key_pem}), "holds neither"),
        (json.dumps({"certificate_pem": certificate_pem, "private_key_pem": ""}), "neither"),
        (json.dumps({"client_secret": 42}), "holds neither"),
        (
            json.dumps({"client_secret": "abc8Q~x", "certificate_pem": certificate_pem}),
            "holds a client_secret and a certificate: keep one",
        ),
        (both(key_pem, key_pem), "certificate_pem is not a PEM X.509 certificate"),
        (both(certificate_pem, certificate_pem), "private_key_pem is not an unencrypted PEM"),
        (both(certificate_pem, encrypted), "private_key_pem is not an unencrypted PEM"),
        (both(certificate_pem, other_key), "private_key_pem does not belong to certificate_pem"),
        (both(certificate_pem, corrupted), "private_key_pem does not belong to certificate_pem"),
        (both(small_certificate, small_key), "not an RSA key of 2048 bits or more"),
    ]


def test_a_malformed_secret_is_named_clearly_and_never_shown(pems: tuple[str, str]) -> None:
    key_body = pems[1].splitlines()[1]
    for text, reason in malformed(pems):
        with pytest.raises(SecretError) as caught:
            graph_credential(text, "mm/graph")
        message = str(caught.value)
        assert reason in message and "'mm/graph'" in message
        assert key_body not in message and "abc8Q" not in message
        error = caught.value  # no chained error (a parser's message) under it
        assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)
