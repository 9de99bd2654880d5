"""HTTP requests as API Gateway HTTP API (payload 2.0) events, and the handler's answers
back as HTTP: what `micromoments serve` and the web tests put in front of the real web
handler, the way API Gateway does deployed.

As API Gateway does: cookies arrive in ``cookies`` (not the Cookie header), headers are
lower-cased, a repeated header is joined with commas, a body that is not text is base64
encoded, and ``Set-Cookie`` comes back from the ``cookies`` list of the response.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    @property
    def set_cookies(self) -> list[str]:
        return [v for k, v in self.headers if k.lower() == "set-cookie"]


@dataclass(slots=True)
class LambdaContext:
    """The fields of a Lambda context the handlers and powertools read."""

    function_name: str = "micromoments-web"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:000000000000:function:micromoments-web"
    aws_request_id: str = field(default_factory=lambda: uuid.uuid4().hex)


def to_event(
    method: str,
    path: str,
    *,
    query: str = "",
    headers: Iterable[tuple[str, str]] = (),
    body: bytes = b"",
    source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    """The API Gateway v2 event of one HTTP request."""
    merged: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        key = name.lower()
        if key == "cookie":
            cookies += [c.strip() for c in value.split(";") if c.strip()]
            continue
        merged[key] = f"{merged[key]},{value}" if key in merged else value
    params: dict[str, str] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        params[key] = f"{params[key]},{value}" if key in params else value
    text = _text(body, merged.get("content-type", ""))
    now = datetime.now(UTC)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": merged,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": merged.get("host", "127.0.0.1"),
            "http": {
                "method": method.upper(),
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": merged.get("user-agent", ""),
            },
            "requestId": uuid.uuid4().hex,
            "routeKey": "$default",
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": text is None,
    }
    if cookies:
        event["cookies"] = cookies
    if params:
        event["queryStringParameters"] = params
    if body:
        event["body"] = base64.b64encode(body).decode() if text is None else text
    return event


def _text(body: bytes, content_type: str) -> str | None:
    """The body as text when API Gateway would pass it so, else None (base64)."""
    if not body:
        return ""
    textual = content_type.startswith(("text/", "application/x-www-form-urlencoded"))
    if not textual:
        return None
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


def from_result(result: Mapping[str, Any]) -> HttpResponse:
    """A handler's payload 2.0 response as an HTTP response."""
    headers: list[tuple[str, str]] = []
    for name, value in (result.get("headers") or {}).items():
        headers.append((str(name), str(value)))
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers += [(str(name), str(v)) for v in values]
    headers += [("Set-Cookie", str(cookie)) for cookie in result.get("cookies") or ()]
    raw = result.get("body") or ""
    body = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode("utf-8")
    return HttpResponse(int(result.get("statusCode", 200)), headers, body)


def call(
    handler: Handler,
    method: str,
    path: str,
    *,
    query: str = "",
    headers: Iterable[tuple[str, str]] = (),
    body: bytes = b"",
    source_ip: str = "127.0.0.1",
) -> HttpResponse:
    """One request through the handler, as API Gateway would make it."""
    event = to_event(method, path, query=query, headers=headers, body=body, source_ip=source_ip)
    return from_result(handler(event, LambdaContext()))
