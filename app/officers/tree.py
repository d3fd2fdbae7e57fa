"""The unit tree: each unit with its children and the officers and certificate holders of its
whole branch, and moving a unit under another (an admin of a common ancestor; no cycles)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import distinct, func, select

from app import scope
from app.audit.services import record
from app.errors import DomainError
from app.extensions import db
from app.models.certificates import Certificate
from app.models.officers import Officer, Unit
from app.reports.trend import cached
from app.rules.timeline import effective_now
from app.scope import subtree_select


@dataclass
class Node:
    unit: Unit
    officers: int = 0  # in this unit itself
    holders: int = 0
    children: list[Node] = field(default_factory=list)
    branch_officers: int = 0  # in this unit and every unit below it
    branch_holders: int = 0


def unit_tree(today: date) -> list[Node]:
    """The units the user sees, as a forest (a scoped user's branch has one top; a unit whose
    parent is out of sight is a top too), with per-branch counts: three queries for the tree."""
    units = list(db.session.scalars(select(Unit).order_by(Unit.sort_order, Unit.name_pinyin, Unit.name)))
    nodes = {u.id: Node(u) for u in units}
    officers, holders = cached("unit_tree_counts", unit_counts, today)
    for unit_id, n in officers.items():
        if unit_id in nodes:
            nodes[unit_id].officers = n
    for unit_id, n in holders.items():
        if unit_id in nodes:
            nodes[unit_id].holders = n
    tops = []
    for u in units:
        parent = nodes.get(u.parent_id)
        (parent.children if parent is not None else tops).append(nodes[u.id])

    def total(node: Node, seen: frozenset) -> None:
        node.branch_officers, node.branch_holders = node.officers, node.holders
        for child in node.children:
            if child.unit.id not in seen:
                total(child, seen | {child.unit.id})
                node.branch_officers += child.branch_officers
                node.branch_holders += child.branch_holders

    for top in tops:
        total(top, frozenset({top.unit.id}))
    return tops


def unit_counts(today: date) -> tuple[dict[int, int], dict[int, int]]:
    """({unit id: officers}, {unit id: officers holding a card effective today}) of the units the
    user sees: two GROUP BYs over every officer (and card) — kept per process until the next
    audited write, per day and scope (app/reports/trend.py `cached`), so the tree page reads the
    register once, not on every visit."""
    officers = dict(db.session.execute(select(Officer.unit_id, func.count()).group_by(Officer.unit_id)).all())
    held = (select(Officer.unit_id, func.count(distinct(Certificate.officer_id))).select_from(Certificate)
            .join(Officer, Officer.id == Certificate.officer_id)
            .where(effective_now(today)).group_by(Officer.unit_id))
    return officers, dict(db.session.execute(held).all())


def descendants(unit_id: int) -> list[int]:
    """The unit and every unit below it (the whole tree, whatever the user sees)."""
    return list(db.session.execute(subtree_select(unit_id).execution_options(scope_all=True)).scalars())


def check_parent(unit: Unit | None, parent_id: int | None) -> None:
    """Refuse a parent that makes a cycle, or, for a user limited to a branch, a parent (or, for an
    existing unit moved, a former parent) outside it: a unit is moved by an admin of a common
    ancestor of where it was and where it goes."""
    if unit is not None and parent_id is not None and parent_id in descendants(unit.id):
        message = ("上级单位不能是自己" if parent_id == unit.id
                   else "不能把单位移到它自己的下级单位之下（会形成循环）")
        raise DomainError(message, fields={"parent_id": message})
    if not scope.covers(parent_id) or (unit is not None and unit.parent_id != parent_id
                                       and not scope.covers(unit.parent_id)):
        message = ("上级单位须在您的管辖范围内" if unit is None or unit.parent_id == parent_id
                   else "只有同时管辖原上级单位和新上级单位的管理员才能移动该单位")
        raise DomainError(message, fields={"parent_id": message})


def move_unit(unit: Unit, parent_id: int | None) -> None:
    """Put `unit` (and its branch) under `parent_id` (None: a top unit); audited."""
    check_parent(unit, parent_id)
    if unit.parent_id == parent_id:
        return
    names = dict(db.session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(
        [i for i in (unit.parent_id, parent_id) if i is not None])).execution_options(scope_all=True)).all())
    old_parent = unit.parent_id
    before = names.get(old_parent) if old_parent else None
    unit.parent_id = parent_id
    db.session.flush()

    scope.forget()
    record("update", "unit", unit.id,
           f"移动单位 {unit.name}：{before or '（无上级）'} → {names.get(parent_id) or '（无上级）'}",
           {"parent_id": [old_parent, parent_id]})
