"""``micromoments demo --google-access oauth``: every person connects their own calendar
through the site, over HTTP, as a person in a browser would: the sign-in email's link, the
preferences page's "Connect Google Calendar", the Calendar server's consent page (approved
as themselves), and back to the site's callback, which seals the grant and opts them in.
No token is written into the Store by the demo: the site's callback does it.

The site here is the real web Lambda handler behind a loopback HTTP server, given its
dependencies (`web.dependencies.Services`) directly, so the handlers' environment stays as
the rest of the demo has it; sign-in emails go to a mailer in memory.
"""

from __future__ import annotations

import html
import re
import threading
import urllib.parse
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from micromoments.local.demo.lock import DemoFailed
from micromoments.local.runtime import HOST, LocalRuntime

_CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')
_TOKEN = re.compile(r'name="token" value="([^"]+)"')
_START = re.compile(r'href="(/connect/start\?csrf=[0-9a-f]+)"')
_HIDDEN = re.compile(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">')
_LINK = re.compile(r"https?://\S+/auth\?token=[A-Za-z0-9_-]+")


class _Browser:
    """Keeps the site's cookies (``Secure`` ones too: loopback is a secure context) and
    never follows redirects: each step is checked."""

    def __init__(self) -> None:
        import httplib2  # type: ignore[import-untyped]

        self.http = httplib2.Http(timeout=10)
        self.http.follow_redirects = False
        self.cookies: dict[str, str] = {}

    def request(self, url: str, form: dict[str, str] | None = None) -> tuple[int, str, str]:
        """(status, Location, body) of a GET, or a form POST."""
        headers = {"cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            headers["content-type"] = "application/x-www-form-urlencoded"
            body = urllib.parse.urlencode(form)
        response, content = self.http.request(
            url, "POST" if form is not None else "GET", body=body, headers=headers
        )
        for cookie in str(response.get("set-cookie", "")).split(", __Host-"):
            name, _, rest = cookie.removeprefix("__Host-").partition("=")
            if name and rest:
                value = rest.split(";", 1)[0]
                if value and "Max-Age=0" not in rest:
                    self.cookies[f"__Host-{name}"] = value
        return int(response.status), str(response.get("location", "")), content.decode()


def _expect(found: re.Match[str] | None, step: str, email: str) -> str:
    if found is None:
        raise DemoFailed(f"connecting {email}: {step} not found")
    return found.group(1) if found.groups() else found.group(0)


def connect_person(site: str, runtime: LocalRuntime, mailer: Any, email: str) -> None:
    """One person, from the site's front page to opted in with their own grant."""
    browser = _Browser()
    _, _, page = browser.request(site + "/")
    browser.request(site + "/login", {"csrf": _expect(_CSRF.search(page), "the form", email),
                                      "email": email})  # fmt: skip
    message = mailer.latest(email)
    body = message.get_body(("plain",)).get_content() if message is not None else ""
    link = urllib.parse.urlsplit(_expect(_LINK.search(body), "the sign-in link", email))
    _, _, page = browser.request(f"{site}/auth?{link.query}")
    token = html.unescape(_expect(_TOKEN.search(page), "the token", email))
    csrf = _expect(_CSRF.search(page), "the form", email)
    browser.request(site + "/auth", {"csrf": csrf, "token": token})
    _, _, page = browser.request(site + "/preferences")
    start = html.unescape(_expect(_START.search(page), "Connect Google Calendar", email))
    status, consent_url, _ = browser.request(site + start)
    if status != 303 or not consent_url.startswith(runtime.calendar.authorize_uri):
        raise DemoFailed(f"connecting {email}: the site did not send the browser to Google")
    _, _, page = browser.request(consent_url)
    form = {name: html.unescape(value) for name, value in _HIDDEN.findall(page)}
    status, callback, _ = browser.request(
        runtime.calendar.authorize_uri, {**form, "account": email, "decision": "allow"}
    )
    if status != 302 or not callback.startswith(site + "/connect/callback"):
        raise DemoFailed(f"connecting {email}: the consent page did not send them back")
    status, where, page = browser.request(callback)
    if (status, where) != (303, "/preferences"):
        raise DemoFailed(f"connecting {email}: the site refused the connect ({status})")


@contextmanager
def connect_site(runtime: LocalRuntime, mailer: Any) -> Iterator[str]:
    """The site on a free loopback port, given its dependencies; its address."""
    from werkzeug.serving import WSGIRequestHandler, make_server
    from werkzeug.wrappers import Request, Response

    from micromoments import wiring
    from micromoments.handlers import web
    from micromoments.local.web_bridge import from_result, to_event
    from micromoments.web.dependencies import Services

    class Quiet(WSGIRequestHandler):
        def log_request(self, *args: Any, **kwargs: Any) -> None:
            return

    deps: list[Services] = []

    def wsgi(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        event = to_event(request.method, request.path, query=environ.get("QUERY_STRING", ""),
                         headers=list(request.headers.items()), body=request.get_data(),
                         source_ip=request.remote_addr or HOST)  # fmt: skip
        result = runtime.invoke(
            lambda e, c: web.handler(e, c, deps=deps[0]), event, function="micromoments-web"
        )
        answer = from_result(result)
        return Response(answer.body, status=answer.status, headers=answer.headers)(
            environ, start_response
        )

    server = make_server(HOST, 0, wsgi, request_handler=Quiet)
    url = f"http://{HOST}:{server.port}"
    deps.append(Services(wiring.store(), mailer, wiring.scan_queue(), wiring.signing_key(), url,
                         runtime.sender, lambda: datetime.now(UTC)))  # fmt: skip
    runtime.allow_redirect(url + "/connect/callback")
    thread = threading.Thread(target=server.serve_forever, name="connect-site", daemon=True)
    thread.start()
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def connect_everyone(runtime: LocalRuntime, emails: list[str]) -> dict[str, int]:
    """Every person connected through the site; what it took."""
    from micromoments.adapters.mail import MemoryMailer

    mailer = MemoryMailer()
    before = runtime.calendar.counters.by_auth.copy()
    with connect_site(runtime, mailer) as site:
        for email in emails:
            connect_person(site, runtime, mailer, email)
    after = runtime.calendar.counters.by_auth
    return {
        "people_connected": len(emails),
        "consents": after.get("auth", 0) - before.get("auth", 0),
        "grants_at_google": len(runtime.calendar.consent.refresh_tokens()),
    }
