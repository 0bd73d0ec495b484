"""Compliance documents: the device history record (DHR) of a finished lot and the certificate
of conformance (CoC) of a shipment — gathered here, shown as HTML pages and rendered to PDF
with ``compliance.pdf``.

The DHR reads what went into the lot from the trace genealogy (transformation events, upstream
walk), so it is complete whether production was recorded by our warehouse, a work order or a
contract manufacturer's EPCIS events. It lists, for the lot and each component lot: the
inspections (verdict, plan version, decision time), the lot decisions with their signatures,
and the NCRs and deviations that name them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from medledger.catalog.errors import Code as CatalogCode
from medledger.catalog.models import Product
from medledger.compliance.signing import signatures_of
from medledger.core.db import utcnow
from medledger.core.errors import NotFound, field_error
from medledger.core.principal import Permission, Principal
from medledger.core.scoping import scoped
from medledger.inventory import service as inventory
from medledger.inventory.models import Shipment
from medledger.parties.models import Party
from medledger.quality.models import Deviation, Inspection, LotRelease, Ncr


@dataclass
class Component:
    gtin: str
    lot: str
    serial: str
    product: str
    depth: int
    supplier: str


@dataclass
class LotFile:
    """What quality knows of one lot: inspections, decisions, NCRs, deviations, signatures."""

    gtin: str
    lot: str
    inspections: list[Inspection] = field(default_factory=list)
    releases: list[LotRelease] = field(default_factory=list)
    ncrs: list[Ncr] = field(default_factory=list)
    deviations: list[Deviation] = field(default_factory=list)
    signatures: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class DeviceHistoryRecord:
    product: Product
    lot: str
    generated_at: datetime
    components: list[Component]
    trace_known: bool
    files: list[LotFile]  # the lot first, then each component lot

    @property
    def own(self) -> LotFile:
        return self.files[0]


def _any(stmt: Any) -> Select[Any]:
    """A statement typed for ``core.scoping.scoped``."""
    return stmt


def _product(session: Session, principal: Principal, gtin: str) -> Product:
    product = session.scalar(
        select(Product).where(Product.tenant_id == principal.tenant_id, Product.gtin == gtin)
    )
    if product is None:
        raise field_error(
            "gtin", CatalogCode.PRODUCT_UNKNOWN, "No product has GTIN {gtin}.", gtin=gtin
        )
    return product


def _names(session: Session, model: Any, column: Any, ids: set[Any]) -> dict[Any, str]:
    if not ids:
        return {}
    return dict(session.execute(select(column, model.name).where(column.in_(ids))).all())


def _sig_rows(
    session: Session, principal: Principal, kind: str, record: Any
) -> list[dict[str, Any]]:
    checked = signatures_of(session, principal, kind, record)
    return [
        {
            "record_label": checked.label,
            "printed_name": c.signature.printed_name,
            "meaning": c.signature.meaning,
            "signed_at": c.signature.signed_at,
            "content_hash": c.signature.content_hash,
            "matches": c.valid,
        }
        for c in checked.signatures
    ]


def _names_lot(lots: Any, gtin: str, lot: str) -> bool:
    return any(str(x.get("gtin")) == gtin and str(x.get("lot")) == lot for x in lots or [])


def lot_file(session: Session, principal: Principal, gtin: str, lot: str) -> LotFile:
    """The quality records of one lot the caller may see, with their signatures."""
    found = LotFile(gtin, lot)
    found.inspections = list(
        session.scalars(
            scoped(
                _any(select(Inspection).where(Inspection.gtin == gtin, Inspection.lot == lot)),
                Inspection,
                principal,
            ).order_by(Inspection.id)
        )
    )
    found.releases = list(
        session.scalars(
            scoped(
                _any(select(LotRelease).where(LotRelease.gtin == gtin, LotRelease.lot == lot)),
                LotRelease,
                principal,
            ).order_by(LotRelease.id)
        )
    )
    # JSON lists of lots: filtered here (portable across SQLite and PostgreSQL).
    found.ncrs = [
        n
        for n in session.scalars(scoped(_any(select(Ncr)), Ncr, principal).order_by(Ncr.id))
        if _names_lot(n.affected_lots, gtin, lot)
    ]
    found.deviations = [
        d
        for d in session.scalars(
            scoped(_any(select(Deviation)), Deviation, principal).order_by(Deviation.id)
        )
        if _names_lot(d.affected_lots, gtin, lot)
    ]
    for kind, records in (
        ("inspection", found.inspections),
        ("lot_release", found.releases),
        ("ncr", found.ncrs),
        ("deviation", found.deviations),
    ):
        for record in records:
            found.signatures.extend(_sig_rows(session, principal, kind, record))
    return found


def device_history_record(
    session: Session, principal: Principal, gtin: str, lot: str
) -> DeviceHistoryRecord:
    """The DHR of a finished lot (hub users; 422 for an unknown product)."""
    from medledger.trace.engine.graph import Direction
    from medledger.trace.service import TraceRequest, trace

    principal.require(Permission.QUALITY_READ)
    principal.require(Permission.TRACE_READ)
    product = _product(session, principal, gtin)
    components: list[Component] = []
    trace_known = True
    try:
        report = trace(session, principal, TraceRequest(f"(01){gtin}(10){lot}", Direction.UPSTREAM))
        items = [
            i
            for i in report.items
            if i.direction == "upstream"
            and i.gtin
            and (i.lot or i.serial)
            and i.via == "transformation"
        ]
    except NotFound:
        trace_known, items = False, []
    gtins = {i.gtin for i in items}
    names = _names(session, Product, Product.gtin, gtins)
    seen: set[tuple[str, str, str]] = set()
    for item in sorted(items, key=lambda i: (i.depth, i.gtin or "", i.lot or "", i.serial or "")):
        key = (item.gtin or "", item.lot or "", item.serial or "")
        if key in seen:
            continue
        seen.add(key)
        components.append(
            Component(
                item.gtin or "",
                item.lot or "",
                item.serial or "",
                names.get(item.gtin, ""),
                item.depth,
                (item.holder.name or item.holder.gln or "") if item.holder else "",
            )
        )
    files = [lot_file(session, principal, gtin, lot)]
    for lot_key in dict.fromkeys((c.gtin, c.lot) for c in components if c.lot):
        files.append(lot_file(session, principal, *lot_key))
    return DeviceHistoryRecord(product, lot, utcnow(), components, trace_known, files)


@dataclass
class CertificateLine:
    gtin: str
    product: str
    lot: str
    serial: str
    quantity: int
    release: LotRelease | None
    inspections: list[Inspection]


@dataclass
class CertificateOfConformance:
    shipment: Shipment
    consignee: str
    issuer: str
    generated_at: datetime
    lines: list[CertificateLine]
    signatures: list[dict[str, Any]]

    @property
    def conforming(self) -> bool:
        return bool(self.lines) and all(
            line.release is not None and line.release.state == "released" for line in self.lines
        )


def certificate_of_conformance(
    session: Session, principal: Principal, shipment_id: int
) -> CertificateOfConformance:
    """The CoC of a shipment: every lot it carried with its signed release and inspections.
    (Hub users; a shipment the caller may not see is 404.)"""
    principal.require(Permission.QUALITY_READ)
    principal.require(Permission.INVENTORY_READ)
    shipment = session.scalar(
        scoped(_any(select(Shipment).where(Shipment.id == shipment_id)), Shipment, principal)
    )
    if shipment is None:
        raise NotFound(
            "{entity} {id} was not found.",
            params={"entity": "shipment", "id": shipment_id},
        )
    contents = inventory.shipment_contents(session, principal.tenant_id, shipment.id)
    names = _names(session, Product, Product.gtin, {c["gtin"] for c in contents})
    lines, signatures = [], []
    for row in contents:
        file = lot_file(session, principal, row["gtin"], row["lot"]) if row["lot"] else None
        released = [r for r in (file.releases if file else []) if r.state == "released"]
        release = released[-1] if released else None
        if release is not None:
            signatures.extend(_sig_rows(session, principal, "lot_release", release))
        lines.append(
            CertificateLine(
                row["gtin"],
                names.get(row["gtin"], ""),
                row["lot"],
                row["serial"],
                row["quantity"],
                release,
                list(file.inspections) if file else [],
            )
        )
    parties = _names(
        session,
        Party,
        Party.id,
        {shipment.destination_party_id, principal.hub_party_id or principal.party_id},
    )
    return CertificateOfConformance(
        shipment,
        parties.get(shipment.destination_party_id, shipment.destination_gln),
        parties.get(principal.hub_party_id or principal.party_id, ""),
        utcnow(),
        lines,
        signatures,
    )
