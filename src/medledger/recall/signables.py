"""Recalls as signable records. The signed content is what the initiator decided — the
identifiers, hazard class, depth, action, reason, instructions — and the hash and counts of the
scope snapshot the trace computed, so a signature proves which scope was signed without
showing other consignees to a partner who may read the signature."""

from __future__ import annotations

from typing import Any

from medledger.compliance.signables import Meaning, SignableKind, register_signable
from medledger.core.principal import Permission
from medledger.recall.models import Recall

RECALL_FIELDS = (
    "number",
    "title",
    "hazard_class",
    "depth",
    "action",
    "reason",
    "health_hazard",
    "instructions",
    "identifiers",
    "ncr_id",
    "scope_hash",
    "lots_in_scope",
    "serials_in_scope",
    "logistic_units_in_scope",
    "shipments_in_scope",
    "consignees",
    "units_held",
)


def recall_content(recall: Recall) -> dict[str, Any]:
    return {name: getattr(recall, name) for name in RECALL_FIELDS}


register_signable(
    SignableKind(
        kind="recall",
        model=Recall,
        content=lambda session, recall: recall_content(recall),
        author=lambda recall: recall.created_by_user_id,
        label=lambda recall: recall.number,
        path=lambda recall: f"/recalls/{recall.id}",
        permissions={Meaning.REVIEWED: Permission.QUALITY_WRITE},
    )
)
