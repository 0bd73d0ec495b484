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


# A party as the ledger knows it: a registered party's id, or the GLN (13 digits, text) of a
# party that is not registered. Unregistered parties are parties all the same: a receipt by
# one closes the shipment to it and makes it the holder; nothing falls back to the capturer.
PartyKey = int | str


def party_key(
    entries: Iterable[Any], parties: dict[str, int]
) -> tuple[PartyKey | None, str | None]:
    """The party (and raw reference) a source/destination list names, possessing party first:
    the registered party of its GLN, else the GLN itself; ``(None, ref)`` when the reference
    carries no GLN."""
    chosen = None
    for wanted in PARTY_TYPES:
        chosen = next((entry for entry in entries if entry.type == wanted), None)
        if chosen is not None:
            break
    if chosen is None:
        return None, None
    gln = gln_of(chosen.value)
    if gln is None:
        return None, chosen.value
    return parties.get(gln, gln), chosen.value


def location_party(location: str | None, parties: dict[str, int]) -> PartyKey | None:
    """The party owning a ``bizLocation`` (an ``sgln``: a party's, site's or storage
    location's GLN resolves to its party), else that location's GLN; None without a GLN."""
    gln = gln_of(location) if location else None
    if gln is None:
        return None
    return parties.get(gln, gln)


def split_key(key: PartyKey | None) -> tuple[int | None, str | None]:
    """``(party_id, gln)`` columns of a party key (one of them set, or neither)."""
    if key is None:
        return None, None
    if isinstance(key, str):
        return None, key
    return key, None


def key_of(party_id: int | None, ref_or_gln: str | None) -> PartyKey | None:
    """The party key of stored columns: the party id, else the GLN of a reference (a
    canonical ``pgln``/``sgln`` URI, or a bare GLN)."""
    if party_id is not None:
        return int(party_id)
    if not ref_or_gln:
        return None
    if len(ref_or_gln) == 13 and ref_or_gln.isdigit():
        return ref_or_gln
    return gln_of(ref_or_gln)


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
