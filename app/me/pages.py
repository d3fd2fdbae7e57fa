"""What an officer's own pages show: each function is given the officer and reads only rows of
that officer — their certificates, hours, exams, cases (only their own numbers' problems) and
reminders. Called inside routes.own_rows() (past the empty scope of an officer's account)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from app import labels as L
from app.cases.services import judge
from app.exams.services import officer_exams
from app.extensions import db
from app.me.card import state_of
from app.models.applications import Application, ApplicationAction
from app.models.cases import CaseCertificate, CaseVerdict, PenaltyCase
from app.models.certificates import AnnualReview, Certificate, CertificateEvent
from app.models.exams import Exam
from app.models.me import TrainingClaim
from app.models.officers import Officer
from app.models.online import OnlineExam, Sitting
from app.models.reminders import ReminderDelivery
from app.models.training import TrainingGroupHours, TrainingHours
from app.online import services as online
from app.online.services import ends_at
from app.rules.hours import judged, parts, records_since, since_sql
from app.rules.training import rule_for
from app.training.services import officer_training


def _certificates(officer_id: int) -> list[Certificate]:
    return list(db.session.scalars(select(Certificate).where(Certificate.officer_id == officer_id)
                                   .order_by(Certificate.issued_on.desc(), Certificate.id.desc())))


def overview(officer: Officer, today: date) -> dict[str, Any]:
    """Certificates with their dated history, what is due (expiry, this year's 年审), reminders."""
    certs = _certificates(officer.id)
    ids = [c.id for c in certs]
    events: dict[int, list[CertificateEvent]] = {}
    reviews: dict[int, dict[int, AnnualReview]] = {}
    reminders = []
    if ids:
        for e in db.session.scalars(select(CertificateEvent).where(CertificateEvent.certificate_id.in_(ids))
                                    .order_by(CertificateEvent.effective_on, CertificateEvent.id)):
            events.setdefault(e.certificate_id, []).append(e)
        for r in db.session.scalars(select(AnnualReview).where(AnnualReview.certificate_id.in_(ids))):
            reviews.setdefault(r.certificate_id, {})[r.year] = r
        numbers = {c.id: c.number for c in certs}
        reminders = [{"at": d.at, "window": d.window, "number": numbers[d.certificate_id],
                      "channel": "电子邮件" if d.channel == "email" else "群消息", "sent": d.outcome == "sent"}
                     for d in db.session.scalars(select(ReminderDelivery)
                                                 .where(ReminderDelivery.certificate_id.in_(ids))
                                                 .order_by(ReminderDelivery.at.desc()).limit(50))]
    rows = []
    for c in certs:
        review = reviews.get(c.id, {}).get(today.year)
        due = []
        if c.status == "valid":
            days = (c.expires_on - today).days
            due.append(f"{days} 天后到期" if days >= 0 else "已过期")
            if review is None or review.result == "pending":
                due.append(f"{today.year}年度年审待完成")
        rows.append({"c": c, "state": state_of(c, today), "events": events.get(c.id, []),
                     "review": review, "due": due,
                     "reviews": sorted(reviews.get(c.id, {}).values(), key=lambda r: -r.year)})
    return {"certificates": rows, "reminders": reminders, "today": today}


def hours(officer: Officer, today: date) -> dict[str, Any]:
    """This year's counted hours against the year's rule (training_hours, approved claims
    included), the groups, and the sessions and claims behind them."""
    year = today.year
    rule = rule_for(year)
    th = db.session.scalar(select(TrainingHours).where(TrainingHours.officer_id == officer.id,
                                                       TrainingHours.year == year))
    by_group = {g: float(h) for g, h in db.session.execute(
        select(TrainingGroupHours.grp, TrainingGroupHours.hours)
        .where(TrainingGroupHours.officer_id == officer.id, TrainingGroupHours.year == year))}
    counted = float(th.counted) if th else 0.0
    is_judged = bool(db.session.scalar(
        select(judged(year, since_sql(records_since(today), today))).select_from(Officer)
        .where(Officer.id == officer.id)))
    p = parts(rule, year, officer.post_since, counted, by_group, is_judged)
    claims = list(db.session.scalars(select(TrainingClaim).where(TrainingClaim.officer_id == officer.id)
                                     .order_by(TrainingClaim.held_on.desc(), TrainingClaim.id.desc())))
    years = officer_training(officer.id)
    return {"year": year, "rule": rule, "counted": counted, "credited": float(th.hours) if th else 0.0,
            "by_group": by_group, "parts": p, "judged": is_judged, "claims": claims,
            "sessions": [s for s in next((y["sessions"] for y in years if y["year"] == year), [])
                         if not s["claim"]],  # the claims are listed on their own
            "other_years": [y for y in years if y["year"] != year]}


def open_sittings(officer_id: int, now: datetime) -> list[tuple[Sitting, OnlineExam, Exam]]:
    """The online exams the officer may take now: enrolled, open, not closed, not handed in."""
    rows = db.session.execute(
        select(Sitting, OnlineExam, Exam).join(OnlineExam, OnlineExam.exam_id == Sitting.exam_id)
        .join(Exam, Exam.id == Sitting.exam_id)
        .where(Sitting.officer_id == officer_id, Sitting.submitted_at.is_(None), OnlineExam.closed_at.is_(None),
               OnlineExam.opens_at.is_not(None), OnlineExam.opens_at <= now)
        .order_by(OnlineExam.opens_at)).all()
    return [(s, o, e) for s, o, e in rows if now < ends_at(o, s)]


def exams(officer: Officer, now: datetime) -> dict[str, Any]:
    return {"results": officer_exams(officer.id), "open": open_sittings(officer.id, now)}


def start_exam(officer: Officer, exam_id: int, now: datetime, ip: str):
    """Enter the room of one of the officer's open exams (LookupError when it is not theirs)."""
    found = db.session.execute(select(Sitting, OnlineExam).join(OnlineExam, OnlineExam.exam_id == Sitting.exam_id)
                               .where(Sitting.exam_id == exam_id, Sitting.officer_id == officer.id)).first()
    if found is None:
        raise LookupError(exam_id)
    return online.enter(found[0], found[1], now=now, ip=ip)


CASES_PER_PAGE = 20


def cases(officer: Officer, page: int = 1) -> tuple[list[dict[str, Any]], int, int]:
    """The cases naming one of the officer's certificate numbers, newest first, a page of them
    (rows, page, pages): 案号, dates, the verdict and the problems about their own numbers —
    never a colleague's name or number."""
    numbers = set(db.session.scalars(select(Certificate.number).where(Certificate.officer_id == officer.id)))
    if not numbers:
        return [], 1, 1
    ids = select(CaseCertificate.case_id).where(CaseCertificate.number.in_(sorted(numbers))).distinct()
    total = db.session.scalar(select(func.count()).select_from(ids.subquery())) or 0
    pages = max(1, -(-total // CASES_PER_PAGE))
    page = min(max(page, 1), pages)
    found = db.session.execute(select(PenaltyCase, CaseVerdict.ok)
                               .outerjoin(CaseVerdict, CaseVerdict.case_id == PenaltyCase.id)
                               .where(PenaltyCase.id.in_(ids))
                               .order_by(PenaltyCase.decided_on.desc(), PenaltyCase.id.desc())
                               .limit(CASES_PER_PAGE).offset((page - 1) * CASES_PER_PAGE)).all()
    verdicts = judge(select(PenaltyCase.id).where(PenaltyCase.id.in_([c.id for c, _ok in found])))
    out = []
    for case, ok in found:
        mine = [p for p in verdicts[case.id].problems if p["certificate_number"] in numbers] \
            if case.id in verdicts else []
        out.append({"case_no": case.case_no, "opened_on": case.opened_on,
                    "decided_on": case.decided_on, "ok": bool(ok),
                    "my_numbers": sorted(n.number for n in case.certificates if n.number in numbers),
                    "problems": [{"number": p["certificate_number"], "date": p["date"],
                                  "reason": L.CASE_REASONS.get(p["reason"], p["reason"])} for p in mine]})
    return out, page, pages


def applications(officer: Officer, today: date) -> list[dict[str, Any]]:
    """The officer's own applications (申领/换证/补证/注销), newest first, each with where it stands
    (the step it waits at, its due date, 估算 when the working-day calendar was guessed), its
    timeline and the new card's number once done. Two statements, both filtered on the officer."""
    new_card = aliased(Certificate)
    old_card = aliased(Certificate)
    found = db.session.execute(
        select(Application, new_card.number, old_card.number)
        .outerjoin(new_card, new_card.id == Application.new_certificate_id)
        .outerjoin(old_card, old_card.id == Application.old_certificate_id)
        .where(Application.officer_id == officer.id)
        .order_by(Application.submitted_on.desc(), Application.id.desc())).all()
    ids = [a.id for a, _new, _old in found]
    actions: dict[int, list[dict[str, Any]]] = {}
    if ids:
        for act in db.session.scalars(select(ApplicationAction).where(ApplicationAction.application_id.in_(ids))
                                      .order_by(ApplicationAction.id)):
            step = "提交" if act.step == "submitted" else L.APPLICATION_STATES.get(act.step, act.step)
            actions.setdefault(act.application_id, []).append({
                "step": step, "decision": L.APPLICATION_DECISIONS.get(act.decision, act.decision),
                "code": act.decision, "actor": act.actor, "at": act.at, "reason": act.reason})
    out = []
    for a, new_number, old_number in found:
        waiting = a.state in L.APPLICATION_STEPS
        if waiting:
            now = f"待{L.APPLICATION_STEPS[a.state]}"
        elif a.state == "returned":
            by = L.APPLICATION_STEPS.get(a.step or "", "")
            now = f"退回补正{f'（{by}退回）' if by else ''}：请按退回理由准备材料，由单位补正后重新提交"
        elif a.state == "awaiting_exam":
            now = "待考试：通过资格考试后自动进入审核"
        else:
            now = L.APPLICATION_STATES.get(a.state, a.state)
        out.append({"id": a.id, "number": a.number, "kind": L.APPLICATION_KINDS.get(a.kind, a.kind),
                    "state": a.state, "state_label": L.APPLICATION_STATES.get(a.state, a.state), "now": now,
                    "submitted_on": a.submitted_on, "finished_on": a.finished_on,
                    "due_on": a.due_on if waiting else None, "due_estimated": bool(a.due_estimated),
                    "overdue": waiting and a.due_on is not None and a.due_on < today,
                    "new_number": new_number, "old_number": old_number, "actions": actions.get(a.id, [])})
    return out
