"""Signing in with an emailed link (`services.sign_in`): the home page's email field, the
link asked for and mailed, the "Sign in as" page (opening a link changes nothing: mail
scanners prefetch links) and its button, and signing out."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from micromoments.domain.access import Session
from micromoments.observability import MetricUnit, logger, metrics
from micromoments.ports import MailError
from micromoments.web import request
from micromoments.web.dependencies import Services, current
from micromoments.web.forms import Form, one
from micromoments.web.rendering import page, redirect
from micromoments.web.sessions import (
    browser_binding,
    browser_csrf,
    browser_post,
    ended_session_cookie,
    session_cookie,
    signed_in,
    signed_in_post,
)

router = request.area_router()


@router.get("/")
def home() -> Response[str]:
    deps = current()
    session = signed_in(deps)
    if session is not None:
        return redirect("/preferences")
    binding, cookies = browser_binding()
    return page("home.html", cookies=cookies, csrf=browser_csrf(deps, binding))


@router.post("/login")
@browser_post
def login(deps: Services, binding: str, fields: Form) -> Response[str]:
    from micromoments.services.sign_in import SignInLimits, request_link

    try:
        outcome = request_link(
            deps.store,
            deps.mailer,
            address=one(fields, "email"),
            source=request.source_ip(),
            now=deps.now(),
            base_url=deps.base_url,
            sender=deps.sender,
            master_key=deps.master_key,
            limits=SignInLimits(per_source=deps.sign_in_per_source_per_hour),
        )
        if outcome.reason == "invalid":  # says only what is wrong with what was typed
            metrics.add_metric(name="SignInLink_invalid", unit=MetricUnit.Count, value=1)
            csrf = browser_csrf(deps, binding)
            email = one(fields, "email")[:300]
            return page("home.html", 400, csrf=csrf, email=email, error=outcome.problem)
        reason = outcome.reason
    except MailError as exc:
        logger.error("sign-in link not sent", error=type(exc).__name__)
        reason = "mail_failed"
    metrics.add_metric(name=f"SignInLink_{reason}", unit=MetricUnit.Count, value=1)
    # The same answer whatever happened: nobody learns who is in.
    return page("check_email.html")


@router.get("/auth")
def auth_page() -> Response[str]:
    from micromoments.services.sign_in import whom

    deps = current()
    token = request.query("token")
    email = whom(deps.store, token, deps.now())
    if email is None:
        return page("link_invalid.html", 400)
    binding, cookies = browser_binding()
    csrf = browser_csrf(deps, binding)
    return page("auth.html", cookies=cookies, email=email, token=token, csrf=csrf)


@router.post("/auth")
@browser_post
def auth(deps: Services, _binding: str, fields: Form) -> Response[str]:
    from micromoments.services.sign_in import sign_in

    started = sign_in(deps.store, one(fields, "token"), deps.now())
    if started is None:
        metrics.add_metric(name="SignInRefused", unit=MetricUnit.Count, value=1)
        return page("link_invalid.html", 400)
    session_id, _ = started
    metrics.add_metric(name="SignedIn", unit=MetricUnit.Count, value=1)
    return redirect("/preferences", cookies=[session_cookie(session_id)])


@router.post("/logout")
@signed_in_post
def logout(deps: Services, session: Session, _fields: Form) -> Response[str]:
    from micromoments.services.sign_in import sign_out

    sign_out(deps.store, session)
    return redirect("/", cookies=[ended_session_cookie()])
