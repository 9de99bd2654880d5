"""One identity per mailbox: the canonical form of an address of the org's domains.

Every address that comes in from outside (sign-in, ``micromoments people add``, the CSV
import, the never-pair form, the operators' look-ups) goes through `canonical_address`, so
two spellings of one mailbox are one person, and a string that only *looks* like an
address of the org is refused with a reason rather than merged with it
(docs/decisions.md, "One identity per mailbox"):

- case does not matter: the address is lowercased (Google Workspace and Microsoft 365
  treat addresses case-insensitively);
- plus-addressing: ``ana+tag@example.com`` is delivered to ``ana@example.com`` by both
  providers, so the ``+tag`` is dropped. Dots are kept: in a Workspace domain (unlike
  gmail.com) ``a.na`` and ``ana`` are different people;
- the part before the ``@`` is plain ASCII: both providers refuse anything else in a
  user name, and a non-Latin letter there (Cyrillic ``а``) only serves to look like
  someone else;
- compatibility forms (fullwidth ``ａ``, ligatures, the Kelvin sign, …; anything Unicode
  NFKC would change) are refused, never folded into the letter they resemble;
- an internationalised domain is accepted as written or as its A-label and kept as the
  A-label (IDNA 2008, the ``idna`` package); a label that mixes scripts (Latin with
  Cyrillic or Greek, the classic homograph) is refused.
"""

from __future__ import annotations

import re
import unicodedata

from micromoments.domain.errors import InvalidSetting

_LOCAL = re.compile(r"^[a-z0-9.!#$%&'*/=?^_`{|}~-]+$")
_DOMAIN = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+([a-z]{2,63}|xn--[a-z0-9-]{1,59})$"
)
MAX_ADDRESS_LENGTH = 254


class AddressRefused(InvalidSetting):
    """The text is not an address micromoments can use; the message says why."""


def _describe(char: str) -> str:
    return f"{char!r} ({unicodedata.name(char, f'U+{ord(char):04X}')})"


def _refuse_compatibility_forms(raw: str, text: str) -> None:
    for char in text:
        folded = unicodedata.normalize("NFKC", char)
        if folded != char:
            raise AddressRefused(
                f"{raw!r} contains {_describe(char)}, which looks like {folded!r} but is a "
                "different character: type the address with ordinary letters"
            )


def _script(char: str) -> str:
    """The script a letter belongs to, as the first word of its Unicode name."""
    return unicodedata.name(char, "UNKNOWN").split(" ", 1)[0]


def canonical_domain(domain: str) -> str:
    """A domain in the form addresses are compared in: lowercase, no trailing dot, an
    internationalised name as its A-label; `AddressRefused` for anything else."""
    import idna

    raw = domain
    text = domain.strip().lower().lstrip("@").rstrip(".")
    _refuse_compatibility_forms(raw, text)
    if not text.isascii():
        for label in text.split("."):
            scripts = {_script(c) for c in label if c.isalpha()}
            if len(scripts) > 1:
                names = " and ".join(sorted(scripts))
                raise AddressRefused(
                    f"the domain {raw!r} mixes {names} letters in {label!r}, so it can look "
                    "like another domain: type it as your organisation writes it"
                )
        try:
            text = idna.encode(text, uts46=False).decode("ascii")
        except (idna.IDNAError, UnicodeError):
            raise AddressRefused(f"{raw!r} is not a valid domain name") from None
    if not _DOMAIN.match(text):
        raise AddressRefused(f"{raw!r} is not a domain name")
    return text


def canonical_address(raw: object) -> str:
    """The one spelling of a mailbox of the org's domains (see the module's doc), or
    `AddressRefused` naming what is wrong. ``mailto:`` and surrounding space are dropped."""
    if not isinstance(raw, str):
        raise AddressRefused(f"{raw!r} is not an email address")
    text = raw.strip()
    if text[:7].lower() == "mailto:":
        text = text[7:].strip()
    if len(text) > MAX_ADDRESS_LENGTH * 2:
        raise AddressRefused("that is too long for an email address")
    _refuse_compatibility_forms(raw, text)
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain:
        raise AddressRefused(f"{raw!r} is not an email address")
    for char in local:
        if not char.isascii():
            raise AddressRefused(
                f"{raw!r} has {_describe(char)} before the @: addresses here use plain "
                "ASCII letters there, and a letter from another alphabet can look like a "
                "Latin one"
            )
    local = local.lower().split("+", 1)[0]
    if not local or not _LOCAL.match(local) or ".." in local or local[0] == "." or local[-1] == ".":
        raise AddressRefused(f"{raw!r} is not an email address")
    try:
        domain = canonical_domain(domain)
    except AddressRefused as exc:
        raise AddressRefused(f"{raw!r}: {exc}") from None
    address = f"{local}@{domain}"
    if len(address) > MAX_ADDRESS_LENGTH:
        raise AddressRefused("that is too long for an email address")
    return address
