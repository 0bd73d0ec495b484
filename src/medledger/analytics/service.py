"""Use cases of analytics: supplier scorecards with their drill-down, and the tenant's settings
(scorecard weights, KPI targets). A partner user sees only its own party's scorecard; any other
party is 404, as a record it may not see."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from medledger.analytics import facts as source
from medledger.analytics.errors import Code, invalid
from medledger.analytics.models import AnalyticsSettings
from medledger.analytics.periods import Period, check_month, month_of, period
from medledger.analytics.schemas import (
    MonthScoreOut,
    RecordOut,
    ScorecardOut,
    SettingsIn,
    SettingsOut,
    SupplierScoreOut,
)
from medledger.analytics.scorecard import (
    FACTORS,
    SEVERITIES,
    SupplierFacts,
    config_of,
    days_between,
    month_facts,
    scorecard,
)
from medledger.core.db import utcnow
from medledger.core.errors import Code as CoreCode
from medledger.core.errors import NotFound
from medledger.core.principal import Permission, Principal
from medledger.parties.models import Party, PartyRole
from medledger.purchasing.models import PurchaseOrder
from medledger.quality.models import Capa, Ncr

SUPPLIER_ROLES = (PartyRole.SUPPLIER.value, PartyRole.CONTRACT_MANUFACTURER.value)


def _not_found(party_id: int) -> NotFound:
    return NotFound(
        "{entity} {id} was not found.",
        code=CoreCode.NOT_FOUND,
        params={"entity": "supplier", "id": party_id},
    )


def stored_settings(session: Session, tenant_id: int) -> AnalyticsSettings | None:
    return session.scalars(
        select(AnalyticsSettings).where(AnalyticsSettings.tenant_id == tenant_id)
    ).first()


def scorecard_config(session: Session, tenant_id: int) -> dict[str, Any]:
    stored = stored_settings(session, tenant_id)
    return config_of(stored.scorecard if stored is not None else None)


def suppliers(session: Session, principal: Principal) -> list[tuple[int, str]]:
    """The parties that have a scorecard: suppliers and contract manufacturers, and any party
    purchase orders, NCRs or CAPAs name as supplier. A partner: its own party only."""
    principal.require(Permission.ANALYTICS_READ)
    tenant = principal.tenant_id
    named = (
        select(PurchaseOrder.supplier_party_id.label("pid"))
        .where(PurchaseOrder.tenant_id == tenant)
        .union(
            select(Ncr.supplier_party_id).where(
                Ncr.tenant_id == tenant, Ncr.supplier_party_id.is_not(None)
            ),
            select(Capa.supplier_party_id).where(
                Capa.tenant_id == tenant, Capa.supplier_party_id.is_not(None)
            ),
        )
    )
    ids = {row for row in session.scalars(named) if row is not None}
    rows = []
    for party in session.scalars(select(Party).where(Party.tenant_id == tenant)):
        if party.id == principal.hub_party_id and party.id not in ids:
            continue
        supplies = party.id in ids or any(r in SUPPLIER_ROLES for r in party.roles or [])
        if supplies and (principal.sees_all_parties or party.id == principal.party_id):
            rows.append((party.id, party.name))
    return sorted(rows, key=lambda row: (row[1].casefold(), row[0]))


def _supplier(session: Session, principal: Principal, party_id: int) -> Party:
    principal.require(Permission.ANALYTICS_READ)
    if not principal.sees_all_parties and party_id != principal.party_id:
        raise _not_found(party_id)
    party = session.get(Party, party_id)
    if party is None or party.tenant_id != principal.tenant_id:
        raise _not_found(party_id)
    return party


def supplier_facts(session: Session, tenant_id: int, supplier_ids: set[int]) -> SupplierFacts:
    return SupplierFacts(
        po_lines=source.po_lines(session, tenant_id, supplier_ids),
        decisions=source.inspection_decisions(session, tenant_id, supplier_ids),
        ncrs=source.ncrs(session, tenant_id, supplier_ids),
        capas=source.capas(session, tenant_id, supplier_ids),
    )


def _period(date_from: date | None, date_to: date | None, today: date) -> Period:
    return period(date_from, date_to, today, months=12)


def supplier_scorecard(
    session: Session,
    principal: Principal,
    party_id: int,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    now: datetime | None = None,
) -> ScorecardOut:
    """One supplier's scorecard for each month of the period (default: the last 12 months)."""
    party = _supplier(session, principal, party_id)
    now = now or utcnow()
    chosen = _period(date_from, date_to, now.date())
    config = scorecard_config(session, principal.tenant_id)
    facts = supplier_facts(session, principal.tenant_id, {party.id})
    months = scorecard(facts, chosen.months, config, now.date(), now)
    return ScorecardOut(
        supplier_party_id=party.id,
        supplier_name=party.name,
        date_from=chosen.start,
        date_to=chosen.end,
        weights={k: float(v) for k, v in config["weights"].items()},
        months=[MonthScoreOut(**m.to_json()) for m in months],
    )


def supplier_ranking(
    session: Session, principal: Principal, *, month: str | None = None, now: datetime | None = None
) -> list[SupplierScoreOut]:
    """Every visible supplier's total for one month (default: the current one)."""
    now = now or utcnow()
    month = check_month(month) if month else month_of(now)
    chosen = suppliers(session, principal)
    if not chosen:
        return []
    config = scorecard_config(session, principal.tenant_id)
    facts = supplier_facts(session, principal.tenant_id, {pid for pid, _ in chosen})
    result = []
    for pid, name in chosen:
        own = SupplierFacts(
            [f for f in facts.po_lines if f.supplier_party_id == pid],
            [d for d in facts.decisions if d.supplier_party_id == pid],
            [n for n in facts.ncrs if n.supplier_party_id == pid],
            [c for c in facts.capas if c.supplier_party_id == pid],
        )
        score = scorecard(own, [month], config, now.date(), now)[0]
        result.append(
            SupplierScoreOut(
                supplier_party_id=pid, supplier_name=name, month=month, total=score.total
            )
        )
    return result


def scorecard_records(
    session: Session,
    principal: Principal,
    party_id: int,
    *,
    month: str,
    factor: str,
    now: datetime | None = None,
) -> list[RecordOut]:
    """The records behind one factor of one month: exactly the rows the figure counts."""
    party = _supplier(session, principal, party_id)
    month = check_month(month)
    if factor not in FACTORS:
        raise invalid(
            Code.FACTOR_UNKNOWN,
            "Choose one of: {expected}.",
            "factor",
            expected=", ".join(FACTORS),
        )
    now = now or utcnow()
    facts = month_facts(
        supplier_facts(session, principal.tenant_id, {party.id}), month, now.date(), now
    )
    if factor == "otif":
        return [
            RecordOut(
                kind="purchase_order_line",
                id=f.po_line_id,
                label=f"{f.po_number} / {f.line_number}",
                link=f"/purchase-orders/{f.po_id}",
                values={
                    "gtin": f.gtin,
                    "quantity": f.quantity,
                    "received_quantity": f.received_quantity,
                    "promised_date": f.promised_date.isoformat(),
                    "last_receipt_on": f.last_receipt_on.isoformat() if f.last_receipt_on else None,
                    "on_time_in_full": f.on_time_in_full,
                },
            )
            for f in facts.po_lines
        ]
    if factor == "acceptance":
        return [
            RecordOut(
                kind="inspection_decision",
                id=d.reference,
                label=f"{d.gtin} / {d.lot}",
                link=f"/lots?q={d.lot}",
                values={
                    "quantity": d.quantity,
                    "accepted": d.accepted,
                    "decided_at": d.decided_at.isoformat(),
                },
            )
            for d in facts.decisions
        ]
    if factor == "capa":
        return [
            RecordOut(
                kind="capa",
                id=c.capa_id,
                label=f"{c.number} {c.title}",
                link=f"/quality/capas/{c.capa_id}",
                values={"state": c.state, "created_at": c.created_at.isoformat()},
            )
            for c in facts.capas
        ]
    rows = facts.ncrs
    if factor == "scar":
        rows = [n for n in rows if n.scar_requested_at is not None]
    return [
        RecordOut(
            kind="ncr",
            id=n.ncr_id,
            label=f"{n.number} {n.title}",
            link=f"/quality/ncrs/{n.ncr_id}",
            values={
                "severity": n.severity,
                "state": n.state,
                "created_at": n.created_at.isoformat(),
                "scar_response_days": round(
                    days_between(n.scar_requested_at, n.scar_responded_at), 2
                )
                if n.scar_requested_at and n.scar_responded_at
                else None,
                "scar_closure_days": round(days_between(n.scar_requested_at, n.closed_at), 2)
                if n.scar_requested_at and n.closed_at
                else None,
            },
        )
        for n in rows
    ]


# --- settings --------------------------------------------------------------------------------


def settings_out(session: Session, principal: Principal) -> SettingsOut:
    """The scorecard configuration and KPI targets in force (stored over the defaults)."""
    from medledger.analytics.kpis import kpi_targets

    principal.require(Permission.ANALYTICS_READ)
    return SettingsOut(
        scorecard=scorecard_config(session, principal.tenant_id),
        kpi_targets=kpi_targets(session, principal.tenant_id),
    )


def update_settings(session: Session, principal: Principal, data: SettingsIn) -> SettingsOut:
    """Change weights, penalties or KPI targets (audited like every change)."""
    from medledger.analytics.kpis import KPI_KEYS

    principal.require(Permission.ANALYTICS_WRITE)
    stored = stored_settings(session, principal.tenant_id)
    if stored is None:
        stored = AnalyticsSettings(tenant_id=principal.tenant_id, scorecard={}, kpi_targets={})
        session.add(stored)
    if data.scorecard is not None:
        incoming = data.scorecard
        for name, value in incoming.weights.items():
            if name not in FACTORS or value < 0 or value > 1000:
                raise invalid(
                    Code.WEIGHTS_INVALID,
                    "Weights are numbers from 0 to 1000 for: {expected}.",
                    f"scorecard.weights.{name}",
                    expected=", ".join(FACTORS),
                )
        for name, value in incoming.ncr_penalty.items():
            if name not in SEVERITIES or value < 0 or value > 100:
                raise invalid(
                    Code.WEIGHTS_INVALID,
                    "Penalties are numbers from 0 to 100 for: {expected}.",
                    f"scorecard.ncr_penalty.{name}",
                    expected=", ".join(SEVERITIES),
                )
        merged = config_of(stored.scorecard)
        merged["weights"].update(incoming.weights)
        merged["ncr_penalty"].update(incoming.ncr_penalty)
        if incoming.scar_target_days is not None:
            merged["scar_target_days"] = incoming.scar_target_days
        if incoming.capa_penalty is not None:
            merged["capa_penalty"] = incoming.capa_penalty
        if sum(float(v) for v in merged["weights"].values()) <= 0:
            raise invalid(
                Code.WEIGHTS_INVALID, "At least one weight must be positive.", "scorecard.weights"
            )
        stored.scorecard = merged
    if data.kpi_targets is not None:
        for name in data.kpi_targets:
            if name not in KPI_KEYS:
                raise invalid(
                    Code.KPI_UNKNOWN,
                    "Choose one of: {expected}.",
                    f"kpi_targets.{name}",
                    expected=", ".join(KPI_KEYS),
                )
        stored.kpi_targets = {**(stored.kpi_targets or {}), **data.kpi_targets}
    session.flush()
    return settings_out(session, principal)
