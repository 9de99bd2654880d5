"""The doctor on a Microsoft 365 org: the Graph checks (`ops.graph_checks`) through the
Graph gateway against the local Graph server on loopback, with and without its application
access policy, and `micromoments doctor --outside` end to end (the CLI in its own process,
moto for the table and the client secret)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

from micromoments.adapters.dynamo import create_table, dynamo_store
from micromoments.adapters.graph_calendar import GraphCalendarGateway
from micromoments.adapters.memory import MemoryTable
from micromoments.adapters.table import TableStore
from micromoments.domain.people import Person, PersonStatus
from micromoments.domain.settings import CalendarProvider, OrgSettings
from micromoments.local.graph_api import GraphServer
from micromoments.ops.check_results import Check, Status
from micromoments.ops.graph_checks import ACCESS_POLICY, OPTED_IN, OPTED_OUT, check_graph

pytestmark = pytest.mark.integration

ANA, BEN, CY = "ana@example.com", "ben@example.com", "cy@example.com"  # Cy opted out
CEO, GHOST = "ceo@example.com", "ghost@example.com"  # never opted in; no mailbox
CLI = str(Path(sys.executable).with_name("micromoments"))
REGION = "eu-west-1"
MICROSOFT = OrgSettings(
    timezone="Europe/Berlin",
    allowed_domains=("example.com",),
    calendar_provider=CalendarProvider.MICROSOFT,
)


@pytest.fixture
def server() -> Iterator[GraphServer]:
    with GraphServer(access_policy={ANA, BEN}) as graph:
        for email in (ANA, BEN, CY, CEO):
            graph.add_mailbox(email, timezone="W. Europe Standard Time")
        yield graph


def people(store: TableStore) -> TableStore:
    store.create_settings(MICROSOFT)
    store.create_person(Person(email=ANA))
    store.create_person(Person(email=BEN))
    store.create_person(Person(email=CY, status=PersonStatus.OPTED_OUT))
    return store


@dataclass
class World:
    server: GraphServer
    store: TableStore
    secret: str | None = None  # the app's client secret, when not the server's

    def gateway(self) -> GraphCalendarGateway:
        transport = self.server.transport(
            client_secret=self.secret or self.server.client_secret, sleep=lambda seconds: None
        )
        store = self.store

        def status_of(email: str) -> PersonStatus | None:
            person = store.get_person(email)
            return person.status if person else None

        return GraphCalendarGateway(transport, status_of=status_of, ours=lambda email: set())

    def doctor(self, outside: str | None = CEO) -> dict[str, Check]:
        events = {email: self.server.events(email) for email in self.server.mailboxes}
        checks = check_graph(self.store, self.gateway, outside)
        assert {e: self.server.events(e) for e in self.server.mailboxes} == events
        assert self.server.write_log == []  # reads only
        return {check.name: check for check in checks}


@pytest.fixture
def world(server: GraphServer) -> World:
    return World(server, people(TableStore(MemoryTable())))


def test_with_the_policy_the_outside_mailbox_is_refused_and_everyone_else_as_expected(
    world: World,
) -> None:
    world.server.counters.reset()
    checks = world.doctor()
    assert [c.status for c in checks.values()] == [Status.OK] * 3, checks
    assert checks[ACCESS_POLICY].detail == (
        f"{CEO} is refused, 403 ErrorAccessDenied by the application access policy"
    )
    assert checks[OPTED_IN].detail == "2 of 2 opted-in people's mailboxes answer"
    assert checks[OPTED_OUT].detail == "none of 1 opted-out people's mailboxes is readable"
    # one $batch of time-zone reads: no event is read
    assert world.server.counters.round_trips == 1
    assert world.server.counters.requests == 4


def test_without_the_policy_the_check_fails_and_opted_out_people_are_a_warning(
    world: World,
) -> None:
    world.server.set_access_policy(None)
    checks = world.doctor()
    policy = checks[ACCESS_POLICY]
    assert policy.status is Status.FAIL
    assert policy.detail.startswith(
        f"{CEO} is readable (200): no access policy limits the app, which can read and write "
        "the calendar of every mailbox in the tenant"
    )
    assert checks[OPTED_IN].status is Status.OK
    opted_out = checks[OPTED_OUT]
    assert opted_out.status is Status.WARN
    assert opted_out.detail.startswith(
        "1 of 1 opted-out people's mailboxes are still readable by the app: remove them from "
        "the group"
    )
    assert "@" not in checks[OPTED_IN].detail + opted_out.detail  # counts, not addresses


def test_without_an_outside_address_the_policy_is_not_tried_and_says_how(world: World) -> None:
    world.server.counters.reset()
    checks = world.doctor(outside=None)
    policy = checks[ACCESS_POLICY]
    assert policy.status is Status.WARN
    assert "`micromoments doctor --outside ADDRESS`" in policy.detail
    assert checks[OPTED_IN].status is Status.OK
    assert world.server.counters.requests == 3  # the people only


def test_an_opted_in_person_outside_the_group_fails_by_count(world: World) -> None:
    world.server.set_access_policy({ANA})
    checks = world.doctor()
    assert checks[ACCESS_POLICY].status is Status.OK
    opted_in = checks[OPTED_IN]
    assert opted_in.status is Status.FAIL
    assert opted_in.detail.startswith(
        "1 of 2 opted-in people's mailboxes answer; 1 refused (403 ErrorAccessDenied: add "
        "them to the group"
    )
    assert "@" not in opted_in.detail


def test_everyone_refused_says_nothing_of_the_policy(world: World) -> None:
    world.server.set_access_policy(set())  # as when the app has no permission at all
    checks = world.doctor()
    assert checks[ACCESS_POLICY].status is Status.FAIL
    assert "so is every opted-in person" in checks[ACCESS_POLICY].detail
    assert checks[OPTED_IN].status is Status.FAIL


@pytest.mark.parametrize(
    ("outside", "expected"),
    [
        (GHOST, f"{GHOST} has no mailbox (404 ErrorInvalidUser): name an existing mailbox"),
        (ANA, f"{ANA} is active here: name someone outside the group"),
    ],
)
def test_an_outside_address_that_proves_nothing_fails(
    world: World, outside: str, expected: str
) -> None:
    checks = world.doctor(outside=outside)
    assert checks[ACCESS_POLICY].status is Status.FAIL
    assert checks[ACCESS_POLICY].detail.startswith(expected)
    assert checks[OPTED_IN].status is Status.OK


def test_a_refused_token_fails_every_check_with_the_reason(world: World) -> None:
    world.secret = "expired"
    checks = world.doctor()
    assert [c.status for c in checks.values()] == [Status.FAIL] * 3
    assert checks[OPTED_IN].detail == "cannot read through Graph: Graph token: 401 invalid_client"


# -- the command ---------------------------------------------------------------------------


@pytest.fixture
def env(moto_server_url: str, server: GraphServer) -> Iterator[dict[str, str]]:
    url, tag = moto_server_url, uuid.uuid4().hex[:8]
    dynamodb = boto3.client("dynamodb", endpoint_url=url, region_name=REGION)
    table = f"doctor-graph-{tag}"
    create_table(dynamodb, table)
    people(dynamo_store(table, client=dynamodb))
    secrets = boto3.client("secretsmanager", endpoint_url=url, region_name=REGION)
    secret = f"mm{tag}/graph-client-secret"
    secrets.create_secret(Name=secret, SecretString=server.client_secret)
    variables = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MICROMOMENTS_"))}
    variables.update(
        AWS_ENDPOINT_URL=url,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION=REGION,
        MICROMOMENTS_TABLE_NAME=table,
        MICROMOMENTS_PUBLIC_BASE_URL="https://micromoments.example/",  # push on
        MICROMOMENTS_GRAPH_API_URL=server.base_url,
        MICROMOMENTS_GRAPH_AUTHORITY=server.authority,
        MICROMOMENTS_GRAPH_TENANT_ID=server.tenant,
        MICROMOMENTS_GRAPH_CLIENT_ID=server.client_id,
        MICROMOMENTS_GRAPH_SECRET=secret,
    )
    try:
        yield variables
    finally:
        dynamodb.delete_table(TableName=table)


def doctor(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLI, "doctor", "--schedule-prefix", "none", *args],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def checks_of(done: subprocess.CompletedProcess[str]) -> dict[str, str]:
    assert "Traceback" not in done.stderr, done.stderr
    doc = json.loads(done.stdout)
    return {c["name"]: f"{c['status']} {c['detail']}" for c in doc["checks"]}


def test_doctor_outside_checks_graph_and_its_subscriptions_and_skips_google(
    env: dict[str, str], server: GraphServer
) -> None:
    checks = checks_of(doctor(env, "--json", "--outside", CEO))
    assert checks[ACCESS_POLICY].startswith(f"ok {CEO} is refused, 403 ErrorAccessDenied")
    assert checks[OPTED_IN] == "ok 2 of 2 opted-in people's mailboxes answer"
    assert checks[OPTED_OUT].startswith("ok none of 1")
    # push is on and no scan has opened a Graph subscription yet: the census says so
    assert checks["channel renewal"].startswith("ok 0 live channels"), checks["channel renewal"]
    assert checks["channels and people"].startswith(
        "fail 2 active people, 0 live channels, 2 active people without a live channel"
    ), checks["channels and people"]
    assert checks["google access"] == "skip calendar_provider is microsoft: Google is not used"
    assert "token exchange" not in checks

    server.set_access_policy(None)
    done = doctor(env, "--outside", CEO)
    assert done.returncode == 1
    assert f"FAIL access policy: {CEO} is readable (200)" in done.stdout
    assert "warn opted-out mailboxes: 1 of 1" in done.stdout


def test_doctor_without_outside_warns_and_a_bad_address_is_refused(env: dict[str, str]) -> None:
    checks = checks_of(doctor(env, "--json"))
    assert checks[ACCESS_POLICY].startswith("warn not tried")
    bad = doctor(env, "--outside", "not-an-address")
    assert bad.returncode == 2
    assert "'not-an-address' is not an email address" in bad.stderr
    assert bad.stdout == ""
