"""REST API tests: the FastAPI app in-process, over a fresh migrated and seeded database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from studio_app.services import catalog
from studio_app.services.db import write_session
from studio_app.settings import Settings, reload_settings
from tests.api.rest import api_over_reflex


@pytest.fixture
def seeded_db(migrated_db: Settings) -> Settings:
    with write_session() as db:
        catalog.seed_catalog(db)
    return migrated_db


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch, migrated_db: Settings):  # type: ignore[no-untyped-def]
    """Set STUDIO_* variables for one test: `settings_env(STUDIO_X="1")`."""

    def apply(**values: str) -> Settings:
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        return reload_settings()

    return apply


@pytest.fixture
def client(seeded_db: Settings) -> Iterator[TestClient]:
    # As a context manager the app's event loop lives across requests, so a
    # generation started by one request keeps running after its 202 answer. The API is
    # stacked as the server stacks it, over (a stand-in for) Reflex's app.
    with TestClient(api_over_reflex(), raise_server_exceptions=False) as test_client:
        yield test_client
