"""`micromoments serve` as a user runs it: a process that seeds the stand-ins, prints the
exports and the site's address, prints each sign-in link as the email goes out, and stops
cleanly on Ctrl-C."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest
from playwright.sync_api import Browser, expect

from .conftest import Shots

pytestmark = pytest.mark.e2e

STARTUP_TIMEOUT_S = 60


class Lines:
    """The lines a process prints, read on a thread so waiting can time out."""

    def __init__(self, stream: IO[str]) -> None:
        self.seen: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, pattern: str, timeout: float) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._queue.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                break
            self.seen.append(line)
            if found := re.search(pattern, line):
                return found
        raise AssertionError(f"no line matching {pattern!r}; got:\n" + "\n".join(self.seen))


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Lines, Path]]:
    outbox = tmp_path / "outbox"
    errors = (tmp_path / "stderr.txt").open("w", encoding="utf-8")
    # Nothing of this test process's stand-ins leaks in: the command starts its own.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MICROMOMENTS_"))}
    process = subprocess.Popen(
        [sys.executable, "-m", "micromoments.cli", "serve", "--port", "0", "--people", "3",
         "--outbox", str(outbox)],
        stdout=subprocess.PIPE, stderr=errors, stdin=subprocess.DEVNULL,
        text=True, env=env,
    )  # fmt: skip
    assert process.stdout is not None
    try:
        yield process, Lines(process.stdout), outbox
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        errors.close()


def test_serve_prints_exports_and_links_and_stops_on_ctrl_c(
    served: tuple[subprocess.Popen[str], Lines, Path],
    browser: Browser,
    shots: Shots,
    tmp_path: Path,
) -> None:
    process, lines, outbox = served
    url = lines.wait_for(r"the sign-in form: (http://127\.0\.0\.1:\d+)/", STARTUP_TIMEOUT_S)[1]
    exports = [line for line in lines.seen if line.startswith("export ")]
    for name in ("AWS_ENDPOINT_URL", "MICROMOMENTS_TABLE_NAME", "MICROMOMENTS_SCAN_QUEUE_URL",
                 "MICROMOMENTS_SIGNING_KEY_SECRET", "MICROMOMENTS_PUBLIC_BASE_URL"):  # fmt: skip
        assert any(line.startswith(f"export {name}=") for line in exports), name
    person = lines.wait_for(r"e\.g\. ([^,\s]+@[^,\s]+),", 1)[1]

    context = browser.new_context(base_url=url)
    try:
        page = context.new_page()
        page.goto("/")
        page.get_by_label("Work email address").fill(person)
        page.get_by_role("button", name="Email me a sign-in link").click()
        expect(page.locator("h1")).to_have_text("Check your email")
        link = lines.wait_for(rf"sign-in link for {re.escape(person)}: (\S+)", 10)[1]
        assert link.startswith(f"{url}/auth?token=")
        assert list(outbox.glob("*.eml")), "the email is in the outbox too"
        page.goto(link)
        page.get_by_role("button", name=f"Sign in as {person}").click()
        expect(page.locator("h1")).to_have_text("Your preferences")
        shots(page, "preferences")
    finally:
        context.close()

    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 0
    assert (tmp_path / "stderr.txt").read_text(encoding="utf-8").endswith("stopped\n")
