"""One demo at a time: a lock on the output directory, and the demo's errors."""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType

from micromoments.domain.errors import DomainError

LOCK_NAME = ".lock"


class DemoBusy(DomainError):
    """Another demo holds the output directory's lock."""


class DemoFailed(DomainError):
    """The demo could not complete (one clear line)."""


class DemoLock:
    """An exclusive lock on ``DIR/.lock`` holding the owner's pid. The kernel releases it
    when the process ends, so a killed demo leaves no stale lock behind."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        import fcntl

        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise DemoFailed(f"cannot use {self.directory}: {exc.strerror or exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise DemoBusy(
                f"another demo is running (pid {holder}) and writing to {self.directory}: "
                "wait for it to finish, or give this one another --out"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        import fcntl

        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def __enter__(self) -> DemoLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
