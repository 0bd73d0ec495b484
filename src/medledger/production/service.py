"""Work orders: plan, start, complete (one EPCIS TransformationEvent), device history record.

Completing a work order builds one TransformationEvent at the production location — the
component lots/serials as inputs, the finished lot (or serials) as outputs, the finished lot
and expiry in the ILMD — and captures it through the trace ledger in the caller's
transaction. The ledger's projections then do the rest exactly as for a partner's event:
genealogy edges from every component to the finished lot, and the stock projection consumes
the components (released, unexpired, unrecalled stock only) and produces the finished lot
into quarantine. A refusal anywhere rolls the whole operation back.
"""

from __future__ import annotations

import math
import uuid
from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from medledger.catalog.models import BillOfMaterials, BomLine, BomStatus, Product
from medledger.core.db import utcnow
from medledger.core.errors import Conflict, FieldError, NotFound, ValidationFailed
from medledger.core.principal import Permission, Principal
from medledger.core.repository import get_visible, list_visible
from medledger.identifiers.digital_link import encode_value
from medledger.inventory import service as inventory
from medledger.inventory.models import InventoryLot
from medledger.inventory.plan import DL
from medledger.inventory.schemas import StockLineIn
from medledger.production.errors import Code
from medledger.production.models import WorkOrder, WorkOrderComponent, WorkOrderStatus
from medledger.production.schemas import (
    CompleteIn,
    ComponentOut,
    DeviceHistoryOut,
    RequirementOut,
    StartIn,
    WorkOrderIn,
    WorkOrderOut,
)

S = WorkOrderStatus


def _conflict(field: str, code: Code, message: str, **params: Any) -> Conflict:
    return Conflict(
        message,
        code=code,
        params=params,
        errors=[FieldError(field=field, code=code, message=message, params=params)]
        if field
        else [],
    )


def _invalid(field: str, code: Code, message: str, **params: Any) -> ValidationFailed:
    return ValidationFailed(
        message,
        code=code,
        params=params,
        errors=[FieldError(field=field, code=code, message=message, params=params)],
    )


def _active_bom(session: Session, product: Product) -> BillOfMaterials:
    bom = session.scalar(
        select(BillOfMaterials)
        .where(
            BillOfMaterials.tenant_id == product.tenant_id,
            BillOfMaterials.product_id == product.id,
            BillOfMaterials.status == BomStatus.ACTIVE.value,
        )
        .order_by(BillOfMaterials.version.desc())
        .limit(1)
    )
    if bom is None:
        raise _conflict(
            "gtin",
            Code.NO_ACTIVE_BOM,
            "{gtin} has no active bill of material to produce it by.",
            gtin=product.gtin,
        )
    return bom


def _bom_lines(session: Session, bom_id: int) -> list[BomLine]:
    return list(
        session.scalars(
            select(BomLine).where(BomLine.bom_id == bom_id).order_by(BomLine.component_gtin)
        )
    )


def required_quantity(quantity_per: Any, quantity: int) -> int:
    """Whole units of a component for ``quantity`` finished units (rounded up)."""
    return math.ceil(quantity_per * quantity)


def create_work_order(session: Session, principal: Principal, data: WorkOrderIn) -> WorkOrder:
    """Plan a work order by the product's active BOM at a managed production location."""
    principal.require(Permission.INVENTORY_MOVE)
    product = session.scalar(
        select(Product).where(Product.tenant_id == principal.tenant_id, Product.gtin == data.gtin)
    )
    if product is None:
        raise _invalid(
            "gtin",
            Code.UNKNOWN_PRODUCT,
            "No product with GTIN {gtin} is registered.",
            gtin=data.gtin,
        )
    bom = _active_bom(session, product)
    location, _site = inventory.managed_location(
        session, principal, data.location_id, "location_id"
    )
    if data.serials:
        if len(set(data.serials)) != len(data.serials) or len(data.serials) != data.quantity:
            raise _invalid(
                "serials",
                Code.OUTPUT_IDENTIFIER,
                "List {quantity} different serials, one per finished unit.",
                quantity=data.quantity,
            )
    elif not data.lot:
        raise _invalid(
            "lot", Code.OUTPUT_IDENTIFIER, "Name the finished lot (or list the serials)."
        )
    number = data.number or _next_number(session, principal.tenant_id)
    taken = session.scalar(
        select(WorkOrder.id).where(
            WorkOrder.tenant_id == principal.tenant_id, WorkOrder.number == number
        )
    )
    if taken is not None:
        raise _conflict(
            "number", Code.NUMBER_TAKEN, "Work order {number} already exists.", number=number
        )
    order = WorkOrder(
        tenant_id=principal.tenant_id,
        number=number,
        product_id=product.id,
        gtin=product.gtin,
        bom_id=bom.id,
        bom_version=bom.version,
        location_id=location.id,
        quantity=data.quantity,
        lot=data.lot,
        serials=list(data.serials),
        expiry=data.expiry,
        due_date=data.due_date,
        status=S.PLANNED.value,
        note=data.note,
        created_by=principal.label,
        created_at=utcnow(),
        operators=[],
    )
    session.add(order)
    session.flush()
    return order


def _next_number(session: Session, tenant_id: int) -> str:
    count = session.scalar(
        select(func.count()).select_from(WorkOrder).where(WorkOrder.tenant_id == tenant_id)
    )
    return f"WO-{int(count or 0) + 1:05d}"


def get_work_order(session: Session, principal: Principal, work_order_id: int) -> WorkOrder:
    principal.require(Permission.INVENTORY_READ)
    return get_visible(session, WorkOrder, work_order_id, principal)


def list_work_orders(
    session: Session,
    principal: Principal,
    *,
    status: str | None = None,
    page: int = 1,
    page_size: int = 50,
) -> tuple[list[WorkOrder], int]:
    principal.require(Permission.INVENTORY_READ)
    filters = [WorkOrder.status == status] if status else []
    return list_visible(
        session,
        WorkOrder,
        principal,
        filters=filters,
        order_by=WorkOrder.id.desc(),
        page=page,
        page_size=page_size,
    )


def requirements(session: Session, order: WorkOrder) -> list[RequirementOut]:
    """Per BOM line: the whole units needed and how many are available to consume at the
    production location (released, unexpired, unrecalled, loose)."""
    out = []
    for line in _bom_lines(session, order.bom_id):
        required = required_quantity(line.quantity_per, order.quantity)
        _picks, shortfall = inventory.fefo_at_location(
            session, order.tenant_id, order.location_id, line.component_gtin, required
        )
        out.append(
            RequirementOut(
                gtin=line.component_gtin,
                quantity_per=str(line.quantity_per.normalize()),
                required=required,
                available=required - shortfall,
            )
        )
    return out


def _refuse_short(requirements_: list[RequirementOut]) -> None:
    for number, need in enumerate(requirements_):
        if need.available < need.required:
            raise _conflict(
                f"components.{number}",
                Code.INSUFFICIENT_COMPONENTS,
                "Only {available} of component {gtin} can be consumed at the production "
                "location (released, unexpired, unrecalled); {required} needed.",
                gtin=need.gtin,
                available=need.available,
                required=need.required,
            )


def _claim(session: Session, order: WorkOrder, current: WorkOrderStatus) -> None:
    """Lock the work order in ``current`` state for this transaction: one conditional
    ``UPDATE … WHERE status = :current`` (a concurrent start or completion of the same order
    waits on the row and then matches nothing, so it is refused, never done twice)."""
    claimed = session.execute(
        update(WorkOrder)
        .where(WorkOrder.id == order.id, WorkOrder.status == current.value)
        .values(status=current.value)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(order)
        _require_state(order, current)


def _require_state(order: WorkOrder, *states: WorkOrderStatus) -> None:
    if order.status not in {s.value for s in states}:
        raise _conflict(
            "status",
            Code.WRONG_STATE,
            "Work order {number} is {status}.",
            number=order.number,
            status=order.status,
        )


def start_work_order(
    session: Session, principal: Principal, work_order_id: int, data: StartIn
) -> WorkOrder:
    """Start: every component must be there to consume (nothing is reserved yet)."""
    principal.require(Permission.INVENTORY_MOVE)
    order = get_visible(session, WorkOrder, work_order_id, principal)
    _require_state(order, S.PLANNED)
    _claim(session, order, S.PLANNED)
    _refuse_short(requirements(session, order))
    order.status = S.IN_PROGRESS.value
    order.started_by = principal.label
    order.started_at = utcnow()
    order.operators = _merge(order.operators, [principal.label, *data.operators])
    session.flush()
    return order


def cancel_work_order(session: Session, principal: Principal, work_order_id: int) -> WorkOrder:
    principal.require(Permission.INVENTORY_MOVE)
    order = get_visible(session, WorkOrder, work_order_id, principal)
    _require_state(order, S.PLANNED, S.IN_PROGRESS)
    order.status = S.CANCELLED.value
    session.flush()
    return order


def _merge(existing: list[Any], new: list[str]) -> list[str]:
    out = [str(x) for x in existing]
    for name in new:
        if name and name not in out:
            out.append(name)
    return out


def _consumption(
    session: Session, order: WorkOrder, data: CompleteIn
) -> list[tuple[str, str, str, int]]:
    """(gtin, lot, serial, quantity) to consume: the operator's choice, checked against the
    BOM, or first expiry first out per BOM line."""
    lines = _bom_lines(session, order.bom_id)
    needed = {
        line.component_gtin: required_quantity(line.quantity_per, order.quantity) for line in lines
    }
    if data.components:
        given: dict[str, int] = defaultdict(int)
        for number, component in enumerate(data.components):
            if component.gtin not in needed:
                raise _invalid(
                    f"components.{number}.gtin",
                    Code.COMPONENT_NOT_IN_BOM,
                    "{gtin} is not a component of BOM version {version}.",
                    gtin=component.gtin,
                    version=order.bom_version,
                )
            given[component.gtin] += component.quantity
        for gtin, required in needed.items():
            if given.get(gtin, 0) != required:
                raise _invalid(
                    "components",
                    Code.COMPONENT_QUANTITY,
                    "{given} of component {gtin} listed; the BOM needs {required}.",
                    gtin=gtin,
                    given=given.get(gtin, 0),
                    required=required,
                )
        return [(c.gtin, c.lot, c.serial, c.quantity) for c in data.components]
    _refuse_short(requirements(session, order))
    out: list[tuple[str, str, str, int]] = []
    for gtin, required in needed.items():
        picks, _ = inventory.fefo_at_location(
            session, order.tenant_id, order.location_id, gtin, required
        )
        out.extend((p.gtin, p.lot, p.serial, p.quantity) for p in picks)
    return out


def _epc(gtin: str, lot: str, serial: str) -> str:
    if serial:
        return f"{DL}/01/{gtin}/21/{encode_value(serial)}"
    if lot:
        return f"{DL}/01/{gtin}/10/{encode_value(lot)}"
    return f"{DL}/01/{gtin}"


def complete_work_order(
    session: Session, principal: Principal, work_order_id: int, data: CompleteIn
) -> WorkOrder:
    """Consume the components and produce the finished lot/serials: one TransformationEvent
    captured through the ledger; the device history record is kept on the work order."""
    principal.require(Permission.INVENTORY_MOVE)
    order = get_visible(session, WorkOrder, work_order_id, principal)
    _require_state(order, S.IN_PROGRESS)
    _claim(session, order, S.IN_PROGRESS)
    consumed = _consumption(session, order, data)
    location, site = inventory.managed_location(
        session, principal, order.location_id, "location_id"
    )
    where = inventory.location_uri(location, site)
    if order.lot:
        inventory.remember_expiry(
            session,
            principal.tenant_id,
            [StockLineIn(gtin=order.gtin, lot=order.lot, quantity=1, expiry=order.expiry)],
        )
    now = utcnow()
    ilmd: dict[str, Any] = {}
    if order.lot:
        ilmd["cbvmda:lotNumber"] = order.lot
    if order.expiry is not None:
        ilmd["cbvmda:itemExpirationDate"] = order.expiry.isoformat()
    event: dict[str, Any] = {
        "type": "TransformationEvent",
        "eventID": f"urn:uuid:{uuid.uuid4()}",
        "eventTime": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "eventTimeZoneOffset": "+00:00",
        "inputEPCList": [_epc(g, lot, s) for g, lot, s, _ in consumed if s],
        "inputQuantityList": [
            {"epcClass": _epc(g, lot, ""), "quantity": q} for g, lot, s, q in consumed if not s
        ],
        "outputEPCList": [_epc(order.gtin, "", s) for s in order.serials],
        "outputQuantityList": []
        if order.serials
        else [{"epcClass": _epc(order.gtin, order.lot, ""), "quantity": order.quantity}],
        "bizStep": "assembling",
        "disposition": "in_progress",
        "readPoint": {"id": where},
        "bizLocation": {"id": where},
        "bizTransactionList": [
            {"type": "prodorder", "bizTransaction": f"urn:medledger:prodorder:{order.number}"}
        ],
    }
    if ilmd:
        event["ilmd"] = ilmd
    rows = inventory.capture(session, principal, event)
    expiries = inventory_expiries(session, principal.tenant_id, consumed)
    session.add_all(
        WorkOrderComponent(
            tenant_id=principal.tenant_id,
            work_order_id=order.id,
            gtin=gtin,
            lot=lot,
            serial=serial,
            quantity=quantity,
            expiry=expiries.get((gtin, lot)),
        )
        for gtin, lot, serial, quantity in consumed
    )
    order.status = S.COMPLETED.value
    order.completed_by = principal.label
    order.completed_at = now
    order.operators = _merge(order.operators, [principal.label, *data.operators])
    order.event_id = event["eventID"]
    order.epcis_event_row_id = rows[0]
    session.flush()
    return order


def inventory_expiries(
    session: Session, tenant_id: int, consumed: list[tuple[str, str, str, int]]
) -> dict[tuple[str, str], date | None]:
    keys = {(g, lot) for g, lot, _, _ in consumed if lot}
    if not keys:
        return {}
    rows = session.execute(
        select(InventoryLot.gtin, InventoryLot.lot, InventoryLot.expiry).where(
            InventoryLot.tenant_id == tenant_id,
            InventoryLot.gtin.in_(sorted({g for g, _ in keys})),
            InventoryLot.lot.in_(sorted({lot for _, lot in keys})),
        )
    ).all()
    return {(g, lot): e for g, lot, e in rows}


def components_of(session: Session, order: WorkOrder) -> list[WorkOrderComponent]:
    return list(
        session.scalars(
            select(WorkOrderComponent)
            .where(WorkOrderComponent.work_order_id == order.id)
            .order_by(WorkOrderComponent.id)
        )
    )


def work_order_out(session: Session, order: WorkOrder) -> WorkOrderOut:
    out = WorkOrderOut.model_validate(order)
    out.components = [ComponentOut.model_validate(c) for c in components_of(session, order)]
    return out


def device_history(session: Session, principal: Principal, gtin: str, lot: str) -> DeviceHistoryOut:
    """The device history record of a finished lot (or of the lot of finished serials)."""
    principal.require(Permission.INVENTORY_READ)
    orders, _ = list_visible(
        session,
        WorkOrder,
        principal,
        filters=[
            WorkOrder.gtin == gtin,
            WorkOrder.lot == lot,
            WorkOrder.status == S.COMPLETED.value,
        ],
        order_by=WorkOrder.id,
        page_size=500,
    )
    if not orders:
        raise NotFound(
            "No completed work order produced {gtin} lot {lot}.",
            params={"gtin": gtin, "lot": lot},
        )
    return DeviceHistoryOut(
        gtin=gtin, lot=lot, work_orders=[work_order_out(session, o) for o in orders]
    )
