"""Every setting of the app, read once from the environment.

`rxconfig.py`, the services and the CLI all read `get_settings()`; nothing else
looks at `os.environ`. Tests that need other values set the environment and
call `reload_settings()`.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class SettingsError(ValueError):
    """An environment variable holds a value the app cannot use."""


def _env_str(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def _env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from exc
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name} must be true or false, got {raw!r}")


def _env_int_list(name: str, default: tuple[int, ...]) -> tuple[int, ...]:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        values = tuple(int(part) for part in raw.split(",") if part.strip())
    except ValueError as exc:
        raise SettingsError(f"{name} must be whole numbers separated by commas") from exc
    if not values or any(v <= 0 for v in values):
        raise SettingsError(f"{name} must list positive whole numbers")
    return values


def _env_public_url(name: str, default: str) -> str:
    """The app's own address: scheme and host (and port), nothing after them."""
    raw = _env_str(name, default).rstrip("/")
    parts = urlsplit(raw)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise SettingsError(f"{name} must be an http(s) address like https://studio.example.com")
    if parts.path or parts.query or parts.fragment or parts.username:
        raise SettingsError(f"{name} must be the app's address alone, without a path: {raw!r}")
    return f"{parts.scheme}://{parts.netloc.lower()}"


def _env_csp_sources(name: str) -> tuple[str, ...]:
    """Extra Content-Security-Policy sources, separated by spaces or commas.

    Each is a host or scheme source (`https://checkout.example.com`, `wss:`) or a quoted
    keyword (`'unsafe-eval'`); a `;` or a quote inside a source would let it write other
    directives, so such values are refused.
    """
    raw = os.environ.get(name, "").strip()
    sources = tuple(part for part in raw.replace(",", " ").split() if part)
    for source in sources:
        quoted = source.startswith("'") and source.endswith("'") and len(source) > 2
        inner = source[1:-1] if quoted else source
        if any(ch in inner for ch in ";'\"\\") or not inner.isprintable():
            raise SettingsError(
                f"{name} must list Content-Security-Policy sources separated by spaces, "
                f"got {source!r}"
            )
    return sources


@dataclass(frozen=True)
class Settings:
    """The app's configuration. Build with `load_settings()`."""

    database_url: str
    images_dir: Path
    # Credit prices per tier (see services/tiers.py) and their rupee value.
    price_standard: int = 1
    price_premium: int = 2
    price_premium_wide: int = 4
    rupees_per_credit: int = 5
    signup_grant_credits: int = 5
    credit_pack_sizes: tuple[int, ...] = (10, 50, 100)
    # A hold must outlive the slowest provider call; the sweeper ends it after this.
    hold_expiry_seconds: int = 600
    max_concurrent_generations: int = 3
    # Per user and minute, shared by the studio page and the REST API.
    generations_per_minute: int = 20
    # Provider calls in flight in one server process; further jobs wait their turn (queued).
    max_parallel_generations: int = 64
    provider_timeout_seconds: int = 120
    # The address people use (STUDIO_PUBLIC_URL): our origin for CORS and sign-in
    # forms, Secure cookies and HSTS when it is https, absolute links.
    public_url: str = "http://localhost:3000"
    # How many reverse proxies in front of the app append to X-Forwarded-For (0: none,
    # the connection's peer is the client).
    trusted_proxy_hops: int = 0
    session_days: int = 7
    signin_max_failures: int = 5
    signin_window_seconds: int = 900
    signups_per_address_per_hour: int = 5
    admin_email: str = ""
    admin_password: str = field(default="", repr=False)
    # Only tests turn this on: it registers the fault-injecting provider.
    enable_fault_provider: bool = False
    test_payment_gateway: bool = False
    sqlite_busy_timeout_seconds: int = 30
    # Hosted providers: a key makes a provider available; a base URL points it at a
    # gateway or proxy (and, in tests, at a local fake of the provider's API).
    openai_api_key: str = field(default="", repr=False)
    openai_base_url: str = ""
    openai_image_model: str = "gpt-image-1.5"
    openai_image_quality: str = "medium"
    openai_chat_model: str = "gpt-4.1-mini"
    gemini_api_key: str = field(default="", repr=False)
    gemini_base_url: str = ""
    gemini_image_model: str = "gemini-2.5-flash-image"
    gemini_chat_model: str = "gemini-2.5-flash"
    replicate_api_token: str = field(default="", repr=False)
    replicate_base_url: str = ""
    replicate_model: str = "black-forest-labs/flux-schnell"
    hf_token: str = field(default="", repr=False)
    hf_base_url: str = ""
    hf_inference_provider: str = "hf-inference"
    hf_image_model: str = "stabilityai/stable-diffusion-xl-base-1.0"
    hf_chat_model: str = "mistralai/Mistral-7B-Instruct-v0.3"
    enhance_timeout_seconds: int = 15
    enhancements_per_minute: int = 10
    # Extra Content-Security-Policy sources for later needs (a payment checkout's script
    # and frame, analytics): STUDIO_CSP_SCRIPT_SRC, _CONNECT_SRC, _FRAME_SRC, _IMG_SRC.
    csp_script_src: tuple[str, ...] = ()
    csp_connect_src: tuple[str, ...] = ()
    csp_frame_src: tuple[str, ...] = ()
    csp_img_src: tuple[str, ...] = ()
    # Reflex's disk state manager writes each tab's state to `.states/`, one file per
    # state class; any websocket with a made-up tab id adds files. The sweep keeps the
    # folder at most this big (the least recently written go first), every so often.
    max_state_files: int = 20_000
    state_sweep_seconds: int = 30

    @property
    def public_is_https(self) -> bool:
        return self.public_url.startswith("https://")


def _default_database_url() -> str:
    return f"sqlite:///{PROJECT_ROOT / 'studio.db'}"


def load_settings() -> Settings:
    """Read the environment into a fresh `Settings`."""
    return Settings(
        database_url=_env_str("STUDIO_DATABASE_URL", _default_database_url()),
        images_dir=Path(_env_str("STUDIO_IMAGES_DIR", str(PROJECT_ROOT / "uploaded_images"))),
        price_standard=_env_int("STUDIO_PRICE_STANDARD", 1, minimum=1),
        price_premium=_env_int("STUDIO_PRICE_PREMIUM", 2, minimum=1),
        price_premium_wide=_env_int("STUDIO_PRICE_PREMIUM_WIDE", 4, minimum=1),
        rupees_per_credit=_env_int("STUDIO_RUPEES_PER_CREDIT", 5, minimum=1),
        signup_grant_credits=_env_int("STUDIO_SIGNUP_GRANT", 5),
        credit_pack_sizes=_env_int_list("STUDIO_CREDIT_PACKS", (10, 50, 100)),
        hold_expiry_seconds=_env_int("STUDIO_HOLD_EXPIRY_SECONDS", 600, minimum=1),
        max_concurrent_generations=_env_int("STUDIO_MAX_CONCURRENT_GENERATIONS", 3, minimum=1),
        generations_per_minute=_env_int("STUDIO_GENERATIONS_PER_MINUTE", 20, minimum=1),
        max_parallel_generations=_env_int("STUDIO_MAX_PARALLEL_GENERATIONS", 64, minimum=1),
        provider_timeout_seconds=_env_int("STUDIO_PROVIDER_TIMEOUT_SECONDS", 120, minimum=1),
        public_url=_env_public_url("STUDIO_PUBLIC_URL", "http://localhost:3000"),
        trusted_proxy_hops=_env_int("STUDIO_TRUSTED_PROXY_HOPS", 0),
        session_days=_env_int("STUDIO_SESSION_DAYS", 7, minimum=1),
        signin_max_failures=_env_int("STUDIO_SIGNIN_MAX_FAILURES", 5, minimum=1),
        signin_window_seconds=_env_int("STUDIO_SIGNIN_WINDOW_SECONDS", 900, minimum=1),
        signups_per_address_per_hour=_env_int("STUDIO_SIGNUPS_PER_ADDRESS_PER_HOUR", 5, minimum=1),
        admin_email=_env_str("STUDIO_ADMIN_EMAIL", ""),
        admin_password=os.environ.get("STUDIO_ADMIN_PASSWORD", ""),
        enable_fault_provider=_env_bool("STUDIO_ENABLE_FAULT_PROVIDER", False),
        test_payment_gateway=_env_bool("STUDIO_TEST_PAYMENT_GATEWAY", False),
        sqlite_busy_timeout_seconds=_env_int("STUDIO_SQLITE_BUSY_TIMEOUT", 30, minimum=1),
        openai_api_key=os.environ.get("OPENAI_API_KEY", "").strip(),
        openai_base_url=_env_str("OPENAI_BASE_URL", ""),
        openai_image_model=_env_str("STUDIO_OPENAI_IMAGE_MODEL", "gpt-image-1.5"),
        openai_image_quality=_env_str("STUDIO_OPENAI_IMAGE_QUALITY", "medium"),
        openai_chat_model=_env_str("STUDIO_OPENAI_CHAT_MODEL", "gpt-4.1-mini"),
        gemini_api_key=(
            os.environ.get("GEMINI_API_KEY", "").strip()
            or os.environ.get("GOOGLE_API_KEY", "").strip()
        ),
        gemini_base_url=_env_str("GEMINI_BASE_URL", ""),
        gemini_image_model=_env_str("STUDIO_GEMINI_IMAGE_MODEL", "gemini-2.5-flash-image"),
        gemini_chat_model=_env_str("STUDIO_GEMINI_CHAT_MODEL", "gemini-2.5-flash"),
        replicate_api_token=os.environ.get("REPLICATE_API_TOKEN", "").strip(),
        replicate_base_url=_env_str("REPLICATE_BASE_URL", ""),
        replicate_model=_env_str("STUDIO_REPLICATE_MODEL", "black-forest-labs/flux-schnell"),
        hf_token=os.environ.get("HF_TOKEN", "").strip(),
        hf_base_url=_env_str("HF_INFERENCE_BASE_URL", ""),
        hf_inference_provider=_env_str("STUDIO_HF_PROVIDER", "hf-inference"),
        hf_image_model=_env_str(
            "STUDIO_HF_IMAGE_MODEL", "stabilityai/stable-diffusion-xl-base-1.0"
        ),
        hf_chat_model=_env_str("STUDIO_HF_CHAT_MODEL", "mistralai/Mistral-7B-Instruct-v0.3"),
        enhance_timeout_seconds=_env_int("STUDIO_ENHANCE_TIMEOUT_SECONDS", 15, minimum=1),
        enhancements_per_minute=_env_int("STUDIO_ENHANCEMENTS_PER_MINUTE", 10, minimum=1),
        csp_script_src=_env_csp_sources("STUDIO_CSP_SCRIPT_SRC"),
        csp_connect_src=_env_csp_sources("STUDIO_CSP_CONNECT_SRC"),
        csp_frame_src=_env_csp_sources("STUDIO_CSP_FRAME_SRC"),
        csp_img_src=_env_csp_sources("STUDIO_CSP_IMG_SRC"),
        max_state_files=_env_int("STUDIO_MAX_STATE_FILES", 20_000, minimum=1),
        state_sweep_seconds=_env_int("STUDIO_STATE_SWEEP_SECONDS", 30, minimum=1),
    )


@functools.cache
def get_settings() -> Settings:
    """The settings of this process, read from the environment on first use."""
    return load_settings()


def reload_settings() -> Settings:
    """Forget the cached settings and read the environment again (tests)."""
    get_settings.cache_clear()
    return get_settings()
