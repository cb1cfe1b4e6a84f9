"""Row ids and page cursors as the API shows them (cursors: opaque strings to pass back unchanged)."""

from __future__ import annotations

import re

from studio_app.services.errors import InvalidInput

# The largest id the API takes: the largest an INTEGER primary key holds on every engine we
# run on (PostgreSQL's integer is 32-bit; SQLite's would take more). A bigger id in a URL
# is refused as input, never looked up (looking it up fails on PostgreSQL).
MAX_ROW_ID = 2**31 - 1


def _decimal_at_most(limit: int) -> str:
    """A regex for the decimals 1..`limit`, no sign or leading zero: the spec states the
    bound exactly, so a client's validator and the server accept the same cursors."""
    digits = str(limit)
    shorter = f"[1-9][0-9]{{0,{len(digits) - 2}}}"
    same_length = []
    for i, digit in enumerate(digits):
        rest = len(digits) - i - 1
        low = "1" if i == 0 else "0"
        if int(digit) > int(low):
            same_length.append(f"{digits[:i]}[{low}-{int(digit) - 1}][0-9]{{{rest}}}")
    same_length.append(digits)
    return "^(?:" + "|".join([shorter, *same_length]) + ")$"


ID_CURSOR_PATTERN = _decimal_at_most(MAX_ROW_ID)
_ID_CURSOR = re.compile(ID_CURSOR_PATTERN)


def parse_id_cursor(cursor: str | None) -> int | None:
    """A cursor made by `id_cursor`, or InvalidInput naming the `cursor` field."""
    if cursor is None or cursor == "":
        return None
    if not _ID_CURSOR.fullmatch(cursor) or int(cursor) > MAX_ROW_ID:
        raise InvalidInput(
            "This cursor is not valid: pass back a next_cursor unchanged.", field="cursor"
        )
    return int(cursor)


def id_cursor(row_id: int | None) -> str | None:
    return None if row_id is None else str(row_id)
