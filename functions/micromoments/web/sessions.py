"""Who is asking: the session cookie of a signed-in person, the browser cookie that binds
forms shown before sign-in, and the preambles of their POSTs: `signed_in_post` and
`browser_post`."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from functools import wraps

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.shared.cookies import Cookie, SameSite

from micromoments.domain.access import (
    BROWSER_COOKIE,
    SESSION_COOKIE,
    SESSION_LIFETIME,
    Session,
    form_token,
)
from micromoments.web import request
from micromoments.web.dependencies import Services, current
from micromoments.web.forms import Form, checked_form
from micromoments.web.rendering import redirect

SESSION_SECONDS = int(SESSION_LIFETIME.total_seconds())


def cookie(name: str, value: str, *, max_age: int) -> Cookie:
    return Cookie(
        name=name,
        value=value,
        path="/",
        secure=True,
        http_only=True,
        same_site=SameSite.LAX_MODE,
        max_age=max_age,
    )


def session_cookie(session_id: str) -> Cookie:
    return cookie(SESSION_COOKIE, session_id, max_age=SESSION_SECONDS)


def ended_session_cookie() -> Cookie:
    """Tells the browser to forget its session cookie."""
    return cookie(SESSION_COOKIE, "", max_age=0)


# -- before sign-in: forms bound to the browser -------------------------------------------------


def browser_binding() -> tuple[str, list[Cookie]]:
    """The browser cookie that binds forms shown before sign-in (set when missing)."""
    value = request.cookies().get(BROWSER_COOKIE, "")
    if 20 <= len(value) <= 100:
        return value, []
    value = secrets.token_urlsafe(24)
    return value, [cookie(BROWSER_COOKIE, value, max_age=SESSION_SECONDS)]


def browser_csrf(deps: Services, binding: str) -> str:
    """The CSRF token of a form shown before sign-in."""
    return form_token(deps.master_key, f"browser:{binding}")


BrowserRoute = Callable[[Services, str, Form], Response[str]]


def browser_post(route: BrowserRoute) -> Callable[[], Response[str]]:
    """A POST of a form shown before sign-in: ``route`` gets the dependencies, the browser
    binding and the submitted form; without a valid CSRF token for the browser cookie (or
    not urlencoded) it is refused and nothing changes."""

    @wraps(route)
    def answer() -> Response[str]:
        deps = current()
        binding = request.cookies().get(BROWSER_COOKIE, "")
        fields = checked_form(deps, f"browser:{binding}")
        if isinstance(fields, Response):
            return fields
        return route(deps, binding, fields)

    return answer


# -- signed in ---------------------------------------------------------------------------------


def signed_in(deps: Services) -> Session | None:
    from micromoments.services.sign_in import current_session

    return current_session(deps.store, request.cookies().get(SESSION_COOKIE), deps.now())


def session_binding(session: Session) -> str:
    return f"session:{session.session_hash}"


def session_csrf(deps: Services, session: Session) -> str:
    """The CSRF token of a form shown to a signed-in person."""
    return form_token(deps.master_key, session_binding(session))


SignedInRoute = Callable[[Services, Session, Form], Response[str]]


def signed_in_post(route: SignedInRoute) -> Callable[[], Response[str]]:
    """A signed-in page's POST: ``route`` gets the dependencies, the session and the
    submitted form; without a session the answer is back to the start, without a valid
    CSRF token (or not urlencoded) it is refused and nothing changes."""

    @wraps(route)
    def answer() -> Response[str]:
        deps = current()
        session = signed_in(deps)
        if session is None:
            return redirect("/")
        fields = checked_form(deps, session_binding(session))
        if isinstance(fields, Response):
            return fields
        return route(deps, session, fields)

    return answer
