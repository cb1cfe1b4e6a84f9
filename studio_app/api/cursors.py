"""Row ids and page cursors as the API shows them (cursors: opaque strings to pass back unchanged)."""

from __future__ import annotations

import re

from studio_app.services.errors import InvalidInput

# The largest id the API takes: the largest integer a JSON number holds exactly (2**53 - 1;
# JavaScript's Number.MAX_SAFE_INTEGER), so a client, the spec's validators and the server
# all read a bound the same way. A bigger id in a URL is refused as input, never looked up.
MAX_ROW_ID = 2**53 - 1
# A row id in decimal, no sign or leading zero, at most 15 digits (< MAX_ROW_ID): a pattern
# states this exactly, where "at most MAX_ROW_ID" would need arithmetic.
ID_CURSOR_PATTERN = r"^[1-9][0-9]{0,14}$"
_ID_CURSOR = re.compile(ID_CURSOR_PATTERN)


def parse_id_cursor(cursor: str | None) -> int | None:
    """A cursor made by `id_cursor`, or InvalidInput naming the `cursor` field."""
    if cursor is None or cursor == "":
        return None
    if not _ID_CURSOR.fullmatch(cursor):
        raise InvalidInput(
            "This cursor is not valid: pass back a next_cursor unchanged.", field="cursor"
        )
    return int(cursor)


def id_cursor(row_id: int | None) -> str | None:
    return None if row_id is None else str(row_id)
