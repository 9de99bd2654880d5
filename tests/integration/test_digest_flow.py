"""The weekly digest on moto (in-process): the dispatch handler fills the digest queue, the
send handler drains it through SES v2, and moto's SES records exactly one message per
person; a redelivered message sends nothing more; the claim is a real conditional write."""

from __future__ import annotations

import email
import io
import json
import uuid
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from datetime import date, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import RawMessage, ses_backends

from micromoments import wiring
from micromoments.adapters.dynamo import create_table, dynamo_store
from micromoments.adapters.secrets import ensure_master_key
from micromoments.adapters.table import TableStore
from micromoments.config import config
from micromoments.domain.day_load import DayLoad
from micromoments.domain.digest import DigestState
from micromoments.domain.people import Person, PersonStatus, Preferences
from micromoments.domain.settings import OrgSettings

pytestmark = pytest.mark.integration

SENDER = "digest@example.com"
BASE_URL = "https://micromoments.example.com"
MONDAY = date(2026, 11, 23)  # 2026-W48
BERLIN_FRIDAY_15 = "2026-11-27T14:00:00Z"  # Friday 15:00 in Berlin
HONOLULU_FRIDAY_15 = "2026-11-28T01:00:00Z"  # Friday 15:00 in Honolulu: Saturday in UTC
BUSY = ("ana@example.com", "ben@example.com", "cem@example.com")
HANA = "hana@example.com"  # Honolulu


class Context:
    function_name = "digest"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:digest"
    aws_request_id = "req-1"


CACHES = (config, wiring.store, wiring.digest_queue, wiring.master_key, wiring.mailer)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "1")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "micromoments")
    monkeypatch.delenv("MICROMOMENTS_OUTBOX_DIR", raising=False)
    with mock_aws():
        table = f"t-{uuid.uuid4().hex[:8]}"
        create_table(boto3.client("dynamodb"), table)
        sqs = boto3.client("sqs")
        url = sqs.create_queue(QueueName=f"digest-{uuid.uuid4().hex[:8]}")["QueueUrl"]
        secret = f"micromoments/test-{uuid.uuid4().hex[:8]}/signing-key"
        ensure_master_key(secret)
        boto3.client("sesv2").create_email_identity(EmailIdentity=SENDER)
        for name, value in {
            "MICROMOMENTS_TABLE_NAME": table,
            "MICROMOMENTS_DIGEST_QUEUE_URL": url,
            "MICROMOMENTS_SIGNING_KEY_SECRET": secret,
            "MICROMOMENTS_PUBLIC_BASE_URL": BASE_URL,
            "MICROMOMENTS_SENDER_ADDRESS": SENDER,
        }.items():
            monkeypatch.setenv(name, value)
        for cached in CACHES:
            cached.cache_clear()
        store = dynamo_store(table)
        store.create_settings(OrgSettings(timezone="Europe/Berlin"))
        yield {"store": store, "sqs": sqs, "url": url}
        for cached in CACHES:
            cached.cache_clear()


def seed(store: TableStore) -> None:
    def week(email: str, minutes: int) -> None:
        store.put_day_loads(
            email,
            [
                DayLoad(MONDAY + timedelta(days=d), True, minutes, 0, 0, 0, 120, False, ())
                for d in range(5)
            ],
        )

    for address in BUSY:
        store.create_person(Person(email=address, timezone="Europe/Berlin"))
        week(address, 150)
    store.create_person(Person(email=HANA, timezone="Pacific/Honolulu"))
    week(HANA, 200)
    store.create_person(Person(email="quiet@example.com", timezone="Europe/Berlin"))
    week("quiet@example.com", 0)
    store.create_person(
        Person(email="gone@example.com", timezone="Europe/Berlin", status=PersonStatus.OPTED_OUT)
    )
    store.create_person(
        Person(email="off@example.com", preferences=Preferences(weekly_email=False))
    )
    for address in ("gone@example.com", "off@example.com"):
        week(address, 150)


def ses_sent() -> list[RawMessage]:
    region = boto3.Session().region_name
    return [m for m in ses_backends[DEFAULT_ACCOUNT_ID][region].sent_messages]


def receive(sqs: Any, url: str) -> list[dict[str, Any]]:
    """Every message waiting, as the Lambda event source delivers them (not deleted)."""
    records = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=300).get(
            "Messages", []
        )
        if not got:
            return records
        for message in got:
            records.append(
                {
                    "messageId": message["MessageId"],
                    "receiptHandle": message["ReceiptHandle"],
                    "body": message["Body"],
                    "attributes": {"ApproximateReceiveCount": "1"},
                    "messageAttributes": {},
                    "md5OfBody": message["MD5OfBody"],
                    "eventSource": "aws:sqs",
                    "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:digest",
                    "awsRegion": "eu-west-1",
                }
            )


def send_all(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from micromoments.handlers import digest

    failures = []
    for start in range(0, len(records), 10):
        event = {"Records": records[start : start + 10]}
        answer = digest.send_handler(event, Context())  # type: ignore[arg-type]
        failures += answer["batchItemFailures"]
    return failures


def recipients(sent: list[RawMessage]) -> list[str]:
    found = []
    for message in sent:
        parsed = email.message_from_string(message.raw_data, policy=policy.default)
        found += [address for _, address in getaddresses(parsed.get_all("To", []))]
    return sorted(found)


def test_dispatch_queue_send_one_email_per_person(aws: dict[str, Any]) -> None:
    from micromoments.handlers import digest

    store: TableStore = aws["store"]
    seed(store)
    scheduled = {"kind": "digest", "scheduled_time": BERLIN_FRIDAY_15}
    answer = digest.dispatch_handler(scheduled, Context())  # type: ignore[arg-type]
    # Berlin's Friday 15:00: of the six opted in, the three busy people and the quiet one;
    # not Honolulu yet, not the one who turned the email off (nor the opted-out person)
    assert answer == {"people_seen": 6, "enqueued": 4, "batches": 1}
    records = receive(aws["sqs"], aws["url"])
    assert sorted(json.loads(r["body"])["person"] for r in records) == sorted(
        [*BUSY, "quiet@example.com"]
    )
    assert {json.loads(r["body"])["week"] for r in records} == {"2026-W48"}

    assert send_all(records) == []
    sent = ses_sent()
    assert recipients(sent) == sorted(BUSY)  # the quiet week got no email
    for message in sent:
        assert message.source == SENDER
        parsed = email.message_from_string(message.raw_data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        assert parsed.get_content_type() == "multipart/alternative"
        assert str(parsed["List-Unsubscribe"]).startswith(f"<{BASE_URL}/unsubscribe?token=")
        # on the wire as written, not RFC 2047-encoded (RFC 2369)
        assert f"List-Unsubscribe: <{BASE_URL}/unsubscribe?token=" in message.raw_data
        assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    for person in [*BUSY, "quiet@example.com"]:
        record = store.get_digest(person, "2026-W48")
        assert record is not None and record.state is DigestState.SENT

    # the queue redelivers the whole batch (a lost delete): nothing more is sent
    assert send_all(records) == []
    assert len(ses_sent()) == len(BUSY)

    # an hour later the dispatch finds nobody new in Berlin
    later = {"kind": "digest", "scheduled_time": "2026-11-27T15:00:00Z"}
    assert digest.dispatch_handler(later, Context())["enqueued"] == 0  # type: ignore[arg-type]

    # Honolulu's Friday 15:00 is Saturday 01:00 UTC: now her week's digest goes
    saturday = {"kind": "digest", "scheduled_time": HONOLULU_FRIDAY_15}
    assert digest.dispatch_handler(saturday, Context())["enqueued"] == 1  # type: ignore[arg-type]
    records = receive(aws["sqs"], aws["url"])
    assert [json.loads(r["body"]) for r in records] == [{"person": HANA, "week": "2026-W48"}]
    assert send_all(records) == []
    assert recipients(ses_sent()) == sorted([*BUSY, HANA])


def test_a_refused_send_is_retried_and_then_sent_once(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from micromoments.handlers import digest

    store: TableStore = aws["store"]
    seed(store)
    boto3.client("sesv2").delete_email_identity(EmailIdentity=SENDER)  # SES refuses
    digest.dispatch_handler(
        {"scheduled_time": BERLIN_FRIDAY_15},
        Context(),  # type: ignore[arg-type]
    )
    records = receive(aws["sqs"], aws["url"])
    failures = send_all(records)
    busy = {r["messageId"] for r in records if json.loads(r["body"])["person"] in BUSY}
    assert {f["itemIdentifier"] for f in failures} == busy
    assert ses_sent() == []
    for person in BUSY:
        assert store.get_digest(person, "2026-W48") is None  # released for the retry

    boto3.client("sesv2").create_email_identity(EmailIdentity=SENDER)
    retried = [r for r in records if r["messageId"] in busy]
    assert send_all(retried) == []
    assert send_all(retried) == []  # and once more, redelivered
    assert recipients(ses_sent()) == sorted(BUSY)


def test_a_malformed_message_is_dropped_not_retried(aws: dict[str, Any]) -> None:
    from micromoments.handlers import digest

    record = {
        "messageId": "m-1",
        "receiptHandle": "rh",
        "body": '{"person": "ana@example.com", "week": "last week"}',
        "attributes": {},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:digest",
        "awsRegion": "eu-west-1",
    }
    answer = digest.send_handler({"Records": [record]}, Context())  # type: ignore[arg-type]
    assert answer == {"batchItemFailures": []}
    assert ses_sent() == []


def run_cli(*argv: str) -> tuple[int, str, str]:
    from micromoments.cli import main

    stdout, stderr = io.StringIO(), io.StringIO()
    with redirect_stdout(stdout), redirect_stderr(stderr):
        try:
            code = main(list(argv))
        except SystemExit as exit:  # argparse's own errors
            code = int(exit.code or 0)
    return code, stdout.getvalue(), stderr.getvalue()


def test_the_preview_command_writes_one_person_s_html(aws: dict[str, Any], tmp_path: Path) -> None:
    store: TableStore = aws["store"]
    seed(store)
    out = tmp_path / "previews"
    code, stdout, stderr = run_cli(
        "digest",
        "--person",
        "Ana@Example.com",
        "--week",
        "2026-W48",
        "--preview",
        "--out",
        str(out),
    )
    assert code == 0, stderr
    path = Path(stdout.strip())
    assert path == out / "digest-2026-W48-ana-example-com.html"
    page = path.read_text(encoding="utf-8")
    assert "12.5 h" in page  # five days of 2 h 30 min
    assert f"{BASE_URL}/unsubscribe?token=" in page
    assert ses_sent() == []  # a preview sends nothing
    assert store.get_digest("ana@example.com", "2026-W48") is None  # and writes nothing

    # the current week by default
    code, stdout, _ = run_cli(
        "digest", "--person", "ana@example.com", "--preview", "--out", str(out)
    )
    assert code == 0 and Path(stdout.strip()).is_file()


@pytest.mark.parametrize(
    ("argv", "code", "says"),
    [
        (["--person", "ana@example.com"], 1, "add --preview"),
        (["--person", "nobody@example.com", "--preview"], 1, "no person"),
        (["--person", "ana@example.com", "--week", "2026-48", "--preview"], 2, "ISO week"),
    ],
)
def test_the_preview_command_errors_are_one_line(
    aws: dict[str, Any], tmp_path: Path, argv: list[str], code: int, says: str
) -> None:
    seed(aws["store"])
    got, stdout, stderr = run_cli("digest", *argv, "--out", str(tmp_path))
    assert got == code
    assert stdout == ""
    assert says in stderr and stderr.count("\n") == 1 and "Traceback" not in stderr
