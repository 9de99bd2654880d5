"""The canonical form of an address (`domain.addresses`): one identity per mailbox."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from micromoments.domain.addresses import AddressRefused, canonical_address
from micromoments.domain.people import validate_email


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("ana@example.com", "ana@example.com"),
        ("  ANA@Example.COM ", "ana@example.com"),
        ("mailto:ana@example.com", "ana@example.com"),
        ("ana+digest@example.com", "ana@example.com"),
        ("ana+a+b@example.com", "ana@example.com"),
        ("a.na@example.com", "a.na@example.com"),  # dots matter in a Workspace domain
        ("ana@example.com.", "ana@example.com"),
        ("ana@b\u00fccher.example", "ana@xn--bcher-kva.example"),
        ("ana@stra\u00dfe.example", "ana@xn--strae-oqa.example"),  # IDNA 2008: not "strasse"
    ],
)
def test_spellings_of_one_mailbox_are_one_address(typed: str, canonical: str) -> None:
    assert canonical_address(typed) == canonical


@pytest.mark.parametrize(
    "refused",
    ["", "ana", "@example.com", "+tag@example.com", "ana@", "ana@example", "a..na@example.com",
     ".ana@example.com", "ana@-example.com", "ana@exa_mple.com", "j\u00f6rg@example.com",
     "ana@\u0435\u0445\u0430mple.com", "a" * 300 + "@example.com"],
)  # fmt: skip
def test_what_is_not_a_plain_address_is_refused(refused: str) -> None:
    with pytest.raises(AddressRefused):
        canonical_address(refused)


@given(st.text(max_size=60))
def test_a_canonical_address_is_plain_valid_and_stable(text: str) -> None:
    try:
        address = canonical_address(text)
    except AddressRefused:
        return
    assert address.isascii() and "+" not in address.partition("@")[0]
    assert validate_email(address) == address
    assert canonical_address(address) == address
