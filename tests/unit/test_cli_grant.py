"""`cli grant` is the admin tab's grant, by a named admin: same checks, keys and audit."""

from __future__ import annotations

import pytest
from sqlmodel import select

from studio_app import cli
from studio_app.models import AuditEntry
from studio_app.services import auth, ledger
from studio_app.services.db import read_session
from studio_app.settings import Settings
from tests.factories import PASSWORD, make_account


@pytest.fixture
def people(migrated_db: Settings) -> tuple[int, int]:
    """(the admin's id, the member's id)"""
    auth.ensure_admin("boss@example.com", PASSWORD)
    member = make_account(email="member@example.com")
    admin = auth.account_by_email("boss@example.com")
    assert admin is not None
    return admin.id, member.user_id


def _grant(*args: str) -> int:
    return cli.main(["grant", "member@example.com", *args])


def _balance(user_id: int) -> int:
    return ledger.credit_summary(user_id).balance


def test_an_admin_grants_once_per_key_and_is_the_audited_actor(
    people: tuple[int, int], capsys: pytest.CaptureFixture[str]
) -> None:
    admin_id, member_id = people
    assert _grant("7", "--as", "boss@example.com", "--key", "promo-1", "--reason", "Promo") == 0
    assert _grant("7", "--as", "boss@example.com", "--key", "promo-1", "--reason", "Promo") == 0
    assert _balance(member_id) == 5 + 7
    assert "nothing granted again" in capsys.readouterr().out
    with read_session() as db:
        audits = db.exec(select(AuditEntry).where(AuditEntry.action == "user.grant_credits")).all()
    assert [(a.actor_id, a.target) for a in audits] == [(admin_id, "user member@example.com")]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["5"], "required: --as"),
        (["5", "--as", "member@example.com"], "is not an admin account"),
        (["5", "--as", "nobody@example.com"], "is not an admin account"),
        (["0", "--as", "boss@example.com"], "error:"),
        (["100001", "--as", "boss@example.com"], "error:"),
        (["5", "--as", "boss@example.com", "--reason", "  "], "Say why"),
    ],
)
def test_the_same_checks_as_the_admin_tab(
    people: tuple[int, int], capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    _, member_id = people
    try:
        code = _grant(*args)
    except SystemExit as exit_:  # argparse refuses a missing --as itself
        code = exit_.code
    assert code != 0
    assert message in capsys.readouterr().err
    assert _balance(member_id) == 5


def test_an_unknown_account_is_named(
    people: tuple[int, int], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["grant", "ghost@example.com", "5", "--as", "boss@example.com"]) == 2
    assert "No account with the email ghost@example.com" in capsys.readouterr().err
