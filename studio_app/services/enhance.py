"""Prompt enhancement: an LLM rewrites a prompt into a richer image prompt.

The LLMs are the providers' own `chat()` (providers/base.py `ChatProvider`), asked in
a chain: the one `STUDIO_ENHANCE_PROVIDER` names, then the other configured ones, then
a deterministic offline enhancer — so one provider's failure never blocks enhancement.
The whole chain, retries included (services/provider_calls.py, the policy generation
uses), gets `enhance_timeout_seconds`. Enhancement is free but rate-limited per user.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from typing import cast

from sqlmodel import col, select

from studio_app.models import ImageCategory, ImageTemplate
from studio_app.providers.base import ChatProvider, Messages, ProviderError
from studio_app.providers.registry import get_provider
from studio_app.services import provider_calls, throttle
from studio_app.services.db import read_session
from studio_app.services.validation import MAX_PROMPT_CHARS, clean_prompt
from studio_app.settings import Settings, get_settings

log = logging.getLogger(__name__)

OFFLINE_ENHANCER = "Studio offline enhancer"
_THROTTLE_KIND = "enhance"
_LLM_ATTEMPTS = 2

SYSTEM_PROMPT = (
    "You rewrite prompts for an AI image generator. Keep the user's subject and intent. "
    "Add concrete visual detail: subject, setting, style, lighting, colour palette, "
    "composition and camera or medium. Stay under 120 words. Answer with the improved "
    "prompt only: no preamble, no quotes, no lists, no explanations."
)

# Style cues per category. A cue is added only when the prompt says nothing about
# its topic yet (any of the topic words), so the enhancer never repeats the user.
_TOPICS = {
    "lighting": ("light", "lit", "sun", "glow", "shadow"),
    "composition": ("composition", "layout", "centered", "centred", "framing", "flat lay"),
    "detail": ("detail", "sharp", "focus", "resolution", "crisp"),
    "palette": ("colour", "color", "palette", "tones", "hue"),
    "style": ("style", "photo", "illustration", "painting", "render", "vector", "art"),
    "space": ("space for", "room for", "negative space", "copy space"),
}
_CATEGORY_CUES = {
    "marketing": {
        "style": "polished commercial photography",
        "lighting": "soft studio lighting with gentle rim light",
        "composition": "clean, uncluttered composition",
        "palette": "confident brand-ready colour palette",
        "space": "clear space for a headline",
        "detail": "crisp detail",
    },
    "social-media": {
        "style": "scroll-stopping social media visual",
        "lighting": "bright natural light",
        "composition": "bold, centred composition that reads at phone size",
        "palette": "vibrant, cohesive colours",
        "detail": "sharp focus",
    },
    "e-commerce": {
        "style": "professional product photography",
        "lighting": "even softbox lighting with a natural shadow",
        "composition": "product as the clear hero of the frame",
        "detail": "true-to-life texture and sharp focus",
        "palette": "accurate, neutral colours",
    },
    "education": {
        "style": "clear, friendly educational illustration",
        "composition": "simple layout that explains at a glance",
        "palette": "bright, high-contrast colours",
        "detail": "clean lines, no clutter",
    },
    "creative": {
        "style": "richly imagined digital painting",
        "lighting": "atmospheric, dramatic lighting",
        "composition": "cinematic composition with depth",
        "palette": "harmonious, evocative palette",
        "detail": "intricate detail",
    },
}
_DEFAULT_CUES = {
    "style": "high-quality image",
    "lighting": "natural, flattering light",
    "composition": "balanced composition",
    "detail": "sharp focus and fine detail",
}


@dataclass(frozen=True)
class Enhancement:
    original: str
    enhanced: str
    enhancer: str
    # Why the offline enhancer answered instead of an LLM ("" when an LLM answered).
    fallback_reason: str = ""


@dataclass(frozen=True)
class _TemplateContext:
    category_slug: str = ""
    category_name: str = ""
    template_name: str = ""
    template_description: str = ""


def _template_context(template_id: int | None) -> _TemplateContext:
    if template_id is None:
        return _TemplateContext()
    with read_session() as db:
        row = db.exec(
            select(ImageTemplate, ImageCategory)
            .join(ImageCategory, col(ImageCategory.id) == ImageTemplate.category_id)
            .where(ImageTemplate.id == template_id)
        ).first()
    if row is None:
        return _TemplateContext()
    template, category = row
    return _TemplateContext(category.slug, category.name, template.name, template.description)


def offline_enhance(prompt: str, category_slug: str = "") -> str:
    """Add the category's style cues for the topics the prompt does not cover yet."""
    lowered = prompt.lower()
    cues = _CATEGORY_CUES.get(category_slug, _DEFAULT_CUES)
    missing = [
        cue
        for topic, cue in cues.items()
        if not any(re.search(rf"\b{re.escape(word)}", lowered) for word in _TOPICS[topic])
    ]
    base = prompt.strip().rstrip(".,;")
    if not missing:
        return base
    return f"{base}, {', '.join(missing)}"[:MAX_PROMPT_CHARS]


def _messages(prompt: str, context: _TemplateContext) -> Messages:
    intent = ""
    if context.template_name:
        intent = (
            f"\nThe user started from the template '{context.template_name}' "
            f"({context.template_description}) in the {context.category_name} category; "
            "keep that purpose."
        )
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": f"Prompt to improve:\n{prompt}{intent}"},
    ]


def _tidy(answer: str) -> str:
    text = answer.strip()
    text = re.sub(r"^(improved|enhanced)?\s*prompt\s*:\s*", "", text, flags=re.IGNORECASE)
    text = text.strip().strip('"“”').strip()
    return " ".join(text.split())[:MAX_PROMPT_CHARS]


CHAT_PROVIDERS = ("openai", "gemini", "huggingface")
"""The providers that can chat, in the order they are asked when no setting chooses."""

_MIN_ATTEMPT_S = 0.5  # less budget than this left: not worth asking another LLM


def chat_chain(settings: Settings) -> list[ChatProvider]:
    """The configured chat providers, the chosen one (STUDIO_ENHANCE_PROVIDER) first."""
    names = list(CHAT_PROVIDERS)
    if settings.enhance_provider:
        names.remove(settings.enhance_provider)
        names.insert(0, settings.enhance_provider)
    chain = []
    for name in names:
        provider = get_provider(name)
        if provider is not None and provider.is_configured():
            chain.append(cast("ChatProvider", provider))
    return chain


def enhancer_name(provider: ChatProvider) -> str:
    return f"{provider.label} ({provider.chat_model})"


async def _ask(provider: ChatProvider, messages: Messages, budget_s: float) -> str:
    """One provider's answer within `budget_s`, retried only where that cannot bill twice.

    The outer deadline is the one that fires (TimeoutError); the inner ones are looser
    only so that they never race it.
    """
    inner_s = budget_s + 1.0
    return await asyncio.wait_for(
        provider_calls.call_with_retries(
            f"enhance {provider.name}",
            lambda: provider.chat(messages, timeout=inner_s),
            timeout=inner_s,
            attempts=_LLM_ATTEMPTS,
            max_wait=min(3.0, budget_s / 4),
        ),
        timeout=budget_s,
    )


async def _ask_chain(
    chain: list[ChatProvider], messages: Messages, budget_s: float
) -> tuple[str, str, list[str]]:
    """(answer, enhancer, reasons the earlier ones failed); answer "" when none answered."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + budget_s
    reasons: list[str] = []
    for provider in chain:
        left = deadline - loop.time()
        name = enhancer_name(provider)
        if left < _MIN_ATTEMPT_S:
            reasons.append(f"{name}: no time left within {budget_s:g} s.")
            continue
        try:
            enhanced = _tidy(await _ask(provider, messages, left))
        except TimeoutError:
            reasons.append(f"{name} did not answer within {budget_s:g} s.")
            continue
        except ProviderError as error:
            reasons.append(f"{name}: {error.user_message}")
            continue
        if enhanced:
            return enhanced, name, reasons
        reasons.append(f"{name} answered with nothing usable.")
    return "", "", reasons


async def enhance_prompt(
    user_id: int, prompt: object, *, template_id: int | None = None
) -> Enhancement:
    """The enhanced prompt and who wrote it. Raises InvalidInput or throttle.Throttled."""
    settings = get_settings()
    original = clean_prompt(prompt)
    throttle.take(
        _THROTTLE_KIND,
        str(user_id),
        limit=settings.enhancements_per_minute,
        window_s=60,
        what="prompt enhancements a minute",
    )
    context = _template_context(template_id)
    chain = chat_chain(settings)
    if not chain:
        reasons = ["No language model is configured on this server."]
    else:
        budget = float(settings.enhance_timeout_seconds)
        enhanced, name, reasons = await _ask_chain(chain, _messages(original, context), budget)
        for reason in reasons:
            log.warning("prompt enhancement: %s", reason)
        if enhanced:
            return Enhancement(original, enhanced, name)
    return Enhancement(
        original,
        offline_enhance(original, context.category_slug),
        OFFLINE_ENHANCER,
        " ".join(reasons),
    )
