"""The codes raised by the compliance context (e-signatures, workflows, audit trail)."""

from __future__ import annotations

from enum import StrEnum


class Code(StrEnum):
    """Stable codes of the compliance context (never translated, never renamed)."""

    SIGNATURE_INVALID_CREDENTIALS = "signature.invalid_credentials"
    SIGNATURE_LOCKED = "signature.locked"
    SIGNATURE_APPEND_ONLY = "signature.append_only"
    SIGNATURE_PERSON_REQUIRED = "signature.person_required"
    SIGNATURE_AUTHOR_CANNOT_APPROVE = "signature.author_cannot_approve"
    SIGNATURE_REQUIRED = "signature.required"
    SIGNATURE_MEANING_NOT_ALLOWED = "signature.meaning_not_allowed"
    SIGNATURE_UNKNOWN_MEANING = "signature.unknown_meaning"
    SIGNATURE_UNKNOWN_KIND = "signature.unknown_kind"
    WORKFLOW_NOT_ALLOWED = "workflow.not_allowed"
    WORKFLOW_REASON_REQUIRED = "workflow.reason_required"
