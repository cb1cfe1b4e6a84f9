"""Chat completions for prompt enhancement, through OpenAI or Gemini.

(Hugging Face's lives beside its image adapter: `huggingface_provider.hf_chat`;
Gemini's uses the image adapter's client: `GeminiProvider.chat`.)
Each makes one attempt — SDK retries off — and raises the shared taxonomy.
"""

from __future__ import annotations

import logging

import openai
from openai.types.chat import ChatCompletionMessageParam

from studio_app.providers.base import MalformedResponse, Unavailable
from studio_app.providers.http_errors import error_for_status
from studio_app.settings import Settings

log = logging.getLogger(__name__)

Messages = list[dict[str, str]]
"""A system turn and a user turn: {"role": ..., "content": ...}."""


def _openai_message(message: dict[str, str]) -> ChatCompletionMessageParam:
    # The SDK types each role's message apart; ours are system and user turns.
    if message["role"] == "system":
        return {"role": "system", "content": message["content"]}
    return {"role": "user", "content": message["content"]}


async def openai_chat(settings: Settings, messages: Messages, *, timeout: float) -> str:
    client = openai.AsyncOpenAI(
        api_key=settings.openai_api_key,
        base_url=settings.openai_base_url or None,
        max_retries=0,
        timeout=timeout,
    )
    try:
        completion = await client.chat.completions.create(
            model=settings.openai_chat_model,
            messages=[_openai_message(message) for message in messages],
            max_tokens=300,
        )
    except openai.APIStatusError as exc:
        body = exc.body if isinstance(exc.body, dict) else {}
        raise error_for_status(
            exc.status_code,
            code=str(body.get("code") or ""),
            message=str(body.get("message") or exc.message),
            retry_after=exc.response.headers.get("retry-after"),
        ) from exc
    except (openai.APIConnectionError, openai.APITimeoutError) as exc:
        raise Unavailable(f"OpenAI chat: {exc}") from exc
    finally:
        await client.close()
    try:
        text = completion.choices[0].message.content
    except (AttributeError, IndexError) as exc:
        raise MalformedResponse("OpenAI chat answered without a message") from exc
    if not text:
        raise MalformedResponse("OpenAI chat answered with empty text")
    return text


async def gemini_chat(settings: Settings, messages: Messages, *, timeout: float) -> str:
    """Through the Gemini provider's own (shared) client and error mapping.

    The caller bounds the time; `settings` are the same the registry built it from.
    """
    from studio_app.providers.gemini_provider import GeminiProvider
    from studio_app.providers.registry import get_provider

    provider = get_provider("gemini")
    if not isinstance(provider, GeminiProvider):
        provider = GeminiProvider(settings)
    return await provider.chat(messages, timeout=timeout)
