"""离岗: an officer leaves (调出, 辞职, 辞退, 退休, 死亡) on a date. The post ends — 在职状态 becomes
the matching status, dated — and for each card still valid or suspended a task opens to 注销 it
within the setting card_cancel_days (30). A task stays open while its card is still valid or
suspended: cancelling (or revoking) the card on the certificate page closes it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import case, func, select

from app.audit.services import record
from app.errors import DomainError
from app.extensions import db
from app.formatting import cn_date
from app.labels import DEPARTURES
from app.models.certificates import Certificate
from app.models.officers import CardCancelTask, Officer
from app.settings import services as settings

OPEN_CARD = ("valid", "suspended")


def depart(officer: Officer, kind: str, on: date | None, *, today: date,
           expected_version: int | None = None, document_no: str = "") -> list[CardCancelTask]:
    """Record the departure; flush, never commit. Refuses in Chinese what cannot be recorded.
    `document_no` (文号, optional) goes into the audit row."""
    if kind not in DEPARTURES:
        raise DomainError("请选择离岗类型（调出、辞职、辞退、退休或死亡）", fields={"kind": "请选择离岗类型"})
    if on is None:
        raise DomainError("请填写离岗日期", fields={"on": "请填写离岗日期"})
    if on > today:
        raise DomainError(f"离岗日期{cn_date(on)}晚于今天，请在离岗后登记", fields={"on": "离岗日期不能晚于今天"})
    if officer.employment_status != "active":
        raise DomainError(f"“{officer.name}”已不在职，不能再登记离岗")
    if expected_version is not None and officer.version != expected_version:
        raise DomainError(f"“{officer.name}”的信息已被他人修改，请刷新页面后重新登记")
    days = int(settings.get("card_cancel_days"))
    officer.employment_status = kind
    officer.status_changed_on = on
    cards = db.session.scalars(select(Certificate).where(
        Certificate.officer_id == officer.id, Certificate.status.in_(OPEN_CARD))).all()
    tasks = [CardCancelTask(officer_id=officer.id, certificate_id=c.id, departure=kind, left_on=on,
                            due_on=on + timedelta(days=days)) for c in cards]
    db.session.add_all(tasks)
    db.session.flush()
    numbers = "、".join(c.number for c in cards)
    record("update", "officer", officer.id,
           f"登记离岗：{officer.name}，{DEPARTURES[kind]}，{cn_date(on)}"
           + (f"，文号 {document_no.strip()}" if (document_no or "").strip() else "")
           + (f"；待注销证件 {numbers}，{cn_date(on + timedelta(days=days))}前" if cards else ""),
           {"employment_status": ["active", kind], "status_changed_on": [None, on.isoformat()]})
    return tasks


@dataclass
class OpenTask:
    id: int
    officer_id: int
    name: str
    certificate_id: int
    number: str
    departure: str
    left_on: date
    due_on: date


def _open():
    return (select(CardCancelTask.id, CardCancelTask.officer_id, Officer.name, Certificate.id, Certificate.number,
                   CardCancelTask.departure, CardCancelTask.left_on, CardCancelTask.due_on)
            .join(Certificate, Certificate.id == CardCancelTask.certificate_id)
            .join(Officer, Officer.id == CardCancelTask.officer_id)
            .where(Certificate.status.in_(OPEN_CARD)))


def open_tasks(officer_id: int | None = None) -> list[OpenTask]:
    """The open tasks, soonest due first (so the overdue ones lead); one statement."""
    q = _open().order_by(CardCancelTask.due_on, CardCancelTask.id)
    if officer_id is not None:
        q = q.where(CardCancelTask.officer_id == officer_id)
    return [OpenTask(*row) for row in db.session.execute(q)]


def count_open(today: date) -> tuple[int, int, int]:
    """(certificates on record, open tasks, of which overdue) in one statement: the dashboard's
    card total rides along with the task counts."""
    sub = _open().subquery()
    cards = select(func.count()).select_from(Certificate).scalar_subquery()
    certificates, total, overdue = db.session.execute(
        select(cards, func.count(sub.c.id), func.count(case((sub.c.due_on < today, 1))))
        .select_from(sub)).one()
    return certificates, total, overdue
