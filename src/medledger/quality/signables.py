"""The quality record kinds as signable records (``compliance.signables``): one registration
per kind of :data:`medledger.quality.records.RECORD_KINDS`, with its signed content, author,
label, page and the meanings it may be signed with outside its workflow."""

from __future__ import annotations

from medledger.compliance.signables import SignableKind, register_signable
from medledger.quality.records import RECORD_KINDS, RecordKind


def _signable(spec: RecordKind) -> SignableKind:
    return SignableKind(
        kind=spec.kind,
        model=spec.model,
        content=spec.signed_content,
        author=lambda record: record.created_by_user_id,
        label=lambda record: record.number,
        path=lambda record: spec.page(record.id),
        permissions=spec.signature_permissions,
    )


for _spec in RECORD_KINDS.values():
    register_signable(_signable(_spec))
