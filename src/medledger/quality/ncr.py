"""Nonconformance reports: raise (by hand, from a partner's report, from a complaint with the
UDI), edit while under investigation, the supplier's answer (SCAR), and the lot holds."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from medledger.catalog.errors import Code as CatalogCode
from medledger.catalog.models import Product
from medledger.compliance.errors import Code as ComplianceCode
from medledger.compliance.workflow import perform
from medledger.core.db import utcnow
from medledger.core.errors import Conflict, PermissionDenied, ValidationFailed, field_error
from medledger.core.principal import Permission, Principal
from medledger.core.repository import apply_changes
from medledger.inventory.lot_holds import InventoryLotHolds
from medledger.quality import facts
from medledger.quality import repository as repo
from medledger.quality.errors import Code
from medledger.quality.hooks import (
    LotHoldRequest,
    LotRef,
    emit_lot_hold,
    register_lot_hold_handler,
)
from medledger.quality.models import Capa, Ncr, NcrSource
from medledger.quality.schemas import LotIn, NcrIn, NcrUpdate, SupplierResponseIn, TransitionIn
from medledger.quality.service import check_hub_user, check_party, locked_record
from medledger.quality.workflows import NCR_CLOSED, NCR_WORKFLOW

EDITABLE = frozenset({"open", "investigating"})


def check_product(session: Session, principal: Principal, product_id: int | None) -> None:
    if product_id is None:
        return
    found = session.scalar(
        select(Product.id).where(Product.id == product_id, Product.tenant_id == principal.tenant_id)
    )
    if found is None:
        raise field_error(
            "product_id", CatalogCode.PRODUCT_UNKNOWN, "Product {id} does not exist.", id=product_id
        )


def _parse_udi(udi: str) -> dict[str, Any]:
    from medledger.identifiers.gs1 import parse_gs1

    try:
        parsed = parse_gs1(udi)
    except ValidationFailed as exc:
        raise field_error(
            "complaint_udi",
            exc.code,
            "The UDI could not be read: {detail}",
            detail=exc.render_english(),
        ) from None
    if parsed.gtin is None:
        raise field_error(
            "complaint_udi",
            Code.UDI_NO_DEVICE_IDENTIFIER,
            "The UDI has no device identifier (GTIN).",
        )
    return {
        "udi_gtin": parsed.gtin,
        "udi_lot": parsed.lot,
        "udi_serial": parsed.serial,
        "udi_expiry": parsed.expiry.isoformat() if parsed.expiry else None,
    }


def lots_of(lots: list[LotIn]) -> list[dict[str, str]]:
    seen: dict[tuple[str, str], dict[str, str]] = {}
    for lot in lots:
        seen.setdefault((lot.gtin, lot.lot), {"gtin": lot.gtin, "lot": lot.lot})
    return list(seen.values())


def _emit(
    session: Session, principal: Principal, ncr: Ncr, action: str, lots: list[dict[str, Any]]
) -> None:
    emit_lot_hold(
        LotHoldRequest(
            session,
            ncr.tenant_id,
            action,
            tuple(LotRef(str(lot["gtin"]), str(lot["lot"])) for lot in lots),
            "ncr",
            ncr.id,
            ncr.number,
            f"{ncr.number}: {ncr.title}",
            principal,
        )
    )


def raise_ncr(session: Session, principal: Principal, data: NcrIn) -> Ncr:
    """Raise an NCR. Hub quality staff may raise any kind; partner users and the shop floor
    report (a partner's own report, or a complaint with the device's UDI). Affected lots are
    put on hold at once (``quality.hooks``)."""
    principal.require(Permission.QUALITY_REPORT)
    source = data.source
    if not principal.sees_all_parties:
        if source not in (NcrSource.PARTNER_REPORT, NcrSource.COMPLAINT):
            source = NcrSource.PARTNER_REPORT
        if data.supplier_party_id not in (None, principal.party_id):
            raise field_error(
                "supplier_party_id",
                Code.NCR_SUPPLIER_NOT_OWN_PARTY,
                "A partner can only name its own party as the supplier concerned.",
            )
        if data.owner_user_id is not None:
            raise field_error(
                "owner_user_id", Code.NCR_OWNER_HUB_ONLY, "Only the hub assigns an NCR's owner."
            )
    elif source == NcrSource.INSPECTION:
        raise field_error(
            "source",
            Code.NCR_INSPECTION_SOURCE,
            "NCRs from inspections are raised by the failed inspection itself.",
        )
    check_product(session, principal, data.product_id)
    check_party(session, principal, "supplier_party_id", data.supplier_party_id)
    check_hub_user(session, principal, "owner_user_id", data.owner_user_id)
    udi: dict[str, Any] = {}
    if source == NcrSource.COMPLAINT:
        if not data.complaint_udi:
            raise field_error(
                "complaint_udi",
                Code.NCR_UDI_REQUIRED,
                "A complaint names the device by its UDI (scanned or typed).",
            )
        udi = _parse_udi(data.complaint_udi)
    elif data.complaint_udi:
        udi = _parse_udi(data.complaint_udi)
    lots = lots_of(data.affected_lots)
    if udi.get("udi_lot") and not any(
        lot["gtin"] == udi["udi_gtin"] and lot["lot"] == udi["udi_lot"] for lot in lots
    ):
        lots.append({"gtin": udi["udi_gtin"], "lot": udi["udi_lot"]})
    now = utcnow()
    ncr = Ncr(
        tenant_id=principal.tenant_id,
        number=repo.next_number(session, Ncr, principal.tenant_id, "NCR", now.year),
        title=data.title.strip(),
        description=data.description,
        state=NCR_WORKFLOW.initial,
        source=source.value,
        severity=data.severity.value,
        product_id=data.product_id,
        supplier_party_id=data.supplier_party_id,
        complaint_udi=data.complaint_udi,
        affected_lots=lots,
        owner_user_id=data.owner_user_id,
        due_date=data.due_date,
        created_by_user_id=principal.user_id,
        created_by_party_id=principal.party_id,
        version=1,
        **udi,
    )
    session.add(ncr)
    session.flush()
    _emit(session, principal, ncr, "hold", lots)
    facts.ncr_shared(session, ncr)
    return ncr


def update_ncr(session: Session, principal: Principal, ncr_id: int, data: NcrUpdate) -> Ncr:
    """Edit an NCR while it is open or under investigation (signatures given to an earlier
    version then no longer match, and say so). New affected lots are held; lots taken off are
    released unless another open NCR holds them."""
    principal.require(Permission.QUALITY_WRITE)
    ncr: Ncr = locked_record(session, principal, "ncr", ncr_id)
    if ncr.state not in EDITABLE:
        raise Conflict(
            "{record} cannot be edited while it is {state}.",
            code=Code.RECORD_LOCKED_BY_STATE,
            params={"record": ncr.number, "state": ncr.state},
        )
    changes = data.model_dump(exclude_unset=True, mode="json")
    if "product_id" in changes:
        check_product(session, principal, data.product_id)
    if "supplier_party_id" in changes:
        check_party(session, principal, "supplier_party_id", data.supplier_party_id)
    if "owner_user_id" in changes:
        check_hub_user(session, principal, "owner_user_id", data.owner_user_id)
    if (
        "capa_id" in changes
        and data.capa_id is not None
        and (
            session.scalar(
                select(Capa.id).where(
                    Capa.id == data.capa_id, Capa.tenant_id == principal.tenant_id
                )
            )
            is None
        )
    ):
        raise field_error(
            "capa_id", Code.CAPA_UNKNOWN, "CAPA {id} does not exist.", id=data.capa_id
        )
    if "due_date" in changes:
        changes["due_date"] = data.due_date
    old_lots = list(ncr.affected_lots or [])
    old_supplier = ncr.supplier_party_id
    if "affected_lots" in changes:
        changes["affected_lots"] = lots_of(data.affected_lots or [])
    for key in ("title", "description", "investigation", "disposition_rationale"):
        if key in changes and changes[key] is None:
            raise field_error(key, Code.VALUE_REQUIRED, "This field is required.")
    apply_changes(ncr, changes)
    ncr.version = (ncr.version or 0) + 1
    session.flush()
    if "affected_lots" in changes:
        new_keys = {(lot["gtin"], lot["lot"]) for lot in ncr.affected_lots}
        old_keys = {(lot["gtin"], lot["lot"]) for lot in old_lots}
        added = [lot for lot in ncr.affected_lots if (lot["gtin"], lot["lot"]) not in old_keys]
        still = repo.lots_held_by_other_open_ncrs(session, ncr.tenant_id, ncr.id, NCR_CLOSED)
        removed = [
            lot
            for lot in old_lots
            if (lot["gtin"], lot["lot"]) not in new_keys and (lot["gtin"], lot["lot"]) not in still
        ]
        _emit(session, principal, ncr, "hold", added)
        _emit(session, principal, ncr, "release", removed)
    if ncr.supplier_party_id != old_supplier:
        facts.ncr_shared(session, ncr)
    return ncr


def supplier_respond(
    session: Session, principal: Principal, ncr_id: int, data: SupplierResponseIn
) -> Ncr:
    """The supplier concerned answers an NCR about its material (SCAR): the response is stored
    and the NCR goes back to the hub's investigation, in one step."""
    principal.require(Permission.QUALITY_REPORT)
    ncr: Ncr = locked_record(session, principal, "ncr", ncr_id)
    if principal.party_id not in (ncr.supplier_party_id, principal.hub_party_id):
        raise PermissionDenied(
            "Only the supplier concerned can answer this NCR.", code=Code.NCR_NOT_THE_SUPPLIER
        )
    if ncr.state != "awaiting_supplier":
        raise Conflict(
            "{action} is not possible while the record is {state}.",
            code=ComplianceCode.WORKFLOW_NOT_ALLOWED,
            params={"action": "respond", "state": ncr.state},
        )
    ncr.supplier_response = data.response.strip()
    ncr.supplier_responded_at = utcnow()
    perform(session, principal, NCR_WORKFLOW, ncr, "respond", reason="SCAR response")
    return ncr


def ncr_transition(
    session: Session, principal: Principal, ncr_id: int, data: TransitionIn, **kwargs: Any
) -> Ncr:
    from medledger.quality.service import transition

    ncr: Ncr = transition(session, principal, "ncr", ncr_id, data, **kwargs)
    return ncr


def raise_from_inspection(session: Session, principal: Principal, inspection: Any) -> Ncr:
    """The NCR a failed inspection opens: source ``inspection``, the product, the supplier
    concerned and the lot (put on hold at once, like every NCR's lots). It is the hub's record
    (author party: the hub) even when a test lab's result failed it; its author is the hub user
    who entered the deciding result, or nobody for a lab's result."""
    failed = [
        c["name"]
        for c in inspection.characteristics
        if inspection.results.get(c["name"], {}).get("verdict") == "fail"
    ]
    lots = [{"gtin": inspection.gtin, "lot": inspection.lot}]
    now = utcnow()
    ncr = Ncr(
        tenant_id=inspection.tenant_id,
        number=repo.next_number(session, Ncr, inspection.tenant_id, "NCR", now.year),
        title=f"{inspection.number} failed: {', '.join(failed)}"[:200],
        description=(
            f"Inspection {inspection.number} ({inspection.kind}) of lot {inspection.lot} "
            f"failed on: {', '.join(failed)}."
        ),
        state=NCR_WORKFLOW.initial,
        source=NcrSource.INSPECTION.value,
        severity="major",
        product_id=inspection.product_id,
        supplier_party_id=inspection.supplier_party_id,
        affected_lots=lots,
        created_by_user_id=principal.user_id if principal.sees_all_parties else None,
        created_by_party_id=principal.hub_party_id or principal.party_id,
        version=1,
    )
    session.add(ncr)
    session.flush()
    _emit(session, principal, ncr, "hold", lots)
    facts.ncr_shared(session, ncr)
    return ncr


# Stock status belongs to inventory: its handler puts the NCR's lots on hold (quality is the
# context above inventory, so the registration lives here, not in inventory).
register_lot_hold_handler(InventoryLotHolds())
