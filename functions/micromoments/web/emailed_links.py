"""The pages of the links in our emails that work without signing in (unsubscribe, leave;
`services.links`): the purpose-scoped token from the query is the authority, so these
forms carry no CSRF token and need no session. Opening a link shows a button and changes
nothing (mail scanners prefetch links); the button's POST acts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools.event_handler import Response

from micromoments.observability import MetricUnit, metrics
from micromoments.web import request
from micromoments.web.dependencies import current
from micromoments.web.rendering import page

if TYPE_CHECKING:
    from micromoments.domain.links import LinkPurpose
    from micromoments.services.links import LinkCheck


def link_token() -> str:
    return request.query("token")[:400]


def link_page(name: str, checked: LinkCheck, *, token: str, done: bool = False) -> Response[str]:
    problem = checked.problem.value if checked.problem else ""
    return page(
        name,
        200 if checked.found else 400,
        email=checked.email,
        out=checked.out,
        problem=problem,
        token=token,
        done=done and checked.found,
    )


def button_page(purpose: LinkPurpose, name: str) -> Response[str]:
    """What opening a link of ``purpose`` shows: whom it is for and its button, or why it
    does nothing."""
    from micromoments.services.links import check_link

    deps = current()
    token = link_token()
    checked = check_link(deps.store, purpose, token, deps.master_key, deps.now())
    return link_page(name, checked, token=token)


def done_page(
    name: str, checked: LinkCheck, *, token: str, metric: str, refused_metric: str
) -> Response[str]:
    """What pressing the button did, counted as ``metric`` (``refused_metric`` when the
    link names nobody)."""
    metrics.add_metric(
        name=metric if checked.found else refused_metric, unit=MetricUnit.Count, value=1
    )
    return link_page(name, checked, token=token, done=True)
