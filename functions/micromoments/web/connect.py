"""Connecting one's own Google Calendar (per-person OAuth, `services.connect`): the start,
Google's way back, and disconnecting (which is opting out: the removal scan takes the holds
away with the grant, then revokes it at Google).

The start is a link, not a form: a form's redirect to Google would break the pages'
``form-action 'self'``. The link carries the page's CSRF token for the session, and the
start only stores a short-lived state bound to that session."""

from __future__ import annotations

from http import HTTPStatus
from typing import TYPE_CHECKING

from aws_lambda_powertools.event_handler import Response

from micromoments.config import ConfigError
from micromoments.domain.access import form_token_ok
from micromoments.observability import MetricUnit, metrics
from micromoments.web import request
from micromoments.web.dependencies import Services, current
from micromoments.web.rendering import SECURITY_HEADERS, problem, redirect
from micromoments.web.sessions import session_binding, signed_in

if TYPE_CHECKING:
    from micromoments.adapters.google_oauth import OAuthClient
    from micromoments.adapters.token_vault import TokenVault

router = request.area_router()


def _oauth(deps: Services) -> tuple[OAuthClient, TokenVault]:
    """The OAuth client and the vault: the given ones, else the deployment's (read here, so
    a site that never connects anyone never reads the OAuth client's secret)."""
    from micromoments import wiring
    from micromoments.adapters.secrets import SecretError

    try:
        client, vault = deps.oauth or wiring.oauth_client(), deps.vault or wiring.token_vault()
    except SecretError:
        client = vault = None
    if client is None or vault is None:
        raise ConfigError(
            "MICROMOMENTS_GOOGLE_OAUTH_CLIENT_SECRET (holding the OAuth client) and "
            "MICROMOMENTS_GRANT_KEY_ID are needed to connect calendars (docs/deploy.md)"
        )
    return client, vault


@router.get("/connect")
def connect_page() -> Response[str]:
    """Where the reconnect email points: the preferences page holds the button."""
    return redirect("/preferences" if signed_in(current()) else "/")


@router.get("/connect/start")
def start() -> Response[str]:
    from micromoments.services.connect import start_connect

    deps = current()
    session = signed_in(deps)
    if session is None:
        return redirect("/")
    if not form_token_ok(deps.master_key, session_binding(session), request.query("csrf")):
        metrics.add_metric(name="CsrfRejected", unit=MetricUnit.Count, value=1)
        return problem(HTTPStatus.FORBIDDEN, "This link has expired",
                       "Nothing was changed. Go back, reload the page and try again.")  # fmt: skip
    client, _ = _oauth(deps)
    url = start_connect(deps.store, session, master_key=deps.master_key, client=client,
                        base_url=deps.base_url, now=deps.now())  # fmt: skip
    return Response(status_code=303, headers={**SECURITY_HEADERS, "Location": url}, body="")


@router.get("/connect/callback")
def callback() -> Response[str]:
    from micromoments.services.connect import finish_connect

    deps = current()
    session = signed_in(deps)
    if session is None:
        return problem(HTTPStatus.FORBIDDEN, "Please sign in first",
                       "Nothing was connected. Sign in, then connect again.")  # fmt: skip
    client, vault = _oauth(deps)
    finish_connect(
        deps.store, deps.queue, session, state=request.query("state"),
        code=request.query("code"), error=request.query("error"), master_key=deps.master_key,
        client=client, vault=vault, base_url=deps.base_url, now=deps.now(),
    )  # fmt: skip
    metrics.add_metric(name="Connected", unit=MetricUnit.Count, value=1)
    return redirect("/preferences")


@router.get("/disconnect")
def disconnect() -> Response[str]:
    """Disconnecting is opting out: confirmed on its page, like any opt-out."""
    return redirect("/optout/confirm")
