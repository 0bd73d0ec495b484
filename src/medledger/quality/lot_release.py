"""Lot release and rejection with a Part 11 signature.

QA requests the decision on a lot (the requester is the record's author); a QA approver other
than the requester signs ``released`` — the lot's quarantine stock, everywhere in own stock,
goes to released — or ``rejected`` — its quarantine and on-hold stock goes to rejected. Both
move stock through inventory's service (``inventory.service.release_lot`` / ``reject_lot``),
which is the only way stock leaves quarantine. A release is refused while an open NCR names the
lot, and, when the product has an active inspection plan, unless the lot's latest decided
inspection passed. The inspection the decision rests on is part of the signed content.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from medledger.catalog.errors import Code as CatalogCode
from medledger.catalog.models import Product
from medledger.core.db import utcnow
from medledger.core.errors import Conflict, field_error
from medledger.core.principal import Permission, Principal
from medledger.inventory import service as inventory
from medledger.quality import repository as repo
from medledger.quality.errors import Code
from medledger.quality.inspection_schemas import LotReleaseIn
from medledger.quality.lot_workflows import (
    LOT_RELEASE_CLOSED,
    LOT_RELEASE_WORKFLOW,
    latest_decided_inspection,
)
from medledger.quality.models import LotRelease
from medledger.quality.service import check_hub_user


def request_release(session: Session, principal: Principal, data: LotReleaseIn) -> LotRelease:
    """Ask for the decision on a lot (one open request per lot)."""
    principal.require(Permission.QUALITY_WRITE)
    tenant = principal.tenant_id
    product = session.scalar(
        select(Product).where(Product.tenant_id == tenant, Product.gtin == data.gtin)
    )
    if product is None:
        raise field_error(
            "gtin", CatalogCode.PRODUCT_UNKNOWN, "No product has GTIN {gtin}.", gtin=data.gtin
        )
    check_hub_user(session, principal, "owner_user_id", data.owner_user_id)
    pending = session.scalar(
        select(LotRelease.number).where(
            LotRelease.tenant_id == tenant,
            LotRelease.gtin == data.gtin,
            LotRelease.lot == data.lot,
            LotRelease.state.not_in(LOT_RELEASE_CLOSED),
        )
    )
    if pending is not None:
        raise Conflict(
            "Lot {lot} already waits for its decision in {record}.",
            code=Code.LOT_RELEASE_ALREADY_REQUESTED,
            params={"lot": data.lot, "record": pending},
        )
    inspection = latest_decided_inspection(session, tenant, data.gtin, data.lot)
    now = utcnow()
    release = LotRelease(
        tenant_id=tenant,
        number=repo.next_number(session, LotRelease, tenant, "LR", now.year),
        title=f"{product.name} — {data.lot}"[:200],
        state=LOT_RELEASE_WORKFLOW.initial,
        product_id=product.id,
        gtin=data.gtin,
        lot=data.lot,
        supplier_party_id=inspection.supplier_party_id if inspection else None,
        note=data.note,
        inspection_id=inspection.id if inspection else None,
        received_at=inventory.first_receipt_at(session, tenant, data.gtin, data.lot),
        owner_user_id=data.owner_user_id,
        created_by_user_id=principal.user_id,
        created_by_party_id=principal.party_id,
        version=1,
    )
    session.add(release)
    session.flush()
    return release


def refresh_evidence(session: Session, release: LotRelease) -> None:
    """Before a decision is signed: the latest decided inspection of the lot becomes the one the
    decision rests on (so the signature covers it), and the receipt time is filled in."""
    if release.state != LOT_RELEASE_WORKFLOW.initial:
        return
    inspection = latest_decided_inspection(session, release.tenant_id, release.gtin, release.lot)
    if inspection is not None and release.inspection_id != inspection.id:
        release.inspection_id = inspection.id
        release.supplier_party_id = release.supplier_party_id or inspection.supplier_party_id
    if release.received_at is None:
        release.received_at = inventory.first_receipt_at(
            session, release.tenant_id, release.gtin, release.lot
        )
    session.flush()
