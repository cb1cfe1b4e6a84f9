"""Prompt enhancement: LLM backends against wire fakes, the offline fallback, the limit."""

from __future__ import annotations

import time

import pytest

from studio_app.services import enhance
from studio_app.services.errors import InvalidInput
from studio_app.services.throttle import Throttled
from studio_app.settings import Settings, reload_settings
from tests import aio
from tests.factories import make_user
from tests.fakes import gemini_api, openai_api
from tests.fakes.server import FakeResponse, FakeServer

pytestmark = pytest.mark.usefixtures("migrated_db")

RICH = "A red bicycle against a sunlit brick wall, golden hour, 35mm film photo, warm tones"


def _use(monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return reload_settings()


def _openai_chat_answer(text: str) -> FakeResponse:
    return FakeResponse.json(
        {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 1,
            "model": "gpt-4.1-mini",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }
    )


def _gemini_answer(text: str) -> FakeResponse:
    return FakeResponse.json(
        {
            "candidates": [
                {
                    "content": {"role": "model", "parts": [{"text": text}]},
                    "finishReason": "STOP",
                    "index": 0,
                }
            ],
            "modelVersion": "gemini-3.5-flash-lite",
        }
    )


def test_offline_enhancer_adds_only_what_the_prompt_lacks() -> None:
    plain = enhance.offline_enhance("A red bicycle leaning on a wall", "marketing")
    assert plain.startswith("A red bicycle leaning on a wall, ")
    assert "lighting" in plain and "composition" in plain
    rich = enhance.offline_enhance(
        "Studio photo of a mug, soft light, centred composition, warm colour palette, "
        "sharp focus, space for text",
        "e-commerce",
    )
    assert "lighting" not in rich.split("space for text")[-1]
    assert enhance.offline_enhance("x", "education") == enhance.offline_enhance("x", "education")


def test_without_any_llm_the_offline_enhancer_answers_and_says_so() -> None:
    user = make_user()
    result = aio.run(enhance.enhance_prompt(user, "A lighthouse on a cliff"))
    assert result.enhancer == enhance.OFFLINE_ENHANCER
    assert result.enhanced.startswith("A lighthouse on a cliff, ")
    assert "No language model" in result.fallback_reason


def test_openai_chat_rewrites_the_prompt(fake: FakeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    fake.on("POST", r"/chat/completions$", _openai_chat_answer(f'Prompt: "{RICH}"'))
    _use(monkeypatch, OPENAI_API_KEY="sk-test", OPENAI_BASE_URL=f"{fake.url}/v1")
    result = aio.run(enhance.enhance_prompt(make_user(), "a red bike"))
    assert (result.enhanced, result.fallback_reason) == (RICH, "")
    assert result.enhancer.startswith("OpenAI")
    sent = fake.requests_to("/chat/completions")[0]
    assert sent.headers["authorization"] == "Bearer sk-test"
    assert "a red bike" in sent.json()["messages"][1]["content"]


def test_openai_quota_error_falls_back_without_retrying(
    fake: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.on(
        "POST",
        r"/chat/completions$",
        FakeResponse.json(
            {
                "error": {
                    "message": "You exceeded your quota",
                    "type": "insufficient_quota",
                    "param": None,
                    "code": "insufficient_quota",
                }
            },
            status=429,
        ),
    )
    _use(monkeypatch, OPENAI_API_KEY="sk-test", OPENAI_BASE_URL=f"{fake.url}/v1")
    result = aio.run(enhance.enhance_prompt(make_user(), "a red bike"))
    assert result.enhancer == enhance.OFFLINE_ENHANCER
    assert "quota" in result.fallback_reason
    assert len(fake.requests_to("/chat/completions")) == 1


def test_a_transient_llm_error_is_retried_once(
    fake: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.on(
        "POST",
        r"/chat/completions$",
        FakeResponse.json({"error": {"message": "overloaded", "type": "server_error"}}, 503),
        _openai_chat_answer(RICH),
    )
    _use(monkeypatch, OPENAI_API_KEY="sk-test", OPENAI_BASE_URL=f"{fake.url}/v1")
    result = aio.run(enhance.enhance_prompt(make_user(), "a red bike"))
    assert result.enhanced == RICH
    assert len(fake.requests_to("/chat/completions")) == 2


def test_gemini_chat_rewrites_the_prompt(fake: FakeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    fake.on("POST", r"gemini-3.5-flash-lite:generateContent$", _gemini_answer(RICH))
    _use(monkeypatch, GEMINI_API_KEY="g-test", GEMINI_BASE_URL=fake.url)
    result = aio.run(enhance.enhance_prompt(make_user(), "a red bike"))
    assert result.enhanced == RICH
    assert result.enhancer.startswith("Google Gemini")
    sent = fake.requests_to("generateContent")[0]
    assert sent.headers["x-goog-api-key"] == "g-test"


def test_a_silent_llm_times_out_within_the_budget_and_falls_back(
    fake: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def too_slow(_request: object) -> FakeResponse:
        time.sleep(3)
        return _gemini_answer(RICH)

    fake.on("POST", r"generateContent$", too_slow)
    _use(
        monkeypatch,
        GEMINI_API_KEY="g-test",
        GEMINI_BASE_URL=fake.url,
        STUDIO_ENHANCE_TIMEOUT_SECONDS="2",
    )
    result = aio.run(enhance.enhance_prompt(make_user(), "a red bike"))
    assert result.enhancer == enhance.OFFLINE_ENHANCER
    assert "did not answer within 2 s" in result.fallback_reason


def test_a_dropped_connection_falls_back(fake: FakeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    fake.on("POST", r"generateContent$", FakeResponse(drop=True))
    _use(monkeypatch, GEMINI_API_KEY="g-test", GEMINI_BASE_URL=fake.url)
    result = aio.run(enhance.enhance_prompt(make_user(), "a red bike"))
    assert result.enhancer == enhance.OFFLINE_ENHANCER
    assert "not answering" in result.fallback_reason


def test_enhancement_is_rate_limited_per_user(monkeypatch: pytest.MonkeyPatch) -> None:
    _use(monkeypatch, STUDIO_ENHANCEMENTS_PER_MINUTE="3")
    busy, other = make_user(), make_user()
    for _ in range(3):
        aio.run(enhance.enhance_prompt(busy, "a red bike"))
    with pytest.raises(Throttled) as limited:
        aio.run(enhance.enhance_prompt(busy, "a red bike"))
    assert 1 <= limited.value.retry_after <= 61
    assert aio.run(enhance.enhance_prompt(other, "a red bike")).enhanced


def test_bad_prompts_are_refused() -> None:
    with pytest.raises(InvalidInput):
        aio.run(enhance.enhance_prompt(make_user(), "   "))


# --- the chain: the chosen LLM, the other configured ones, the offline enhancer ----------

_BOTH = {
    "OPENAI_API_KEY": "sk-test",
    "GEMINI_API_KEY": "g-test",
}


def _both(fake: FakeServer, monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    return _use(
        monkeypatch,
        OPENAI_BASE_URL=f"{fake.url}/v1",
        GEMINI_BASE_URL=fake.url,
        **_BOTH,
        **env,
    )


def test_the_chosen_llm_is_asked_first(fake: FakeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    fake.on("POST", r"/chat/completions$", openai_api.chat_answer("From OpenAI"))
    fake.on("POST", r"generateContent$", gemini_api.text_answer(RICH))
    _both(fake, monkeypatch, STUDIO_ENHANCE_PROVIDER="gemini")
    result = aio.run(enhance.enhance_prompt(make_user(), "a red bike"))
    assert (result.enhanced, result.enhancer) == (RICH, "Google Gemini (gemini-3.5-flash-lite)")
    assert fake.requests_to("/chat/completions") == []


def test_when_the_chosen_llm_fails_the_next_configured_one_answers(
    fake: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.on("POST", r"generateContent$", gemini_api.free_tier_has_no_image_quota())
    fake.on("POST", r"/chat/completions$", openai_api.chat_answer(RICH))
    _both(fake, monkeypatch, STUDIO_ENHANCE_PROVIDER="gemini")
    result = aio.run(enhance.enhance_prompt(make_user(), "a red bike"))
    assert (result.enhanced, result.enhancer) == (RICH, "OpenAI (gpt-6-luna)")
    assert len(fake.requests_to("generateContent")) == 1  # a quota is not retried
    assert len(fake.requests_to("/chat/completions")) == 1


def test_one_budget_covers_the_whole_chain(
    fake: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def too_slow(_request: object) -> FakeResponse:
        time.sleep(3)
        return gemini_api.text_answer(RICH)

    fake.on("POST", r"generateContent$", too_slow)
    fake.on("POST", r"/chat/completions$", openai_api.chat_answer("From OpenAI"))
    _both(fake, monkeypatch, STUDIO_ENHANCE_PROVIDER="gemini", STUDIO_ENHANCE_TIMEOUT_SECONDS="2")
    result = aio.run(enhance.enhance_prompt(make_user(), "a red bike"))
    # Gemini used the whole budget: OpenAI is not asked, the offline enhancer answers.
    assert result.enhancer == enhance.OFFLINE_ENHANCER
    assert "Google Gemini (gemini-3.5-flash-lite) did not answer within 2 s." in (
        result.fallback_reason
    )
    assert "OpenAI (gpt-6-luna): no time left" in result.fallback_reason
    assert fake.requests_to("/chat/completions") == []


def test_every_llm_failing_still_enhances_offline(
    fake: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.on("POST", r"generateContent$", gemini_api.free_tier_has_no_image_quota())
    fake.on("POST", r"/chat/completions$", openai_api.insufficient_quota())
    _both(fake, monkeypatch)
    result = aio.run(enhance.enhance_prompt(make_user(), "a red bike"))
    assert result.enhancer == enhance.OFFLINE_ENHANCER
    assert result.enhanced.startswith("a red bike, ")
    assert result.fallback_reason.count("quota") == 2
