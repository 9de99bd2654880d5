"""Leaving micromoments, as easy as joining: opting out and deleting my data (each asks for
a confirmation first, on a page of its own: no JavaScript needed), signing out in every
browser, and the opt-out link of every email, which works without signing in."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.event_handler import Response

from micromoments.domain.access import Session
from micromoments.observability import MetricUnit, metrics
from micromoments.web import request
from micromoments.web.dependencies import Services, current
from micromoments.web.emailed_links import button_page, done_page, link_token
from micromoments.web.forms import Form
from micromoments.web.rendering import page, redirect
from micromoments.web.sessions import ended_session_cookie, session_csrf, signed_in, signed_in_post

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

router = request.area_router()


def confirmed(fields: Mapping[str, list[str]]) -> bool:
    return fields.get("confirm") == ["yes"]


def confirm_page(deps: Services, session: Session, action: str) -> Response[str]:
    """What leaving does, and a form of its own that does it (no JavaScript needed)."""
    return page(
        "confirm.html",
        signed_in=session.email,
        csrf=session_csrf(deps, session),
        action=action,
        **CONFIRMATIONS[action],
    )


def left_page(heading: str, lines: list[str]) -> Response[str]:
    """What leaving did; the browser forgets its session (every session has ended)."""
    return page("left.html", cookies=[ended_session_cookie()], heading=heading, lines=lines)


@router.get("/optout/confirm")
def confirm_opt_out() -> Response[str]:
    deps = current()
    session = signed_in(deps)
    return redirect("/") if session is None else confirm_page(deps, session, "/optout")


@router.get("/delete-my-data/confirm")
def confirm_delete() -> Response[str]:
    deps = current()
    session = signed_in(deps)
    return redirect("/") if session is None else confirm_page(deps, session, "/delete-my-data")


@router.post("/optout")
@signed_in_post
def opt_out(deps: Services, session: Session, fields: Form) -> Response[str]:
    from micromoments.services.preferences import leave
    from micromoments.services.sign_in import sign_out

    if not confirmed(fields):
        return confirm_page(deps, session, "/optout")
    leave(deps.store, deps.queue, email=session.email, now=deps.now())
    sign_out(deps.store, session)
    metrics.add_metric(name="OptedOut", unit=MetricUnit.Count, value=1)
    return left_page(
        "You are out",
        [
            "micromoments is removing every future hold it placed on your calendar; "
            "that takes a few minutes. Nothing new will be placed.",
            "You are signed out everywhere. You can come back at any time by signing in "
            "again, and delete your data then too.",
        ],
    )


@router.post("/delete-my-data")
@signed_in_post
def delete_my_data(deps: Services, session: Session, fields: Form) -> Response[str]:
    from micromoments.services.preferences import delete_my_data as delete
    from micromoments.services.sign_in import sign_out

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
    return left_page(
        "Your data is erased" if erased else "Your data is being deleted",
        [first, "Backups (point-in-time recovery) keep deleted data for up to 35 days."],
    )


@router.post("/logout/everywhere")
@signed_in_post
def logout_everywhere(deps: Services, session: Session, _fields: Form) -> Response[str]:
    from micromoments.services.sign_in import sign_out_everywhere

    sign_out_everywhere(deps.store, session.email)
    metrics.add_metric(name="SignedOutEverywhere", unit=MetricUnit.Count, value=1)
    return left_page(
        "You are signed out everywhere",
        [
            "Every browser where you were signed in is signed out, this one included, and "
            "sign-in links you have not used yet no longer work.",
            "Your preferences are unchanged.",
        ],
    )


# -- the opt-out link of every email: leaving without signing in -------------------------------


@router.get("/leave")
def leave_page() -> Response[str]:
    """The opt-out link of every email: a button (mail scanners prefetch links)."""
    from micromoments.domain.links import LinkPurpose

    return button_page(LinkPurpose.OPT_OUT, "leave.html")


@router.post("/leave")
def leave() -> Response[str]:
    """Opt out without signing in: the purpose-scoped token is the authority, as for
    one-click unsubscribe, so nobody locked out of signing in is kept in."""
    from micromoments.services.links import leave as opt_out_by_link

    deps = current()
    token = link_token()
    checked = opt_out_by_link(deps.store, deps.queue, token, deps.master_key, deps.now())
    return done_page(
        "leave.html",
        checked,
        token=token,
        metric="OptedOutByLink",
        refused_metric="OptOutLinkRefused",
    )
