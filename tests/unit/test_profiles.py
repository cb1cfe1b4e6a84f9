"""Display names: chosen, validated, unique ignoring case and accents, never the email."""

from __future__ import annotations

import threading
import uuid

import pytest

from studio_app.services import profiles
from studio_app.services.auth import CurrentUser
from studio_app.services.errors import InvalidInput
from studio_app.settings import Settings
from tests.factories import make_user


@pytest.fixture(autouse=True)
def _db(migrated_db: Settings) -> Settings:
    return migrated_db


def _viewer(email: str | None = None) -> CurrentUser:
    email = email or f"someone{uuid.uuid4().hex[:8]}@example.com"
    user_id = make_user(email=email)
    return CurrentUser(id=user_id, email=email, role="user")


def test_a_name_is_chosen_shown_as_typed_and_changeable() -> None:
    viewer = _viewer("mira.k@example.com")
    assert profiles.profile_of(viewer.id).display_name == ""
    assert profiles.set_display_name(viewer, "  Mira   Kapoor ").display_name == "Mira Kapoor"
    assert profiles.set_display_name(viewer, "Mira K.").display_name == "Mira K."
    assert profiles.profile_of(viewer.id).display_name == "Mira K."


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("ab", "3 to 30"),
        ("x" * 31, "3 to 30"),
        ("<script>", "letters, digits"),
        ("1234", "at least one letter"),
        ("Admin", "reserved"),
        ("mira.k", "not your email"),
        ("MIRA.K@example.com", "letters, digits"),
        (None, "Choose a display name"),
    ],
)
def test_a_bad_name_is_refused_with_a_reason_and_changes_nothing(name: object, says: str) -> None:
    viewer = _viewer("mira.k@example.com")
    profiles.set_display_name(viewer, "Mira")
    with pytest.raises(InvalidInput, match=says):
        profiles.set_display_name(viewer, name)
    assert profiles.profile_of(viewer.id).display_name == "Mira"


def test_names_that_differ_only_in_case_or_accents_are_one_name() -> None:
    first, second = _viewer("a@example.com"), _viewer("b@example.com")
    profiles.set_display_name(first, "Zoë Adams")
    for look_alike in ("zoe adams", "ZOË  ADAMS", "Zoe Adams"):
        with pytest.raises(InvalidInput, match="already goes by"):
            profiles.set_display_name(second, look_alike)
    # Its owner may change how it is written.
    assert profiles.set_display_name(first, "zoë adams").display_name == "zoë adams"


def test_two_people_taking_one_name_at_once_get_it_once() -> None:
    people = [_viewer(f"racer{n}@example.com") for n in range(6)]
    won: list[int] = []
    barrier = threading.Barrier(len(people))

    def take(viewer: CurrentUser) -> None:
        barrier.wait()
        try:
            profiles.set_display_name(viewer, "Fast Fox")
            won.append(viewer.id)
        except InvalidInput:
            pass

    threads = [threading.Thread(target=take, args=(viewer,)) for viewer in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1
