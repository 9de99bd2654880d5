"""A stateful Google Calendar v3 server for tests, benchmarks and ``micromoments demo``.

Runs in-process on a free loopback port and serves what google-api-python-client and
google-auth send: events list/get/insert/patch/update/delete/instances, freeBusy, settings,
calendars.get, multipart batches at ``/batch/calendar/v3``, the JWT bearer grant at
``/token`` and, for keyless access, STS at ``/v1/token`` and the IAM Credentials methods
``generateAccessToken`` and ``signJwt`` (`federation`), and push notifications of watch
channels (``events.watch``, ``channels.stop``; `push`). See `CalendarServer` for the knobs
and docs/decisions.md for where it departs from Google.
"""

from micromoments.local.calendar_api.push import Delivery, PushKnobs
from micromoments.local.calendar_api.server import (
    FAULT_KINDS,
    CalendarServer,
    ServerCounters,
    WriteRecord,
)
from micromoments.local.calendar_api.synthetic_events import event_id_for, google_events

__all__ = [
    "FAULT_KINDS",
    "CalendarServer",
    "Delivery",
    "PushKnobs",
    "ServerCounters",
    "WriteRecord",
    "event_id_for",
    "google_events",
]
