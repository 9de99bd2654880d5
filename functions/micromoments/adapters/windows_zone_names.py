"""Windows time zones by their display names, as Outlook and Exchange write them.

Exchange publishes calendars whose TZIDs are a zone's display name, often with no
VTIMEZONE: ``(GMT+10:00) Canberra, Melbourne, Sydney`` (older servers), ``(UTC+10:00)
Canberra, Melbourne, Sydney`` (newer ones). `iana_zone_for_display_name` reads such a name:
the text after the offset names a Windows zone, whose IANA zone is CLDR's mapping (the one
icalendar ships as ``WINDOWS_TO_OLSON``); a name Windows has since reworded is matched by
one of its cities naming an IANA zone with the offset written.

The table is Unicode CLDR's ``common/supplemental/windowsZones.xml`` (the display name in
the comment above each zone's mappings; CLDR commit 062dc06d16b0884bc42b0b04e5408aec6b85eb20),
without the ``(UTC±hh:mm)`` prefix. A test checks that it names exactly the Windows zones
icalendar maps; when icalendar's mapping gains a zone, add its line from the same file.
"""

from __future__ import annotations

import re
import zoneinfo
from datetime import UTC, datetime, timedelta
from functools import cache

from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

__all__ = ["WINDOWS_DISPLAY_NAMES", "iana_zone_for_display_name"]

# display name without its offset -> (standard offset as written, Windows zone id)
WINDOWS_DISPLAY_NAMES: dict[str, tuple[str, str]] = {
    "International Date Line West": ("-12:00", "Dateline Standard Time"),
    "Coordinated Universal Time-11": ("-11:00", "UTC-11"),
    "Aleutian Islands": ("-10:00", "Aleutian Standard Time"),
    "Hawaii": ("-10:00", "Hawaiian Standard Time"),
    "Marquesas Islands": ("-09:30", "Marquesas Standard Time"),
    "Alaska": ("-09:00", "Alaskan Standard Time"),
    "Coordinated Universal Time-09": ("-09:00", "UTC-09"),
    "Baja California": ("-08:00", "Pacific Standard Time (Mexico)"),
    "Coordinated Universal Time-08": ("-08:00", "UTC-08"),
    "Pacific Time (US & Canada)": ("-08:00", "Pacific Standard Time"),
    "Arizona": ("-07:00", "US Mountain Standard Time"),
    "Chihuahua, La Paz, Mazatlan": ("-07:00", "Mountain Standard Time (Mexico)"),
    "Mountain Time (US & Canada)": ("-07:00", "Mountain Standard Time"),
    "Yukon": ("-07:00", "Yukon Standard Time"),
    "Central America": ("-06:00", "Central America Standard Time"),
    "Central Time (US & Canada)": ("-06:00", "Central Standard Time"),
    "Easter Island": ("-06:00", "Easter Island Standard Time"),
    "Guadalajara, Mexico City, Monterrey": ("-06:00", "Central Standard Time (Mexico)"),
    "Saskatchewan": ("-06:00", "Canada Central Standard Time"),
    "Bogota, Lima, Quito, Rio Branco": ("-05:00", "SA Pacific Standard Time"),
    "Chetumal": ("-05:00", "Eastern Standard Time (Mexico)"),
    "Eastern Time (US & Canada)": ("-05:00", "Eastern Standard Time"),
    "Haiti": ("-05:00", "Haiti Standard Time"),
    "Havana": ("-05:00", "Cuba Standard Time"),
    "Indiana (East)": ("-05:00", "US Eastern Standard Time"),
    "Turks and Caicos": ("-05:00", "Turks And Caicos Standard Time"),
    "Asuncion": ("-04:00", "Paraguay Standard Time"),
    "Atlantic Time (Canada)": ("-04:00", "Atlantic Standard Time"),
    "Caracas": ("-04:00", "Venezuela Standard Time"),
    "Cuiaba": ("-04:00", "Central Brazilian Standard Time"),
    "Georgetown, La Paz, Manaus, San Juan": ("-04:00", "SA Western Standard Time"),
    "Santiago": ("-04:00", "Pacific SA Standard Time"),
    "Newfoundland": ("-03:30", "Newfoundland Standard Time"),
    "Araguaina": ("-03:00", "Tocantins Standard Time"),
    "Brasilia": ("-03:00", "E. South America Standard Time"),
    "Cayenne, Fortaleza": ("-03:00", "SA Eastern Standard Time"),
    "City of Buenos Aires": ("-03:00", "Argentina Standard Time"),
    "Greenland": ("-03:00", "Greenland Standard Time"),
    "Montevideo": ("-03:00", "Montevideo Standard Time"),
    "Punta Arenas": ("-03:00", "Magallanes Standard Time"),
    "Saint Pierre and Miquelon": ("-03:00", "Saint Pierre Standard Time"),
    "Salvador": ("-03:00", "Bahia Standard Time"),
    "Coordinated Universal Time-02": ("-02:00", "UTC-02"),
    "Azores": ("-01:00", "Azores Standard Time"),
    "Cabo Verde Is.": ("-01:00", "Cape Verde Standard Time"),
    "Coordinated Universal Time": ("+00:00", "UTC"),
    "Dublin, Edinburgh, Lisbon, London": ("+00:00", "GMT Standard Time"),
    "Monrovia, Reykjavik": ("+00:00", "Greenwich Standard Time"),
    "Sao Tome": ("+00:00", "Sao Tome Standard Time"),
    "Casablanca": ("+01:00", "Morocco Standard Time"),
    "Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna": ("+01:00", "W. Europe Standard Time"),
    "Belgrade, Bratislava, Budapest, Ljubljana, Prague": ("+01:00", "Central Europe Standard Time"),
    "Brussels, Copenhagen, Madrid, Paris": ("+01:00", "Romance Standard Time"),
    "Sarajevo, Skopje, Warsaw, Zagreb": ("+01:00", "Central European Standard Time"),
    "West Central Africa": ("+01:00", "W. Central Africa Standard Time"),
    "Amman": ("+02:00", "Jordan Standard Time"),
    "Athens, Bucharest": ("+02:00", "GTB Standard Time"),
    "Beirut": ("+02:00", "Middle East Standard Time"),
    "Cairo": ("+02:00", "Egypt Standard Time"),
    "Chisinau": ("+02:00", "E. Europe Standard Time"),
    "Damascus": ("+02:00", "Syria Standard Time"),
    "Gaza, Hebron": ("+02:00", "West Bank Standard Time"),
    "Harare, Pretoria": ("+02:00", "South Africa Standard Time"),
    "Helsinki, Kyiv, Riga, Sofia, Tallinn, Vilnius": ("+02:00", "FLE Standard Time"),
    "Jerusalem": ("+02:00", "Israel Standard Time"),
    "Juba": ("+02:00", "South Sudan Standard Time"),
    "Kaliningrad": ("+02:00", "Kaliningrad Standard Time"),
    "Khartoum": ("+02:00", "Sudan Standard Time"),
    "Tripoli": ("+02:00", "Libya Standard Time"),
    "Windhoek": ("+02:00", "Namibia Standard Time"),
    "Baghdad": ("+03:00", "Arabic Standard Time"),
    "Istanbul": ("+03:00", "Turkey Standard Time"),
    "Kuwait, Riyadh": ("+03:00", "Arab Standard Time"),
    "Minsk": ("+03:00", "Belarus Standard Time"),
    "Moscow, St. Petersburg": ("+03:00", "Russian Standard Time"),
    "Nairobi": ("+03:00", "E. Africa Standard Time"),
    "Tehran": ("+03:30", "Iran Standard Time"),
    "Abu Dhabi, Muscat": ("+04:00", "Arabian Standard Time"),
    "Astrakhan, Ulyanovsk": ("+04:00", "Astrakhan Standard Time"),
    "Baku": ("+04:00", "Azerbaijan Standard Time"),
    "Izhevsk, Samara": ("+04:00", "Russia Time Zone 3"),
    "Port Louis": ("+04:00", "Mauritius Standard Time"),
    "Saratov": ("+04:00", "Saratov Standard Time"),
    "Tbilisi": ("+04:00", "Georgian Standard Time"),
    "Volgograd": ("+04:00", "Volgograd Standard Time"),
    "Yerevan": ("+04:00", "Caucasus Standard Time"),
    "Kabul": ("+04:30", "Afghanistan Standard Time"),
    "Ashgabat, Tashkent": ("+05:00", "West Asia Standard Time"),
    "Ekaterinburg": ("+05:00", "Ekaterinburg Standard Time"),
    "Islamabad, Karachi": ("+05:00", "Pakistan Standard Time"),
    "Qyzylorda": ("+05:00", "Qyzylorda Standard Time"),
    "Chennai, Kolkata, Mumbai, New Delhi": ("+05:30", "India Standard Time"),
    "Sri Jayawardenepura": ("+05:30", "Sri Lanka Standard Time"),
    "Kathmandu": ("+05:45", "Nepal Standard Time"),
    "Astana": ("+06:00", "Central Asia Standard Time"),
    "Dhaka": ("+06:00", "Bangladesh Standard Time"),
    "Omsk": ("+06:00", "Omsk Standard Time"),
    "Yangon (Rangoon)": ("+06:30", "Myanmar Standard Time"),
    "Bangkok, Hanoi, Jakarta": ("+07:00", "SE Asia Standard Time"),
    "Barnaul, Gorno-Altaysk": ("+07:00", "Altai Standard Time"),
    "Hovd": ("+07:00", "W. Mongolia Standard Time"),
    "Krasnoyarsk": ("+07:00", "North Asia Standard Time"),
    "Novosibirsk": ("+07:00", "N. Central Asia Standard Time"),
    "Tomsk": ("+07:00", "Tomsk Standard Time"),
    "Beijing, Chongqing, Hong Kong, Urumqi": ("+08:00", "China Standard Time"),
    "Irkutsk": ("+08:00", "North Asia East Standard Time"),
    "Kuala Lumpur, Singapore": ("+08:00", "Singapore Standard Time"),
    "Perth": ("+08:00", "W. Australia Standard Time"),
    "Taipei": ("+08:00", "Taipei Standard Time"),
    "Ulaanbaatar": ("+08:00", "Ulaanbaatar Standard Time"),
    "Eucla": ("+08:45", "Aus Central W. Standard Time"),
    "Chita": ("+09:00", "Transbaikal Standard Time"),
    "Osaka, Sapporo, Tokyo": ("+09:00", "Tokyo Standard Time"),
    "Pyongyang": ("+09:00", "North Korea Standard Time"),
    "Seoul": ("+09:00", "Korea Standard Time"),
    "Yakutsk": ("+09:00", "Yakutsk Standard Time"),
    "Adelaide": ("+09:30", "Cen. Australia Standard Time"),
    "Darwin": ("+09:30", "AUS Central Standard Time"),
    "Brisbane": ("+10:00", "E. Australia Standard Time"),
    "Canberra, Melbourne, Sydney": ("+10:00", "AUS Eastern Standard Time"),
    "Guam, Port Moresby": ("+10:00", "West Pacific Standard Time"),
    "Hobart": ("+10:00", "Tasmania Standard Time"),
    "Vladivostok": ("+10:00", "Vladivostok Standard Time"),
    "Lord Howe Island": ("+10:30", "Lord Howe Standard Time"),
    "Bougainville Island": ("+11:00", "Bougainville Standard Time"),
    "Chokurdakh": ("+11:00", "Russia Time Zone 10"),
    "Magadan": ("+11:00", "Magadan Standard Time"),
    "Norfolk Island": ("+11:00", "Norfolk Standard Time"),
    "Sakhalin": ("+11:00", "Sakhalin Standard Time"),
    "Solomon Is., New Caledonia": ("+11:00", "Central Pacific Standard Time"),
    "Anadyr, Petropavlovsk-Kamchatsky": ("+12:00", "Russia Time Zone 11"),
    "Auckland, Wellington": ("+12:00", "New Zealand Standard Time"),
    "Coordinated Universal Time+12": ("+12:00", "UTC+12"),
    "Fiji": ("+12:00", "Fiji Standard Time"),
    "Chatham Islands": ("+12:45", "Chatham Islands Standard Time"),
    "Coordinated Universal Time+13": ("+13:00", "UTC+13"),
    "Nuku'alofa": ("+13:00", "Tonga Standard Time"),
    "Samoa": ("+13:00", "Samoa Standard Time"),
    "Kiritimati Island": ("+14:00", "Line Islands Standard Time"),
}

_DISPLAY_NAME = re.compile(
    r"\(\s*(?:UTC|GMT)\s*(?:(?P<sign>[+-])\s*(?P<hours>\d{1,2}):?(?P<minutes>\d{2})?)?\s*\)"
    r"\s*(?P<text>.+)",
    re.IGNORECASE,
)
_SUFFIX = re.compile(r"\s+-\s+(?:old|new)$", re.IGNORECASE)
# Offsets are compared in the middle of winter and of summer, as written in the name
# (the standard offset) or the other half of the year (a zone south of the equator).
_PROBES = (datetime(2025, 1, 15, 12, tzinfo=UTC), datetime(2025, 7, 15, 12, tzinfo=UTC))


def _key(text: str) -> str:
    return " ".join(_SUFFIX.sub("", text).split()).casefold()


@cache
def _by_text() -> dict[str, str]:
    return {_key(text): windows for text, (_, windows) in WINDOWS_DISPLAY_NAMES.items()}


@cache
def _by_city() -> dict[str, list[str]]:
    """IANA zones by the last part of their name, e.g. ``new york`` -> America/New_York."""
    found: dict[str, list[str]] = {}
    for name in sorted(zoneinfo.available_timezones()):
        if "/" in name and not name.startswith(("Etc/", "SystemV/")):
            city = name.rsplit("/", 1)[1].replace("_", " ").casefold()
            found.setdefault(city, []).append(name)
    return found


def _has_offset(name: str, offset: timedelta) -> bool:
    zone = zoneinfo.ZoneInfo(name)
    return any(probe.astimezone(zone).utcoffset() == offset for probe in _PROBES)


def iana_zone_for_display_name(name: str) -> str | None:
    """The IANA zone of a Windows display name such as ``(GMT+10:00) Canberra, Melbourne,
    Sydney``, or None when ``name`` is not one, or names no zone we can tell."""
    match = _DISPLAY_NAME.fullmatch(name.strip())
    if match is None:
        return None
    windows = _by_text().get(_key(match["text"]))
    if windows is not None:
        return WINDOWS_TO_OLSON.get(windows)
    sign = -1 if match["sign"] == "-" else 1
    offset = sign * timedelta(hours=int(match["hours"] or 0), minutes=int(match["minutes"] or 0))
    for part in re.split(r"[,:;/]| - ", match["text"]):
        city = " ".join(part.replace("(", " ").replace(")", " ").split()).casefold()
        for candidate in _by_city().get(city, []):
            if _has_offset(candidate, offset):
                return candidate
    return None
