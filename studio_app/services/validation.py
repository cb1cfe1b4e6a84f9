"""Checks of text that people type, shared by every service."""

from __future__ import annotations

import unicodedata

from studio_app.services.errors import InvalidInput

MAX_PROMPT_CHARS = 2000


def clean_text(value: object, *, field: str, label: str, limit: int, required: bool) -> str:
    """Trimmed text, or InvalidInput naming the field: not text, empty, too long, control chars."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(f"The {label} must be text.", field=field)
    text = value.strip()
    if required and not text:
        raise InvalidInput(f"Write a {label} first.", field=field)
    if len(text) > limit:
        raise InvalidInput(f"The {label} can be at most {limit} characters.", field=field)
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\t" for ch in text):
        raise InvalidInput(f"The {label} contains control characters.", field=field)
    return text


def clean_prompt(value: object) -> str:
    return clean_text(value, field="prompt", label="prompt", limit=MAX_PROMPT_CHARS, required=True)
