"""What Reflex pickled for the app's tabs (`.states/`), searched for usable secrets.

A session token or an API token secret is found by what the server kept of it: any
token-shaped string in a state file whose SHA-256 is a session's or a token's hash in
the app's database is a secret that reached the state.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from pathlib import Path

_TOKEN_SHAPED = re.compile(rb"[A-Za-z0-9_-]{43,}")
_SESSION_TOKEN_CHARS = 43  # secrets.token_urlsafe(32)
_API_SECRET_CHARS = 47  # "stu_" + secrets.token_urlsafe(32)


def known_hashes(database: Path) -> set[str]:
    with sqlite3.connect(database) as db:
        rows = db.execute(
            "SELECT token_hash FROM auth_session UNION SELECT token_hash FROM api_token"
        )
        return {row[0] for row in rows}


def secrets_in_state_files(states_dir: Path, database: Path) -> list[str]:
    """`file: secret kind` for every session token or API secret found in a state file."""
    hashes = known_hashes(database)
    found = []
    for path in sorted(states_dir.glob("*.pkl")):
        data = path.read_bytes()
        if b"studio_session=" in data:
            found.append(f"{path.name}: a session cookie header")
        for candidate in set(_TOKEN_SHAPED.findall(data)):
            # A secret may sit inside a longer run of token characters in the pickle:
            # every window of a session token's length (43) or an API secret's (47).
            for size in (_SESSION_TOKEN_CHARS, _API_SECRET_CHARS):
                for start in range(len(candidate) - size + 1):
                    piece = candidate[start : start + size]
                    if hashlib.sha256(piece).hexdigest() in hashes:
                        found.append(f"{path.name}: {piece[:8].decode()}…")
    return found
