"""Look-alike addresses (services/emails.py): one account per mailbox, and no free credits twice."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import func, select

from studio_app.models import AuthSession, CreditEntry, ThrottleEvent, User
from studio_app.services import auth, ledger
from studio_app.services.db import read_session
from studio_app.services.emails import normalize_email
from studio_app.services.errors import InvalidInput
from tests.factories import PASSWORD, make_account

ANN = "ann@example.com"


@pytest.mark.parametrize(
    ("typed", "look_alike_class"),
    [
        ("ANN@Example.COM", "case"),
        ("  ann@example.com\t", "surrounding whitespace"),
        ("\u00a0ann@example.com\u3000", "Unicode spaces around it"),
        ("an\u200bn@example.com", "zero-width space"),
        ("ann\u200c@exa\u200dmple.com", "zero-width non-joiner / joiner"),
        ("\u2060ann@example.com", "word joiner"),
        ("\ufeffann@example.com", "byte-order mark"),
        ("an\u00adn@example.com", "soft hyphen"),
        ("\u200eann@example.com\u200f", "left-to-right / right-to-left marks"),
        ("\u202eann@example.com\u202c", "bidi override"),
        ("\u2066ann@example.com\u2069", "bidi isolate"),
        ("ann\ufe0f@example.com", "variation selector"),
        ("ann\U000e0061@example.com", "tag character"),
        ("a\u034fnn@example.com", "combining grapheme joiner"),
        ("ann@example.com.", "trailing dot of the domain"),
        ("ann@example.com..", "trailing dots of the domain"),
        ("ａｎｎ＠ｅｘａｍｐｌｅ．ｃｏｍ", "full-width forms (NFKC)"),
        ("ann@example\u3002com", "ideographic full stop in the domain"),
        ("ann@example\uff61com", "half-width full stop in the domain"),
        ("\U0001d552nn@example.com", "mathematical letters (NFKC)"),
    ],
)
def test_look_alikes_normalise_to_one_address(typed: str, look_alike_class: str) -> None:
    assert normalize_email(typed) == ANN, look_alike_class


def test_both_spellings_of_an_internationalised_domain_are_one_address() -> None:
    assert normalize_email("ann@xn--bcher-kva.example") == "ann@bücher.example"
    assert normalize_email("ann@BÜCHER.example") == "ann@bücher.example"


def test_a_tag_is_kept_as_typed() -> None:
    assert normalize_email("Ann+News@example.com") == "ann+news@example.com"


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("\u200b\u200b", "Enter your email"),
        ("ann@xn--999999999999.com", "does not look like"),  # punycode that does not decode
        ("ann@example", "does not look like"),
        ("ann\u200b @example.com", "does not look like"),
        ("x" * 2000 + "@example.com", "does not look like"),
    ],
)
def test_what_is_not_an_address_is_refused(typed: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as refused:
        normalize_email(typed)
    assert refused.value.field == "email"


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=30), st.sampled_from(["", "+t"]))
def test_normalising_twice_changes_nothing(local: str, tag: str) -> None:
    """Migration 0009 relies on this (a rename never takes another row's address)."""
    for typed in (f"{local}{tag}@example.com", f"a@{local}.com", local):
        try:
            once = normalize_email(typed)
        except InvalidInput:
            continue
        assert normalize_email(once) == once


def _rows() -> tuple[int, ...]:
    with read_session() as db:
        return tuple(
            db.exec(select(func.count()).select_from(table)).one()
            for table in (User, CreditEntry, AuthSession, ThrottleEvent)
        )


@pytest.mark.usefixtures("migrated_db")
@pytest.mark.parametrize(
    "look_alike",
    [
        "an\u200bn@example.com",
        "ann@example.com.",
        "ANN@EXAMPLE.COM",
        "ａｎｎ＠ｅｘａｍｐｌｅ．ｃｏｍ",
        "\ufeffann@example.com\u2060",
    ],
)
def test_a_look_alike_sign_up_is_refused_and_writes_nothing(look_alike: str) -> None:
    owner = make_account(email=ANN)
    before = _rows()
    with pytest.raises(InvalidInput, match="already exists") as refused:
        auth.sign_up(look_alike, "another password", client_address="198.51.100.1")
    assert refused.value.field == "email"
    assert _rows() == before
    with read_session() as db:
        assert ledger.balance(db, owner.user_id) == 5


@pytest.mark.usefixtures("migrated_db")
@pytest.mark.parametrize(
    ("existing", "new"),
    [
        ("ann@example.com", "ann+credits@example.com"),
        ("ann+one@example.com", "ann@example.com"),
        ("ann+one@example.com", "ann+two@example.com"),
        ("ann+one@example.com", "ANN+Two@example.com."),
    ],
)
def test_a_sign_up_that_differs_only_by_a_tag_is_refused(existing: str, new: str) -> None:
    make_account(email=existing)
    before = _rows()
    with pytest.raises(InvalidInput, match=r"different \+tag") as refused:
        auth.sign_up(new, PASSWORD, client_address="198.51.100.2")
    assert refused.value.field == "email"
    assert _rows() == before


@pytest.mark.usefixtures("migrated_db")
@pytest.mark.parametrize(
    "new",
    [
        "anna@example.com",  # another name
        "ann@example.org",  # another domain
        "an+x@example.com",  # a shorter name with a tag
        "a_n+x@example.com",  # "_" is a character, not a LIKE wildcard
        "a%n@example.com",
    ],
)
def test_other_addresses_are_not_siblings(new: str) -> None:
    make_account(email="ann@example.com")
    make_account(email="aXn@example.com")
    assert auth.sign_up(new, PASSWORD, client_address="198.51.100.3").token


@pytest.mark.usefixtures("migrated_db")
def test_signing_in_with_a_look_alike_reaches_the_one_account() -> None:
    owner = make_account(email=ANN)
    for typed in ("an\u200bn@example.com", "Ann@Example.com.", "ａｎｎ＠ｅｘａｍｐｌｅ．ｃｏｍ"):
        signed = auth.sign_in(typed, PASSWORD, client_address="198.51.100.4")
        assert (signed.user_id, signed.email) == (owner.user_id, ANN)
