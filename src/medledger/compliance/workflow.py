"""Workflows as plain transition tables (DESIGN.md §3).

A workflow is data: for each ``(state, action)`` the next state, the permission the actor
needs, an optional guard (a function saying why the record is not ready), the e-signature
meaning the step needs (if any), and whether the record's author may take it. :func:`perform`
is the only way a record changes state, for the API, the pages and the CLI alike, so the server
decides every time:

1. the action must exist from the record's current state (409 ``workflow.not_allowed``);
2. the actor's role must grant the permission (403);
3. the guard must pass (409 with the guard's own code and field);
4. a reason, where the step asks for one (422 ``workflow.reason_required``);
5. the author of the record may not take a step marked ``author_may_not`` (403);
6. the signature, where the step needs one: re-authentication, meaning, hash of the record
   version (``compliance.signing``);

then the state changes, the step's ``effect`` runs, and a :class:`WorkflowTransition` row (and
through it an audit entry with actor and reason) is written in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from medledger.compliance.errors import Code
from medledger.compliance.models import WorkflowTransition
from medledger.compliance.signables import Meaning, signable
from medledger.compliance.signing import Credentials, SigningPolicy, check_not_author, sign
from medledger.core.db import utcnow
from medledger.core.errors import Conflict, DomainError, FieldError, PermissionDenied
from medledger.core.principal import Permission, Principal
from medledger.core.repository import list_visible
from medledger.core.work import work_of


@dataclass(frozen=True)
class GuardFailure:
    """Why a record is not ready for a step: a stable code, an English message, the field."""

    code: str
    message: str
    field: str = ""
    params: dict[str, Any] = dataclass_field(default_factory=dict)


Guard = Callable[[Session, Principal, Any], GuardFailure | None]
Effect = Callable[[Session, Principal, Any], None]


@dataclass(frozen=True)
class Transition:
    """One row of a transition table."""

    source: str
    action: str
    target: str
    permission: Permission
    label: str  # English msgid of the button
    signature: Meaning | None = None
    guard: Guard | None = None
    effect: Effect | None = None
    reason_required: bool = False
    author_may_not: bool = False


@dataclass(frozen=True)
class Workflow:
    """A record kind's states (code → English label) and transition table."""

    kind: str
    states: dict[str, str]
    initial: str
    transitions: tuple[Transition, ...]
    closed_states: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        seen: set[tuple[str, str]] = set()
        for t in self.transitions:
            assert t.source in self.states and t.target in self.states, t
            assert (t.source, t.action) not in seen, f"duplicate {t.source}/{t.action}"
            seen.add((t.source, t.action))

    def find(self, state: str, action: str) -> Transition | None:
        return next((t for t in self.transitions if t.source == state and t.action == action), None)

    def from_state(self, state: str) -> list[Transition]:
        return [t for t in self.transitions if t.source == state]

    def actions(self) -> list[str]:
        return list(dict.fromkeys(t.action for t in self.transitions))


@dataclass(frozen=True)
class Offer:
    """A step shown on a record page: allowed now, or why not."""

    transition: Transition
    blocked: GuardFailure | None


def offers(session: Session, principal: Principal, workflow: Workflow, record: Any) -> list[Offer]:
    """The steps from the record's state that the principal's role may take (with the guard's
    verdict, so a page can show a disabled button and the reason)."""
    result = []
    for t in workflow.from_state(record.state):
        if not principal.can(t.permission):
            continue
        if t.author_may_not and signable(workflow.kind).author(record) == principal.user_id:
            continue
        result.append(Offer(t, t.guard(session, principal, record) if t.guard else None))
    return result


def perform(
    session: Session,
    principal: Principal,
    workflow: Workflow,
    record: Any,
    action: str,
    *,
    reason: str = "",
    credentials: Credentials | None = None,
    policy: SigningPolicy | None = None,
) -> WorkflowTransition:
    """Take ``action`` on ``record`` (loaded by the caller through scoping, ideally locked);
    see the module docstring for the order of checks. Returns the logged transition."""
    state = record.state
    transition = workflow.find(state, action)
    if transition is None:
        raise Conflict(
            "{action} is not possible while the record is {state}.",
            code=Code.WORKFLOW_NOT_ALLOWED,
            params={"action": action, "state": state},
            errors=[
                FieldError(
                    "action",
                    Code.WORKFLOW_NOT_ALLOWED,
                    "{action} is not possible while the record is {state}.",
                    {"action": action, "state": state},
                )
            ],
        )
    principal.require(transition.permission)
    if transition.guard is not None:
        failure = transition.guard(session, principal, record)
        if failure is not None:
            raise Conflict(
                failure.message,
                code=failure.code,
                params=failure.params,
                errors=[FieldError(failure.field, failure.code, failure.message, failure.params)]
                if failure.field
                else [],
            )
    reason = (reason or "").strip()[:500]
    if transition.reason_required and not reason:
        raise DomainError(
            "Give a reason for this step.",
            code=Code.WORKFLOW_REASON_REQUIRED,
            status=422,
            errors=[
                FieldError("reason", Code.WORKFLOW_REASON_REQUIRED, "Give a reason for this step.")
            ],
        )
    if transition.author_may_not and signable(workflow.kind).author(record) == principal.user_id:
        raise PermissionDenied(
            "The author of {record} cannot sign it as {meaning}.",
            code=Code.SIGNATURE_AUTHOR_CANNOT_APPROVE,
            params={
                "record": signable(workflow.kind).label(record),
                "meaning": (transition.signature or Meaning.APPROVED).value,
            },
        )
    signature = None
    if transition.signature is not None:
        check_not_author(session, principal, workflow.kind, record, transition.signature)
        signature = sign(
            session,
            principal,
            workflow.kind,
            record,
            transition.signature,
            credentials,
            policy=policy,
            workflow_action=action,
        )
    record.state = transition.target
    if hasattr(record, "version"):
        record.version = (record.version or 0) + 1
    if transition.effect is not None:
        transition.effect(session, principal, record)
    if reason:
        work_of(session).give_reason(reason)
    step = WorkflowTransition(
        tenant_id=principal.tenant_id,
        record_kind=workflow.kind,
        record_id=int(record.id),
        action=action,
        from_state=state,
        to_state=transition.target,
        actor_user_id=principal.user_id,
        actor_party_id=principal.party_id,
        actor_label=principal.label,
        reason=reason,
        signature_id=signature.id if signature is not None else None,
        at=utcnow(),
    )
    session.add(step)
    session.flush()
    return step


def history(
    session: Session, principal: Principal, kind: str, record_ids: Iterable[int]
) -> list[WorkflowTransition]:
    """The logged steps of records the caller may see, oldest first."""
    ids = list(record_ids)
    if not ids:
        return []
    items, _ = list_visible(
        session,
        WorkflowTransition,
        principal,
        filters=[WorkflowTransition.record_kind == kind, WorkflowTransition.record_id.in_(ids)],
        order_by=WorkflowTransition.at,
        page_size=10_000,
    )
    return items


def last_step_time(session: Session, kind: str, record_id: int) -> Any:
    return session.scalar(
        select(WorkflowTransition.at)
        .where(WorkflowTransition.record_kind == kind, WorkflowTransition.record_id == record_id)
        .order_by(WorkflowTransition.id.desc())
        .limit(1)
    )
