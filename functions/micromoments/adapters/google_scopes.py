"""The three narrow Google Calendar scopes every way in uses (DESIGN.md "Google access and
its blast radius"): in a module of their own, free of Google's libraries, so the site's
connect flow names them without carrying the Calendar adapter."""

SCOPES = (
    "https://www.googleapis.com/auth/calendar.events.owned",
    "https://www.googleapis.com/auth/calendar.events.freebusy",
    "https://www.googleapis.com/auth/calendar.settings.readonly",
)
