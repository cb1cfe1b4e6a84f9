"""Every setting of the app, declared once and read once from the environment.

Each setting is one field of `Settings`: its default, its validation and its
environment variable (`STUDIO_` + the field's name in capitals, unless the field
names another: the providers' own `OPENAI_API_KEY`, `HF_TOKEN`, ...). As always,
values are trimmed and an empty variable means the default.

`rxconfig.py`, the services and the CLI all read `get_settings()`; nothing else
looks at `os.environ`. Tests that need other values set the environment and
call `reload_settings()`.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, AliasChoices, AliasGenerator, BeforeValidator, Field
from pydantic import ValidationError as PydanticValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class SettingsError(ValueError):
    """An environment variable holds a value the app cannot use."""


class _KeepSpaces:
    """Marks a setting whose value is read as written (a password may start with a space)."""


def _switch(value: object) -> object:
    if not isinstance(value, str):
        return value
    word = value.strip().lower()
    if word in {"1", "true", "yes", "on"}:
        return True
    if word in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"must be true or false, got {value!r}")


def _whole_numbers(value: object) -> object:
    if not isinstance(value, str):
        return value
    try:
        return tuple(int(part) for part in value.split(",") if part.strip())
    except ValueError:
        raise ValueError("must be whole numbers separated by commas") from None


def _all_positive(values: tuple[int, ...]) -> tuple[int, ...]:
    if not values or any(value <= 0 for value in values):
        raise ValueError("must list positive whole numbers")
    return values


def _public_url(value: str) -> str:
    """The app's own address: scheme and host (and port), nothing after them."""
    raw = value.strip().rstrip("/")
    parts = urlsplit(raw)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError("must be an http(s) address like https://studio.example.com")
    if parts.path or parts.query or parts.fragment or parts.username:
        raise ValueError(f"must be the app's address alone, without a path: {raw!r}")
    return f"{parts.scheme}://{parts.netloc.lower()}"


def split_storage_url(url: str) -> tuple[str, str]:
    """`s3://bucket/some/prefix` → ("bucket", "some/prefix/"); ValueError when malformed."""
    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    if not url.startswith("s3://") or not bucket or any(c in bucket for c in " ?#\\"):
        raise ValueError("must look like s3://bucket or s3://bucket/prefix")
    prefix = prefix.strip("/")
    return bucket, f"{prefix}/" if prefix else ""


def _storage_url(value: str) -> str:
    if value:
        split_storage_url(value)
    return value


def _split_sources(value: object) -> object:
    return tuple(value.replace(",", " ").split()) if isinstance(value, str) else value


def _safe_sources(sources: tuple[str, ...]) -> tuple[str, ...]:
    """Each is a host or scheme source (`https://checkout.example.com`, `wss:`) or a quoted
    keyword (`'unsafe-eval'`); a `;` or a quote inside a source would let it write other
    directives, so such values are refused."""
    for source in sources:
        quoted = source.startswith("'") and source.endswith("'") and len(source) > 2
        inner = source[1:-1] if quoted else source
        if any(ch in inner for ch in ";'\"\\") or not inner.isprintable():
            raise ValueError(
                f"must list Content-Security-Policy sources separated by spaces, got {source!r}"
            )
    return sources


Switch = Annotated[bool, BeforeValidator(_switch)]
"""A boolean written 1/true/yes/on or 0/false/no/off."""
CreditPacks = Annotated[
    tuple[int, ...], NoDecode, BeforeValidator(_whole_numbers), AfterValidator(_all_positive)
]
"""Positive whole numbers written `10,50,100`."""
CspSources = Annotated[
    tuple[str, ...], NoDecode, BeforeValidator(_split_sources), AfterValidator(_safe_sources)
]
"""Extra Content-Security-Policy sources, separated by spaces or commas."""
PublicUrl = Annotated[str, AfterValidator(_public_url)]
StorageUrl = Annotated[str, AfterValidator(_storage_url)]
Secret = Annotated[str, Field(repr=False)]
Password = Annotated[str, Field(repr=False), _KeepSpaces()]


def _studio_variable(field_name: str) -> str:
    return f"STUDIO_{field_name.upper()}"


class Settings(BaseSettings):
    """The app's configuration, read-only once loaded. Build with `load_settings()`."""

    model_config = SettingsConfigDict(
        frozen=True,
        case_sensitive=True,
        validate_by_name=True,
        alias_generator=AliasGenerator(validation_alias=_studio_variable),
    )

    database_url: str = f"sqlite:///{PROJECT_ROOT / 'studio.db'}"
    # Redis for Reflex's state manager (rxconfig.py): several backend workers then serve
    # the same users. "" = no Redis, one backend process (the embedded default).
    redis_url: str = ""
    images_dir: Path = PROJECT_ROOT / "uploaded_images"
    # Where image bytes live: "" = files under images_dir (the embedded default), or an
    # S3-compatible bucket, `s3://bucket` or `s3://bucket/prefix`, private (no public
    # access needed). Endpoint "" = AWS; keys "" = boto3's own chain (AWS_* variables).
    storage_url: StorageUrl = ""
    s3_endpoint_url: str = ""
    s3_region: str = "us-east-1"
    s3_access_key_id: Secret = ""
    s3_secret_access_key: Secret = ""
    # How often one process lists the image store against the rows (lost images refunded,
    # orphans deleted); a sole process also does it at start-up.
    store_scan_hours: float = Field(default=24, gt=0)
    # Credit prices per tier (see services/tiers.py) and their rupee value.
    price_standard: int = Field(default=1, ge=1)
    price_premium: int = Field(default=2, ge=1)
    price_premium_wide: int = Field(default=4, ge=1)
    rupees_per_credit: int = Field(default=5, ge=1)
    signup_grant_credits: int = Field(default=5, ge=0, validation_alias="STUDIO_SIGNUP_GRANT")
    credit_pack_sizes: CreditPacks = Field(
        default=(10, 50, 100), validation_alias="STUDIO_CREDIT_PACKS"
    )
    # A hold must outlive the slowest provider call; the sweeper ends it after this.
    hold_expiry_seconds: int = Field(default=600, ge=1)
    max_concurrent_generations: int = Field(default=3, ge=1)
    # Distinct people reporting a community post hide it until an admin decides.
    reports_to_hide: int = Field(default=3, ge=1)
    # Per user and minute, shared by the studio page and the REST API.
    generations_per_minute: int = Field(default=20, ge=1)
    # Provider calls in flight in one server process; further jobs wait their turn (queued).
    max_parallel_generations: int = Field(default=64, ge=1)
    provider_timeout_seconds: int = Field(default=120, ge=1)
    # The address people use: our origin for CORS and sign-in forms, Secure cookies and
    # HSTS when it is https, absolute links.
    public_url: PublicUrl = "http://localhost:3000"
    # How many reverse proxies in front of the app append to X-Forwarded-For (0: none,
    # the connection's peer is the client).
    trusted_proxy_hops: int = Field(default=0, ge=0)
    session_days: int = Field(default=7, ge=1)
    signin_max_failures: int = Field(default=5, ge=1)
    signin_window_seconds: int = Field(default=900, ge=1)
    signups_per_address_per_hour: int = Field(default=5, ge=1)
    admin_email: str = ""
    admin_password: Password = ""
    # Only tests turn this on: it registers the fault-injecting provider.
    enable_fault_provider: Switch = False
    test_payment_gateway: Switch = False
    sqlite_busy_timeout_seconds: int = Field(
        default=30, ge=1, validation_alias="STUDIO_SQLITE_BUSY_TIMEOUT"
    )
    # Hosted providers: a key makes a provider available; a base URL points it at a
    # gateway or proxy (and, in tests, at a local fake of the provider's API).
    openai_api_key: Secret = Field(default="", validation_alias="OPENAI_API_KEY")
    openai_base_url: str = Field(default="", validation_alias="OPENAI_BASE_URL")
    # Default model ids: where each was confirmed is in README.md ("Providers and models").
    openai_image_model: str = "gpt-image-2.6-flare"
    openai_image_quality: str = "medium"
    openai_chat_model: str = "gpt-6-luna"
    gemini_api_key: Secret = Field(
        default="", validation_alias=AliasChoices("GEMINI_API_KEY", "GOOGLE_API_KEY")
    )
    gemini_base_url: str = Field(default="", validation_alias="GEMINI_BASE_URL")
    gemini_image_model: str = "gemini-3.1-flash-image"
    gemini_chat_model: str = "gemini-3.5-flash-lite"
    replicate_api_token: Secret = Field(default="", validation_alias="REPLICATE_API_TOKEN")
    replicate_base_url: str = Field(default="", validation_alias="REPLICATE_BASE_URL")
    replicate_model: str = "black-forest-labs/flux-2-pro"
    # Edits with a model that takes no picture (FLUX.1): made by this one instead (a FLUX.2
    # model); "" = no edits with such a model.
    replicate_edit_model: str = "black-forest-labs/flux-2-pro"
    hf_token: Secret = Field(default="", validation_alias="HF_TOKEN")
    hf_base_url: str = Field(default="", validation_alias="HF_INFERENCE_BASE_URL")
    hf_inference_provider: str = Field(
        default="hf-inference", validation_alias="STUDIO_HF_PROVIDER"
    )
    hf_image_model: str = "black-forest-labs/FLUX.1-schnell"
    # Edits (image-to-image, through the same Inference Provider); "" = no edits.
    hf_edit_model: str = "black-forest-labs/FLUX.1-Kontext-dev"
    # Chat goes through the Hugging Face router (hf-inference serves no chat models).
    hf_chat_model: str = "openai/gpt-oss-20b"
    # Which LLM enhances prompts first ("openai", "gemini", "huggingface"; "" = the first
    # configured in that order); the other configured ones, then the offline enhancer,
    # follow within the one time budget.
    enhance_provider: Literal["", "openai", "gemini", "huggingface"] = ""
    enhance_timeout_seconds: int = Field(default=15, ge=1)
    # Provider output fetched by URL (Replicate, Hugging Face): at most this many bytes,
    # within this many seconds.
    provider_download_max_bytes: int = Field(default=40_000_000, ge=1)
    provider_download_timeout_seconds: int = Field(default=60, ge=1)
    enhancements_per_minute: int = Field(default=10, ge=1)
    # Extra Content-Security-Policy sources for later needs (a payment checkout's script
    # and frame, analytics).
    csp_script_src: CspSources = ()
    csp_connect_src: CspSources = ()
    csp_frame_src: CspSources = ()
    csp_img_src: CspSources = ()
    # Reflex's disk state manager writes each tab's state to `.states/`, one file per
    # state class; any websocket with a made-up tab id adds files. The sweep keeps the
    # folder at most this big (the least recently written go first), every so often.
    max_state_files: int = Field(default=20_000, ge=1)
    state_sweep_seconds: int = Field(default=30, ge=1)

    if TYPE_CHECKING:
        # frozen=True: pydantic hashes the values (the caches keyed by settings need it); the
        # type checker only sees BaseModel's __eq__, which leaves __hash__ None.
        def __hash__(self) -> int: ...

    @property
    def public_is_https(self) -> bool:
        return self.public_url.startswith("https://")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Values given in code (tests), then the environment; no .env or secrets files.
        return init_settings, _TrimmedEnvironment(settings_cls)


def _variable_names(field: FieldInfo) -> tuple[str, ...]:
    """The environment variables a setting is read from, in order of preference."""
    alias = field.validation_alias
    if isinstance(alias, AliasChoices):
        return tuple(str(choice) for choice in alias.choices)
    return (str(alias),)


class _TrimmedEnvironment(EnvSettingsSource):
    """The environment with values trimmed, where an empty value means "not set"."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        super().__init__(settings_cls)
        as_written = {
            name
            for field in settings_cls.model_fields.values()
            if any(isinstance(mark, _KeepSpaces) for mark in field.metadata)
            for name in _variable_names(field)
        }
        values = {
            name: value if name in as_written else value.strip()
            for name, value in self.env_vars.items()
            if value is not None
        }
        self.env_vars = {name: value for name, value in values.items() if value}


_PLAIN_WORDS = {
    "int_parsing": "must be a whole number, got {input!r}",
    "int_type": "must be a whole number, got {input!r}",
    "int_from_float": "must be a whole number, got {input!r}",
    "greater_than_equal": "must be at least {ge}, got {input}",
}


def _explain(error: ErrorDetails) -> str:
    """One line naming the variable and what is wrong with its value."""
    where = str(error["loc"][0]) if error["loc"] else ""
    field = Settings.model_fields.get(where)
    variable = " or ".join(_variable_names(field)) if field else where
    context = error.get("ctx") or {}
    if error["type"] == "value_error":
        problem = str(context["error"])
    elif error["type"] in _PLAIN_WORDS:
        problem = _PLAIN_WORDS[error["type"]].format(input=error["input"], **context)
    else:
        problem = f"is not usable: {error['msg']}"
    return f"{variable} {problem}"


def load_settings() -> Settings:
    """Read the environment into a fresh `Settings`; `SettingsError` names each bad variable."""
    try:
        return Settings()
    except PydanticValidationError as exc:
        raise SettingsError("; ".join(_explain(error) for error in exc.errors())) from exc


@functools.cache
def get_settings() -> Settings:
    """The settings of this process, read from the environment on first use."""
    return load_settings()


def reload_settings() -> Settings:
    """Forget the cached settings and read the environment again (tests)."""
    get_settings.cache_clear()
    return get_settings()
