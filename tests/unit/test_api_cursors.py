"""A row-id cursor is accepted exactly up to the largest id every engine stores."""

from __future__ import annotations

import re

import pytest

from studio_app.api.cursors import ID_CURSOR_PATTERN, MAX_ROW_ID, parse_id_cursor
from studio_app.services.errors import InvalidInput

ACCEPTED = ["1", "9", "10", "999999999", "1000000000", "2099999999", "2147483599", str(MAX_ROW_ID)]
REFUSED = ["0", "01", "-1", "1.5", " 1", str(MAX_ROW_ID + 1), "2147483650", "2200000000", "9" * 10]


@pytest.mark.parametrize("cursor", ACCEPTED)
def test_the_spec_and_the_server_accept_every_id_up_to_the_bound(cursor: str) -> None:
    assert re.fullmatch(ID_CURSOR_PATTERN, cursor)
    assert parse_id_cursor(cursor) == int(cursor)


@pytest.mark.parametrize("cursor", REFUSED)
def test_the_spec_and_the_server_refuse_everything_else(cursor: str) -> None:
    assert not re.fullmatch(ID_CURSOR_PATTERN, cursor)
    with pytest.raises(InvalidInput):
        parse_id_cursor(cursor)
