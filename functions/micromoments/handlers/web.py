"""The opt-in site's Lambda entry point, behind an HTTP API (API Gateway v2). The site
itself, its routes and its error pages, is the `micromoments.web` package."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from micromoments.observability import logger, metrics, tracer
from micromoments.web.app import app
from micromoments.web.dependencies import Services, given


# Pages carry sign-in tokens and addresses: neither answers nor errors go into traces.
@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
def handler(event: dict[str, Any], context: LambdaContext, deps: Services | None = None) -> Any:
    with given(deps):  # None: the routes build the deployed ones when they need them
        return app.resolve(event, context)
