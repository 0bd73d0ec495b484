"""The GS1 Barcode Syntax Dictionary: per-AI rules that biip does not carry.

``gs1-syntax-dictionary.txt`` next to this module is the GS1 Barcode Syntax Dictionary,
release 2026-01-27, copied unchanged from ``gs1/gs1-syntax-engine`` @ 50657dbd,
``src/c-lib/gs1-syntax-dictionary.txt`` (Apache-2.0; its header holds the copyright and
licence notice). Its format is described in that header. We read it for what biip lacks:
Digital Link key qualifiers (``dlpkey``), check-digit positions (``csum``), dates that may
not use day ``00`` (``yymmdd``), AIs allowed as Digital Link data attributes (``?``) and
the AI pairing rules (``ex=`` and ``req=``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Final

_FLAG_CHARACTERS: Final = set("*!?\"$%&'()+,-./:;<=>@[\\]^_`{|}~")
_COMPONENT = re.compile(r"(\[)?([NXYZ])(\d*)(?:\.\.(\d+))?(\])?((?:,\w+)*)")


@dataclass(frozen=True)
class Component:
    """One part of an AI's data: type, length range, whether optional, and its linters."""

    kind: str
    min_length: int
    max_length: int
    optional: bool
    linters: tuple[str, ...]


@dataclass(frozen=True)
class SyntaxEntry:
    """The dictionary's rules for one AI."""

    ai: str
    title: str
    predefined_length: bool
    dl_data_attribute: bool
    components: tuple[Component, ...]
    # Each ``req=`` attribute must be met by one of its alternatives; an alternative is a
    # group of AI patterns ("01+21") that must all be present. "n" matches any digit.
    requires: tuple[tuple[tuple[str, ...], ...], ...]
    excludes: tuple[str, ...]
    # ``None`` unless the AI is a Digital Link primary key; then its qualifier sequences.
    dl_qualifier_sequences: tuple[tuple[str, ...], ...] | None

    def linter_spans(self, linter: str) -> list[tuple[int, int]]:
        """Offsets ``(start, end)`` of the fixed-position components checked by ``linter``."""
        spans = []
        offset = 0
        for component in self.components:
            if linter in component.linters and component.min_length == component.max_length:
                spans.append((offset, offset + component.max_length))
            if component.min_length != component.max_length:
                break  # later offsets are not fixed
            offset += component.max_length
        return spans


@cache
def syntax_dictionary() -> dict[str, SyntaxEntry]:
    """Return the dictionary's entries by AI (ranges such as ``3100-3105`` expanded)."""
    text = resources.files(__package__).joinpath("gs1-syntax-dictionary.txt").read_text("utf-8")
    entries: dict[str, SyntaxEntry] = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        for entry in _parse_line(line):
            entries[entry.ai] = entry
    return entries


def ai_matches(pattern: str, ai: str) -> bool:
    """Tell whether ``ai`` matches a dictionary pattern such as ``31nn`` (n = any digit)."""
    return len(pattern) == len(ai) and all(
        expected == actual or (expected == "n" and actual.isdigit())
        for expected, actual in zip(pattern, ai, strict=True)
    )


def _parse_line(line: str) -> list[SyntaxEntry]:
    rules, _, title = line.partition("#")
    tokens = rules.split()
    ais = _expand(tokens.pop(0))
    flags = tokens.pop(0) if tokens and set(tokens[0]) <= _FLAG_CHARACTERS else ""
    components: list[Component] = []
    requires: list[tuple[tuple[str, ...], ...]] = []
    excludes: list[str] = []
    dl_sequences: tuple[tuple[str, ...], ...] | None = None
    for token in tokens:
        match = _COMPONENT.fullmatch(token)
        if match:
            components.append(_component(match))
        elif token.startswith("req="):
            alternatives = token.removeprefix("req=").split(",")
            requires.append(tuple(tuple(group.split("+")) for group in alternatives))
        elif token.startswith("ex="):
            excludes.extend(token.removeprefix("ex=").split(","))
        elif token == "dlpkey":
            dl_sequences = ((),)
        elif token.startswith("dlpkey="):
            sequences = token.removeprefix("dlpkey=").split("|")
            dl_sequences = tuple(tuple(sequence.split(",")) for sequence in sequences)
    return [
        SyntaxEntry(
            ai=ai,
            title=title.strip(),
            predefined_length="*" in flags,
            dl_data_attribute="?" in flags,
            components=tuple(components),
            requires=tuple(requires),
            excludes=tuple(excludes),
            dl_qualifier_sequences=dl_sequences,
        )
        for ai in ais
    ]


def _expand(ais: str) -> list[str]:
    first, _, last = ais.partition("-")
    if not last:
        return [first]
    return [str(number).zfill(len(first)) for number in range(int(first), int(last) + 1)]


def _component(match: re.Match[str]) -> Component:
    open_bracket, kind, length, max_length, _, linters = match.groups()
    if max_length:  # "X..20": 1 to 20 characters
        low, high = 1, int(max_length)
    else:
        low = high = int(length)
    return Component(
        kind=kind,
        min_length=low,
        max_length=high,
        optional=bool(open_bracket),
        linters=tuple(linter for linter in linters.split(",") if linter),
    )
