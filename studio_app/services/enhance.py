"""Prompt enhancement: an LLM rewrites a prompt into a richer image prompt.

Backends in order of preference: Hugging Face chat (an instruct model), then
OpenAI, then Gemini — the first one with a key. The whole call, retries
included, gets `enhance_timeout_seconds`; on any failure, or with no LLM
configured, a deterministic offline enhancer answers. Enhancement is free but
rate-limited per user.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlmodel import col, select

from studio_app.models import ImageCategory, ImageTemplate
from studio_app.providers.base import ProviderError
from studio_app.services import throttle
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


def _messages(prompt: str, context: _TemplateContext) -> list[dict[str, str]]:
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


def _llm_backend(settings: Settings) -> tuple[str, Callable[..., Awaitable[str]]] | None:
    # Imported here: the SDKs are heavy and only needed when a key is set.
    if settings.hf_token:
        from studio_app.providers.huggingface_provider import hf_chat

        return f"Hugging Face ({settings.hf_chat_model})", hf_chat
    if settings.openai_api_key:
        from studio_app.providers.chat import openai_chat

        return f"OpenAI ({settings.openai_chat_model})", openai_chat
    if settings.gemini_api_key:
        from studio_app.providers.chat import gemini_chat

        return f"Google Gemini ({settings.gemini_chat_model})", gemini_chat
    return None


async def _ask_llm(
    chat: Callable[..., Awaitable[str]], settings: Settings, messages: list[dict[str, str]]
) -> str:
    for attempt in range(1, _LLM_ATTEMPTS + 1):
        try:
            return await chat(settings, messages, timeout=settings.enhance_timeout_seconds)
        except ProviderError as error:
            if not error.retryable or attempt == _LLM_ATTEMPTS:
                raise
            await asyncio.sleep(min(error.retry_after or 1.0, 3.0))
    raise AssertionError("unreachable")


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
    backend = _llm_backend(settings)
    reason = "No language model is configured on this server."
    if backend is not None:
        name, chat = backend
        try:
            answer = await asyncio.wait_for(
                _ask_llm(chat, settings, _messages(original, context)),
                timeout=settings.enhance_timeout_seconds,
            )
            enhanced = _tidy(answer)
            if enhanced:
                return Enhancement(original, enhanced, name)
            reason = f"{name} answered with nothing usable."
        except TimeoutError:
            reason = f"{name} did not answer in {settings.enhance_timeout_seconds} s."
        except ProviderError as error:
            reason = f"{name}: {error.user_message}"
        log.warning("prompt enhancement fell back: %s", reason)
    return Enhancement(
        original, offline_enhance(original, context.category_slug), OFFLINE_ENHANCER, reason
    )
