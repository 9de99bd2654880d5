"""The preferences page (`services.preferences`): opting in, changing what micromoments
does, and clearing the never-pair list. An invalid form is shown again with what was sent,
so nothing typed is lost."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.event_handler import Response

from micromoments.domain.access import Session
from micromoments.domain.holds import HoldKind
from micromoments.domain.hours_form import DAY_WORDS, HOURS_FIELDS
from micromoments.domain.preference_form import CHOICES, listed_zones
from micromoments.domain.working_hours import DAY_NAMES
from micromoments.observability import MetricUnit, metrics
from micromoments.web import request
from micromoments.web.dependencies import Services, current
from micromoments.web.forms import Form, one
from micromoments.web.rendering import page, redirect
from micromoments.web.sessions import session_csrf, signed_in, signed_in_post

KINDS = (
    (HoldKind.BREATHER.value, "Breathers after a run of back-to-back meetings"),
    (HoldKind.SOCIAL.value, "Unstructured social time"),
    (HoldKind.COFFEE.value, "Coffee chats with a colleague"),
    (HoldKind.WATERCOOLER.value, "Team watercooler drop-ins"),
)
LENGTHS = (
    ("breather_minutes", "Breather length", CHOICES["breather_minutes"]),
    ("social_minutes", "Social time length", CHOICES["social_minutes"]),
    ("coffee_minutes", "Coffee chat length", CHOICES["coffee_minutes"]),
)
PARTS = (
    ("any", "Any time"),
    ("morning", "Morning"),
    ("midday", "Around midday"),
    ("afternoon", "Afternoon"),
)

router = request.area_router()


@router.get("/preferences")
def preferences_page() -> Response[str]:
    deps = current()
    session = signed_in(deps)
    if session is None:
        return redirect("/")
    return _preferences(deps, session)


@router.post("/preferences")
@signed_in_post
def save_preferences(deps: Services, session: Session, fields: Form) -> Response[str]:
    from micromoments.services.preferences import save

    saved = save(
        deps.store,
        deps.queue,
        email=session.email,
        form=fields,
        master_key=deps.master_key,
        now=deps.now(),
        session=session,
    )
    if saved.result.errors:
        metrics.add_metric(name="PreferencesInvalid", unit=MetricUnit.Count, value=1)
        return _preferences(deps, session, code=400, errors=saved.result.errors, submitted=fields)
    message = (
        "You are in. Your first scan is on its way; holds appear within the hour."
        if saved.opted_in
        else "Saved."
        if saved.changes
        else "Saved. Nothing changed."
    )
    metrics.add_metric(
        name="OptedIn" if saved.opted_in else "PreferencesSaved", unit=MetricUnit.Count, value=1
    )
    return _preferences(deps, session, saved=message, changes=saved.changes)


@router.post("/preferences/dont-pair/clear")
@signed_in_post
def clear_dont_pair(deps: Services, session: Session, _fields: Form) -> Response[str]:
    from micromoments.services.preferences import clear_dont_pair as clear

    clear(deps.store, session.email)
    return _preferences(deps, session, saved="Your never-pair list is empty now.")


def _preferences(
    deps: Services,
    session: Session,
    *,
    code: int = 200,
    errors: Mapping[str, str] | None = None,
    submitted: Mapping[str, list[str]] | None = None,
    saved: str = "",
    changes: tuple[str, ...] = (),
) -> Response[str]:
    from micromoments.services.preferences import preferences_view

    shown = preferences_view(deps.store, session.email)
    values = shown.values
    if submitted is not None:  # re-show what was sent, so nothing typed is lost
        values = _echo(values, submitted)
    return page(
        "preferences.html",
        code,
        signed_in=session.email,
        csrf=session_csrf(deps, session),
        status=shown.status,
        values=values,
        errors=dict(errors or {}),
        saved=saved,
        changes=changes,
        dont_pair_add=one(submitted, "dont_pair_add") if submitted else "",
        org=shown.org,
        calendar_zone=shown.calendar_zone,
        google_access=shown.google_access,
        zones=listed_zones(),
        day_words=DAY_WORDS,
        kinds=KINDS,
        lengths=LENGTHS,
        parts=PARTS,
        days=DAY_NAMES,
    )


def _echo(shown: dict[str, Any], submitted: Mapping[str, list[str]]) -> dict[str, Any]:
    echoed = dict(shown)
    for name in ("moments", "quiet_days", "same_days"):
        echoed[name] = set(submitted.get(name, ()))
    singles = [n for n, shape in HOURS_FIELDS.items() if shape == "one"]
    for name in ("breather_minutes", "social_minutes", "coffee_minutes", "holds_per_week",
                 "part_of_day", "timezone", *singles):  # fmt: skip
        echoed[name] = one(submitted, name)
    for name in ("weekly_email", "coffee_across_teams"):
        echoed[name] = one(submitted, name) == "on"
    return echoed
