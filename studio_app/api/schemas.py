"""Request and response bodies of the REST API (they are its OpenAPI schema).

Responses are built from the services' browser-safe views, never from table rows.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.fields import FieldInfo

from studio_app.api.cursors import ID_CURSOR_PATTERN, MAX_ROW_ID
from studio_app.services import creations, generation, payments
from studio_app.services.catalog_admin import (
    CATEGORY_NAME_MAX,
    DESCRIPTION_MAX,
    NAME_MIN,
    TEMPLATE_NAME_MAX,
)
from studio_app.services.generation import (
    MAX_IMAGES_PER_REQUEST,
    MAX_NEGATIVE_PROMPT_CHARS,
    MAX_SEED,
    PROVIDER_ALIASES,
)
from studio_app.services.provider_switches import provider_names
from studio_app.services.validation import MAX_PROMPT_CHARS

# The spec says what the server accepts, so clients (and their generated code) learn
# the rules from it, and a request the spec calls valid is refused only for the state
# of the server (a name taken, a template switched off). Where the API checks a rule
# itself (patterns, lengths, ranges), it checks exactly the declared one; the services
# still check everything themselves.

# Patterns are written with \xhh and \uXXXX escapes only, which Python's, Rust's (pydantic)
# and ECMAScript's (JSON Schema) regular expressions all read the same way.
_RULES: dict[str, str] = {}


def _rule(pattern: str, says: str) -> str:
    """A pattern with the sentence that explains it when a value does not match."""
    _RULES[pattern] = says
    return pattern


def rule_for(pattern: str) -> str | None:
    """What a pattern of this module requires, in words (for error messages)."""
    return _RULES.get(pattern)


def _char_class(chars: Iterable[str]) -> str:
    """The inside of a regex [class] holding exactly `chars`, as escaped ranges."""
    codes = sorted({ord(ch) for ch in chars})
    runs: list[list[int]] = []
    for code in codes:
        if runs and runs[-1][1] == code - 1:
            runs[-1][1] = code
        else:
            runs.append([code, code])
    return "".join(_escaped(a) if a == b else f"{_escaped(a)}-{_escaped(b)}" for a, b in runs)


def _escaped(code: int) -> str:
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


# What validation.clean_text refuses: control characters other than tab and newline
# (Unicode fixes category Cc to U+0000-U+001F and U+007F-U+009F for good).
_CONTROL_CHARS = [chr(code) for code in range(0x100) if unicodedata.category(chr(code)) == "Cc"]
_CONTROL_CHARS = [ch for ch in _CONTROL_CHARS if ch not in "\t\n"]
# What str.strip() and str.split() remove (the last is U+3000), less the refused ones.
_SPACE_CHARS = [chr(code) for code in range(0x3001) if chr(code).isspace()]
_SPACE_CHARS = [ch for ch in _SPACE_CHARS if ch not in _CONTROL_CHARS]
_CONTROL, _SPACE = _char_class(_CONTROL_CHARS), _char_class(_SPACE_CHARS)
# Unambiguous (no backtracking): spaces, then a visible character, then any allowed ones.
_SOME_TEXT = f"[{_SPACE}]*[^{_CONTROL}{_SPACE}]"
_ANY_TEXT = f"[^{_CONTROL}]*"
_NO_CONTROL = "no control characters (tab and newline are fine)"
TEXT_PATTERN = _rule(f"^{_ANY_TEXT}$", f"Text with {_NO_CONTROL}.")
FILLED_TEXT_PATTERN = _rule(
    f"^{_SOME_TEXT}{_ANY_TEXT}$", f"Text that is not blank, with {_NO_CONTROL}."
)
# Names are trimmed and their spaces collapsed, then need NAME_MIN characters.
NAME_PATTERN = _rule(
    f"^(?:{_SOME_TEXT}){{{NAME_MIN}}}{_ANY_TEXT}$",
    f"At least {NAME_MIN} characters besides spaces, with {_NO_CONTROL}.",
)


def _text(max_length: int, *, pattern: str = TEXT_PATTERN, min_length: int = 0) -> FieldInfo:
    return Field(min_length=min_length, max_length=max_length, pattern=pattern)


def _listed_now(values: Callable[[], list]) -> Callable[[dict], None]:
    """An `enum` read when the spec is built (it depends on the server's settings)."""
    return lambda schema: schema.update(enum=values())


TierId = Literal["standard", "premium", "premium-wide"]
Prompt = Annotated[str, _text(MAX_PROMPT_CHARS, pattern=FILLED_TEXT_PATTERN, min_length=1)]
OptionalText = Annotated[str, _text(MAX_PROMPT_CHARS)]
NegativePrompt = Annotated[str, _text(MAX_NEGATIVE_PROMPT_CHARS)]
Description = Annotated[str, _text(DESCRIPTION_MAX)]
CategoryName = Annotated[str, _text(CATEGORY_NAME_MAX, pattern=NAME_PATTERN, min_length=NAME_MIN)]
TemplateName = Annotated[str, _text(TEMPLATE_NAME_MAX, pattern=NAME_PATTERN, min_length=NAME_MIN)]


def _integral(value: object) -> object:
    # In JSON (and JSON Schema) 70.0 is the integer 70; 70.5, "70" and true stay refused.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


_INTEGRAL = BeforeValidator(_integral)
WholeNumber = Annotated[int, _INTEGRAL]
RowId = Annotated[int, Field(ge=1, le=MAX_ROW_ID), _INTEGRAL]
Seed = Annotated[int, Field(ge=0, le=MAX_SEED), _INTEGRAL]
ImageCount = Annotated[int, Field(ge=1, le=MAX_IMAGES_PER_REQUEST), _INTEGRAL]
ProviderName = Annotated[
    str,
    Field(
        max_length=32,
        description="See GET /api/providers: one not available now answers 422. Also "
        "accepted: "
        + ", ".join(f"`{alias}` for `{name}`" for alias, name in PROVIDER_ALIASES.items())
        + " (stored and listed under the provider's own name).",
        json_schema_extra=_listed_now(lambda: sorted([*provider_names(), *PROVIDER_ALIASES])),
    ),
]
_rule(ID_CURSOR_PATTERN, "A next_cursor of the page before, unchanged.")
# The service's rule for provider names; "" means every provider.
PROVIDER_FILTER_PATTERN = _rule(
    r"^[a-z0-9_-]{0,32}$", "A provider's name, as GET /api/providers lists it."
)
CREATION_ID_PATTERN = _rule(
    creations.PUBLIC_ID.pattern, "24 lowercase hexadecimal characters, as in a creation's id."
)
GENERATION_KEY_PATTERN = _rule(
    generation.IDEMPOTENCY_KEY.pattern,
    "8 to 100 letters, digits, '-', '_', ':' or '.'.",
)
PURCHASE_KEY_PATTERN = _rule(
    payments.PURCHASE_KEY.pattern, "16 to 100 letters, digits, '-' or '_'."
)
# Years 0001-9999 (Python's dates); `format: date` adds the calendar (the service checks it).
DAY_PATTERN = _rule(
    r"^(?:[1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])-[0-9]{2}-[0-9]{2}$",
    "A date like 2026-01-31.",
)
Day = Annotated[str, Field(pattern=DAY_PATTERN, json_schema_extra={"format": "date"})]
# The services' views say "" for "no preview image"; the API says null.
PreviewUrl = Annotated[str | None, BeforeValidator(lambda url: url or None)]
UploadRef = Annotated[str, Field(pattern=CREATION_ID_PATTERN)]
# The service's rule (profiles.clean_display_name) as a pattern: allowed characters, a
# letter among them. Spacing is tidied and the name's uniqueness checked by the service.
DISPLAY_NAME_PATTERN = _rule(
    r"^[\w .'\-]*[^\W\d_][\w .'\-]*$",
    "Letters, digits, spaces and . _ - ', with at least one letter.",
)


class _Body(BaseModel):
    # Unknown fields and loose types ("5" for 5, 0 for false) are mistakes worth
    # telling the client about.
    model_config = ConfigDict(extra="forbid", strict=True)


# ------------------------------------------------------------------ catalog


class Category(BaseModel):
    id: int
    slug: str
    name: str
    description: str
    template_count: int


class CategoryList(BaseModel):
    items: list[Category]


class Template(BaseModel):
    id: int
    category_id: int
    name: str
    description: str
    prompt: str
    default_tier: str
    preview_url: PreviewUrl = Field(description="Public preview image, when there is one")


class TemplatePage(BaseModel):
    items: list[Template]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end"
    )


class Tier(BaseModel):
    id: str
    label: str
    aspect_ratio: str
    width: int
    height: int
    credits: int
    rupees: int


class Provider(BaseModel):
    name: str
    label: str
    model: str
    configured: bool
    available: bool
    unavailable_reason: str = Field(description="Why it cannot be used now; empty when it can")
    unavailable_tiers: dict[str, str] = Field(
        description="Tier id → why this provider cannot make it"
    )
    supports_negative_prompt: bool
    supports_seed: bool


# ------------------------------------------------------------------ generation


class EnhanceRequest(_Body):
    prompt: Prompt = Field(description="The prompt to improve")
    template_id: RowId | None = Field(
        default=None, description="Gives the enhancer the template's category"
    )


class Enhancement(BaseModel):
    original: str
    enhanced: str
    enhancer: str = Field(description="Who wrote the enhanced prompt")
    fallback_reason: str = Field(
        description="Why the offline enhancer answered; empty when an LLM did"
    )


class GenerateRequest(_Body):
    prompt: Prompt
    tier: TierId = "standard"
    provider: ProviderName = "offline"
    template_id: RowId | None = Field(
        default=None, description="An active template, else 422 naming `template_id`"
    )
    enhanced_prompt: OptionalText | None = Field(
        default=None, description="When set, what the provider receives"
    )
    negative_prompt: NegativePrompt | None = None
    seed: Seed | None = None
    n: ImageCount = Field(
        default=1,
        description="How many images (1–4): each is its own creation, held for and charged "
        "only if it arrives; with a seed, image k gets seed + k",
    )
    source_upload_id: UploadRef | None = Field(
        default=None,
        description="An edit: the `id` of one of your uploads (POST /api/uploads), changed as "
        "the prompt says. It is cropped from its centre to the tier's aspect and scaled to "
        "its size; priced as a generation of that tier",
    )


class GenerationError(BaseModel):
    code: str = Field(description="Stable error code, e.g. safety_refused, rate_limited, timeout")
    message: str


Status = Literal["queued", "running", "succeeded", "failed"]


class Creation(BaseModel):
    id: str
    request_id: str = Field(
        description="The request it was made for: the `id` of that request's first image"
    )
    status: Status
    status_url: str
    prompt: str
    enhanced_prompt: str | None
    template_name: str | None
    provider: str
    model: str
    tier: str
    width: int | None
    height: int | None
    cost_credits: int = Field(description="Credits charged: 0 unless it succeeded")
    edit: bool = Field(description="Made by editing one of your uploads")
    image_url: str | None = Field(description="Original image bytes (same token needed)")
    thumbnail_url: str | None
    error: GenerationError | None
    created_at: str = Field(description="ISO 8601, UTC")


class GenerateAccepted(BaseModel):
    id: str = Field(description="The request's id: its first image's `id`")
    status: Status
    status_url: str
    cost_credits: int = Field(
        description="Credits held now for every image, each charged only if it arrives"
    )
    image_ids: list[str] = Field(description="Every image of the request, in order")


class RequestStatus(Creation):
    """One image, and every image of its request."""

    images: list[Creation] = Field(
        description="Every image of the request, in order (this one among them)"
    )


class Upload(BaseModel):
    """A picture you uploaded to edit."""

    id: str
    width: int
    height: int
    size_bytes: int
    content_type: str = Field(description="image/png, image/jpeg or image/webp (from the bytes)")
    image_url: str = Field(description="The cleaned picture (metadata removed; same token)")
    created_at: str = Field(description="ISO 8601, UTC")


class UploadList(BaseModel):
    items: list[Upload]


class CreationPage(BaseModel):
    items: list[Creation]
    next_cursor: str | None


# ------------------------------------------------------------------ credits


class Post(BaseModel):
    """A community post, as anyone may see it: its author is a display name."""

    id: str
    title: str
    caption: str
    author: str
    prompt: str | None = Field(description="The prompt, when its author shows it")
    template_name: str | None
    category_name: str | None
    provider: str = Field(description="The provider's name as people see it")
    tier: str
    width: int
    height: int
    like_count: int
    reuse_count: int
    image_url: str = Field(description="The public picture (no token needed)")
    thumbnail_url: str
    page_url: str = Field(description="The post's share page")
    published_at: str = Field(description="ISO 8601, UTC")
    liked: bool = Field(description="Whether you like it (false without a token)")
    is_own: bool


class PostPage(BaseModel):
    items: list[Post]
    next_cursor: str | None = Field(description="Pass it as `cursor` for the next page")


FeedSort = Literal["newest", "top_week", "top_all"]
POST_CURSOR_PATTERN = _rule(
    r"^[A-Za-z0-9_=-]{1,200}$", "A next_cursor of the page before, unchanged."
)


PostTitle = Annotated[str, _text(80, pattern=FILLED_TEXT_PATTERN, min_length=1)]
PostCaption = Annotated[str, _text(500)]


class PublishRequest(_Body):
    creation_id: UploadRef = Field(description="One of your finished creations")
    title: PostTitle
    caption: PostCaption = ""
    show_prompt: bool = Field(default=True, description="Show the prompt with the picture")


class PostChangeRequest(_Body):
    """Only what is sent changes."""

    title: PostTitle | None = None
    caption: PostCaption | None = None
    show_prompt: bool | None = None


class PromptToReuse(BaseModel):
    """A generation request's fields taken from a post."""

    prompt: str
    template_id: int | None = Field(description="Its template, when still offered")
    tier: str


ReportReason = Literal["spam", "sexual", "violence", "hate", "stolen", "other"]


class ReportRequest(_Body):
    reason: ReportReason
    details: PostCaption = ""


class ReportAccepted(BaseModel):
    hidden: bool = Field(description="Whether enough people have reported it to hide it")


class QueuedPost(BaseModel):
    id: str
    title: str
    author: str
    status: Literal["published", "hidden"]
    report_count: int
    reasons: list[str] = Field(description='e.g. "Spam or advertising ×2", most given first')
    details: list[str] = Field(description="What reporters wrote (not who)")
    thumbnail_url: str
    author_can_publish: bool


class ModerationQueue(BaseModel):
    items: list[QueuedPost]


class ModerationDecision(_Body):
    decision: Literal["hide", "restore", "remove", "stop_author"]


class LikeState(BaseModel):
    liked: bool
    like_count: int


class Profile(BaseModel):
    display_name: str = Field(description='The name shown on what you publish; "" until chosen')


class ProfileChange(_Body):
    display_name: str = Field(
        min_length=3,
        max_length=30,
        pattern=DISPLAY_NAME_PATTERN,
        description="3–30 letters, digits, spaces and . _ - ' with a letter among them; "
        "unique ignoring case and accents; not your email",
    )


class Credits(BaseModel):
    balance: int = Field(description="Credits owned: grants, purchases and refunds less charges")
    available: int = Field(
        description="What can be spent now: the balance less credits held for images in progress"
    )
    rupees_per_credit: int


class StatementLine(BaseModel):
    when: str
    description: str
    kind: str
    amount: int
    balance_after: int


class StatementPage(BaseModel):
    items: list[StatementLine]
    next_cursor: str | None


class CreditPack(BaseModel):
    credits: int
    rupees: int


def _pack_sizes() -> list[int]:
    return [pack.credits for pack in payments.credit_packs()]


class PurchaseRequest(_Body):
    credits: WholeNumber = Field(
        description="One of the pack sizes of GET /api/studio/credits/packs",
        json_schema_extra=_listed_now(_pack_sizes),
    )


class Purchase(BaseModel):
    status: Literal["pending", "completed", "failed"]
    credits: int
    amount_rupees: int
    newly_credited: bool = Field(description="False when this Idempotency-Key was already credited")
    redirect_url: str | None = Field(
        description="Where to pay, when the gateway needs a checkout page"
    )
    balance: int


# ------------------------------------------------------------------ admin


class ProviderStats(BaseModel):
    provider: str
    generations: int
    succeeded: int
    failed: int
    success_rate: float | None
    average_seconds: float | None


class DayCounts(BaseModel):
    day: str
    succeeded: int
    failed: int
    pending: int


class Stats(BaseModel):
    users: int
    generations_today: int
    generations_7_days: int
    generations_all: int
    succeeded: int
    failed: int
    success_rate: float | None = Field(
        description="Succeeded / finished, 0–1; null before any finished"
    )
    credits_sold: int
    credits_spent: int
    providers: list[ProviderStats]
    daily: list[DayCounts]


class AdminCategory(BaseModel):
    id: int
    slug: str
    name: str
    description: str
    is_active: bool
    template_count: int


class AdminCategoryList(BaseModel):
    items: list[AdminCategory]


class CategoryInput(_Body):
    name: CategoryName = Field(description="Unique among categories, deactivated ones included")
    description: Description = ""
    is_active: bool | None = Field(default=None, description="PUT only: reactivate or deactivate")


class AdminTemplate(BaseModel):
    id: int
    category_id: int
    category_name: str
    name: str
    description: str
    prompt: str
    default_tier: str
    is_active: bool
    preview_url: PreviewUrl


class AdminTemplateList(BaseModel):
    items: list[AdminTemplate]


class TemplateInput(_Body):
    category_id: RowId
    name: TemplateName = Field(description="Unique in its category, deactivated templates included")
    description: Description = ""
    prompt: Prompt
    default_tier: TierId = "standard"
    is_active: bool | None = Field(default=None, description="PUT only: reactivate or deactivate")
