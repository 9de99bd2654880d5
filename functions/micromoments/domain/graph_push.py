"""Microsoft Graph change notifications on the notify route (docs/decisions.md "Push on
Microsoft Graph"), read into the `Notification` the Google path verifies.

Graph POSTs ``{"value": [{subscriptionId, clientState, changeType, resource, ...}]}``; the
subscription id is our channel id (Graph names the channel), the client state is the
channel's token, and a ``created``, ``updated`` or ``deleted`` item is a change (an
``exists`` message, in Google's words). Graph names the mailbox by its object id, not the
address we watched, so the resource is not compared: the subscription id and the token
(hashed and compared in constant time against the stored channel) are what is verified.
A subscription is validated by a POST with ``?validationToken=…`` to echo in plain text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from micromoments.domain.push import Notification, ResourceState

CHANGES = frozenset({"created", "updated", "deleted"})
MAX_ITEMS = 1000  # a notification POST with more items is not Graph's
MAX_VALIDATION_TOKEN = 1024


class MalformedNotification(ValueError):
    """The body is not a Graph notification collection (answered 400, nothing done)."""


def notifications_of(headers: Mapping[str, str], body: bytes) -> list[Notification]:
    """What a POST to the notify route carries: Google's one message in its headers
    (``headers`` lower-cased; Google sends no body), else Graph's items in the body."""
    if body and "x-goog-channel-id" not in headers:
        return graph_notifications(body)
    return [Notification.from_headers(dict(headers))]


def graph_notifications(body: bytes | str) -> list[Notification]:
    """Every item of a notification POST, as a `Notification` to verify; raises
    `MalformedNotification` (one line, no content) unless every item is well formed."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise MalformedNotification("the body is not JSON") from None
    items = data.get("value") if isinstance(data, Mapping) else None
    if not isinstance(items, list) or not items or len(items) > MAX_ITEMS:
        raise MalformedNotification("no list of notifications in value")
    return [_notification(item) for item in items]


def _notification(item: object) -> Notification:
    if not isinstance(item, Mapping):
        raise MalformedNotification("a notification is not an object")
    fields = {name: item.get(name) for name in ("subscriptionId", "changeType", "resource")}
    state = item.get("clientState")
    if not all(isinstance(v, str) and v for v in fields.values()) or not isinstance(
        state, str | None
    ):
        raise MalformedNotification("a notification lacks its subscription, change or resource")
    change = str(fields["changeType"])
    return Notification(
        channel_id=str(fields["subscriptionId"]),
        token=state or "",
        resource_id=None,
        state=ResourceState.EXISTS if change in CHANGES else change,
    )


def validation_token(query: Mapping[str, str]) -> str | None:
    """The token of a subscription's validation request (None when this is not one)."""
    token = query.get("validationToken")
    if token is not None and not 0 < len(token) <= MAX_VALIDATION_TOKEN:
        raise MalformedNotification("a validation token of an unexpected length")
    return token
