"""The weekly digest as an email: an HTML part that shows in Gmail and Outlook, a
plain-text part with the same facts, and the headers of a one-click unsubscribe (RFC 8058).

Both parts lay out one `email.digest_view.DigestView` (the words and numbers). The HTML is
email-safe: tables and inline styles only, no images, no SVG, no external resources, a
600 px column that shrinks to the screen. The links are made in `email.links`.
"""

from __future__ import annotations

import email.policy
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from functools import cache
from typing import TYPE_CHECKING

from micromoments.email.digest_view import subject, view
from micromoments.email.links import unsubscribe_link

if TYPE_CHECKING:
    from jinja2 import Environment

    from micromoments.domain.digest import Digest


@cache
def templates() -> Environment:
    """The email templates; Jinja is imported on first use (cold starts, STYLE.md 2)."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    return Environment(
        loader=PackageLoader("micromoments", "templates/email"),
        autoescape=select_autoescape(["html"], default_for_string=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_html(digest: Digest, *, base_url: str, unsubscribe: str, opt_out: str) -> str:
    """The HTML part. ``unsubscribe`` and ``opt_out`` are the person's link tokens
    (`services.links.personal_links`); the links are made here."""
    return (
        templates()
        .get_template("digest.html")
        .render(v=view(digest, base_url=base_url, unsubscribe=unsubscribe, opt_out=opt_out))
    )


def render_text(digest: Digest, *, base_url: str, unsubscribe: str, opt_out: str) -> str:
    """The plain-text part: the same facts as the HTML part."""
    return (
        templates()
        .get_template("digest.txt")
        .render(v=view(digest, base_url=base_url, unsubscribe=unsubscribe, opt_out=opt_out))
    )


def compose(
    digest: Digest,
    *,
    to: str,
    sender: str,
    base_url: str,
    unsubscribe: str,
    opt_out: str,
    now: datetime | None = None,
) -> EmailMessage:
    """The whole message: multipart/alternative, text/plain first, then text/html, with
    ``List-Unsubscribe`` (the one-click link in angle brackets) and
    ``List-Unsubscribe-Post: List-Unsubscribe=One-Click``; ``Auto-Submitted:
    auto-generated`` (RFC 3834) keeps auto-responders from answering it."""
    link = unsubscribe_link(base_url, unsubscribe)
    # RFC 5322's 998-character lines: the long one-click link must stay one header line, not
    # RFC 2047 encoded-words (which mail programs do not read as a link, RFC 2369).
    message = EmailMessage(policy=email.policy.default.clone(max_line_length=998))
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject(digest)
    message["Date"] = format_datetime(now or datetime.now(UTC))
    domain = parseaddr(sender)[1].rpartition("@")[2]
    message["Message-ID"] = make_msgid(idstring="digest", domain=domain or None)
    message["List-Unsubscribe"] = f"<{link}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["Auto-Submitted"] = "auto-generated"
    # Quoted-printable: readable in the raw message, 7-bit safe on every hop.
    text = render_text(digest, base_url=base_url, unsubscribe=unsubscribe, opt_out=opt_out)
    html = render_html(digest, base_url=base_url, unsubscribe=unsubscribe, opt_out=opt_out)
    message.set_content(text, cte="quoted-printable")
    message.add_alternative(html, subtype="html", cte="quoted-printable")
    return message
