"""Admins choose each provider's model; a model the provider says is gone hides the provider."""

from __future__ import annotations

import pytest
from sqlmodel import select

from studio_app.models import AuditEntry, GeneratedImage
from studio_app.providers.registry import get_provider
from studio_app.services import generation, ledger, provider_models, provider_switches
from studio_app.services.auth import CurrentUser
from studio_app.services.db import read_session
from studio_app.services.errors import InvalidInput, PermissionDenied
from studio_app.services.generation import GenerationRequest
from studio_app.settings import Settings, reload_settings
from tests import aio
from tests.factories import make_user


@pytest.fixture(autouse=True)
def fault_provider_enabled(migrated_db: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("STUDIO_ENABLE_FAULT_PROVIDER", "1")
    return reload_settings()


@pytest.fixture
def admin() -> CurrentUser:
    return CurrentUser(id=make_user(role="admin"), email="boss@example.com", role="admin")


def _choose(admin: CurrentUser, provider: object, model: object) -> bool:
    return aio.run(provider_models.choose_model(admin, provider, model))


def _status(name: str) -> provider_models.ModelStatus:
    return next(s for s in provider_models.model_statuses() if s.provider == name)


def _visible() -> dict[str, provider_switches.ProviderInfo]:
    return {info.name: info for info in provider_switches.provider_infos()}


def _audit() -> list[AuditEntry]:
    with read_session() as db:
        return list(db.exec(select(AuditEntry).order_by(AuditEntry.id)).all())


def _generate(user_id: int, prompt: str, provider: str = "fault") -> GeneratedImage:
    async def go() -> str:
        ticket = generation.start(user_id, GenerationRequest(prompt=prompt, provider=provider))
        return await generation.run(ticket)

    aio.run(go())
    with read_session() as db:
        query = select(GeneratedImage).order_by(GeneratedImage.id.desc())
        return db.exec(query).first()


def test_the_admins_choice_beats_the_environment_which_beats_the_default(
    admin: CurrentUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _status("openai").model == "gpt-image-2.6-flare"  # the default
    monkeypatch.setenv("STUDIO_OPENAI_IMAGE_MODEL", "gpt-image-2.6-sunburst")
    reload_settings()
    assert _status("openai").model == "gpt-image-2.6-sunburst"
    assert _status("openai").chosen_by_admin is False

    assert _choose(admin, "openai", "gpt-image-2") is True
    assert _visible()["openai"].model == "gpt-image-2"
    assert _status("openai").chosen_by_admin is True

    # Choosing the server's own model again hands the choice back to the environment.
    assert _choose(admin, "openai", "gpt-image-2.6-sunburst") is True
    assert _status("openai").chosen_by_admin is False
    assert _choose(admin, "openai", "gpt-image-2.6-sunburst") is False  # nothing changed


def test_a_chosen_model_is_used_at_once_and_recorded_on_the_creation(admin: CurrentUser) -> None:
    user = make_user(credits=3)
    assert _choose(admin, "fault", "fault-2") is True
    row = _generate(user, "A lantern on a jetty")
    assert (row.status, row.model) == ("succeeded", "fault-2")


def test_a_model_the_provider_does_not_know_is_refused_and_nothing_is_stored(
    admin: CurrentUser,
) -> None:
    with pytest.raises(InvalidInput) as refused:
        _choose(admin, "fault", "fault-9")
    assert "does not offer fault-9" in refused.value.message
    assert "not found" in refused.value.message  # the provider's own words
    assert _status("fault").model == "fault-1"
    assert _audit() == []


@pytest.mark.parametrize(
    ("model", "words"),
    [
        ("", "Choose or type"),
        ("   ", "Choose or type"),
        ("gpt image", "letters, digits"),
        ("x" * 121, "at most 120"),
        (None, "Choose or type"),
    ],
)
def test_a_malformed_model_id_is_refused_with_a_clear_message(
    admin: CurrentUser, model: object, words: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        _choose(admin, "openai", model)
    assert words in refused.value.message
    assert _audit() == []


def test_each_choice_is_audited_with_the_model_before_and_after(admin: CurrentUser) -> None:
    _choose(admin, "fault", "fault-2")
    _choose(admin, "fault", "fault-2")
    entries = _audit()
    assert [e.action for e in entries] == ["provider.model"]
    assert entries[0].actor_id == admin.id and entries[0].target == "provider fault"
    assert '"fault-1"' in entries[0].before and '"fault-2"' in entries[0].after


def test_only_admins_choose_and_unknown_providers_are_refused(admin: CurrentUser) -> None:
    member = CurrentUser(id=make_user(), email="m@example.com", role="user")
    with pytest.raises(PermissionDenied):
        _choose(member, "fault", "fault-2")
    with pytest.raises(InvalidInput):
        _choose(admin, "nope", "fault-2")
    assert _status("fault").model == "fault-1"


def test_a_model_that_has_gone_costs_nothing_and_hides_the_provider_until_another_is_picked(
    admin: CurrentUser,
) -> None:
    user = make_user(credits=3)
    fault = get_provider("fault")
    row = _generate(user, "A quiet harbour #fail=model_unavailable")

    assert (row.status, row.error_code) == ("failed", "model_unavailable")
    assert row.error_message == "This provider is unavailable right now. Try another provider."
    assert fault.calls["A quiet harbour #fail=model_unavailable"] == 1  # never retried
    with read_session() as db:
        assert ledger.summary(db, user).balance == 3  # not charged

    assert "fault" not in _visible()  # members no longer see it
    with pytest.raises(InvalidInput) as refused:
        generation.start(user, GenerationRequest(prompt="A harbour", provider="fault"))
    assert (
        refused.value.message
        == "Fault injector (tests) is unavailable for now. Choose another provider."
    )
    gone = _status("fault")
    assert (gone.gone, gone.model, gone.gone_detail) == (
        True,
        "fault-1",
        "injected model_unavailable",
    )

    assert _choose(admin, "fault", "fault-2") is True
    assert "fault" in _visible() and not _status("fault").gone
    assert _generate(user, "A harbour at dawn").status == "succeeded"


def test_a_failure_for_a_model_the_admin_already_replaced_hides_nothing(
    admin: CurrentUser,
) -> None:
    fault = get_provider("fault")
    assert provider_models.record_model_gone(fault, "fault-1", "gone") is True
    _choose(admin, "fault", "fault-2")
    # A generation started on fault-1 before the switch reports late: fault-2 stays usable.
    assert provider_models.record_model_gone(fault, "fault-1", "gone") is False
    assert "fault" in _visible()


def test_the_same_model_passing_its_check_again_brings_the_provider_back(
    admin: CurrentUser,
) -> None:
    fault = get_provider("fault")
    provider_models.record_model_gone(fault, "fault-1", "HTTP 404 gone for maintenance")
    assert "fault" not in _visible()
    assert _choose(admin, "fault", "fault-1") is True
    assert "fault" in _visible()
    assert '"gone": true' in _audit()[-1].before
