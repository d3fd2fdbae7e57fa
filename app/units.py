"""Units as pickers and lists show them (kit: no feature knowledge)."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models.officers import Unit


def unit_list() -> list[Unit]:
    """Every unit in the order pickers show them."""
    return list(db.session.scalars(select(Unit).order_by(Unit.sort_order, Unit.name_pinyin, Unit.name)))


def unit_name(unit_id: int) -> str:
    return db.session.scalar(select(Unit.name).where(Unit.id == unit_id)) or "（已删除的单位）"
