"""Walking the unit hierarchy (parents only; lineage lives in the roll-up)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.units.models import OrgUnit


def ancestor_ids(session: Session, unit_id: int) -> list[int]:
    """The unit itself, then its parent, grandparent, … up to the root."""
    chain: list[int] = []
    current: int | None = unit_id
    while current is not None and current not in chain:
        chain.append(current)
        current = session.scalar(select(OrgUnit.parent_id).where(OrgUnit.id == current))
    return chain
