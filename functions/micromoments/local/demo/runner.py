"""``micromoments demo``: start the stand-ins, seed the synthetic organisation, run the
pipeline four times, send the digests and write ``index.html`` and ``summary.json``."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from micromoments.local.demo.calendars import org_calendars
from micromoments.local.demo.connection import Connection, read_connection
from micromoments.local.demo.digests import send_digests
from micromoments.local.demo.handover import Handover, write_handover
from micromoments.local.demo.lock import DemoFailed, DemoLock
from micromoments.local.demo.page import render_html
from micromoments.local.demo.picture import Picture
from micromoments.local.demo.pipeline import (
    PAIR_RUN,
    RUNS,
    Pipeline,
    Progress,
    RunReport,
    stderr_progress,
)
from micromoments.local.demo.push import SKIPPED_ON_GRAPH, measure_push
from micromoments.local.demo.results import DAYS, care_figures, collect_results
from micromoments.local.demo.store_writes import StoreWrites
from micromoments.local.demo.summary import plural
from micromoments.local.demo.week import (
    ORG_ZONE,
    DemoClock,
    SimulatedWeek,
    live_the_week,
    simulated_monday,
    week_results,
)
from micromoments.local.runtime import PROVIDERS, LocalRuntime, require_local_extra

if TYPE_CHECKING:
    from micromoments.adapters.table import TableStore

DEFAULT_PEOPLE = 36
DEFAULT_OUT = Path("demo-out")
SEED = 7


def run_demo(
    *,
    people: int = DEFAULT_PEOPLE,
    out: Path = DEFAULT_OUT,
    seed: int = SEED,
    moto_port: int = 0,
    calendar_port: int = 0,
    progress: Progress = stderr_progress,
    google_credentials: str = "keyless",
    google_access: str = "delegation",
    provider: str = "google",
) -> dict[str, Any]:
    """Run the demo and write ``out/index.html`` and ``out/summary.json``; the summary.
    With ``google_access`` oauth, people connect their own calendars first (`oauth_connect`).
    ``provider`` microsoft: the org's calendars are on the Graph server (no push part)."""
    require_local_extra()
    if people < 1:
        raise DemoFailed("--people must be at least 1")
    if provider not in PROVIDERS:
        raise DemoFailed(f"--provider must be one of {', '.join(PROVIDERS)}")
    if provider == "microsoft" and google_access == "oauth":
        raise DemoFailed(
            "--google-access oauth is Google's: people connect a Google calendar; a Microsoft "
            "org is reached app-only through Graph (leave --google-access out)"
        )
    with DemoLock(out):
        started = time.perf_counter()
        clear_outbox(out / "outbox", progress)
        summary, pictures, connection = _run(
            people, seed, moto_port, calendar_port, progress, out / "outbox", google_credentials,
            google_access, provider,
        )  # fmt: skip
        summary["seconds"] = round(time.perf_counter() - started, 1)
        _write_outputs(out, summary, pictures, connection)
        summary["seconds"] = round(time.perf_counter() - started, 1)
        _write_json(out / "summary.json", summary)
    return summary


def _run(
    people: int,
    seed: int,
    moto_port: int,
    calendar_port: int,
    progress: Progress,
    outbox: Path,
    google_credentials: str = "keyless",
    google_access: str = "delegation",
    provider: str = "google",
) -> tuple[dict[str, Any], list[Picture], Connection]:
    from micromoments import wiring
    from micromoments.adapters.dynamo import DynamoTable
    from micromoments.local.synthetic import generate_org

    now = datetime.now(UTC)
    first_day = simulated_monday(now, ORG_ZONE)
    org = generate_org(people, seed=seed, start=first_day, days=DAYS)
    # The calendars start on the Monday of the simulated week (`week.simulated_monday`):
    # the last week of the org whose digests are due by now; the coming week (the one the
    # pairing of its Friday plans) is their second.
    if org.settings.timezone != ORG_ZONE:  # pragma: no cover - the synthetic org's zone
        first_day = simulated_monday(now, org.settings.timezone)
        org = generate_org(people, seed=seed, start=first_day, days=DAYS)
    zones = sorted({p.person.timezone or org.settings.timezone for p in org.people})
    graph = provider == "microsoft"
    server_name = "the Graph server" if graph else "the Calendar API server"
    progress(f"starting the stand-ins: moto's server and {server_name} …")
    with LocalRuntime(
        moto_port=moto_port, calendar_port=calendar_port, google_credentials=google_credentials,
        google_access=google_access, provider=provider,
    ) as runtime:  # fmt: skip
        handover = Handover(people, seed, first_day, runtime.signing_key())
        server = org_calendars(runtime)
        how = "a generated key" if google_credentials == "key" else "keyless: federation, signJwt"
        how = (
            "people's own grants (OAuth)" if google_access == "oauth" else f"delegation with {how}"
        )
        if graph:
            how = "app-only: client credentials, the client secret in Secrets Manager"
        progress(
            f"  moto {runtime.moto_url} (DynamoDB, SQS, SES, Scheduler, Secrets Manager); "
            f"{server.server_name} {server.url} ({how})"
        )
        events = sum(len(p.events) for p in org.people)
        progress(
            f"seeding {plural(len(org.people), 'person', 'people')} in "
            f"{plural(len(org.teams), 'team')} and {plural(len(zones), 'time zone')}: "
            f"{events} events over {DAYS} days from {first_day.isoformat()}"
        )
        server.seed_org(org)
        store = wiring.table_store()
        oauth = google_access == "oauth"
        changes: dict[str, Any] = {"google_access": google_access}
        if graph:
            changes["calendar_provider"] = provider
        store.create_settings(org.settings.updated(changes))
        for synthetic in org.people:  # with oauth: imported, in once they connect
            store.create_person(_imported(synthetic.person) if oauth else synthetic.person)
        connected = _connect(runtime, [p.email for p in org.people], progress) if oauth else None
        record_aliases(store, [synthetic.email for synthetic in org.people])
        table = store.table
        if not isinstance(table, DynamoTable):  # pragma: no cover - wiring builds DynamoDB
            raise DemoFailed("the Store is not on DynamoDB")
        writes = StoreWrites(table.client)
        week = SimulatedWeek(first_day, org.settings.timezone)
        clock = DemoClock(week.first_scan)
        emails = [synthetic.email for synthetic in org.people]
        try:
            pipeline = Pipeline(runtime, store, writes, progress, clock)
            runs: list[RunReport] = []
            for number, name in enumerate(RUNS, 1):
                if name == PAIR_RUN:
                    # scheduled the evening before the week: it pairs the week
                    report, _ = pipeline.pair(number, week.pairing)
                    runs.append(report)
                else:
                    runs.append(pipeline.run(name, number, len(org.people)))
            # then the week goes by
            summary_week = live_the_week(runtime, store, pipeline, week, emails, seed, progress)
        finally:
            writes.close()
        # After the unchanged rescan was measured: the digests write their records apart.
        digests = send_digests(runtime, store, emails, outbox, progress, clock)
        summary_week["people"] = week_results(runtime, store, emails, first_day, clock())
        # The report and the care outcomes: what is ahead as the week left it (Saturday
        # 05:00), the coming week's pairing (Friday's) included.
        progress("collecting the results …")
        connection = read_connection(org, runtime, store, summary_week.pop("next_pairing"))
        summary, pictures = collect_results(
            org, runtime, store, runs, zones, first_day, connection, clock()
        )
        summary["care"] = care_figures(org, runtime, store, connection, clock()).to_json()
        summary["digests"] = digests
        if connected is not None:
            summary["google_access"] = google_access
            summary["oauth"] = connected
        summary["week"] = summary_week
        if graph:
            summary["provider"] = provider
            # Graph answers every delta round with a new delta link, which the scan stores
            summary["second_run"]["sync_state_writes"] = runs[-1].store_writes.get("SYNC", 0)
            summary["push"] = dict(SKIPPED_ON_GRAPH)
            progress(f"push: skipped ({SKIPPED_ON_GRAPH['skipped']})")
        else:  # last, once everything above was measured: the push path changes calendars
            summary["push"] = measure_push(runtime, store, org, outbox, progress)
    write_handover(outbox.parent, handover)
    return summary, pictures, connection


def _imported(person: Any) -> Any:
    from micromoments.domain.people import PersonStatus

    return person.model_copy(update={"status": PersonStatus.OPTED_OUT})


def _connect(runtime: LocalRuntime, emails: list[str], progress: Progress) -> dict[str, int]:
    from micromoments.local.demo.oauth_connect import connect_everyone

    progress(f"connecting {plural(len(emails), 'person', 'people')} through the site over HTTP "
             "(sign-in link, Connect Google Calendar, consent, callback) …")  # fmt: skip
    connected = connect_everyone(runtime, emails)
    progress(f"  {connected['grants_at_google']} grants given, each sealed with KMS by the site")
    return connected


def record_aliases(store: TableStore, emails: Sequence[str]) -> None:
    """Each person's alias item, as opting in on the site writes it
    (`services.preferences`): a digest names a coffee partner through it."""
    from micromoments import wiring
    from micromoments.domain.access import pseudonym_key
    from micromoments.domain.people import pseudonym

    key = wiring.master_key()
    if key is None:  # pragma: no cover - the runtime always names one
        raise DemoFailed("the local runtime has no signing key")
    store.put_aliases({pseudonym(pseudonym_key(key), email): email for email in emails})


def clear_outbox(outbox: Path, progress: Progress) -> None:
    """The previous run's emails go: the outbox holds this run's only."""
    if not outbox.is_dir():
        return
    gone = 0
    try:
        for path in outbox.iterdir():
            if path.is_file() and path.suffix in {".eml", ".html", ".txt"}:
                path.unlink()
                gone += 1
    except OSError as exc:
        raise DemoFailed(f"cannot clear {outbox}: {exc.strerror or exc}") from None
    if gone:
        progress(f"cleared the previous run's outbox: {plural(gone, 'file')} in {outbox}")


def _write_json(path: Path, document: dict[str, Any]) -> None:
    try:
        path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise DemoFailed(f"cannot write {path}: {exc.strerror or exc}") from None


def _write_outputs(
    out: Path, summary: dict[str, Any], pictures: Sequence[Picture], connection: Connection
) -> None:
    path = out / "index.html"
    try:
        path.write_text(render_html(summary, pictures, connection), encoding="utf-8")
    except OSError as exc:
        raise DemoFailed(f"cannot write {path}: {exc.strerror or exc}") from None
    _write_json(out / "summary.json", summary)
