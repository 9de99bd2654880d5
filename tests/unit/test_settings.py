import pytest

from micromoments.domain.errors import InvalidSetting
from micromoments.domain.holds import HoldKind
from micromoments.domain.people import Person, PersonStatus, Preferences, pseudonym
from micromoments.domain.settings import CalendarProvider, CoffeePool, OrgSettings

DESIGN_KEYS = {
    "allowed_domains", "timezone", "working_hours", "meeting_minutes_max",
    "back_to_back_minutes_max", "back_to_back_meetings_max", "after_hours_minutes_max",
    "holds_per_week", "social_per_week", "coffee_per_week", "watercooler_per_week",
    "flex_free_minutes", "coffee_pool", "digest_send", "planning_weeks", "paused",
    "google_access",
    "calendar_provider",
}  # fmt: skip


def test_org_settings_have_exactly_the_design_keys_and_defaults() -> None:
    settings = OrgSettings()
    assert set(OrgSettings.keys()) == DESIGN_KEYS
    assert settings.meeting_minutes_max == 300
    assert settings.back_to_back_minutes_max == 120
    assert settings.back_to_back_meetings_max == 3
    assert settings.after_hours_minutes_max == 60
    assert (settings.holds_per_week, settings.social_per_week) == (5, 2)
    assert (settings.coffee_per_week, settings.watercooler_per_week) == (1, 1)
    assert str(settings.working_hours) == "Mon-Fri 09:00-17:00"
    assert settings.digest_send == "Fri 15:00"
    assert settings.paused is False
    assert settings.google_access == "delegation"
    assert settings.calendar_provider is CalendarProvider.GOOGLE


def test_the_calendar_provider_is_google_or_microsoft() -> None:
    settings = OrgSettings().updated({"calendar_provider": "microsoft"})
    assert settings.calendar_provider is CalendarProvider.MICROSOFT
    assert OrgSettings.from_item(settings.to_item()) == settings
    with pytest.raises(InvalidSetting, match="calendar_provider"):
        OrgSettings().updated({"calendar_provider": "outlook"})


def test_updated_parses_text_values_like_org_set() -> None:
    settings = OrgSettings().updated(
        {
            "allowed_domains": "Example.com, @corp.example.org",
            "working_hours": "Mon-Thu 08:00-16:00",
            "holds_per_week": "3",
            "coffee_pool": "team",
            "paused": "true",
            "timezone": "Europe/Berlin",
        }
    )
    assert settings.allowed_domains == ("example.com", "corp.example.org")
    assert settings.holds_per_week == 3
    assert settings.coffee_pool is CoffeePool.TEAM
    assert settings.paused is True
    assert settings.allows("Someone@EXAMPLE.com")
    assert not settings.allows("someone@example.net")
    assert OrgSettings.from_item(settings.to_item()) == settings


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"colour": "blue"}, "unknown setting 'colour'"),
        ({"holds_per_week": "-1"}, "holds_per_week"),
        ({"holds_per_week": "many"}, "holds_per_week"),
        ({"timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"working_hours": "Mon-Fri 17:00-09:00"}, "ends before it starts"),
        ({"digest_send": "Friday at 3"}, "digest_send"),
        ({"allowed_domains": "not a domain"}, "not a domain"),
        ({"coffee_pool": "everyone"}, "coffee_pool"),
    ],
)
def test_bad_values_raise_and_change_nothing(changes: dict[str, str], fragment: str) -> None:
    settings = OrgSettings()
    with pytest.raises(InvalidSetting, match=fragment):
        settings.updated(changes)
    assert settings == OrgSettings()


def test_preferences_defaults_and_validation() -> None:
    prefs = Preferences()
    assert prefs.moments == frozenset(HoldKind)
    assert prefs.weekly_email is True
    assert Preferences.from_item({"quiet_days": "Mon, friday"}).quiet_days == frozenset({0, 4})
    with pytest.raises(InvalidSetting, match="breather_minutes"):
        Preferences.from_item({"breather_minutes": 30})
    with pytest.raises(InvalidSetting, match="pseudonyms only"):
        Preferences.from_item({"dont_pair": ["bob@example.com"]})
    with pytest.raises(InvalidSetting, match="unknown day"):
        Preferences.from_item({"quiet_days": "Someday"})


def test_dont_pair_list_keeps_only_pseudonyms() -> None:
    key = b"k" * 32
    prefs = Preferences().with_dont_pair(key, ["Bob@Example.com", "mailto:carol@example.com"])
    stored = prefs.to_item()["dont_pair"]
    assert len(stored) == 2
    assert pseudonym(key, "bob@example.com") in stored
    assert not any("@" in item for item in stored)
    assert Preferences.from_item(prefs.to_item()) == prefs


def test_person_status_and_defaults() -> None:
    person = Person(email="Alex@Example.com", preferences=Preferences(timezone="Asia/Kolkata"))
    assert person.email == "alex@example.com"
    assert person.status is PersonStatus.ACTIVE
    assert {s.value for s in PersonStatus} == {
        "active",
        "leaving",
        "opted_out",
        "suspended",
        "needs_reconnect",
    }
    assert person.zone_name("UTC") == "Asia/Kolkata"
    with pytest.raises(ValueError, match="not an email address"):
        Person(email="not-an-address")


def test_a_person_zone_is_theirs_else_googles_else_the_orgs_and_the_orgs_for_a_bad_one() -> None:
    settings = OrgSettings(timezone="Europe/Berlin")
    chosen = Person(
        email="a@example.com", timezone="UTC", preferences=Preferences(timezone="Asia/Kolkata")
    )
    assert chosen.zone(settings).key == "Asia/Kolkata"
    assert Person(email="a@example.com", timezone="UTC").zone(settings).key == "UTC"
    assert Person(email="a@example.com").zone(settings).key == "Europe/Berlin"
    # Google's zone is copied onto a profile unvalidated; one this runtime lacks falls back.
    unknown = Person(email="a@example.com").model_copy(update={"timezone": "Nowhere/Land"})
    assert unknown.zone(settings).key == "Europe/Berlin"
