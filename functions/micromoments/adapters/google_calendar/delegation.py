"""Who the Google calls act as: the narrow `SCOPES`, the key, and the per-subject transport
(auth headers, counted token round trips, refresh failures mapped to our errors)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from http.client import HTTPException
from typing import TYPE_CHECKING, Any

import google_auth_httplib2  # type: ignore[import-untyped]
import httplib2  # type: ignore[import-untyped]
from google.auth.exceptions import RefreshError, TransportError

from micromoments.adapters.google_scopes import SCOPES as SCOPES  # noqa: PLC0414 (re-exported)
from micromoments.domain.grants import GoogleAccessMode
from micromoments.ports import (
    CalendarError,
    DelegationMisconfigured,
    GrantRevoked,
    SubjectSuspended,
)

if TYPE_CHECKING:
    from google.auth.credentials import Credentials
    from mypy_boto3_secretsmanager import SecretsManagerClient

    from micromoments.adapters.google_access import GoogleAccess
    from micromoments.adapters.google_calendar.gateway import GoogleCalendarGateway
    from micromoments.adapters.personal_grants import PersonalGrants


SUBJECT_HEADER = "X-Goog-User"  # names the subject; only without a key (see module doc)


def load_key_info(secret_id: str, client: SecretsManagerClient | None = None) -> dict[str, Any]:
    """The JSON the Google secret in Secrets Manager holds under ``secret_id``: a
    service-account key or a keyless credential configuration (`google_access`)."""
    from micromoments.adapters.google_access import read_access_info

    return read_access_info(secret_id, client)


def credentials_of(
    subject: str, grants: PersonalGrants | None, access: GoogleAccess | None
) -> tuple[Credentials | None, bool]:
    """Whose credentials act for ``subject``: their own grant when they have one (and
    True), else delegation unless google_access is oauth (then `GrantRevoked`), else none
    (a static token or no auth, locally)."""
    if grants is not None:
        mode = grants.mode()  # one settings read a subject
        own = grants.credentials_for(subject, mode)
        if own is not None:
            return own, True
        if mode is GoogleAccessMode.OAUTH:
            raise GrantRevoked(f"{subject}: no Google grant of their own (google_access oauth)")
    return (access.credentials_for(subject) if access is not None else None), False


class Transient(Exception):
    """A failure worth retrying (token endpoint unavailable, connection reset, …)."""


class _TokenRequest(google_auth_httplib2.Request):  # type: ignore[misc]
    """google-auth's httplib2 request, counting each token round trip."""

    def __init__(self, http: Any, on_round_trip: Callable[[], None]) -> None:
        super().__init__(http)
        self._on_round_trip = on_round_trip

    def __call__(
        self,
        url: str,
        method: str = "GET",
        body: Any = None,
        headers: Any = None,
        timeout: Any = None,
        **kwargs: Any,
    ) -> Any:
        self._on_round_trip()
        return super().__call__(url, method=method, body=body, headers=headers, **kwargs)


def refresh_failure(exc: RefreshError, subject: str, *, personal: bool = False) -> Exception:
    data = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], Mapping) else {}
    text = str(exc.args[0]) if exc.args else str(exc)
    code = str(data.get("error") or text.split(":", 1)[0]).strip()
    description = str(data.get("error_description") or text)
    if personal:  # the person's own refresh token: never in the message
        if code == "invalid_grant":
            return GrantRevoked(f"{subject}: their own grant answered invalid_grant")
        if getattr(exc, "retryable", False):
            return Transient(f"token refresh for {subject} failed: {code}")
        return CalendarError(f"token refresh for {subject} failed: {code}")
    if code == "unauthorized_client":
        return DelegationMisconfigured(
            f"domain-wide delegation refused the service account ({code}): "
            "check the client id and scopes in the Admin console"
        )
    if code == "invalid_grant":
        if "jwt" in description.lower():
            # The signed assertion itself is refused (revoked key, clock skew): every subject
            # would get this, so no person is to blame.
            return DelegationMisconfigured(
                f"the token endpoint refused our signed JWT: {description}"
            )
        return SubjectSuspended(f"{subject}: invalid_grant ({description})")
    if getattr(exc, "retryable", False):
        return Transient(f"token refresh for {subject} failed: {text}")
    return CalendarError(f"token refresh for {subject} failed: {text}")


class SubjectHttp:
    """An ``httplib2.Http`` look-alike acting for one subject: adds auth, counts, times out.

    It has no ``credentials`` attribute on purpose, so googleapiclient never refreshes
    tokens behind our back (uncounted, without timeout); tokens are fetched here.
    """

    def __init__(
        self,
        gateway: GoogleCalendarGateway,
        subject: str,
        credentials: Credentials | None,
        personal: bool = False,
        *,
        timeout_s: float,
    ) -> None:
        self._gateway = gateway
        self._subject = subject
        self._credentials = credentials
        self._personal = personal  # the person's own grant, not delegation
        self._http = httplib2.Http(timeout=timeout_s)
        self._token_request = _TokenRequest(
            httplib2.Http(timeout=timeout_s), gateway._count_oauth_round_trip
        )
        self._lock = threading.Lock()

    def refresh(self) -> None:
        """Fetch a new access token (with a key, keyless, or the person's own grant)."""
        if self._credentials is None:
            return
        try:
            self._credentials.refresh(self._token_request)  # type: ignore[no-untyped-call]
        except RefreshError as exc:
            failure = refresh_failure(exc, self._subject, personal=self._personal)
            if isinstance(failure, GrantRevoked):
                self._gateway.forget_transport(self._subject)
            raise failure from None
        except TransportError as exc:
            raise Transient(f"token endpoint unreachable: {exc}") from None

    def auth_headers(self) -> dict[str, str]:
        if self._credentials is not None:
            if not self._credentials.valid:
                self.refresh()
            return {"authorization": f"Bearer {self._credentials.token}"}
        headers = {SUBJECT_HEADER: self._subject}
        token = self._gateway._static_token
        if token:
            headers["authorization"] = f"Bearer {token}"
        return headers

    def request(
        self,
        uri: str,
        method: str = "GET",
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        redirections: int = httplib2.DEFAULT_MAX_REDIRECTS,
        connection_type: Any = None,
    ) -> tuple[Any, bytes]:
        with self._lock:
            sent = {**(headers or {}), **self.auth_headers()}
            self._gateway._count_round_trip()
            try:
                return self._http.request(uri, method, body=body, headers=sent)  # type: ignore[no-any-return]
            except (httplib2.HttpLib2Error, HTTPException) as exc:
                raise Transient(f"{type(exc).__name__}: {exc}") from None

    @property
    def refreshable(self) -> bool:
        return self._credentials is not None
