"""The codes raised by the identifiers context (GS1 parsing, EPC URNs, Digital Link)."""

from __future__ import annotations

from enum import StrEnum


class Code(StrEnum):
    """Stable codes of the identifiers context (never translated, never renamed)."""

    UNRECOGNISED_FORMAT = "gs1.unrecognised_format"
    INVALID_LENGTH = "gs1.invalid_length"
    INVALID_CHARACTERS = "gs1.invalid_characters"
    INVALID_DATE = "gs1.invalid_date"
    BAD_CHECK_DIGIT = "gs1.bad_check_digit"
    UNKNOWN_AI = "gs1.unknown_ai"
    REPEATED_AI = "gs1.repeated_ai"
    INVALID_AI_PAIR = "gs1.invalid_ai_pair"
    MISSING_REQUIRED_AI = "gs1.missing_required_ai"
    MISSING_SEPARATOR = "gs1.missing_separator"
    INVALID_PIECE_OF_TOTAL = "gs1.invalid_piece_of_total"
    INVALID_EPC_URN = "gs1.invalid_epc_urn"
    INVALID_DIGITAL_LINK = "gs1.invalid_digital_link"
