"""Rate limits, emailed-link generations, sign-in tokens, sessions and sign out everywhere."""

from __future__ import annotations

import secrets
from contextlib import suppress
from dataclasses import replace
from datetime import UTC, datetime

from micromoments.adapters.table.items import (
    pointer_targets,
)
from micromoments.adapters.table.layout import (
    OPTIMISTIC_TRIES,
    PK,
    SIGN_IN_SK,
    SK,
    TTL_ATTRIBUTE,
    Cond,
    ConditionFailed,
    CondKind,
    Item,
    TableRecords,
    epoch,
    exists,
    not_exists,
    person_pk,
    required_instant,
)
from micromoments.domain.access import SESSION_LIFETIME, Session, SignInToken
from micromoments.ports import StoreError


def _valid_sign_in_token(
    token_hash: str, item: Item | None, now: datetime, current: str | None
) -> SignInToken | None:
    """The stored sign-in token, if it is unused and unexpired at ``now`` and of the
    address's ``current`` sign-in generation."""
    if item is None:
        return None
    token = SignInToken(
        token_hash=token_hash,
        email=item["email"],
        expires_at=datetime.fromtimestamp(int(item["token_until"]), UTC),
        used=bool(item["used"]),
        generation=str(item.get("generation") or ""),
    )
    of_now = bool(token.generation) and token.generation == current
    return token if of_now and token.valid_at(now) else None


class AccessRecords(TableRecords):
    """Rate limits, link generations, sign-in tokens and sessions."""

    # rate limits
    def rate_count(self, key: str, window: str) -> int:
        item = self.table.get(f"RATE#{key}", window)
        return int(item["count"]) if item else 0

    def take(self, key: str, window: str, expires_at: datetime, limit: int) -> bool:
        """Count one request against ``key`` (a keyed hash, never an address) in ``window``
        unless ``limit`` are counted already. Optimistic: a lost race is retried."""
        for _ in range(OPTIMISTIC_TRIES * 2):
            item = self.table.get(f"RATE#{key}", window)
            count = int(item["count"]) if item else 0
            if count >= limit:
                return False
            fresh = {
                PK: f"RATE#{key}",
                SK: window,
                "count": count + 1,
                TTL_ATTRIBUTE: epoch(expires_at),
            }
            condition = (
                not_exists() if item is None else Cond(CondKind.MATCHES, value={"count": count})
            )
            try:
                self.table.put(fresh, condition=condition)
            except ConditionFailed:
                continue
            return True
        raise StoreError("rate limit: too many concurrent requests for one key")

    # emailed links
    def link_generation(self, address_hash: str) -> int:
        item = self.table.get(f"LINKS#{address_hash}", "GENERATION")
        return int(item["generation"]) if item else 0

    def bump_link_generation(self, address_hash: str, at: datetime, keep_until: datetime) -> int:
        """Outside the person's partition on purpose: it must outlive their erasure. It holds
        a number under a keyed hash, and goes when every link it refuses has expired."""
        generation = max(self.link_generation(address_hash) + 1, epoch(at))
        self.table.put(
            {
                PK: f"LINKS#{address_hash}",
                SK: "GENERATION",
                "generation": generation,
                TTL_ATTRIBUTE: epoch(keep_until),
            }
        )
        return generation

    # sign-in tokens and sessions
    def create_sign_in_token(self, token: SignInToken) -> bool:
        until = epoch(token.expires_at)
        # the generation outlives every session this token may become
        generation = self._sign_in_generation(
            token.email, keep_until=token.expires_at + SESSION_LIFETIME
        )
        created = self._create(
            {
                PK: f"TOKEN#{token.token_hash}",
                SK: "TOKEN",
                "email": token.email,
                "token_until": until,
                "used": token.used,
                "generation": generation,
                TTL_ATTRIBUTE: until,
            }
        )
        if created:
            self._point(token.email, f"TOKEN#{token.token_hash}", until)
        return created

    def _point(self, email: str, sk: str, until: int) -> None:
        """A pointer under the person, so that erasing them finds their tokens/sessions."""
        self.table.put({PK: person_pk(email), SK: sk, TTL_ATTRIBUTE: until})

    def peek_sign_in_token(self, token_hash: str, now: datetime) -> SignInToken | None:
        item = self.table.get(f"TOKEN#{token_hash}", "TOKEN")
        current = self._generation(item["email"]) if item else None
        return _valid_sign_in_token(token_hash, item, now, current)

    def consume_sign_in_token(self, token_hash: str, now: datetime) -> SignInToken | None:
        item = self.table.get(f"TOKEN#{token_hash}", "TOKEN")
        current = self._generation(item["email"]) if item else None
        token = _valid_sign_in_token(token_hash, item, now, current)
        if item is None or token is None:
            return None
        item["used"] = True
        try:
            self.table.put(item, condition=Cond(CondKind.EQUALS, "used", False))
        except ConditionFailed:
            return None  # consumed by a concurrent request
        return token

    def create_session(self, session: Session) -> bool:
        created = self._create(self._session_item(session))
        if created:
            sk = f"SESSION#{session.session_hash}"
            self._point(session.email, sk, epoch(session.created_at + SESSION_LIFETIME))
        return created

    def get_session(self, session_hash: str, now: datetime) -> Session | None:
        item = self.table.get(f"SESSION#{session_hash}", "SESSION")
        if item is None:
            return None
        session = Session(
            session_hash=session_hash,
            email=item["email"],
            created_at=required_instant(item["created_at"]),
            last_seen_at=required_instant(item["last_seen_at"]),
            generation=str(item.get("generation") or ""),
        )
        return session if session.valid_at(now) and self.session_current(session) else None

    def touch_session(self, session_hash: str, now: datetime) -> None:
        session = self.get_session(session_hash, now)
        if session is None:
            return
        touched = replace(session, last_seen_at=now)
        with suppress(ConditionFailed):  # deleted meanwhile: logged out
            self.table.put(self._session_item(touched), condition=exists())

    def delete_session(self, session_hash: str) -> None:
        item = self.table.get(f"SESSION#{session_hash}", "SESSION")
        self.table.delete(f"SESSION#{session_hash}", "SESSION")
        if item is not None:
            self.table.delete(person_pk(item["email"]), f"SESSION#{session_hash}")

    def _session_item(self, session: Session) -> Item:
        return {
            PK: f"SESSION#{session.session_hash}",
            SK: "SESSION",
            "email": session.email,
            "created_at": session.created_at.isoformat(),
            "last_seen_at": session.last_seen_at.isoformat(),
            "generation": session.generation,
            TTL_ATTRIBUTE: epoch(session.expires_at),
        }

    # sign out everywhere: one random generation per address (docs/decisions.md)
    def session_current(self, session: Session) -> bool:
        return bool(session.generation) and self._generation(session.email) == session.generation

    def end_sessions(self, email: str) -> None:
        # The generation first: from this write on, nothing of before is valid. Then the
        # items themselves, targets before their pointers (TTL would remove them later).
        self.table.delete(person_pk(email), SIGN_IN_SK)
        pointers = [
            (str(item[PK]), str(item[SK]))
            for prefix in ("SESSION#", "TOKEN#")
            for item in self.table.query(person_pk(email), prefix)
        ]
        self.table.batch_delete(pointer_targets(pointers))
        self.table.batch_delete(pointers)

    def _generation(self, email: str) -> str | None:
        item = self.table.get(person_pk(email), SIGN_IN_SK)
        return str(item["generation"]) if item else None

    def _sign_in_generation(self, email: str, *, keep_until: datetime) -> str:
        """The address's current sign-in generation (a new random one when it has none),
        its item kept at least until ``keep_until``."""
        until = epoch(keep_until)
        for _ in range(OPTIMISTIC_TRIES):
            item = self.table.get(person_pk(email), SIGN_IN_SK)
            if item is None:
                generation = secrets.token_hex(16)
                fresh = {PK: person_pk(email), SK: SIGN_IN_SK, "generation": generation}
                if self._create({**fresh, TTL_ATTRIBUTE: until}):
                    return generation
                continue
            generation = str(item["generation"])
            if int(item.get(TTL_ATTRIBUTE) or 0) >= until:
                return generation
            same = Cond(CondKind.MATCHES, value={"generation": generation})
            try:
                self.table.put({**item, TTL_ATTRIBUTE: until}, condition=same)
            except ConditionFailed:
                continue  # ended or extended meanwhile: read again
            return generation
        raise StoreError("sign-in: this address keeps changing; try again")
