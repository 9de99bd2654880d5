"""The sign-in email: a single-use link (`services.sign_in`), and like every email we send,
a link to leave micromoments without signing in."""

from __future__ import annotations

from email.message import EmailMessage

from micromoments.domain.access import SIGN_IN_TOKEN_LIFETIME


def sign_in_message(email: str, link: str, sender: str, *, leave: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = email
    message["Subject"] = "Your micromoments sign-in link"
    minutes = int(SIGN_IN_TOKEN_LIFETIME.total_seconds() // 60)
    message.set_content(
        "Hello,\n\n"
        "Someone (we hope you) asked to sign in to micromoments with this address.\n"
        f"Open this link within {minutes} minutes; it works once:\n\n{link}\n\n"
        "If it was not you, ignore this email: nothing changes.\n\n"
        "__\n"
        "Want micromoments to leave your calendar alone? This link opts you out without\n"
        f"signing in (every hold it placed is removed):\n{leave}\n"
    )
    return message
