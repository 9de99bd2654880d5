"""Without Debian's Chromium the browser tests fail, naming the fix: never a silent skip."""

from __future__ import annotations

from pathlib import Path

import pytest

from . import conftest

pytestmark = pytest.mark.e2e


def test_a_missing_chromium_fails_naming_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(conftest, "CHROMIUM", Path("/nonexistent/chromium"))
    with pytest.raises(pytest.fail.Exception, match=r"apt-get install -y chromium"):
        conftest._require_chromium()
