"""Forms posted to the site: the urlencoded body, read whole or refused, and its CSRF
token checked against what the form was bound to (a session, or a browser cookie)."""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from urllib.parse import parse_qs

from aws_lambda_powertools.event_handler import Response

from micromoments.domain.access import form_token_ok
from micromoments.domain.preference_form import FormRefused
from micromoments.observability import MetricUnit, metrics
from micromoments.web import request
from micromoments.web.dependencies import Services
from micromoments.web.rendering import problem

MAX_BODY_BYTES = 16 * 1024
FORM_TYPE = "application/x-www-form-urlencoded"

Form = dict[str, list[str]]


class NotAForm(Exception):
    """A POST whose body is not ``application/x-www-form-urlencoded`` (answered 415)."""


def form() -> Form:
    """The urlencoded body; any other media type, too large or unreadable is refused whole."""
    media_type = request.event().headers.get("content-type", "").partition(";")[0]
    if media_type.strip().lower() != FORM_TYPE:
        raise NotAForm
    try:
        body = request.event().decoded_body or ""
    except (UnicodeDecodeError, ValueError):
        raise FormRefused("the form could not be read") from None
    if len(body.encode()) > MAX_BODY_BYTES:
        raise FormRefused("the form is too large")
    try:
        return parse_qs(body, keep_blank_values=True, strict_parsing=False, max_num_fields=200)
    except ValueError:
        raise FormRefused("the form could not be read") from None


def one(fields: Mapping[str, list[str]], name: str) -> str:
    values = fields.get(name) or [""]
    return values[0]


def checked_form(deps: Services, binding: str) -> Form | Response[str]:
    """The submitted form if its CSRF token is that of ``binding``; else the 403 page."""
    fields = form()
    if not form_token_ok(deps.master_key, binding, one(fields, "csrf")):
        metrics.add_metric(name="CsrfRejected", unit=MetricUnit.Count, value=1)
        return problem(
            HTTPStatus.FORBIDDEN,
            "This form has expired",
            "Nothing was changed. Go back, reload the page and try again.",
        )
    return fields
