"""The doctor's checks of Google: which access the Google secret configures, a delegated
token for one opted-in person with exactly the narrow scopes, and the calendar settings
read through the gateway."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from micromoments.domain.people import PersonStatus
from micromoments.ops.check_results import Check, fail, ok, skip
from micromoments.ports import CalendarGateway, Store

# Written out here on purpose, apart from the gateway's SCOPES: if someone broadens what
# the gateway asks for, the doctor says so (DESIGN.md "Google access and its blast radius").
NARROW_SCOPES = frozenset(
    "https://www.googleapis.com/auth/" + name
    for name in ("calendar.events.owned", "calendar.events.freebusy", "calendar.settings.readonly")
)


def pick_subject(store: Store) -> str | None:
    """The first opted-in (``active``) person of the scannable index, if any."""
    for email in store.scannable_people():
        person = store.get_person(email)
        if person is not None and person.status is PersonStatus.ACTIVE:
            return person.email
    return None


class _Recording:
    """A google-auth transport request that keeps the last response (its body holds the
    token response's ``scope``, which the credentials object drops)."""

    def __init__(self, inner: Callable[..., Any]) -> None:
        self._inner = inner
        self.last: Any = None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.last = self._inner(*args, **kwargs)
        return self.last


def _granted(response: Any) -> frozenset[str] | None:
    try:
        data = json.loads(response.data)
    except (AttributeError, TypeError, ValueError):
        return None
    scope = data.get("scope") if isinstance(data, dict) else None
    return frozenset(str(scope).split()) if scope else None


def _refusal(exc: BaseException) -> tuple[str, str]:
    """(error code, description) of a refused token request."""
    args: tuple[Any, ...] = tuple(getattr(exc, "args", ()))
    data = args[1] if len(args) > 1 and isinstance(args[1], Mapping) else {}
    text = str(args[0]) if args else str(exc)
    code = str(data.get("error") or text.split(":", 1)[0]).strip()
    return code, str(data.get("error_description") or text)


def check_google_access(info: Mapping[str, Any], *, token_uri: str) -> Check:
    """Which way to Google the secret configures: a key, or keyless."""
    from micromoments.adapters.google_access import google_access
    from micromoments.adapters.google_calendar import SCOPES

    try:
        access = google_access(info, token_uri=token_uri, scopes=SCOPES)
    except ValueError as exc:
        return fail("google access", str(exc))
    return ok("google access", access.detail)


def check_delegation(
    key_info: Mapping[str, Any],
    subject: str,
    *,
    token_uri: str,
    request: Callable[..., Any],
    requested: tuple[str, ...] | None = None,
) -> list[Check]:
    """A delegated token for ``subject`` (the JWT bearer grant the scan function uses), and
    the scopes: exactly `NARROW_SCOPES` asked for and granted."""
    from google.auth.exceptions import RefreshError, TransportError

    from micromoments.adapters.google_access import google_access
    from micromoments.adapters.google_calendar import SCOPES
    from micromoments.ports import DelegationMisconfigured

    asked = tuple(requested if requested is not None else SCOPES)
    exchange, scopes = "token exchange", "scopes"
    broader, missing = sorted(set(asked) - NARROW_SCOPES), sorted(NARROW_SCOPES - set(asked))
    if broader or missing:
        # Never ask Google for more than we need, not even to test.
        return [
            skip(exchange, "not tried: the requested scopes are wrong"),
            fail(scopes, _scope_problem("requests", broader, missing)),
        ]
    try:
        access = google_access(key_info, token_uri=token_uri, scopes=asked)
    except ValueError as exc:
        return [fail(exchange, str(exc)), skip(scopes, "no token")]
    credentials = access.credentials_for(subject)
    recording = _Recording(request)
    try:
        credentials.refresh(recording)  # type: ignore[no-untyped-call]
    except DelegationMisconfigured as exc:
        return [fail(exchange, str(exc)), skip(scopes, "no token")]
    except RefreshError as exc:
        code, description = _refusal(exc)
        if code == "unauthorized_client":
            reason = (
                f"delegation refused the service account (unauthorized_client): in the Admin "
                f"console, the client ID {_client_id(key_info, access.service_account_email)} "
                "must be granted exactly the three scopes (deploy.md step 1)"
            )
        elif code == "invalid_scope":
            return [
                fail(exchange, f"invalid_scope: {description}"),
                fail(scopes, f"Google refused the scopes: {description}"),
            ]
        elif code == "invalid_grant" and "jwt" not in description.lower():
            reason = f"invalid_grant for {subject}: is the account suspended? ({description})"
        else:
            reason = f"{code}: {description}"
        return [fail(exchange, reason), skip(scopes, "no token")]
    except TransportError as exc:
        return [fail(exchange, f"{token_uri} unreachable: {exc}"), skip(scopes, "no token")]
    granted = _granted(recording.last)
    client, how = access.service_account_email, access.kind
    checks = [ok(exchange, f"{client} got a delegated token for {subject} ({how})")]
    shown = granted if granted is not None else frozenset(asked)
    broader, missing = sorted(shown - NARROW_SCOPES), sorted(NARROW_SCOPES - shown)
    if broader or missing:
        checks.append(fail(scopes, _scope_problem("grants", broader, missing)))
        return checks
    names = ", ".join(sorted(s.rsplit("/", 1)[-1] for s in shown))
    source = "granted" if granted is not None else "requested (the token response names none)"
    checks.append(ok(scopes, f"exactly the three, {source}: {names}"))
    return checks


def _client_id(info: Mapping[str, Any], email: str) -> str:
    """The service account's OAuth client ID (a key names it; keyless, gcloud tells)."""
    if info.get("client_id"):
        return str(info["client_id"])
    describe = f"gcloud iam service-accounts describe {email} --format='value(oauth2ClientId)'"
    return f"of {email} ({describe})"


def _scope_problem(verb: str, broader: list[str], missing: list[str]) -> str:
    parts = []
    if broader:
        parts.append(f"{verb} more than needed: {' '.join(broader)}")
    if missing:
        parts.append(f"lacks {' '.join(missing)}")
    return "; ".join(parts)


def check_calendar_settings(gateway: CalendarGateway, subject: str) -> Check:
    zone = gateway.timezone(subject)
    return ok("calendar settings", f"settings.get timezone as {subject}: {zone}")


# -- everything, in order -------------------------------------------------------------------


def check_oauth_client(
    secrets: Any, secret_id: str | None, google_access: str, grant_key_id: str | None
) -> Check:
    """The OAuth client people connect their own calendar with (google_access oauth or
    both): its secret names a client id and secret, and the KMS key is named."""
    name = "oauth client"
    if google_access == "delegation":
        return skip(name, "google_access is delegation: nobody connects their own calendar")
    if not secret_id:
        return fail(name, "MICROMOMENTS_GOOGLE_OAUTH_CLIENT_SECRET is not set "
                    "(<stack>/google-oauth-client; docs/deploy.md)")  # fmt: skip
    if not grant_key_id:
        return fail(name, "MICROMOMENTS_GRANT_KEY_ID is not set (GrantKeyId): grants cannot "
                    "be sealed")  # fmt: skip
    from micromoments.adapters.secrets import read_secret_json

    info = read_secret_json(secret_id, secrets)
    client_id = info.get("client_id")
    if not isinstance(client_id, str) or not client_id or not info.get("client_secret"):
        return fail(name, f"{secret_id} holds no client_id and client_secret (docs/deploy.md)")
    return ok(name, f"client {client_id}, grants sealed with KMS key {grant_key_id}")
