"""Google's error shape for the local Calendar API server."""

from __future__ import annotations

from typing import Any

_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    410: "FAILED_PRECONDITION",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
}


class ApiError(Exception):
    """An error answer in Google's JSON shape:
    ``{"error": {"code", "message", "errors": [{"domain", "reason", "message"}], "status"}}``.
    """

    def __init__(
        self,
        code: int,
        message: str,
        reason: str = "invalid",
        *,
        domain: str = "global",
        location: str | None = None,
        location_type: str | None = None,
    ) -> None:
        super().__init__(f"{code} {reason}: {message}")
        self.code = code
        self.message = message
        self.reason = reason
        self.domain = domain
        self.location = location
        self.location_type = location_type

    def body(self) -> dict[str, Any]:
        detail: dict[str, Any] = {
            "domain": self.domain,
            "reason": self.reason,
            "message": self.message,
        }
        if self.location is not None:
            detail["location"] = self.location
            detail["locationType"] = self.location_type or "parameter"
        error: dict[str, Any] = {"code": self.code, "message": self.message, "errors": [detail]}
        status = _STATUS.get(self.code)
        if status is not None:
            error["status"] = status
        return {"error": error}


def invalid(message: str, *, location: str | None = None) -> ApiError:
    return ApiError(400, message, "invalid", location=location)


def required(message: str, *, location: str | None = None) -> ApiError:
    return ApiError(400, message, "required", location=location)


def not_found() -> ApiError:
    return ApiError(404, "Not Found", "notFound")


def duplicate() -> ApiError:
    return ApiError(409, "The requested identifier already exists.", "duplicate")


def deleted() -> ApiError:
    return ApiError(410, "Resource has been deleted", "deleted")


def full_sync_required() -> ApiError:
    return ApiError(
        410,
        "Sync token is no longer valid, a full sync is required.",
        "fullSyncRequired",
        domain="calendar",
    )


def time_range_empty(location: str | None = None) -> ApiError:
    return ApiError(
        400, "The specified time range is empty.", "timeRangeEmpty", domain="calendar",
        location=location,
    )  # fmt: skip
