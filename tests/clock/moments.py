"""The instants ``make test-clocks`` runs the suite at, one ISO instant a line, each the next
one after now (so a test clock is never in the past, where cookies and tokens could not
live): a Saturday noon, a Sunday night (Monday already in Auckland), the night Europe's
clocks change (Berlin, half an hour after the change) and New Year's Eve (Berlin already in
the new year, UTC still in the old one; some years end in an ISO week 53)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")


def next_weekday(now: datetime, weekday: int, hour: int, minute: int = 0) -> datetime:
    day = now.date() + timedelta(days=(weekday - now.weekday()) % 7 or 7)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def next_offset_change(now: datetime, zone: ZoneInfo) -> datetime:
    """The first whole UTC hour after ``now`` at which ``zone``'s UTC offset differs from
    the hour before: the moment its clocks went forward or back."""
    hour = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    for _ in range(24 * 400):
        if (
            hour.astimezone(zone).utcoffset()
            != (hour - timedelta(hours=1)).astimezone(zone).utcoffset()
        ):
            return hour
        hour += timedelta(hours=1)
    raise ValueError(f"{zone} changes no offset within a year")


def moments(now: datetime) -> list[datetime]:
    year_end = datetime(now.year, 12, 31, 23, 30, tzinfo=UTC)
    if year_end <= now:
        year_end = year_end.replace(year=now.year + 1)
    return [
        next_weekday(now, 5, 12),
        next_weekday(now, 6, 22, 30),
        next_offset_change(now, BERLIN) + timedelta(minutes=30),
        year_end,
    ]


if __name__ == "__main__":
    for moment in moments(datetime.now(UTC)):
        print(moment.isoformat().replace("+00:00", "Z"))
