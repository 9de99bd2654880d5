"""Push on Microsoft Graph: a change-notification subscription on a person's events is the
gateway's push channel (docs/decisions.md "Push on Microsoft Graph").

``POST /subscriptions`` asks for ``created,updated,deleted`` on ``users/{id}/events`` to the
notify route, with the channel token as ``clientState`` (Graph sends it back in every
notification); Graph validates the route first (it must echo a ``validationToken``), so a
refusal there is a failed watch, tried again by the next scan. Graph names the channel: its
subscription id is the channel id the Store keeps (the id the scan proposes is not used).
Outlook events allow at most 10080 minutes; we ask for `MAX_LIFETIME` at most, a little
less, so a clock a few minutes ahead of Graph's is never refused. A subscription is not
renewed in place (no PATCH): the scan opens a new one before the old one is due and stops
the old one, as on Google. ``DELETE /subscriptions/{id}`` stops one; 404: already gone.
"""

from __future__ import annotations

import urllib.parse
from datetime import UTC, datetime, timedelta

from micromoments.adapters.graph_calendar.events import mapping
from micromoments.adapters.graph_calendar.transport import Call, GraphApiError, GraphTransport
from micromoments.domain.people import PersonStatus
from micromoments.ports import CalendarError, SubjectRefused, WatchChannel

CHANGES = "created,updated,deleted"
MAX_LIFETIME = timedelta(minutes=10080 - 10)  # Outlook events: 10080 minutes at most
CLIENT_STATE_MAX = 128  # Graph's limit on clientState


def resource_of(email: str) -> str:
    return "users/" + urllib.parse.quote(email.strip().lower(), safe="@") + "/events"


def subscribe(
    http: GraphTransport,
    email: str,
    status: PersonStatus | None,
    *,
    token: str,
    address: str,
    ttl: timedelta,
    now: datetime,
) -> WatchChannel:
    """Open a subscription on an active person's events (see the module docstring)."""
    if status is not PersonStatus.ACTIVE:
        raise SubjectRefused(f"{email}: not an active person; no new subscriptions")
    if ttl < timedelta(seconds=1):
        raise ValueError("a channel's ttl must be at least one second")
    if len(token) > CLIENT_STATE_MAX:
        raise ValueError(f"a Graph clientState holds at most {CLIENT_STATE_MAX} characters")
    expiry = now.astimezone(UTC) + min(ttl, MAX_LIFETIME)
    body = {
        "changeType": CHANGES,
        "notificationUrl": address,
        "resource": resource_of(email),
        "expirationDateTime": expiry.strftime("%Y-%m-%dT%H:%M:%S.%f0Z"),
        "clientState": token,
    }
    answer = mapping(
        http.require(Call("POST", "subscriptions", body), f"subscriptions for {email}")
    )
    subscription, expires = answer.get("id"), answer.get("expirationDateTime")
    try:
        expiration = datetime.fromisoformat(str(expires))
    except ValueError:
        expiration = None
    if expiration is not None and expiration.tzinfo is None:
        expiration = expiration.replace(tzinfo=UTC)
    if not subscription or expiration is None:
        raise CalendarError(f"subscriptions for {email}: no id or expirationDateTime")
    return WatchChannel(
        id=str(subscription),
        resource_id=str(answer.get("resource") or resource_of(email)),
        resource_uri=str(answer.get("notificationUrl") or address),
        expiration=expiration,
    )


def unsubscribe(http: GraphTransport, email: str, subscription_id: str) -> bool:
    """Delete a subscription (for a person of any status); False when Graph no longer
    knows it (deleted or expired already)."""
    url = "subscriptions/" + urllib.parse.quote(subscription_id, safe="")
    try:
        http.require(Call("DELETE", url), f"subscriptions.delete for {email}")
    except GraphApiError as exc:
        if exc.status == 404:
            return False
        raise
    return True
