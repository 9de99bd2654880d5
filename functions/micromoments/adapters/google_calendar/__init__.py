"""Google Calendar: the `CalendarGateway` over google-api-python-client.

What it does (DESIGN.md "Google access and its blast radius", "State"):

- **Who it acts for.** Every call names a person (their address is the calendarId and,
  with a key, the delegation subject). The gateway asks the Store for that person's status
  and refuses (`SubjectRefused`) anyone who is not ``active``; a ``leaving`` person allows
  reads and deletes of events the Store records as ours. Nobody's event is ever patched or
  deleted unless the Store records it as ours.
- **Auth.** With a service-account key or, keyless, a workload identity federation
  credential configuration (`adapters.google_access`): domain-wide delegation with the
  three narrow `SCOPES`, one credential per subject, cached for the gateway's life. Token fetches go
  through a counting request (``counters.oauth_round_trips``, kept apart from
  ``round_trips``). ``invalid_grant`` -> `SubjectSuspended`; ``unauthorized_client`` (and an
  ``invalid_grant`` about the signed JWT itself, which every subject would get) ->
  `DelegationMisconfigured`. Without a key: ``Authorization: Bearer <calendar_api_token>``
  when one is set, else no auth, plus the header ``X-Goog-User: <address>`` naming the
  subject (the local server needs it for ``users/me/settings``); that header is never sent
  when a key is configured.
- **Requests.** The discovery document shipped with the library is parsed once per
  gateway; every request runs over a per-subject transport with a timeout. Batches go to
  ``<root of calendar_api_url>batch/calendar/v3`` with at most 50 calls each; parts that
  fail with 429, 403 rate limits, 5xx or a timeout are retried by us with exponential
  backoff and full jitter, up to ``max_attempts``; other 4xx fail at once.
- **Sync.** A full sync lists ``singleEvents=false`` from ``full_from`` with no end bound,
  page by page (a generator over page tokens); the sync token is the last page's. A delta
  sends the token; 410 falls back to a clean full sync.
- **Push.** `watch` opens an ``events.watch`` channel for an active person (the
  ``calendar.events.owned`` scope covers it); `stop_channel` stops one for a person of any
  status, and a 404 means Google no longer knows the channel. Both retry like every call: a
  watch whose first attempt was applied unseen answers ``channelIdNotUnique`` on the retry
  (the caller opens another channel; the lost one expires by itself).
- **Normalisation.** `normalise` keeps only what the mirror may keep: times, zone, busy,
  kind, declined, status, recurrence and our tags — never titles, descriptions, locations
  or other people's addresses.
"""

from __future__ import annotations

from micromoments.adapters.google_calendar.calls import batch_url, chunked
from micromoments.adapters.google_calendar.delegation import SUBJECT_HEADER, load_key_info
from micromoments.adapters.google_calendar.gateway import (
    BATCH_CALLS,
    FREEBUSY_CALENDARS,
    PAGE_SIZE,
    GoogleCalendarGateway,
)
from micromoments.adapters.google_calendar.resources import (
    EPOCH,
    hold_body,
    hold_patch_body,
    normalise,
    rfc3339,
)
from micromoments.adapters.google_scopes import SCOPES

__all__ = [
    "BATCH_CALLS",
    "EPOCH",
    "FREEBUSY_CALENDARS",
    "PAGE_SIZE",
    "SCOPES",
    "SUBJECT_HEADER",
    "GoogleCalendarGateway",
    "batch_url",
    "chunked",
    "hold_body",
    "hold_patch_body",
    "load_key_info",
    "normalise",
    "rfc3339",
]
