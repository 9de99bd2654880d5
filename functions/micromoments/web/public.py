"""Pages anyone may fetch, with no session and no settings: the health check, the privacy
page and the stylesheet (served by the app itself, so the Content-Security-Policy can say
``default-src 'self'``)."""

from __future__ import annotations

from importlib import resources

from aws_lambda_powertools.event_handler import Response

from micromoments import __version__
from micromoments.web import request
from micromoments.web.rendering import SECURITY_HEADERS, page

router = request.area_router()


@router.get("/health")
def health() -> Response[str]:
    return Response(
        200,
        "application/json",
        f'{{"status": "ok", "version": "{__version__}"}}',
        headers=dict(SECURITY_HEADERS),
    )


@router.get("/static/site.css")
def stylesheet() -> Response[str]:
    css = resources.files("micromoments").joinpath("static/site.css").read_text("utf-8")
    headers = {**SECURITY_HEADERS, "Cache-Control": "public, max-age=3600"}
    return Response(200, "text/css; charset=utf-8", css, headers=headers)


@router.get("/static/preferences.js")
def preferences_script() -> Response[str]:
    """The preferences page's small enhancements (the page works without them)."""
    js = resources.files("micromoments").joinpath("static/preferences.js").read_text("utf-8")
    headers = {**SECURITY_HEADERS, "Cache-Control": "public, max-age=3600"}
    return Response(200, "text/javascript; charset=utf-8", js, headers=headers)


@router.get("/privacy")
def privacy() -> Response[str]:
    return page("privacy.html")
