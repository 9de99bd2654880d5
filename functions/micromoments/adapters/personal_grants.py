"""People's own Google grants as the scan and pair functions use them: the sealed refresh
token from the Store, opened with KMS (`token_vault`), made into refreshable credentials;
and revoked at Google and deleted when the person leaves (docs/google-access.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from micromoments.adapters.google_calendar.personal_credentials import user_credentials
from micromoments.adapters.google_oauth import OAuthClient, Post, http_post, revoke
from micromoments.adapters.token_vault import TokenVault, VaultError
from micromoments.domain.grants import GoogleAccessMode
from micromoments.ports import CalendarError, Store


class PersonalGrants:
    """What the gateway asks about a person's own grant. ``mode`` reads the org's
    ``google_access`` (delegation is the fallback unless it is ``oauth``). ``client`` is
    the OAuth client, or what reads it: read only once a grant is met, so a deployment where
    nobody connects never reads the (empty) secret."""

    def __init__(
        self,
        store: Store,
        vault: TokenVault,
        client: OAuthClient | Callable[[], OAuthClient],
        mode: Callable[[], GoogleAccessMode],
        *,
        post: Post = http_post,
    ) -> None:
        self._store = store
        self._vault = vault
        self._client_of = client if callable(client) else (lambda: client)
        self._mode = mode
        self._post = post

    def mode(self) -> GoogleAccessMode:
        """The org's google_access, read again (a change needs no cold start)."""
        return self._mode()

    def credentials_for(self, email: str, mode: GoogleAccessMode) -> Any:
        """Refreshable credentials of the person's own grant, or None without one (or
        when ``mode`` is delegation: grants left over are not used)."""
        if mode is GoogleAccessMode.DELEGATION:
            return None
        sealed = self._store.get_grant(email)
        if sealed is None:
            return None
        try:
            token = self._vault.open(sealed)
        except VaultError as exc:
            raise CalendarError(str(exc)) from None
        return user_credentials(self._client_of(), token, sealed.scopes)

    def revoke(self, email: str) -> bool:
        """Revoke the grant at Google, then delete it; False when there is none. A grant
        that will not open is deleted all the same (nothing could use it)."""
        sealed = self._store.get_grant(email)
        if sealed is None:
            return False
        try:
            token = self._vault.open(sealed)
        except VaultError:
            token = None
        if token is not None and not revoke(self._client_of(), token, post=self._post):
            raise CalendarError(f"{email}: Google's revocation endpoint refused; retried later")
        self._store.delete_grant(email)
        return True
