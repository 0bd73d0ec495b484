"""Supplier scorecards: every figure recomputed here from the raw rows, and a supplier sees its
own scorecard and nothing of another party's."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from medledger.compliance.models import WorkflowTransition
from medledger.core.system import system_unit_of_work
from medledger.inventory.models import StockMovement
from medledger.purchasing.models import AsnLine, PurchaseOrder, PurchaseOrderLine
from medledger.quality.models import Capa, Ncr
from tests.analytics.builders import SupplierHistory, build_supplier_history, ok

PERIOD = {"date_from": "2026-11-01", "date_to": "2027-03-31"}


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _expected(factory: sessionmaker[Session], supplier_id: int, today: date) -> dict[str, Any]:
    """The figures per month, worked out from the tables directly (the test's own reading of
    the definitions in docs/analytics.md)."""
    months: dict[str, dict[str, Any]] = defaultdict(
        lambda: {
            "lines_due": 0,
            "lines_otif": 0,
            "units_decided": 0,
            "units_accepted": 0,
            "ncrs": {"minor": 0, "major": 0, "critical": 0},
            "responses": [],
        }
    )
    with system_unit_of_work(factory) as session:
        receipts = [
            (m.gtin, m.lot, _utc(m.occurred_at))
            for m in session.scalars(select(StockMovement).where(StockMovement.kind == "receipt"))
        ]
        for line, po in session.execute(
            select(PurchaseOrderLine, PurchaseOrder).join(
                PurchaseOrder, PurchaseOrder.id == PurchaseOrderLine.purchase_order_id
            )
        ):
            if po.supplier_party_id != supplier_id or po.status in ("draft", "cancelled"):
                continue
            promised = line.confirmed_date or line.requested_date
            wanted = line.confirmed_quantity or line.quantity
            full = line.received_quantity >= wanted
            if not (promised < today or full):
                continue
            lots = {
                (a.gtin, a.lot)
                for a in session.scalars(
                    select(AsnLine).where(AsnLine.purchase_order_line_id == line.id)
                )
            }
            last = max((t for g, lot, t in receipts if (g, lot) in lots), default=None)
            month = promised.strftime("%Y-%m")
            months[month]["lines_due"] += 1
            on_time = last is not None and last.date() <= promised
            months[month]["lines_otif"] += int(full and on_time)
        for m in session.scalars(
            select(StockMovement).where(
                StockMovement.kind == "status_change", StockMovement.from_status == "quarantine"
            )
        ):
            month = _utc(m.occurred_at).strftime("%Y-%m")
            months[month]["units_decided"] += m.quantity
            months[month]["units_accepted"] += m.quantity if m.to_status == "released" else 0
        for ncr in session.scalars(select(Ncr).where(Ncr.supplier_party_id == supplier_id)):
            month = _utc(ncr.created_at).strftime("%Y-%m")
            months[month]["ncrs"][ncr.severity] += 1
            steps = {
                s.action: _utc(s.at)
                for s in session.scalars(
                    select(WorkflowTransition).where(
                        WorkflowTransition.record_kind == "ncr",
                        WorkflowTransition.record_id == ncr.id,
                    )
                )
            }
            if "request_supplier_response" in steps and "respond" in steps:
                seconds = (steps["respond"] - steps["request_supplier_response"]).total_seconds()
                months[month]["responses"].append(seconds / 86400)
        open_capas = len(
            list(
                session.scalars(
                    select(Capa).where(
                        Capa.supplier_party_id == supplier_id, Capa.state != "closed"
                    )
                )
            )
        )
    return {"months": dict(months), "open_capas_now": open_capas}


def test_scorecard_figures_equal_the_raw_records(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    # Given a supplier's received-and-inspected PO, an overdue PO, two NCRs (one SCAR answered)
    # and an open CAPA
    h: SupplierHistory = build_supplier_history(client, factory)
    supplier = h.w.network.supplier_id
    today = datetime.now(UTC).date()
    # When purchasing reads the scorecard over five months
    card = ok(
        client.get(
            f"/api/v1/analytics/scorecards/{supplier}", params=PERIOD, headers=h.w.purchasing
        )
    )
    # Then every month's figures are those worked out from the tables
    expected = _expected(factory, supplier, today)
    assert [m["month"] for m in card["months"]] == [
        "2026-11",
        "2026-12",
        "2027-01",
        "2027-02",
        "2027-03",
    ]
    this_month = today.strftime("%Y-%m")
    for month in card["months"]:
        want = expected["months"].get(month["month"])
        if want is None:
            assert (month["lines_due"], month["units_decided"], month["ncrs"]) == (
                0,
                0,
                {"minor": 0, "major": 0, "critical": 0},
            )
            continue
        got = (
            month["lines_due"],
            month["lines_otif"],
            month["units_decided"],
            month["units_accepted"],
            month["ncrs"],
        )
        assert got == (
            want["lines_due"],
            want["lines_otif"],
            want["units_decided"],
            want["units_accepted"],
            want["ncrs"],
        )
        if want["responses"]:
            mean = round(sum(want["responses"]) / len(want["responses"]), 2)
            assert month["scar_response_days"] == mean
    # The PO received in full ahead of its March date is on time; November's is overdue
    march = next(m for m in card["months"] if m["month"] == "2027-03")
    november = next(m for m in card["months"] if m["month"] == "2026-11")
    assert (march["lines_due"], march["lines_otif"], march["scores"]["otif"]) == (1, 1, 100.0)
    assert (november["lines_due"], november["lines_otif"], november["scores"]["otif"]) == (
        1,
        0,
        0.0,
    )
    # This month: 60 of 100 units accepted, a major and a minor NCR, one open CAPA
    now = next(m for m in card["months"] if m["month"] == this_month)
    assert (now["units_accepted"], now["units_decided"], now["acceptance_rate"]) == (60, 100, 0.6)
    assert now["ncrs"] == {"minor": 1, "major": 1, "critical": 0}
    assert now["open_capas"] == expected["open_capas_now"] == 1
    # and the total is the documented weighted mean of the measured factors
    weights = card["weights"]
    scores = now["scores"]
    assert scores["acceptance"] == 60.0
    assert scores["ncr"] == 100 - 15 - 5
    assert scores["capa"] == 90.0
    assert scores["scar"] == 100.0  # answered within the 7-day target
    measured = {k: v for k, v in scores.items() if v is not None}
    total = sum(weights[k] * v for k, v in measured.items()) / sum(weights[k] for k in measured)
    assert now["total"] == round(total, 1)


def test_drill_down_lists_exactly_the_counted_records(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    h = build_supplier_history(client, factory)
    supplier = h.w.network.supplier_id
    this_month = datetime.now(UTC).strftime("%Y-%m")
    base = f"/api/v1/analytics/scorecards/{supplier}/records"

    def records(factor: str, month: str) -> list[dict[str, Any]]:
        return list(
            ok(client.get(base, params={"factor": factor, "month": month}, headers=h.w.purchasing))
        )

    otif = records("otif", "2027-03")
    assert [(r["kind"], r["link"], r["values"]["on_time_in_full"]) for r in otif] == [
        ("purchase_order_line", f"/purchase-orders/{h.received_order_id}", True)
    ]
    late = records("otif", "2026-11")
    assert [(r["link"], r["values"]["on_time_in_full"]) for r in late] == [
        (f"/purchase-orders/{h.late_order_id}", False)
    ]
    decisions = records("acceptance", this_month)
    assert sorted((r["label"].split(" / ")[1], r["values"]["accepted"]) for r in decisions) == [
        ("L-BAD", False),
        ("L-GOOD", True),
    ]
    ncrs = records("ncr", this_month)
    assert sorted(r["id"] for r in ncrs) == sorted(h.ncr_ids)
    scar = records("scar", this_month)
    assert [r["id"] for r in scar] == [h.ncr_ids[0]]
    capas = records("capa", this_month)
    assert [(r["id"], r["link"]) for r in capas] == [(h.capa_id, f"/quality/capas/{h.capa_id}")]
    # An unknown factor is a field error with a stable code
    response = client.get(base, params={"factor": "vibes"}, headers=h.w.purchasing)
    assert response.status_code == 422
    assert response.json()["code"] == "analytics.factor_unknown"


def test_a_supplier_sees_its_own_scorecard_and_nothing_of_other_parties(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    h = build_supplier_history(client, factory)
    net = h.w.network
    # The supplier reads its own scorecard, records and ranking (only itself)
    ok(client.get(f"/api/v1/analytics/scorecards/{net.supplier_id}", headers=h.w.supplier))
    ok(client.get(f"/api/v1/analytics/scorecards/{net.supplier_id}/records", headers=h.w.supplier))
    ranking = ok(client.get("/api/v1/analytics/suppliers", headers=h.w.supplier))
    assert [r["supplier_party_id"] for r in ranking] == [net.supplier_id]
    # and gets 404 for any other party's, as for a record it may not see
    for party in (net.distributor_id, net.hub_id):
        for path in (
            f"/api/v1/analytics/scorecards/{party}",
            f"/api/v1/analytics/scorecards/{party}/records",
        ):
            response = client.get(path, headers=h.w.supplier)
            assert response.status_code == 404, path
            assert response.headers["content-type"] == "application/problem+json"
    # The distributor cannot see the supplier's
    response = client.get(
        f"/api/v1/analytics/scorecards/{net.supplier_id}", headers=h.w.distributor
    )
    assert response.status_code == 404
    # The pages say the same: own page shown, another party's page is "Not found"
    own = client.get(
        f"/analytics/scorecards/{net.supplier_id}", headers={**h.w.supplier, "Accept": "text/html"}
    )
    assert own.status_code == 200 and "L-" not in own.text.split("<main", 1)[0]
    other = client.get(
        f"/analytics/scorecards/{net.distributor_id}",
        headers={**h.w.supplier, "Accept": "text/html"},
    )
    assert other.status_code == 404
    listing = client.get("/analytics/scorecards", headers={**h.w.supplier, "Accept": "text/html"})
    assert listing.status_code == 200
    assert f'data-supplier="{net.supplier_id}"' in listing.text
    assert f'data-supplier="{net.distributor_id}"' not in listing.text
