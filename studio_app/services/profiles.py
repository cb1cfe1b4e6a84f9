"""Public display names: what others see on the pictures a user publishes.

A name is chosen by its owner — never made from the email — and changeable. It is 3 to
30 characters of letters, digits, spaces and . _ - ', with at least one letter. Two
names that differ only in case, accents or spacing are the same name: the folded form
(`name_key`) is unique, so nobody can pass for someone else. A name that is the owner's
email, or its part before the @, is refused: the point of a display name is that it
does not give the email away.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from studio_app.models import User
from studio_app.services.auth import CurrentUser
from studio_app.services.db import read_session, write_session
from studio_app.services.errors import InvalidInput, NotFound

MIN_NAME_CHARS = 3
MAX_NAME_CHARS = 30
_ALLOWED = re.compile(r"^[\w .'\-]+$")
_RESERVED = {"admin", "administrator", "moderator", "studio", "support", "staff", "system"}
_FIELD = "display_name"


@dataclass(frozen=True)
class Profile:
    display_name: str  # "" until the user chooses one


def fold(text: str) -> str:
    """Case, accents and spacing folded away: how names (and searches) are compared."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(bare.casefold().split())


def clean_display_name(name: object, email: str = "") -> tuple[str, str]:
    """(the name as it will be shown, its folded key); InvalidInput naming the problem."""
    if not isinstance(name, str):
        raise InvalidInput("Choose a display name.", field=_FIELD)
    shown = " ".join(unicodedata.normalize("NFKC", name).split())
    if not MIN_NAME_CHARS <= len(shown) <= MAX_NAME_CHARS:
        raise InvalidInput(
            f"A display name is {MIN_NAME_CHARS} to {MAX_NAME_CHARS} characters.", field=_FIELD
        )
    if not _ALLOWED.match(shown):
        raise InvalidInput(
            "Use letters, digits, spaces and . _ - ' in a display name.", field=_FIELD
        )
    if not any(char.isalpha() for char in shown):
        raise InvalidInput("A display name needs at least one letter.", field=_FIELD)
    key = fold(shown)
    if key in _RESERVED:
        raise InvalidInput("That name is reserved. Choose another.", field=_FIELD)
    local_part = email.partition("@")[0]
    if email and key in (fold(email), fold(local_part)):
        raise InvalidInput(
            "Choose a name that is not your email address: it is shown to everyone.",
            field=_FIELD,
        )
    return shown, key


def profile_of(user_id: int) -> Profile:
    with read_session() as db:
        user = db.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    return Profile(display_name=user.display_name or "")


def set_display_name(viewer: CurrentUser, name: object) -> Profile:
    """Choose or change the viewer's display name; InvalidInput when it is not valid or
    someone else goes by it."""
    shown, key = clean_display_name(name, viewer.email)
    taken = InvalidInput("Someone already goes by that name. Choose another.", field=_FIELD)
    try:
        with write_session() as db:
            other = db.exec(select(User.id).where(User.display_name_key == key)).first()
            if other is not None and other != viewer.id:
                raise taken
            user = db.get(User, viewer.id)
            if user is None:
                raise NotFound("No such user.")
            user.display_name, user.display_name_key = shown, key
            db.add(user)
    except IntegrityError:
        # Someone else took it between the check and the write.
        raise taken from None
    return Profile(display_name=shown)
