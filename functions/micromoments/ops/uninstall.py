"""Use case: leave cleanly (docs/deploy.md "Leaving cleanly").

Everyone who is opted in (or suspended) is opted out: status ``leaving``, and their
removal scans delete their future holds, then set ``opted_out``. Only once nobody is
``leaving`` any more is it safe to delete the stack: deleting it first would leave holds
on people's calendars that nothing would ever remove.

The waiting is `wait_until_gone`: it polls the Store (and, with the local stand-ins, runs
the removal scans itself through ``rescan``) until nobody is leaving or time is up.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from micromoments.domain.errors import DomainError
from micromoments.domain.holds import UPCOMING
from micromoments.domain.people import PersonStatus
from micromoments.ports import CalendarGateway, DelegationMisconfigured, Store
from micromoments.services.org import current_settings
from micromoments.services.people import start_leaving

__all__ = [
    "Departure",
    "Remaining",
    "UninstallRefused",
    "UninstallTimedOut",
    "closing_steps",
    "leave_everyone",
    "ready_to_leave",
    "remaining",
    "scan_leaving",
    "wait_until_gone",
]

_STAYING = frozenset(
    {
        PersonStatus.ACTIVE,
        PersonStatus.SUSPENDED,
        PersonStatus.LEAVING,
        PersonStatus.NEEDS_RECONNECT,
    }
)


class UninstallRefused(DomainError):
    """Uninstalling cannot start (not confirmed, or no removal could happen)."""


class UninstallTimedOut(DomainError):
    """Some people are still leaving when time is up."""


@dataclass(frozen=True, slots=True)
class Departure:
    """What opting everyone out did: who is ``leaving`` (their holds are still to be
    removed) and who was ``opted_out`` at once (nothing of ours on their calendar)."""

    leaving: list[str] = field(default_factory=list)
    opted_out: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Remaining:
    """Who is still leaving, and their future holds; ``left_behind``: future holds on the
    calendars of people who are not leaving (suspended accounts Google refuses us)."""

    leaving: list[str] = field(default_factory=list)
    future_holds: int = 0
    left_behind: dict[str, int] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        return not self.leaving


def ready_to_leave(store: Store) -> list[str]:
    """Who `leave_everyone` would opt out; refuses when no removal scan could write."""
    if current_settings(store).paused:
        raise UninstallRefused(
            "the org is paused, so no scan may delete a hold: "
            "run `micromoments org set paused=false` first, then uninstall"
        )
    return [p.email for p in store.list_people() if p.status in _STAYING]


def leave_everyone(store: Store, *, now: datetime) -> Departure:
    """Opt out everyone who is active, suspended or already leaving."""
    departure = Departure()
    for person in list(store.list_people()):
        if person.status not in _STAYING:
            continue
        after = start_leaving(store, person.email, now=now)
        if after.status is PersonStatus.LEAVING:
            departure.leaving.append(after.email)
        else:
            departure.opted_out.append(after.email)
    return departure


def _future_holds(store: Store, email: str, now: datetime) -> int:
    return sum(1 for h in store.holds(email) if h.status in UPCOMING and h.end > now)


def remaining(store: Store, *, now: datetime) -> Remaining:
    leaving: list[str] = []
    holds = 0
    left_behind: dict[str, int] = {}
    for person in store.list_people():
        if person.status is PersonStatus.OPTED_OUT:
            continue
        count = _future_holds(store, person.email, now)
        if person.status is PersonStatus.LEAVING:
            leaving.append(person.email)
            holds += count
        elif count:
            left_behind[person.email] = count
    return Remaining(leaving, holds, left_behind)


def scan_leaving(
    emails: Sequence[str],
    *,
    store: Store,
    calendar: CalendarGateway,
    now: datetime,
    owner: str,
    master_key: bytes | None = None,
) -> dict[str, BaseException]:
    """Run the removal scans here (instead of the deployed scan function); returns the
    people whose scan failed, with why. Misconfigured delegation fails everyone: raised."""
    from micromoments.services.scan import scan_people

    results = scan_people(
        emails, store=store, calendar=calendar, now=now, owner=owner, master_key=master_key
    )
    failures = {email: r for email, r in results.items() if isinstance(r, BaseException)}
    for failure in failures.values():
        if isinstance(failure, DelegationMisconfigured):
            raise failure
    return failures


def wait_until_gone(
    store: Store,
    *,
    timeout_s: float,
    poll_s: float,
    now: Callable[[], datetime],
    rescan: Callable[[list[str]], None] | None = None,
    progress: Callable[[Remaining, float], None] = lambda left, elapsed: None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Remaining:
    """Poll until nobody is leaving, or ``timeout_s`` has passed; returns what remains.

    With ``rescan``, each round first runs the removal scans of those still leaving.
    """
    if poll_s <= 0:
        raise ValueError("poll_s must be positive")
    started = clock()
    left = remaining(store, now=now())
    while True:
        if rescan is not None and left.leaving:
            rescan(list(left.leaving))
            left = remaining(store, now=now())
        elapsed = clock() - started
        progress(left, elapsed)
        if left.done or elapsed >= timeout_s:
            return left
        sleep(min(poll_s, max(timeout_s - elapsed, 0.0)))
        left = remaining(store, now=now())


def closing_steps(stack_name: str, *, table: str | None, secrets: list[str]) -> list[str]:
    """What the operator does once the holds are gone: delete the stack, then, when sure,
    what the stack retains on purpose (the table and both secrets, DeletionPolicy Retain)."""
    lines = [
        f"Now run: sam delete --stack-name {stack_name} --config-file infra/samconfig.toml",
    ]
    if table:
        lines.append(
            f"The table {table} is retained (with deletion protection): once you are sure, "
            f"`aws dynamodb update-table --table-name {table} "
            "--no-deletion-protection-enabled` then "
            f"`aws dynamodb delete-table --table-name {table}`"
        )
    names = secrets or [
        f"{stack_name}/signing-key",
        f"{stack_name}/google-key",
        f"{stack_name}/google-oauth-client",
    ]
    lines.append(
        "The secrets are retained too (the signing key keeps old links and pseudonyms "
        "verifiable after a restore): once you are sure, delete each with"
    )
    lines += [
        f"  aws secretsmanager delete-secret --secret-id {name} --recovery-window-in-days 7"
        for name in names
    ]
    lines.append(
        "The KMS key that sealed people's refresh tokens (the GrantKeyId output) is retained "
        "too: once the table is gone, `aws kms schedule-key-deletion --key-id <GrantKeyId> "
        "--pending-window-in-days 7`"
    )
    return lines
