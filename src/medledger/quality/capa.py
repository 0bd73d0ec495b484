"""CAPA: open (by hand or from an NCR), investigation and root cause, actions with owners and
due dates, effectiveness check before closure."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from medledger.core.db import utcnow
from medledger.core.errors import Conflict, PermissionDenied, field_error
from medledger.core.principal import Permission, Principal
from medledger.core.repository import apply_changes
from medledger.quality import repository as repo
from medledger.quality.errors import Code
from medledger.quality.models import Capa, CapaAction, Ncr
from medledger.quality.schemas import CapaActionDoneIn, CapaActionIn, CapaIn, CapaUpdate
from medledger.quality.service import check_hub_user, check_party, get_record, locked_record
from medledger.quality.workflows import CAPA_WORKFLOW

# Which fields may change in which state: the plan while investigating, the verdict during the
# effectiveness check.
PLAN_FIELDS = frozenset(
    {
        "title",
        "problem",
        "investigation",
        "root_cause",
        "effectiveness_criteria",
        "owner_user_id",
        "due_date",
    }
)
CHECK_FIELDS = frozenset({"effectiveness_result", "effective"})
EDITABLE: dict[str, frozenset[str]] = {
    "open": PLAN_FIELDS,
    "investigation": PLAN_FIELDS,
    "implementation": frozenset({"owner_user_id", "due_date", "effectiveness_criteria"}),
    "effectiveness_check": CHECK_FIELDS | {"owner_user_id", "due_date"},
}


def _locked(record: Capa, field: str) -> Conflict:
    return Conflict(
        "{field} of {record} cannot be changed while it is {state}.",
        code=Code.RECORD_LOCKED_BY_STATE,
        params={"field": field, "record": record.number, "state": record.state},
    )


def create_capa(session: Session, principal: Principal, data: CapaIn) -> Capa:
    """Open a CAPA (from an NCR: the NCR is linked to it, and the NCR's supplier shares it)."""
    principal.require(Permission.QUALITY_WRITE)
    check_party(session, principal, "supplier_party_id", data.supplier_party_id)
    check_hub_user(session, principal, "owner_user_id", data.owner_user_id)
    supplier = data.supplier_party_id
    ncr = None
    if data.source_ncr_id is not None:
        ncr = session.scalar(
            select(Ncr).where(Ncr.id == data.source_ncr_id, Ncr.tenant_id == principal.tenant_id)
        )
        if ncr is None:
            raise field_error(
                "source_ncr_id", Code.NCR_UNKNOWN, "NCR {id} does not exist.", id=data.source_ncr_id
            )
        supplier = supplier if supplier is not None else ncr.supplier_party_id
    now = utcnow()
    capa = Capa(
        tenant_id=principal.tenant_id,
        number=repo.next_number(session, Capa, principal.tenant_id, "CAPA", now.year),
        title=data.title.strip(),
        problem=data.problem,
        state=CAPA_WORKFLOW.initial,
        source_ncr_id=data.source_ncr_id,
        supplier_party_id=supplier,
        owner_user_id=data.owner_user_id,
        due_date=data.due_date,
        effectiveness_criteria=data.effectiveness_criteria,
        created_by_user_id=principal.user_id,
        created_by_party_id=principal.party_id,
        version=1,
    )
    session.add(capa)
    session.flush()
    if ncr is not None and ncr.capa_id is None:
        ncr.capa_id = capa.id
        session.flush()
    return capa


def update_capa(session: Session, principal: Principal, capa_id: int, data: CapaUpdate) -> Capa:
    """Edit the fields the CAPA's state allows (see ``EDITABLE``)."""
    principal.require(Permission.QUALITY_WRITE)
    capa: Capa = locked_record(session, principal, "capa", capa_id)
    changes = data.model_dump(exclude_unset=True)
    allowed = EDITABLE.get(capa.state, frozenset())
    for key in changes:
        if key not in allowed:
            raise _locked(capa, key)
        if key not in ("owner_user_id", "due_date", "effective") and changes[key] is None:
            raise field_error(key, Code.VALUE_REQUIRED, "This field is required.")
    if "owner_user_id" in changes:
        check_hub_user(session, principal, "owner_user_id", data.owner_user_id)
    apply_changes(capa, changes)
    capa.version = (capa.version or 0) + 1
    session.flush()
    return capa


def add_action(
    session: Session, principal: Principal, capa_id: int, data: CapaActionIn
) -> CapaAction:
    """Plan an action (while the CAPA is open or under investigation)."""
    principal.require(Permission.QUALITY_WRITE)
    capa: Capa = locked_record(session, principal, "capa", capa_id)
    if capa.state not in ("open", "investigation"):
        raise _locked(capa, "actions")
    check_hub_user(session, principal, "owner_user_id", data.owner_user_id)
    action = CapaAction(
        tenant_id=capa.tenant_id,
        capa_id=capa.id,
        kind=data.kind,
        description=data.description.strip(),
        owner_user_id=data.owner_user_id,
        due_date=data.due_date,
    )
    session.add(action)
    capa.version = (capa.version or 0) + 1
    session.flush()
    return action


def complete_action(
    session: Session, principal: Principal, capa_id: int, action_id: int, data: CapaActionDoneIn
) -> CapaAction:
    """Mark an action done (its owner, or quality staff) during implementation."""
    capa: Capa = get_record(session, principal, "capa", capa_id)
    action = session.scalar(
        select(CapaAction).where(CapaAction.id == action_id, CapaAction.capa_id == capa.id)
    )
    if action is None:
        raise field_error(
            "action_id", Code.CAPA_ACTION_UNKNOWN, "Action {id} does not exist.", id=action_id
        )
    if action.owner_user_id != principal.user_id and not principal.can(Permission.QUALITY_WRITE):
        raise PermissionDenied(
            "Only the action's owner or quality staff can complete it.",
            code=Code.CAPA_ACTION_NOT_OWNER,
        )
    if capa.state != "implementation":
        raise _locked(capa, "actions")
    if action.done_at is not None:
        raise Conflict(
            "Action {id} is already done.", code=Code.CAPA_ACTION_DONE, params={"id": action.id}
        )
    action.done_at = utcnow()
    action.done_note = data.note.strip()
    session.flush()
    return action
