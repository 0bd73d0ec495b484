"""Checks another context adds to a record before it is accepted (the data dictionary's rules).

A context that takes in an exchanged record (a product, party, site or location by the API or
the pages, an inspection result entered by a test lab)
asks every registered check about it; a check returns field problems (``where(field)`` gives
each field's path in the caller's request).
The integration gateway registers the data dictionary's check, which applies the version in
force to the record's entity; with none registered, or the built-in version in force, nothing
is added. Order intake has its own draft hook (``orders.hooks``) for its richer drafts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy.orm import Session

from medledger.core.errors import FieldError, ValidationFailed
from medledger.core.principal import Principal

Where = Callable[[str], str]
RecordCheck = Callable[[Session, Principal, str, Mapping[str, Any], Where], list[FieldError]]
_CHECKS: list[RecordCheck] = []


def register_record_check(check: RecordCheck) -> None:
    if check not in _CHECKS:
        _CHECKS.append(check)


def check_record(
    session: Session, principal: Principal, entity: str, values: Mapping[str, Any], where: Where
) -> list[FieldError]:
    """Every registered check's problems with ``values`` of ``entity``."""
    problems: list[FieldError] = []
    for check in _CHECKS:
        problems += check(session, principal, entity, values, where)
    return problems


def refuse_invalid(
    session: Session, principal: Principal, entity: str, values: Mapping[str, Any]
) -> None:
    """Refuse ``values`` of ``entity`` (fields named as in the request) that break a registered
    check: 422 with a problem per field, before anything is written."""
    problems = check_record(session, principal, entity, values, lambda name: name)
    if problems:
        raise ValidationFailed("The request has invalid fields.", errors=problems)
