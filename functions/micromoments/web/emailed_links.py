"""The pages of the links in our emails that work without signing in (unsubscribe, leave;
`services.links`): the purpose-scoped token from the query is the authority, so these
forms carry no CSRF token and need no session."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools.event_handler import Response

from micromoments.web import request
from micromoments.web.rendering import page

if TYPE_CHECKING:
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
