"""Shared test settings.

Hypothesis: no per-example deadline (a 2-core CI machine under load is slow, not wrong),
and in CI (CI=true) a fixed seed, so a red build is reproducible rather than a coin toss;
developers' runs keep exploring new examples.

moto: every test process serialises moto's DynamoDB requests (`local/atomic_moto.py`), since
moto, unlike DynamoDB, does not apply a conditional write atomically and the race tests
would otherwise test moto's race rather than ours.

The test clock: under ``make test-clocks`` (TEST_CLOCK set) the run refuses to
start unless the wall clock really stands there, so a sweep can never pass on today's date.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import settings

from micromoments.local.atomic_moto import serialise_dynamodb

serialise_dynamodb()

settings.register_profile("micromoments", deadline=None, print_blob=True)
settings.register_profile("ci", parent=settings.get_profile("micromoments"), derandomize=True)
settings.load_profile("ci" if os.environ.get("CI") == "true" else "micromoments")


def pytest_configure(config: pytest.Config) -> None:
    target = os.environ.get("TEST_CLOCK")
    if not target:
        return
    wanted = datetime.fromisoformat(target.replace("Z", "+00:00"))
    now = datetime.now(UTC)
    if not wanted <= now < wanted + timedelta(minutes=5):
        raise pytest.UsageError(
            f"TEST_CLOCK={target} but the clock says {now:%Y-%m-%dT%H:%M:%SZ}: "
            "run the sweep through `make test-clocks` (PYTHONPATH=tests/clock)"
        )
    config.stash[_clock_key] = target


_clock_key = pytest.StashKey[str]()


def pytest_report_header(config: pytest.Config) -> str | None:
    target = config.stash.get(_clock_key, None)
    return f"test clock: the wall clock started at {target}" if target else None
