"""A tab's states belong to one session: every state of the app is emptied when it changes.

The loop covers every state class found in the app's modules, so a state added later
is checked too.
"""

from __future__ import annotations

import importlib
import pickle
import pkgutil
from pathlib import Path

import pytest
import reflex as rx

import studio_app.states
from studio_app.services import api_tokens, auth
from studio_app.settings import get_settings
from studio_app.states.auth import AuthState
from studio_app.states.session_guard import SessionBoundStates, app_state_classes
from tests import aio
from tests.e2e.state_files import secrets_in_state_files
from tests.factories import PASSWORD, make_account
from tests.states import connect_as

pytestmark = pytest.mark.usefixtures("migrated_db")
_ROOT_FIELDS = set(rx.State.__fields__)


def _every_state_class_in_the_app() -> set[type[rx.State]]:
    for module in pkgutil.iter_modules(studio_app.states.__path__):
        importlib.import_module(f"studio_app.states.{module.name}")
    found: set[type[rx.State]] = set()
    pending = list(rx.State.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.startswith("studio_app."):
            found.add(cls)
    return found


def _own_fields(cls: type[rx.State]) -> list[str]:
    return [
        name
        for name, field in cls.__fields__.items()
        if field._owner is cls and name not in _ROOT_FIELDS
    ]


def _tab_full_of_someone_s_data() -> tuple[rx.State, dict]:
    """A state tree in which every field of every app state holds a marked value."""
    root = rx.State(_reflex_internal_init=True)  # type: ignore[call-arg]
    marks = {}
    for cls in app_state_classes():
        state = root.get_substate(cls.get_full_name().split(".")[1:])
        for name in _own_fields(cls):
            mark = f"previous user's {cls.__name__}.{name}"
            setattr(state, name, mark)
            marks[(cls, name)] = mark
    return root, marks


def _preprocess(root: rx.State) -> None:
    aio.run(SessionBoundStates().preprocess(app=None, state=root, event=None))  # type: ignore[arg-type]


# Every state module imported, as the app does: the tree then holds every state.
_APP_STATES = _every_state_class_in_the_app()


def test_the_walk_finds_every_state_class_of_the_app() -> None:
    assert set(app_state_classes()) == _APP_STATES
    assert len(app_state_classes()) >= 9


@pytest.mark.parametrize("next_cookie", ["another user", "no cookie at all"])
def test_every_field_of_every_state_is_emptied_when_the_session_changes(next_cookie: str) -> None:
    previous = make_account()
    root, marks = _tab_full_of_someone_s_data()
    root.get_substate(AuthState.get_full_name().split(".")[1:])._bound_session = auth.session_hash(
        previous.token
    )
    following = make_account().token if next_cookie == "another user" else ""
    connect_as(root, following)

    _preprocess(root)

    left = [
        f"{cls.__name__}.{name}"
        for (cls, name), mark in marks.items()
        if getattr(root.get_substate(cls.get_full_name().split(".")[1:]), name) == mark
        and name != "_bound_session"
    ]
    assert not left, f"still holding the previous user's data: {left}"
    auth_state = root.get_substate(AuthState.get_full_name().split(".")[1:])
    assert auth_state._bound_session == auth.session_hash(following)


def test_the_same_session_keeps_its_tab() -> None:
    signed = make_account()
    root = rx.State(_reflex_internal_init=True)  # type: ignore[call-arg]
    auth_state = root.get_substate(AuthState.get_full_name().split(".")[1:])
    connect_as(root, signed.token)
    _preprocess(root)
    auth_state.email = "kept@example.com"
    _preprocess(root)
    assert auth_state.email == "kept@example.com"


@pytest.mark.sqlite_only  # searches the SQLite file
def test_the_state_file_search_finds_a_pickled_token(tmp_path: Path) -> None:
    """The browser tests' last check (tests/e2e/state_files.py) can fail."""
    signed = make_account()
    viewer = auth.current_user(signed.token)
    secret = api_tokens.create_token(viewer, "x", password=PASSWORD).secret
    database = Path(get_settings().database_url.removeprefix("sqlite:///"))
    states = tmp_path / "states"
    states.mkdir()
    (states / "hashes-only.pkl").write_bytes(
        pickle.dumps({"cookie": f"{auth.SESSION_HASH_COOKIE}={auth.session_hash(signed.token)}"})
    )
    assert secrets_in_state_files(states, database) == []
    (states / "session.pkl").write_bytes(pickle.dumps({"session_token": signed.token}))
    (states / "api.pkl").write_bytes(pickle.dumps(["a", secret, 5]))
    found = secrets_in_state_files(states, database)
    assert sorted(line.split(":")[0] for line in found) == ["api.pkl", "session.pkl"]
