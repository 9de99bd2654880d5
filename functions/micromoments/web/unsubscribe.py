"""One-click unsubscribe from the weekly email (RFC 8058): a page with a button for people,
and the POST mail clients send (``List-Unsubscribe=One-Click``, urlencoded or multipart)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from micromoments.web import request
from micromoments.web.dependencies import current
from micromoments.web.emailed_links import button_page, done_page, link_token

router = request.area_router()


@router.get("/unsubscribe")
def unsubscribe_page() -> Response[str]:
    from micromoments.domain.links import LinkPurpose

    return button_page(LinkPurpose.UNSUBSCRIBE, "unsubscribe.html")


@router.post("/unsubscribe")
def unsubscribe() -> Response[str]:
    """One click (RFC 8058): the purpose-scoped token is the authority; no CSRF token, no
    session. Mail clients POST ``List-Unsubscribe=One-Click``."""
    from micromoments.services.links import unsubscribe as stop

    deps = current()
    token = link_token()
    checked = stop(deps.store, token, deps.master_key, deps.now())
    return done_page(
        "unsubscribe.html",
        checked,
        token=token,
        metric="Unsubscribed",
        refused_metric="UnsubscribeRefused",
    )
