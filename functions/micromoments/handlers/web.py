"""The opt-in site: a Lambda behind an HTTP API (API Gateway v2), server-rendered HTML that
works without JavaScript. It never talks to Google and cannot read the Google key: it
writes the Store and enqueues work.

Routes: ``GET /`` (what it does, privacy in plain words, an email field), ``POST /login``
(email a sign-in link), ``GET /auth`` (a "Sign in as" button; changes nothing),
``POST /auth`` (use the link: a session), ``POST /logout``, ``POST /logout/everywhere``
(every session of the person ends), ``GET/POST /preferences`` (opt in, change),
``POST /preferences/dont-pair/clear``, ``GET /optout/confirm`` then ``POST /optout``,
``GET /delete-my-data/confirm`` then ``POST /delete-my-data``, ``GET/POST /unsubscribe``
(one click, RFC 8058), ``GET/POST /leave`` (opt out from an email's link, without signing
in), ``GET /privacy``, ``GET /health``, ``GET /static/site.css``.

Safety: every state-changing form but the emailed links (unsubscribe, leave), whose
purpose-scoped tokens are the authority, carries a CSRF token (an HMAC of the session, or
of a browser cookie before sign-in) and must be sent urlencoded (415 otherwise); leaving
asks for a confirmation first, without JavaScript; security headers on every response,
errors included; GETs change nothing; an unknown method is a 405 with ``Allow``; errors
are pages, never tracebacks; tokens never reach a log line (only the route and the outcome
are logged).
"""

from __future__ import annotations

import secrets
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from http import HTTPStatus
from importlib import resources
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.shared.cookies import Cookie, SameSite
from aws_lambda_powertools.utilities.typing import LambdaContext

from micromoments import __version__, wiring
from micromoments.config import ConfigError, config
from micromoments.domain.access import (
    BROWSER_COOKIE,
    SESSION_COOKIE,
    SESSION_LIFETIME,
    Session,
    form_token,
    form_token_ok,
)
from micromoments.domain.errors import DomainError
from micromoments.domain.holds import HoldKind
from micromoments.domain.preference_form import CHOICES, FormRefused, form_values
from micromoments.domain.working_hours import DAY_NAMES
from micromoments.observability import MetricUnit, logger, metrics, tracer
from micromoments.ports import MailError, StoreError

if TYPE_CHECKING:
    from jinja2 import Environment

    from micromoments.ports import Mailer, Store
    from micromoments.services.links import LinkCheck
    from micromoments.services.preferences import ScanQueue

MAX_BODY_BYTES = 16 * 1024
HTML = "text/html; charset=utf-8"
FORM_TYPE = "application/x-www-form-urlencoded"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
        "form-action 'self'"
    ),
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
KINDS = (
    (HoldKind.BREATHER.value, "Breathers after a run of back-to-back meetings"),
    (HoldKind.SOCIAL.value, "Unstructured social time"),
    (HoldKind.COFFEE.value, "Coffee chats with a colleague"),
    (HoldKind.WATERCOOLER.value, "Team watercooler drop-ins"),
)
LENGTHS = (
    ("breather_minutes", "Breather length", CHOICES["breather_minutes"]),
    ("social_minutes", "Social time length", CHOICES["social_minutes"]),
    ("coffee_minutes", "Coffee chat length", CHOICES["coffee_minutes"]),
)
PARTS = (
    ("any", "Any time"),
    ("morning", "Morning"),
    ("midday", "Around midday"),
    ("afternoon", "Afternoon"),
)

app = APIGatewayHttpResolver()


@dataclass(frozen=True, slots=True)
class Services:
    """What the site works with; tests replace `services` to pass fakes."""

    store: Store
    mailer: Mailer
    queue: ScanQueue
    master_key: bytes
    base_url: str
    sender: str
    now: Callable[[], datetime]
    sign_in_per_source_per_hour: int = 500  # MICROMOMENTS_SIGN_IN_PER_SOURCE_PER_HOUR


def services() -> Services:
    settings = config()
    key = wiring.master_key()
    if key is None:
        raise ConfigError("MICROMOMENTS_SIGNING_KEY_SECRET is not set: the site needs its keys")
    if not settings.public_base_url or not settings.sender_address:
        raise ConfigError(
            "MICROMOMENTS_PUBLIC_BASE_URL and MICROMOMENTS_SENDER_ADDRESS must be set"
        )
    return Services(
        store=wiring.store(),
        mailer=wiring.mailer(),
        queue=wiring.scan_queue(),
        master_key=key,
        base_url=settings.public_base_url,
        sender=settings.sender_address,
        now=lambda: datetime.now(UTC),
        sign_in_per_source_per_hour=settings.sign_in_per_source_per_hour,
    )


# -- rendering -------------------------------------------------------------------------------


@cache
def templates() -> Environment:
    from jinja2 import Environment, PackageLoader, select_autoescape

    return Environment(
        loader=PackageLoader("micromoments", "templates/web"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def page(
    name: str,
    code: int = 200,
    *,
    cookies: Sequence[Cookie] = (),
    **context: Any,
) -> Response[str]:
    html = templates().get_template(name).render(**context)
    return Response(
        status_code=code,
        content_type=HTML,
        body=html,
        headers=dict(SECURITY_HEADERS),
        cookies=list(cookies),
    )


def redirect(location: str, *, cookies: Sequence[Cookie] = ()) -> Response[str]:
    headers = {**SECURITY_HEADERS, "Location": location}
    return Response(status_code=303, headers=headers, body="", cookies=list(cookies))


def problem(status: HTTPStatus, heading: str, message: str, **context: Any) -> Response[str]:
    return page("error.html", status.value, heading=heading, message=message, **context)


# -- request helpers -------------------------------------------------------------------------


def request_cookies() -> dict[str, str]:
    jar: dict[str, str] = {}
    for raw in app.current_event.cookies or ():
        name, _, value = raw.partition("=")
        jar.setdefault(name.strip(), value.strip())
    return jar


class NotAForm(Exception):
    """A POST whose body is not ``application/x-www-form-urlencoded`` (answered 415)."""


def form() -> dict[str, list[str]]:
    """The urlencoded body; any other media type, too large or unreadable is refused whole."""
    media_type = app.current_event.headers.get("content-type", "").partition(";")[0]
    if media_type.strip().lower() != FORM_TYPE:
        raise NotAForm
    try:
        body = app.current_event.decoded_body or ""
    except (UnicodeDecodeError, ValueError):
        raise FormRefused("the form could not be read") from None
    if len(body.encode()) > MAX_BODY_BYTES:
        raise FormRefused("the form is too large")
    try:
        return parse_qs(body, keep_blank_values=True, strict_parsing=False, max_num_fields=200)
    except ValueError:
        raise FormRefused("the form could not be read") from None


def one(fields: Mapping[str, list[str]], name: str) -> str:
    values = fields.get(name) or [""]
    return values[0]


def browser_binding() -> tuple[str, list[Cookie]]:
    """The browser cookie that binds forms shown before sign-in (set when missing)."""
    value = request_cookies().get(BROWSER_COOKIE, "")
    if 20 <= len(value) <= 100:
        return value, []
    value = secrets.token_urlsafe(24)
    return value, [_cookie(BROWSER_COOKIE, value, max_age=int(SESSION_LIFETIME.total_seconds()))]


def _cookie(name: str, value: str, *, max_age: int) -> Cookie:
    return Cookie(
        name=name,
        value=value,
        path="/",
        secure=True,
        http_only=True,
        same_site=SameSite.LAX_MODE,
        max_age=max_age,
    )


def signed_in(deps: Services) -> Session | None:
    from micromoments.services.sign_in import current_session

    return current_session(deps.store, request_cookies().get(SESSION_COOKIE), deps.now())


def checked_form(deps: Services, binding: str) -> dict[str, list[str]] | Response[str]:
    fields = form()
    if not form_token_ok(deps.master_key, binding, one(fields, "csrf")):
        metrics.add_metric(name="CsrfRejected", unit=MetricUnit.Count, value=1)
        return problem(
            HTTPStatus.FORBIDDEN,
            "This form has expired",
            "Nothing was changed. Go back, reload the page and try again.",
        )
    return fields


def session_binding(session: Session) -> str:
    return f"session:{session.session_hash}"


def signed_in_form(deps: Services) -> tuple[Session, dict[str, list[str]]] | Response[str]:
    """The session and the submitted form of a signed-in page's POST; otherwise the answer
    (back to the start without a session, 403 without a valid CSRF token)."""
    session = signed_in(deps)
    if session is None:
        return redirect("/")
    fields = checked_form(deps, session_binding(session))
    if isinstance(fields, Response):
        return fields
    return session, fields


# -- routes ----------------------------------------------------------------------------------


@app.get("/health")
def health() -> Response[str]:
    return Response(
        200,
        "application/json",
        f'{{"status": "ok", "version": "{__version__}"}}',
        headers=dict(SECURITY_HEADERS),
    )


@app.get("/static/site.css")
def stylesheet() -> Response[str]:
    css = resources.files("micromoments").joinpath("static/site.css").read_text("utf-8")
    headers = {**SECURITY_HEADERS, "Cache-Control": "public, max-age=3600"}
    return Response(200, "text/css; charset=utf-8", css, headers=headers)


@app.get("/")
def home() -> Response[str]:
    deps = services()
    session = signed_in(deps)
    if session is not None:
        return redirect("/preferences")
    binding, cookies = browser_binding()
    csrf = form_token(deps.master_key, f"browser:{binding}")
    return page("home.html", cookies=cookies, csrf=csrf)


@app.get("/privacy")
def privacy() -> Response[str]:
    return page("privacy.html")


@app.post("/login")
def login() -> Response[str]:
    from micromoments.services.sign_in import SignInLimits, request_link

    deps = services()
    binding = request_cookies().get(BROWSER_COOKIE, "")
    fields = checked_form(deps, f"browser:{binding}")
    if isinstance(fields, Response):
        return fields
    source = app.current_event.request_context.http.source_ip or "unknown"
    try:
        outcome = request_link(
            deps.store,
            deps.mailer,
            address=one(fields, "email"),
            source=source,
            now=deps.now(),
            base_url=deps.base_url,
            sender=deps.sender,
            master_key=deps.master_key,
            limits=SignInLimits(per_source=deps.sign_in_per_source_per_hour),
        )
        if outcome.reason == "invalid":  # says only what is wrong with what was typed
            metrics.add_metric(name="SignInLink_invalid", unit=MetricUnit.Count, value=1)
            csrf = form_token(deps.master_key, f"browser:{binding}")
            email = one(fields, "email")[:300]
            return page("home.html", 400, csrf=csrf, email=email, error=outcome.problem)
        reason = outcome.reason
    except MailError as exc:
        logger.error("sign-in link not sent", error=type(exc).__name__)
        reason = "mail_failed"
    metrics.add_metric(name=f"SignInLink_{reason}", unit=MetricUnit.Count, value=1)
    # The same answer whatever happened: nobody learns who is in.
    return page("check_email.html")


@app.get("/auth")
def auth_page() -> Response[str]:
    from micromoments.services.sign_in import whom

    deps = services()
    token = app.current_event.get_query_string_value("token", "") or ""
    email = whom(deps.store, token, deps.now())
    if email is None:
        return page("link_invalid.html", 400)
    binding, cookies = browser_binding()
    csrf = form_token(deps.master_key, f"browser:{binding}")
    return page("auth.html", cookies=cookies, email=email, token=token, csrf=csrf)


@app.post("/auth")
def auth() -> Response[str]:
    from micromoments.services.sign_in import sign_in

    deps = services()
    binding = request_cookies().get(BROWSER_COOKIE, "")
    fields = checked_form(deps, f"browser:{binding}")
    if isinstance(fields, Response):
        return fields
    started = sign_in(deps.store, one(fields, "token"), deps.now())
    if started is None:
        metrics.add_metric(name="SignInRefused", unit=MetricUnit.Count, value=1)
        return page("link_invalid.html", 400)
    session_id, _ = started
    metrics.add_metric(name="SignedIn", unit=MetricUnit.Count, value=1)
    lifetime = int(SESSION_LIFETIME.total_seconds())
    return redirect("/preferences", cookies=[_cookie(SESSION_COOKIE, session_id, max_age=lifetime)])


@app.post("/logout")
def logout() -> Response[str]:
    from micromoments.services.sign_in import sign_out

    deps = services()
    checked = signed_in_form(deps)
    if isinstance(checked, Response):
        return checked
    session, _fields = checked
    sign_out(deps.store, session)
    return redirect("/", cookies=[_cookie(SESSION_COOKIE, "", max_age=0)])


@app.get("/preferences")
def preferences_page() -> Response[str]:
    deps = services()
    session = signed_in(deps)
    if session is None:
        return redirect("/")
    return _preferences(deps, session)


def _preferences(
    deps: Services,
    session: Session,
    *,
    code: int = 200,
    errors: Mapping[str, str] | None = None,
    submitted: Mapping[str, list[str]] | None = None,
    saved: str = "",
) -> Response[str]:
    from zoneinfo import available_timezones

    from micromoments.services.preferences import settings_of

    settings = settings_of(deps.store)
    person = deps.store.get_person(session.email)
    shown = form_values(person.preferences) if person else form_values(_defaults())
    if submitted is not None:  # re-show what was sent, so nothing typed is lost
        shown = _echo(shown, submitted)
    calendar_zone = (person.timezone if person else None) or f"not read yet: {settings.timezone}"
    return page(
        "preferences.html",
        code,
        signed_in=session.email,
        csrf=form_token(deps.master_key, session_binding(session)),
        status=person.status.value if person else "new",
        values=shown,
        errors=dict(errors or {}),
        saved=saved,
        dont_pair_add=one(submitted, "dont_pair_add") if submitted else "",
        org={
            "holds_per_week": settings.holds_per_week,
            "working_hours": str(settings.working_hours),
            "timezone": settings.timezone,
        },
        calendar_zone=calendar_zone,
        zones=sorted(available_timezones()),
        kinds=KINDS,
        lengths=LENGTHS,
        parts=PARTS,
        days=DAY_NAMES,
    )


def _defaults() -> Any:
    from micromoments.domain.people import Preferences

    return Preferences()


def _echo(shown: dict[str, Any], submitted: Mapping[str, list[str]]) -> dict[str, Any]:
    echoed = dict(shown)
    for name in ("moments", "quiet_days"):
        echoed[name] = set(submitted.get(name, ()))
    for name in ("breather_minutes", "social_minutes", "coffee_minutes", "holds_per_week",
                 "part_of_day", "working_hours", "timezone"):  # fmt: skip
        echoed[name] = one(submitted, name)
    for name in ("weekly_email", "coffee_across_teams"):
        echoed[name] = one(submitted, name) == "on"
    return echoed


@app.post("/preferences")
def save_preferences() -> Response[str]:
    from micromoments.services.preferences import save

    deps = services()
    checked = signed_in_form(deps)
    if isinstance(checked, Response):
        return checked
    session, fields = checked
    saved = save(
        deps.store,
        deps.queue,
        email=session.email,
        form=fields,
        master_key=deps.master_key,
        session=session,
    )
    if saved.result.errors:
        metrics.add_metric(name="PreferencesInvalid", unit=MetricUnit.Count, value=1)
        return _preferences(deps, session, code=400, errors=saved.result.errors, submitted=fields)
    message = (
        "You are in. Your first scan is on its way; holds appear within the hour."
        if saved.opted_in
        else "Saved. Changes apply from the next scan of your calendar."
    )
    metrics.add_metric(
        name="OptedIn" if saved.opted_in else "PreferencesSaved", unit=MetricUnit.Count, value=1
    )
    return _preferences(deps, session, saved=message)


@app.post("/preferences/dont-pair/clear")
def clear_dont_pair() -> Response[str]:
    from micromoments.services.preferences import clear_dont_pair as clear

    deps = services()
    checked = signed_in_form(deps)
    if isinstance(checked, Response):
        return checked
    session, _fields = checked
    clear(deps.store, session.email)
    return _preferences(deps, session, saved="Your never-pair list is empty now.")


@app.post("/optout")
def opt_out() -> Response[str]:
    from micromoments.services.preferences import opt_out as leave
    from micromoments.services.sign_in import sign_out

    deps = services()
    checked = signed_in_form(deps)
    if isinstance(checked, Response):
        return checked
    session, fields = checked
    if not confirmed(fields):
        return confirm_page(deps, session, "/optout")
    leave(deps.store, deps.queue, email=session.email, now=deps.now())
    sign_out(deps.store, session)
    metrics.add_metric(name="OptedOut", unit=MetricUnit.Count, value=1)
    return page(
        "left.html",
        cookies=[_cookie(SESSION_COOKIE, "", max_age=0)],
        heading="You are out",
        lines=[
            "micromoments is removing every future hold it placed on your calendar; "
            "that takes a few minutes. Nothing new will be placed.",
            "You are signed out everywhere. You can come back at any time by signing in "
            "again, and delete your data then too.",
        ],
    )


@app.post("/delete-my-data")
def delete_my_data() -> Response[str]:
    from micromoments.services.preferences import delete_my_data as delete
    from micromoments.services.sign_in import sign_out

    deps = services()
    checked = signed_in_form(deps)
    if isinstance(checked, Response):
        return checked
    session, fields = checked
    if not confirmed(fields):
        return confirm_page(deps, session, "/delete-my-data")
    sign_out(deps.store, session)
    erased = delete(
        deps.store, deps.queue, email=session.email, master_key=deps.master_key, now=deps.now()
    )
    metrics.add_metric(name="DeletionRequested", unit=MetricUnit.Count, value=1)
    first = (
        "Everything micromoments stored about you has been erased."
        if erased
        else "micromoments is removing your future holds; once they are gone, everything "
        "it stored about you is erased, your pairing pseudonyms included. You are signed "
        "out everywhere."
    )
    return page(
        "left.html",
        cookies=[_cookie(SESSION_COOKIE, "", max_age=0)],
        heading="Your data is erased" if erased else "Your data is being deleted",
        lines=[first, "Backups (point-in-time recovery) keep deleted data for up to 35 days."],
    )


# -- leaving: a confirmation first, and signing out everywhere ---------------------------------

CONFIRMATIONS: Mapping[str, Mapping[str, Any]] = {
    "/optout": {
        "heading": "Opt out of micromoments?",
        "lines": (
            "micromoments removes every future hold it placed on your calendar and places "
            "nothing new. Your preferences are kept, so you can come back by signing in.",
            "You will be signed out everywhere.",
        ),
        "button": "Yes, opt out and remove my future holds",
    },
    "/delete-my-data": {
        "heading": "Delete your data?",
        "lines": (
            "You are opted out first: every future hold micromoments placed is removed. Then "
            "everything it stored about you is erased, your preferences, never-pair list and "
            "coffee-chat history included. This cannot be undone.",
            "You will be signed out everywhere. Backups (point-in-time recovery) keep "
            "deleted data for up to 35 days.",
        ),
        "button": "Yes, delete my data",
    },
}


def confirmed(fields: Mapping[str, list[str]]) -> bool:
    return fields.get("confirm") == ["yes"]


def confirm_page(deps: Services, session: Session, action: str) -> Response[str]:
    """What leaving does, and a form of its own that does it (no JavaScript needed)."""
    return page(
        "confirm.html",
        signed_in=session.email,
        csrf=form_token(deps.master_key, session_binding(session)),
        action=action,
        **CONFIRMATIONS[action],
    )


@app.get("/optout/confirm")
def confirm_opt_out() -> Response[str]:
    deps = services()
    session = signed_in(deps)
    return redirect("/") if session is None else confirm_page(deps, session, "/optout")


@app.get("/delete-my-data/confirm")
def confirm_delete() -> Response[str]:
    deps = services()
    session = signed_in(deps)
    return redirect("/") if session is None else confirm_page(deps, session, "/delete-my-data")


@app.post("/logout/everywhere")
def logout_everywhere() -> Response[str]:
    from micromoments.services.sign_in import sign_out_everywhere

    deps = services()
    checked = signed_in_form(deps)
    if isinstance(checked, Response):
        return checked
    session, _fields = checked
    sign_out_everywhere(deps.store, session.email)
    metrics.add_metric(name="SignedOutEverywhere", unit=MetricUnit.Count, value=1)
    return page(
        "left.html",
        cookies=[_cookie(SESSION_COOKIE, "", max_age=0)],
        heading="You are signed out everywhere",
        lines=[
            "Every browser where you were signed in is signed out, this one included, and "
            "sign-in links you have not used yet no longer work.",
            "Your preferences are unchanged.",
        ],
    )


def _link_token() -> str:
    return (app.current_event.get_query_string_value("token", "") or "")[:400]


@app.get("/unsubscribe")
def unsubscribe_page() -> Response[str]:
    from micromoments.domain.links import LinkPurpose
    from micromoments.services.links import check_link

    deps = services()
    token = _link_token()
    checked = check_link(deps.store, LinkPurpose.UNSUBSCRIBE, token, deps.master_key, deps.now())
    return _link_page("unsubscribe.html", checked, token=token)


@app.post("/unsubscribe")
def unsubscribe() -> Response[str]:
    """One click (RFC 8058): the purpose-scoped token is the authority; no CSRF token, no
    session. Mail clients POST ``List-Unsubscribe=One-Click``."""
    from micromoments.services.links import unsubscribe as stop

    deps = services()
    token = _link_token()
    checked = stop(deps.store, token, deps.master_key, deps.now())
    metrics.add_metric(
        name="Unsubscribed" if checked.person else "UnsubscribeRefused",
        unit=MetricUnit.Count,
        value=1,
    )
    return _link_page("unsubscribe.html", checked, token=token, done=True)


@app.get("/leave")
def leave_page() -> Response[str]:
    """The opt-out link of every email: a button (mail scanners prefetch links)."""
    from micromoments.domain.links import LinkPurpose
    from micromoments.services.links import check_link

    deps = services()
    token = _link_token()
    checked = check_link(deps.store, LinkPurpose.OPT_OUT, token, deps.master_key, deps.now())
    return _link_page("leave.html", checked, token=token)


@app.post("/leave")
def leave() -> Response[str]:
    """Opt out without signing in: the purpose-scoped token is the authority, as for
    one-click unsubscribe, so nobody locked out of signing in is kept in."""
    from micromoments.services.links import leave as opt_out_by_link

    deps = services()
    token = _link_token()
    checked = opt_out_by_link(deps.store, deps.queue, token, deps.master_key, deps.now())
    metrics.add_metric(
        name="OptedOutByLink" if checked.person else "OptOutLinkRefused",
        unit=MetricUnit.Count,
        value=1,
    )
    return _link_page("leave.html", checked, token=token, done=True)


def _link_page(name: str, checked: LinkCheck, *, token: str, done: bool = False) -> Response[str]:
    from micromoments.services.links import is_out

    person = checked.person
    problem = checked.problem.value if checked.problem else ""
    return page(
        name,
        200 if person else 400,
        email=person.email if person else "",
        out=bool(person and is_out(person)),
        problem=problem,
        token=token,
        done=done and person is not None,
    )


# -- errors: one place maps them to pages (STYLE.md 6) ---------------------------------------


@app.not_found
def not_found(_: Exception) -> Response[str]:
    methods = methods_at(app.current_event.path)
    if methods:
        return other_method(methods)
    return problem(HTTPStatus.NOT_FOUND, "Page not found", "There is no page at this address.")


def methods_at(path: str) -> dict[str, Callable[..., Any]]:
    """The routes registered for ``path``, by method (powertools keeps its route table in
    these attributes; `test_unknown_methods_get_405_with_allow_and_head_works` notices a
    move)."""
    routes = [*app._static_routes, *app._dynamic_routes]
    return {route.method: route.func for route in routes if route.rule.match(path)}


def other_method(methods: Mapping[str, Callable[..., Any]]) -> Response[str]:
    """HEAD where GET is served (the GET answer without its body); else 405 with Allow."""
    if app.current_event.http_method.upper() == "HEAD" and "GET" in methods:
        answer: Response[str] = methods["GET"]()
        answer.body = ""
        return answer
    allowed = sorted({*methods, "HEAD"} if "GET" in methods else methods)
    answer = problem(
        HTTPStatus.METHOD_NOT_ALLOWED,
        "That did not work",
        "This page does not take that kind of request. Nothing was changed.",
    )
    answer.headers["Allow"] = ", ".join(allowed)
    return answer


@app.exception_handler(NotAForm)  # type: ignore[untyped-decorator]
def not_a_form(_: NotAForm) -> Response[str]:
    return problem(
        HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
        "That did not work",
        "The site only takes forms sent as a web page sends them. Nothing was changed.",
    )


@app.exception_handler(Exception)  # type: ignore[untyped-decorator]
def failed(exc: Exception) -> Response[str]:
    """Anything unforeseen: the error page with the security headers, never a traceback.
    The log names the type and where it happened, never the message (it may hold data)."""
    where = [
        f"{frame.filename.rpartition('micromoments/')[2]}:{frame.lineno} {frame.name}"
        for frame in traceback.extract_tb(exc.__traceback__)
        if "micromoments" in frame.filename
    ]
    logger.error("unexpected error", error=type(exc).__name__, where=where[-8:])
    metrics.add_metric(name="UnexpectedError", unit=MetricUnit.Count, value=1)
    try:
        return problem(
            HTTPStatus.INTERNAL_SERVER_ERROR,
            "Something went wrong",
            "micromoments could not finish this. Please try again in a moment.",
        )
    except Exception:  # the error page itself failed: the same, as plain text
        return Response(
            HTTPStatus.INTERNAL_SERVER_ERROR.value,
            "text/plain; charset=utf-8",
            "Something went wrong. Please try again in a moment.",
            headers=dict(SECURITY_HEADERS),
        )


@app.exception_handler(DomainError)  # type: ignore[untyped-decorator]
def refused(exc: DomainError) -> Response[str]:
    logger.info("request refused", error=type(exc).__name__)
    if isinstance(exc, ConfigError):
        logger.error("site misconfigured", reason=str(exc))
        return problem(
            HTTPStatus.SERVICE_UNAVAILABLE,
            "The site is not set up yet",
            "Please try again later.",
        )
    return problem(HTTPStatus.BAD_REQUEST, "That did not work", f"{exc} Nothing was changed.")


@app.exception_handler(StoreError)  # type: ignore[untyped-decorator]
def unavailable(exc: StoreError) -> Response[str]:
    logger.error("store unavailable", error=type(exc).__name__)
    return problem(
        HTTPStatus.SERVICE_UNAVAILABLE,
        "Please try again in a moment",
        "micromoments could not reach its storage. Nothing was changed.",
    )


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
