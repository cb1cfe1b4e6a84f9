"""Admins switch providers off for everyone; the studio and the generation path obey at once."""

from __future__ import annotations

import pytest
from sqlmodel import select

from studio_app.models import AuditEntry, GeneratedImage
from studio_app.services import generation, provider_switches
from studio_app.services.auth import CurrentUser
from studio_app.services.db import read_session
from studio_app.services.errors import InvalidInput, PermissionDenied
from studio_app.services.generation import GenerationRequest
from studio_app.services.provider_switches import provider_infos
from studio_app.settings import Settings
from tests.factories import make_user


@pytest.fixture
def admin(migrated_db: Settings) -> CurrentUser:
    return CurrentUser(id=make_user(role="admin"), email="boss@example.com", role="admin")


def _info(name: str):  # type: ignore[no-untyped-def]
    return next(info for info in provider_infos() if info.name == name)


def _audit() -> list[AuditEntry]:
    with read_session() as db:
        return list(db.exec(select(AuditEntry).order_by(AuditEntry.id)).all())


def test_every_provider_is_listed_with_its_key_state_and_switched_on(admin: CurrentUser) -> None:
    switches = {s.provider: s for s in provider_switches.list_switches(admin)}
    assert {"offline", "openai", "gemini", "replicate", "huggingface"} <= set(switches)
    assert switches["offline"].configured is True
    assert switches["openai"].configured is False
    assert all(s.enabled for s in switches.values())
    assert switches["offline"].label and switches["offline"].model


def test_switching_off_makes_the_provider_unavailable_and_refused(admin: CurrentUser) -> None:
    user_id = make_user(credits=5)
    assert provider_switches.set_enabled(admin, "offline", False) is True

    info = _info("offline")
    assert info.unavailable_reason == "switched off by an admin"
    assert info.configured is True  # the key state stays truthful
    with pytest.raises(InvalidInput) as refused:
        generation.start(user_id, GenerationRequest(prompt="a cat", provider="offline"))
    assert refused.value.field == "provider"
    assert "switched off" in refused.value.message
    with read_session() as db:
        assert db.exec(select(GeneratedImage)).first() is None  # nothing written, no hold

    assert provider_switches.set_enabled(admin, "offline", True) is True
    assert _info("offline").unavailable_reason == ""
    generation.start(user_id, GenerationRequest(prompt="a cat", provider="offline"))


def test_each_switch_is_audited_once(admin: CurrentUser) -> None:
    provider_switches.set_enabled(admin, "gemini", False)
    assert provider_switches.set_enabled(admin, "gemini", False) is False  # no change
    provider_switches.set_enabled(admin, "gemini", True)
    entries = _audit()
    assert [e.action for e in entries] == ["provider.disable", "provider.enable"]
    assert entries[0].actor_id == admin.id
    assert entries[0].target == "provider gemini"
    assert '"enabled": true' in entries[0].before and '"enabled": false' in entries[0].after


def test_unconfigured_provider_keeps_its_own_reason(admin: CurrentUser) -> None:
    provider_switches.set_enabled(admin, "openai", False)
    assert _info("openai").unavailable_reason == "not configured on this server"


def test_unknown_provider_or_bad_value_is_refused(admin: CurrentUser) -> None:
    with pytest.raises(InvalidInput):
        provider_switches.set_enabled(admin, "nope", False)
    with pytest.raises(InvalidInput):
        provider_switches.set_enabled(admin, "offline", "false")
    assert _audit() == []


def test_a_non_admin_cannot_list_or_switch(migrated_db: Settings) -> None:
    someone = CurrentUser(id=make_user(), email="a@example.com", role="user")
    with pytest.raises(PermissionDenied):
        provider_switches.list_switches(someone)
    with pytest.raises(PermissionDenied):
        provider_switches.set_enabled(someone, "offline", False)
    with pytest.raises(PermissionDenied):
        provider_switches.set_enabled(None, "offline", False)  # type: ignore[arg-type]
    assert _info("offline").unavailable_reason == ""
    assert _audit() == []
