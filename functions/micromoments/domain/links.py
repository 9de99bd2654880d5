"""Tokens of the links in our emails that act without signing in: stop the weekly email
(one click, RFC 8058) and leave micromoments (opt out).

A token is ``2.<alias>.<generation>.<issued>.<mac>``: the person's alias (a keyed
pseudonym, resolved through their alias item), the generation of their links when it was
issued, the issue time (epoch seconds) and an HMAC of all of it under a key derived for
that one purpose, so an unsubscribe token never opts anyone out and neither signs in.
It is good for `LINK_LIFETIME` after its issue, and only while the person's generation is
still the one it carries: erasing a person bumps it (docs/decisions.md, "Lifetimes of
emailed links"). Tokens of the first format (``<alias>.<mac>``: no date, no generation)
are recognised and refused as outdated.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from micromoments.domain.access import derive_key

LINK_LIFETIME = timedelta(days=90)
CLOCK_SKEW = timedelta(minutes=10)  # an issue time this far ahead is still believed
VERSION = "2"
MAX_TOKEN_LENGTH = 300

_TOKEN = re.compile(
    r"^2\.([0-9a-f]{64})\.(0|[1-9][0-9]{0,11})\.([1-9][0-9]{0,11})\.([0-9a-f]{64})$"
)
_OLD_TOKEN = re.compile(r"^[0-9a-f]{64}\.[0-9a-f]{64}$")


class LinkPurpose(StrEnum):
    UNSUBSCRIBE = "unsubscribe"  # the weekly email off (the first format's key, too)
    OPT_OUT = "opt-out"  # leave micromoments: every future hold removed


class LinkProblem(StrEnum):
    """Why a link does nothing (each has its own page)."""

    NOT_OURS = "not_ours"  # malformed or forged
    OUTDATED = "outdated"  # the first format: no date, no generation
    EXPIRED = "expired"  # older than LINK_LIFETIME
    REVOKED = "revoked"  # issued before the person's data was erased
    NOBODY = "nobody"  # genuine, but names nobody micromoments knows


@dataclass(frozen=True, slots=True)
class LinkToken:
    alias: str
    generation: int
    issued: datetime


def _mac(master: bytes, purpose: LinkPurpose, body: str) -> str:
    return hmac.new(derive_key(master, purpose.value), body.encode(), hashlib.sha256).hexdigest()


def link_token(
    master: bytes, purpose: LinkPurpose, alias: str, *, generation: int, issued: datetime
) -> str:
    """The token of one person's link for one purpose."""
    body = f"{VERSION}.{alias}.{generation}.{int(issued.timestamp())}"
    return f"{body}.{_mac(master, purpose, body)}"


def read_link_token(
    master: bytes, purpose: LinkPurpose, token: str, now: datetime
) -> LinkToken | LinkProblem:
    """What a genuine, unexpired token of ``purpose`` says, or why it does nothing. The
    generation is checked by the caller, against the Store."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
        return LinkProblem.NOT_OURS
    if _OLD_TOKEN.match(token):
        return LinkProblem.OUTDATED
    match = _TOKEN.match(token)
    if match is None:
        return LinkProblem.NOT_OURS
    body, _, mac = token.rpartition(".")
    if not hmac.compare_digest(_mac(master, purpose, body).encode(), mac.encode()):
        return LinkProblem.NOT_OURS
    issued = datetime.fromtimestamp(int(match[3]), UTC)
    if not issued - CLOCK_SKEW <= now < issued + LINK_LIFETIME:
        return LinkProblem.EXPIRED
    return LinkToken(alias=match[1], generation=int(match[2]), issued=issued)
