"""Microsoft Graph: the `CalendarGateway` for Microsoft 365 calendars, over plain HTTP
(`requests`; docs/decisions.md says why not the msgraph SDK).

What it does (DESIGN.md "Calendar semantics", issue 19):

- **Who it acts for.** As the Google gateway: only ``active`` people (``leaving``: reads
  and deletes of events the Store records as ours); a hold is patched or deleted only when
  the Store records it as ours and the event carries our ``mm_hold_id`` property.
- **Auth.** App-only, the OAuth client-credentials grant of an Entra ID app registration
  (a certificate's signed client assertion, or a client secret: `credentials`), the token
  cached until a minute before it expires; a 401 fetches a new one once. Requests and
  token round trips are counted apart, as the Google gateway does. A mailbox Graph does
  not know (404 ``ErrorInvalidUser``, ``MailboxNotEnabledForRESTAPI``) is
  `SubjectSuspended`, as Google's ``invalid_grant``.
- **Requests.** 429 is retried after its ``Retry-After``; 5xx, 408 and network errors with
  exponential backoff and full jitter, up to ``max_attempts``; writes and tag reads go
  through ``$batch`` (20 requests a batch), each request retried on its own.
- **Sync.** ``calendarView/delta`` over a view from ``full_from`` to 180 days on (renewed
  by a full sync when fewer than 60 days of it are left); the token stored is the view's
  end and the delta link; 410 (``SyncStateNotFound``) falls back to a clean full sync. A
  delta never carries extended properties, so the items that may be ours (organised by the
  person, with our ``transactionId`` prefix) are read again with their tags, in batches,
  unless their tags are known (our create, an earlier read, the Store's mirror).
- **Writes.** A create carries ``transactionId = micromoments:<hold id>`` (a retried
  create answers the event already made) and our tags as ``singleValueExtendedProperties``
  (a personal hold's in our own property set; a shared hold's in PS_PUBLIC_STRINGS, which
  Exchange copies to the attendees' copies of the meeting); patches send time and ``showAs``.
- **Attendees.** Exchange gives each attendee a copy of their own (own id, not organised by
  them): one carrying our shared tags reads as that shared hold, as on Google, and is
  never written to (the organiser's scan manages it).
- **Push.** `watch` opens a change-notification subscription on an active person's events
  (``POST /subscriptions``, the channel token as ``clientState``; Graph's subscription id is
  the channel id), `stop_channel` deletes one (`subscriptions`).
- **Normalisation.** `events.normalise` keeps only what the mirror may keep.
"""

from __future__ import annotations

from micromoments.adapters.graph_calendar.credentials import (
    ClientCertificate,
    ClientSecret,
    read_graph_credential,
)
from micromoments.adapters.graph_calendar.events import (
    HOLD_ID_PROPERTY,
    SHARED_HOLD_ID_PROPERTY,
    SHARED_PROPERTY_SET,
    SHARED_TAGS_PROPERTY,
    TAGS_PROPERTY,
    create_body,
    iana_zone,
    normalise,
    patch_body,
    windows_zone,
)
from micromoments.adapters.graph_calendar.gateway import (
    SCHEDULES,
    WINDOW_DAYS,
    GraphCalendarGateway,
)
from micromoments.adapters.graph_calendar.transport import BATCH_REQUESTS, GraphTransport

__all__ = [
    "BATCH_REQUESTS",
    "HOLD_ID_PROPERTY",
    "SCHEDULES",
    "SHARED_HOLD_ID_PROPERTY",
    "SHARED_PROPERTY_SET",
    "SHARED_TAGS_PROPERTY",
    "TAGS_PROPERTY",
    "WINDOW_DAYS",
    "ClientCertificate",
    "ClientSecret",
    "GraphCalendarGateway",
    "GraphTransport",
    "create_body",
    "iana_zone",
    "normalise",
    "patch_body",
    "read_graph_credential",
    "windows_zone",
]
