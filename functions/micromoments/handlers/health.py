"""Health check: proves the package imports and reports its version."""

from __future__ import annotations

from typing import Any

from micromoments import __version__


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    return {"statusCode": 200, "body": f'{{"status":"ok","version":"{__version__}"}}'}
