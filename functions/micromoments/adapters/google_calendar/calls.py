"""Calls to Google and what came of them: chunks and batches (with a counted token refresh),
the failure of a call (transient or not) and the `WriteResult` it makes."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from googleapiclient.errors import BatchError, HttpError  # type: ignore[import-untyped]
from googleapiclient.http import BatchHttpRequest  # type: ignore[import-untyped]

from micromoments.domain.journal import WriteOp
from micromoments.ports import (
    CalendarError,
    CalendarWrite,
    WriteResult,
)

if TYPE_CHECKING:
    pass

from micromoments.adapters.google_calendar.delegation import (
    SubjectHttp,
    Transient,
)
from micromoments.adapters.google_calendar.resources import (
    mapping,
)

_RATE_LIMITS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})

T = TypeVar("T")


def chunked(items: Sequence[T], size: int) -> Iterator[list[T]]:
    """``items`` in consecutive lists of at most ``size`` (STYLE.md 8)."""
    if size < 1:
        raise ValueError("size must be at least 1")
    for first in range(0, len(items), size):
        yield list(items[first : first + size])


def batch_url(api_url: str) -> str:
    """The batch endpoint of a Calendar API base URL, as Google composes it.

    ``https://www.googleapis.com/calendar/v3/`` -> ``https://www.googleapis.com/batch/calendar/v3``;
    a base URL not ending in ``calendar/v3/`` is taken as the root itself.
    """
    base = api_url if api_url.endswith("/") else api_url + "/"
    root = base[: -len("calendar/v3/")] if base.endswith("/calendar/v3/") else base
    return root + "batch/calendar/v3"


class Batch(BatchHttpRequest):  # type: ignore[misc]
    """googleapiclient's batch, with the redo of 401 parts going through our counted token
    refresh (once per batch) and counted as requests."""

    def __init__(self, *, on_redo: Callable[[str], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._on_redo = on_redo
        self._refreshed = False

    def _refresh_and_apply_credentials(self, request: Any, http: Any) -> None:
        self._on_redo(str(request.methodId))
        if isinstance(http, SubjectHttp):
            if not self._refreshed:
                http.refresh()
                self._refreshed = True
            request.headers.update(http.auth_headers())


# -- outcomes of calls -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Failure:
    status: int | None
    reason: str
    message: str
    transient: bool

    def describe(self) -> str:
        if self.status is None:
            return f"{self.reason}: {self.message}"
        return f"{self.status} {self.reason}: {self.message}"


@dataclass(frozen=True, slots=True)
class Outcome:
    response: Any = None
    failure: Failure | None = None


class CalendarApiError(CalendarError):
    """A call failed for good; ``status`` is the HTTP status (None: no answer)."""

    def __init__(self, method: str, failure: Failure) -> None:
        super().__init__(f"{method}: {failure.describe()}")
        self.status = failure.status
        self.reason = failure.reason


NETWORK_ERRORS = (Transient, socket.timeout, TimeoutError, ConnectionError, OSError)


def failure_of(exc: BaseException) -> Failure:
    if isinstance(exc, HttpError):
        status = int(exc.resp.status)
        reason, message = _error_detail(exc.content)
        transient = (
            status in (408, 429) or status >= 500 or (status == 403 and reason in _RATE_LIMITS)
        )
        return Failure(status, reason or "error", message or str(exc.reason), transient)
    if isinstance(exc, BatchError | KeyError):
        return Failure(None, "badBatchResponse", str(exc), transient=True)
    text = " ".join(str(exc).split()) or type(exc).__name__
    return Failure(None, "timeout" if "timed out" in text else "network", text, transient=True)


def _error_detail(content: Any) -> tuple[str, str]:
    try:
        data = json.loads(content.decode("utf-8") if isinstance(content, bytes) else content)
        error = data["error"]
        details = error.get("errors") or [{}]
        return str(details[0].get("reason") or error.get("status") or ""), str(
            error.get("message") or ""
        )
    except (ValueError, KeyError, TypeError, AttributeError, IndexError):
        return "", ""


# -- the gateway -----------------------------------------------------------------------------


def write_result(write: CalendarWrite, outcome: Outcome, attempts: int) -> WriteResult:
    hold_id, op = write.hold.id, write.op
    failure = outcome.failure
    if failure is None:
        etag = mapping(outcome.response).get("etag")
        return WriteResult(
            hold_id, op, "ok", etag=str(etag) if etag else None, retried=attempts > 1
        )
    if failure.status == 409:
        note = " (after a retry: the first attempt may have created it)" if attempts > 1 else ""
        return WriteResult(hold_id, op, "conflict", message=failure.describe() + note)
    if failure.status in (404, 410) and op is not WriteOp.INSERT:
        return WriteResult(hold_id, op, "gone", message=failure.describe())
    if failure.transient:
        message = f"gave up after {attempts} attempts: {failure.describe()}"
    else:
        message = failure.describe()
    return WriteResult(hold_id, op, "failed", message=message)
