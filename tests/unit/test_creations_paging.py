"""My Creations pages with Newer / Older: only the page on screen is in the state."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest

from studio_app.clock import utcnow
from studio_app.models import GeneratedImage, GenerationStatus
from studio_app.services.creations import PAGE_SIZE
from studio_app.services.db import write_session
from studio_app.states.creations import CreationsState
from tests.factories import make_account
from tests.states import connect_as, state_for

pytestmark = pytest.mark.usefixtures("migrated_db")


def _state(token: str) -> CreationsState:
    return state_for(CreationsState, token)


def _made(user_id: int, count: int) -> list[str]:
    """`count` finished creations, newest first (as the page lists them)."""
    now = utcnow()
    ids = []
    with write_session() as db:
        for n in range(count):
            row = GeneratedImage(
                public_id=secrets.token_hex(12),
                user_id=user_id,
                prompt=f"Picture {n}",
                provider="offline",
                tier="standard",
                status=GenerationStatus.FAILED.value,
                error_code="unavailable",
                created_at=now - timedelta(minutes=count - n),
            )
            db.add(row)
            ids.append(row.public_id)
    return ids[::-1]


def _open(state: CreationsState) -> None:
    for _ in state.load():
        pass


def _shown(state: CreationsState) -> list[str]:
    return [item.public_id for item in state.items]


def test_older_and_newer_walk_every_creation_once() -> None:
    signed = make_account()
    newest_first = _made(signed.user_id, 2 * PAGE_SIZE + 5)
    state = _state(signed.token)
    _open(state)
    assert _shown(state) == newest_first[:PAGE_SIZE]
    assert state.page_number == 1 and state.has_more

    state.older_page()
    assert _shown(state) == newest_first[PAGE_SIZE : 2 * PAGE_SIZE]
    state.older_page()
    assert _shown(state) == newest_first[2 * PAGE_SIZE :]
    assert state.page_number == 3 and not state.has_more
    state.older_page()  # nothing older: stays
    assert state.page_number == 3

    state.newer_page()
    assert _shown(state) == newest_first[PAGE_SIZE : 2 * PAGE_SIZE]
    state.newer_page()
    state.newer_page()  # nothing newer: stays
    assert state.page_number == 1 and _shown(state) == newest_first[:PAGE_SIZE]


def test_deleting_refills_the_page_and_an_emptied_last_page_steps_back() -> None:
    signed = make_account()
    newest_first = _made(signed.user_id, PAGE_SIZE + 1)
    state = _state(signed.token)
    _open(state)
    state.open_creation(newest_first[0])
    state.delete_selected()
    assert _shown(state) == newest_first[1 : PAGE_SIZE + 1]
    assert not state.has_more

    state.open_creation(newest_first[1])
    state.delete_selected()
    state.open_creation(newest_first[2])
    state.delete_selected()
    assert len(state.items) == PAGE_SIZE - 2


def test_a_deleted_last_item_of_an_older_page_goes_back_one_page() -> None:
    signed = make_account()
    newest_first = _made(signed.user_id, PAGE_SIZE + 1)
    state = _state(signed.token)
    _open(state)
    state.older_page()
    assert _shown(state) == [newest_first[-1]]
    state.open_creation(newest_first[-1])
    state.delete_selected()
    assert state.page_number == 1 and _shown(state) == newest_first[:PAGE_SIZE]


def test_a_signed_out_caller_pages_nothing() -> None:
    signed = make_account()
    _made(signed.user_id, PAGE_SIZE + 1)
    state = _state(signed.token)
    _open(state)
    connect_as(state, "forged")  # the next event comes over a socket of no session
    state.older_page()
    assert state.page_number == 1
