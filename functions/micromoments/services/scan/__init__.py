"""Use case: scan one person, in steps (DESIGN.md "Flow").

    lease -> sync -> day loads -> plan -> reconcile -> journal + apply -> release

`flow` holds the lease and runs the steps: `sync`, `journal`, `plan` (with `members`, the
organiser's reading of a shared event's members), `apply` (persist, then journal and
send). `scan_person` and `scan_people` are the entry points.
"""

from micromoments.services.scan.flow import (
    DEFAULT_LEASE,
    default_expander,
    scan_people,
    scan_person,
)
from micromoments.services.scan.members import Expander
from micromoments.services.scan.scan_report import ScanFailed, ScanOutcome, ScanReport
from micromoments.services.scan.sync import TIMEZONE_REFRESH

__all__ = [
    "DEFAULT_LEASE",
    "TIMEZONE_REFRESH",
    "Expander",
    "ScanFailed",
    "ScanOutcome",
    "ScanReport",
    "default_expander",
    "scan_people",
    "scan_person",
]
