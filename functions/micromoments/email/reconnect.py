"""The reconnect email: sent once, by the scan that found a person's own Google grant
revoked or expired (status ``needs_reconnect``), with the link to connect again and, like
every email we send, a link to leave without signing in."""

from __future__ import annotations

from email.message import EmailMessage

CONNECT_PATH = "/connect"


def reconnect_url(base_url: str) -> str:
    return base_url.rstrip("/") + CONNECT_PATH


def reconnect_message(email: str, base_url: str, sender: str, *, leave: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = email
    message["Subject"] = "Reconnect your calendar to micromoments"
    message.set_content(
        "Hello,\n\n"
        "Google no longer lets micromoments reach your calendar: the access you gave was\n"
        "removed or has expired. Until you connect again, micromoments does nothing on\n"
        "your calendar; the holds already there stay as they are.\n\n"
        f"Connect again (sign in first):\n{reconnect_url(base_url)}\n\n"
        "__\n"
        "Want micromoments to leave your calendar alone? This link opts you out without\n"
        f"signing in:\n{leave}\n"
    )
    return message
