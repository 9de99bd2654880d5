"""The test clock (``make test-clocks``): moves the wall clock of every Python process of a
test run to ``TEST_CLOCK``, an ISO instant, and lets it tick from there.

``make test-clocks`` puts this folder on PYTHONPATH, so Python imports this module at the
start of pytest and of every Python subprocess a test starts (the CLI, ``serve``, the demo).
The first process turns the target into an offset from the real clock and hands it down in
``TEST_CLOCK_OFFSET``, so all of them share one clock, as processes on one
machine do. Only the wall clock moves (time-machine leaves monotonic clocks and sleeps
alone), so timeouts and servers behave as usual. Outside that target nothing imports it.
"""

from __future__ import annotations

import os
import time
from datetime import datetime

_TARGET = "TEST_CLOCK"
_OFFSET = "TEST_CLOCK_OFFSET"


def _start() -> None:
    target = os.environ.get(_TARGET)
    if not target:
        return
    import time_machine

    offset = os.environ.get(_OFFSET)
    if offset is None:
        moment = datetime.fromisoformat(target.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            raise SystemExit(f"{_TARGET}={target!r}: give a zone, e.g. 2026-12-12T12:00:00Z")
        offset = repr(moment.timestamp() - time.time())
        os.environ[_OFFSET] = offset
    time_machine.travel(time.time() + float(offset), tick=True).start()


_start()
