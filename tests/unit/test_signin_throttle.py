"""Failed sign-ins, as an attacker and as the owner (services/signin_throttle.py).

Password hashing is made cheap here (the throttle does not depend on its cost)
and the clock is fixed, so waits are exact and nothing depends on timing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlmodel import func, select

from studio_app import cli
from studio_app.models import ThrottleEvent, User
from studio_app.services import auth, signin_throttle, throttle
from studio_app.services.db import read_session
from studio_app.settings import Settings
from tests.factories import PASSWORD, make_account

pytestmark = pytest.mark.usefixtures("migrated_db")

ADMIN = "admin@example.com"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(auth, "_hasher", cheap)
    monkeypatch.setattr(auth, "_DUMMY_HASH", cheap.hash("not the password of anyone"))


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    fixed = Clock()
    monkeypatch.setattr(auth, "utcnow", fixed)
    monkeypatch.setattr(signin_throttle, "utcnow", fixed)
    yield fixed


def _fail(email: str, address: str, guess: str = "a wrong guess") -> None:
    with pytest.raises(auth.AuthError):
        auth.sign_in(email, guess, client_address=address)


def _refused(email: str, address: str, password: str = PASSWORD) -> auth.TooManyAttempts:
    with pytest.raises(auth.TooManyAttempts) as refused:
        auth.sign_in(email, password, client_address=address)
    return refused.value


def _spray(email: str, addresses: list[str]) -> int:
    """Guess from each address until it is refused; how many guesses were checked."""
    checked = 0
    for address in addresses:
        for attempt in range(100):
            try:
                auth.sign_in(email, f"guess {attempt}", client_address=address)
            except auth.AuthError:
                checked += 1
            except auth.TooManyAttempts:
                break
        else:
            pytest.fail(f"{address} was never refused")
    return checked


ATTACKERS = [f"203.0.113.{n}" for n in range(1, 51)]


def test_wrong_passwords_pause_the_account_only_where_they_were_typed(
    clock: Clock, migrated_db: Settings
) -> None:
    make_account(email="lee@example.com")
    for _ in range(migrated_db.signin_max_failures):
        _fail("lee@example.com", "198.51.100.7")
    refused = _refused("lee@example.com", "198.51.100.7")
    assert refused.message == "Too many failed sign-ins. Try again in 15 min."
    assert refused.retry_after == 900
    assert isinstance(refused, throttle.Throttled)  # the REST API answers 429 + Retry-After
    # The owner, elsewhere, is not affected.
    assert auth.sign_in("lee@example.com", PASSWORD, client_address="192.0.2.1").token


def test_the_wait_is_counted_from_the_failures(clock: Clock) -> None:
    make_account(email="ivy@example.com")
    for _ in range(5):
        _fail("ivy@example.com", "198.51.100.8")
        clock.advance(50)  # failures at 0, 50, 100, 150, 200 s
    clock.advance(100)  # now 350 s: the first failure leaves the window at 900 s
    refused = _refused("ivy@example.com", "198.51.100.8")
    assert (refused.retry_after, refused.message) == (
        550,
        "Too many failed sign-ins. Try again in 9 min 10 s.",
    )
    clock.advance(549)
    assert _refused("ivy@example.com", "198.51.100.8").message.endswith("Try again in 1 s.")
    clock.advance(1)
    assert auth.sign_in("ivy@example.com", PASSWORD, client_address="198.51.100.8").token


def test_an_attacker_on_fifty_addresses_cannot_lock_the_admin_out(clock: Clock) -> None:
    auth.ensure_admin(ADMIN, "admin password 1")
    _spray(ADMIN, ATTACKERS)
    signed = auth.sign_in(ADMIN, "admin password 1", client_address="192.0.2.10")
    viewer = auth.current_user(signed.token)
    assert viewer is not None and viewer.is_admin


def test_guessing_from_many_addresses_stays_bounded(clock: Clock, migrated_db: Settings) -> None:
    make_account(email="target@example.com")
    per_pair = migrated_db.signin_max_failures
    ceiling = per_pair * signin_throttle.ACCOUNT_CEILING_FACTOR
    checked = _spray("target@example.com", ATTACKERS)
    # Two addresses spend their 5 each up to the ceiling (10), then one guess per address.
    assert checked == ceiling + len(ATTACKERS) - ceiling // per_pair
    assert checked < per_pair * len(ATTACKERS)  # what a per-pair limit alone would allow
    # Every attacking address is now refused even with the right password: no more guesses.
    for address in ATTACKERS:
        _refused("target@example.com", address)
    # The pause ends when the attack's failures leave the window.
    clock.advance(migrated_db.signin_window_seconds)
    assert auth.sign_in("target@example.com", PASSWORD, client_address=ATTACKERS[0]).token


def test_an_ipv6_network_counts_as_one_address(clock: Clock) -> None:
    make_account(email="six@example.com")
    for host in range(1, 6):
        _fail("six@example.com", f"2001:db8:aa:bb::{host}")
    _refused("six@example.com", "2001:db8:aa:bb:ffff::99")
    assert auth.sign_in("six@example.com", PASSWORD, client_address="2001:db8:aa:cc::1").token


def test_signing_in_forgives_that_addresss_earlier_typos(clock: Clock) -> None:
    make_account(email="kai@example.com")
    for _ in range(4):
        _fail("kai@example.com", "192.0.2.20")
    assert auth.sign_in("kai@example.com", PASSWORD, client_address="192.0.2.20").token
    for _ in range(4):  # a fresh allowance, not one left
        _fail("kai@example.com", "192.0.2.20")
    assert auth.sign_in("kai@example.com", PASSWORD, client_address="192.0.2.20").token


def test_a_burst_of_parallel_guesses_gets_no_more_than_the_limit(migrated_db: Settings) -> None:
    make_account(email="burst@example.com")
    outcomes: list[str] = []
    start = threading.Barrier(20)

    def guess(n: int) -> None:
        start.wait()
        try:
            auth.sign_in("burst@example.com", f"guess {n}", client_address="198.51.100.11")
        except auth.AuthError:
            outcomes.append("checked")
        except auth.TooManyAttempts:
            outcomes.append("refused")

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("checked") == migrated_db.signin_max_failures
    assert outcomes.count("refused") == 20 - migrated_db.signin_max_failures


def test_guessing_the_current_password_pauses_that_form_not_sign_in(
    clock: Clock, migrated_db: Settings
) -> None:
    signed = make_account(email="ash@example.com")
    for _ in range(migrated_db.signin_max_failures):
        with pytest.raises(auth.AuthError):
            auth.change_password(signed.user_id, "a wrong guess", "a new password")
    with pytest.raises(auth.TooManyAttempts) as refused:
        auth.change_password(signed.user_id, PASSWORD, "a new password")
    assert refused.value.message == "Too many wrong passwords. Try again in 15 min."
    assert refused.value.retry_after == 900
    with read_session() as db:
        user = db.get(User, signed.user_id)
    assert auth.verify_password(user.password_hash, PASSWORD)  # unchanged
    assert auth.sign_in("ash@example.com", PASSWORD, client_address="192.0.2.30").token


def _events(kind: str | None = None) -> int:
    query = select(func.count()).select_from(ThrottleEvent)
    if kind:
        query = query.where(ThrottleEvent.kind == kind)
    with read_session() as db:
        return db.exec(query).one()


def test_unlock_clears_the_accounts_failures_from_every_address(
    clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    signed = make_account(email="lou@example.com")
    bystander = make_account(email="by@example.com")
    _spray("lou@example.com", ATTACKERS[:3])
    _fail("by@example.com", ATTACKERS[0])
    for _ in range(2):
        with pytest.raises(auth.AuthError):
            auth.change_password(signed.user_id, "a wrong guess", "a new password")

    assert cli.main(["unlock", "LOU@example.com"]) == 0
    out = capsys.readouterr().out
    assert out.strip() == (
        "Unlocked lou@example.com: cleared 11 failed sign-in(s) from 3 address(es) and "
        "2 wrong current password(s). Failures counted against the addresses themselves stay."
    )
    assert auth.sign_in("lou@example.com", PASSWORD, client_address=ATTACKERS[1]).token
    # The bystander's failure and the addresses' own counts were not touched.
    assert _events("signin_fail_pair") == 1
    assert _events("signin_fail_address") == 12
    assert auth.sign_in(bystander.email, PASSWORD, client_address="192.0.2.40").token

    assert cli.main(["unlock", "lou@example.com"]) == 0
    assert "had no failed sign-ins to clear" in capsys.readouterr().out


def test_unlock_refuses_an_unknown_email(capsys: pytest.CaptureFixture[str]) -> None:
    make_account(email="known@example.com")
    _fail("nobody@example.com", "192.0.2.50")
    before = _events()
    assert cli.main(["unlock", "nobody@example.com"]) == 2
    captured = capsys.readouterr()
    assert captured.err.strip() == "error: No account with the email nobody@example.com."
    assert captured.out == ""
    assert _events() == before


def test_sign_ups_from_one_address_say_when_the_next_is_possible(clock: Clock) -> None:
    for _ in range(5):
        make_account(address="198.51.100.60")
        clock.advance(60)
    with pytest.raises(auth.TooManyAttempts) as refused:
        make_account(address="198.51.100.60")
    assert refused.value.retry_after == 3600 - 5 * 60
    assert refused.value.message == "Too many new accounts from your network. Try again in 55 min."


def test_waits_read_naturally() -> None:
    examples = {
        1: "1 s",
        59: "59 s",
        60: "1 min",
        250: "4 min 10 s",
        3600: "1 h",
        3900: "1 h 5 min",
    }
    assert {s: signin_throttle.format_wait(s) for s in examples} == examples
