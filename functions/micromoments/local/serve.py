"""``micromoments serve``: the opt-in site on the local stand-ins, in a browser.

`SiteServer` puts the real web Lambda handler behind a loopback HTTP server, the way API
Gateway does deployed: each request becomes an HTTP API (payload 2.0) event
(`local.web_bridge`) and the handler's answer goes back as HTTP; ``POST /calendar/notify``
goes to the notify function instead, as its own route does deployed, so the push channels
the scans open (to the site's address) reach it. Next to it a worker drains
the scan queue into the real scan handler, as the queue's event source does deployed, so
the work the site enqueues (the first scan on opting in, the removal scan on opting out)
runs while the site is up. Sign-in emails go through SES (moto) and are teed into an
outbox directory; the link of each new one is printed.

Handlers run one invocation at a time (a lock): a Lambda environment runs one at a time
too, and the handlers share process-wide singletons (logger, metrics, caches) that were
never meant for threads.

`serve` is the command: the stand-ins of the demo, the synthetic organisation seeded and
scanned once, the environment exports for other commands, then the site until Ctrl-C.

The site's address is ``http://127.0.0.1:PORT``: Chromium (and other browsers) treat
loopback addresses as secure contexts, so the site's ``Secure`` / ``__Host-`` cookies work
over plain HTTP there.
"""

from __future__ import annotations

import importlib
import re
import shlex
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import FrameType, TracebackType
from typing import TYPE_CHECKING, Any, TextIO

from micromoments.config import NOTIFY_ROUTE
from micromoments.local.queue_drain import Delivery, LocalQueue, deliver, drain
from micromoments.local.runtime import (
    HOST,
    LocalRuntime,
    _listen,
    require_local_extra,
)
from micromoments.services.org import org_settings

if TYPE_CHECKING:
    from mypy_boto3_sqs.type_defs import MessageTypeDef
    from werkzeug.serving import BaseWSGIServer

    from micromoments.local.synthetic import SyntheticOrg

DEFAULT_PORT = 8765
DEFAULT_PEOPLE = 12
DEFAULT_OUTBOX = Path("demo-out") / "outbox"
SEED = 7
DAYS = 14
POLL_SECONDS = 0.25
MAX_REQUEST_BYTES = 1024 * 1024  # the handler refuses forms over 16 KiB itself
SHOWN_PEOPLE = 3

# What the site's thread and the scan worker import lazily, imported before they start.
_THREAD_IMPORTS = (
    "email.parser",
    "werkzeug.exceptions",
    "werkzeug.wrappers",
    "micromoments.adapters.mail",
    "micromoments.domain.scan_request",
    "micromoments.local.web_bridge",
)

_SIGN_IN_LINK = re.compile(r"https?://\S+/auth\?token=[A-Za-z0-9_-]+")

Progress = Callable[[str], None]


def stderr_progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def sign_in_link(text: str) -> str | None:
    """The first sign-in link in an email's text, if any."""
    found = _SIGN_IN_LINK.search(text)
    return found.group(0) if found else None


def _not_started(event: Any, context: Any) -> Any:
    raise RuntimeError("the site is not started")


class SiteServer:
    """The web handler on ``http://127.0.0.1:PORT`` and a scan worker, on a started
    `LocalRuntime` (or one it starts and stops itself when none is given).

    ``port`` 0 means a free one. `start` points the runtime's environment at the site
    (``MICROMOMENTS_PUBLIC_BASE_URL``, ``MICROMOMENTS_SENDER_ADDRESS``,
    ``MICROMOMENTS_OUTBOX_DIR``); `stop` stops the worker, then the HTTP server (safe to
    call twice). Links of new sign-in emails are printed on ``out`` (None: not at all).
    """

    def __init__(
        self,
        runtime: LocalRuntime | None = None,
        *,
        port: int = 0,
        outbox: Path = DEFAULT_OUTBOX,
        out: TextIO | None = None,
        progress: Progress = stderr_progress,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self._own_runtime = runtime is None
        self.runtime = runtime or LocalRuntime()
        self.requested_port = port
        self.outbox = Path(outbox)
        self.out = out
        self.progress = progress
        self.poll_seconds = poll_seconds
        self.messages_scanned = 0
        self._invocations = threading.Lock()  # one handler invocation at a time
        self._draining = threading.Lock()  # one receiver at a time: worker or `drain`
        self._stopping = threading.Event()
        self._server: BaseWSGIServer | None = None
        self._threads: list[threading.Thread] = []
        self._announced: set[str] = set()
        self._queue: LocalQueue | None = None
        self._web_handler: Callable[[Any, Any], Any] = _not_started
        self._notify_handler: Callable[[Any, Any], Any] = _not_started
        self._scan_handler: Callable[[Any, Any], Any] = _not_started

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> SiteServer:
        if self._server is not None:
            return self
        require_local_extra()
        if self._own_runtime:
            self.runtime.start()
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        from werkzeug.serving import WSGIRequestHandler, make_server

        class Quiet(WSGIRequestHandler):
            def log_request(self, *args: Any, **kwargs: Any) -> None:
                return  # no line per request

        # Bound here, not by werkzeug, which answers a busy port with sys.exit(1).
        listener = _listen(HOST, self.requested_port, "the site")
        try:
            server = make_server(
                HOST, self.requested_port, self._wsgi, True,
                request_handler=Quiet, fd=listener.fileno(),
            )  # fmt: skip
        finally:
            listener.close()  # the server holds its own duplicate
        self._server = server
        self.runtime.use_environment(
            {
                "MICROMOMENTS_PUBLIC_BASE_URL": self.url,
                "MICROMOMENTS_SENDER_ADDRESS": self.runtime.sender,
                "MICROMOMENTS_OUTBOX_DIR": str(self.outbox.resolve()),
            }
        )
        self._warm_up()
        self._announced = {path.name for path in self._outbox_messages()}
        self._stopping.clear()
        self._threads = [
            threading.Thread(
                target=lambda: server.serve_forever(poll_interval=0.05),
                name=f"site:{server.port}",
                daemon=True,
            ),
            threading.Thread(target=self._work, name="scan-worker", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _warm_up(self) -> None:
        """Import what the threads run and build the process's clients now, on one thread,
        and fail now if something is missing.

        Both must happen before any thread starts: two threads importing the web and scan
        handlers for the first time at once can fail (powertools' ``data_classes`` package
        imports itself in a cycle, and a second thread sees it half initialised), and
        creating boto3 clients from the default session is not thread-safe."""
        from micromoments import wiring
        from micromoments.handlers import notify, scan, web

        for name in _THREAD_IMPORTS:
            importlib.import_module(name)
        self._web_handler = web.handler
        self._notify_handler = notify.handler
        self._scan_handler = scan.handler
        wiring.store()
        wiring.scan_queue()
        wiring.mailer()
        if wiring.master_key() is None:  # pragma: no cover - the runtime always names one
            raise RuntimeError("the local runtime has no signing key")
        self._sqs()

    def stop(self) -> None:
        """Stop the scan worker, then the HTTP server; the runtime too if it is ours."""
        self._stopping.set()
        server, self._server = self._server, None
        threads, self._threads = self._threads, []
        try:
            for thread in threads:
                if thread.name == "scan-worker":
                    thread.join(timeout=30)
            if server is not None:
                if threads:  # shutdown waits for serve_forever: only once it was started
                    server.shutdown()
                server.server_close()
            for thread in threads:
                thread.join(timeout=5)
        finally:
            if self._own_runtime:
                self.runtime.stop()

    def __enter__(self) -> SiteServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the site is not started")
        return int(self._server.port)

    @property
    def url(self) -> str:
        """The site's address, without a trailing slash."""
        return f"http://{HOST}:{self.port}"

    # -- HTTP -> the web handler -------------------------------------------------------------

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        from werkzeug.exceptions import RequestEntityTooLarge
        from werkzeug.wrappers import Request, Response

        from micromoments.local.web_bridge import from_result, to_event

        request = Request(environ)
        request.max_content_length = MAX_REQUEST_BYTES
        try:
            body = request.get_data(cache=False)
        except RequestEntityTooLarge as exc:
            return exc(environ, start_response)
        event = to_event(
            request.method,
            request.path,
            query=environ.get("QUERY_STRING", ""),
            headers=list(request.headers.items()),
            body=body,
            source_ip=request.remote_addr or HOST,
        )
        handler, function = self._route(request.method, request.path)
        try:
            with self._invocations:
                result = self.runtime.invoke(handler, event, function=function)
                self._announce_new_mail()
            answer = from_result(result)
            response = Response(answer.body, status=answer.status, headers=answer.headers)
        except Exception as exc:  # a handler bug: one line here, a plain 500 there
            print(f"micromoments serve: {request.method} {request.path}: {exc!r}", file=sys.stderr)
            response = Response("internal error\n", status=500, mimetype="text/plain")
        return response(environ, start_response)

    def _route(self, method: str, path: str) -> tuple[Callable[[Any, Any], Any], str]:
        """The function API Gateway routes a request to: Google's push notifications to
        the notify function (its own route, deployed too), everything else to the site."""
        if method == "POST" and path == NOTIFY_ROUTE:
            return self._notify_handler, "micromoments-notify"
        return self._web_handler, "micromoments-web"

    # -- sign-in emails ------------------------------------------------------------------------

    def _outbox_messages(self) -> list[Path]:
        from micromoments.adapters.mail import OutboxMailer

        return OutboxMailer(self.outbox).messages()

    def _announce_new_mail(self) -> None:
        """Print the sign-in link (or the file) of every message new in the outbox."""
        from email import policy
        from email.parser import BytesParser

        for path in self._outbox_messages():
            if path.name in self._announced:
                continue
            self._announced.add(path.name)
            if self.out is None:
                continue
            message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
            body = message.get_body(preferencelist=("plain",))
            text = body.get_content() if body is not None else ""
            link = sign_in_link(text if isinstance(text, str) else "")
            to = message.get("To", "?")
            if link:
                print(f"sign-in link for {to}: {link}", file=self.out, flush=True)
            else:
                print(f"email to {to}: {path}", file=self.out, flush=True)

    # -- the scan queue -> the scan handler -------------------------------------------------------

    def _sqs(self) -> LocalQueue:
        """The worker's scan queue (its client built once, in `start`: boto3 clients are
        thread-safe, creating them is not)."""
        if self._queue is None:
            import boto3

            url = self.runtime.scan_queue_url
            self._queue = LocalQueue(boto3.client("sqs"), url, lock=self._draining)
        return self._queue

    def _work(self) -> None:
        """Drain the scan queue while the site is up; an idle queue is polled."""
        while not self._stopping.is_set():
            try:
                handled = self._drain_batch()
            except Exception as exc:
                if self._stopping.is_set():
                    return
                print(f"micromoments serve: scan worker: {exc}", file=sys.stderr, flush=True)
                handled = 0
                self._stopping.wait(1.0)
            if not handled:
                self._stopping.wait(self.poll_seconds)

    def drain(self, *, expected: int = 0) -> int:
        """Run queued scans here until the queue is empty (the worker may take some of
        them meanwhile); the messages handled here. A failed message goes back to the
        queue at once; redrive ends a poisoned one."""
        deliveries = drain(self._sqs(), self._invoke_scan, expected=expected, on_batch=self._done)
        return sum(len(delivery.messages) for delivery in deliveries)

    def _drain_batch(self) -> int:
        """One receive (up to 10 messages) through the scan handler; how many it got."""
        delivery = deliver(self._sqs(), self._invoke_scan)
        if delivery is None:
            return 0
        self._done(delivery)
        return len(delivery.messages)

    def _invoke_scan(self, event: dict[str, Any]) -> Any:
        with self._invocations:
            return self.runtime.invoke(self._scan_handler, event, function="micromoments-scan")

    def _done(self, delivery: Delivery) -> None:
        self.messages_scanned += len(delivery.succeeded)
        self._report(delivery.succeeded, len(delivery.failed))

    def _report(self, done: list[MessageTypeDef], failed: int) -> None:
        """One line on stderr per batch: the scans done, by reason."""
        from micromoments.domain.scan_request import MalformedMessage, ScanRequest

        reasons: Counter[str] = Counter()
        for message in done:
            try:
                reasons[ScanRequest.from_body(message["Body"]).reason.value] += 1
            except MalformedMessage:
                reasons["malformed"] += 1
        detail = ", ".join(f"{reason} {count}" for reason, count in sorted(reasons.items()))
        failures = f"; {failed} failed, back to the queue" if failed else ""
        self.progress(f"  scans done: {len(done)} ({detail}){failures}")


# -- the synthetic organisation ---------------------------------------------------------------


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def seed_organisation(
    runtime: LocalRuntime,
    *,
    people: int,
    seed: int = SEED,
    progress: Progress = stderr_progress,
    first_day: date | None = None,
) -> SyntheticOrg:
    """The demo's synthetic organisation: calendars on the Calendar server, org settings
    and people (opted in) in the Store. Its calendars start on ``first_day`` (the demo's,
    from its handover), else on the Monday of the org's week, as in the demo. With the
    runtime's google_access oauth, the people are imported but not in: each connects their
    own calendar on the site."""
    from micromoments import wiring
    from micromoments.domain.calendar import zone
    from micromoments.domain.people import PersonStatus
    from micromoments.local.synthetic import generate_org

    if first_day is not None:
        org = generate_org(people, seed=seed, start=first_day, days=DAYS)
    else:
        first_day = _monday(datetime.now(UTC).date())
        org = generate_org(people, seed=seed, start=first_day, days=DAYS)
        org_monday = _monday(datetime.now(zone(org.settings.timezone)).date())
        if org_monday != first_day:
            org = generate_org(people, seed=seed, start=org_monday, days=DAYS)
    events = sum(len(p.events) for p in org.people)
    progress(
        f"seeding {len(org.people)} people in {len(org.teams)} teams: {events} events over "
        f"{DAYS} days"
    )
    runtime.calendar.seed_org(org)
    store = wiring.store()
    oauth = runtime.google_access == "oauth"
    store.create_settings(org.settings.updated({"google_access": runtime.google_access}))
    for synthetic in org.people:
        person = synthetic.person
        imported = person.model_copy(update={"status": PersonStatus.OPTED_OUT})
        store.create_person(imported if oauth else person)
    return org


def queue_everyone(runtime: LocalRuntime, now: datetime | None = None) -> int:
    """The hourly dispatch as its schedule invokes it (for the hour of ``now``), plus the
    people it did not queue (their local day is not a workday, or their working hour not
    yet begun at that hour), queued here as the demo does, so everyone is scanned at any
    time; how many scans were queued."""
    from micromoments import wiring
    from micromoments.domain.scan_request import ScanReason, ScanRequest
    from micromoments.handlers import dispatch
    from micromoments.services.due_scans import scan_request_for

    now = now or datetime.now(UTC)
    hour = now.replace(minute=0, second=0, microsecond=0)
    scheduled = hour.isoformat().replace("+00:00", "Z")
    event = {"kind": "dispatch", "scheduled_time": scheduled}
    sent = runtime.invoke(dispatch.handler, event, function="micromoments-dispatch")
    store = wiring.store()
    settings = org_settings(store)
    off = [
        email
        for email in store.scannable_people()
        if scan_request_for(store, email, settings, hour) is None  # as the dispatch judged
    ]
    if off:
        wiring.scan_queue().send([ScanRequest(email, ScanReason.OPT_IN) for email in off])
    return int(sent.get("enqueued", 0)) + len(off)


def with_holds(org: SyntheticOrg, limit: int = SHOWN_PEOPLE) -> list[str]:
    """Up to ``limit`` seeded people who have holds now (the first people otherwise)."""
    from micromoments import wiring

    store = wiring.store()
    chosen = [p.email for p in org.people if store.holds(p.email)][:limit]
    for person in org.people:
        if len(chosen) >= limit:
            break
        if person.email not in chosen:
            chosen.append(person.email)
    return chosen


# -- the command ------------------------------------------------------------------------------


def serve(
    *,
    port: int = DEFAULT_PORT,
    people: int = DEFAULT_PEOPLE,
    outbox: Path = DEFAULT_OUTBOX,
    out: TextIO = sys.stdout,
    progress: Progress = stderr_progress,
    google_access: str = "delegation",
) -> int:
    """``micromoments serve``: returns 0 once Ctrl-C (or SIGTERM) stops it; Ctrl-C before
    the site is up is a KeyboardInterrupt, as for any command."""
    require_local_extra()
    if port:
        _listen(HOST, port, "the site").close()  # busy: one clear line before any work
    from micromoments.local.demo.handover import read_handover

    handover = read_handover(outbox.parent)
    previous = _stop_on_sigterm()
    try:
        progress("starting the stand-ins: moto's server and the Calendar API server …")
        key = handover.signing_key if handover else None
        with LocalRuntime(google_access=google_access, signing_key=key) as runtime:
            if handover is None:
                org = seed_organisation(runtime, people=people, progress=progress)
            else:
                progress(
                    f"the demo's organisation and signing key ({outbox.parent / 'serve.json'}):"
                    " the links in its emails work here"
                )
                org = seed_organisation(
                    runtime,
                    people=handover.people,
                    seed=handover.seed,
                    progress=progress,
                    first_day=handover.first_day,
                )
                _record_link_aliases(org)
            queued = queue_everyone(runtime)
            progress(f"running the pipeline once: {queued} scans queued")
            with SiteServer(runtime, port=port, outbox=outbox, out=out, progress=progress) as site:
                if google_access == "oauth":  # people connect here: "Connect Google Calendar"
                    runtime.allow_redirect(site.url + "/connect/callback")
                site.drain(expected=queued)
                _introduce(site, runtime, org, out)
                try:
                    while True:
                        time.sleep(1)
                except KeyboardInterrupt:
                    progress("stopping …")
    finally:
        _restore_sigterm(previous)
    progress("stopped")
    return 0


def _record_link_aliases(org: SyntheticOrg) -> None:
    """The alias items the demo's email links resolve through (the digests wrote them in
    the demo's Store): the same people, the same key, so the same aliases."""
    from micromoments import wiring
    from micromoments.services.links import personal_links

    store, key = wiring.store(), wiring.master_key()
    if key is None:  # pragma: no cover - the runtime always names one
        raise RuntimeError("the local runtime has no signing key")
    for synthetic in org.people:
        personal_links(store, synthetic.email, key, datetime.now(UTC), record=True)


def _introduce(site: SiteServer, runtime: LocalRuntime, org: SyntheticOrg, out: TextIO) -> None:
    lines = [
        "# other micromoments commands use these stand-ins after:",
        *(
            f"export {name}={shlex.quote(value)}"
            for name, value in sorted(runtime.environment().items())
        ),
        "",
        f"the sign-in form: {site.url}/",
        "sign in as one of the seeded people, e.g. "
        + ", ".join(with_holds(org))
        + f"; sign-in emails land in {site.outbox}/ and their links are printed here",
        "Ctrl-C stops",
    ]
    print("\n".join(lines), file=out, flush=True)


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _stop_on_sigterm() -> Any:
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, _raise_interrupt)


def _restore_sigterm(previous: Any) -> None:
    if previous is not None:
        signal.signal(signal.SIGTERM, previous)
