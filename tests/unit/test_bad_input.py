"""Whatever people type — or a crafted browser sends — is refused clearly or kept exactly.

Refused input raises a StudioError whose message a person can act on and which names
the field, and writes NOTHING: every table is compared, row for row, before and after.
Unusual but legitimate text (emoji, right-to-left scripts, HTML-looking names) is
accepted and stored exactly as typed; escaping it is the page's job, not the database's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlmodel import select

from studio_app.models import CreditEntry, GeneratedImage, ImageCategory, ImageTemplate
from studio_app.services import (
    admin_users,
    api_tokens,
    auth,
    catalog_admin,
    creations,
    generation,
    payments,
)
from studio_app.services.auth import CurrentUser
from studio_app.services.catalog_admin import TemplateFields
from studio_app.services.db import read_session
from studio_app.services.errors import InvalidInput, NotFound, StudioError
from studio_app.services.generation import GenerationRequest
from studio_app.settings import Settings, reload_settings
from studio_app.storage import image_store
from tests import aio
from tests.evidence import everything
from tests.factories import PASSWORD, make_user

MEGABYTE = "x" * 1_000_000
HTML = "<img src=x onerror=window.__xss=1><script>window.__xss=2</script>\"'&amp;"
EMOJI = "👩🏽‍🚀 astronaut family 👨‍👩‍👧‍👦 🏳️‍🌈 café naïve"
RTL = "غروب الشمس فوق البحر — שקיעה מעל הים \u200f(עם סירה)\u200f"
CONTROL = ["\x00", "\x07 bell", "esc \x1b[2J clear", "back\x08space", "del\x7f", "cr\r only"]


# A copy of a database migrated once for the module (hundreds of cases below).


@pytest.fixture(autouse=True)
def studio(migrated_db: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("STUDIO_TEST_PAYMENT_GATEWAY", "1")
    return reload_settings()


@pytest.fixture
def admin() -> CurrentUser:
    return CurrentUser(id=make_user(role="admin"), email="boss@example.com", role="admin")


def _member() -> CurrentUser:
    return CurrentUser(id=make_user(credits=5), email="member@example.com", role="user")


def refused(call: Callable[[], object], *, field: str | None = None) -> StudioError:
    """`call()` must raise a StudioError (naming `field`) and change nothing at all."""
    before = everything()
    files_before = sorted(image_store().keys())
    with pytest.raises(StudioError) as caught:
        call()
    error = caught.value
    assert error.message and "Traceback" not in error.message
    if field is not None:
        assert isinstance(error, InvalidInput), error
        assert error.field == field, (error.field, error.message)
    assert everything() == before
    assert sorted(image_store().keys()) == files_before
    return error


def _generate(user_id: int, **fields: Any) -> GeneratedImage:
    ticket = generation.start(user_id, GenerationRequest(**fields))
    assert aio.run(generation.run(ticket)) == "succeeded"
    with read_session() as db:
        row = db.get(GeneratedImage, ticket.images[0].generation_id)
    assert row is not None
    return row


# --- the studio: prompt, advanced fields, tier, provider, template --------------------------


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"prompt": ""}, "prompt", "Write a prompt"),
        ({"prompt": " \n\t "}, "prompt", "Write a prompt"),
        ({"prompt": None}, "prompt", "Write a prompt"),
        ({"prompt": MEGABYTE}, "prompt", "at most 2000"),
        ({"prompt": "x" * 2001}, "prompt", "at most 2000"),
        *[({"prompt": f"A cat {c}"}, "prompt", "control characters") for c in CONTROL],
        ({"prompt": 42}, "prompt", "must be text"),
        ({"prompt": ["a", "list"]}, "prompt", "must be text"),
        ({"prompt": {"$gt": ""}}, "prompt", "must be text"),
        ({"prompt": "ok", "enhanced_prompt": MEGABYTE}, "enhanced_prompt", "at most"),
        ({"prompt": "ok", "enhanced_prompt": "a\x00b"}, "enhanced_prompt", "control"),
        ({"prompt": "ok", "negative_prompt": MEGABYTE}, "negative_prompt", "at most"),
        ({"prompt": "ok", "negative_prompt": "\x1b[31m"}, "negative_prompt", "control"),
        ({"prompt": "ok", "seed": -1}, "seed", "whole number"),
        ({"prompt": "ok", "seed": 2**32}, "seed", "whole number"),
        ({"prompt": "ok", "seed": 10**400}, "seed", "whole number"),
        ({"prompt": "ok", "seed": 1.5}, "seed", "whole number"),
        ({"prompt": "ok", "seed": "7"}, "seed", "whole number"),
        ({"prompt": "ok", "seed": True}, "seed", "whole number"),
        ({"prompt": "ok", "tier": "ultra"}, "tier", "Unknown size tier"),
        ({"prompt": "ok", "tier": ""}, "tier", "Unknown size tier"),
        ({"prompt": "ok", "tier": "STANDARD"}, "tier", "Unknown size tier"),
        ({"prompt": "ok", "tier": None}, "tier", "Unknown size tier"),
        ({"prompt": "ok", "tier": ["standard"]}, "tier", "Unknown size tier"),
        ({"prompt": "ok", "provider": "dall-e-9"}, "provider", "Unknown provider"),
        ({"prompt": "ok", "provider": ""}, "provider", "Unknown provider"),
        ({"prompt": "ok", "provider": "fault"}, "provider", "Unknown provider"),
        ({"prompt": "ok", "provider": "__class__"}, "provider", "Unknown provider"),
        ({"prompt": "ok", "provider": None}, "provider", "Unknown provider"),
        ({"prompt": "ok", "provider": {"name": "offline"}}, "provider", "Unknown provider"),
        ({"prompt": "ok", "provider": "openai"}, "provider", "not set up"),
        ({"prompt": "ok", "template_id": 999_999}, "template_id", "not available"),
        ({"prompt": "ok", "template_id": 0}, "template_id", "not available"),
        ({"prompt": "ok", "template_id": -1}, "template_id", "not available"),
        ({"prompt": "ok", "template_id": "1"}, "template_id", "Unknown template"),
        ({"prompt": "ok", "template_id": 1.0}, "template_id", "Unknown template"),
        ({"prompt": "ok", "template_id": True}, "template_id", "Unknown template"),
    ],
)
def test_a_bad_generation_request_names_its_field_and_writes_nothing(
    fields: dict[str, Any], field: str, words: str
) -> None:
    user = make_user(credits=5)
    error = refused(lambda: generation.start(user, GenerationRequest(**fields)), field=field)
    assert words in error.message


def _catalog(admin: CurrentUser) -> tuple[int, int, int]:
    """An active template, an inactive one, and one whose category is deactivated."""
    live = catalog_admin.create_category(admin, "Live")
    gone = catalog_admin.create_category(admin, "Gone")
    active = catalog_admin.create_template(
        admin, TemplateFields(live, "Active", "", "A calm beach", "standard")
    )
    inactive = catalog_admin.create_template(
        admin, TemplateFields(live, "Retired", "", "An old idea", "standard")
    )
    orphaned = catalog_admin.create_template(
        admin, TemplateFields(gone, "Orphaned", "", "In a closed category", "standard")
    )
    catalog_admin.set_template_active(admin, inactive, False)
    catalog_admin.set_category_active(admin, gone, False)
    return active, inactive, orphaned


def test_inactive_templates_and_templates_of_closed_categories_cannot_be_used(
    admin: CurrentUser,
) -> None:
    active, inactive, orphaned = _catalog(admin)
    user = make_user(credits=5)
    for template_id in (inactive, orphaned):
        error = refused(
            lambda t=template_id: generation.start(
                user, GenerationRequest(prompt="ok", template_id=t)
            ),
            field="template_id",
        )
        assert error.message == "That template is not available any more."
    assert _generate(user, prompt="ok", template_id=active).template_id == active


@pytest.mark.parametrize(
    "prompt",
    [
        EMOJI,
        RTL,
        HTML,
        "Robert'); DROP TABLE generated_image;--",
        "line one\nline two\twith a tab",
        "e\u0301 combining, \u200bzero-width, \ufeffBOM inside",
        "x" * 2000,
    ],
    ids=["emoji", "rtl", "html", "sql", "newline-tab", "invisible", "exactly-2000"],
)
def test_unusual_but_fair_prompts_are_accepted_and_kept_exactly(prompt: str) -> None:
    user = make_user(credits=5)
    negative = prompt[: generation.MAX_NEGATIVE_PROMPT_CHARS]
    row = _generate(user, prompt=f"  {prompt}  ", negative_prompt=negative, seed=0)
    assert (row.prompt, row.negative_prompt, row.seed) == (prompt, negative, 0)
    viewer = CurrentUser(id=user, email="", role="user")
    [shown] = creations.list_creations(viewer).items
    assert shown.prompt == prompt


# --- credits: admin grants and credit packs ------------------------------------------------


@pytest.mark.parametrize(
    "amount",
    [
        -5,
        "-5",
        0,
        "0",
        1.5,
        "1.5",
        "1,000",
        "1e3",
        "0x10",
        "ten",
        "",
        "   ",
        None,
        True,
        [5],
        "100001",
        10**12,
        "²",  # a digit to str.isdigit(), not to int()
        "9" * 5000,  # more digits than int() will read
        "5\x00",
    ],
)
def test_a_grant_of_anything_but_a_sane_whole_number_is_refused(
    admin: CurrentUser, amount: object
) -> None:
    user = make_user(credits=5)
    error = refused(
        lambda: admin_users.grant_credits(admin, user, amount, "Goodwill", idempotency_key="k1"),
        field="amount",
    )
    assert "whole number" in error.message or "at most" in error.message


@pytest.mark.parametrize(
    ("reason", "field"),
    [("", "reason"), (" \n ", "reason"), (None, "reason"), (MEGABYTE, "reason")]
    + [(f"Goodwill {c}", "reason") for c in CONTROL[:3]],
)
def test_a_grant_reason_must_be_plain_text(admin: CurrentUser, reason: object, field: str) -> None:
    user = make_user(credits=5)
    refused(
        lambda: admin_users.grant_credits(admin, user, "5", reason, idempotency_key="k2"),
        field=field,
    )


@pytest.mark.parametrize("user_id", [999_999, 0, -1, "1", None, 1.0])
def test_a_grant_to_an_account_that_does_not_exist_is_refused(
    admin: CurrentUser, user_id: object
) -> None:
    error = refused(
        lambda: admin_users.grant_credits(admin, user_id, "5", "Why", idempotency_key="k3")  # type: ignore[arg-type]
    )
    assert isinstance(error, NotFound)


def test_a_grant_reason_with_html_and_emoji_is_kept_exactly(admin: CurrentUser) -> None:
    user = make_user(credits=5)
    reason = f"{HTML} {EMOJI}"
    admin_users.grant_credits(admin, user, " 7 ", reason, idempotency_key="k4")
    with read_session() as db:
        grant = db.exec(select(CreditEntry).where(CreditEntry.amount == 7)).one()
    assert grant.reference == " ".join(reason.split())


@pytest.mark.parametrize(
    "credits", [-10, 0, 11, 10.0, "10", True, None, [10], 10**100, float("nan")]
)
def test_a_pack_that_does_not_exist_is_refused(credits: object) -> None:
    user = make_user(credits=5)
    error = refused(
        lambda: payments.buy_pack(user, credits, payments.new_purchase_key()), field="credits"
    )
    assert "pack" in error.message


@pytest.mark.parametrize(
    "key", [None, "", "short", "x" * 101, "<script>alert(1)</script>xx", "a" * 20 + "\x00", 12345]
)
def test_a_malformed_purchase_key_is_refused(key: object) -> None:
    user = make_user(credits=5)
    error = refused(lambda: payments.buy_pack(user, 10, key))
    assert isinstance(error, InvalidInput) and "Reload the page" in error.message


# --- the admin catalog: names, descriptions, prompts, tiers, ids -----------------------------


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("", "name"),
        ("   ", "name"),
        (None, "name"),
        ("x", "name"),
        (MEGABYTE, "name"),
        *[(f"Name {c}", "name") for c in CONTROL],
        (123, "name"),
    ],
)
def test_a_bad_category_or_template_name_is_refused(
    admin: CurrentUser, name: object, field: str
) -> None:
    category = catalog_admin.create_category(admin, "Existing")
    refused(lambda: catalog_admin.create_category(admin, name), field=field)
    refused(
        lambda: catalog_admin.create_template(
            admin, TemplateFields(category, name, "", "A prompt", "standard")
        ),
        field=field,
    )


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"prompt": ""}, "prompt"),
        ({"prompt": MEGABYTE}, "prompt"),
        ({"prompt": "bell \x07"}, "prompt"),
        ({"description": MEGABYTE}, "description"),
        ({"description": "nul \x00"}, "description"),
        ({"default_tier": "ultra"}, "default_tier"),
        ({"default_tier": None}, "default_tier"),
    ],
)
def test_a_bad_template_field_is_refused(
    admin: CurrentUser, fields: dict[str, object], field: str
) -> None:
    category = catalog_admin.create_category(admin, "Existing")
    values: dict[str, object] = {
        "category_id": category,
        "name": "Fine name",
        "description": "",
        "prompt": "A prompt",
        "default_tier": "standard",
        **fields,
    }
    refused(lambda: catalog_admin.create_template(admin, TemplateFields(**values)), field=field)


@pytest.mark.parametrize("category_id", [999_999, 0, -3, "1", None, 1.0, True])
def test_a_template_in_a_category_that_does_not_exist_is_refused(
    admin: CurrentUser, category_id: object
) -> None:
    catalog_admin.create_category(admin, "Existing")
    error = refused(
        lambda: catalog_admin.create_template(
            admin, TemplateFields(category_id, "Fine name", "", "A prompt", "standard")
        )
    )
    assert isinstance(error, NotFound) and "does not exist" in error.message


def test_html_emoji_and_rtl_names_are_kept_exactly(admin: CurrentUser) -> None:
    html_name = "<img src=x onerror=window.__xss=1>"
    category = catalog_admin.create_category(admin, html_name, HTML)
    template = catalog_admin.create_template(
        admin, TemplateFields(category, f"{EMOJI[:40]}", RTL, HTML, "premium")
    )
    with read_session() as db:
        stored_category = db.get(ImageCategory, category)
        stored_template = db.get(ImageTemplate, template)
    assert (stored_category.name, stored_category.description) == (html_name, HTML)
    assert stored_category.slug == "img-src-x-onerror-window-xss-1"
    assert (stored_template.name, stored_template.description, stored_template.prompt) == (
        " ".join(EMOJI[:40].split()),
        RTL,
        HTML,
    )


# --- accounts and API tokens ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "password", "field"),
    [
        ("", PASSWORD, "email"),
        (None, PASSWORD, "email"),
        ("not-an-email", PASSWORD, "email"),
        ("<script>@example.com", PASSWORD, "email"),
        ("a@b.c\x00", PASSWORD, "email"),
        (MEGABYTE + "@example.com", PASSWORD, "email"),
        (["a@example.com"], PASSWORD, "email"),
        ("new@example.com", "", "password"),
        ("new@example.com", "short", "password"),
        ("new@example.com", MEGABYTE, "password"),
        ("new@example.com", None, "password"),
        ("new@example.com", 12345678901234, "password"),
    ],
)
def test_a_bad_sign_up_names_its_field_and_writes_nothing(
    email: object, password: object, field: str
) -> None:
    refused(lambda: auth.sign_up(email, password, client_address="typing"), field=field)


@pytest.mark.parametrize(
    "name", ["", "   ", None, MEGABYTE, "x" * 81, "tab\x00", "esc\x1b", 7, ["ci"]]
)
def test_a_bad_api_token_name_is_refused(name: object) -> None:
    viewer = _member()
    error = refused(lambda: api_tokens.create_token(viewer, name, password=PASSWORD), field="name")
    assert "token name" in error.message


def test_an_api_token_name_with_html_is_kept_exactly() -> None:
    viewer = _member()
    created = api_tokens.create_token(viewer, HTML[:80], password=PASSWORD)
    assert created.view.name == HTML[:80].strip()
    assert [t.name for t in api_tokens.list_tokens(viewer)] == [HTML[:80].strip()]
