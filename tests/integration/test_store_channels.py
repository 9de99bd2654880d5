"""Push channel records and push-scan claims in the Store, on every table backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from micromoments.adapters.table import TableStore
from micromoments.domain.people import Person, PersonStatus
from micromoments.domain.push import PushChannel, token_hash

ADA = "ada@example.com"
NOW = datetime(2026, 3, 16, 9, 0, tzinfo=UTC)


def channel(channel_id: str = "mm-1", person: str = ADA) -> PushChannel:
    return PushChannel(channel_id, person, "res-1", token_hash("t"), NOW + timedelta(days=7))


def test_a_channel_is_found_by_id_and_under_its_person_until_deleted(store: TableStore) -> None:
    store.put_channel(channel())
    store.put_channel(channel("mm-2"))
    assert store.get_channel("mm-1") == channel()
    assert store.channels(ADA) == [channel(), channel("mm-2")]
    assert store.channels("grace@example.com") == []
    store.delete_channel(channel())
    assert store.get_channel("mm-1") is None
    assert store.channels(ADA) == [channel("mm-2")]


def test_a_push_scan_is_claimed_once_a_window_and_may_be_released(store: TableStore) -> None:
    until = NOW + timedelta(hours=1)
    assert store.claim_push_scan(ADA, "100", until) is True
    assert store.claim_push_scan(ADA, "100", until) is False
    assert store.claim_push_scan(ADA, "160", until) is True
    assert store.claim_push_scan("grace@example.com", "100", until) is True
    store.release_push_scan(ADA, "100")
    assert store.claim_push_scan(ADA, "100", until) is True


def test_erasure_removes_the_channel_records_and_claims(store: TableStore) -> None:
    store.create_person(Person(email=ADA, status=PersonStatus.OPTED_OUT))
    store.put_channel(channel())
    store.claim_push_scan(ADA, "100", NOW + timedelta(hours=1))
    store.erase_person(ADA)
    assert store.get_channel("mm-1") is None
    assert store.channels(ADA) == []
    assert store.claim_push_scan(ADA, "100", NOW + timedelta(hours=1)) is True
