"""Shared fixtures: every test gets its own SQLite file, migrated to head."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from studio_app.services import migrations
from studio_app.services.db import dispose_engines
from studio_app.settings import Settings, reload_settings
from tests.fakes.server import FakeServer


@pytest.fixture
def fresh_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Point the settings at a new, empty database and image folder."""
    monkeypatch.setenv("STUDIO_DATABASE_URL", f"sqlite:///{tmp_path / 'studio.db'}")
    monkeypatch.setenv("STUDIO_IMAGES_DIR", str(tmp_path / "images"))
    for name in list(os.environ):
        if name.startswith("STUDIO_") and name not in {"STUDIO_DATABASE_URL", "STUDIO_IMAGES_DIR"}:
            monkeypatch.delenv(name)
    dispose_engines()
    settings = reload_settings()
    yield settings
    dispose_engines()
    monkeypatch.undo()
    reload_settings()


@pytest.fixture
def migrated_db(fresh_env: Settings) -> Settings:
    """A fresh database with every migration applied (no seed data)."""
    migrations.upgrade_to_head()
    return fresh_env


@pytest.fixture
def fake() -> Iterator[FakeServer]:
    """A provider's HTTP API faked on loopback; each test scripts its answers."""
    server = FakeServer().start()
    yield server
    server.stop()
