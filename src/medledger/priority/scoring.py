"""Priority scoring: a versioned rule set (plain data) turns order-line facts into scores.

A :class:`RuleSet` is a list of :class:`Factor` s. Each factor reads one fact column and maps
it to points with a shape (``linear``, ``log``, ``ramp``, ``category``, ``flag``), then
multiplies by its ``weight``. A line's score is the sum of its factor contributions, added in
rule-set order, so every score is explained exactly by its contributions (:func:`explain`).

Facts come as numpy columns (:class:`OrderLineFacts`): floats with NaN for "unknown", booleans,
or small integer codes for categories (with the column's vocabulary). Scoring is a handful of
vectorised passes; ranking packs (score, line index) into one 64-bit key and sorts that, so
ties go to the earlier line and no second sort key is needed.

Rule sets serialise to canonical JSON (:meth:`RuleSet.to_json`) with a SHA-256 ``digest`` —
what persistence stores per version and what an activation e-signature is bound to.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from medledger.priority.errors import RuleSetError

FactorKind = Literal["linear", "log", "ramp", "category", "flag"]
FACTOR_KINDS: tuple[FactorKind, ...] = ("linear", "log", "ramp", "category", "flag")
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Factor:
    """One scoring factor.

    * ``linear``: points = value, capped to ``[floor, cap]`` when given;
    * ``log``: points = ln(1 + max(value, 0)), capped likewise (order value: diminishing);
    * ``ramp``: points interpolated over ``breakpoints`` ``[(value, points), …]`` (constant
      beyond the ends) — urgency by days to surgery, due-date slack, transit days;
    * ``category``: points per label in ``points`` (labels not listed: ``missing``);
    * ``flag``: ``points["true"]`` when the fact is true, else 0 (QC hold, compliance block).

    The contribution is ``weight × points``; an unknown fact (NaN) gives ``weight × missing``.
    """

    key: str
    kind: FactorKind
    column: str
    weight: float
    label: str = ""
    cap: float | None = None
    floor: float | None = None
    breakpoints: tuple[tuple[float, float], ...] = ()
    points: Mapping[str, float] = field(default_factory=dict)
    missing: float = 0.0

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "key": self.key,
            "label": self.label,
            "kind": self.kind,
            "column": self.column,
            "weight": self.weight,
            "missing": self.missing,
        }
        if self.cap is not None:
            document["cap"] = self.cap
        if self.floor is not None:
            document["floor"] = self.floor
        if self.breakpoints:
            document["breakpoints"] = [list(point) for point in self.breakpoints]
        if self.points:
            document["points"] = dict(sorted(self.points.items()))
        return document


@dataclass(frozen=True)
class RuleSet:
    """A named, versioned list of factors (stored as JSON, activated by an e-signature)."""

    name: str
    version: int
    factors: tuple[Factor, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "factors": [factor.to_json() for factor in self.factors],
        }

    def digest(self) -> str:
        """SHA-256 of the canonical JSON: identifies this exact rule-set version."""
        canonical = json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(factor.key for factor in self.factors)


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise RuleSetError(where, "must be a finite number")
    return float(value)


def rule_set_from_json(document: Any) -> RuleSet:
    """Validate a rule-set document; errors name the field (``factors[2].breakpoints``)."""
    if not isinstance(document, Mapping):
        raise RuleSetError("rule_set", "must be an object")
    name = document.get("name")
    if not isinstance(name, str) or not name:
        raise RuleSetError("name", "must be a non-empty string")
    version = document.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise RuleSetError("version", "must be a positive integer")
    raw_factors = document.get("factors")
    if not isinstance(raw_factors, list) or not raw_factors:
        raise RuleSetError("factors", "must be a non-empty list")
    factors: list[Factor] = []
    seen: set[str] = set()
    for n, raw in enumerate(raw_factors):
        where = f"factors[{n}]"
        if not isinstance(raw, Mapping):
            raise RuleSetError(where, "must be an object")
        key, column = raw.get("key"), raw.get("column")
        if not isinstance(key, str) or not key:
            raise RuleSetError(f"{where}.key", "must be a non-empty string")
        if key in seen:
            raise RuleSetError(f"{where}.key", f"duplicate factor {key!r}")
        seen.add(key)
        if not isinstance(column, str) or not column:
            raise RuleSetError(f"{where}.column", "must be a non-empty string")
        kind = raw.get("kind")
        if kind not in FACTOR_KINDS:
            raise RuleSetError(f"{where}.kind", "must be one of " + ", ".join(FACTOR_KINDS))
        breakpoints: list[tuple[float, float]] = []
        if kind == "ramp":
            raw_points = raw.get("breakpoints")
            if not isinstance(raw_points, list) or len(raw_points) < 2:
                raise RuleSetError(f"{where}.breakpoints", "needs at least two [value, points]")
            for m, pair in enumerate(raw_points):
                if not isinstance(pair, list) or len(pair) != 2:
                    raise RuleSetError(f"{where}.breakpoints[{m}]", "must be [value, points]")
                breakpoints.append(
                    (
                        _number(pair[0], f"{where}.breakpoints[{m}][0]"),
                        _number(pair[1], f"{where}.breakpoints[{m}][1]"),
                    )
                )
            xs = [x for x, _ in breakpoints]
            if any(b <= a for a, b in itertools.pairwise(xs)):
                raise RuleSetError(f"{where}.breakpoints", "values must increase strictly")
        points: dict[str, float] = {}
        if kind in ("category", "flag"):
            raw_map = raw.get("points")
            if not isinstance(raw_map, Mapping) or not raw_map:
                raise RuleSetError(f"{where}.points", "must map labels to points")
            for label, value in raw_map.items():
                points[str(label)] = _number(value, f"{where}.points.{label}")
            if kind == "flag" and set(points) != {"true"}:
                raise RuleSetError(f"{where}.points", 'a flag has exactly {"true": points}')
        cap = raw.get("cap")
        floor = raw.get("floor")
        factors.append(
            Factor(
                key=key,
                kind=kind,
                column=column,
                weight=_number(raw.get("weight"), f"{where}.weight"),
                label=str(raw.get("label", "")),
                cap=None if cap is None else _number(cap, f"{where}.cap"),
                floor=None if floor is None else _number(floor, f"{where}.floor"),
                breakpoints=tuple(breakpoints),
                points=points,
                missing=_number(raw.get("missing", 0.0), f"{where}.missing"),
            )
        )
    return RuleSet(name=name, version=version, factors=tuple(factors))


@dataclass(frozen=True)
class OrderLineFacts:
    """Fact columns of ``n`` order lines.

    ``columns`` maps a fact name to a numpy array of length ``n``: float (NaN = unknown), bool,
    or integer codes into ``vocabularies[name]`` (code −1 = unknown) for category facts.
    """

    n: int
    columns: Mapping[str, np.ndarray]
    vocabularies: Mapping[str, Sequence[str]] = field(default_factory=dict)

    def column(self, name: str, factor: str) -> np.ndarray:
        found = self.columns.get(name)
        if found is None:
            raise RuleSetError(f"{factor}.column", f"no fact column {name!r}")
        if len(found) != self.n:
            raise RuleSetError(f"{factor}.column", f"fact column {name!r} has the wrong length")
        return found


def _contribution(factor: Factor, facts: OrderLineFacts) -> FloatArray:
    values = facts.column(factor.column, factor.key)
    if factor.kind == "category":
        vocabulary = facts.vocabularies.get(factor.column)
        if vocabulary is None:
            raise RuleSetError(f"{factor.key}.column", f"{factor.column!r} has no vocabulary")
        # One extra slot at the end for code −1 (unknown).
        table = np.array(
            [factor.points.get(label, factor.missing) for label in vocabulary] + [factor.missing],
            dtype=np.float64,
        )
        return table[values] * factor.weight
    if factor.kind == "flag":
        return np.where(values.astype(bool), factor.points["true"] * factor.weight, 0.0)
    numeric = values.astype(np.float64, copy=False)
    if factor.kind == "ramp":
        xs = np.array([x for x, _ in factor.breakpoints])
        ys = np.array([y for _, y in factor.breakpoints])
        points = np.interp(numeric, xs, ys)
    elif factor.kind == "log":
        points = np.log1p(np.maximum(numeric, 0.0))
    else:
        points = numeric.copy()
    if factor.kind != "ramp" and (factor.cap is not None or factor.floor is not None):
        np.clip(points, factor.floor, factor.cap, out=points)
    unknown = np.isnan(numeric)
    if unknown.any():
        points[unknown] = factor.missing
    points *= factor.weight
    return points


@dataclass(frozen=True)
class Scores:
    """Scores of every line, and (if asked) the contribution of each factor."""

    rule_set: RuleSet
    total: FloatArray
    contributions: FloatArray | None  # shape (n, factors), columns in rule-set order

    def explain(self, line: int) -> list[tuple[str, float]]:
        """(factor key, contribution) of one line; adding them in order gives its score."""
        if self.contributions is None:
            raise ValueError("scores were computed without explanations")
        row = self.contributions[line].tolist()
        return list(zip(self.rule_set.keys, row, strict=True))


def score_lines(rule_set: RuleSet, facts: OrderLineFacts, *, explain: bool = False) -> Scores:
    """Score every line: the sum, in rule-set order, of each factor's contribution."""
    total = np.zeros(facts.n, dtype=np.float64)
    contributions = (
        np.empty((facts.n, len(rule_set.factors)), dtype=np.float64) if explain else None
    )
    for number, factor in enumerate(rule_set.factors):
        part = _contribution(factor, facts)
        # Added in rule-set order, one factor at a time: Python's left-to-right sum of a line's
        # contributions gives exactly the same float.
        total += part
        if contributions is not None:
            contributions[:, number] = part
    total += 0.0  # −0.0 → 0.0, so the ranking key sees one zero
    return Scores(rule_set=rule_set, total=total, contributions=contributions)


def rank_lines(scores: FloatArray) -> IntArray:
    """Line indexes by score descending, ties by index ascending (exactly).

    One sort of a 64-bit key: the order-preserving bits of the negated score in the high bits,
    the line index in the low ``b`` bits (``2^b ≥ n``). The key keeps only the top ``64 − b``
    bits of the score (≥ 32 mantissa bits for up to 2^20 lines), so the few runs of lines whose
    scores agree to that precision are re-sorted exactly afterwards (score, then index).
    """
    n = len(scores)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    bits = max(1, (n - 1).bit_length())
    values = np.ascontiguousarray(scores, dtype=np.float64)
    raw = values.view(np.uint64)
    sign = np.uint64(1 << 63)
    # Order-preserving map of IEEE doubles to unsigned integers, inverted for "descending".
    descending = ~np.where(raw & sign, ~raw, raw | sign)
    shift = np.uint64(bits)
    keys = ((descending >> shift) << shift) | np.arange(n, dtype=np.uint64)
    keys.sort()
    order = (keys & np.uint64((1 << bits) - 1)).astype(np.int64)
    truncated = keys >> shift
    same = truncated[1:] == truncated[:-1]
    if same.any():
        in_run = np.zeros(n, dtype=np.bool_)
        in_run[1:] |= same
        in_run[:-1] |= same
        positions = np.flatnonzero(in_run)
        run = np.cumsum(np.concatenate([[True], ~same]))[positions]
        lines = order[positions]
        order[positions] = lines[np.lexsort((lines, -values[lines], run))]
    return order


def default_rule_set() -> RuleSet:
    """Version 1 of the hub's default rules: every factor of issue 15, with plain weights."""
    return rule_set_from_json(DEFAULT_RULE_SET)


DEFAULT_RULE_SET: dict[str, Any] = {
    "name": "default",
    "version": 1,
    "factors": [
        {
            "key": "customer_tier",
            "label": "Customer tier",
            "kind": "category",
            "column": "customer_tier",
            "weight": 1.0,
            "points": {"strategic": 30, "key": 20, "standard": 10, "occasional": 0},
        },
        {
            "key": "contract_penalty",
            "label": "Contract penalty per day late",
            "kind": "log",
            "column": "penalty_per_day",
            "weight": 4.0,
            "cap": 8.0,
        },
        {
            "key": "clinical_urgency",
            "label": "Scheduled surgery",
            "kind": "ramp",
            "column": "days_to_surgery",
            "weight": 1.0,
            "breakpoints": [[0, 40], [2, 40], [14, 10], [30, 0]],
        },
        {
            "key": "due_date_slack",
            "label": "Days of slack to the due date",
            "kind": "ramp",
            "column": "slack_days",
            "weight": 1.0,
            "breakpoints": [[-10, 25], [0, 20], [7, 5], [21, 0]],
        },
        {
            "key": "order_value",
            "label": "Line value",
            "kind": "log",
            "column": "line_value",
            "weight": 1.5,
            "cap": 14.0,
        },
        {
            "key": "regional_availability",
            "label": "Other authorised stock in the region (weeks of demand)",
            "kind": "ramp",
            "column": "regional_cover_weeks",
            "weight": 1.0,
            "breakpoints": [[0, 10], [4, 0]],
        },
        {
            "key": "stock_status",
            "label": "Stock status of the product",
            "kind": "category",
            "column": "stock_status",
            "weight": 1.0,
            "points": {"available": 0, "scarce": 5, "short": 8},
        },
        {
            "key": "transport_time",
            "label": "Transit days to the ship-to",
            "kind": "ramp",
            "column": "transit_days",
            "weight": 1.0,
            "breakpoints": [[0, 0], [10, 6]],
        },
        {
            "key": "qc_compliance",
            "label": "Blocked by a QC hold or missing authorisation",
            "kind": "flag",
            "column": "blocked",
            "weight": 1.0,
            "points": {"true": -50},
        },
        {
            "key": "order_age",
            "label": "Days since the order was placed",
            "kind": "linear",
            "column": "age_days",
            "weight": 0.5,
            "floor": 0.0,
            "cap": 15.0,
        },
    ],
}
