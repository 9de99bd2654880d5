"""`micromoments doctor` and `micromoments uninstall` end to end: the CLI in its own process
against moto's HTTP server and the local Calendar server, whose service-account key sits
in moto's Secrets Manager so the delegation path (JWT grant -> token endpoint) runs."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import pytest

from micromoments.adapters.dynamo import create_table, dynamo_store
from micromoments.adapters.google_calendar import GoogleCalendarGateway
from micromoments.adapters.memory import memory_store
from micromoments.adapters.secrets import ensure_master_key
from micromoments.adapters.table import TableStore
from micromoments.config import Config
from micromoments.domain.holds import UPCOMING, Hold, HoldKind, HoldStatus
from micromoments.domain.people import Person, PersonStatus
from micromoments.domain.push import PushChannel
from micromoments.domain.settings import OrgSettings
from micromoments.local.calendar_api import CalendarServer
from micromoments.local.calendar_api.oauth import generate_key
from micromoments.ops import doctor, uninstall
from micromoments.services.scan import scan_person

pytestmark = pytest.mark.integration

CLI = str(Path(sys.executable).with_name("micromoments"))
REGION = "eu-west-1"
BERLIN = ZoneInfo("Europe/Berlin")
ANA, BEN, CY = "ana@example.com", "ben@example.com", "cy@example.com"
NARROW = sorted(doctor.NARROW_SCOPES)


@pytest.fixture(scope="module")
def server() -> Iterator[CalendarServer]:
    with CalendarServer() as calendar_server:
        yield calendar_server


@dataclass
class Deployment:
    """A healthy deployment on the stand-ins, and the environment that names it."""

    env: dict[str, str]
    store: TableStore
    prefix: str
    server: CalendarServer
    moto_url: str

    def gateway(self) -> GoogleCalendarGateway:
        config = Config(
            calendar_api_url=self.server.base_url, google_token_uri=self.server.token_uri
        )

        def status_of(email: str) -> PersonStatus | None:
            person = self.store.get_person(email)
            return person.status if person else None

        return GoogleCalendarGateway(
            config,
            status_of=status_of,
            ours=lambda email: {h.id for h in self.store.holds(email)},
            key_info=self.server.service_account_key(),
        )


def client(service: str, url: str) -> Any:
    make: Any = boto3.client  # one helper for every service: typed per call site
    return make(service, endpoint_url=url, region_name=REGION)


@pytest.fixture
def deployment(moto_server_url: str, server: CalendarServer) -> Iterator[Deployment]:
    url, tag = moto_server_url, uuid.uuid4().hex[:8]
    table, prefix = f"doctor-{tag}", f"mm{tag}"

    dynamodb = client("dynamodb", url)
    create_table(dynamodb, table)
    store = dynamo_store(table, client=dynamodb)
    store.create_settings(OrgSettings(timezone="Europe/Berlin", allowed_domains=("example.com",)))

    secrets = client("secretsmanager", url)
    ensure_master_key(f"{prefix}/signing-key", client=secrets)
    secrets.create_secret(
        Name=f"{prefix}/google-key", SecretString=json.dumps(server.service_account_key())
    )

    sqs = client("sqs", url)

    def queue_with_dead_letters(name: str) -> str:
        dead = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
        dead_arn = sqs.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])
        redrive = {"deadLetterTargetArn": dead_arn["Attributes"]["QueueArn"], "maxReceiveCount": 5}
        attributes = {"RedrivePolicy": json.dumps(redrive)}
        return sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]

    queue = queue_with_dead_letters(f"{prefix}-scan")
    digest_queue = queue_with_dead_letters(f"{prefix}-digest")
    schedule_dead = sqs.create_queue(QueueName=f"{prefix}-schedule-dlq")["QueueUrl"]
    schedule_dead_arn = sqs.get_queue_attributes(
        QueueUrl=schedule_dead, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    for function, cron in (("dispatch", "0 * * * ? *"), ("pair", "0 12 ? * THU *"),
                           ("digest", "0 * * * ? *")):  # fmt: skip
        client("scheduler", url).create_schedule(
            Name=f"{prefix}-{function}",
            ScheduleExpression=f"cron({cron})",
            FlexibleTimeWindow={"Mode": "OFF"},
            State="ENABLED",
            Target={
                "Arn": f"arn:aws:lambda:{REGION}:123456789012:function:{prefix}-{function}",
                "RoleArn": f"arn:aws:iam::123456789012:role/{function}-scheduler",
                "DeadLetterConfig": {"Arn": schedule_dead_arn},
            },
        )
    client("sesv2", url).create_email_identity(EmailIdentity="example.com")

    for email in (ANA, BEN, CY):
        server.add_calendar(email, timezone="Europe/Berlin")
        store.create_person(Person(email=email))

    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MICROMOMENTS_"))}
    env.update(
        AWS_ENDPOINT_URL=url,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION=REGION,
        MICROMOMENTS_TABLE_NAME=table,
        MICROMOMENTS_SIGNING_KEY_SECRET=f"{prefix}/signing-key",
        MICROMOMENTS_GOOGLE_KEY_SECRET=f"{prefix}/google-key",
        MICROMOMENTS_SCAN_QUEUE_URL=queue,
        MICROMOMENTS_DIGEST_QUEUE_URL=digest_queue,
        MICROMOMENTS_SENDER_ADDRESS="micromoments@example.com",
        MICROMOMENTS_CALENDAR_API_URL=server.base_url,
        MICROMOMENTS_GOOGLE_TOKEN_URI=server.token_uri,
    )
    try:
        yield Deployment(env, store, prefix, server, url)
    finally:
        server.misconfigure_delegation(False)
        dynamodb.delete_table(TableName=table)


def mm(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLI, *args],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def doctor_json(d: Deployment, env: dict[str, str] | None = None) -> tuple[int, dict[str, str]]:
    done = mm(env or d.env, "doctor", "--json", "--schedule-prefix", d.prefix)
    assert "Traceback" not in done.stderr, done.stderr
    doc = json.loads(done.stdout)
    assert doc["ok"] is (done.returncode == 0)
    return done.returncode, {c["name"]: f"{c['status']} {c['detail']}" for c in doc["checks"]}


# -- doctor --------------------------------------------------------------------------------


SITE = "https://micromoments.example/"


def open_channel(d: Deployment, email: str, expires: datetime) -> None:
    """A channel as the scan stores it (doctor reads the Store only, never Google)."""
    tag = uuid.uuid4().hex
    d.store.put_channel(
        PushChannel(
            id=f"mm-{tag}", person=email, resource_id=f"r-{tag}", token_hash="0" * 64,
            expiration=expires,
        )
    )  # fmt: skip


def test_doctor_is_all_ok_on_a_healthy_deployment(deployment: Deployment) -> None:
    now = datetime.now(UTC)
    for email in (ANA, BEN, CY):
        open_channel(deployment, email, now + timedelta(days=6))
    deployment.env["MICROMOMENTS_PUBLIC_BASE_URL"] = SITE  # push is on
    code, checks = doctor_json(deployment)
    assert code == 0, [c for c in checks.values() if not c.startswith("ok")]
    assert list(checks) == [
        "table",
        "table ttl",
        "point-in-time recovery",
        "org settings",
        "scan queue",
        "scan dead-letter queue",
        "digest queue",
        "digest dead-letter queue",
        "dispatch schedule",
        "pair schedule",
        "digest schedule",
        "schedule dead-letter queue",
        "channel renewal",
        "channels and people",
        "SES identity",
        "signing key",
        "google access",
        "token exchange",
        "scopes",
        "calendar settings",
    ]
    assert all(status.startswith("ok ") for status in checks.values()), checks
    assert ANA in checks["token exchange"]  # the first opted-in person of the index
    assert "calendar.events.owned" in checks["scopes"]
    assert checks["calendar settings"].endswith("Europe/Berlin")
    assert checks["channel renewal"].startswith("ok 3 live channels; 0 due for renewal")
    assert checks["channels and people"].startswith(
        "ok 3 active people, 3 live channels, 0 active people without a live channel"
    )

    text = mm(deployment.env, "doctor", "--schedule-prefix", deployment.prefix)
    assert text.returncode == 0, text.stdout + text.stderr
    lines = text.stdout.splitlines()
    assert len(lines) == len(checks)
    assert all(line.startswith("ok   ") for line in lines), lines
    assert any(line.startswith("ok   token exchange: ") for line in lines)


def test_doctor_fails_unrenewed_missing_and_stray_channels(deployment: Deployment) -> None:
    now = datetime.now(UTC)
    deployment.env["MICROMOMENTS_PUBLIC_BASE_URL"] = SITE
    # Ana's channel lapsed 8 days ago: every working-hours week has a working day since
    open_channel(deployment, ANA, now - timedelta(days=8))
    open_channel(deployment, BEN, now + timedelta(days=6))  # Cy: active, no channel
    deployment.store.create_person(Person(email="dee@example.com"))
    opted_out = Person(email="dee@example.com", status=PersonStatus.OPTED_OUT)
    deployment.store.update_person(opted_out)
    open_channel(deployment, "dee@example.com", now + timedelta(days=6))
    items_before = deployment.store.channels(ANA) + deployment.store.channels(BEN)

    code, checks = doctor_json(deployment)
    assert code == 1
    assert checks["channel renewal"].startswith(
        "fail 1 of 3 active people's channels fell due before their last working day began"
    )
    assert checks["channels and people"].startswith(
        "fail 3 active people, 2 live channels, 2 active people without a live channel, "
        "1 live channels of people who left (1 opted_out)"
    )
    assert "@" not in checks["channel renewal"] + checks["channels and people"]
    after = deployment.store.channels(ANA) + deployment.store.channels(BEN)
    assert after == items_before  # doctor changes nothing


def test_doctor_fails_a_missing_table_and_queue(deployment: Deployment) -> None:
    env = dict(
        deployment.env,
        MICROMOMENTS_TABLE_NAME=f"missing-{uuid.uuid4().hex[:8]}",
        MICROMOMENTS_SCAN_QUEUE_URL=f"{deployment.moto_url}/123456789012/no-such-queue",
    )
    code, checks = doctor_json(deployment, env)
    assert code == 1
    assert checks["table"].startswith("fail ") and "does not exist" in checks["table"]
    assert checks["org settings"].startswith("skip ")
    assert checks["scan queue"].startswith("fail ") and "does not exist" in checks["scan queue"]
    assert checks["token exchange"].startswith("skip ")
    assert checks["signing key"].startswith("ok ")  # the rest still runs

    text = mm(env, "doctor", "--schedule-prefix", deployment.prefix)
    assert text.returncode == 1
    assert any(line.startswith("FAIL table: ") for line in text.stdout.splitlines())


def test_doctor_fails_a_disabled_schedule_and_one_without_dead_letters(
    deployment: Deployment,
) -> None:
    d = deployment
    scheduler = client("scheduler", d.moto_url)
    pair = scheduler.get_schedule(Name=f"{d.prefix}-pair")
    scheduler.update_schedule(
        Name=f"{d.prefix}-pair",
        ScheduleExpression=pair["ScheduleExpression"],
        FlexibleTimeWindow={"Mode": "OFF"},
        Target=pair["Target"],
        State="DISABLED",
    )
    digest = scheduler.get_schedule(Name=f"{d.prefix}-digest")
    target = {k: v for k, v in digest["Target"].items() if k != "DeadLetterConfig"}
    scheduler.update_schedule(
        Name=f"{d.prefix}-digest",
        ScheduleExpression=digest["ScheduleExpression"],
        FlexibleTimeWindow={"Mode": "OFF"},
        Target=target,
        State="ENABLED",
    )
    code, checks = doctor_json(d)
    assert code == 1
    assert checks["pair schedule"] == (
        f"fail {d.prefix}-pair is DISABLED: no weekly coffee chats or watercoolers are paired"
    )
    assert checks["digest schedule"].startswith("ok ")
    assert checks["schedule dead-letter queue"] == (f"fail {d.prefix}-digest: no dead-letter queue")
    assert checks["dispatch schedule"].startswith("ok ")


def test_doctor_skips_the_schedules_where_none_has_the_prefix(deployment: Deployment) -> None:
    done = mm(deployment.env, "doctor", "--json", "--schedule-prefix", "elsewhere")
    checks = {c["name"]: c for c in json.loads(done.stdout)["checks"]}
    names = ("dispatch schedule", "pair schedule", "digest schedule", "schedule dead-letter queue")
    assert {checks[name]["status"] for name in names} == {"skip"}
    assert "--schedule-prefix <stack name>" in checks["pair schedule"]["detail"]
    assert done.returncode == 0, done.stdout


def test_doctor_fails_a_missing_digest_queue_naming_its_setting(deployment: Deployment) -> None:
    url = f"{deployment.moto_url}/123456789012/no-digest-queue"
    code, checks = doctor_json(deployment, dict(deployment.env, MICROMOMENTS_DIGEST_QUEUE_URL=url))
    assert code == 1
    assert checks["digest queue"] == (
        f"fail {url} does not exist: check MICROMOMENTS_DIGEST_QUEUE_URL (DigestQueueUrl)"
    )
    assert checks["digest dead-letter queue"] == "skip no digest queue"
    assert checks["scan queue"].startswith("ok ")


def test_doctor_fails_misconfigured_delegation(deployment: Deployment) -> None:
    deployment.server.misconfigure_delegation()
    code, checks = doctor_json(deployment)
    assert code == 1
    assert checks["token exchange"].startswith("fail ")
    assert "unauthorized_client" in checks["token exchange"]
    assert checks["scopes"].startswith("skip ")
    assert checks["calendar settings"].startswith("skip ")
    assert checks["table"].startswith("ok ")


def keyless(d: Deployment) -> None:
    """Swap the key in the Google secret for a credential configuration whose pool trusts
    the CLI's AWS credentials (testing/testing) as the scan role."""
    from micromoments.local.calendar_api.aws_signature import AwsCaller

    role = "arn:aws:sts::123456789012:assumed-role/micromoments-scan/doctor"
    info = d.server.credential_configuration(
        [AwsCaller("testing", "testing", None, role)], aws_account="123456789012"
    )
    client("secretsmanager", d.moto_url).put_secret_value(
        SecretId=f"{d.prefix}/google-key", SecretString=json.dumps(info)
    )


def test_doctor_says_which_google_access_is_configured(deployment: Deployment) -> None:
    code, checks = doctor_json(deployment)
    assert code == 0
    assert checks["google access"].startswith("ok a service-account key of ")
    assert checks["token exchange"].endswith(f"for {ANA} (key)")

    keyless(deployment)
    code, checks = doctor_json(deployment)
    assert code == 0, [c for c in checks.values() if not c.startswith("ok")]
    assert checks["google access"].startswith("ok keyless: AWS federation into //iam.googleapis")
    assert "signJwt" in checks["google access"]
    assert checks["token exchange"].endswith(f"for {ANA} (keyless)")
    assert "calendar.events.owned" in checks["scopes"]
    assert checks["calendar settings"].endswith("Europe/Berlin")


def test_doctor_fails_keyless_access_without_the_token_creator_grant(
    deployment: Deployment,
) -> None:
    keyless(deployment)
    deployment.server.federation.token_creator_on_itself = False
    try:
        code, checks = doctor_json(deployment)
    finally:
        deployment.server.federation.token_creator_on_itself = True
    assert code == 1
    assert checks["google access"].startswith("ok keyless")
    assert checks["token exchange"].startswith("fail signJwt for ")
    assert "roles/iam.serviceAccountTokenCreator on itself" in checks["token exchange"]
    assert checks["scopes"].startswith("skip ")


def test_doctor_fails_a_google_secret_that_is_neither_key_nor_configuration(
    deployment: Deployment,
) -> None:
    client("secretsmanager", deployment.moto_url).put_secret_value(
        SecretId=f"{deployment.prefix}/google-key", SecretString='{"type": "authorized_user"}'
    )
    code, checks = doctor_json(deployment)
    assert code == 1
    assert checks["google access"].startswith("fail ")
    assert "keyless credential configuration" in checks["google access"]
    assert checks["token exchange"].startswith("skip ")


def test_doctor_without_google_key_or_queue_skips_them(deployment: Deployment) -> None:
    env = {
        k: v
        for k, v in deployment.env.items()
        if k
        not in (
            "MICROMOMENTS_GOOGLE_KEY_SECRET",
            "MICROMOMENTS_SCAN_QUEUE_URL",
            "MICROMOMENTS_DIGEST_QUEUE_URL",
            "MICROMOMENTS_SENDER_ADDRESS",
        )
    }
    code, checks = doctor_json(deployment, env)
    assert code == 0, [c for c in checks.values() if not c.startswith("ok")]
    for name in (
        "scan queue", "digest queue", "SES identity", "google access", "token exchange", "scopes",
    ):  # fmt: skip
        assert checks[name].startswith("skip "), checks[name]
    # no key: the local server accepts the X-Goog-User header instead
    assert checks["calendar settings"].startswith("ok ")


# -- doctor's checks, with fakes -----------------------------------------------------------


class _Response:
    def __init__(self, payload: dict[str, Any]) -> None:
        self.status = 200
        self.headers: dict[str, str] = {}
        self.data = json.dumps(payload).encode()


def _token_endpoint(scope: str | None) -> Any:
    def request(*args: Any, **kwargs: Any) -> _Response:
        payload: dict[str, Any] = {"access_token": "t", "expires_in": 3600}
        if scope is not None:
            payload["scope"] = scope
        return _Response(payload)

    return request


KEY = generate_key().info("https://oauth2.googleapis.com/token")


def test_scopes_fail_when_broader_than_the_three_are_granted() -> None:
    broad = " ".join([*NARROW, "https://www.googleapis.com/auth/calendar"])
    checks = doctor.check_delegation(
        KEY, ANA, token_uri="https://token.test", request=_token_endpoint(broad)
    )
    assert [c.status for c in checks] == [doctor.Status.OK, doctor.Status.FAIL]
    assert "more than needed: https://www.googleapis.com/auth/calendar" in checks[1].detail

    narrow = doctor.check_delegation(
        KEY, ANA, token_uri="https://token.test", request=_token_endpoint(" ".join(NARROW))
    )
    assert [c.status for c in narrow] == [doctor.Status.OK, doctor.Status.OK]
    assert "granted" in narrow[1].detail

    missing = doctor.check_delegation(
        KEY, ANA, token_uri="https://token.test", request=_token_endpoint(NARROW[0])
    )
    assert missing[1].status is doctor.Status.FAIL
    assert "lacks" in missing[1].detail


def test_scopes_fail_before_asking_when_the_request_is_broader() -> None:
    def never(*args: Any, **kwargs: Any) -> _Response:
        raise AssertionError("no token request with the wrong scopes")

    checks = doctor.check_delegation(
        KEY,
        ANA,
        token_uri="https://token.test",
        request=never,
        requested=(*NARROW, "https://www.googleapis.com/auth/calendar.events"),
    )
    assert [c.status for c in checks] == [doctor.Status.SKIP, doctor.Status.FAIL]
    assert "calendar.events" in checks[1].detail


# -- uninstall -----------------------------------------------------------------------------


def _next_monday() -> date:
    today = datetime.now(BERLIN).date()
    return today + timedelta(days=7 - today.weekday())


def _berlin(day: date, hour: int) -> str:
    """``hour`` o'clock on ``day`` in Berlin, with the offset that day really has."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=BERLIN).isoformat()


def _meetings(day: date) -> list[dict[str, Any]]:
    return [
        {
            "id": f"meeting{uuid.uuid4().hex[:10]}",
            "start": {"dateTime": _berlin(day, h), "timeZone": "Europe/Berlin"},
            "end": {"dateTime": _berlin(day, h + 1), "timeZone": "Europe/Berlin"},
            "attendees": [
                {"email": ANA, "self": True, "responseStatus": "accepted"},
                {"email": BEN, "responseStatus": "accepted"},
            ],
        }
        for h in (9, 10, 11, 13, 14, 15)
    ]


def _live_future(store: TableStore, email: str, now: datetime) -> list[Hold]:
    return [h for h in store.holds(email) if h.status in UPCOMING and h.end > now]


def test_uninstall_removes_every_hold_then_points_at_sam_delete(deployment: Deployment) -> None:
    d = deployment
    d.server.seed(ANA, _meetings(_next_monday()))
    now = datetime.now(UTC)
    gateway = d.gateway()
    for email in (ANA, BEN):
        report = scan_person(email, store=d.store, calendar=gateway, now=now, owner="test")
        assert report.outcome == "scanned", report
    placed = {email: _live_future(d.store, email, now) for email in (ANA, BEN)}
    assert placed[ANA], "the overloaded Monday gets holds"
    on_calendar = {e["id"] for e in d.server.events(ANA, include_cancelled=False)}
    assert {h.id for h in placed[ANA]} <= on_calendar

    done = mm(
        d.env,
        "uninstall",
        "--yes",
        "--scan-locally",
        "--poll",
        "0.2",
        "--timeout",
        "60",
        "--stack-name",
        "teststack",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "opted out 3 people" in done.stdout
    assert (
        "All holds are gone. Now run: sam delete --stack-name teststack --config-file "
        "infra/samconfig.toml"
    ) in done.stdout
    assert {p.email: p.status for p in d.store.list_people()} == dict.fromkeys(
        (ANA, BEN, CY), PersonStatus.OPTED_OUT
    )
    later = datetime.now(UTC)
    for email in (ANA, BEN):
        assert _live_future(d.store, email, later) == []
        left = {e["id"] for e in d.server.events(email, include_cancelled=False)}
        assert not {h.id for h in placed[email]} & left
    # no queue message was needed: the scans ran here
    sqs = client("sqs", d.moto_url)
    depth = sqs.get_queue_attributes(
        QueueUrl=d.env["MICROMOMENTS_SCAN_QUEUE_URL"],
        AttributeNames=["ApproximateNumberOfMessages"],
    )["Attributes"]["ApproximateNumberOfMessages"]
    assert depth == "0"


def test_uninstall_without_yes_and_without_a_terminal_refuses(deployment: Deployment) -> None:
    done = mm(deployment.env, "uninstall")
    assert done.returncode == 1
    assert done.stderr.startswith("micromoments: error: ")
    assert "--yes" in done.stderr
    assert done.stderr.count("\n") == 1
    assert {p.status for p in deployment.store.list_people()} == {PersonStatus.ACTIVE}


def test_uninstall_times_out_while_holds_remain(deployment: Deployment) -> None:
    d = deployment
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    hold = Hold(
        id="mmtimeout0001",
        kind=HoldKind.SOCIAL,
        start=tomorrow,
        end=tomorrow + timedelta(minutes=20),
        busy=False,
        day=tomorrow.date(),
        status=HoldStatus.PLACED,
    )
    d.store.put_hold(ANA, hold)
    env = {k: v for k, v in d.env.items() if k != "MICROMOMENTS_SCAN_QUEUE_URL"}
    done = mm(env, "uninstall", "--yes", "--timeout", "0.3", "--poll", "0.1")
    assert done.returncode == 1
    assert "timed out" in done.stderr and "1 person still leaving" in done.stderr
    assert "sam delete" not in done.stdout
    assert d.store.get_person(ANA).status is PersonStatus.LEAVING  # type: ignore[union-attr]
    queued = client("sqs", d.moto_url).get_queue_attributes(
        QueueUrl=d.env["MICROMOMENTS_SCAN_QUEUE_URL"],
        AttributeNames=["ApproximateNumberOfMessages"],
    )["Attributes"]["ApproximateNumberOfMessages"]
    assert queued == "0"


def test_uninstall_enqueues_removal_scans_for_the_deployed_workers(
    deployment: Deployment,
) -> None:
    d = deployment
    soon = datetime.now(UTC) + timedelta(days=1)
    d.store.put_hold(
        BEN,
        Hold(
            id="mmenqueue0001",
            kind=HoldKind.SOCIAL,
            start=soon,
            end=soon + timedelta(minutes=20),
            busy=False,
            day=soon.date(),
            status=HoldStatus.PLACED,
        ),
    )
    done = mm(d.env, "uninstall", "--yes", "--timeout", "0", "--poll", "1")
    assert done.returncode == 1  # nobody works the queue here
    assert "scan enqueued for 1 person" in done.stdout
    message = client("sqs", d.moto_url).receive_message(
        QueueUrl=d.env["MICROMOMENTS_SCAN_QUEUE_URL"], MaxNumberOfMessages=10
    )["Messages"]
    assert [json.loads(m["Body"]) for m in message] == [{"person": BEN, "reason": "opt_out"}]


def test_wait_until_gone_polls_until_the_scans_are_done() -> None:
    store = memory_store()
    store.create_settings(OrgSettings(allowed_domains=("example.com",)))
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    for email in (ANA, BEN):
        store.create_person(Person(email=email))
        store.put_hold(
            email,
            Hold(
                id=f"mm{email[:3]}00001",
                kind=HoldKind.SOCIAL,
                start=now + timedelta(hours=2),
                end=now + timedelta(hours=3),
                busy=False,
                day=now.date(),
                status=HoldStatus.PLACED,
            ),
        )
    departure = uninstall.leave_everyone(store, now=now)
    assert departure.leaving == [ANA, BEN]

    ticks = iter(range(100))
    seen: list[tuple[int, int]] = []

    def finish_one(emails: list[str]) -> None:  # a removal scan that settles one per round
        email = emails[0]
        for hold in store.holds(email):
            store.put_hold(email, dataclasses.replace(hold, status=HoldStatus.REMOVED))
        person = store.get_person(email)
        assert person is not None
        store.update_person(person.model_copy(update={"status": PersonStatus.OPTED_OUT}))

    left = uninstall.wait_until_gone(
        store,
        timeout_s=10,
        poll_s=1,
        now=lambda: now,
        rescan=finish_one,
        progress=lambda r, _: seen.append((len(r.leaving), r.future_holds)),
        clock=lambda: float(next(ticks)),
        sleep=lambda _: None,
    )
    assert left.done
    assert seen == [(1, 1), (0, 0)]

    paused = memory_store()
    paused.create_settings(OrgSettings(paused=True))
    with pytest.raises(uninstall.UninstallRefused, match="paused"):
        uninstall.ready_to_leave(paused)


def test_doctor_checks_the_oauth_client_when_people_connect_their_own_calendar(
    deployment: Deployment,
) -> None:
    settings = deployment.store.get_settings()
    assert settings is not None
    deployment.store.put_settings(settings.updated({"google_access": "both"}))
    try:
        code, checks = doctor_json(deployment)
        assert code == 1
        assert checks["oauth client"].startswith("fail MICROMOMENTS_GOOGLE_OAUTH_CLIENT_SECRET")
        secret = f"{deployment.prefix}/google-oauth-client"
        secrets = client("secretsmanager", deployment.moto_url)
        secrets.create_secret(Name=secret, SecretString=json.dumps({"client_id": "c-1"}))
        env = {**deployment.env, "MICROMOMENTS_GOOGLE_OAUTH_CLIENT_SECRET": secret,
               "MICROMOMENTS_GRANT_KEY_ID": "key-1"}  # fmt: skip
        code, checks = doctor_json(deployment, env)
        assert code == 1 and "holds no client_id and client_secret" in checks["oauth client"]
        registered = deployment.server.oauth_client("https://mm.example.com/connect/callback")
        secrets.put_secret_value(SecretId=secret, SecretString=json.dumps(registered.info()))
        code, checks = doctor_json(deployment, env)
        assert code == 0, checks
        assert checks["oauth client"] == (
            f"ok client {registered.client_id}, grants sealed with KMS key key-1"
        )
        assert registered.client_secret not in json.dumps(checks)
    finally:
        deployment.store.put_settings(settings)
