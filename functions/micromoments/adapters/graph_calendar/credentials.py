"""How the app registration proves itself at Entra ID's token endpoint: a client secret, or
a certificate (Microsoft's recommended credential).

With a certificate, each token request carries a fresh client assertion (RFC 7523, the
``private_key_jwt`` of the Microsoft identity platform): a JWT signed with the
certificate's private key, header ``alg`` RS256, ``typ`` JWT and ``x5t`` (the base64url
SHA-1 thumbprint of the certificate's DER, which tells Entra which of the app's
certificates to verify with); claims ``aud`` (the token endpoint's URL), ``iss`` = ``sub``
= the client id, ``jti``, ``nbf`` = ``iat`` = now and ``exp`` ten minutes on
(docs/decisions.md, "Certificate credentials"). google-auth signs it; it and
`cryptography` load only when a certificate is configured.

The Graph secret in Secrets Manager holds the client secret's value as Entra shows it
(the first shape, still read), or a JSON object: ``{"client_secret": …}`` or
``{"certificate_pem": …, "private_key_pem": …}`` (an unencrypted PEM RSA key of 2048 bits
or more). A malformed secret is a `SecretError` naming what is wrong, never its content.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_LIFETIME_S = 600  # Entra: expire 5 to 10 minutes after nbf
MIN_KEY_BITS = 2048


class AppCredential(Protocol):
    def form(self, client_id: str, token_url: str) -> dict[str, str]:
        """The fields that authenticate the app in a token request to ``token_url``."""
        ...


@dataclass(frozen=True, slots=True)
class ClientSecret:
    """The app's client secret (its value, as Entra shows it once)."""

    value: str

    def __repr__(self) -> str:
        return "ClientSecret(<hidden>)"

    def form(self, client_id: str, token_url: str) -> dict[str, str]:
        return {"client_secret": self.value}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class ClientCertificate:
    """A certificate uploaded to the app registration and its private key (PEM); a
    `ValueError` naming what is wrong (never the key) when they are unusable."""

    def __init__(self, certificate_pem: str, private_key_pem: str) -> None:
        from cryptography import x509
        from cryptography.exceptions import InternalError, InvalidSignature, UnsupportedAlgorithm
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import padding, rsa
        from google.auth import crypt

        try:
            certificate = x509.load_pem_x509_certificate(certificate_pem.encode())
        except ValueError:
            raise ValueError("certificate_pem is not a PEM X.509 certificate") from None
        try:  # the key is ours: its costly check (~80 ms at each cold start) gives way to
            # one signature checked with the certificate, below (~1 ms)
            key = serialization.load_pem_private_key(
                private_key_pem.encode(), password=None, unsafe_skip_rsa_key_validation=True
            )
        except (ValueError, TypeError, UnsupportedAlgorithm):
            raise ValueError("private_key_pem is not an unencrypted PEM private key") from None
        if not isinstance(key, rsa.RSAPrivateKey) or key.key_size < MIN_KEY_BITS:
            raise ValueError(f"private_key_pem is not an RSA key of {MIN_KEY_BITS} bits or more")
        public = certificate.public_key()
        try:
            if not isinstance(public, rsa.RSAPublicKey):
                raise InvalidSignature
            probe = b"micromoments: does the key sign for the certificate?"
            sign = (padding.PKCS1v15(), hashes.SHA256())
            public.verify(key.sign(probe, *sign), probe, *sign)
        except (InvalidSignature, InternalError, ValueError):
            raise ValueError("private_key_pem does not belong to certificate_pem") from None
        der = serialization.Encoding.DER
        # x5t names the certificate among the app's; the signature itself is SHA-256.
        self.thumbprint = b64url(hashlib.sha1(certificate.public_bytes(der)).digest())
        self._signer = crypt.RSASigner(key)  # type: ignore[no-untyped-call]

    def __repr__(self) -> str:
        return f"ClientCertificate(x5t={self.thumbprint})"

    def assertion(self, client_id: str, token_url: str, *, now: float | None = None) -> str:
        """A signed client assertion for one token request to ``token_url``."""
        from google.auth import jwt

        issued = int(time.time() if now is None else now)
        claims = {
            "aud": token_url,
            "iss": client_id,
            "sub": client_id,
            "jti": str(uuid.uuid4()),
            "nbf": issued,
            "iat": issued,
            "exp": issued + ASSERTION_LIFETIME_S,
        }
        header = {"alg": "RS256", "x5t": self.thumbprint}
        signed: bytes = jwt.encode(self._signer, claims, header=header)  # type: ignore[no-untyped-call]
        return signed.decode("ascii")

    def form(self, client_id: str, token_url: str) -> dict[str, str]:
        return {
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": self.assertion(client_id, token_url),
        }


def graph_credential(text: str, secret_id: str) -> ClientSecret | ClientCertificate:
    """The credential the Graph secret's text holds (the module docstring's shapes)."""
    from micromoments.adapters.secrets import SecretError

    text = text.strip()
    if not text:
        raise SecretError(f"secret {secret_id!r} is empty")
    wrong = (
        f"secret {secret_id!r} holds neither a client_secret nor a certificate_pem and a "
        "private_key_pem (docs/deploy.md, Microsoft 365)"
    )
    if text.startswith("-----BEGIN"):  # a PEM alone: never send it as a client secret
        raise SecretError(f"{wrong}, but a PEM block alone")
    if text[0] not in '{["':  # an Entra secret's value never starts with one of them
        return ClientSecret(text)  # the first shape: the client secret's value alone
    try:
        data: Any = json.loads(text)
    except ValueError:
        raise SecretError(f"secret {secret_id!r} looks like JSON but is not JSON") from None
    if not isinstance(data, dict):
        raise SecretError(wrong)
    fields = {k: v for k, v in data.items() if isinstance(v, str) and v.strip()}
    certificate = {"certificate_pem", "private_key_pem"} & fields.keys()
    if "client_secret" in fields and certificate:
        raise SecretError(f"secret {secret_id!r} holds a client_secret and a certificate: keep one")
    if "client_secret" in fields:
        return ClientSecret(fields["client_secret"].strip())
    if len(certificate) != 2:
        raise SecretError(wrong)
    try:
        return ClientCertificate(fields["certificate_pem"], fields["private_key_pem"])
    except ValueError as exc:
        raise SecretError(f"secret {secret_id!r}: {exc}") from None


def read_graph_credential(
    secret_id: str, client: SecretsManagerClient | None = None
) -> ClientSecret | ClientCertificate:
    """The app's credential from the Graph secret in Secrets Manager."""
    from micromoments.adapters.secrets import read_secret

    return graph_credential(read_secret(secret_id, client=client), secret_id)
