"""Partner visibility: a party sees its own import runs (and, through them, their rows)."""

from __future__ import annotations

from sqlalchemy.sql.elements import ColumnElement

from medledger.core.principal import Principal
from medledger.core.scoping import party_rule
from medledger.integration.imports.models import ImportMapping, ImportRun


@party_rule(ImportRun)
def _run_visible(principal: Principal) -> ColumnElement[bool]:
    return ImportRun.party_id == principal.party_id


@party_rule(ImportMapping)
def _mapping_visible(principal: Principal) -> ColumnElement[bool]:
    return ImportMapping.party_id == principal.party_id
