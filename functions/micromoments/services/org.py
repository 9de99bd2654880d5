"""Use cases for the org's one settings item."""

from __future__ import annotations

from collections.abc import Sequence

from micromoments.domain.errors import DomainError, InvalidSetting
from micromoments.domain.settings import OrgSettings
from micromoments.ports import Store


class NotInitialised(DomainError):
    """The table has no org settings yet."""


def initialise_settings(store: Store) -> bool:
    """Store the default settings unless settings exist; True when they were created."""
    return store.create_settings(OrgSettings())


def org_settings(store: Store) -> OrgSettings:
    """The org's settings for every use case that reads them: the defaults while the table
    has none yet (before `micromoments init`), decided here once."""
    return store.get_settings() or OrgSettings()


def current_settings(store: Store) -> OrgSettings:
    """The stored settings, for the operator commands that change them: an error while the
    table has none (`NotInitialised`)."""
    settings = store.get_settings()
    if settings is None:
        raise NotInitialised("no org settings in the table: run `micromoments init` first")
    return settings


def parse_assignments(assignments: Sequence[str]) -> dict[str, str]:
    """``["KEY=VALUE", …]`` as a mapping; a malformed or repeated item is an error."""
    changes: dict[str, str] = {}
    for assignment in assignments:
        key, sep, value = assignment.partition("=")
        key = key.strip()
        if not sep or not key:
            raise InvalidSetting(f"expected KEY=VALUE, got {assignment!r}")
        if key in changes:
            raise InvalidSetting(f"{key} is given twice")
        changes[key] = value.strip()
    if not changes:
        raise InvalidSetting("nothing to set: give at least one KEY=VALUE")
    return changes


def change_settings(store: Store, assignments: Sequence[str]) -> OrgSettings:
    """Validate every change together, then write once; a bad one changes nothing."""
    updated = current_settings(store).updated(parse_assignments(assignments))
    store.put_settings(updated)
    return updated
