"""Settings: the environment variables read, their defaults, and the values refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import AliasChoices, ValidationError

from studio_app.settings import (
    PROJECT_ROOT,
    Settings,
    SettingsError,
    get_settings,
    load_settings,
    reload_settings,
)


def _variables_read() -> set[str]:
    names: set[str] = set()
    for field in Settings.model_fields.values():
        alias = field.validation_alias
        choices = alias.choices if isinstance(alias, AliasChoices) else [alias]
        names.update(str(choice) for choice in choices)
    return names


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """An environment holding none of the app's variables; set some with `env.setenv`."""
    for name in _variables_read():
        monkeypatch.delenv(name, raising=False)
    yield monkeypatch
    monkeypatch.undo()
    reload_settings()


# The names the README's settings and providers tables document: renaming one breaks
# every deployment that sets it.
DOCUMENTED_VARIABLES = {
    "STUDIO_DATABASE_URL",
    "STUDIO_REDIS_URL",
    "STUDIO_IMAGES_DIR",
    "STUDIO_STORAGE_URL",
    "STUDIO_S3_ENDPOINT_URL",
    "STUDIO_S3_REGION",
    "STUDIO_S3_ACCESS_KEY_ID",
    "STUDIO_S3_SECRET_ACCESS_KEY",
    "STUDIO_STORE_SCAN_HOURS",
    "STUDIO_PRICE_STANDARD",
    "STUDIO_PRICE_PREMIUM",
    "STUDIO_PRICE_PREMIUM_WIDE",
    "STUDIO_RUPEES_PER_CREDIT",
    "STUDIO_SIGNUP_GRANT",
    "STUDIO_CREDIT_PACKS",
    "STUDIO_HOLD_EXPIRY_SECONDS",
    "STUDIO_MAX_CONCURRENT_GENERATIONS",
    "STUDIO_GENERATIONS_PER_MINUTE",
    "STUDIO_MAX_PARALLEL_GENERATIONS",
    "STUDIO_PROVIDER_TIMEOUT_SECONDS",
    "STUDIO_PROVIDER_DOWNLOAD_MAX_BYTES",
    "STUDIO_PROVIDER_DOWNLOAD_TIMEOUT_SECONDS",
    "STUDIO_ENHANCE_PROVIDER",
    "STUDIO_PUBLIC_URL",
    "STUDIO_TRUSTED_PROXY_HOPS",
    "STUDIO_SESSION_DAYS",
    "STUDIO_SIGNIN_MAX_FAILURES",
    "STUDIO_SIGNIN_WINDOW_SECONDS",
    "STUDIO_SIGNUPS_PER_ADDRESS_PER_HOUR",
    "STUDIO_ADMIN_EMAIL",
    "STUDIO_ADMIN_PASSWORD",
    "STUDIO_ENABLE_FAULT_PROVIDER",
    "STUDIO_TEST_PAYMENT_GATEWAY",
    "STUDIO_SQLITE_BUSY_TIMEOUT",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "STUDIO_OPENAI_IMAGE_MODEL",
    "STUDIO_OPENAI_IMAGE_QUALITY",
    "STUDIO_OPENAI_CHAT_MODEL",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "GEMINI_BASE_URL",
    "STUDIO_GEMINI_IMAGE_MODEL",
    "STUDIO_GEMINI_CHAT_MODEL",
    "REPLICATE_API_TOKEN",
    "REPLICATE_BASE_URL",
    "STUDIO_REPLICATE_MODEL",
    "STUDIO_REPLICATE_EDIT_MODEL",
    "STUDIO_REPORTS_TO_HIDE",
    "HF_TOKEN",
    "HF_INFERENCE_BASE_URL",
    "STUDIO_HF_PROVIDER",
    "STUDIO_HF_IMAGE_MODEL",
    "STUDIO_HF_EDIT_MODEL",
    "STUDIO_HF_CHAT_MODEL",
    "STUDIO_ENHANCE_TIMEOUT_SECONDS",
    "STUDIO_ENHANCEMENTS_PER_MINUTE",
    "STUDIO_CSP_SCRIPT_SRC",
    "STUDIO_CSP_CONNECT_SRC",
    "STUDIO_CSP_FRAME_SRC",
    "STUDIO_CSP_IMG_SRC",
    "STUDIO_MAX_STATE_FILES",
    "STUDIO_STATE_SWEEP_SECONDS",
}


def test_the_variables_read_are_the_documented_ones() -> None:
    assert _variables_read() == DOCUMENTED_VARIABLES


def test_an_empty_environment_gives_the_defaults(env: pytest.MonkeyPatch) -> None:
    settings = load_settings()

    assert settings.database_url == f"sqlite:///{PROJECT_ROOT / 'studio.db'}"
    assert settings.images_dir == PROJECT_ROOT / "uploaded_images"
    assert (settings.price_standard, settings.price_premium, settings.price_premium_wide) == (
        1,
        2,
        4,
    )
    assert settings.signup_grant_credits == 5
    assert settings.credit_pack_sizes == (10, 50, 100)
    assert settings.public_url == "http://localhost:3000"
    assert not settings.public_is_https
    assert settings.trusted_proxy_hops == 0
    assert settings.sqlite_busy_timeout_seconds == 30
    assert settings.test_payment_gateway is False
    assert settings.openai_api_key == settings.gemini_api_key == settings.hf_token == ""
    assert settings.hf_inference_provider == "hf-inference"
    assert settings.csp_script_src == ()


@pytest.mark.parametrize(
    ("variable", "value", "attribute", "expected"),
    [
        ("STUDIO_DATABASE_URL", "sqlite:////tmp/x.db", "database_url", "sqlite:////tmp/x.db"),
        ("STUDIO_IMAGES_DIR", "/srv/images", "images_dir", Path("/srv/images")),
        ("STUDIO_PRICE_PREMIUM_WIDE", "6", "price_premium_wide", 6),
        ("STUDIO_SIGNUP_GRANT", "0", "signup_grant_credits", 0),
        ("STUDIO_CREDIT_PACKS", "25, 200,", "credit_pack_sizes", (25, 200)),
        ("STUDIO_SQLITE_BUSY_TIMEOUT", "9", "sqlite_busy_timeout_seconds", 9),
        ("STUDIO_TRUSTED_PROXY_HOPS", "2", "trusted_proxy_hops", 2),
        ("OPENAI_API_KEY", "sk-one", "openai_api_key", "sk-one"),
        ("OPENAI_BASE_URL", "http://fake/v1", "openai_base_url", "http://fake/v1"),
        ("GOOGLE_API_KEY", "g-key", "gemini_api_key", "g-key"),
        ("REPLICATE_API_TOKEN", "r8_x", "replicate_api_token", "r8_x"),
        ("HF_TOKEN", "hf_x", "hf_token", "hf_x"),
        ("HF_INFERENCE_BASE_URL", "http://fake", "hf_base_url", "http://fake"),
        ("STUDIO_HF_PROVIDER", "together", "hf_inference_provider", "together"),
        (
            "STUDIO_CSP_FRAME_SRC",
            "https://a.example, wss:",
            "csp_frame_src",
            ("https://a.example", "wss:"),
        ),
        ("STUDIO_CSP_SCRIPT_SRC", "'unsafe-eval'", "csp_script_src", ("'unsafe-eval'",)),
        (
            "STUDIO_PUBLIC_URL",
            "HTTPS://Studio.Example.com/",
            "public_url",
            "https://studio.example.com",
        ),
        ("STUDIO_ENABLE_FAULT_PROVIDER", "yes", "enable_fault_provider", True),
    ],
)
def test_each_variable_sets_its_setting(
    env: pytest.MonkeyPatch, variable: str, value: str, attribute: str, expected: object
) -> None:
    env.setenv(variable, value)

    assert getattr(load_settings(), attribute) == expected


@pytest.mark.parametrize("word", ["1", "true", "YES", "on", " On "])
def test_switches_turn_on(env: pytest.MonkeyPatch, word: str) -> None:
    env.setenv("STUDIO_TEST_PAYMENT_GATEWAY", word)
    assert load_settings().test_payment_gateway is True


@pytest.mark.parametrize("word", ["0", "false", "No", "OFF"])
def test_switches_turn_off(env: pytest.MonkeyPatch, word: str) -> None:
    env.setenv("STUDIO_ENABLE_FAULT_PROVIDER", word)
    assert load_settings().enable_fault_provider is False


def test_gemini_prefers_its_own_key_and_falls_back_to_google(env: pytest.MonkeyPatch) -> None:
    env.setenv("GOOGLE_API_KEY", "google-key")
    env.setenv("GEMINI_API_KEY", "gemini-key")
    assert load_settings().gemini_api_key == "gemini-key"

    env.setenv("GEMINI_API_KEY", "  ")
    assert load_settings().gemini_api_key == "google-key"


@pytest.mark.parametrize(
    ("variable", "attribute", "default"),
    [
        ("STUDIO_PRICE_STANDARD", "price_standard", 1),
        ("STUDIO_CREDIT_PACKS", "credit_pack_sizes", (10, 50, 100)),
        ("STUDIO_PUBLIC_URL", "public_url", "http://localhost:3000"),
        ("STUDIO_TEST_PAYMENT_GATEWAY", "test_payment_gateway", False),
        ("STUDIO_OPENAI_IMAGE_MODEL", "openai_image_model", "gpt-image-2.6-flare"),
        ("STUDIO_IMAGES_DIR", "images_dir", PROJECT_ROOT / "uploaded_images"),
    ],
)
@pytest.mark.parametrize("blank", ["", "   "])
def test_an_empty_variable_means_the_default(
    env: pytest.MonkeyPatch, variable: str, attribute: str, default: object, blank: str
) -> None:
    env.setenv(variable, blank)
    assert getattr(load_settings(), attribute) == default


def test_values_are_trimmed_but_the_admin_password_is_read_as_written(
    env: pytest.MonkeyPatch,
) -> None:
    env.setenv("OPENAI_API_KEY", "  sk-padded \n")
    env.setenv("STUDIO_SESSION_DAYS", " 3 ")
    env.setenv("STUDIO_ADMIN_PASSWORD", " spaced passphrase ")

    settings = load_settings()

    assert settings.openai_api_key == "sk-padded"
    assert settings.session_days == 3
    assert settings.admin_password == " spaced passphrase "


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("STUDIO_PRICE_STANDARD", "0", "STUDIO_PRICE_STANDARD must be at least 1, got 0"),
        ("STUDIO_SIGNUP_GRANT", "-1", "STUDIO_SIGNUP_GRANT must be at least 0, got -1"),
        ("STUDIO_SQLITE_BUSY_TIMEOUT", "0", "STUDIO_SQLITE_BUSY_TIMEOUT must be at least 1"),
        ("STUDIO_TRUSTED_PROXY_HOPS", "-1", "STUDIO_TRUSTED_PROXY_HOPS must be at least 0"),
        ("STUDIO_SESSION_DAYS", "seven", "STUDIO_SESSION_DAYS must be a whole number, got 'seven'"),
        ("STUDIO_HOLD_EXPIRY_SECONDS", "1.5", "STUDIO_HOLD_EXPIRY_SECONDS must be a whole number"),
        ("STUDIO_CREDIT_PACKS", "10,lots", "STUDIO_CREDIT_PACKS must be whole numbers separated"),
        ("STUDIO_CREDIT_PACKS", "10,0", "STUDIO_CREDIT_PACKS must list positive whole numbers"),
        ("STUDIO_CREDIT_PACKS", ",", "STUDIO_CREDIT_PACKS must list positive whole numbers"),
        (
            "STUDIO_TEST_PAYMENT_GATEWAY",
            "maybe",
            "STUDIO_TEST_PAYMENT_GATEWAY must be true or false",
        ),
        ("STUDIO_PUBLIC_URL", "studio.example.com", "STUDIO_PUBLIC_URL must be an http(s) address"),
        ("STUDIO_PUBLIC_URL", "ftp://studio.example.com", "STUDIO_PUBLIC_URL must be an http(s)"),
        (
            "STUDIO_PUBLIC_URL",
            "https://studio.example.com/app",
            "STUDIO_PUBLIC_URL must be the app's address alone",
        ),
        (
            "STUDIO_PUBLIC_URL",
            "https://me@studio.example.com",
            "STUDIO_PUBLIC_URL must be the app's address alone",
        ),
        (
            "STUDIO_CSP_IMG_SRC",
            "https://a.example;",
            "STUDIO_CSP_IMG_SRC must list Content-Security-Policy sources",
        ),
        (
            "STUDIO_CSP_CONNECT_SRC",
            "'self",
            "STUDIO_CSP_CONNECT_SRC must list Content-Security-Policy sources",
        ),
        ("STUDIO_STORAGE_URL", "/srv/images", "STUDIO_STORAGE_URL must look like s3://bucket"),
        ("STUDIO_STORAGE_URL", "s3:///prefix", "STUDIO_STORAGE_URL must look like s3://bucket"),
    ],
)
def test_a_bad_value_is_refused_naming_its_variable(
    env: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    env.setenv(variable, value)

    with pytest.raises(SettingsError) as refused:
        load_settings()

    assert message in str(refused.value)


def test_every_bad_variable_is_named_at_once(env: pytest.MonkeyPatch) -> None:
    env.setenv("STUDIO_PRICE_PREMIUM", "0")
    env.setenv("STUDIO_MAX_STATE_FILES", "many")

    with pytest.raises(SettingsError) as refused:
        load_settings()

    assert "STUDIO_PRICE_PREMIUM" in str(refused.value)
    assert "STUDIO_MAX_STATE_FILES" in str(refused.value)


def test_a_bad_value_given_in_code_is_refused_too(env: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError, match="price_standard"):
        Settings(price_standard=0)


def test_settings_are_read_only(env: pytest.MonkeyPatch) -> None:
    settings = load_settings()

    with pytest.raises(ValidationError):
        settings.price_standard = 0  # type: ignore[misc]
    assert settings.price_standard == 1


def test_secrets_stay_out_of_the_printed_settings(env: pytest.MonkeyPatch) -> None:
    secrets = {
        "OPENAI_API_KEY": "sk-secret-openai",
        "GEMINI_API_KEY": "secret-gemini",
        "REPLICATE_API_TOKEN": "r8_secret",
        "HF_TOKEN": "hf_secret",
        "STUDIO_ADMIN_PASSWORD": "secret admin password",
        "STUDIO_S3_ACCESS_KEY_ID": "AKIASECRETKEYID",
        "STUDIO_S3_SECRET_ACCESS_KEY": "s3-secret-access-key",
    }
    for name, value in secrets.items():
        env.setenv(name, value)

    printed = repr(load_settings()) + str(load_settings())

    assert not [value for value in secrets.values() if value in printed]


def test_get_settings_reads_once_and_reload_reads_again(env: pytest.MonkeyPatch) -> None:
    env.setenv("STUDIO_SESSION_DAYS", "3")
    assert reload_settings().session_days == 3

    env.setenv("STUDIO_SESSION_DAYS", "4")
    assert get_settings().session_days == 3
    assert reload_settings().session_days == 4
