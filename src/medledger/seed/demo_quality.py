"""Quality records of the demo network: a closed CAPA, open NCRs at a supplier, changes in progress.

Every record is made through the real services and workflow steps, acting as the demo users
themselves (QA Siobhan Murphy, approver Dr. Anna Weber, the supplier's Wang Lei, a hospital's
materials manager), and every signature is a real one: the seed re-enters the demo password, so
signatures, history and audit entries are exactly what those users would have produced. Lots
named by the NCRs are lots of the supplier's components that the demo history received, so
their trace is real too. Run after the history (:func:`medledger.seed.demo.seed_demo_network`).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from medledger.compliance.signing import Credentials
from medledger.compliance.workflow import perform
from medledger.core.db import utcnow
from medledger.core.principal import Principal, make_principal
from medledger.core.system import system_unit_of_work
from medledger.core.work import work_of
from medledger.parties.models import User
from medledger.quality import capa as capa_service
from medledger.quality import change_control
from medledger.quality import complaint as complaint_service
from medledger.quality import ncr as ncr_service
from medledger.quality.schemas import (
    CapaActionDoneIn,
    CapaActionIn,
    CapaIn,
    CapaUpdate,
    ChangeIn,
    ChangeUpdate,
    ComplaintIn,
    ComplaintUpdate,
    LotIn,
    NcrIn,
    NcrUpdate,
    ServiceRecordIn,
    SupplierResponseIn,
)
from medledger.quality.workflows import (
    CAPA_WORKFLOW,
    CHANGE_WORKFLOW,
    COMPLAINT_WORKFLOW,
    NCR_WORKFLOW,
)
from medledger.seed.demo import DEMO_PASSWORD, DemoNetwork
from medledger.trace.models import TraceItem


def _as(session: Session, network: DemoNetwork, username: str) -> Principal:
    user = session.scalar(select(User).where(User.username == username))
    assert user is not None, username
    principal = make_principal(
        user_id=user.id,
        tenant_id=user.tenant_id,
        party_id=user.party_id,
        role=user.role,
        username=user.username,
        display_name=user.display_name,
        hub_party_id=network.hub.id,
        locale=user.locale,
        time_zone=user.time_zone,
    )
    work_of(session).act_as(principal)
    return principal


def _signed(comment: str = "") -> Credentials:
    return Credentials(DEMO_PASSWORD, comment)


def _lots(session: Session, network: DemoNetwork, product_key: str, count: int) -> list[LotIn]:
    """Lots of a component the demo history recorded (first ``count``, by lot number)."""
    gtin = network.products[product_key].gtin
    lots = session.scalars(
        select(TraceItem.lot)
        .where(
            TraceItem.tenant_id == network.tenant_id,
            TraceItem.gtin == gtin,
            TraceItem.lot.is_not(None),
            TraceItem.kind == "lot",
        )
        .distinct()
        .order_by(TraceItem.lot)
        .limit(count)
    )
    found = [LotIn(gtin=gtin, lot=str(lot)) for lot in lots]
    return found or [LotIn(gtin=gtin, lot=f"L{gtin[-7:-1]}-01")]


def seed_demo_quality(factory: sessionmaker[Session], network: DemoNetwork) -> dict[str, int]:
    """Load the demo quality records in one transaction; returns their ids by key."""
    today = utcnow().date()
    ids: dict[str, int] = {}
    alloys = network.parties["supplier-alloys"].id
    polymer = network.parties["supplier-polymer"].id
    with system_unit_of_work(factory, label="seed") as session:
        quality = _as(session, network, "quality")
        qa_user = quality.user_id
        # --- a closed CAPA, from a closed NCR about nitinol wire --------------------------------
        wire_lots = _lots(session, network, "c-nitinol-wire", 1)
        old_ncr = ncr_service.raise_ncr(
            session,
            quality,
            NcrIn(
                title="Nitinol wire: Af temperature above specification",
                description="Incoming DSC test: Af 24 °C, specification 10–18 °C.",
                severity="major",
                product_id=network.products["c-nitinol-wire"].id,
                supplier_party_id=alloys,
                affected_lots=wire_lots,
                owner_user_id=qa_user,
            ),
        )
        perform(session, quality, NCR_WORKFLOW, old_ncr, "investigate")
        ncr_service.update_ncr(
            session,
            quality,
            old_ncr.id,
            NcrUpdate(
                investigation="Heat-treatment furnace profile drifted at the supplier.",
                disposition="return_to_supplier",
                disposition_rationale="Shape-setting cannot be corrected in house.",
            ),
        )
        perform(
            session, quality, NCR_WORKFLOW, old_ncr, "propose_disposition", credentials=_signed()
        )
        approver = _as(session, network, "qa_approver")
        perform(
            session, approver, NCR_WORKFLOW, old_ncr, "approve_disposition", credentials=_signed()
        )
        capa = capa_service.create_capa(
            session,
            _as(session, network, "quality"),
            CapaIn(
                title="Heat-treatment drift at Hangzhou Precision Alloys",
                problem="Two wire lots in 2025 outside the Af specification.",
                source_ncr_id=old_ncr.id,
                owner_user_id=qa_user,
                due_date=today - timedelta(days=20),
                effectiveness_criteria="Next 5 wire lots within Af 10–18 °C at incoming DSC.",
            ),
        )
        perform(session, quality, CAPA_WORKFLOW, capa, "investigate")
        capa_service.update_capa(
            session,
            quality,
            capa.id,
            CapaUpdate(
                investigation="Furnace thermocouple drift of +6 K found at the supplier audit.",
                root_cause="No calibration interval for the furnace thermocouple.",
            ),
        )
        actions = [
            capa_service.add_action(
                session,
                quality,
                capa.id,
                CapaActionIn(
                    kind="corrective",
                    description="Supplier replaces and calibrates the thermocouple (SCAR).",
                    owner_user_id=qa_user,
                    due_date=today - timedelta(days=60),
                ),
            ),
            capa_service.add_action(
                session,
                quality,
                capa.id,
                CapaActionIn(
                    kind="preventive",
                    description="Quarterly calibration added to the supplier quality agreement.",
                    owner_user_id=qa_user,
                    due_date=today - timedelta(days=45),
                ),
            ),
        ]
        perform(session, quality, CAPA_WORKFLOW, capa, "submit_plan", credentials=_signed())
        approver = _as(session, network, "qa_approver")
        perform(session, approver, CAPA_WORKFLOW, capa, "approve_plan", credentials=_signed())
        quality = _as(session, network, "quality")
        for action in actions:
            capa_service.complete_action(
                session, quality, capa.id, action.id, CapaActionDoneIn(note="Evidence on file.")
            )
        perform(session, quality, CAPA_WORKFLOW, capa, "check_effectiveness")
        capa_service.update_capa(
            session,
            quality,
            capa.id,
            CapaUpdate(
                effectiveness_result="Five consecutive lots at Af 13–16 °C.", effective=True
            ),
        )
        approver = _as(session, network, "qa_approver")
        perform(session, approver, CAPA_WORKFLOW, capa, "close", credentials=_signed())
        perform(session, approver, NCR_WORKFLOW, old_ncr, "close", credentials=_signed())
        ids |= {"closed_ncr": old_ncr.id, "closed_capa": capa.id}

        # --- open NCRs at the supplier ----------------------------------------------------------
        quality = _as(session, network, "quality")
        tube_lots = _lots(session, network, "c-stent-tube", 2)
        scar = ncr_service.raise_ncr(
            session,
            quality,
            NcrIn(
                title="CoCr tubing: wall thickness below minimum",
                description="3 of 32 samples at 0.072 mm (minimum 0.075 mm).",
                severity="critical",
                product_id=network.products["c-stent-tube"].id,
                supplier_party_id=alloys,
                affected_lots=tube_lots,
                owner_user_id=qa_user,
                due_date=today + timedelta(days=10),
            ),
        )
        perform(session, quality, NCR_WORKFLOW, scar, "investigate")
        perform(session, quality, NCR_WORKFLOW, scar, "request_supplier_response")
        bar = ncr_service.raise_ncr(
            session,
            quality,
            NcrIn(
                title="Ti bar stock: certificate of analysis missing heat number",
                description="CoA of the delivery does not name the heat; traceability gap.",
                severity="minor",
                product_id=network.products["c-ti-bar"].id,
                supplier_party_id=alloys,
                affected_lots=_lots(session, network, "c-ti-bar", 1),
                owner_user_id=qa_user,
                due_date=today - timedelta(days=5),
            ),
        )
        perform(session, quality, NCR_WORKFLOW, bar, "investigate")
        perform(session, quality, NCR_WORKFLOW, bar, "request_supplier_response")
        supplier = _as(session, network, "supplier")
        ncr_service.supplier_respond(
            session,
            supplier,
            bar.id,
            SupplierResponseIn(response="Heat 7H2291; corrected CoA sent, template fixed."),
        )
        quality = _as(session, network, "quality")
        ncr_service.update_ncr(
            session,
            quality,
            bar.id,
            NcrUpdate(
                disposition="use_as_is",
                disposition_rationale="Heat confirmed by the corrected CoA; material conforms.",
            ),
        )
        perform(session, quality, NCR_WORKFLOW, bar, "propose_disposition", credentials=_signed())
        polymer_report = ncr_service.raise_ncr(
            session,
            quality,
            NcrIn(
                title="PEBAX tubing: gels in extrusion",
                description="Visible gels in two coils at incoming inspection.",
                severity="major",
                product_id=network.products["c-pebax-tube"].id,
                supplier_party_id=polymer,
                affected_lots=_lots(session, network, "c-pebax-tube", 1),
                owner_user_id=qa_user,
                due_date=today + timedelta(days=21),
            ),
        )
        ids |= {"scar_ncr": scar.id, "ncr_for_approval": bar.id, "open_ncr": polymer_report.id}

        # --- changes in progress ----------------------------------------------------------------
        change = change_control.create_change(
            session,
            quality,
            ChangeIn(
                title="Second source for nitinol wire",
                description="Qualify a second wire drawing line at the supplier.",
                reason_for_change="Single line caused the 2025 supply gap.",
                affected_product_ids=[network.products["c-nitinol-wire"].id],
                affected_documents=["SPEC-NiTi-0036 rev F", "Supplier quality agreement §4"],
                owner_user_id=qa_user,
                due_date=today + timedelta(days=45),
            ),
        )
        change_control.update_change(
            session,
            quality,
            change.id,
            ChangeUpdate(
                impact_assessment="Process validation (IQ/OQ/PQ) of the new line; no design "
                "change; notify notified body as a non-substantial change.",
                effective_date=today + timedelta(days=30),
            ),
        )
        perform(session, quality, CHANGE_WORKFLOW, change, "submit", credentials=_signed())
        approver = _as(session, network, "qa_approver")
        perform(session, approver, CHANGE_WORKFLOW, change, "approve", credentials=_signed())
        quality = _as(session, network, "quality")
        review = change_control.create_change(
            session,
            quality,
            ChangeIn(
                title="Catheter tubing: new colourant masterbatch",
                reason_for_change="Colourant supplier discontinues the current grade.",
                impact_assessment="Biocompatibility (ISO 10993-5, -10) re-test of the tubing.",
                affected_product_ids=[network.products["c-pebax-tube"].id],
                affected_documents=["SPEC-PEBAX-0012 rev C"],
                effective_date=today + timedelta(days=60),
                owner_user_id=qa_user,
                due_date=today + timedelta(days=14),
            ),
        )
        perform(session, quality, CHANGE_WORKFLOW, review, "submit", credentials=_signed())
        ids |= {"approved_change": change.id, "change_in_review": review.id}

        # --- a complaint from a hospital, with the device's service history ------------------
        device = _serial_at(session, network, "hosp-us-01")
        if device is not None:
            gtin, lot, serial = device
        else:  # the network without its history: a serialised product of the catalogue
            gtin = next(
                p.gtin
                for p in network.products.values()
                if p.tracking_level == "serial" and not p.is_component
            )
            lot, serial = "L-DEMO-01", "DEMO-0001"
        udi = f"(01){gtin}" + (f"(10){lot}" if lot else "") + f"(21){serial}"
        hospital = _as(session, network, "hospital")
        complaint = complaint_service.create_complaint(
            session,
            hospital,
            ComplaintIn(
                title="Balloon did not deflate fully after inflation",
                udi=udi,
                description="Slow deflation during the procedure; device replaced, the "
                "procedure completed without harm.",
                event_date=today - timedelta(days=3),
                harm="malfunction",
                patient_involved=True,
                reporter_contact="Cath lab, Emily Parker",
            ),
        )
        complaint_service.record_service(
            session,
            hospital,
            ServiceRecordIn(
                udi=udi,
                kind="inspection",
                performed_on=today - timedelta(days=2),
                description="Returned device inspected by biomed before shipping it back.",
                outcome="out_of_service",
                complaint_id=complaint.id,
            ),
        )
        quality = _as(session, network, "quality")
        perform(session, quality, COMPLAINT_WORKFLOW, complaint, "investigate")
        complaint_service.update_complaint(
            session,
            quality,
            complaint.id,
            ComplaintUpdate(
                investigation="Deflation lumen partly occluded by a bonding residue.",
                fda_mdr_reportable=True,
                eu_vigilance_reportable=False,
                nmpa_reportable=False,
                reportability_rationale="Malfunction that could cause serious injury if it "
                "recurred: FDA MDR 30-day report; no EU or NMPA distribution of this lot.",
                owner_user_id=qa_user,
            ),
        )
        perform(
            session,
            quality,
            COMPLAINT_WORKFLOW,
            complaint,
            "propose_decision",
            credentials=_signed(),
        )
        ids["complaint"] = complaint.id
    return ids


def _serial_at(
    session: Session, network: DemoNetwork, party_key: str
) -> tuple[str, str | None, str] | None:
    """A serialised device the party holds (or any, if it holds none): GTIN, lot, serial."""
    lot_item = TraceItem.__table__.alias("lot_item")
    stmt = (
        select(TraceItem.gtin, func.coalesce(TraceItem.lot, lot_item.c.lot), TraceItem.serial)
        .outerjoin(lot_item, lot_item.c.id == TraceItem.lot_item_id)
        .where(
            TraceItem.tenant_id == network.tenant_id,
            TraceItem.kind == "serial",
            TraceItem.gtin.is_not(None),
        )
        .order_by(TraceItem.id)
    )
    held = stmt.where(TraceItem.holder_party_id == network.parties[party_key].id)
    row = session.execute(held.limit(1)).first() or session.execute(stmt.limit(1)).first()
    if row is None or row[2] is None:
        return None
    return str(row[0]), row[1], str(row[2])
