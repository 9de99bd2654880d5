"""The links our emails carry. They go to ``MICROMOMENTS_PUBLIC_BASE_URL`` only:
``/auth?token=…`` (a sign-in link), ``/preferences``, the one-click ``/unsubscribe?token=…``
route and ``/leave?token=…`` (opt out without signing in).

Callers pass the person's link *tokens* (`services.links.personal_links`); the links are
made here. RFC 8058 wants the unsubscribe link to be https; a local http base
(``micromoments demo``/``serve``) still gets the ``List-Unsubscribe`` header, so the flow
can be tried end to end, and mailbox providers simply ignore it there.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit


def unsubscribe_url(base_url: str, token: str) -> str:
    """The one-click unsubscribe link of a token (`domain.links`)."""
    return f"{_base(base_url)}/unsubscribe?token={quote(token, safe='')}"


def opt_out_url(base_url: str, token: str) -> str:
    """The link that opts a person out without signing in (`domain.links`)."""
    return f"{_base(base_url)}/leave?token={quote(token, safe='')}"


def preferences_url(base_url: str) -> str:
    return f"{_base(base_url)}/preferences"


def sign_in_url(base_url: str, secret: str) -> str:
    """The single-use sign-in link of a secret (`services.sign_in`)."""
    return f"{base_url.rstrip('/')}/auth?token={secret}"


def unsubscribe_link(base_url: str, token: str) -> str:
    """`unsubscribe_url`, refusing a missing token: the weekly email must carry one."""
    if not token or token != token.strip():
        raise ValueError("an unsubscribe token is needed for the unsubscribe link")
    return unsubscribe_url(base_url, token)


def opt_out_link(base_url: str, token: str) -> str:
    """`opt_out_url`, refusing a missing token: every email carries a way to leave."""
    if not token or token != token.strip():
        raise ValueError("an opt-out token is needed: every email carries a way to leave")
    return opt_out_url(base_url, token)


def _base(base_url: str) -> str:
    parts = urlsplit(base_url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ValueError(f"the public base URL must be an http(s) URL, not {base_url!r}")
    return base_url.rstrip("/")
