"""One-click unsubscribe from the weekly email (RFC 8058): a page with a button for people,
and the POST mail clients send (``List-Unsubscribe=One-Click``, urlencoded or multipart)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from micromoments.observability import MetricUnit, metrics
from micromoments.web import request
from micromoments.web.dependencies import current
from micromoments.web.emailed_links import link_page, link_token

router = request.area_router()


@router.get("/unsubscribe")
def unsubscribe_page() -> Response[str]:
    from micromoments.domain.links import LinkPurpose
    from micromoments.services.links import check_link

    deps = current()
    token = link_token()
    checked = check_link(deps.store, LinkPurpose.UNSUBSCRIBE, token, deps.master_key, deps.now())
    return link_page("unsubscribe.html", checked, token=token)


@router.post("/unsubscribe")
def unsubscribe() -> Response[str]:
    """One click (RFC 8058): the purpose-scoped token is the authority; no CSRF token, no
    session. Mail clients POST ``List-Unsubscribe=One-Click``."""
    from micromoments.services.links import unsubscribe as stop

    deps = current()
    token = link_token()
    checked = stop(deps.store, token, deps.master_key, deps.now())
    metrics.add_metric(
        name="Unsubscribed" if checked.found else "UnsubscribeRefused",
        unit=MetricUnit.Count,
        value=1,
    )
    return link_page("unsubscribe.html", checked, token=token, done=True)
