"""Email addresses: one spelling per mailbox.

An account is keyed by its address, and each new account gets free credits, so
two spellings of one mailbox must not make two accounts. `normalize_email`
turns what a person typed into the one stored spelling:

- NFKC: compatibility characters become their plain form (a full-width
  "ａ" is "a", "＠" is "@", "．" is ".");
- invisible format characters are removed: zero-width space/joiners, word
  joiner, byte-order mark, soft hyphen, bidirectional marks and isolates,
  variation selectors, tag characters (every character of Unicode category
  Cf, plus the default-ignorable ones outside it, see `_IGNORABLE_NON_FORMAT`);
- an ASCII-compatible (``xn--``) domain label is decoded to its Unicode form,
  so both spellings of an internationalised domain are one address;
- a trailing dot of the domain (the DNS root: ``example.com.``) is dropped;
- letters are lowercased (as the app always did).

Sign-up, sign-in and the CLI all go through it, so a person who pastes an
address with a zero-width space still signs in. The function is idempotent
(normalising a normalised address changes nothing), which migration 0009
relies on.

Sub-addressing (``name+tag@domain``) is not folded: the address stays as
typed, but a sign-up is refused when it differs from an existing account only
by its ``+tag`` (`has_tag_sibling`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from sqlmodel import Session, col, or_, select

from studio_app.models import User
from studio_app.services.db import read_session
from studio_app.services.errors import InvalidInput

MAX_LENGTH = 254
# No spaces, control characters or <>" (never part of an unquoted address).
_EMAIL_CHAR = r'[^@\s<>"\x00-\x1f\x7f]'
_EMAIL = re.compile(rf"^{_EMAIL_CHAR}{{1,64}}@{_EMAIL_CHAR}+\.{_EMAIL_CHAR}{{2,}}$")
# Default-ignorable code points that are not of category Cf (those are all removed):
# combining grapheme joiner, Hangul fillers, Khmer inherent vowels, Mongolian free
# variation selectors, variation selectors (and their supplement).
_IGNORABLE_NON_FORMAT = re.compile(
    "[\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180d\u180f\u3164\ufe00-\ufe0f\uffa0"
    "\U000e0100-\U000e01ef]"
)
# Full stops that IDNA treats as a label separator in a domain.
_DOMAIN_DOTS = str.maketrans({"\u3002": ".", "\uff61": "."})
_TAG_SEPARATOR = "+"


def _without_ignorables(text: str) -> str:
    text = _IGNORABLE_NON_FORMAT.sub("", text)
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


def _decode_label(label: str) -> str:
    if not label.startswith("xn--"):
        return label
    try:
        return label[4:].encode("ascii").decode("punycode")
    except (UnicodeError, ValueError) as error:
        raise InvalidInput("That does not look like an email address.", field="email") from error


def _normalize_domain(domain: str) -> str:
    domain = domain.translate(_DOMAIN_DOTS).rstrip(".")
    return ".".join(_decode_label(label) for label in domain.split("."))


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", _without_ignorables(unicodedata.normalize("NFKC", text)))


def normalize_email(email: object) -> str:
    """The stored spelling of a typed address; InvalidInput (field email) if it is not one."""
    if not isinstance(email, str):
        raise InvalidInput("Enter your email address.", field="email")
    if len(email) > 4 * MAX_LENGTH:  # before any Unicode work on a megabyte of text
        raise InvalidInput("That does not look like an email address.", field="email")
    folded = _fold(email).strip()
    if not folded:
        raise InvalidInput("Enter your email address.", field="email")
    local, at, domain = folded.rpartition("@")
    if at:
        folded = f"{local}@{_normalize_domain(domain)}"
    # Lowercasing and punycode decoding can leave text NFKC would change again.
    normalized = _fold(folded.lower()).lower()
    if len(normalized) > MAX_LENGTH or not _EMAIL.match(normalized):
        raise InvalidInput("That does not look like an email address.", field="email")
    return normalized


def _untagged_local(local: str) -> str:
    base = local.split(_TAG_SEPARATOR, 1)[0]
    return base or local  # "+news@…" has no base to share


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def has_tag_sibling(db: Session, email: str) -> bool:
    """Whether another account's address differs from the normalised `email` only by a +tag.

    "ann+news@x.com" is a sibling of "ann@x.com" and of "ann+shop@x.com".
    """
    local, _, domain = email.rpartition("@")
    base = _untagged_local(local)
    tagged = f"{_escape_like(base)}{_TAG_SEPARATOR}%@{_escape_like(domain)}"
    candidates = db.exec(
        select(User.email).where(
            or_(col(User.email) == f"{base}@{domain}", col(User.email).like(tagged, escape="\\"))
        )
    ).all()
    # LIKE ignores ASCII case on SQLite: confirm each candidate exactly.
    return any(
        stored != email
        and stored.rpartition("@")[2] == domain
        and _untagged_local(stored.rpartition("@")[0]) == base
        for stored in candidates
    )


@dataclass(frozen=True)
class LookalikeGroup:
    """Accounts whose stored addresses normalise to one address (left as they are)."""

    normalized: str
    accounts: tuple[tuple[int, str], ...]  # (user id, stored address)

    def describe(self) -> str:
        listed = ", ".join(f"user {uid} {stored!a}" for uid, stored in self.accounts)
        return f"{self.normalized}: {listed}"


@dataclass(frozen=True)
class NormalizationPlan:
    """What normalising stored addresses would do: renames, and what it must not touch."""

    renames: tuple[tuple[int, str, str], ...]  # (user id, stored, normalised)
    collisions: tuple[LookalikeGroup, ...]
    unparseable: tuple[tuple[int, str], ...]  # stored addresses the normaliser refuses


def plan_normalization(accounts: Iterable[tuple[int, str]]) -> NormalizationPlan:
    """Group stored (id, address) rows by their normalised address.

    A group of one is renamed when its spelling differs; a larger group is a
    collision and none of its rows is renamed (merging accounts is a human's call).
    Because the normaliser is idempotent, a rename never takes an address that
    another row holds: that row would normalise to it too and be in the group.
    """
    groups: dict[str, list[tuple[int, str]]] = {}
    unparseable: list[tuple[int, str]] = []
    for user_id, stored in accounts:
        try:
            groups.setdefault(normalize_email(stored), []).append((user_id, stored))
        except InvalidInput:
            unparseable.append((user_id, stored))
    renames = []
    collisions = []
    for normalized, members in sorted(groups.items()):
        if len(members) > 1:
            collisions.append(LookalikeGroup(normalized, tuple(sorted(members))))
        elif members[0][1] != normalized:
            renames.append((members[0][0], members[0][1], normalized))
    return NormalizationPlan(tuple(renames), tuple(collisions), tuple(unparseable))


def lookalike_report() -> NormalizationPlan:
    """`stored_address_plan` in a session of its own (the CLI's report after migrating)."""
    with read_session() as db:
        return stored_address_plan(db)


def stored_address_plan(db: Session) -> NormalizationPlan:
    """`plan_normalization` of the stored accounts: after migration 0009 its collisions
    and unparseable addresses are what an operator has left to resolve."""
    rows = db.exec(select(User.id, User.email)).all()
    return plan_normalization((uid, email) for uid, email in rows if uid is not None)
