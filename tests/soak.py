"""`make soak`: the same fault, load and fuzz tests at a size too slow for `make test`.

Tests read their sizes through `scaled(normal, soak)`; `make soak` sets STUDIO_SOAK=1.
"""

from __future__ import annotations

import os

SOAK = os.environ.get("STUDIO_SOAK") == "1"


def scaled(normal: int, soak: int) -> int:
    return soak if SOAK else normal
