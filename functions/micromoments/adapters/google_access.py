"""How the functions get a delegated Google token: with a key, or keyless.

The Google secret (``MICROMOMENTS_GOOGLE_KEY_SECRET``) holds one JSON document, told apart
by its ``type`` (docs/google-access.md):

- ``service_account`` — **key**: a service-account key; google-auth signs the delegation
  JWT with it (`google.oauth2.service_account.Credentials` with a subject).
- ``external_account`` — **keyless**: the credential configuration that ``gcloud iam
  workload-identity-pools create-cred-config --service-account=…`` writes. The function's
  AWS role federates into a workload identity pool (google-auth's AWS external-account
  credentials sign a GetCallerIdentity request and exchange it at the STS endpoint), and
  impersonates the service account (``generateAccessToken``). With that token the service
  account signs the delegation JWT (``sub`` = the person, the three narrow scopes) with
  the IAM Credentials ``signJwt`` method on itself, and the JWT is exchanged at the token
  endpoint with the jwt-bearer grant, as with a key. No key exists anywhere.

Every URL comes from the configuration: the STS ``token_url`` and the impersonation URL
from the credential configuration (``signJwt`` is the impersonation URL's sibling on the
same IAM Credentials endpoint), the token endpoint from ``MICROMOMENTS_GOOGLE_TOKEN_URI``;
so the local stand-ins serve all of it on loopback.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from google.auth import _helpers, exceptions
from google.auth import credentials as google_credentials
from google.oauth2 import _client, service_account

from micromoments.ports import DelegationMisconfigured

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

__all__ = [
    "CLOUD_PLATFORM",
    "KEY",
    "KEYLESS",
    "AccessKind",
    "Federation",
    "GoogleAccess",
    "KeylessDelegation",
    "google_access",
    "read_access_info",
]

KEY = "service_account"
KEYLESS = "external_account"
# What the impersonated service account's own token may do: call signJwt on itself.
CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"
ASSERTION_LIFETIME_S = 3600  # Google accepts delegation JWTs of at most an hour
_GENERATE_ACCESS_TOKEN = ":generateAccessToken"
_RETRYABLE = frozenset({408, 429, 500, 502, 503, 504})
# Error bodies of STS and IAM Credentials that mean "try again", not "set up wrongly".
_TRANSIENT_MARKS = (
    "UNAVAILABLE", "INTERNAL", "DEADLINE_EXCEEDED", "RESOURCE_EXHAUSTED",
    "temporarily_unavailable", "server_error",
)  # fmt: skip

AccessKind = Literal["key", "keyless"]


class Federation:
    """The federated, impersonating external-account credential, shared by every subject:
    built from the credential configuration, refreshed under a lock, and built afresh when
    Google no longer accepts its tokens."""

    def __init__(self, info: Mapping[str, Any]) -> None:
        self._info = dict(info)
        self._lock = threading.Lock()
        self._credentials = _external_account(self._info)

    @property
    def service_account_email(self) -> str | None:
        email: str | None = self._credentials.service_account_email
        return email

    def authorise(self, request: Any, headers: dict[str, str]) -> None:
        """Put the service account's own token into ``headers``, federating (STS) and
        impersonating (generateAccessToken) first when it has none that is valid."""
        with self._lock:
            if not self._credentials.valid:
                self._refresh(request)
            self._credentials.apply(headers)

    def forget(self) -> None:
        """Drop every token: the next `authorise` federates again."""
        with self._lock:
            self._credentials = _external_account(self._info)

    def _refresh(self, request: Any) -> None:
        try:
            self._credentials.refresh(request)
        except (exceptions.RefreshError, exceptions.OAuthError) as exc:
            text = " ".join(str(exc).split())
            if "UNAUTHENTICATED" in text:  # a federated token Google no longer accepts
                self._credentials = _external_account(self._info)
                raise _transient(f"federation to be renewed: {text}") from None
            if any(mark in text for mark in _TRANSIENT_MARKS):
                raise _transient(f"federation failed for now: {text}") from None
            raise DelegationMisconfigured(
                f"workload identity federation or impersonation of "
                f"{self.service_account_email} refused: {text[:300]} (docs/google-access.md)"
            ) from None


class KeylessDelegation(google_credentials.Credentials):
    """A delegated token for one subject, without a key.

    ``federation`` gives the service account's own token; ``refresh`` signs the delegation
    claims with ``signJwt`` at ``sign_jwt_url`` and exchanges the JWT at ``token_uri``.
    """

    def __init__(
        self,
        federation: Federation,
        *,
        service_account_email: str,
        sign_jwt_url: str,
        token_uri: str,
        subject: str,
        scopes: Sequence[str],
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._federation = federation
        self._email = service_account_email
        self._sign_jwt_url = sign_jwt_url
        self._token_uri = token_uri
        self._subject = subject
        self._scopes = tuple(scopes)

    def refresh(self, request: Any) -> None:
        headers = {"Content-Type": "application/json"}
        self._federation.authorise(request, headers)
        now = _helpers.datetime_to_secs(_helpers.utcnow())  # type: ignore[no-untyped-call]
        claims = {
            "iss": self._email,
            "sub": self._subject,
            "scope": " ".join(self._scopes),
            "aud": self._token_uri,
            "iat": now,
            "exp": now + ASSERTION_LIFETIME_S,
        }
        assertion = self._sign_jwt(request, headers, claims)
        self.token, self.expiry, _ = _client.jwt_grant(request, self._token_uri, assertion)  # type: ignore[no-untyped-call]

    def _sign_jwt(self, request: Any, headers: Mapping[str, str], claims: Mapping[str, Any]) -> str:
        body = json.dumps({"payload": json.dumps(claims)}).encode()
        response = request(url=self._sign_jwt_url, method="POST", headers=headers, body=body)
        status = int(response.status)
        text = _text(response.data)
        if status in _RETRYABLE:
            raise _transient(f"signJwt answered {status}")
        if status == 401:  # the service account's token was revoked early: federate again
            self._federation.forget()
            raise _transient("signJwt answered 401")
        if status != 200:
            raise DelegationMisconfigured(
                f"signJwt for {self._email} refused ({status}: {_message(text)}): the service "
                "account needs roles/iam.serviceAccountTokenCreator on itself "
                "(docs/google-access.md)"
            )
        try:
            return str(json.loads(text)["signedJwt"])
        except (ValueError, KeyError, TypeError):
            raise _transient("signJwt answered without a signedJwt") from None


def _transient(message: str) -> Exception:
    """A failure worth retrying, as google-auth reports it (the gateway retries these)."""
    return exceptions.TransportError(message)  # type: ignore[no-untyped-call]


def _text(data: Any) -> str:
    return data.decode("utf-8", "replace") if isinstance(data, bytes) else str(data)


def _message(text: str) -> str:
    """Google's error message from a JSON error body (else the text, shortened)."""
    try:
        data = json.loads(text)
        error = data["error"]
        if isinstance(error, Mapping):
            return str(error.get("message") or error.get("status") or error)
        return f"{error}: {data.get('error_description', '')}".rstrip(": ")
    except (ValueError, KeyError, TypeError):
        return " ".join(text.split())[:200]


@dataclass(frozen=True, slots=True)
class GoogleAccess:
    """The configured way to Google: `credentials_for` a subject, delegated, narrow."""

    kind: AccessKind
    service_account_email: str
    token_uri: str
    scopes: tuple[str, ...]
    # key: the service-account credential; keyless: the `Federation`
    _base: Any
    detail: str
    sign_jwt_url: str = ""  # keyless only

    def credentials_for(self, subject: str) -> google_credentials.Credentials:
        if self.kind == "key":
            delegated: google_credentials.Credentials = self._base.with_subject(subject)
            return delegated
        return KeylessDelegation(
            self._base,
            service_account_email=self.service_account_email,
            sign_jwt_url=self.sign_jwt_url,
            token_uri=self.token_uri,
            subject=subject,
            scopes=self.scopes,
        )


def _sign_jwt_url(impersonation_url: str) -> str:
    return impersonation_url[: -len(_GENERATE_ACCESS_TOKEN)] + ":signJwt"


def google_access(
    info: Mapping[str, Any], *, token_uri: str, scopes: Sequence[str]
) -> GoogleAccess:
    """The access the JSON ``info`` describes; ValueError says why it is unusable."""
    kind = info.get("type")
    if kind == KEY or (kind is None and "private_key" in info):
        try:
            base = service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]
                {**info, "token_uri": token_uri}, scopes=list(scopes)
            )
        except (ValueError, KeyError) as exc:
            raise ValueError(f"the service-account key is unusable: {exc}") from None
        email = str(info["client_email"])
        return GoogleAccess(
            "key", email, token_uri, tuple(scopes), base, f"a service-account key of {email}"
        )
    if kind == KEYLESS:
        federation = Federation(info)
        impersonation = str(info.get("service_account_impersonation_url") or "")
        impersonated = federation.service_account_email
        if not impersonation.endswith(_GENERATE_ACCESS_TOKEN) or not impersonated:
            raise ValueError(
                "the credential configuration names no service account to impersonate: "
                "create it with --service-account (docs/google-access.md)"
            )
        source = "AWS" if _is_aws(info) else "an identity pool"
        return GoogleAccess(
            "keyless", impersonated, token_uri, tuple(scopes), federation,
            f"keyless: {source} federation into {info.get('audience')}, impersonating "
            f"{impersonated}, delegation JWTs signed with signJwt", _sign_jwt_url(impersonation),
        )  # fmt: skip
    raise ValueError(
        f"expected a service-account key (type {KEY!r}) or a credential configuration "
        f"(type {KEYLESS!r}), not type {kind!r}"
    )


def _is_aws(info: Mapping[str, Any]) -> bool:
    source = info.get("credential_source")
    return isinstance(source, Mapping) and str(source.get("environment_id", "")).startswith("aws")


def _external_account(info: Mapping[str, Any]) -> Any:
    from google.auth import aws, identity_pool

    source = info.get("credential_source")
    if not isinstance(source, Mapping):
        raise ValueError("the credential configuration has no credential_source")
    if "executable" in source:
        raise ValueError("executable-sourced credential configurations are not accepted")
    try:
        if _is_aws(info):
            return aws.Credentials.from_info(dict(info), scopes=[CLOUD_PLATFORM])  # type: ignore[no-untyped-call]
        return identity_pool.Credentials.from_info(dict(info), scopes=[CLOUD_PLATFORM])  # type: ignore[no-untyped-call]
    except (ValueError, KeyError, TypeError, exceptions.GoogleAuthError) as exc:
        raise ValueError(f"the credential configuration is unusable: {exc}") from None


def read_access_info(secret_id: str, client: SecretsManagerClient | None = None) -> dict[str, Any]:
    """The JSON the Google secret holds: a service-account key or a credential
    configuration (`google_access` checks the rest)."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    from micromoments.adapters.secrets import SecretError

    secrets = client or boto3.client("secretsmanager")
    try:
        text = secrets.get_secret_value(SecretId=secret_id)["SecretString"]
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "Error")
        raise SecretError(f"cannot read secret {secret_id!r}: {code}") from None
    except (BotoCoreError, KeyError) as exc:
        raise SecretError(f"cannot read secret {secret_id!r}: {exc}") from None
    wrong = (
        f"secret {secret_id!r} is not a JSON service-account key nor a keyless credential "
        "configuration (external_account)"
    )
    try:
        info = json.loads(text)
    except ValueError:
        raise SecretError(wrong) from None
    if not isinstance(info, dict):
        raise SecretError(wrong)
    if info.get("type") == KEYLESS:
        if not info.get("service_account_impersonation_url") or not info.get("token_url"):
            raise SecretError(wrong)
    elif not info.get("client_email") or not info.get("private_key"):
        raise SecretError(wrong)
    return info
