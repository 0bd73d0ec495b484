"""Priority scoring: a versioned rule set (plain data) turns order-line facts into scores.

A :class:`RuleSet` is a list of :class:`Factor` s. Each factor reads one fact column and maps
it to points with a shape (``linear``, ``log``, ``ramp``, ``category``, ``flag``), then
multiplies by its ``weight``. A line's score is the sum of its factor contributions, added in
rule-set order, so every score is explained exactly by its contributions (:func:`explain`).

Facts come as numpy columns (:class:`OrderLineFacts`): floats with NaN for "unknown", booleans,
or small integer codes for categories (with the column's vocabulary). Scoring is a handful of
vectorised float32 passes (scores are float32: ~7 significant digits, ample for a priority);
ranking packs (score, line index) into one 64-bit key and sorts that, so ties go to the
earlier line and no second sort key is needed.

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
Float32Array = npt.NDArray[np.float32]
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

    ``columns`` maps a fact name to a numpy array of length ``n``: float (NaN = unknown; float32
    is the working precision, float64 is converted on each use), bool, or integer codes into
    ``vocabularies[name]`` (−1 = unknown; codes must lie in ``[−1, len)``) for category facts.
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


def _contribute(
    factor: Factor, facts: OrderLineFacts, out: Float32Array, scratch: Float32Array
) -> None:
    """Write the factor's weighted contribution of every line into ``out``.

    Streaming passes into preallocated buffers, weights folded into constants: a million
    lines cost a few milliseconds per factor.
    """
    values = facts.column(factor.column, factor.key)
    weight = factor.weight
    if factor.kind == "category":
        vocabulary = facts.vocabularies.get(factor.column)
        if vocabulary is None:
            raise RuleSetError(f"{factor.key}.column", f"{factor.column!r} has no vocabulary")
        # One extra slot at the end, reached by code −1 (unknown).
        table = np.array(
            [factor.points.get(label, factor.missing) * weight for label in vocabulary]
            + [factor.missing * weight],
            dtype=np.float32,
        )
        np.take(table, values, out=out, mode="wrap")
        return
    if factor.kind == "flag":
        np.multiply(values, factor.points["true"] * weight, out=out)
        return
    numeric = values.astype(np.float32, copy=False)
    if factor.kind == "ramp":
        # Σ_k slope_k · (clip(x, x_k, x_k+1) − x_k) + y_0: np.interp's function (flat beyond
        # the ends) in streaming passes; np.interp searches per element and is ~10× slower.
        base = factor.breakpoints[0][1]
        steps: list[tuple[float, float, float]] = []
        for (x0, y0), (x1, y1) in itertools.pairwise(factor.breakpoints):
            if y1 != y0:
                slope = (y1 - y0) / (x1 - x0)
                steps.append((x0, x1, slope * weight))
                base -= slope * x0
        out.fill(base * weight)
        for x0, x1, slope in steps:
            np.clip(numeric, x0, x1, out=scratch)
            scratch *= slope
            out += scratch
    else:
        if factor.kind == "log":
            np.maximum(numeric, 0.0, out=out)
            np.log1p(out, out=out)
        else:
            np.copyto(out, numeric)
        if factor.cap is not None or factor.floor is not None:
            np.clip(out, factor.floor, factor.cap, out=out)
        out *= weight
    unknown = np.isnan(numeric)
    if unknown.any():
        np.copyto(out, factor.missing * weight, where=unknown)


@dataclass(frozen=True)
class Scores:
    """Scores of every line, and (if asked) the contribution of each factor."""

    rule_set: RuleSet
    total: Float32Array
    contributions: Float32Array | None  # shape (n, factors), columns in rule-set order

    def explain(self, line: int) -> list[tuple[str, float]]:
        """(factor key, contribution) of one line; adding them in order, in float32, gives
        its score exactly."""
        if self.contributions is None:
            raise ValueError("scores were computed without explanations")
        row = self.contributions[line].tolist()
        return list(zip(self.rule_set.keys, row, strict=True))


def score_lines(rule_set: RuleSet, facts: OrderLineFacts, *, explain: bool = False) -> Scores:
    """Score every line: the sum, in rule-set order, of each factor's contribution."""
    total = np.zeros(facts.n, dtype=np.float32)
    # Column-major, so each factor's column is contiguous.
    contributions = (
        np.empty((facts.n, len(rule_set.factors)), dtype=np.float32, order="F") if explain else None
    )
    buffer = np.empty(facts.n, dtype=np.float32)
    scratch = np.empty(facts.n, dtype=np.float32)
    for number, factor in enumerate(rule_set.factors):
        part = contributions[:, number] if contributions is not None else buffer
        _contribute(factor, facts, part, scratch)
        # Added in rule-set order, one factor at a time, in float32: adding a line's
        # contributions left to right in float32 gives exactly its score.
        total += part
    total += 0.0  # −0.0 → 0.0, so the ranking key sees one zero
    return Scores(rule_set=rule_set, total=total, contributions=contributions)


def _rank_float32(values: Float32Array) -> IntArray:
    """float32 scores: the whole score (32 bits) and the index fit one 64-bit key — exact."""
    image = (-values).view(np.int32)
    image ^= (image >> 31) & np.int32(0x7FFFFFFF)
    keys = (image.view(np.uint32) ^ np.uint32(1 << 31)).astype(np.uint64)
    keys <<= np.uint64(32)
    keys |= np.arange(len(values), dtype=np.uint64)
    keys.sort()
    keys &= np.uint64(0xFFFFFFFF)
    return keys.view(np.int64)


def rank_lines(scores: FloatArray | Float32Array) -> IntArray:
    """Line indexes by score descending, ties by index ascending (exactly).

    float32 scores (what :func:`score_lines` gives) sort as one exact 64-bit key.

    float64: one sort of a 64-bit key, the order-preserving bits of the negated score in the
    high bits, the line index in the low ``b`` bits (``2^b ≥ n``). The key keeps only the top
    ``64 − b`` bits of the score (≥ 32 mantissa bits for up to 2^20 lines), so the rare runs
    of lines whose scores agree to that precision but differ are re-sorted exactly afterwards.
    """
    n = len(scores)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if scores.dtype == np.float32 and n <= 2**32:
        return _rank_float32(np.ascontiguousarray(scores))
    bits = max(1, (n - 1).bit_length())
    values = np.ascontiguousarray(scores, dtype=np.float64)
    # Order-preserving integer image of −score (IEEE trick: flip the magnitude bits of
    # negatives), made unsigned; ascending key = descending score.
    image = (-values).view(np.int64)
    image = image ^ ((image >> 63) & np.int64(0x7FFFFFFFFFFFFFFF))
    low = np.uint64((1 << bits) - 1)
    keys = (image.view(np.uint64) ^ np.uint64(1 << 63)) & ~low
    keys |= np.arange(n, dtype=np.uint64)
    keys.sort()
    order = (keys & low).view(np.int64)
    # Neighbours whose truncated scores agree: exact ties are already in index order (the
    # index is the key's tail); only runs that also hold *different* scores need a re-sort.
    tied = np.flatnonzero(((keys[1:] ^ keys[:-1]) & ~low) == 0)
    if len(tied) == 0:
        return order
    differ = tied[values[order[tied]] != values[order[tied + 1]]]
    if len(differ) == 0:
        return order
    run = np.cumsum(np.concatenate([[True], ((keys[1:] ^ keys[:-1]) & ~low) != 0]))
    for run_id in np.unique(run[differ]).tolist():
        start = int(np.searchsorted(run, run_id, side="left"))
        end = int(np.searchsorted(run, run_id, side="right"))
        lines = order[start:end]
        order[start:end] = lines[np.lexsort((lines, -values[lines]))]
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
