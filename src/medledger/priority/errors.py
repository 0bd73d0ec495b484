"""Errors of the priority context (scoring rule sets, allocation instances and solvers)."""

from __future__ import annotations

from enum import StrEnum

from medledger.core.errors import DomainError, FieldError, ValidationFailed


class Code(StrEnum):
    """Stable codes of the priority engines (never translated, never renamed)."""

    ALLOCATION_INSTANCE_INVALID = "invalid_allocation_instance"
    EXACT_SOLVER_UNAVAILABLE = "exact_solver_unavailable"
    RULE_SET_DOCUMENT_INVALID = "invalid_rule_set"


def N_(message: str) -> str:
    """Marks an English msgid for extraction (the catalogue translates it at render time)."""
    return message


class InstanceError(ValidationFailed):
    """An allocation instance breaks the format: names the offending field (``lines[3].gtin``)."""

    code = Code.ALLOCATION_INSTANCE_INVALID
    title = "The allocation instance is invalid"

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(
            N_("{field}: {problem}"),
            params={"field": field, "problem": problem},
            errors=[FieldError(field=field, code=self.code, message=problem)],
        )


class SolverUnavailable(DomainError):
    """The exact solver cannot solve this instance (cost range or ship-complete search limit)."""

    status = 409
    code = Code.EXACT_SOLVER_UNAVAILABLE
    title = "The exact solver cannot solve this instance"


class RuleSetError(ValidationFailed):
    """A priority rule set is malformed (unknown factor kind, missing weight …)."""

    code = Code.RULE_SET_DOCUMENT_INVALID
    title = "The priority rule set is invalid"

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(
            N_("{field}: {problem}"),
            params={"field": field, "problem": problem},
            errors=[FieldError(field=field, code=self.code, message=problem)],
        )
