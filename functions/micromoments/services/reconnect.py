"""Ask a person whose own Google grant was revoked or expired to connect again: one email,
sent by the scan that set ``needs_reconnect`` (docs/google-access.md)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from micromoments.email.links import opt_out_link
from micromoments.email.reconnect import reconnect_message
from micromoments.ports import Mailer, MailError, Store
from micromoments.services.links import personal_links


def ask_to_reconnect(
    email: str,
    *,
    store: Store,
    mailer: Mailer,
    master_key: bytes,
    base_url: str,
    sender: str,
    now: datetime,
) -> None:
    """The reconnect email, with the link to leave without signing in."""
    links = personal_links(store, email, master_key, now, record=True)
    leave = opt_out_link(base_url, links.opt_out)
    mailer.send(reconnect_message(email, base_url, sender, leave=leave))


def reconnect_asker() -> Callable[[str], None]:
    """What the scan worker calls for a person it just set ``needs_reconnect``: the email
    when the site's URL, the sender and the signing key are configured (a log line says
    why not otherwise); a failed send is logged, not retried (the status changed once)."""
    from micromoments import wiring
    from micromoments.config import config
    from micromoments.observability import count, logger

    def ask(email: str) -> None:
        count("NeedsReconnect")
        settings, key = config(), wiring.master_key()
        if not (settings.public_base_url and settings.sender_address and key):
            logger.warning("no reconnect email: the site URL, sender or signing key is not set")
            return
        try:
            ask_to_reconnect(email, store=wiring.store(), mailer=wiring.mailer(),
                             master_key=key, base_url=settings.public_base_url,
                             sender=settings.sender_address, now=datetime.now(UTC))  # fmt: skip
        except MailError as exc:
            logger.error("reconnect email not sent", error=type(exc).__name__)

    return ask
