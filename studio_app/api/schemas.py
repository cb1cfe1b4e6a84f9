"""Request and response bodies of the REST API (they are its OpenAPI schema).

Responses are built from the services' browser-safe views, never from table rows.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from studio_app.services.catalog_admin import (
    CATEGORY_NAME_MAX,
    DESCRIPTION_MAX,
    NAME_MIN,
    TEMPLATE_NAME_MAX,
)
from studio_app.services.generation import MAX_NEGATIVE_PROMPT_CHARS, MAX_SEED, PROVIDER_ALIASES
from studio_app.services.validation import MAX_PROMPT_CHARS

# The spec says what the services will accept, so clients (and their generated
# code) learn the limits from it; the services still check everything themselves.
TierId = Literal["standard", "premium", "premium-wide"]
Prompt = Annotated[str, Field(min_length=1, max_length=MAX_PROMPT_CHARS, pattern=r"\S")]
OptionalText = Annotated[str, Field(max_length=MAX_PROMPT_CHARS)]
Description = Annotated[str, Field(max_length=DESCRIPTION_MAX)]
RowId = Annotated[int, Field(ge=1, le=2**63 - 1)]
# The services' views say "" for "no preview image"; the API says null.
PreviewUrl = Annotated[str | None, BeforeValidator(lambda url: url or None)]


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
    provider: str = Field(
        default="offline",
        max_length=32,
        description="See GET /api/providers. Also accepted: "
        + ", ".join(f"`{alias}` for `{name}`" for alias, name in PROVIDER_ALIASES.items())
        + " (stored and listed under the provider's own name).",
    )
    template_id: RowId | None = None
    enhanced_prompt: OptionalText | None = Field(
        default=None, description="When set, what the provider receives"
    )
    negative_prompt: Annotated[str, Field(max_length=MAX_NEGATIVE_PROMPT_CHARS)] | None = None
    seed: Annotated[int, Field(ge=0, le=MAX_SEED)] | None = None


class GenerationError(BaseModel):
    code: str = Field(description="Stable error code, e.g. safety_refused, rate_limited, timeout")
    message: str


Status = Literal["queued", "running", "succeeded", "failed"]


class Creation(BaseModel):
    id: str
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
    image_url: str | None = Field(description="Original image bytes (same token needed)")
    thumbnail_url: str | None
    error: GenerationError | None
    created_at: str = Field(description="ISO 8601, UTC")


class GenerateAccepted(BaseModel):
    id: str
    status: Status
    status_url: str
    cost_credits: int = Field(description="Credits held now, charged only if the image arrives")


class CreationPage(BaseModel):
    items: list[Creation]
    next_cursor: str | None


# ------------------------------------------------------------------ credits


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


class PurchaseRequest(_Body):
    credits: int = Field(description="One of the pack sizes of GET /api/studio/credits/packs")


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
    name: Annotated[str, Field(min_length=NAME_MIN, max_length=CATEGORY_NAME_MAX, pattern=r"\S")]
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
    name: Annotated[str, Field(min_length=NAME_MIN, max_length=TEMPLATE_NAME_MAX, pattern=r"\S")]
    description: Description = ""
    prompt: Prompt
    default_tier: TierId = "standard"
    is_active: bool | None = Field(default=None, description="PUT only: reactivate or deactivate")
