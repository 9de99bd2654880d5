"""`micromoments serve` answers the first requests that reach it, every time.

The site's thread and the scan worker start together; a request that arrived while the
worker was importing the scan handler used to fail (a 500, then a hang) with a
circular-import error, because both threads imported powertools' ``data_classes`` for the
first time at once. The command is started several times here, and pages are requested as
soon as its port accepts connections."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

STARTS = 6
PAGES = ("/", "/privacy", "/health", "/static/site.css")
START_TIMEOUT_S = 60
REQUEST_TIMEOUT_S = 15


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=REQUEST_TIMEOUT_S) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def _wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        assert process.poll() is None, "serve exited before listening"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.005)
    raise AssertionError(f"serve did not listen on {port} within {START_TIMEOUT_S} s")


@pytest.mark.parametrize("attempt", range(STARTS))
def test_pages_requested_at_once_after_start_are_answered(tmp_path: Path, attempt: int) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MICROMOMENTS_"))}
    errors = tmp_path / "stderr.txt"
    with errors.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "micromoments.cli", "serve", "--port", str(port),
             "--people", "1", "--outbox", str(tmp_path / "outbox")],
            stdout=subprocess.DEVNULL, stderr=stderr, stdin=subprocess.DEVNULL, env=env,
        )  # fmt: skip
        try:
            _wait_for_port(port, process)
            # The listening socket exists before the threads start: these requests wait in
            # its backlog and reach the site's thread as the scan worker begins.
            with ThreadPoolExecutor(len(PAGES)) as pool:
                statuses = list(pool.map(_status, (f"http://127.0.0.1:{port}{p}" for p in PAGES)))
            process.send_signal(signal.SIGINT)
            code = process.wait(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
    log = errors.read_text(encoding="utf-8", errors="replace")
    assert statuses == [200] * len(PAGES), log
    assert "micromoments serve:" not in log, log  # no handler or scan worker failure
    assert "Traceback" not in log
    assert code in (0, 130), log  # Ctrl-C once the site is up, or still starting up
