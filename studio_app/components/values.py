"""Helpers for vars the type checker cannot type on its own."""

from __future__ import annotations

from typing import Any, cast

import reflex as rx


def match_value(condition: Any, *cases: Any) -> rx.Var:
    """`rx.match` whose cases are values (text, colours), not components.

    Reflex 0.10 types every `rx.match` as `Component | Var`; with value cases it makes a Var.
    """
    return cast(rx.Var, rx.match(condition, *cases))
