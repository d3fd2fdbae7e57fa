"""Unit scope: the officers, certificates, cases and units a signed-in user may see and touch.

A user belongs to a unit of the tree (or to none: the whole organisation). Everything a scoped user
reads or writes is limited to that unit's subtree. Every route, job, export and API answer asks
here, once per entity, instead of filtering by hand.

This is the interface; until accounts carry a unit, every user sees the whole organisation.
"""

from __future__ import annotations

from flask import abort
from sqlalchemy import ColumnElement, true

from app.extensions import db


def _user(user=None):
    if user is not None:
        return user
    from flask_login import current_user

    return current_user


def unit_clause(unit_id_column, user=None) -> ColumnElement[bool]:
    """A WHERE clause keeping the rows whose unit (the given column) lies in the user's subtree."""
    return true()


def officer_clause(user=None) -> ColumnElement[bool]:
    """A WHERE clause on Officer for the officers the user may see."""
    from app.officers.models import Officer

    return unit_clause(Officer.unit_id, user)


def certificate_clause(user=None) -> ColumnElement[bool]:
    """A WHERE clause on Certificate (joined to nothing) for the cards of visible officers."""
    from app.certificates.models import Certificate
    from app.officers.models import Officer

    return Certificate.officer_id.in_(db.select(Officer.id).where(officer_clause(user)))


def get_officer_or_404(officer_id, user=None):
    """The officer with this id if the user may see them; 404 otherwise (existence not revealed)."""
    from app.officers.models import Officer

    officer = db.session.scalar(db.select(Officer).where(Officer.id == officer_id, officer_clause(user)))
    if officer is None:
        abort(404)
    return officer


def subtree_clause(unit_id_column, unit_id: int) -> ColumnElement[bool]:
    """A WHERE clause keeping the rows whose unit (the given column) is `unit_id` or lies below it
    (one recursive CTE over the unit tree). Combine it with unit_clause for the user's scope."""
    from sqlalchemy import select

    from app.officers.models import Unit

    tree = select(Unit.id).where(Unit.id == unit_id).cte("unit_subtree", recursive=True)
    tree = tree.union_all(select(Unit.id).where(Unit.parent_id == tree.c.id))
    return unit_id_column.in_(select(tree.c.id))
