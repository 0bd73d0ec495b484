"""Rules shared by the projection of captured events and its corrections: which events
commission and create items, what their ILMD says, which party a source/destination list
names (see ``projection``'s module docstring for the rules themselves)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from medledger.parties.models import Location, Party, Site
from medledger.trace.ledger.bulk import chunks
from medledger.trace.ledger.item_keys import gln_of

PARTY_TYPES = ("possessing_party", "owning_party")


# Roles in which an event creates an item: commissioning and ILMD apply to those.
CREATED_ROLES = frozenset({"epc", "output", "quantity", "output_quantity"})


@dataclass(frozen=True)
class Entry:
    """A stored source/destination entry, shaped like the normalised one."""

    type: str
    value: str


def commissions(event_type: str, action: str | None, biz_step: str | None) -> bool:
    """Whether an event commissions the items it creates (an ObjectEvent ADD commissioning)."""
    return event_type == "ObjectEvent" and action == "ADD" and biz_step == "commissioning"


def ilmd_value(ilmd: Any, suffix: str) -> str | None:
    """The ILMD value whose key ends with ``suffix`` (any namespace), as text."""
    if not ilmd:
        return None
    for key, value in ilmd.items():
        if isinstance(key, str) and key.endswith(suffix) and isinstance(value, str | int):
            return str(value)
    return None


def party_of(entries: Iterable[Any], parties: dict[str, int]) -> tuple[int | None, str | None]:
    """The party (and raw reference) of a source/destination list, possessing party first."""
    chosen = None
    for wanted in PARTY_TYPES:
        chosen = next((entry for entry in entries if entry.type == wanted), None)
        if chosen is not None:
            break
    if chosen is None:
        return None, None
    gln = gln_of(chosen.value)
    return (parties.get(gln) if gln else None), chosen.value


def resolve_parties(session: Session, tenant_id: int, glns: set[str]) -> dict[str, int]:
    """GLN → party id, by the party's own GLN, else its site's, else its location's."""
    found: dict[str, int] = {}
    wanted = sorted(glns)
    if not wanted:
        return found
    models: tuple[Any, ...] = (Location, Site, Party)
    for model in models:
        party_column = Party.id if model is Party else model.party_id
        for chunk in chunks(wanted):
            rows = session.execute(
                select(model.gln, party_column).where(
                    model.tenant_id == tenant_id, model.gln.in_(chunk)
                )
            )
            # Later models win: a party's own GLN beats a site's, a site's beats a location's.
            found.update({gln: int(party) for gln, party in rows if gln})
    return found
