"""Per-partner EDI settings, despatch advices generated from shipments, and other EDI
documents (order responses) delivered to partners' outbound folders.

A despatch advice covers one shipping event: every SSCC it shipped to the partner, with the
items packed in each (GTIN, lot, serial, quantity) as the stock ledger moved them and the
lots' expiry as inventory knows it. It is kept as sent, written to the partner's outbound
folder after commit (``medledger edi write-outbound`` writes any file a crash left unwritten),
and/or published to the outbox as ``edi.despatch_advice`` for the partner's webhooks. It is
generated at the shipping event itself when the partner's settings ask for it
(``despatch_advice_auto``, ``integration.edi.auto``), else on request (API, CLI).
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from medledger.core.config import get_settings as process_settings
from medledger.core.db import utcnow
from medledger.core.errors import PermissionDenied
from medledger.core.principal import Permission, Principal
from medledger.core.repository import get_visible, list_visible
from medledger.integration.edi import documents
from medledger.integration.edi.models import (
    DespatchAdvice,
    EdiPartnerSetting,
    OutboundFile,
    Syntax,
)
from medledger.integration.errors import Code, field_invalid, not_found
from medledger.integration.event_types import register_event_type
from medledger.integration.outbox import publish
from medledger.inventory.models import InventoryLot, MovementKind, Shipment, StockMovement
from medledger.parties.models import Party, Tenant

DESPATCH_ADVICE = register_event_type(
    "edi.despatch_advice",
    "A despatch advice (EANCOM DESADV or X12 856) for goods shipped to the partner, "
    "with the document itself.",
)
_IDENTIFIER = re.compile(r"^[0-9A-Za-z]{1,4}:[0-9A-Za-z .\-]{1,35}$")
_FOLDER = re.compile(r"^[0-9A-Za-z_\-]+(/[0-9A-Za-z_\-]+)*$")


def _require_hub(principal: Principal, permission: Permission) -> None:
    principal.require(permission)
    if not principal.sees_all_parties:
        raise PermissionDenied(
            "Only the hub's staff may do this.", params={"permission": permission.value}
        )


# --- settings --------------------------------------------------------------------------------


def get_settings(session: Session, principal: Principal, party_id: int) -> EdiPartnerSetting:
    """The EDI settings of ``party_id`` (a partner may read its own)."""
    principal.require(Permission.PARTIES_READ)
    get_visible(session, Party, party_id, principal)
    setting = session.scalar(
        select(EdiPartnerSetting).where(
            EdiPartnerSetting.tenant_id == principal.tenant_id,
            EdiPartnerSetting.party_id == party_id,
        )
    )
    if setting is None or (not principal.sees_all_parties and party_id != principal.party_id):
        raise not_found("EDI settings of party", party_id)
    return setting


def list_settings(
    session: Session, principal: Principal, *, page: int = 1, page_size: int = 50
) -> tuple[list[EdiPartnerSetting], int]:
    principal.require(Permission.PARTIES_READ)
    return list_visible(
        session,
        EdiPartnerSetting,
        principal,
        order_by=EdiPartnerSetting.party_id,
        page=page,
        page_size=page_size,
    )


def _check_settings(data: Any) -> None:
    for name in ("our_id", "partner_id"):
        if not _IDENTIFIER.match(getattr(data, name)):
            raise field_invalid(
                name,
                Code.EDI_IDENTIFIER_INVALID,
                "Give the interchange identifier as qualifier:id, e.g. 14:4012345000009.",
            )
    if data.syntax == Syntax.X12.value:
        separators = (data.element_separator, data.component_separator, data.segment_terminator)
        if len(set(separators)) != 3 or any(c.isalnum() or c == " " for c in separators):
            raise field_invalid(
                "element_separator",
                Code.EDI_SEPARATORS_INVALID,
                "The three X12 separators must be distinct characters that are neither "
                "letters, digits nor blanks.",
            )
        for name in ("our_id", "partner_id"):
            if len(getattr(data, name).partition(":")[2]) > 15:
                raise field_invalid(
                    name,
                    Code.EDI_IDENTIFIER_INVALID,
                    "An X12 interchange id has at most 15 characters.",
                )
    if data.outbound_folder and not _FOLDER.match(data.outbound_folder):
        raise field_invalid(
            "outbound_folder",
            Code.EDI_FOLDER_INVALID,
            "Give a folder inside the EDI outbound root: letters, digits, - and _, separated by /.",
        )
    if not data.outbound_folder and not data.deliver_via_outbox:
        raise field_invalid(
            "outbound_folder",
            Code.EDI_NO_CHANNEL,
            "Give an outbound folder, or deliver through the outbox, or both.",
        )


def put_settings(
    session: Session, principal: Principal, party_id: int, data: Any
) -> EdiPartnerSetting:
    """Create or replace the EDI settings of ``party_id`` (hub staff with integration
    rights)."""
    _require_hub(principal, Permission.INTEGRATION_MANAGE)
    get_visible(session, Party, party_id, principal)
    _check_settings(data)
    setting = session.scalar(
        select(EdiPartnerSetting).where(
            EdiPartnerSetting.tenant_id == principal.tenant_id,
            EdiPartnerSetting.party_id == party_id,
        )
    )
    if setting is None:
        setting = EdiPartnerSetting(tenant_id=principal.tenant_id, party_id=party_id)
        session.add(setting)
    for name, value in data.model_dump().items():
        setattr(setting, name, value)
    session.flush()
    return setting


# --- despatch advices ------------------------------------------------------------------------


def despatch_of(session: Session, tenant_id: int, ship_event_row_id: int) -> documents.Despatch:
    """What the shipping event ``ship_event_row_id`` sent, as the stock ledger moved it."""
    shipments = list(
        session.scalars(
            select(Shipment)
            .where(
                Shipment.tenant_id == tenant_id,
                Shipment.ship_event_row_id == ship_event_row_id,
            )
            .order_by(Shipment.id)
        )
    )
    first = shipments[0]
    party = session.get(Party, first.destination_party_id)
    tenant = session.get(Tenant, tenant_id)
    hub = session.get(Party, tenant.owner_party_id) if tenant and tenant.owner_party_id else None
    contents: dict[str, dict[tuple[str, str, str], int]] = {s.sscc: {} for s in shipments}
    for movement in session.scalars(
        select(StockMovement)
        .where(
            StockMovement.tenant_id == tenant_id,
            StockMovement.epcis_event_row_id == ship_event_row_id,
            StockMovement.kind == MovementKind.SHIP.value,
            StockMovement.reversal_of_id.is_(None),
        )
        .order_by(StockMovement.id)
    ):
        unit = contents.setdefault(movement.from_container, {})
        key = (movement.gtin, movement.lot, movement.serial)
        unit[key] = unit.get(key, 0) + movement.quantity
    lots = {(gtin, lot) for unit in contents.values() for gtin, lot, _ in unit}
    expiry = {
        (row.gtin, row.lot): row.expiry
        for row in session.scalars(
            select(InventoryLot).where(
                InventoryLot.tenant_id == tenant_id,
                InventoryLot.gtin.in_({gtin for gtin, _ in lots} or {""}),
            )
        )
        if (row.gtin, row.lot) in lots
    }
    return documents.Despatch(
        number=f"DES{ship_event_row_id:010d}",
        shipped_at=first.shipped_at,
        supplier_gln=hub.gln if hub else "",
        supplier_name=hub.name if hub else "",
        buyer_gln=party.gln if party else first.destination_gln,
        buyer_name=party.name if party else "",
        ship_to_gln=first.destination_gln,
        units=[
            documents.Unit(
                sscc,
                tuple(
                    documents.Item(gtin, lot, serial, quantity, expiry.get((gtin, lot)))
                    for (gtin, lot, serial), quantity in sorted(items.items())
                ),
            )
            for sscc, items in contents.items()
            if sscc
        ],
    )


def _write_after_commit(session: Session, path: Path, content: str) -> None:
    def write(_: Session) -> None:
        write_file(path, content)

    event.listen(session, "after_commit", write, once=True)


def write_file(path: Path, content: str) -> None:
    """Write ``content`` to ``path`` atomically (a partner's gateway never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
        out.write(content)
    os.replace(temporary, path)


def send_despatch_advice(
    session: Session, principal: Principal, shipment_id: int, *, outbound_root: Path
) -> tuple[DespatchAdvice, bool]:
    """The despatch advice of the shipping event that shipped ``shipment_id`` — generated,
    kept, written and published the first time; the same advice (``False``) after that."""
    _require_hub(principal, Permission.INVENTORY_MOVE)
    shipment = get_visible(session, Shipment, shipment_id, principal)
    if shipment.status == "retracted":
        raise field_invalid(
            "shipment_id",
            Code.EDI_SHIPMENT_NOT_DESPATCHED,
            "Shipment {id} was retracted: there is nothing to advise.",
            id=shipment_id,
        )
    existing = _advice_of_event(session, principal.tenant_id, shipment.ship_event_row_id)
    if existing is not None:
        return existing, False
    setting = setting_of(session, principal.tenant_id, shipment.destination_party_id)
    if setting is None:
        raise field_invalid(
            "shipment_id",
            Code.EDI_SETTINGS_MISSING,
            "The receiving party has no EDI settings yet.",
        )
    advice = generate_advice(
        session,
        shipment,
        setting,
        created_by=principal.label,
        outbound_root=outbound_root,
    )
    return advice, True


def setting_of(session: Session, tenant_id: int, party_id: int) -> EdiPartnerSetting | None:
    return session.scalar(
        select(EdiPartnerSetting).where(
            EdiPartnerSetting.tenant_id == tenant_id,
            EdiPartnerSetting.party_id == party_id,
        )
    )


def _advice_of_event(
    session: Session, tenant_id: int, ship_event_row_id: int
) -> DespatchAdvice | None:
    return session.scalar(
        select(DespatchAdvice).where(
            DespatchAdvice.tenant_id == tenant_id,
            DespatchAdvice.ship_event_row_id == ship_event_row_id,
        )
    )


def generate_advice(
    session: Session,
    shipment: Shipment,
    setting: EdiPartnerSetting,
    *,
    created_by: str,
    outbound_root: Path,
) -> DespatchAdvice:
    """Generate, keep, write (after commit) and publish the advice of ``shipment``'s shipping
    event for the partner ``setting`` belongs to."""
    tenant_id = shipment.tenant_id
    despatch = despatch_of(session, tenant_id, shipment.ship_event_row_id)
    advice = DespatchAdvice(
        tenant_id=tenant_id,
        party_id=shipment.destination_party_id,
        ship_event_row_id=shipment.ship_event_row_id,
        number=despatch.number,
        syntax=setting.syntax,
        standard="DESADV" if setting.syntax == Syntax.EDIFACT.value else "856",
        control_reference="",
        ssccs=[unit.sscc for unit in despatch.units],
        filename="",
        content="",
        created_by=created_by[:200],
    )
    session.add(advice)
    session.flush()
    now = utcnow()
    advice.control_reference = f"{advice.id:09d}"
    if setting.syntax == Syntax.EDIFACT.value:
        advice.content = documents.desadv(
            despatch,
            our_id=setting.our_id,
            partner_id=setting.partner_id,
            control_reference=advice.control_reference,
            now=now,
        )
        advice.filename = f"DESADV_{despatch.number}_{advice.control_reference}.edi"
    else:
        advice.content = documents.x12_856(
            despatch,
            our_id=setting.our_id,
            partner_id=setting.partner_id,
            control_number=advice.id,
            now=now,
            element_separator=setting.element_separator,
            component_separator=setting.component_separator,
            segment_terminator=setting.segment_terminator,
            test=setting.test_indicator,
        )
        advice.filename = f"856_{despatch.number}_{advice.control_reference}.x12"
    if setting.outbound_folder:
        path = outbound_root / setting.outbound_folder / advice.filename
        advice.written_path = str(path)
        _write_after_commit(session, path, advice.content)
    if setting.deliver_via_outbox:
        message = publish(
            session,
            tenant_id=tenant_id,
            event_type=DESPATCH_ADVICE.name,
            subject=despatch.number,
            payload={
                "standard": advice.standard,
                "number": despatch.number,
                "filename": advice.filename,
                "ssccs": advice.ssccs,
                "content": advice.content,
            },
            audience=[shipment.destination_party_id],
        )
        advice.outbox_message_id = message.message_id if message else ""
    session.flush()
    return advice


def advise_shipping_events(
    session: Session,
    tenant_id: int,
    ship_event_row_ids: list[int],
    *,
    created_by: str,
    outbound_root: Path,
) -> list[DespatchAdvice]:
    """The advices sent by themselves: for each shipping event to a partner whose settings
    ask for it (``despatch_advice_auto``) and that has none yet."""
    shipments = list(
        session.scalars(
            select(Shipment)
            .where(
                Shipment.tenant_id == tenant_id,
                Shipment.ship_event_row_id.in_(ship_event_row_ids),
            )
            .order_by(Shipment.id)
        )
    )
    first: dict[int, Shipment] = {}
    for shipment in shipments:
        first.setdefault(shipment.ship_event_row_id, shipment)
    advices = []
    for event_row_id, shipment in first.items():
        setting = setting_of(session, tenant_id, shipment.destination_party_id)
        if setting is None or not setting.despatch_advice_auto:
            continue
        if _advice_of_event(session, tenant_id, event_row_id) is not None:
            continue
        advices.append(
            generate_advice(
                session, shipment, setting, created_by=created_by, outbound_root=outbound_root
            )
        )
    return advices


def deliver_document(
    session: Session,
    *,
    tenant_id: int,
    party_id: int,
    filename: str,
    content: str,
    outbound_root: Path | None = None,
) -> OutboundFile | None:
    """Write an EDI document for ``party_id`` to its outbound folder after commit, when its
    settings name one; the record kept (``None`` when the partner has no folder)."""
    setting = setting_of(session, tenant_id, party_id)
    if setting is None or not setting.outbound_folder:
        return None
    root = outbound_root if outbound_root is not None else process_settings().edi_outbound_root
    path = root / setting.outbound_folder / filename
    record = OutboundFile(
        tenant_id=tenant_id,
        party_id=party_id,
        filename=filename,
        written_path=str(path),
        content=content,
    )
    session.add(record)
    session.flush()
    _write_after_commit(session, path, content)
    return record


def get_advice(session: Session, principal: Principal, advice_id: int) -> DespatchAdvice:
    principal.require(Permission.PARTIES_READ)
    return get_visible(session, DespatchAdvice, advice_id, principal)


def list_advices(
    session: Session, principal: Principal, *, page: int = 1, page_size: int = 50
) -> tuple[list[DespatchAdvice], int]:
    principal.require(Permission.PARTIES_READ)
    return list_visible(
        session,
        DespatchAdvice,
        principal,
        order_by=DespatchAdvice.id.desc(),
        page=page,
        page_size=page_size,
    )


def write_missing(session: Session, tenant_id: int, outbound_root: Path) -> list[str]:
    """Write the files of advices and order responses whose file is not in the outbound
    folder (after a crash between commit and write); the paths written."""
    written = []
    files = [
        *session.execute(
            select(DespatchAdvice.written_path, DespatchAdvice.content)
            .where(DespatchAdvice.tenant_id == tenant_id, DespatchAdvice.written_path != "")
            .order_by(DespatchAdvice.id)
        ),
        *session.execute(
            select(OutboundFile.written_path, OutboundFile.content)
            .where(OutboundFile.tenant_id == tenant_id, OutboundFile.written_path != "")
            .order_by(OutboundFile.id)
        ),
    ]
    for written_path, content in files:
        path = Path(written_path)
        if not path.exists():
            write_file(path, content)
            written.append(str(path))
    return written
