"""The state folder's sweep: expired files go, then the oldest beyond the bound."""

from __future__ import annotations

import os
from pathlib import Path

from studio_app.state_files import sweep

NOW = 1_800_000_000.0
HOUR = 3600


def _state_file(folder: Path, name: str, age_seconds: float) -> Path:
    path = folder / f"{name}.pkl"
    path.write_bytes(b"state")
    os.utime(path, (NOW - age_seconds, NOW - age_seconds))
    return path


def test_expired_files_go_and_fresh_ones_stay(tmp_path: Path) -> None:
    old = _state_file(tmp_path, "old", HOUR + 1)
    fresh = _state_file(tmp_path, "fresh", HOUR - 1)
    assert sweep(tmp_path, expiry_seconds=HOUR, max_files=10, now=NOW) == 1
    assert not old.exists()
    assert fresh.exists()


def test_beyond_the_bound_the_least_recently_written_go_first(tmp_path: Path) -> None:
    files = [_state_file(tmp_path, f"tab{age}", age) for age in range(1, 31)]  # newest first
    assert sweep(tmp_path, expiry_seconds=HOUR, max_files=12, now=NOW) == 18
    assert [path.exists() for path in files] == [True] * 12 + [False] * 18
    # A second sweep has nothing left to do.
    assert sweep(tmp_path, expiry_seconds=HOUR, max_files=12, now=NOW) == 0


def test_only_state_files_are_touched(tmp_path: Path) -> None:
    other = tmp_path / "notes.txt"
    other.write_text("not a state")
    os.utime(other, (NOW - 10 * HOUR, NOW - 10 * HOUR))
    _state_file(tmp_path, "old", 10 * HOUR)
    assert sweep(tmp_path, expiry_seconds=HOUR, max_files=1, now=NOW) == 1
    assert other.exists()


def test_a_missing_folder_is_nothing_to_sweep(tmp_path: Path) -> None:
    assert sweep(tmp_path / "absent", expiry_seconds=HOUR, max_files=1, now=NOW) == 0
