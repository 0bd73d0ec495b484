"""The correction-and-removal report: the data 21 CFR 806.10(c) asks a manufacturer to report,
from the recall, its scope snapshot, the catalogue and the consignees' answers.

Sections (806.10(c) paragraph in brackets): the firm and its contact (1–3); the devices —
name, UDI-DI, US class, 510(k)/PMA numbers (4), lot and serial numbers with expiry (5); the
event, the health hazard and the action taken (6, 7); the number of devices in scope and held
(9); the consignees with their dates and quantities distributed and their answers (10, 11); the
communication sent to them (12). What the data model does not hold (the FDA registration number,
injuries reported under part 803) is left for the reporter, marked as such. The hub only.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from medledger.catalog.models import MarketAuthorisation, Product
from medledger.core.db import utcnow
from medledger.core.principal import Principal
from medledger.parties.models import Party, User
from medledger.recall import repository as repo
from medledger.recall import service
from medledger.recall.models import Recall
from medledger.trace.models import TraceItem

NOT_HELD = "(to be completed by the reporter)"


def build(session: Session, principal: Principal, recall: Recall) -> dict[str, Any]:
    """The report's data (404 for a partner: the report names every consignee)."""
    scope = service.get_scope(session, principal, recall).snapshot
    tenant = principal.tenant_id
    hub = session.get(Party, principal.hub_party_id) if principal.hub_party_id else None
    author = session.get(User, recall.created_by_user_id) if recall.created_by_user_id else None
    items = scope.get("items", [])
    gtins = sorted({i["gtin"] for i in items if i.get("gtin")})
    products = {
        p.gtin: p
        for p in session.scalars(
            select(Product).where(Product.tenant_id == tenant, Product.gtin.in_(gtins or [""]))
        )
    }
    authorisations: dict[int, list[str]] = defaultdict(list)
    if products:
        for auth in session.scalars(
            select(MarketAuthorisation)
            .where(
                MarketAuthorisation.tenant_id == tenant,
                MarketAuthorisation.product_id.in_([p.id for p in products.values()]),
                MarketAuthorisation.region == "US",
            )
            .order_by(MarketAuthorisation.id)
        ):
            authorisations[auth.product_id].append(f"{auth.kind} {auth.certificate_number}")
    expiries = {
        uri: expiry
        for uri, expiry in session.execute(
            select(TraceItem.uri, TraceItem.expiry).where(
                TraceItem.tenant_id == tenant,
                TraceItem.uri.in_(
                    [i["uri"] for i in items if i["kind"] in ("lot", "serial")][:5000] or [""]
                ),
            )
        )
    }
    notices = repo.notices_of(session, [recall.id])[recall.id]
    result = service.effectiveness(recall, notices)
    shipped: dict[str, list[str]] = defaultdict(list)
    for shipment in scope.get("shipments", []):
        if shipment.get("to_key") and shipment.get("shipped_at"):
            shipped[shipment["to_key"]].append(shipment["shipped_at"])
    devices = []
    for item in items:
        if item["kind"] not in ("lot", "serial"):
            continue
        product = products.get(item.get("gtin") or "")
        devices.append(
            {
                "gtin": item.get("gtin"),
                "product": product.name if product else "",
                "device_class_us": (product.device_class_us or "") if product else "",
                "us_authorisation": ", ".join(authorisations.get(product.id, []))
                if product
                else "",
                "lot": item.get("lot") or "",
                "serial": item.get("serial") or "",
                "expiry": expiries.get(item["uri"]) or "",
                "holder": (item.get("holder") or {}).get("name")
                or (item.get("holder") or {}).get("gln")
                or "",
            }
        )
    consignees = []
    for notice in notices:
        dates = sorted(shipped.get(notice.party_key, []))
        consignees.append(
            {
                "name": notice.name,
                "gln": notice.gln or "",
                "units": notice.units,
                "first_shipped": dates[0][:10] if dates else "",
                "last_shipped": dates[-1][:10] if dates else "",
                "notified_at": notice.notified_at.isoformat(),
                "acknowledged_at": notice.acknowledged_at.isoformat()
                if notice.acknowledged_at
                else "",
                "on_hand": notice.quantity_on_hand,
                "returned": notice.quantity_returned,
                "destroyed": notice.quantity_destroyed,
                "on_behalf": notice.on_behalf,
            }
        )
    return {
        "report": {
            "number": recall.number,
            "date": utcnow().date().isoformat(),
            "action": recall.action,
            "hazard_class": recall.hazard_class,
            "depth": recall.depth,
            "state": recall.state,
        },
        "firm": {
            "name": hub.name if hub else "",
            "gln": hub.gln if hub else "",
            "country": hub.country if hub else "",
            "registration_number": NOT_HELD,
            "contact": author.display_name if author else "",
        },
        "event": {
            "title": recall.title,
            "reason": recall.reason,
            "health_hazard": recall.health_hazard,
            "injuries_reported_under_803": NOT_HELD,
            "instructions_to_consignees": recall.instructions,
            "identifiers": recall.identifiers,
            "initiated_at": recall.initiated_at.isoformat(),
            "ncr_id": recall.ncr_id,
        },
        "quantities": {
            "lots": recall.lots_in_scope,
            "serials": recall.serials_in_scope,
            "logistic_units": recall.logistic_units_in_scope,
            "units_distributed": result.units,
            "units_held_by_firm": recall.units_held,
            "units_accounted_by_consignees": result.units_accounted,
            "consignees": result.consignees,
            "consignees_acknowledged": result.consignees_acknowledged,
        },
        "devices": devices,
        "consignees": consignees,
    }


def to_json(data: dict[str, Any]) -> dict[str, Any]:
    return data


def _rows(data: dict[str, Any]) -> list[list[Any]]:
    """One table: section, field, value for the header parts; then the devices and the
    consignees, each with their own header row."""
    rows: list[list[Any]] = [["section", "field", "value"]]
    for section in ("report", "firm", "event", "quantities"):
        for key, value in data[section].items():
            if isinstance(value, list):
                value = " ".join(str(v) for v in value)
            rows.append([section, key, value])
    for section in ("devices", "consignees"):
        entries = data[section]
        if not entries:
            continue
        keys = list(entries[0])
        rows.append([section, *keys])
        rows.extend([section, *[entry[k] for k in keys]] for entry in entries)
    return rows


def _safe(value: Any) -> Any:
    """A cell that would start a formula in a spreadsheet is written as text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def to_csv(data: dict[str, Any]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in _rows(data):
        writer.writerow([_safe(v) for v in row])
    return "\ufeff" + buffer.getvalue()


def to_xlsx(data: dict[str, Any]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "806 report"
    for row in _rows(data):
        sheet.append([_safe(v) if not isinstance(v, bool) else str(v).lower() for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
