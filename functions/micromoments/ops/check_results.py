"""The doctor's results: a `Check` (``ok``, ``fail``, ``warn`` or ``skip`` with one line of
detail; only ``fail`` fails the report), the `DoctorReport` that collects them, and one
line for any error a check meets."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    OK = "ok"
    FAIL = "fail"
    SKIP = "skip"
    WARN = "warn"  # worth acting on, but not a failure


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    status: Status
    detail: str

    def line(self) -> str:
        label = "FAIL" if self.status is Status.FAIL else self.status.value
        return f"{label:<4} {self.name}: {self.detail}"

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "status": self.status.value, "detail": self.detail}


def ok(name: str, detail: str) -> Check:
    return Check(name, Status.OK, detail)


def fail(name: str, detail: str) -> Check:
    return Check(name, Status.FAIL, detail)


def skip(name: str, detail: str) -> Check:
    return Check(name, Status.SKIP, detail)


def warn(name: str, detail: str) -> Check:
    return Check(name, Status.WARN, detail)


@dataclass(slots=True)
class DoctorReport:
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(check.status is not Status.FAIL for check in self.checks)

    def status_of(self, name: str) -> Status | None:
        return next((c.status for c in self.checks if c.name == name), None)

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "checks": [check.to_json() for check in self.checks]}


def describe_error(exc: BaseException) -> str:
    """One line for any failure: botocore's code and message, else the exception's text."""
    response = getattr(exc, "response", None)
    if isinstance(response, Mapping):
        error = response.get("Error") or {}
        code, message = error.get("Code", "Error"), error.get("Message", "")
        return f"{code}: {message}" if message else str(code)
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, Mapping):
        return str((response.get("Error") or {}).get("Code", ""))
    return ""
