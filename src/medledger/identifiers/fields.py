"""Pydantic field types for GS1 identifiers, shared by API payloads and HTML forms.

They live here rather than in ``core.types`` because they validate with this package's check
digits, and ``core`` imports no domain package (tests/test_import_graph.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, WithJsonSchema

from medledger.core.errors import DomainError
from medledger.core.types import GLN_SCHEMA, GTIN_SCHEMA, custom_error, strip_text
from medledger.identifiers.checkdigit import normalise_gtin, validate_gln


def _as_pydantic(fn: Callable[..., Any], field: str) -> Callable[[str], str]:
    def validate(value: str) -> str:
        try:
            return str(fn(value, field=field))
        except DomainError as exc:
            raise custom_error(exc.code, exc.message, **exc.params) from None

    return validate


GTIN = Annotated[
    str,
    BeforeValidator(strip_text),
    AfterValidator(_as_pydantic(normalise_gtin, "gtin")),
    WithJsonSchema(GTIN_SCHEMA, mode="validation"),
]
GLN = Annotated[
    str,
    BeforeValidator(strip_text),
    AfterValidator(_as_pydantic(validate_gln, "gln")),
    WithJsonSchema(GLN_SCHEMA, mode="validation"),
]
