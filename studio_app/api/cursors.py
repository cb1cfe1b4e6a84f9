"""Page cursors as the API shows them: opaque strings to pass back unchanged."""

from __future__ import annotations

from studio_app.services.errors import InvalidInput

# SQLite's largest integer: a bigger id in a URL is refused as input, not sent to the DB.
MAX_ROW_ID = 2**63 - 1
ID_CURSOR_PATTERN = r"^[0-9]{1,19}$"


def parse_id_cursor(cursor: str | None) -> int | None:
    """A cursor made by `id_cursor`, or InvalidInput naming the `cursor` field."""
    if cursor is None or cursor == "":
        return None
    if not cursor.isascii() or not cursor.isdigit() or not 0 < int(cursor) <= MAX_ROW_ID:
        raise InvalidInput(
            "This cursor is not valid: pass back a next_cursor unchanged.", field="cursor"
        )
    return int(cursor)


def id_cursor(row_id: int | None) -> str | None:
    return None if row_id is None else str(row_id)
