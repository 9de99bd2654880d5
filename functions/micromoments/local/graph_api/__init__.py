"""A stateful Microsoft Graph calendar server for tests and, later, the demo.

Runs in-process on a free loopback port and serves what the Graph gateway sends (see
`GraphServer`): the client-credentials token endpoint, ``calendarView/delta``, event
create/get/patch/delete with extended properties and ``transactionId``, ``$batch``,
``getSchedule`` and ``mailboxSettings``, with throttling and fault knobs; meetings reach
their attendees' mailboxes as copies of their own, as in Exchange (`meetings`).
"""

from micromoments.local.graph_api.server import (
    API_PREFIX,
    MAX_BATCH,
    GraphCounters,
    GraphServer,
    GraphWrite,
)

__all__ = ["API_PREFIX", "MAX_BATCH", "GraphCounters", "GraphServer", "GraphWrite"]
