"""Chat completions for prompt enhancement, through OpenAI or Gemini.

(Hugging Face's lives beside its image adapter: `huggingface_provider.hf_chat`.)
Each makes one attempt — SDK retries off — and raises the shared taxonomy.
"""

from __future__ import annotations

import logging

import openai
from google import genai
from google.genai import errors as genai_errors
from google.genai import types as genai_types

from studio_app.providers.base import MalformedResponse, ProviderError, Unavailable
from studio_app.providers.http_errors import error_for_status
from studio_app.settings import Settings

log = logging.getLogger(__name__)

Messages = list[dict[str, str]]


async def openai_chat(settings: Settings, messages: Messages, *, timeout: float) -> str:
    client = openai.AsyncOpenAI(
        api_key=settings.openai_api_key,
        base_url=settings.openai_base_url or None,
        max_retries=0,
        timeout=timeout,
    )
    try:
        completion = await client.chat.completions.create(
            model=settings.openai_chat_model, messages=messages, max_tokens=300
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
    client = genai.Client(
        api_key=settings.gemini_api_key,
        http_options=genai_types.HttpOptions(
            base_url=settings.gemini_base_url or None,
            timeout=int(timeout * 1000),
            retry_options=genai_types.HttpRetryOptions(attempts=1),
        ),
    )
    system = "\n".join(m["content"] for m in messages if m["role"] == "system")
    user = "\n".join(m["content"] for m in messages if m["role"] != "system")
    try:
        response = await client.aio.models.generate_content(
            model=settings.gemini_chat_model,
            contents=user,
            config=genai_types.GenerateContentConfig(
                system_instruction=system or None, max_output_tokens=300
            ),
        )
    except genai_errors.APIError as exc:
        raise error_for_status(
            exc.code or 500, code=str(exc.status or ""), message=str(exc.message or "")
        ) from exc
    except ProviderError:
        raise
    except Exception as exc:  # connection errors, timeouts from the transport
        raise Unavailable(f"Gemini chat: {type(exc).__name__}: {exc}") from exc
    text = response.text if response else None
    if not text:
        raise MalformedResponse("Gemini chat answered without text")
    return text
