"""Refresh tokens sealed with KMS envelope encryption (moto's KMS in-process), kept in the
Store only sealed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from micromoments.adapters.memory import MemoryTable
from micromoments.adapters.table import TableStore
from micromoments.adapters.token_vault import TokenVault, VaultError

pytestmark = pytest.mark.integration

ALICE = "alice@example.com"
TOKEN = "1//0local-" + "r" * 60
SCOPES = ("https://www.googleapis.com/auth/calendar.events.owned",)
NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)


class _CountingKms:
    """moto's KMS client, keeping every answer's plaintext data key for the checks."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.data_keys: list[bytes] = []

    def generate_data_key(self, **kwargs: Any) -> Any:
        answer = self._client.generate_data_key(**kwargs)
        self.data_keys.append(bytes(answer["Plaintext"]))
        return answer

    def decrypt(self, **kwargs: Any) -> Any:
        return self._client.decrypt(**kwargs)


@pytest.fixture
def kms() -> Iterator[_CountingKms]:
    with mock_aws():
        client = boto3.client("kms", region_name="eu-west-1")
        client.create_key(Description="micromoments grants")
        yield _CountingKms(client)


def _key_id(kms: _CountingKms) -> str:
    return str(kms._client.list_keys()["Keys"][0]["KeyId"])


def test_a_sealed_token_opens_and_the_store_never_holds_it_or_its_key(kms: _CountingKms) -> None:
    vault = TokenVault(_key_id(kms), kms)
    table = MemoryTable()
    store = TableStore(table)
    store.put_grant(vault.seal(ALICE, TOKEN, SCOPES, NOW))

    grant = store.get_grant(ALICE)
    assert grant is not None
    assert vault.open(grant) == TOKEN
    assert grant.scopes == SCOPES
    dumped = json.dumps(list(table.items()), default=str)
    assert TOKEN not in dumped
    assert "r" * 20 not in dumped
    (data_key,) = kms.data_keys
    assert data_key not in grant.ciphertext + grant.encrypted_key
    assert data_key.hex() not in dumped
    assert TOKEN not in repr(grant)


def test_each_seal_has_its_own_data_key(kms: _CountingKms) -> None:
    vault = TokenVault(_key_id(kms), kms)
    first, second = vault.seal(ALICE, TOKEN, SCOPES, NOW), vault.seal(ALICE, TOKEN, SCOPES, NOW)
    assert first.ciphertext != second.ciphertext
    assert kms.data_keys[0] != kms.data_keys[1]


def test_a_grant_moved_to_another_person_does_not_open(kms: _CountingKms) -> None:
    vault = TokenVault(_key_id(kms), kms)
    moved = replace(vault.seal(ALICE, TOKEN, SCOPES, NOW), email="mallory@example.com")
    with pytest.raises(VaultError) as caught:
        vault.open(moved)
    assert TOKEN not in str(caught.value)


def test_a_tampered_ciphertext_does_not_open(kms: _CountingKms) -> None:
    vault = TokenVault(_key_id(kms), kms)
    sealed = vault.seal(ALICE, TOKEN, SCOPES, NOW)
    flipped = sealed.ciphertext[:-1] + bytes([sealed.ciphertext[-1] ^ 1])
    with pytest.raises(VaultError, match="does not open"):
        vault.open(replace(sealed, ciphertext=flipped))


def test_erasing_the_person_deletes_the_grant(kms: _CountingKms) -> None:
    from micromoments.domain.people import Person, PersonStatus

    vault = TokenVault(_key_id(kms), kms)
    store = TableStore(MemoryTable())
    store.create_person(Person(email=ALICE, status=PersonStatus.OPTED_OUT))
    store.put_grant(vault.seal(ALICE, TOKEN, SCOPES, NOW))
    store.erase_person(ALICE)
    assert store.get_grant(ALICE) is None
