"""Use case: scan one person (DESIGN.md "Flow"); the steps are in `flow`."""

from micromoments.services.scan.flow import (
    DEFAULT_LEASE,
    TIMEZONE_REFRESH,
    Expander,
    ScanReport,
    default_expander,
    scan_people,
    scan_person,
)

__all__ = [
    "DEFAULT_LEASE",
    "TIMEZONE_REFRESH",
    "Expander",
    "ScanReport",
    "default_expander",
    "scan_people",
    "scan_person",
]
