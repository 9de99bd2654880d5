"""What a handler module loads when Lambda imports it (its cold start): only what its own
path needs. Each handler is imported in a fresh interpreter and its ``sys.modules`` read."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# Modules of other functions' paths, each with the handlers that must not load them at
# import: the ports name the digest and pairing types for type checking only.
NOT_AT_IMPORT = {
    "scan": (
        "micromoments.domain.digest",
        "micromoments.domain.digest_request",
        "micromoments.domain.week_moments",
        "micromoments.email",
        "micromoments.web",
        "jinja2",
    ),
    "dispatch": (
        "micromoments.domain.digest",
        "micromoments.domain.digest_request",
        "micromoments.domain.pairing",
        "micromoments.domain.planner",
        "micromoments.email",
        "jinja2",
    ),
}


def modules_after_import(handler: str) -> set[str]:
    code = (
        f"import json, sys, micromoments.handlers.{handler}; print(json.dumps(sorted(sys.modules)))"
    )
    env = {"POWERTOOLS_TRACE_DISABLED": "1", "AWS_DEFAULT_REGION": "eu-west-1"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    return set(json.loads(done.stdout))


@pytest.mark.parametrize("handler", sorted(NOT_AT_IMPORT))
def test_a_handler_imports_no_other_functions_modules(handler: str) -> None:
    loaded = modules_after_import(handler)
    unwanted = NOT_AT_IMPORT[handler]
    found = sorted(m for m in loaded if any(m == u or m.startswith(f"{u}.") for u in unwanted))
    assert found == []
