"""The counters of the public pages (the verification page, a card's check, the public list's
PDF): one VerifyHit row a token a day; a hit is counted, not audited."""

from __future__ import annotations

from datetime import date

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models.verify import VerifyHit
from app.models_base import utcnow


def count_hit(kind: str, row_id: int, day: date) -> bool:
    """Add one to the token's counter for `day`; True when this is its first hit that day.

    Two first hits at the same moment: the loser of the unique (day, kind, row_id) insert
    falls back to the update, inside a savepoint so the request's transaction survives."""
    now = utcnow()
    bump = (update(VerifyHit).where(VerifyHit.day == day, VerifyHit.kind == kind,
                                    VerifyHit.row_id == row_id)
            .values(hits=VerifyHit.hits + 1, last_at=now)
            .execution_options(synchronize_session=False))
    if db.session.execute(bump).rowcount:
        return False
    try:
        with db.session.begin_nested():
            db.session.add(VerifyHit(day=day, kind=kind, row_id=row_id, hits=1, first_at=now,
                                     last_at=now))
    except IntegrityError:
        db.session.execute(bump)
        return False
    return True
