"""Answers of the site: pages rendered from ``templates/web/``, redirects and error pages,
each with the security headers (errors included)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import Response

if TYPE_CHECKING:
    from aws_lambda_powertools.shared.cookies import Cookie
    from jinja2 import Environment

HTML = "text/html; charset=utf-8"
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
