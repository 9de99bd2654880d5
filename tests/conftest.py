"""Shared test settings.

Hypothesis: no per-example deadline (a 2-core CI machine under load is slow, not wrong),
and in CI (CI=true) a fixed seed, so a red build is reproducible rather than a coin toss;
developers' runs keep exploring new examples.

moto: every test process serialises moto's DynamoDB requests (`local/atomic_moto.py`), since
moto, unlike DynamoDB, does not apply a conditional write atomically and the race tests
would otherwise test moto's race rather than ours.
"""

from __future__ import annotations

import os

from hypothesis import settings

from micromoments.local.atomic_moto import serialise_dynamodb

serialise_dynamodb()

settings.register_profile("micromoments", deadline=None, print_blob=True)
settings.register_profile("ci", parent=settings.get_profile("micromoments"), derandomize=True)
settings.load_profile("ci" if os.environ.get("CI") == "true" else "micromoments")
