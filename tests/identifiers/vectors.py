"""Loaders for the third-party GS1 vectors in tests/vectors/gs1 (see tests/vectors/SOURCES.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

GS1_VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "gs1"


def load_jsonl(name: str) -> list[dict[str, Any]]:
    """Return the JSON objects of one vector file, one per non-empty line."""
    text = (GS1_VECTORS / name).read_text(encoding="utf-8")
    # split("\n"), not splitlines(): values hold U+0085 and U+2028, which are not line ends here
    return [json.loads(line) for line in text.split("\n") if line.strip()]


def case_id(case: dict[str, Any]) -> str:
    """A readable pytest id: the source file and line the vector was extracted from."""
    return str(case["source"]).rsplit("/", 1)[-1]
