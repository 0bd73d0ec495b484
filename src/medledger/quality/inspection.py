"""Inspection plans and inspections: plans per product (and optionally supplier) and kind,
inspections of a lot against a plan version, results from the hub or from the test lab the
lot was sent to, automatic verdicts, and an NCR when an inspection fails."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from medledger.catalog.errors import Code as CatalogCode
from medledger.catalog.models import Product
from medledger.compliance.workflow import perform
from medledger.core.db import utcnow
from medledger.core.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    ValidationFailed,
    field_error,
)
from medledger.core.principal import Permission, Principal
from medledger.core.record_checks import check_record
from medledger.core.repository import get_visible, list_visible
from medledger.inventory import service as inventory
from medledger.parties.errors import Code as PartiesCode
from medledger.parties.models import Party, PartyRole
from medledger.quality import repository as repo
from medledger.quality.errors import Code
from medledger.quality.inspection_rules import ReadingError, judge, overall
from medledger.quality.inspection_schemas import (
    CharacteristicIn,
    InspectionIn,
    PlanIn,
    PlanUpdate,
    ResultsIn,
)
from medledger.quality.lot_workflows import INSPECTION_WORKFLOW
from medledger.quality.models import Inspection, InspectionPlan
from medledger.quality.ncr import check_product
from medledger.quality.service import check_hub_user, check_party, locked_record

# --- plans ----------------------------------------------------------------------------------


def _characteristics(items: list[CharacteristicIn], field: str) -> list[dict[str, Any]]:
    seen: set[str] = set()
    result = []
    for index, item in enumerate(items):
        key = item.name.strip().casefold()
        if key in seen:
            raise field_error(
                f"{field}.{index}.name",
                Code.INSPECTION_CHARACTERISTIC_DUPLICATE,
                "Characteristic {name} is named twice.",
                name=item.name,
            )
        seen.add(key)
        data = item.model_dump()
        data["name"] = item.name.strip()
        result.append(data)
    return result


def create_plan(session: Session, principal: Principal, data: PlanIn) -> InspectionPlan:
    """A new inspection plan (version 1)."""
    principal.require(Permission.QUALITY_WRITE)
    check_product(session, principal, data.product_id)
    check_party(session, principal, "supplier_party_id", data.supplier_party_id)
    now = utcnow()
    plan = InspectionPlan(
        tenant_id=principal.tenant_id,
        number=repo.next_number(session, InspectionPlan, principal.tenant_id, "IP", now.year),
        title=data.title.strip(),
        product_id=data.product_id,
        supplier_party_id=data.supplier_party_id,
        kind=data.kind.value,
        characteristics=_characteristics(data.characteristics, "characteristics"),
        active=True,
        version=1,
        created_by_user_id=principal.user_id,
        created_by_party_id=principal.party_id,
    )
    session.add(plan)
    session.flush()
    return plan


def get_plan(session: Session, principal: Principal, plan_id: int) -> InspectionPlan:
    principal.require(Permission.QUALITY_READ)
    plan: InspectionPlan = get_visible(session, InspectionPlan, plan_id, principal)
    return plan


def update_plan(
    session: Session, principal: Principal, plan_id: int, data: PlanUpdate
) -> InspectionPlan:
    """Edit a plan: a new version (the audit trail keeps the old values; inspections already
    made keep the characteristics and version they were made with)."""
    principal.require(Permission.QUALITY_WRITE)
    plan = repo.lock_record(session, InspectionPlan, plan_id, principal)
    if plan is None:
        raise NotFound(
            "{entity} {id} was not found.",
            params={"entity": "inspection_plan", "id": plan_id},
        )
    changes = data.model_dump(exclude_unset=True)
    if "title" in changes:
        if data.title is None:
            raise field_error("title", Code.VALUE_REQUIRED, "This field is required.")
        plan.title = data.title.strip()
    if "supplier_party_id" in changes:
        check_party(session, principal, "supplier_party_id", data.supplier_party_id)
        plan.supplier_party_id = data.supplier_party_id
    if "characteristics" in changes:
        if data.characteristics is None:
            raise field_error("characteristics", Code.VALUE_REQUIRED, "This field is required.")
        plan.characteristics = _characteristics(data.characteristics, "characteristics")
    if "active" in changes and data.active is not None:
        plan.active = data.active
    if changes:
        plan.version = (plan.version or 0) + 1
    session.flush()
    return plan


def list_plans(
    session: Session,
    principal: Principal,
    *,
    product_id: int | None = None,
    page: int = 1,
    page_size: int = 50,
) -> tuple[list[InspectionPlan], int]:
    principal.require(Permission.QUALITY_READ)
    filters: list[ColumnElement[bool]] = []
    if product_id is not None:
        filters.append(InspectionPlan.product_id == product_id)
    return list_visible(
        session,
        InspectionPlan,
        principal,
        filters=filters,
        order_by=InspectionPlan.id.desc(),
        page=page,
        page_size=page_size,
    )


def plan_for(
    session: Session, tenant_id: int, product_id: int, supplier_party_id: int | None, kind: str
) -> InspectionPlan | None:
    """The active plan for a lot: the supplier's own plan first, then the product's general one."""
    plans = list(
        session.scalars(
            select(InspectionPlan)
            .where(
                InspectionPlan.tenant_id == tenant_id,
                InspectionPlan.product_id == product_id,
                InspectionPlan.kind == kind,
                InspectionPlan.active.is_(True),
                or_(
                    InspectionPlan.supplier_party_id.is_(None),
                    InspectionPlan.supplier_party_id == supplier_party_id,
                ),
            )
            .order_by(InspectionPlan.id.desc())
        )
    )
    plans.sort(key=lambda p: p.supplier_party_id is None)
    return plans[0] if plans else None


# --- inspections ----------------------------------------------------------------------------


def _check_lab(session: Session, principal: Principal, party_id: int | None) -> None:
    if party_id is None:
        return
    party = session.get(Party, party_id)
    if party is None or party.tenant_id != principal.tenant_id:
        raise field_error(
            "lab_party_id", PartiesCode.PARTY_UNKNOWN, "Party {id} does not exist.", id=party_id
        )
    if PartyRole.TEST_LAB.value not in (party.roles or []):
        raise field_error(
            "lab_party_id",
            Code.INSPECTION_NOT_A_TEST_LAB,
            "{party} is not a test lab.",
            party=party.name,
        )


def create_inspection(session: Session, principal: Principal, data: InspectionIn) -> Inspection:
    """Open an inspection of a lot against the applicable (or named) plan; assigning a test lab
    shares it with that lab's users."""
    principal.require(Permission.QUALITY_WRITE)
    product = session.scalar(
        select(Product).where(Product.tenant_id == principal.tenant_id, Product.gtin == data.gtin)
    )
    if product is None:
        raise field_error(
            "gtin", CatalogCode.PRODUCT_UNKNOWN, "No product has GTIN {gtin}.", gtin=data.gtin
        )
    check_party(session, principal, "supplier_party_id", data.supplier_party_id)
    check_hub_user(session, principal, "owner_user_id", data.owner_user_id)
    _check_lab(session, principal, data.lab_party_id)
    if data.plan_id is not None:
        plan = session.get(InspectionPlan, data.plan_id)
        if plan is None or plan.tenant_id != principal.tenant_id or plan.product_id != product.id:
            raise field_error(
                "plan_id",
                Code.INSPECTION_PLAN_UNKNOWN,
                "Inspection plan {id} is not a plan of this product.",
                id=data.plan_id,
            )
    else:
        plan = plan_for(
            session, principal.tenant_id, product.id, data.supplier_party_id, data.kind.value
        )
        if plan is None:
            raise field_error(
                "kind",
                Code.INSPECTION_NO_PLAN,
                "There is no active {kind} inspection plan for {gtin}.",
                kind=data.kind.value,
                gtin=data.gtin,
            )
    now = utcnow()
    inspection = Inspection(
        tenant_id=principal.tenant_id,
        number=repo.next_number(session, Inspection, principal.tenant_id, "INS", now.year),
        title=f"{plan.title} — {data.lot}"[:200],
        state=INSPECTION_WORKFLOW.initial,
        kind=plan.kind,
        plan_id=plan.id,
        plan_version=plan.version,
        product_id=product.id,
        gtin=data.gtin,
        lot=data.lot,
        supplier_party_id=data.supplier_party_id or plan.supplier_party_id,
        lab_party_id=data.lab_party_id,
        characteristics=list(plan.characteristics),
        results={},
        received_at=inventory.first_receipt_at(session, principal.tenant_id, data.gtin, data.lot)
        or now,
        owner_user_id=data.owner_user_id,
        created_by_user_id=principal.user_id,
        created_by_party_id=principal.party_id,
        version=1,
    )
    session.add(inspection)
    session.flush()
    return inspection


def _check_with_dictionary(
    session: Session,
    principal: Principal,
    index: int,
    characteristic: dict[str, Any],
    values: list[Any],
    verdict: str,
) -> None:
    """Each reading as an ``inspection_result`` record, checked against the rules other
    contexts register (the data dictionary's version in force): a refusal names the reading."""
    problems = []
    readings = values if characteristic["kind"] == "numeric" else [None]
    for number, reading in enumerate(readings):

        def where(name: str, number: int = number) -> str:
            if name == "measured_value":
                return f"results.{index}.values.{number}"
            return f"results.{index}.{'name' if name == 'characteristic' else name}"

        problems += check_record(
            session,
            principal,
            "inspection_result",
            {
                "characteristic": characteristic["name"],
                "measured_value": reading,
                "unit": characteristic.get("unit") or None,
                "lower_limit": characteristic.get("lower"),
                "upper_limit": characteristic.get("upper"),
                "result": verdict,
            },
            where,
        )
    if problems:
        raise ValidationFailed(
            "The results break the data dictionary's rules.",
            code=Code.INSPECTION_RESULT_INVALID,
            errors=problems,
        )


def record_results(
    session: Session, principal: Principal, inspection_id: int, data: ResultsIn
) -> Inspection:
    """Enter readings (hub QA, or a user of the test lab the inspection is assigned to). Each
    characteristic gets its verdict; once all have readings the inspection is decided
    (``pass`` / ``fail`` step), and a failed one opens an NCR with the lot."""
    principal.require(Permission.QUALITY_REPORT)
    inspection: Inspection = locked_record(session, principal, "inspection", inspection_id)
    if principal.sees_all_parties:
        principal.require(Permission.QUALITY_WRITE)
    elif inspection.lab_party_id != principal.party_id:
        raise PermissionDenied(
            "Only the test lab the lot was sent to enters its results.",
            code=Code.INSPECTION_NOT_THE_LAB,
        )
    if inspection.state != "open":
        raise Conflict(
            "{record} is {state}; its results can no longer change.",
            code=Code.INSPECTION_DECIDED,
            params={"record": inspection.number, "state": inspection.state},
        )
    by_name = {c["name"].casefold(): c for c in inspection.characteristics}
    results = dict(inspection.results or {})
    now = utcnow().isoformat()
    for index, result in enumerate(data.results):
        characteristic = by_name.get(result.name.strip().casefold())
        if characteristic is None:
            raise field_error(
                f"results.{index}.name",
                Code.INSPECTION_CHARACTERISTIC_UNKNOWN,
                "{name} is not a characteristic of this inspection.",
                name=result.name,
            )
        try:
            values, verdict = judge(characteristic, result.values)
        except ReadingError as error:
            raise field_error(
                f"results.{index}.values", error.code, error.message, **error.params
            ) from None
        _check_with_dictionary(session, principal, index, characteristic, values, verdict)
        results[characteristic["name"]] = {
            "values": values,
            "verdict": verdict,
            "by": principal.label,
            "party_id": principal.party_id,
            "at": now,
        }
    inspection.results = results
    inspection.version = (inspection.version or 0) + 1
    session.flush()
    decided = overall(inspection.characteristics, results)
    if decided is not None:
        perform(
            session,
            principal,
            INSPECTION_WORKFLOW,
            inspection,
            "pass" if decided == "pass" else "fail",
            reason=f"results of {inspection.number}",
        )
    return inspection


def list_inspections(
    session: Session,
    principal: Principal,
    *,
    gtin: str | None = None,
    lot: str | None = None,
    state: str | None = None,
    page: int = 1,
    page_size: int = 50,
) -> tuple[list[Inspection], int]:
    principal.require(Permission.QUALITY_READ)
    filters: list[ColumnElement[bool]] = []
    if gtin:
        filters.append(Inspection.gtin == gtin)
    if lot:
        filters.append(Inspection.lot == lot)
    if state:
        filters.append(Inspection.state == state)
    return list_visible(
        session,
        Inspection,
        principal,
        filters=filters,
        order_by=Inspection.id.desc(),
        page=page,
        page_size=page_size,
    )
