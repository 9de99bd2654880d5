"""The site's resolver: every area's routes, and the one place that maps errors to pages
(STYLE.md 6). A domain error is a 400 that says what was wrong and that nothing changed,
a misconfigured site and an unreachable Store, queue or secret (`ports.Unavailable`) are
503s, a body that is not a form is a 415, an unknown method a 405 with ``Allow``, and
anything unforeseen the error page, never a traceback."""

from __future__ import annotations

import traceback
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

from micromoments.config import ConfigError
from micromoments.domain.errors import DomainError
from micromoments.observability import MetricUnit, logger, metrics
from micromoments.ports import Unavailable
from micromoments.web import connect, leaving, preferences, public, request, sign_in, unsubscribe
from micromoments.web.forms import NotAForm
from micromoments.web.rendering import SECURITY_HEADERS, problem

app = APIGatewayHttpResolver()
app.include_router(request.reader)
for area in (public, sign_in, preferences, leaving, unsubscribe, connect):
    app.include_router(area.router)


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


@app.exception_handler(Unavailable)  # type: ignore[untyped-decorator]
def unavailable(exc: Unavailable) -> Response[str]:
    logger.error("store unavailable", error=type(exc).__name__)
    return problem(
        HTTPStatus.SERVICE_UNAVAILABLE,
        "Please try again in a moment",
        "micromoments could not reach its storage. Nothing was changed.",
    )
