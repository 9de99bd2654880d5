"""Benchmark: scans under Google faults and killed workers lose and duplicate nothing.

An organisation's calendars live on the local Calendar server with a seeded fault rate
(429, 403 rateLimitExceeded, 500, 503 and responses slower than the client's timeout, per
call and per batch part), plus writes that are applied but answered 503 (the answer is
lost), whole batch requests that fail, and a token endpoint that sometimes answers 503.
The real google-api-python-client gateway (service-account delegation, retries with backoff,
the pauses skipped; 3 attempts a call instead of the deployed 6, so that some scans do run
out of retries) scans everyone as the scan worker does, and workers are killed
mid-person: a scan stops dead at a chosen point (after journaling, half-way through the
Calendar writes, after the writes but before the journal is settled, while settling a
pending journal, ...). A killed scan raises `WorkerKilled`, a `BaseException` that no
code may catch, and every later Store or Calendar call of that worker raises too, so its
``finally`` does not release the lease; the message is redelivered after the queue's
visibility timeout (30 minutes later, the lease has expired). A scan that fails (retries
exhausted) or leaves a write pending is redelivered the same way.

Three phases: the weekly pairing and everyone's first scans; then a new meeting lands on
some people's holds (moved or removed) and some people opt out (every future hold
deleted), and everyone is scanned through the same storm again; then faults stop and two
clean rounds run. After the storm and after the clean rounds the server's state is audited:

- every person's last scan ended ``scanned``;
- lost holds: a hold the Store records on the calendar (placed, moved, adopted, kept) that
  is not on it;
- duplicate holds: more than one of our events of a kind on one local day of a calendar
  (coffee and watercooler: in one ISO week); stray events: ours on a calendar with no live
  record behind them;
- writes to events without our tag, from the server's write log (the target's tags just
  before each patch or delete);
- and beside them: pending journal entries, holds the Store wrongly thinks the person
  dismissed or adopted (nobody here touches their calendar; a patch the client gave up on
  that the server applies after our retry changes the etag again: the next scan settles
  that as ours, see `Hold.late_copy_possible`, but a copy that lands only after that scan
  is still taken for the person's edit), future holds left on
  opted-out calendars, shared events whose guest list differs from their record's,
  Calendar writes in the last clean round (a converged rescan writes nothing).

``--json`` prints one object whose ``rows`` feed docs/benchmarks.md (bench/run.py).
`run_faults` is also the fast variant in tests/integration/test_faults.py.
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import random
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from micromoments.adapters.google_calendar import GoogleCalendarGateway
from micromoments.adapters.memory import MemoryTable
from micromoments.adapters.table import TableStore
from micromoments.config import Config
from micromoments.domain.holds import ON_CALENDAR, REACHED_CALENDAR, SHARED_KINDS, HoldStatus
from micromoments.domain.people import PersonStatus
from micromoments.domain.scan_request import ScanRequest
from micromoments.domain.settings import OrgSettings
from micromoments.local.calendar_api import CalendarServer
from micromoments.local.calendar_api.state import tags
from micromoments.local.synthetic import generate_org
from micromoments.ports import CalendarGateway, Store
from micromoments.services.pair import pair_week
from micromoments.services.scan import ScanReport, scan_person

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

START = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # Monday: 07:00 in Berlin
REDELIVERY = timedelta(minutes=30)  # the scan queue's visibility timeout (template.yaml)
BATCH = 10  # the scan queue's batch size
MAX_ROUNDS = 40
KEY = b"f" * 32


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- killed workers ------------------------------------------------------------------------


class WorkerKilled(BaseException):
    """The worker died (timeout, out of memory, a redeploy): nothing in the code catches it."""


@dataclass(frozen=True, slots=True)
class KillPoint:
    """Where a scan dies: ``before`` or ``after`` the ``nth`` call of a Store or Calendar
    method, or ``half`` (calendar write only: the first half of the writes land, then death)."""

    method: str
    when: str = "after"
    nth: int = 1

    @property
    def name(self) -> str:
        suffix = f"#{self.nth}" if self.nth > 1 else ""
        return f"{self.when}:{self.method}{suffix}"


# Kill points by the stage of a scan they hit, so each person's first kill finds writes to
# interrupt and the next one finds a journal to settle.
WRITE_STAGE = (
    KillPoint("add_journal"),
    KillPoint("add_journal", nth=2),
    KillPoint("write", "before"),
    KillPoint("write", "half"),
    KillPoint("write"),
    KillPoint("put_holds"),
    KillPoint("mark_all_applied"),
)
SETTLE_STAGE = (
    KillPoint("get_event"),
    KillPoint("get_event", nth=2),
    KillPoint("mark_applied"),
    KillPoint("put_hold"),
)
SYNC_STAGE = (
    KillPoint("acquire_lease"),
    KillPoint("timezone"),
    KillPoint("sync"),
    KillPoint("update_mirror"),
    KillPoint("put_sync"),
    KillPoint("put_day_loads"),
)


def kill_plan(rng: random.Random, count: int) -> list[KillPoint]:
    """``count`` kill points for one person: the writes first, then the settling, then any."""
    stages = [WRITE_STAGE, SETTLE_STAGE + WRITE_STAGE]
    everything = WRITE_STAGE + SETTLE_STAGE + SYNC_STAGE
    return [rng.choice(stages[i] if i < len(stages) else everything) for i in range(count)]


class Worker:
    """One delivery of one person's message, dying at its kill point (then dead for good)."""

    def __init__(self, point: KillPoint | None) -> None:
        self.point = point
        self.dead = False
        self.calls: Counter[str] = Counter()

    def hit(self, method: str) -> str | None:
        """Count a call; what the kill point does at it (``before``/``after``/``half``)."""
        if self.dead:
            raise WorkerKilled("this worker is dead")
        point = self.point
        if point is None or point.method != method:
            return None
        self.calls[method] += 1
        return point.when if self.calls[method] == point.nth else None

    def die(self) -> None:
        self.dead = True
        raise WorkerKilled(self.point.name if self.point else "killed")

    def call(self, method: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        when = self.hit(method)
        if when == "before":
            self.die()
        result = fn(*args, **kwargs)
        if when is not None:
            self.die()
        return result


class DyingStore:
    """A Store whose every call goes through the worker (dies with it)."""

    def __init__(self, inner: Store, worker: Worker) -> None:
        self._inner = inner
        self._worker = worker

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        if not callable(attribute):
            return attribute
        worker = self._worker
        return lambda *args, **kwargs: worker.call(name, attribute, *args, **kwargs)


class DyingCalendar(DyingStore):
    """A CalendarGateway that dies with its worker; ``half`` lands half the writes first."""

    def __init__(self, inner: CalendarGateway, worker: Worker) -> None:
        super().__init__(cast(Store, inner), worker)
        self.counters = inner.counters
        self._gateway = inner

    def write(self, email: str, writes: Sequence[Any]) -> Any:
        when = self._worker.hit("write")
        if when == "before":
            self._worker.die()
        if when == "half":
            self._gateway.write(email, writes[: max(1, len(writes) // 2)])
            self._worker.die()
        results = self._gateway.write(email, writes)
        if when is not None:
            self._worker.die()
        return results


# -- the world -------------------------------------------------------------------------------


class IdleAwareServer(CalendarServer):
    """The local Calendar server, counting the requests it is still working on."""

    def __init__(self, **knobs: Any) -> None:
        super().__init__(**knobs)
        self._busy = 0
        self._idle = threading.Condition()

    def _wsgi(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        with self._idle:
            self._busy += 1
        try:
            return super()._wsgi(environ, start_response)
        finally:
            with self._idle:
                self._busy -= 1
                self._idle.notify_all()

    def wait_idle(self, timeout_s: float = 120) -> None:
        with self._idle:
            if not self._idle.wait_for(lambda: self._busy == 0, timeout_s):
                raise RuntimeError(f"the Calendar server is still busy after {timeout_s} s")


class ListQueue:
    def __init__(self) -> None:
        self.sent: list[ScanRequest] = []

    def send(self, requests: list[ScanRequest], *, delay_seconds: int = 0) -> None:
        self.sent.extend(requests)


@dataclass(slots=True)
class Tally:
    """What the storm did to the scans."""

    deliveries: int = 0
    kills_armed: int = 0
    kills_fired: Counter[str] = field(default_factory=Counter)
    failed_scans: int = 0  # retries exhausted, or a write left pending: redelivered
    rounds: int = 0


class World:
    """A synthetic organisation on a faulty Calendar server, an in-memory Store, and the
    real gateway; ``round`` counts redeliveries (each one 30 minutes later)."""

    def __init__(
        self,
        people: int,
        *,
        seed: int,
        fault_rate: float,
        lost_answer_rate: float,
        batch_fault_rate: float,
        token_fault_rate: float,
        client_timeout_s: float,
        max_attempts: int,
        overlap: int,
    ) -> None:
        self.rng = random.Random(seed)
        self.overlap = overlap
        self.org = generate_org(people, seed=seed, start=START)
        self.emails = [p.email for p in self.org.people]
        self.server = IdleAwareServer(
            fault_rate=fault_rate,
            seed=seed,
            timeout_s=client_timeout_s * 2,
            apply_then_fail_rate=lost_answer_rate,
            batch_fault_rate=batch_fault_rate,
            token_fault_rate=token_fault_rate,
        )
        self.server.start()
        self.store = TableStore(MemoryTable())
        self.settings = OrgSettings(timezone="Europe/Berlin", allowed_domains=(self.org.domain,))
        self.store.create_settings(self.settings)
        for person in self.org.people:
            self.server.seed_synthetic(person)
            self.store.create_person(person.person)
        store = self.store
        self.gateway = GoogleCalendarGateway(
            Config(calendar_api_url=self.server.base_url, google_token_uri=self.server.token_uri),
            status_of=lambda e: p.status if (p := store.get_person(e)) else None,
            ours=lambda e: {h.id for h in store.holds(e)},
            key_info=self.server.service_account_key(),
            timeout_s=client_timeout_s,
            max_attempts=max_attempts,
            sleep=lambda _: None,
            rng=random.Random(seed),
        )
        self.round = 0
        self.last: dict[str, str] = {}  # email -> the outcome of their last delivery
        self.tally = Tally()

    def close(self) -> None:
        self.server.stop()

    @property
    def now(self) -> datetime:
        return NOW + self.round * REDELIVERY

    def settle(self) -> None:
        """Let the requests the client gave up on finish on the server (each slow fault in a
        batch holds it ``timeout_s``): rounds are 30 minutes apart, and Google does not
        apply a request that late either."""
        self.server.wait_idle()

    def faults_off(self) -> None:
        self.settle()
        self.server.set_fault_rate(0.0)
        self.server.apply_then_fail_rate = 0.0
        self.server.batch_fault_rate = 0.0
        self.server.token_fault_rate = 0.0

    # -- the weekly pairing (the Scheduler retries it until it succeeds) -----------------

    def pair(self) -> dict[str, Any]:
        for attempt in range(1, 21):
            try:
                report = pair_week(self.store, self.gateway, now=self.now, master_key=KEY,
                                   queue=ListQueue())  # fmt: skip
            except Exception as exc:
                log(f"  pairing attempt {attempt} failed: {type(exc).__name__}")
                continue
            return report.to_json()
        raise RuntimeError("the pairing never succeeded")

    # -- deliveries ----------------------------------------------------------------------

    def deliver(self, email: str, point: KillPoint | None) -> tuple[str, KillPoint | None]:
        """One delivery of one person's scan message; its outcome and the kill that fired."""
        worker = Worker(point)
        try:
            report = scan_person(
                email,
                store=cast(Store, DyingStore(self.store, worker)),
                calendar=cast(CalendarGateway, DyingCalendar(self.gateway, worker)),
                now=self.now,
                owner=uuid.uuid4().hex,
                master_key=KEY,
            )
        except WorkerKilled:
            return "killed", point
        except Exception as exc:
            return f"failed:{type(exc).__name__}", None
        return _outcome(report), None

    def storm(self, emails: Sequence[str], kills: dict[str, list[KillPoint]]) -> None:
        """Deliver everyone's message until their scan succeeds, killing workers at their
        kill points on the way (a point the scan never reaches is dropped unfired)."""
        pending = list(emails)
        plans = {email: list(kills.get(email, ())) for email in emails}
        while pending:
            if self.tally.rounds >= MAX_ROUNDS:
                log(f"  gave up with {len(pending)} people never scanned")
                for email in pending:
                    self.last[email] = self.last.get(email, "never")
                return
            chosen = {email: (plans[email][0] if plans[email] else None) for email in pending}
            outcomes: dict[str, tuple[str, KillPoint | None]] = {}
            for first in range(0, len(pending), BATCH):
                batch = pending[first : first + BATCH]
                if self.overlap > 1:
                    with ThreadPoolExecutor(max_workers=min(self.overlap, len(batch))) as pool:
                        done = pool.map(self.deliver, batch, [chosen[e] for e in batch])
                        outcomes.update(zip(batch, done, strict=True))
                else:
                    outcomes.update((e, self.deliver(e, chosen[e])) for e in batch)
            again: list[str] = []
            for email in pending:
                outcome, fired = outcomes[email]
                self.tally.deliveries += 1
                self.last[email] = outcome
                if chosen[email] is not None:
                    self.tally.kills_armed += 1
                    plans[email].pop(0)  # fired or not reached: either way it is used up
                if fired is not None:
                    self.tally.kills_fired[fired.name] += 1
                if outcome.startswith("failed") or outcome == "pending-writes":
                    self.tally.failed_scans += 1
                if outcome not in ("scanned", "skipped") or plans[email]:
                    again.append(email)
            pending = again
            self.tally.rounds += 1
            self.round += 1
            self.settle()
            log(f"  round {self.round}: {len(pending)} people to redeliver")

    def clean_round(self) -> int:
        """Everyone scanned once, no fault, no kill; the Calendar writes it made."""
        before = len(self.server.write_log)
        for email in self.emails:
            outcome, _ = self.deliver(email, None)
            person = self.store.get_person(email)
            if person is not None and person.status is not PersonStatus.OPTED_OUT:
                self.last[email] = outcome
        self.round += 1
        return len(self.server.write_log) - before

    # -- the person's own changes --------------------------------------------------------

    def meetings_on_holds(self, share: float) -> int:
        """A new meeting lands on one future hold of ``share`` of the people."""
        landed = 0
        for index, email in enumerate(self.emails):
            if self.rng.random() >= share:
                continue
            future = sorted(
                (h for h in self.store.holds(email)
                 if h.status in ON_CALENDAR and h.start > self.now + timedelta(hours=2)),
                key=lambda h: (h.start, h.id),
            )  # fmt: skip
            if not future:
                continue
            hold = self.rng.choice(future)
            self.server.seed(email, [{
                "id": f"clash{index:05d}",
                "status": "confirmed",
                "start": {"dateTime": (hold.start - timedelta(minutes=15)).isoformat()},
                "end": {"dateTime": (hold.end + timedelta(minutes=15)).isoformat()},
                "organizer": {"email": f"boss{index}@elsewhere.example"},
                "attendees": [
                    {"email": email, "responseStatus": "accepted"},
                    {"email": f"boss{index}@elsewhere.example", "responseStatus": "accepted"},
                ],
            }])  # fmt: skip
            landed += 1
        return landed

    def opt_out(self, share: float) -> list[str]:
        leaving = []
        for email in self.emails:
            if self.rng.random() >= share:
                continue
            person = self.store.get_person(email)
            if person is None or person.status is not PersonStatus.ACTIVE:
                continue
            self.store.update_person(person.model_copy(update={"status": PersonStatus.LEAVING}))
            leaving.append(email)
        return leaving

    # -- the audit -------------------------------------------------------------------------

    def audit(self) -> dict[str, int]:
        """The invariants, counted from the server's state and write log."""
        ours: dict[str, dict[str, dict[str, Any]]] = {}
        for email in self.emails:
            ours[email] = {
                r["id"]: r
                for r in self.server.events(email, include_cancelled=False)
                if tags(r).get("micromoments") == "1" and tags(r).get("mm_hold_id") == r["id"]
            }
        holds = {email: self.store.holds(email) for email in self.emails}
        live = {e: {h.id for h in hs if h.status in REACHED_CALENDAR} for e, hs in holds.items()}
        lost = sum(1 for e in self.emails for hold_id in live[e] if hold_id not in ours[e])
        stray = 0
        duplicates = 0
        left_after_opt_out = 0
        for email in self.emails:
            person = self.store.get_person(email)
            assert person is not None
            tz = person.zone(self.settings)
            slots: Counter[tuple[str, str]] = Counter()
            for hold_id, resource in ours[email].items():
                organiser = str((resource.get("organizer") or {}).get("email") or email).lower()
                owner = organiser if organiser in live else email
                if hold_id not in live[owner] or hold_id not in ours[owner]:
                    stray += 1
                kind = tags(resource).get("mm_kind", "")
                start = datetime.fromisoformat(resource["start"]["dateTime"]).astimezone(tz)
                if kind in {k.value for k in SHARED_KINDS}:
                    year, week, _ = start.isocalendar()
                    slots[(kind, f"{year}-W{week:02d}")] += 1
                else:
                    slots[(kind, start.date().isoformat())] += 1
                end = datetime.fromisoformat(resource["end"]["dateTime"])
                if person.status is PersonStatus.OPTED_OUT and end > self.now:
                    left_after_opt_out += 1
            duplicates += sum(n - 1 for n in slots.values() if n > 1)
        # A shared event invites exactly the members its record names (the rest were dropped).
        guest_lists = 0
        for email in self.emails:
            for hold in holds[email]:
                if not hold.shared or hold.status not in (HoldStatus.PLACED, HoldStatus.MOVED):
                    continue
                event = ours[email].get(hold.id)
                if event is None or hold.end <= self.now:
                    continue
                invited = {str(a.get("email", "")).lower() for a in event.get("attendees", ())}
                named = {self.store.address_of(alias) for alias in hold.attendees}
                guest_lists += invited - {email} != named
        changes = [w for w in self.server.write_log if w.method != "insert"]
        untagged = sum(1 for w in changes if w.before is not None and w.before.get(
            "micromoments") != "1")  # fmt: skip
        missing = sum(1 for w in changes if w.before is None)
        statuses = Counter(h.status for hs in holds.values() for h in hs)
        return {
            "people": len(self.emails),
            "people_scanned": sum(1 for e in self.emails if self.last.get(e) == "scanned"),
            "opted_out": sum(
                1
                for e in self.emails
                if (p := self.store.get_person(e)) and p.status is PersonStatus.OPTED_OUT
            ),
            "live_holds": sum(len(v) for v in live.values()),
            "events_of_ours": sum(len(v) for v in ours.values()),
            "lost_holds": lost,
            "duplicate_holds": duplicates,
            "stray_events": stray,
            "writes_to_untagged_events": untagged,
            "writes_to_missing_events": missing,
            "pending_journal": sum(len(self.store.pending_journal(e)) for e in self.emails),
            "spurious_dismissed": statuses[HoldStatus.DISMISSED],
            "spurious_adopted": statuses[HoldStatus.ADOPTED],
            "holds_left_after_opt_out": left_after_opt_out,
            "guest_lists_out_of_step": guest_lists,
            "shared_holds": sum(1 for hs in holds.values() for h in hs if h.shared),
        }


def _outcome(report: ScanReport) -> str:
    if report.outcome == "scanned" and report.failed_writes:
        return "pending-writes"  # the worker reports the message failed: redelivered
    return report.outcome


# -- the run ---------------------------------------------------------------------------------


def run_faults(
    people: int,
    *,
    seed: int = 7,
    fault_rate: float = 0.2,
    lost_answer_rate: float = 0.05,
    batch_fault_rate: float = 0.05,
    token_fault_rate: float = 0.05,
    kills_per_person: int = 3,
    meeting_share: float = 0.3,
    opt_out_share: float = 0.1,
    client_timeout_s: float = 0.25,
    max_attempts: int = 3,
    overlap: int = BATCH,
    probe: Callable[[World], None] | None = None,
) -> dict[str, Any]:
    """The three phases (see the module's doc); the audits and what the storm did.

    ``probe`` sees the world at the end, before its server stops (tests use it)."""
    started = time.perf_counter()
    world = World(
        people,
        seed=seed,
        fault_rate=fault_rate,
        lost_answer_rate=lost_answer_rate,
        batch_fault_rate=batch_fault_rate,
        token_fault_rate=token_fault_rate,
        client_timeout_s=client_timeout_s,
        max_attempts=max_attempts,
        overlap=overlap,
    )
    try:
        log(f"bench/faults: {people} people, fault rate {fault_rate}, "
            f"{kills_per_person} kill points each")  # fmt: skip
        pairing = world.pair()
        plans = {e: kill_plan(world.rng, kills_per_person) for e in world.emails}
        world.storm(world.emails, plans)
        first = world.audit()
        log(f"  after the first scans: {first}")
        landed = world.meetings_on_holds(meeting_share)
        leaving = world.opt_out(opt_out_share)
        plans = {e: kill_plan(world.rng, max(1, kills_per_person - 1)) for e in world.emails}
        world.storm(world.emails, plans)
        storm = world.audit()
        log(f"  after the changes: {storm}")
        world.faults_off()
        world.clean_round()
        last_writes = world.clean_round()
        clean = world.audit()
        log(f"  after two clean rounds: {clean}")
        faults = sum(
            n for status, n in world.server.counters.by_status.items() if int(status) >= 429
        )
        if probe is not None:
            probe(world)
        return {
            "people": people,
            "seed": seed,
            "fault_rate": fault_rate,
            "lost_answer_rate": lost_answer_rate,
            "batch_fault_rate": batch_fault_rate,
            "token_fault_rate": token_fault_rate,
            "kills_per_person": kills_per_person,
            "max_attempts": max_attempts,
            "overlap": overlap,
            "pairing": pairing,
            "meetings_landed_on_holds": landed,
            "people_opting_out": len(leaving),
            "deliveries": world.tally.deliveries,
            "rounds": world.tally.rounds,
            "kills_armed": world.tally.kills_armed,
            "kills_fired": sum(world.tally.kills_fired.values()),
            "kills_by_point": dict(sorted(world.tally.kills_fired.items())),
            "failed_scans_redelivered": world.tally.failed_scans,
            "server_fault_answers": faults,
            "server_requests": world.server.counters.requests,
            "calendar_writes": len(world.server.write_log),
            "after_first_scans": first,
            "after_storm": storm,
            "after_clean_rounds": clean,
            "writes_in_last_clean_round": last_writes,
            "seconds": round(time.perf_counter() - started, 1),
        }
    finally:
        world.close()


def rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    size = result["people"]
    storm, clean = result["after_storm"], result["after_clean_rounds"]
    phases = ("after_first_scans", "after_storm", "after_clean_rounds")
    worst = {
        key: max(result[phase][key] for phase in phases)
        for key in ("lost_holds", "duplicate_holds", "stray_events", "writes_to_untagged_events")
    }
    scanned = min(result["after_first_scans"]["people_scanned"], storm["people_scanned"])
    return [
        {"what": f"people scanned under {result['fault_rate']:.0%} faults + "
                 f"{result['kills_fired']} killed workers", "size": size,
         "result": f"{scanned} of {size}", "target": "all", "met": scanned == size},
        {"what": "duplicate holds (+ stray events of ours)", "size": size,
         "result": f"{worst['duplicate_holds']} (+ {worst['stray_events']})", "target": "0",
         "met": worst["duplicate_holds"] == 0 and worst["stray_events"] == 0},
        {"what": "lost holds", "size": size, "result": worst["lost_holds"], "target": "0",
         "met": worst["lost_holds"] == 0},
        {"what": "writes to events without our tag", "size": size,
         "result": f"{worst['writes_to_untagged_events']} of {result['calendar_writes']}",
         "target": "0", "met": worst["writes_to_untagged_events"] == 0},
        {"what": "Calendar writes in a clean rescan after the storm", "size": size,
         "result": result["writes_in_last_clean_round"], "target": "0",
         "met": result["writes_in_last_clean_round"] == 0},
        {"what": "opted-out people's future holds left / shared guest lists out of step",
         "size": size,
         "result": f"{clean['holds_left_after_opt_out']} / {clean['guest_lists_out_of_step']}",
         "target": "0 / 0",
         "met": clean["holds_left_after_opt_out"] == 0 and clean["guest_lists_out_of_step"] == 0},
        {"what": "holds wrongly marked dismissed / adopted", "size": size,
         "result": f"{clean['spurious_dismissed']} / {clean['spurious_adopted']}",
         "target": "0 / 0",
         "met": clean["spurious_dismissed"] == 0 and clean["spurious_adopted"] == 0},
    ]  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--people", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--fault-rate", type=float, default=0.2)
    parser.add_argument("--kills", type=int, default=3, help="kill points per person")
    args = parser.parse_args(argv)
    logging.getLogger("googleapiclient").setLevel(logging.ERROR)
    result = run_faults(
        args.people, seed=args.seed, fault_rate=args.fault_rate, kills_per_person=args.kills
    )
    doc: dict[str, Any] = {
        **result,
        "machine": {"platform": platform.platform(), "python": platform.python_version()},
        "date": datetime.now(UTC).date().isoformat(),
        "rows": rows(result),
    }
    print(json.dumps(doc) if args.json else json.dumps(doc, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
