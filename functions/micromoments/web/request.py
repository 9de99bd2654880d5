"""The request being answered, for the helpers of every route: its event, cookies and query
values. `reader` is a router without routes that `app` includes, so it reads the event the
app is answering."""

from __future__ import annotations

from typing import cast

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2


def area_router() -> Router:
    """A router for one area's routes (powertools' constructor is untyped)."""
    return Router()  # type: ignore[no-untyped-call]


reader = area_router()


def event() -> APIGatewayProxyEventV2:
    """The API Gateway v2 event of the request (`app` is an HTTP API resolver)."""
    return cast(APIGatewayProxyEventV2, reader.current_event)


def cookies() -> dict[str, str]:
    """The request's cookies by name (the first of a repeated name wins)."""
    jar: dict[str, str] = {}
    for raw in event().cookies or ():
        name, _, value = raw.partition("=")
        jar.setdefault(name.strip(), value.strip())
    return jar


def query(name: str) -> str:
    """A query string value, empty when absent."""
    return event().get_query_string_value(name, "") or ""


def source_ip() -> str:
    return event().request_context.http.source_ip or "unknown"
