"""Supplier scorecards: per supplier and month, from recorded facts only.

Factors (each a 0–100 score; a factor with nothing to measure in a month is left out of that
month's total and its weight with it):

* ``otif`` — purchase order lines due in the month (month of the confirmed date, else the
  requested date; due once that date has passed or the line is fully received) that were
  received in full by that date: ``100 × on-time-in-full / due``.
* ``acceptance`` — incoming inspection decisions in the month (see
  :func:`medledger.analytics.facts.inspection_decisions`): ``100 × units accepted / units
  decided``.
* ``ncr`` — NCRs raised against the supplier in the month, by severity:
  ``max(0, 100 − Σ penalty[severity])``.
* ``scar`` — NCRs of the month whose SCAR was answered: the mean response time in days
  (request → response); ``100`` at or under the target, falling linearly to ``0`` at twice the
  target. The mean SCAR closure time (request → NCR closed) is shown beside it.
* ``capa`` — CAPAs about the supplier open at the end of the month:
  ``max(0, 100 − penalty × open)``.

Total: ``Σ weight × score / Σ weight`` over the factors measured. Weights and parameters are
data (``AnalyticsSettings.scorecard``, defaults in :data:`DEFAULT_SCORECARD`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from medledger.analytics.facts import CapaFact, InspectionDecision, NcrFact, PoLineFact
from medledger.analytics.periods import month_end, month_of

FACTORS = ("otif", "acceptance", "ncr", "scar", "capa")
SEVERITIES = ("minor", "major", "critical")

DEFAULT_SCORECARD: dict[str, Any] = {
    "weights": {"otif": 30, "acceptance": 25, "ncr": 20, "scar": 15, "capa": 10},
    "ncr_penalty": {"minor": 5, "major": 15, "critical": 40},
    "scar_target_days": 7,
    "capa_penalty": 10,
}

DAY = 86400.0


def days_between(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / DAY


def _mean(values: Sequence[float]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


@dataclass
class MonthScore:
    """One supplier's month: the measured figures, each factor's score and the total."""

    month: str
    lines_due: int = 0
    lines_otif: int = 0
    units_decided: int = 0
    units_accepted: int = 0
    ncrs: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SEVERITIES, 0))
    scar_response_days: float | None = None
    scar_closure_days: float | None = None
    scar_answered: int = 0
    open_capas: int = 0
    scores: dict[str, float | None] = field(default_factory=dict)
    total: float | None = None

    @property
    def otif_rate(self) -> float | None:
        return round(self.lines_otif / self.lines_due, 4) if self.lines_due else None

    @property
    def acceptance_rate(self) -> float | None:
        return round(self.units_accepted / self.units_decided, 4) if self.units_decided else None

    def to_json(self) -> dict[str, Any]:
        return {
            "month": self.month,
            "total": self.total,
            "scores": self.scores,
            "lines_due": self.lines_due,
            "lines_otif": self.lines_otif,
            "otif_rate": self.otif_rate,
            "units_decided": self.units_decided,
            "units_accepted": self.units_accepted,
            "acceptance_rate": self.acceptance_rate,
            "ncrs": self.ncrs,
            "scar_answered": self.scar_answered,
            "scar_response_days": self.scar_response_days,
            "scar_closure_days": self.scar_closure_days,
            "open_capas": self.open_capas,
        }


@dataclass(frozen=True)
class SupplierFacts:
    po_lines: list[PoLineFact]
    decisions: list[InspectionDecision]
    ncrs: list[NcrFact]
    capas: list[CapaFact]


def config_of(stored: dict[str, Any] | None) -> dict[str, Any]:
    """The stored scorecard settings over the defaults (a key left out keeps its default)."""
    config = {
        key: (dict(value) if isinstance(value, dict) else value)
        for key, value in DEFAULT_SCORECARD.items()
    }
    for key, value in (stored or {}).items():
        if isinstance(value, dict) and isinstance(config.get(key), dict):
            config[key].update(value)
        else:
            config[key] = value
    return config


def month_facts(facts: SupplierFacts, month: str, today: date, now: datetime) -> SupplierFacts:
    """The rows behind one month's figures (what the drill-down lists)."""
    end = min(month_end(month), now)
    return SupplierFacts(
        po_lines=[f for f in facts.po_lines if month_of(f.promised_date) == month and f.due(today)],
        decisions=[d for d in facts.decisions if month_of(d.decided_at) == month],
        ncrs=[n for n in facts.ncrs if month_of(n.created_at) == month],
        capas=[
            c
            for c in facts.capas
            if c.created_at < end and (c.closed_at is None or c.closed_at >= end)
        ],
    )


def score_month(
    facts: SupplierFacts, month: str, config: dict[str, Any], today: date, now: datetime
) -> MonthScore:
    """One month of one supplier's scorecard, computed from its facts."""
    rows = month_facts(facts, month, today, now)
    result = MonthScore(month)
    result.lines_due = len(rows.po_lines)
    result.lines_otif = sum(1 for f in rows.po_lines if f.on_time_in_full)
    result.units_decided = sum(d.quantity for d in rows.decisions)
    result.units_accepted = sum(d.quantity for d in rows.decisions if d.accepted)
    for ncr in rows.ncrs:
        if ncr.severity in result.ncrs:
            result.ncrs[ncr.severity] += 1
    responses = [
        days_between(n.scar_requested_at, n.scar_responded_at)
        for n in rows.ncrs
        if n.scar_requested_at is not None and n.scar_responded_at is not None
    ]
    closures = [
        days_between(n.scar_requested_at, n.closed_at)
        for n in rows.ncrs
        if n.scar_requested_at is not None and n.closed_at is not None
    ]
    result.scar_answered = len(responses)
    result.scar_response_days = _mean(responses)
    result.scar_closure_days = _mean(closures)
    result.open_capas = len(rows.capas)

    scores: dict[str, float | None] = {}
    otif_rate = result.otif_rate
    scores["otif"] = round(100 * otif_rate, 1) if otif_rate is not None else None
    acceptance = result.acceptance_rate
    scores["acceptance"] = round(100 * acceptance, 1) if acceptance is not None else None
    penalty = sum(config["ncr_penalty"].get(s, 0) * n for s, n in result.ncrs.items())
    scores["ncr"] = float(max(0, 100 - penalty))
    target = float(config["scar_target_days"])
    if result.scar_response_days is None:
        scores["scar"] = None
    else:
        late = max(0.0, result.scar_response_days - target)
        scores["scar"] = round(max(0.0, 100 * (1 - late / target)), 1) if target else 0.0
    scores["capa"] = float(max(0, 100 - config["capa_penalty"] * result.open_capas))
    result.scores = scores
    weights = config["weights"]
    measured = [(float(weights.get(k, 0)), s) for k, s in scores.items() if s is not None]
    weight_sum = sum(w for w, _ in measured)
    result.total = round(sum(w * s for w, s in measured) / weight_sum, 1) if weight_sum else None
    return result


def scorecard(
    facts: SupplierFacts,
    months: list[str],
    config: dict[str, Any],
    today: date,
    now: datetime,
) -> list[MonthScore]:
    """The supplier's scorecard for each month."""
    return [score_month(facts, month, config, today, now) for month in months]
