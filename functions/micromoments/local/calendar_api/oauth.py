"""The OAuth 2.0 token endpoint of the local server: the JWT bearer grant that
``google.oauth2.service_account.Credentials`` sends for domain-wide delegation."""

from __future__ import annotations

import base64
import functools
import json
import secrets
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from google.auth import crypt

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
SCOPE_PREFIX = "https://www.googleapis.com/auth/"
# The only scopes delegation grants here (DESIGN.md "Google access and its blast radius").
ALLOWED_SCOPES = frozenset(
    SCOPE_PREFIX + name
    for name in ("calendar.events.owned", "calendar.events.freebusy", "calendar.settings.readonly")
)
# google-auth always signs for Google's endpoint, whatever the key's token_uri says.
GOOGLE_AUDIENCES = frozenset(
    {
        "https://oauth2.googleapis.com/token",
        "https://accounts.google.com/o/oauth2/token",
        "https://www.googleapis.com/oauth2/v4/token",
    }
)
SERVICE_ACCOUNT_EMAIL = "micromoments-local@micromoments-local.iam.gserviceaccount.com"
TOKEN_LIFETIME_S = 3600
_MAX_ASSERTION_LIFETIME_S = 3600
_CLOCK_SKEW_S = 300


class GrantError(Exception):
    """A refused grant: ``error`` is the OAuth error code Google answers."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


@dataclass(frozen=True, slots=True)
class ServiceAccountKey:
    """A generated RSA 2048 service-account key."""

    private_key_pem: str
    key_id: str
    client_email: str
    client_id: str
    public_key: rsa.RSAPublicKey

    def info(self, token_uri: str) -> dict[str, str]:
        """The JSON key file Google would hand out."""
        return {
            "type": "service_account",
            "project_id": "micromoments-local",
            "private_key_id": self.key_id,
            "private_key": self.private_key_pem,
            "client_email": self.client_email,
            "client_id": self.client_id,
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": token_uri,
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/"
            + self.client_email.replace("@", "%40"),
            "universe_domain": "googleapis.com",
        }


@functools.lru_cache(maxsize=16)
def signer(private_key_pem: str, key_id: str) -> crypt.RSASigner:
    """The signer of a key, loaded once: loading an RSA key checks it, which costs more
    CPU than the signature (signJwt and the consent's ID tokens sign with the same few)."""
    loaded: crypt.RSASigner = crypt.RSASigner.from_string(private_key_pem, key_id)  # type: ignore[no-untyped-call]
    return loaded


def generate_key() -> ServiceAccountKey:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return ServiceAccountKey(
        private_key_pem=pem,
        key_id=secrets.token_hex(20),
        client_email=SERVICE_ACCOUNT_EMAIL,
        client_id=str(100_000_000_000_000_000_000 + secrets.randbelow(10**20)),
        public_key=private.public_key(),
    )


@dataclass(frozen=True, slots=True)
class AccessToken:
    """What an issued access token stands for."""

    subject: str | None
    scopes: frozenset[str]
    expires_at: float


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def key_for(assertion: str, keys: list[ServiceAccountKey]) -> ServiceAccountKey | None:
    """The service account's key the assertion's header names (``kid``), else the first
    (which then fails verification with Google's answer)."""
    try:
        header = json.loads(_b64decode(assertion.split(".", maxsplit=1)[0]))
        kid = header.get("kid") if isinstance(header, dict) else None
    except (ValueError, TypeError):
        kid = None
    return next((key for key in keys if key.key_id == kid), keys[0] if keys else None)


def verify_assertion(
    assertion: str, key: ServiceAccountKey, token_uri: str, now: float
) -> dict[str, Any]:
    """The claims of a signed JWT assertion, or GrantError as Google would answer."""
    try:
        header_b64, payload_b64, signature_b64 = assertion.split(".")
        header = json.loads(_b64decode(header_b64))
        claims = json.loads(_b64decode(payload_b64))
        signature = _b64decode(signature_b64)
    except (ValueError, TypeError) as error:
        raise GrantError("invalid_grant", "Invalid JWT: malformed assertion.") from error
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise GrantError("invalid_grant", "Invalid JWT: malformed assertion.")
    if header.get("alg") != "RS256":
        raise GrantError("invalid_grant", "Invalid JWT: the algorithm must be RS256.")
    if header.get("kid") not in (None, key.key_id):
        raise GrantError("invalid_grant", "Invalid JWT Signature.")
    try:
        key.public_key.verify(
            signature,
            f"{header_b64}.{payload_b64}".encode(),
            padding.PKCS1v15(),
            hashes.SHA256(),
        )
    except InvalidSignature as error:
        raise GrantError("invalid_grant", "Invalid JWT Signature.") from error
    if claims.get("iss") != key.client_email:
        raise GrantError("invalid_grant", "Invalid JWT: unknown issuer.")
    if claims.get("aud") not in GOOGLE_AUDIENCES | {token_uri}:
        raise GrantError(
            "invalid_grant",
            f"Invalid JWT: Failed audience check. The expected audience is {token_uri}.",
        )
    try:
        issued, expires = float(claims["iat"]), float(claims["exp"])
    except (KeyError, TypeError, ValueError) as error:
        raise GrantError("invalid_grant", "Invalid JWT: iat and exp are required.") from error
    if (
        expires - issued > _MAX_ASSERTION_LIFETIME_S
        or issued > now + _CLOCK_SKEW_S
        or expires < now - _CLOCK_SKEW_S
    ):
        raise GrantError(
            "invalid_grant",
            "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable "
            "timeframe. Check your iat and exp values in the JWT claim.",
        )
    return claims


def requested_scopes(claims: dict[str, Any]) -> frozenset[str]:
    """The ``scope`` claim, which must be non-empty and within `ALLOWED_SCOPES`."""
    scopes = frozenset(str(claims.get("scope") or "").split())
    if not scopes:
        raise GrantError("invalid_scope", "Invalid OAuth scope or ID token audience provided.")
    broader = sorted(scopes - ALLOWED_SCOPES)
    if broader:
        raise GrantError(
            "invalid_scope",
            "Invalid OAuth scope or ID token audience provided: not granted to this client: "
            + " ".join(broader),
        )
    return scopes


def new_token() -> str:
    return "ya29.local-" + secrets.token_urlsafe(32)
