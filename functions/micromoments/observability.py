"""The Logger, Metrics and Tracer singletons every handler uses (STYLE.md 2).

Service name and metrics namespace come from POWERTOOLS_SERVICE_NAME and
POWERTOOLS_METRICS_NAMESPACE (set in template.yaml), defaulting to "micromoments".
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

SERVICE = "micromoments"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=SERVICE, service=SERVICE)
tracer = Tracer(service=SERVICE)


def count(name: str, value: int = 1) -> None:
    """Add a Count metric (the only unit the functions report)."""
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


__all__ = ["MetricUnit", "count", "logger", "metrics", "tracer"]
