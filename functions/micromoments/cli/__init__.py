"""The ``micromoments`` command.

Scripts depend on it, so its options and its ``--json`` shapes are stable. Every error the
user can cause is one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Sequence
from typing import TextIO, cast

from micromoments.cli.calendar_commands import calendar_command, demo_command
from micromoments.cli.exit_codes import EXIT_BROKEN_PIPE, EXIT_INPUT, EXIT_USAGE
from micromoments.cli.parser import build_parser
from micromoments.domain.errors import DomainError
from micromoments.ports import CalendarError, Unavailable

__all__ = ["EXIT_BROKEN_PIPE", "EXIT_INPUT", "EXIT_USAGE", "OutputFailed", "build_parser", "main"]


class OutputFailed(Exception):
    """Writing the command's output (stdout) failed: a closed pipe, a full disk."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


class _Output(io.TextIOBase):
    """Standard output, whose write errors are told apart from every other OSError."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self._stream = stream

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except OSError as exc:
            raise OutputFailed(exc) from None

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as exc:
            raise OutputFailed(exc) from None


def main(argv: Sequence[str] | None = None) -> int:
    """The command; its exit code. Output that cannot be written ends it quietly: a
    closed pipe (``micromoments analyze ... --json | head -c1``) with 141, as a command
    killed by SIGPIPE, and any other write error (a full disk) with one line and 1."""
    out = cast(TextIO, _Output(sys.stdout))
    try:
        try:
            return _main(argv, out)
        finally:
            out.flush()  # what is still buffered fails here, not at the interpreter's exit
    except OutputFailed as failed:
        return _output_failed(failed.error)


def _output_failed(error: OSError) -> int:
    # Python's advice for SIGPIPE: point stdout at devnull, so the interpreter's last flush
    # of what is still buffered cannot fail again at exit.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass  # not a file (a test's capture): nothing is flushed at exit
    if isinstance(error, BrokenPipeError):
        return EXIT_BROKEN_PIPE
    reason = error.strerror or type(error).__name__
    print(f"micromoments: error: cannot write the output: {reason}", file=sys.stderr)
    return EXIT_INPUT


def _main(argv: Sequence[str] | None, out: TextIO) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "demo":
            return demo_command(args, out)
        if args.command == "serve":
            from micromoments.local.serve import serve

            return serve(port=args.port, people=args.people, outbox=args.outbox, out=out,
                         google_access=args.google_access)  # fmt: skip
        if args.command in (
            "init",
            "org",
            "people",
            "scan",
            "pair",
            "digest",
            "doctor",
            "uninstall",
            "env",
        ):
            from micromoments.ops import commands as operator_commands

            return operator_commands.run(args, out)
        return calendar_command(args, out)
    except (DomainError, Unavailable, CalendarError) as exc:
        print(f"micromoments: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("micromoments: interrupted", file=sys.stderr)
        return 130
