"""google-auth credentials for a person's own grant (per-person OAuth): with the Calendar
adapter, so only the functions that call Google carry google-auth."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from micromoments.adapters.google_oauth import OAuthClient


def user_credentials(client: OAuthClient, refresh_token: str, scopes: Sequence[str]) -> Any:
    """google-auth credentials that refresh with the person's own refresh token."""
    from google.oauth2.credentials import Credentials

    return Credentials(  # type: ignore[no-untyped-call]
        token=None,
        refresh_token=refresh_token,
        token_uri=client.token_uri,
        client_id=client.client_id,
        client_secret=client.client_secret,
        scopes=list(scopes),
    )
