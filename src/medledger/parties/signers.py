"""Signing's view of a user: compliance re-authenticates signers through the lookup registered
here, so it reads users without importing this package (compliance sits below parties)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from medledger.compliance.signing import Signer, register_signer_lookup
from medledger.parties.models import User


def load_signer(session: Session, user_id: int) -> Signer | None:
    """The user with ``user_id`` (active or not: signing refuses an inactive one)."""
    return session.get(User, user_id)


register_signer_lookup(load_signer)
