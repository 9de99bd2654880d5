"""The weekly digest use case on fakes (the in-memory Store, the in-memory mailer): the
numbers of a hand-built week reach the email, the trend and the suggestion; at most one
email per person and week (a redelivered message, a crash between send and mark, a refused
send); nobody opted out or with the email off gets one; the time-zone edge; the headers and
the MIME structure as Python's `email` package reads them; the send handler's partial batch
failures."""

from __future__ import annotations

import email
import re
import uuid
from datetime import UTC, date, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import parseaddr, parsedate_to_datetime
from functools import partial
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest

from micromoments.adapters.mail import MemoryMailer
from micromoments.adapters.memory import MemoryTable
from micromoments.adapters.table import TableStore
from micromoments.config import Config, DigestDispatchSettings, function_settings
from micromoments.domain.calendar import EventKind
from micromoments.domain.digest import DigestState
from micromoments.domain.digest_request import DigestRequest, MalformedDigestRequest
from micromoments.domain.holds import HoldKind, HoldStatus
from micromoments.domain.mirror import MirrorEvent, SyncState
from micromoments.domain.people import Person, PersonStatus, Preferences
from micromoments.domain.settings import OrgSettings
from micromoments.handlers import digest as handler
from micromoments.ports import MailError, StoreError
from micromoments.services import links as links_service
from micromoments.services.digest import (
    SendOutcome,
    dispatch_digests,
    due_people,
    gather_digest,
    preview,
    send_digest,
)
from tests import builders

ANA = "ana@example.com"
BERLIN = ZoneInfo("Europe/Berlin")
HONOLULU = ZoneInfo("Pacific/Honolulu")
MONDAY = date(2026, 11, 23)  # 2026-W48
LABEL = "2026-W48"
FRIDAY_SEND = datetime(2026, 11, 27, 15, 0, tzinfo=BERLIN)  # the org's default send time
MASTER_KEY = bytes(range(32))


class ListScanQueue:
    def __init__(self) -> None:
        self.sent: list[Any] = []

    def send(self, requests: list[Any]) -> None:
        self.sent.extend(requests)


BASE_URL = "https://micromoments.example.com"
SENDER = "micromoments <digest@example.com>"


load = builders.day_load


hold = partial(builders.hold, hour=14, busy=True)


# The hand-built week: Mon 6 h (a 3-hour run, overloaded), Tue 2 h, Wed 4 h in working hours
# and 90 minutes after (5.5 h), Thu 1 h; 11 h of focus. The week before: 8 h. The week
# after: Tue 7 h.
THIS_WEEK = [
    load(MONDAY, 360, run=180, overloaded=True),
    load(MONDAY + timedelta(days=1), 120, focus=120),
    load(MONDAY + timedelta(days=2), 240, after=90, run=120),
    load(MONDAY + timedelta(days=3), 60, focus=180),
    load(MONDAY + timedelta(days=4), 0, focus=360),
]
LAST_WEEK = [load(MONDAY - timedelta(days=7 - d), 120 if d < 4 else 0) for d in range(7)]
NEXT_WEEK = [load(MONDAY + timedelta(days=7 + d), m) for d, m in enumerate([60, 420, 90, 0, 30])]
HOLDS = [
    hold(HoldKind.BREATHER, MONDAY, HoldStatus.KEPT),
    hold(HoldKind.BREATHER, MONDAY + timedelta(days=2), HoldStatus.DISMISSED),
    hold(HoldKind.SOCIAL, MONDAY + timedelta(days=1), HoldStatus.KEPT),
    hold(HoldKind.BREATHER, MONDAY + timedelta(days=8), HoldStatus.PLACED),  # next week
]
CHAT = datetime(2026, 11, 25, 13, tzinfo=BERLIN)
MIRROR = [
    # a coffee chat someone else organised: a guest's copy in Ana's mirror
    MirrorEvent(
        "mmchat",
        CHAT,
        CHAT + timedelta(minutes=20),
        EventKind.HOLD,
        hold_id="mmchat",
        hold_kind="coffee",
    ),
    # an ordinary meeting and a personal hold of ours: not shared moments
    MirrorEvent("m1", CHAT + timedelta(hours=1), CHAT + timedelta(hours=2), EventKind.MEETING),
    MirrorEvent(
        "mmbreather",
        CHAT,
        CHAT + timedelta(minutes=10),
        EventKind.HOLD,
        hold_id="mmbreather",
        hold_kind="breather",
    ),
]


def new_store(settings: OrgSettings | None = None) -> TableStore:
    store = TableStore(MemoryTable())
    store.create_settings(settings or OrgSettings(timezone="Europe/Berlin"))
    return store


def add_ana(store: TableStore, **changes: Any) -> Person:
    person = Person(email=ANA, timezone="Europe/Berlin", **changes)
    store.create_person(person)
    store.put_day_loads(ANA, THIS_WEEK + LAST_WEEK + NEXT_WEEK)
    store.put_holds(ANA, HOLDS)
    store.update_mirror(ANA, MIRROR)
    return person


def send(store: TableStore, mailer: MemoryMailer, who: str = ANA, label: str = LABEL,
         now: datetime = FRIDAY_SEND) -> SendOutcome:  # fmt: skip
    return send_digest(store, mailer, email=who, label=label, now=now, master_key=MASTER_KEY,
                       base_url=BASE_URL, sender=SENDER)  # fmt: skip


def parsed(message: EmailMessage) -> EmailMessage:
    """The message as a recipient's mail program reads it: from the wire bytes."""
    wire = message.as_bytes(policy=message.policy.clone(cte_type="7bit", linesep="\r\n"))
    got = email.message_from_bytes(wire, policy=policy.default)
    assert isinstance(got, EmailMessage)
    return got


def wire_headers(message: EmailMessage) -> dict[str, str]:
    """The top-level header fields as the bytes SES gets carry them, unfolded, undecoded."""
    wire = message.as_bytes(policy=message.policy.clone(cte_type="7bit", linesep="\r\n"))
    head = wire.split(b"\r\n\r\n", 1)[0]
    assert head.isascii()
    lines = head.split(b"\r\n")
    assert all(len(line) <= 998 for line in lines)
    fields: dict[str, str] = {}
    for line in head.decode("ascii").replace("\r\n ", " ").replace("\r\n\t", " ").split("\r\n"):
        name, _, value = line.partition(":")
        fields[name] = value.strip()
    return fields


def bodies(message: EmailMessage) -> tuple[str, str]:
    got = parsed(message)
    text, html = got.get_body(("plain",)), got.get_body(("html",))
    assert text is not None and html is not None
    return str(text.get_content()), str(html.get_content())


# -- the numbers ---------------------------------------------------------------------------


def test_the_numbers_of_a_hand_built_week_reach_the_email() -> None:
    store, mailer = new_store(), MemoryMailer()
    person = add_ana(store)

    digest = gather_digest(store, person, OrgSettings(timezone="Europe/Berlin"), LABEL,
                           FRIDAY_SEND)  # fmt: skip
    this = digest.this_week
    assert this.meeting_minutes == 360 + 120 + (240 + 90) + 60 == 870
    assert this.longest_run_minutes == 180
    assert this.focus_minutes == 120 + 180 + 360 == 660
    assert this.after_hours_minutes == 90 and this.overloaded_days == 1
    assert digest.last_week.meeting_minutes == 480
    m = digest.moments
    assert (m.breathers_placed, m.breathers_kept, m.breathers_dismissed) == (2, 1, 1)
    assert (m.social_placed, m.social_kept) == (1, 1)
    assert m.coffee.value == "happened"  # from the guest's copy in the mirror
    assert m.watercooler.value == "none"
    assert digest.outlook.heaviest_day == MONDAY + timedelta(days=8)
    assert digest.outlook.holds_planned == 1

    assert send(store, mailer) is SendOutcome.SENT
    [message] = mailer.sent
    assert message["Subject"] == "1 breather, some social time and a coffee chat this week"
    text, html = bodies(message)
    for body in (text, html):
        assert "14.5 h" in body  # the week's meetings
        assert "11 h" in body  # focus
        assert "1 h 30 min" in body  # outside working hours
    assert store.get_digest(ANA, LABEL).state is DigestState.SENT  # type: ignore[union-attr]


def test_the_trend_against_last_week() -> None:
    store, mailer = new_store(), MemoryMailer()
    add_ana(store)
    assert send(store, mailer) is SendOutcome.SENT
    text, html = bodies(mailer.sent[0])
    for body in (text, html):
        assert re.search(r"6.5 h more than last week.{0,8}8 h", body), body  # 870 - 480 min

    # a lighter week than the one before: "less"
    store.put_day_loads(ANA, [load(MONDAY - timedelta(days=7), 1200)])
    send(store, mailer, label=LABEL, now=FRIDAY_SEND)  # claimed already: nothing new
    assert len(mailer.sent) == 1
    person = store.get_person(ANA)
    assert person is not None
    digest = gather_digest(store, person, OrgSettings(), LABEL, FRIDAY_SEND)
    assert digest.trend_minutes == 870 - (1200 + 3 * 120)


def test_the_suggestion_rule_chosen_from_the_week() -> None:
    store, mailer = new_store(), MemoryMailer()
    person = add_ana(store)
    settings = OrgSettings()
    # the 3-hour run is the most pressing thing in this week
    assert gather_digest(store, person, settings, LABEL, FRIDAY_SEND).suggestion.rule == "long_run"
    # without it, next Tuesday's 7 hours of meetings is
    store.put_day_loads(ANA, [load(MONDAY, 360, run=90, overloaded=True)])
    digest = gather_digest(store, person, settings, LABEL, FRIDAY_SEND)
    assert digest.suggestion.rule == "heavy_day_ahead"
    assert send(store, mailer) is SendOutcome.SENT
    text, html = bodies(mailer.sent[0])
    assert "Next Tuesday already holds 7 h of meetings" in text
    assert "Next Tuesday already holds 7 h of meetings" in html


# -- at most once ------------------------------------------------------------------------------


def test_a_redelivered_message_sends_one_email() -> None:
    store, mailer = new_store(), MemoryMailer()
    add_ana(store)
    assert send(store, mailer) is SendOutcome.SENT
    assert send(store, mailer, now=FRIDAY_SEND + timedelta(minutes=5)) is (
        SendOutcome.ALREADY_CLAIMED
    )
    assert len(mailer.sent) == 1
    # and the dispatch does not queue her again this week
    assert list(due_people(store, FRIDAY_SEND + timedelta(hours=3))) == []


class MarkFails(TableStore):
    """The Store dies between the send and the mark (as a timed-out function would)."""

    def mark_digest_sent(self, email: str, iso_week: str, now: datetime) -> None:
        raise StoreError("DynamoDB is unreachable")


def test_a_crash_between_send_and_mark_never_sends_twice() -> None:
    table = MemoryTable()
    broken, mailer = MarkFails(table), MemoryMailer()
    broken.create_settings(OrgSettings(timezone="Europe/Berlin"))
    add_ana(broken)
    with pytest.raises(StoreError):
        send(broken, mailer)
    assert len(mailer.sent) == 1  # SES had accepted it
    store = TableStore(table)
    assert store.get_digest(ANA, LABEL).state is DigestState.CLAIMED  # type: ignore[union-attr]
    assert send(store, mailer) is SendOutcome.ALREADY_CLAIMED  # the redelivery
    assert list(due_people(store, FRIDAY_SEND + timedelta(hours=1))) == []  # nor dispatched
    assert len(mailer.sent) == 1


def test_a_refused_send_releases_the_week_for_a_retry() -> None:
    store, mailer = new_store(), MemoryMailer()
    add_ana(store)
    mailer.fail_next = "SES refused the message: Throttling"
    with pytest.raises(MailError):
        send(store, mailer)
    assert store.get_digest(ANA, LABEL) is None
    assert list(due_people(store, FRIDAY_SEND + timedelta(hours=1))) == [(ANA, LABEL)]
    assert send(store, mailer) is SendOutcome.SENT
    assert len(mailer.sent) == 1


def test_release_leaves_a_sent_week_alone() -> None:
    store = new_store()
    store.release_digest(ANA, LABEL)  # nothing to release
    assert store.claim_digest(ANA, LABEL, FRIDAY_SEND)
    store.mark_digest_sent(ANA, LABEL, FRIDAY_SEND)
    store.release_digest(ANA, LABEL)
    assert store.get_digest(ANA, LABEL).state is DigestState.SENT  # type: ignore[union-attr]


# -- who gets one ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "outcome"),
    [
        ({"status": PersonStatus.OPTED_OUT}, SendOutcome.SKIPPED_NOT_OPTED_IN),
        ({"status": PersonStatus.LEAVING}, SendOutcome.SKIPPED_NOT_OPTED_IN),
        ({"status": PersonStatus.SUSPENDED}, SendOutcome.SKIPPED_NOT_OPTED_IN),
        ({"preferences": Preferences(weekly_email=False)}, SendOutcome.SKIPPED_EMAIL_OFF),
    ],
)
def test_opted_out_and_email_off_people_get_nothing(
    changes: dict[str, Any], outcome: SendOutcome
) -> None:
    store, mailer = new_store(), MemoryMailer()
    add_ana(store, **changes)
    assert list(due_people(store, FRIDAY_SEND)) == []
    assert dispatch_digests(store, _Queue([]), now=FRIDAY_SEND).enqueued == 0
    # a message queued before they changed their mind is dropped at send time
    assert send(store, mailer) is outcome
    assert mailer.sent == []
    assert store.get_digest(ANA, LABEL) is None


def test_unsubscribing_between_dispatch_and_send_stops_the_email() -> None:
    store, mailer = new_store(), MemoryMailer()
    add_ana(store)
    assert list(due_people(store, FRIDAY_SEND)) == [(ANA, LABEL)]
    person = store.get_person(ANA)
    assert person is not None
    store.update_person(person.model_copy(update={"preferences": Preferences(weekly_email=False)}))
    assert send(store, mailer) is SendOutcome.SKIPPED_EMAIL_OFF
    assert mailer.sent == []


def test_a_quiet_week_gets_no_email_and_is_not_retried() -> None:
    store, mailer = new_store(), MemoryMailer()
    store.create_person(Person(email="quiet@example.com", timezone="Europe/Berlin"))
    store.put_day_loads("quiet@example.com", [load(MONDAY + timedelta(days=d)) for d in range(5)])
    assert send(store, mailer, who="quiet@example.com") is SendOutcome.SKIPPED_QUIET
    assert mailer.sent == []
    record = store.get_digest("quiet@example.com", LABEL)
    assert record is not None and record.state is DigestState.SENT
    assert list(due_people(store, FRIDAY_SEND + timedelta(hours=1))) == []


# -- when ------------------------------------------------------------------------------------


def test_friday_15_00_in_honolulu_is_saturday_in_utc() -> None:
    store, mailer = new_store(OrgSettings(timezone="UTC")), MemoryMailer()
    hana = "hana@example.com"
    store.create_person(Person(email=hana, timezone="Pacific/Honolulu"))
    store.put_day_loads(hana, [load(MONDAY + timedelta(days=d), 180) for d in range(5)])
    due_at = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)  # Saturday 01:00 UTC
    assert due_at.astimezone(HONOLULU).strftime("%a %Y-%m-%d %H:%M") == "Fri 2026-11-27 15:00"

    assert list(due_people(store, due_at - timedelta(minutes=1))) == []
    assert list(due_people(store, due_at)) == [(hana, "2026-W48")]  # her week, Friday's
    queued: list[list[DigestRequest]] = []
    report = dispatch_digests(store, _Queue(queued), now=due_at)
    assert report.enqueued == 1 and queued == [[DigestRequest(hana, "2026-W48")]]

    assert send(store, mailer, who=hana, label="2026-W48", now=due_at) is SendOutcome.SENT
    text, _ = bodies(mailer.sent[0])
    assert "15 h" in text  # five days of 3 hours in her week
    # someone in UTC had their Friday 15:00 ten hours earlier, in the same ISO week
    store.create_person(Person(email="uma@example.com", timezone="UTC"))
    utc_due = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
    assert list(due_people(store, utc_due - timedelta(minutes=1))) == []
    assert list(due_people(store, utc_due)) == [("uma@example.com", "2026-W48")]


def test_the_org_send_time_is_honoured() -> None:
    store = new_store(OrgSettings(timezone="Europe/Berlin", digest_send="Mon 09:30"))
    add_ana(store)
    monday = datetime(2026, 11, 23, 9, 30, tzinfo=BERLIN)
    # only the current local week is ever due: last week's ended with its Sunday
    assert list(due_people(store, monday - timedelta(minutes=1))) == []
    assert list(due_people(store, monday)) == [(ANA, LABEL)]


class _Queue:
    def __init__(self, batches: list[list[DigestRequest]]) -> None:
        self.batches = batches

    def send(self, requests: list[DigestRequest]) -> None:
        self.batches.append(list(requests))


def test_dispatch_sends_batches_of_ten() -> None:
    store = new_store()
    for i in range(23):
        store.create_person(Person(email=f"p{i:02d}@example.com"))
    store.create_person(Person(email="off@example.com", status=PersonStatus.OPTED_OUT))
    store.claim_digest("p00@example.com", LABEL, FRIDAY_SEND)  # being sent already
    batches: list[list[DigestRequest]] = []
    report = dispatch_digests(store, _Queue(batches), now=FRIDAY_SEND)
    assert report.to_json() == {"people_seen": 23, "enqueued": 22, "batches": 3}
    assert [len(b) for b in batches] == [10, 10, 2]
    assert {r.iso_week for b in batches for r in b} == {LABEL}


# -- the message -----------------------------------------------------------------------------


def test_headers_present_and_well_formed() -> None:
    store, mailer = new_store(), MemoryMailer()
    add_ana(store)
    send(store, mailer)
    got = parsed(mailer.sent[0])
    assert parseaddr(str(got["From"]))[1] == "digest@example.com"
    assert parseaddr(str(got["To"]))[1] == ANA
    assert got["Subject"]
    assert parsedate_to_datetime(str(got["Date"])) == FRIDAY_SEND
    assert re.fullmatch(r"<[^<>@\s]+@example\.com>", str(got["Message-ID"]))
    assert got["Auto-Submitted"] == "auto-generated"
    assert got["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"  # RFC 8058
    header = str(got["List-Unsubscribe"])
    match = re.fullmatch(r"<(https://[^<>\s]+)>", header)
    assert match, header
    link = urlsplit(match[1])
    assert f"{link.scheme}://{link.netloc}" == BASE_URL and link.path == "/unsubscribe"
    [token] = parse_qs(link.query)["token"]
    assert ANA not in header  # the link names her by a keyed alias only

    # on the wire, as SES gets it: ASCII lines within RFC 5322's limit, and the list
    # headers as written (RFC 2369: an encoded-word there hides the link from mail programs)
    wire = wire_headers(mailer.sent[0])
    assert wire["List-Unsubscribe"] == header
    assert wire["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    # the link works: the alias was recorded before sending, and one click turns it off
    assert links_service.unsubscribe(store, token, MASTER_KEY, FRIDAY_SEND).person is not None
    person = store.get_person(ANA)
    assert person is not None and not person.preferences.weekly_email


def test_the_digest_carries_a_working_opt_out_link() -> None:
    store, mailer = new_store(), MemoryMailer()
    add_ana(store)
    send(store, mailer)
    text = parsed(mailer.sent[0]).get_body(("plain",))
    assert text is not None
    found = re.search(r"https://\S+/leave\?token=(\S+)", text.get_content())
    assert found is not None
    queue = ListScanQueue()
    left = links_service.leave(store, queue, found[1], MASTER_KEY, FRIDAY_SEND)
    assert left.person is not None and left.person.status is not PersonStatus.ACTIVE


def test_the_mime_parts_parse_with_the_email_package() -> None:
    store, mailer = new_store(), MemoryMailer()
    add_ana(store)
    send(store, mailer)
    got = parsed(mailer.sent[0])
    assert got.get_content_type() == "multipart/alternative"
    assert got["MIME-Version"] == "1.0"
    parts = list(got.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    for part in parts:
        assert part.get_content_charset() in ("utf-8", "us-ascii")
        content = part.get_content()
        assert isinstance(content, str) and content.strip()
    html = str(parts[1].get_content())
    assert html.lstrip().lower().startswith("<!doctype html")
    assert f"{BASE_URL}/unsubscribe?token=" in html


def test_preview_renders_without_writing() -> None:
    store = new_store()
    add_ana(store)
    before = dict(store.table._items)  # type: ignore[attr-defined]
    html = preview(store, ANA, LABEL, now=FRIDAY_SEND, base_url=BASE_URL, master_key=MASTER_KEY)
    assert "14.5 h" in html and "/unsubscribe?token=" in html
    assert store.table._items == before  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[]",
        '{"person": "ana@example.com"}',
        '{"person": "ana@example.com", "week": "2026-48"}',
        '{"person": "ana@example.com", "week": "2026-W54"}',
        '{"person": "nobody", "week": "2026-W48"}',
        '{"person": "ana@example.com", "week": "2026-W48", "extra": 1}',
    ],
)
def test_malformed_requests_are_refused(body: str) -> None:
    with pytest.raises(MalformedDigestRequest):
        DigestRequest.from_body(body)


def test_a_request_round_trips() -> None:
    request = DigestRequest(ANA, LABEL)
    assert DigestRequest.from_body(request.to_body()) == request


# -- the send handler ------------------------------------------------------------------------


class Context:
    function_name = "digest-send"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:digest-send"
    aws_request_id = "req-1"


def sqs_record(body: str) -> dict[str, Any]:
    return {
        "messageId": uuid.uuid4().hex,
        "receiptHandle": "rh",
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:digest",
        "awsRegion": "eu-west-1",
    }


@pytest.fixture
def wired(monkeypatch: pytest.MonkeyPatch) -> tuple[TableStore, MemoryMailer]:
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "1")
    return new_store(), MemoryMailer()


def send_deps(wired: tuple[TableStore, MemoryMailer]) -> handler.SendDeps:
    """What the send function works with, on fakes (passed, not patched in)."""
    store, mailer = wired
    return handler.SendDeps(store, mailer, MASTER_KEY, BASE_URL, SENDER)


def test_the_send_handler_reports_only_the_failed_record(
    wired: tuple[TableStore, MemoryMailer],
) -> None:
    store, mailer = wired
    add_ana(store)
    store.create_person(Person(email="ben@example.com", timezone="Europe/Berlin"))
    store.put_day_loads("ben@example.com", [load(MONDAY, 120)])
    ana, ben = (sqs_record(DigestRequest(who, LABEL).to_body()) for who in (ANA, "ben@example.com"))
    malformed = sqs_record('{"person": "ana@example.com"}')
    mailer.fail_next = "SES refused the message to ana@example.com: Throttling"
    answer = handler.send_batch({"Records": [ana, ben, malformed]}, Context(), send_deps(wired))
    # Ana's send was refused: her message alone returns; the malformed one is dropped
    assert answer == {"batchItemFailures": [{"itemIdentifier": ana["messageId"]}]}
    assert [parseaddr(str(m["To"]))[1] for m in mailer.sent] == ["ben@example.com"]
    # the retry sends hers; a redelivery of Ben's sends nothing more
    answer = handler.send_batch({"Records": [ana, ben]}, Context(), send_deps(wired))
    assert answer == {"batchItemFailures": []}
    assert sorted(parseaddr(str(m["To"]))[1] for m in mailer.sent) == [ANA, "ben@example.com"]


def test_a_failed_send_is_logged_with_a_keyed_hash_of_the_address(
    wired: tuple[TableStore, MemoryMailer], caplog: pytest.LogCaptureFixture
) -> None:
    import hashlib

    from micromoments.domain.access import person_ref

    store, mailer = wired
    add_ana(store)
    mailer.fail_next = "SES refused the message"
    ana = sqs_record(DigestRequest(ANA, LABEL).to_body())
    other = sqs_record('{"person": "ana@example.com"}')  # so that not the whole batch fails
    handler.send_batch({"Records": [ana, other]}, Context(), send_deps(wired))
    logged = repr([record.__dict__ for record in caplog.records])
    (failed,) = [r for r in caplog.records if r.getMessage() == "digest not sent"]
    assert getattr(failed, "person_hash", None) == person_ref(MASTER_KEY, ANA)
    unkeyed = hashlib.sha256(ANA.encode()).hexdigest()
    assert unkeyed[:12] not in logged and ANA not in logged


def test_the_dispatch_handler_waits_for_the_site_url(
    wired: tuple[TableStore, MemoryMailer],
) -> None:
    unset = Config(table_name="t", digest_queue_url="https://sqs.example/q")  # no site URL
    ready = function_settings(DigestDispatchSettings, unset).ready
    answer = handler.dispatch(FRIDAY_SEND, handler.DispatchDeps(wired[0], ListScanQueue(), ready))
    assert answer["enqueued"] == 0 and answer["waiting"] is True


# -- what is on the person's calendar, since when ----------------------------------------------


def test_a_guests_coffee_chat_next_week_is_already_planned() -> None:
    store = new_store()
    person = add_ana(store)
    # next Tuesday's chat someone else organised: only the copy on Ana's calendar knows it
    chat = datetime(2026, 12, 1, 11, tzinfo=BERLIN)
    copy = MirrorEvent("mmnext", chat, chat + timedelta(minutes=20), EventKind.HOLD,
                       hold_id="mmnext", hold_kind="coffee")  # fmt: skip
    store.update_mirror(ANA, [copy])
    assert "mmnext" not in {h.id for h in store.holds(ANA)}
    digest = gather_digest(store, person, OrgSettings(), LABEL, FRIDAY_SEND)
    assert digest.outlook.holds_planned == 2  # her breather and the chat
    assert digest.moments.coffee.value == "happened"  # this week's, as a guest too


def test_the_first_scan_decides_which_week_was_observed() -> None:
    store, mailer = new_store(), MemoryMailer()
    add_ana(store)
    # her first scan was this Tuesday: last week's 8 h were read, never observed
    store.put_sync(
        ANA, SyncState(token="t", observed_since=datetime(2026, 11, 24, 9, tzinfo=BERLIN))
    )
    assert send(store, mailer) is SendOutcome.SENT
    text, html = bodies(mailer.sent[0])
    for body in (text, html):
        assert "first week with micromoments" in body
        assert "last week" not in body
