"""Keyless access on the local server: Google's STS token exchange for a workload identity
pool with an AWS provider, and the IAM Credentials ``generateAccessToken`` and ``signJwt``
methods of the service account (docs/google-access.md, "Keyless").

The chain, as Google runs it: STS takes a signed AWS GetCallerIdentity request
(`aws_signature.verify_caller`) and gives a federated token for the caller's role; the role
may impersonate the service account (``roles/iam.workloadIdentityUser``), which gives the
service account's own token; with it the service account signs a JWT with its
Google-managed key (``roles/iam.serviceAccountTokenCreator`` on itself). The token endpoint
(`oauth`) then verifies that JWT with the managed key's public half.
"""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from google.auth import jwt

from micromoments.local.calendar_api import oauth
from micromoments.local.calendar_api.aws_signature import (
    AWS4_REQUEST,
    AwsCaller,
    SubjectTokenError,
    verify_caller,
)

STS_PATH = "/v1/token"
IAM_PREFIX = "/v1/projects/-/serviceAccounts/"
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"
IAM_SCOPES = frozenset({CLOUD_PLATFORM, "https://www.googleapis.com/auth/iam"})
PROJECT_NUMBER = "424242424242"
AUDIENCE = (
    f"//iam.googleapis.com/projects/{PROJECT_NUMBER}/locations/global/"
    "workloadIdentityPools/micromoments/providers/aws"
)
_MAX_SIGNED_JWT_S = 12 * 3600  # signJwt refuses an exp further away than 12 hours
_VERIFICATION_URL = "https://sts.{region}.amazonaws.com?Action=GetCallerIdentity&Version=2011-06-15"


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    payload: dict[str, Any]


def _google_error(status: int, google_status: str, message: str) -> Answer:
    return Answer(status, {"error": {"code": status, "message": message, "status": google_status}})


def _oauth_error(error: str, description: str) -> Answer:
    return Answer(400, {"error": error, "error_description": description})


@dataclass(slots=True)
class Federation:
    """The pool, its AWS provider and the service account's IAM bindings.

    ``callers`` are the AWS credentials the provider's AWS account holds (by access key);
    ``may_impersonate`` is the workloadIdentityUser binding of the pool's principals on the
    service account; ``token_creator_on_itself`` is the service account's Token Creator
    role on itself. Tests switch the two off to see what a half-done setup answers.
    """

    service_account: str
    managed_key: oauth.ServiceAccountKey
    aws_account: str
    callers: dict[str, AwsCaller] = field(default_factory=dict)
    may_impersonate: bool = True
    token_creator_on_itself: bool = True
    _federated: dict[str, tuple[str, float]] = field(default_factory=dict)  # token -> role
    _impersonated: dict[str, float] = field(default_factory=dict)  # SA token -> expiry
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def configuration(self, root_url: str) -> dict[str, Any]:
        """The credential configuration ``gcloud iam workload-identity-pools
        create-cred-config … --aws --service-account=…`` writes, aimed at ``root_url``."""
        return {
            "universe_domain": "googleapis.com",
            "type": "external_account",
            "audience": AUDIENCE,
            "subject_token_type": AWS4_REQUEST,
            "service_account_impersonation_url": (
                f"{root_url}{IAM_PREFIX.lstrip('/')}{self.service_account}:generateAccessToken"
            ),
            "token_url": root_url + STS_PATH.lstrip("/"),
            "credential_source": {
                "environment_id": "aws1",
                "region_url": "http://169.254.169.254/latest/meta-data/placement/availability-zone",
                "url": "http://169.254.169.254/latest/meta-data/iam/security-credentials",
                "regional_cred_verification_url": _VERIFICATION_URL,
            },
        }

    def revoke_tokens(self) -> None:
        """Forget every federated and service-account token (signJwt answers 401)."""
        with self._lock:
            self._federated.clear()
            self._impersonated.clear()

    # -- STS -----------------------------------------------------------------------------

    def exchange(self, form: dict[str, str], now: float) -> Answer:
        if form.get("grant_type") != TOKEN_EXCHANGE:
            return _oauth_error("unsupported_grant_type", "Invalid grant_type.")
        if form.get("audience") != AUDIENCE:
            return _oauth_error("invalid_target", "The target service indicated is invalid.")
        if form.get("subject_token_type") != AWS4_REQUEST:
            return _oauth_error("invalid_request", "Invalid subject_token_type.")
        if form.get("requested_token_type") != ACCESS_TOKEN_TYPE:
            return _oauth_error("invalid_request", "Invalid requested_token_type.")
        try:
            caller = verify_caller(
                form.get("subject_token", ""), audience=AUDIENCE, callers=self.callers, now=now
            )
        except SubjectTokenError as error:
            return _oauth_error("invalid_grant", f"Unable to verify the AWS request: {error}.")
        if caller.account != self.aws_account:
            return _oauth_error("invalid_grant", "The AWS account is not the provider's account.")
        token = "ya29.federated-" + secrets.token_urlsafe(24)
        with self._lock:
            self._federated[token] = (caller.role_arn, now + oauth.TOKEN_LIFETIME_S)
        return Answer(
            200,
            {
                "access_token": token,
                "issued_token_type": ACCESS_TOKEN_TYPE,
                "token_type": "Bearer",
                "expires_in": oauth.TOKEN_LIFETIME_S,
            },
        )

    # -- IAM Credentials -------------------------------------------------------------------

    def iam(self, path: str, authorization: str, body: bytes, now: float) -> Answer:
        name, _, method = path[len(IAM_PREFIX) :].partition(":")
        if name != self.service_account or method not in ("generateAccessToken", "signJwt"):
            return _google_error(
                404, "NOT_FOUND", f"Service account {name} does not exist or the method is unknown."
            )
        scheme, _, token = authorization.partition(" ")
        token = token if scheme.lower() == "bearer" else ""
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            request = None
        if not isinstance(request, dict):
            return _google_error(400, "INVALID_ARGUMENT", "Invalid JSON payload received.")
        if method == "generateAccessToken":
            return self._generate_access_token(token, request, now)
        return self._sign_jwt(token, request, now)

    def _generate_access_token(self, token: str, request: dict[str, Any], now: float) -> Answer:
        with self._lock:
            grant = self._federated.get(token)
        if grant is None or grant[1] < now:
            return _google_error(401, "UNAUTHENTICATED", "Request had invalid credentials.")
        if not self.may_impersonate:
            return _google_error(
                403,
                "PERMISSION_DENIED",
                "Permission 'iam.serviceAccounts.getAccessToken' denied on resource "
                "(or it may not exist).",
            )
        scopes = request.get("scope")
        if not isinstance(scopes, list) or not scopes:
            return _google_error(400, "INVALID_ARGUMENT", "Scope is required.")
        issued = "ya29.sa-" + secrets.token_urlsafe(24)
        expires = now + oauth.TOKEN_LIFETIME_S
        with self._lock:
            self._impersonated[issued] = expires if IAM_SCOPES & set(scopes) else -1.0
        stamp = datetime.fromtimestamp(expires, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return Answer(200, {"accessToken": issued, "expireTime": stamp})

    def _sign_jwt(self, token: str, request: dict[str, Any], now: float) -> Answer:
        with self._lock:
            expires = self._impersonated.get(token)
        if expires is None or (expires >= 0 and expires < now):
            return _google_error(401, "UNAUTHENTICATED", "Request had invalid credentials.")
        if expires < 0:
            return _google_error(
                403, "PERMISSION_DENIED", "Request had insufficient authentication scopes."
            )
        if not self.token_creator_on_itself:
            return _google_error(
                403,
                "PERMISSION_DENIED",
                "Permission 'iam.serviceAccounts.signJwt' denied on resource "
                "(or it may not exist).",
            )
        try:
            claims = json.loads(str(request.get("payload", "")))
            expiry = float(claims["exp"])
        except (ValueError, KeyError, TypeError):
            return _google_error(
                400, "INVALID_ARGUMENT", "The payload must be a JSON claim set with exp."
            )
        if not isinstance(claims, dict) or expiry > now + _MAX_SIGNED_JWT_S:
            return _google_error(
                400, "INVALID_ARGUMENT", "exp must be at most 12 hours in the future."
            )
        key = self.managed_key
        signer = oauth.signer(key.private_key_pem, key.key_id)
        signed = jwt.encode(signer, claims).decode()  # type: ignore[no-untyped-call]
        return Answer(200, {"keyId": key.key_id, "signedJwt": signed})
