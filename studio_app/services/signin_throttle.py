"""Throttles of the sign-in, sign-up and change-password forms.

Failed sign-ins are counted in `throttle_event` (so limits hold across server
workers and restarts) along two keys. With P = STUDIO_SIGNIN_MAX_FAILURES and
W = STUDIO_SIGNIN_WINDOW_SECONDS (5 and 15 minutes by default):

1. per (account, address): P failures in W pause that account *from that
   address* only. Someone who mistypes is paused where they typed; nobody else
   can pause an account for its owner.
2. per address, across accounts: 4·P failures in W pause the address (one
   machine spraying one password over many accounts).
3. per account, the ceiling: once an account has 2·P failures in W from all
   addresses together, every address that has already failed for it in W is
   paused for it, until that address's failure or enough of the account's
   failures leave the window. Addresses that have not failed for the account
   are untouched, so the owner signs in from a clean address with the right
   password however many addresses attack.

What guessing from many addresses gets: without the ceiling every address
would get P guesses per window; with it, once 2·P guesses have failed, each
further address gets one guess per window, and no address more than 4·P over
all accounts. So an account under attack sees at most 2·P + (attacking
addresses) guesses per window: 58 from 50 addresses by default, where rule 1
alone would allow 250. IPv6 addresses count per /64 network (one subscriber's
allocation), so stepping through an IPv6 block does not buy fresh addresses.
The cost: an owner who mistypes from an address while the account is under
attack is paused there (the message says for how long; an admin can run
`python -m studio_app.cli unlock EMAIL`).

An attempt counts as a failure from before its password is checked
(`begin_sign_in`) and is forgiven on success (`forgive`). Checking a password
takes tens of milliseconds, and counting only afterwards would let a burst of
parallel requests slip past the limits; the check and the count share one write
transaction. A sign-in that succeeds also forgives the earlier failures of its
(account, address) pair, not those counted against the address or elsewhere.

Every refusal is a `TooManyAttempts` with `retry_after` seconds, computed from
the events that cause it (when enough of them leave the window), for an HTTP
429 Retry-After and a message that says how long to wait.

Wrong current passwords on the change-password form (a signed-in user, so no
pair) are counted per account under their own kind: P per W pause only that form.

Events store an account as a digest of its address (the full address and an
IPv6 network may not fit the subject column together).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete
from sqlmodel import Session, col, select

from studio_app.clock import utcnow
from studio_app.models import ThrottleEvent, User
from studio_app.services import throttle
from studio_app.services.client_address import throttle_key
from studio_app.services.db import write_session
from studio_app.services.emails import normalize_email
from studio_app.services.errors import NotFound
from studio_app.settings import get_settings

_PAIR = "signin_fail_pair"  # subject: "<account digest>|<address key>"
_ADDRESS = "signin_fail_address"  # subject: address key
_CURRENT_PASSWORD = "current_password_fail"  # subject: "user:<id>"
_SIGNUP = "signup_address"  # subject: address key
# Counted per account before the pair rule; no longer read, cleared by unlock.
_LEGACY_ACCOUNT = "signin_fail_account"
ADDRESS_FACTOR = 4
ACCOUNT_CEILING_FACTOR = 2
_SIGNUP_WINDOW = timedelta(hours=1)


class TooManyAttempts(throttle.Throttled):
    """Refused before checking anything; `retry_after` says when to ask again."""

    code = "too_many_attempts"


@dataclass(frozen=True)
class Attempt:
    """An attempt counted as a failure until `forgive` (it succeeded)."""

    pending_ids: tuple[int, ...]
    forgiven: tuple[tuple[str, str], ...]  # (kind, subject) whose events a success clears


def format_wait(seconds: int) -> str:
    """ "45 s", "4 min 10 s", "1 h 5 min"."""
    seconds = max(1, seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        minutes, rest = divmod(seconds, 60)
        return f"{minutes} min" + (f" {rest} s" if rest else "")
    hours, rest = divmod(seconds, 3600)
    minutes = rest // 60
    return f"{hours} h" + (f" {minutes} min" if minutes else "")


def _account_prefix(email: str) -> str:
    return hashlib.sha256(email.encode()).hexdigest()[:24] + "|"


def _is(kind: str, subject: str) -> ColumnElement[bool]:
    return and_(col(ThrottleEvent.kind) == kind, col(ThrottleEvent.subject) == subject)


def _of_account(prefix: str) -> ColumnElement[bool]:
    return and_(col(ThrottleEvent.kind) == _PAIR, col(ThrottleEvent.subject).startswith(prefix))


def _nth_newest(
    db: Session, condition: ColumnElement[bool], n: int, since: datetime
) -> datetime | None:
    """When the n-th newest matching event in the window happened (None: fewer than n)."""
    return db.exec(
        select(ThrottleEvent.created_at)
        .where(condition, ThrottleEvent.created_at > since)
        .order_by(col(ThrottleEvent.created_at).desc())
        .offset(n - 1)
        .limit(1)
    ).first()


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(1, math.ceil((moment - now).total_seconds()))


def _wait_over_limit(
    db: Session, condition: ColumnElement[bool], limit: int, window: timedelta, now: datetime
) -> int | None:
    """Seconds until fewer than `limit` events match in the window, or None if already fewer."""
    limiting = _nth_newest(db, condition, limit, now - window)
    return None if limiting is None else _seconds_until(limiting + window, now)


def _wait_over_ceiling(
    db: Session, prefix: str, pair_subject: str, ceiling: int, window: timedelta, now: datetime
) -> int | None:
    """Rule 3: an account over its ceiling pauses the addresses that failed for it."""
    since = now - window
    ceiling_reached = _nth_newest(db, _of_account(prefix), ceiling, since)
    if ceiling_reached is None:
        return None
    failed_here = _nth_newest(db, _is(_PAIR, pair_subject), 1, since)
    if failed_here is None:
        return None  # a clean address
    return _seconds_until(min(failed_here, ceiling_reached) + window, now)


def _pending(db: Session, kind: str, subject: str, now: datetime) -> ThrottleEvent:
    event = ThrottleEvent(kind=kind, subject=subject, created_at=now)
    db.add(event)
    return event


def begin_sign_in(email: str, address: str, *, now: datetime | None = None) -> Attempt:
    """Refuse (TooManyAttempts) or count this attempt as a failure until forgiven.

    `email` is normalised; `address` is the client's (see services/client_address.py).
    """
    settings = get_settings()
    now = now or utcnow()
    window = timedelta(seconds=settings.signin_window_seconds)
    per_pair = settings.signin_max_failures
    address_key = throttle_key(address)
    prefix = _account_prefix(email)
    pair_subject = prefix + address_key
    with write_session() as db:
        waits = [
            _wait_over_limit(db, _is(_PAIR, pair_subject), per_pair, window, now),
            _wait_over_limit(
                db, _is(_ADDRESS, address_key), per_pair * ADDRESS_FACTOR, window, now
            ),
            _wait_over_ceiling(
                db, prefix, pair_subject, per_pair * ACCOUNT_CEILING_FACTOR, window, now
            ),
        ]
        wait = max((w for w in waits if w is not None), default=None)
        if wait is not None:
            raise TooManyAttempts(
                f"Too many failed sign-ins. Try again in {format_wait(wait)}.", retry_after=wait
            )
        events = [_pending(db, _PAIR, pair_subject, now), _pending(db, _ADDRESS, address_key, now)]
        db.flush()
        return Attempt(
            pending_ids=tuple(e.id for e in events if e.id is not None),
            forgiven=((_PAIR, pair_subject),),
        )


def begin_current_password_check(user_id: int, *, now: datetime | None = None) -> Attempt:
    """The change-password form's throttle: per account, apart from sign-in's."""
    settings = get_settings()
    now = now or utcnow()
    window = timedelta(seconds=settings.signin_window_seconds)
    subject = f"user:{user_id}"
    with write_session() as db:
        wait = _wait_over_limit(
            db, _is(_CURRENT_PASSWORD, subject), settings.signin_max_failures, window, now
        )
        if wait is not None:
            raise TooManyAttempts(
                f"Too many wrong passwords. Try again in {format_wait(wait)}.", retry_after=wait
            )
        event = _pending(db, _CURRENT_PASSWORD, subject, now)
        db.flush()
        return Attempt(
            pending_ids=(event.id,) if event.id is not None else (),
            forgiven=((_CURRENT_PASSWORD, subject),),
        )


def forgive(attempt: Attempt) -> None:
    """The attempt succeeded: it and the earlier failures it proves wrong stop counting."""
    with write_session() as db:
        if attempt.pending_ids:
            db.exec(delete(ThrottleEvent).where(col(ThrottleEvent.id).in_(attempt.pending_ids)))
        for kind, subject in attempt.forgiven:
            db.exec(delete(ThrottleEvent).where(_is(kind, subject)))


def check_sign_up(db: Session, address: str, now: datetime) -> None:
    """Refuse (TooManyAttempts) a sign-up from an address that made too many this hour."""
    wait = _wait_over_limit(
        db,
        _is(_SIGNUP, throttle_key(address)),
        get_settings().signups_per_address_per_hour,
        _SIGNUP_WINDOW,
        now,
    )
    if wait is not None:
        raise TooManyAttempts(
            f"Too many new accounts from your network. Try again in {format_wait(wait)}.",
            retry_after=wait,
        )


def record_sign_up(db: Session, address: str, now: datetime) -> None:
    throttle.record(db, _SIGNUP, throttle_key(address), now)


@dataclass(frozen=True)
class Unlocked:
    """What `unlock_account` cleared."""

    email: str
    failed_sign_ins: int
    addresses: int
    wrong_current_passwords: int


def unlock_account(email: object) -> Unlocked:
    """Clear an account's failed sign-ins (from every address) and wrong current passwords.

    Failures counted against an address itself (rule 2) stay: they belong to
    the address, which may be an attacker's.
    """
    normalized = normalize_email(email)
    prefix = _account_prefix(normalized)
    with write_session() as db:
        user = db.exec(select(User).where(User.email == normalized)).first()
        if user is None:
            raise NotFound(f"No account with the email {normalized}.")
        pair_subjects = db.exec(select(ThrottleEvent.subject).where(_of_account(prefix))).all()
        legacy = db.exec(select(ThrottleEvent.id).where(_is(_LEGACY_ACCOUNT, normalized))).all()
        passwords = db.exec(
            select(ThrottleEvent.id).where(_is(_CURRENT_PASSWORD, f"user:{user.id}"))
        ).all()
        for condition in (
            _of_account(prefix),
            _is(_LEGACY_ACCOUNT, normalized),
            _is(_CURRENT_PASSWORD, f"user:{user.id}"),
        ):
            db.exec(delete(ThrottleEvent).where(condition))
    return Unlocked(
        email=normalized,
        failed_sign_ins=len(pair_subjects) + len(legacy),
        addresses=len(set(pair_subjects)),
        wrong_current_passwords=len(passwords),
    )
