"""What ``serve`` needs to run on the demo's organisation with the demo's key, so that
every link in a demo email works there: ``serve.json`` next to the outbox (``demo-out/``),
written by the demo, read by ``serve`` when it is there.

It holds the synthetic organisation's recipe (people, seed, the Monday its calendars
start on: ``serve`` generates the same people and calendars again) and the demo's signing
key, the local stand-ins' own (a random key of moto's Secrets Manager that signs nothing
anywhere else). The file is written readable by its owner only; the demo replaces it on
every run, and `make clean` removes it with ``demo-out``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from micromoments.local.demo.lock import DemoFailed

HANDOVER = "serve.json"


@dataclass(frozen=True, slots=True)
class Handover:
    people: int
    seed: int
    first_day: date
    signing_key: str

    def to_json(self) -> dict[str, object]:
        return {
            "people": self.people,
            "seed": self.seed,
            "first_day": self.first_day.isoformat(),
            "signing_key": self.signing_key,
        }


def write_handover(out: Path, handover: Handover) -> Path:
    path = out / HANDOVER
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            json.dump(handover.to_json(), file, indent=2)
            file.write("\n")
        os.chmod(path, 0o600)
    except OSError as exc:
        raise DemoFailed(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def read_handover(directory: Path) -> Handover | None:
    """The demo's handover in ``directory``; None when there is none. A file that cannot
    be read is a clear error (run the demo again), never a silent fresh organisation."""
    path = directory / HANDOVER
    if not path.exists():
        return None
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        return Handover(
            people=int(document["people"]),
            seed=int(document["seed"]),
            first_day=date.fromisoformat(str(document["first_day"])),
            signing_key=str(document["signing_key"]),
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DemoFailed(
            f"cannot read {path} ({type(exc).__name__}): run the demo again (make demo)"
        ) from None


def serve_command(out: Path, program: str | None = None) -> str:
    """The command that runs ``serve`` on this demo's handover, as it runs when typed in
    the directory the demo ran in: the program as it was invoked (``.venv/bin/micromoments``
    from `make demo`), and ``--outbox`` when the demo wrote elsewhere than ``demo-out``."""
    import shlex
    import sys

    invoked = program if program is not None else sys.argv[0]
    name = Path(invoked).name if invoked else ""
    command = shlex.quote(invoked) if name == "micromoments" else "micromoments"
    if out != Path("demo-out"):
        command += f" serve --outbox {shlex.quote(str(out / 'outbox'))}"
    else:
        command += " serve"
    return command
