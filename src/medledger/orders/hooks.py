"""Checks other contexts add to order intake (every channel: API, CSV, EDI).

A check gets the draft before it is resolved and returns field problems (paths as the
draft's ``where``); they are reported with the order's own problems. The data dictionary
(integration) registers one.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from medledger.core.errors import FieldError
from medledger.core.principal import Principal

DraftCheck = Callable[[Session, Principal, object], list[FieldError]]
_CHECKS: list[DraftCheck] = []


def register_draft_check(check: DraftCheck) -> None:
    if check not in _CHECKS:
        _CHECKS.append(check)


def check_draft(session: Session, principal: Principal, draft: object) -> list[FieldError]:
    problems: list[FieldError] = []
    for check in _CHECKS:
        problems += check(session, principal, draft)
    return problems
