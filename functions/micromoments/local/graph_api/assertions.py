"""The local Graph server's check of a client assertion (certificate credentials), as
Entra ID checks one: an RS256 JWT whose ``x5t`` names a certificate registered for the app,
signed by that certificate's key, for this token endpoint (``aud``), issued by the app
(``iss`` = ``sub`` = the client id), with a ``jti`` never seen before, inside its
``nbf``..``exp`` window (five minutes of skew) and valid for ten minutes at most (Entra
asks for 5 to 10; stricter here, to keep the client honest)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cryptography.x509 import Certificate

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
SKEW_S = 300
MAX_LIFETIME_S = 600


def thumbprint(certificate: Certificate) -> str:
    """``x5t``: the base64url SHA-1 of the certificate's DER."""
    from cryptography.hazmat.primitives.serialization import Encoding

    digest = hashlib.sha1(certificate.public_bytes(Encoding.DER)).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def load_certificate(certificate_pem: str) -> tuple[str, Certificate]:
    """A PEM certificate and its ``x5t``."""
    from cryptography import x509

    certificate = x509.load_pem_x509_certificate(certificate_pem.encode())
    return thumbprint(certificate), certificate


def _segment(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def refusal(
    assertion: str,
    *,
    certificates: Mapping[str, Certificate],
    client_id: str,
    audience: str,
    now: float,
    seen: set[str],
) -> str | None:
    """Why the assertion is refused, or None when it authenticates ``client_id`` (its
    ``jti`` then joins ``seen``)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    parts = assertion.split(".")
    if len(parts) != 3:
        return "the assertion is not a JWT"
    try:
        header: Any = json.loads(_segment(parts[0]))
        claims: Any = json.loads(_segment(parts[1]))
        signature = _segment(parts[2])
    except (ValueError, binascii.Error):
        return "the assertion is not a JWT"
    if not isinstance(header, dict) or not isinstance(claims, dict):
        return "the assertion is not a JWT"
    if header.get("alg") != "RS256":
        return "alg must be RS256"
    certificate = certificates.get(str(header.get("x5t")))
    if certificate is None:
        return "x5t names no certificate of the app"
    key = certificate.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        return "the certificate's key is not RSA"
    signed = f"{parts[0]}.{parts[1]}".encode("ascii")
    try:
        key.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return "the signature does not verify with the certificate"
    if claims.get("aud") != audience:
        return "aud is not this token endpoint"
    if claims.get("iss") != client_id or claims.get("sub") != client_id:
        return "iss and sub must be the client id"
    times = [claims.get(name) for name in ("nbf", "exp")]
    if not all(isinstance(t, int | float) and not isinstance(t, bool) for t in times):
        return "nbf and exp are required numbers"
    nbf, exp = float(times[0]), float(times[1])  # type: ignore[arg-type]
    if exp <= nbf or exp - nbf > MAX_LIFETIME_S:
        return f"the assertion must be valid for {MAX_LIFETIME_S} s at most"
    if now + SKEW_S < nbf:
        return "the assertion is not valid yet"
    if now - SKEW_S >= exp:
        return "the assertion expired"
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti:
        return "jti is required"
    if jti in seen:
        return "the assertion was used before"
    seen.add(jti)
    return None
