"""The codes raised while seeding the demo network."""

from __future__ import annotations

from enum import StrEnum


class Code(StrEnum):
    """Stable codes of the seed package."""

    HISTORY_CAPTURE_FAILED = "seed.history_capture_failed"
