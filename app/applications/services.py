"""The applications workflow (docs/domain.md, 申请审批): submission and its checks, the steps and
who decides them, returns and resubmissions, the card issued or cancelled at the last step, the
wait for a qualification exam, deadlines in working days, the 待办 of a user, notifications.

Services flush, never commit; refusals are WorkflowError with an HTTP status (and for the
submission checks a code: not_active, ineligible, duplicate, no_card).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, case, event, false, func, insert, or_, select, update
from sqlalchemy.orm import Session

from app import clock, scope
from app.applications.numbering import next_number
from app.applications.workdays import Calendar
from app.audit.services import record, record_many
from app.certificates import services as certs
from app.errors import DomainError
from app.exams.services import recently_qualified, years_before
from app.extensions import db
from app.formatting import cn_date
from app.labels import (
    APPLICATION_DECISIONS,
    APPLICATION_KINDS,
    APPLICATION_STATES,
    APPLICATION_STEPS,
    EMPLOYMENT_STATUSES,
    ESTABLISHMENTS,
)
from app.models.applications import Application, ApplicationAction, Notification
from app.models.auth import User
from app.models.certificates import Certificate
from app.models.exams import Exam, ExamResult
from app.models.officers import Officer
from app.models_base import utcnow
from app.settings import services as settings

FINISHED = ("done", "rejected")
OPEN_STATES = ("awaiting_exam", *APPLICATION_STEPS, "returned")
# the card each kind acts on: its statuses (enforcement cards only)
CARD_STATUSES = {"replace": ("valid", "suspended", "lost"), "renew": ("valid",), "cancel": ("valid", "suspended")}
# who decides a step: the roles, and whether the user must be of the root (scope: a unit without a
# parent, or the whole organisation); 单位初审 is decided by an admin of the officer's unit or above
STEP_ROLES = {"unit_review": ("admin",), "legal_review": ("clerk", "admin"), "approval": ("admin",),
              "issuing": ("clerk", "admin")}
EXAM_YEARS = 3


class WorkflowError(DomainError):
    """A refusal with the HTTP status the API answers (400, 403, 409, 422) and, for the checks at
    submission, a code."""

    def __init__(self, message: str, status: int = 422, code: str = "invalid"):
        super().__init__(message)
        self.status = status
        self.code = code


def steps() -> list[str]:
    return list(settings.get("application_steps"))


def due_days() -> int:
    return int(settings.get("application_due_days"))


# --- who ------------------------------------------------------------------------------------------

def _root_of(unit_id: int) -> int:
    parents = scope._parents()
    seen = set()
    while parents.get(unit_id) is not None and unit_id not in seen:
        seen.add(unit_id)
        unit_id = parents[unit_id]
    return unit_id


def _is_root_user(user) -> bool:
    return user.unit_id is None or scope._parents().get(user.unit_id, 0) is None


def may_decide(user, app: Application, step: str | None = None) -> bool:
    """Whether `user` decides this application's current step (their own submission excluded)."""
    step = step or app.state
    if step not in STEP_ROLES or user.role not in STEP_ROLES[step]:
        return False
    if app.submitted_by_id is not None and app.submitted_by_id == user.id:
        return False
    unit_id = app.officer.unit_id
    if not scope.covers(unit_id, user):
        return False
    return step == "unit_review" or _is_root_user(user)


def may_resubmit(user, app: Application) -> bool:
    return (app.state == "returned" and user.role in ("clerk", "admin")
            and user.unit_id == app.submitted_unit_id)


def users_for_step(step: str, unit_id: int, exclude: int | None = None) -> list[int]:
    """The active users who decide `step` for an officer of `unit_id` (one query)."""
    up = {unit_id, *scope.ancestor_ids(unit_id)}
    units = up if step == "unit_review" else {_root_of(unit_id)}
    rows = db.session.scalars(select(User.id).where(
        User.active.is_(True), User.role.in_(STEP_ROLES[step]),
        or_(User.unit_id.is_(None), User.unit_id.in_(units))).execution_options(scope_all=True))
    return [u for u in rows if u != exclude]


def users_of_submitter(app: Application) -> list[int]:
    """Who may resubmit: active clerks and admins of the submitting user's scope."""
    unit = User.unit_id.is_(None) if app.submitted_unit_id is None else User.unit_id == app.submitted_unit_id
    return list(db.session.scalars(select(User.id).where(
        User.active.is_(True), User.role.in_(("clerk", "admin")), unit).execution_options(scope_all=True)))


def pending_clause(user):
    """WHERE clause of the applications waiting for `user` (their 待办): a step they decide (not
    their own submission) and those returned to their unit. The scope does the rest: only the
    user's subtree is seen, so 单位初审 is the officer's unit or one above it."""
    decide = [s for s, roles in STEP_ROLES.items()
              if user.role in roles and (s == "unit_review" or _is_root_user(user))]
    parts = []
    if decide:
        parts.append(and_(Application.state.in_(decide),
                          or_(Application.submitted_by_id.is_(None), Application.submitted_by_id != user.id)))
    if user.role in ("clerk", "admin"):
        unit = (Application.submitted_unit_id.is_(None) if user.unit_id is None
                else Application.submitted_unit_id == user.unit_id)
        parts.append(and_(Application.state == "returned", unit))
    return or_(*parts) if parts else false()


def overdue_clause(today: date):
    return and_(Application.state.in_(tuple(APPLICATION_STEPS)), Application.due_on < today)


# --- notifications --------------------------------------------------------------------------------

def notify(user_ids: Iterable[int], app_id: int, text: str) -> None:
    rows = [{"user_id": u, "application_id": app_id, "text": text[:300], "created_at": utcnow()}
            for u in dict.fromkeys(user_ids)]
    if rows:
        db.session.execute(insert(Notification), rows)


def unread_count(user) -> int:
    return db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


# --- submission -----------------------------------------------------------------------------------

@dataclass
class Refusal:
    officer: Officer
    code: str
    message: str


def _cards(officer_ids: Sequence[int], kind: str, on: date) -> dict[int, Certificate]:
    """The card each officer's application of `kind` acts on: their latest enforcement card in
    one of the kind's statuses (one query)."""
    if kind not in CARD_STATUSES or not officer_ids:
        return {}
    q = select(Certificate).where(Certificate.officer_id.in_(officer_ids), Certificate.kind == "enforcement",
                                  Certificate.status.in_(CARD_STATUSES[kind]), Certificate.issued_on <= on)
    if kind == "replace":
        q = q.where(Certificate.replaced_by_id.is_(None))
    out: dict[int, Certificate] = {}
    for c in db.session.scalars(q.order_by(Certificate.issued_on, Certificate.id)):
        out[c.officer_id] = c  # the latest wins
    return out


def _next_numbers(year: int, n: int) -> list[str]:
    prefix = f"SQ{year}-"
    numbers = db.session.scalars(select(Application.number).where(
        Application.number.startswith(prefix)).execution_options(scope_all=True))
    top = max((int(x[len(prefix):]) for x in numbers if x[len(prefix):].isdigit()), default=0)
    return [f"{prefix}{top + i:05d}" for i in range(1, n + 1)]


def check_officers(officers: Sequence[Officer], kind: str, submitted_on: date
                   ) -> tuple[list[Refusal], dict[int, Certificate]]:
    """The refusals of the checks at submission for these officers, and the cards acted on."""
    ids = [o.id for o in officers]
    eligible = set(settings.get("eligible_establishments"))
    open_for = set(db.session.scalars(select(Application.officer_id).where(
        Application.officer_id.in_(ids), Application.kind == kind,
        Application.state.in_(OPEN_STATES)))) if ids else set()
    cards = _cards(ids, kind, submitted_on)
    refused = []
    for o in officers:
        if kind != "cancel" and o.employment_status != "active":
            status = EMPLOYMENT_STATUSES.get(o.employment_status, o.employment_status)
            refused.append(Refusal(o, "not_active", f"{o.name}当前为“{status}”，"
                                                    f"不在职，不能{APPLICATION_KINDS[kind]}"))
        elif kind != "cancel" and o.establishment not in eligible:
            refused.append(Refusal(o, "ineligible",
                                   f"{o.name}的编制类型为“{ESTABLISHMENTS.get(o.establishment, o.establishment)}”，"
                                   "不符合持证条件"))
        elif o.id in open_for:
            refused.append(Refusal(o, "duplicate", f"{o.name}已有一份{APPLICATION_KINDS[kind]}申请正在办理"))
        elif kind in CARD_STATUSES and o.id not in cards:
            what = {"replace": "有效、暂扣或遗失的", "renew": "有效或已过期的", "cancel": "有效或暂扣的"}[kind]
            refused.append(Refusal(o, "no_card", f"{o.name}没有{what}行政执法证，不能{APPLICATION_KINDS[kind]}"))
    return refused, cards


def submit_many(officers: Sequence[Officer], kind: str, *, reason: str = "", submitted_on: date | None = None,
                user=None, skip_refused: bool = False) -> tuple[list[Application], list[Refusal]]:
    """One application per officer, all in one go (set-wise). A refusal refuses the whole call
    unless `skip_refused` (the batch of a class: the others go ahead, the refused are listed)."""
    today = clock.today()
    submitted_on = submitted_on or today
    if kind not in APPLICATION_KINDS:
        raise WorkflowError(f"未知的申请类型“{kind}”，"
                            "可选：new（申领）、renew（换证）、replace（补证）、cancel（注销）",
                            400, "invalid_kind")
    if submitted_on > today:
        raise WorkflowError(f"收件日期（{cn_date(submitted_on)}）不能晚于今天", 400, "invalid_date")
    reason = (reason or "").strip()
    if len(reason) > 500:
        raise WorkflowError("申请事由不能超过500个字", 400, "invalid_reason")
    refused, cards = check_officers(officers, kind, submitted_on)
    if refused and not skip_refused:
        first = refused[0]
        raise WorkflowError(first.message, 422, first.code)
    bad = {r.officer.id for r in refused}
    todo = [o for o in officers if o.id not in bad]
    if not todo:
        return [], refused
    since = years_before(submitted_on, EXAM_YEARS)
    passed = recently_qualified([o.id for o in todo], submitted_on, EXAM_YEARS) if kind == "new" else set()
    numbers = _next_numbers(submitted_on.year, len(todo))
    first_step = steps()[0]
    due, estimated = Calendar().add_working_days(submitted_on, due_days())
    username = getattr(user, "username", "") or "命令行"
    created = []
    for o, number in zip(todo, numbers, strict=True):
        waiting = kind == "new" and o.id not in passed
        card = cards.get(o.id)
        a = Application(number=number, kind=kind, officer=o, submitted_on=submitted_on, reason=reason,
                        exam_since=since if kind == "new" else None,
                        submitted_by_id=getattr(user, "id", None), submitted_by=username,
                        submitted_unit_id=getattr(user, "unit_id", None),
                        old_certificate_id=card.id if card else None,
                        state="awaiting_exam" if waiting else first_step,
                        step="awaiting_exam" if waiting else first_step,
                        step_since=submitted_on, due_on=None if waiting else due,
                        due_estimated=False if waiting else estimated)
        a.actions.append(ApplicationAction(step="submitted", decision="submit", user_id=getattr(user, "id", None),
                                           actor=username, acted_on=today, reason=reason))
        db.session.add(a)
        created.append(a)
    db.session.flush()
    record_many("create", "application", [
        (a.id, f"提交{APPLICATION_KINDS[kind]}申请 {a.number}（{a.officer.name}）",
         {"number": a.number, "kind": kind, "submitted_on": submitted_on.isoformat(), "state": a.state})
        for a in created])
    by_unit: dict[int, list[int]] = {}
    for a in created:
        if a.state in APPLICATION_STEPS:
            who = by_unit.setdefault(a.officer.unit_id, users_for_step(a.state, a.officer.unit_id))
            notify([u for u in who if u != a.submitted_by_id], a.id,
                   f"{APPLICATION_KINDS[kind]}申请 {a.number}（{a.officer.name}）待{APPLICATION_STEPS[a.state]}")
    return created, refused


def submit(officer: Officer, kind: str, *, reason: str = "", submitted_on: date | None = None,
           user=None) -> Application:
    created, _ = submit_many([officer], kind, reason=reason, submitted_on=submitted_on, user=user)
    return created[0]


def exam_candidates(exam: Exam) -> list[Officer]:
    """The officers who passed this exam (a class after its exam): one query."""
    return list(db.session.scalars(
        select(Officer).join(ExamResult, ExamResult.officer_id == Officer.id).join(Exam, Exam.id == ExamResult.exam_id)
        .where(ExamResult.exam_id == exam.id, ExamResult.passed).order_by(Officer.name_pinyin, Officer.id)))


# --- steps ----------------------------------------------------------------------------------------

def _act(app: Application, step: str, decision: str, user, reason: str = "") -> ApplicationAction:
    act = ApplicationAction(step=step, decision=decision, user_id=getattr(user, "id", None),
                            actor=getattr(user, "username", "") or "命令行", acted_on=clock.today(),
                            reason=reason or "")
    app.actions.append(act)
    return act


def _reach(app: Application, step: str, day: date) -> None:
    app.state = app.step = step
    app.step_since = day
    app.due_on, app.due_estimated = Calendar().add_working_days(day, due_days())
    db.session.flush()
    notify(users_for_step(step, app.officer.unit_id, exclude=app.submitted_by_id), app.id,
           f"{APPLICATION_KINDS[app.kind]}申请 {app.number}（{app.officer.name}）待{APPLICATION_STEPS[step]}")


def _finish(app: Application, state: str) -> None:
    app.state = state
    app.due_on, app.due_estimated = None, False
    app.finished_on = clock.today()


def _require_open_step(app: Application, user) -> str:
    if app.state in FINISHED:
        raise WorkflowError(f"申请 {app.number} 已{APPLICATION_STATES[app.state]}，不能再审批", 409, "finished")
    if app.state not in APPLICATION_STEPS:
        raise WorkflowError(f"申请 {app.number} 当前为“{APPLICATION_STATES[app.state]}”，没有待审批的环节",
                            409, "not_at_step")
    if app.submitted_by_id is not None and app.submitted_by_id == getattr(user, "id", None):
        raise WorkflowError("不能审批自己提交的申请", 403, "own_submission")
    if not may_decide(user, app):
        raise WorkflowError(f"“{APPLICATION_STEPS[app.state]}”不由您办理", 403, "not_your_step")
    return app.state


def decide(app: Application, user, decision: str, *, reason: str = "", card: dict[str, Any] | None = None,
           expected_version: int | None = None) -> Application:
    """approve / return / reject the current step. At 制证发证 approve issues (or cancels) the card."""
    step = _require_open_step(app, user)
    if expected_version is not None and expected_version != app.version:
        raise WorkflowError(f"申请 {app.number} 已被他人办理，请刷新页面后重试", 409, "stale")
    reason = (reason or "").strip()
    if decision not in ("approve", "return", "reject"):
        raise WorkflowError(f"未知的决定“{decision}”，可选：approve（同意）、return（退回补正）、reject（不予批准）",
                            400, "invalid_decision")
    if decision in ("return", "reject") and not reason:
        raise WorkflowError(f"{APPLICATION_DECISIONS[decision]}须写明理由", 400, "reason_required")
    if len(reason) > 500:
        raise WorkflowError("理由不能超过500个字", 400, "invalid_reason")
    label = APPLICATION_STEPS[step]
    if decision == "return":
        _act(app, step, "return", user, reason)
        app.state, app.due_on, app.due_estimated = "returned", None, False
        db.session.flush()
        notify(users_of_submitter(app), app.id, f"申请 {app.number}（{app.officer.name}）在{label}被退回补正：{reason}")
    elif decision == "reject":
        _act(app, step, "reject", user, reason)
        _finish(app, "rejected")
        db.session.flush()
        notify(users_of_submitter(app), app.id, f"申请 {app.number}（{app.officer.name}）不予批准：{reason}")
    elif step == "issuing":
        note = _issue(app, card or {})
        _act(app, step, "approve", user, "；".join(x for x in (note, reason) if x))
        _finish(app, "done")
        db.session.flush()
        notify(users_of_submitter(app), app.id, f"申请 {app.number}（{app.officer.name}）已办结：{note}")
    else:
        _act(app, step, "approve", user, reason)
        order = steps()
        nxt = order[order.index(step) + 1] if step in order and order.index(step) + 1 < len(order) else "issuing"
        _reach(app, nxt, clock.today())
    record("status", "application", app.id,
           f"申请 {app.number} {label}：{APPLICATION_DECISIONS[decision]}" + (f"（{reason}）" if reason else ""),
           {"state": [step, app.state]})
    return app


def resubmit(app: Application, user, note: str = "") -> Application:
    if app.state != "returned":
        raise WorkflowError(f"申请 {app.number} 当前为“{APPLICATION_STATES[app.state]}”，不是退回补正，不能重新提交",
                            409, "not_returned")
    if not may_resubmit(user, app):
        raise WorkflowError("只有提交申请的单位才能补正后重新提交", 403, "not_submitter")
    note = (note or "").strip()
    if len(note) > 500:
        raise WorkflowError("补正说明不能超过500个字", 400, "invalid_reason")
    step = app.step if app.step in APPLICATION_STEPS else steps()[0]
    _act(app, step, "resubmit", user, note)
    _reach(app, step, clock.today())
    record("status", "application", app.id, f"申请 {app.number} 补正后重新提交", {"state": ["returned", step]})
    return app


def _day(value: Any, label: str, default: date) -> date:
    if value in (None, ""):
        return default
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise WorkflowError(f"{label}“{value}”无效：应为 YYYY-MM-DD", 400, "invalid_date") from None


def card_number_for(issued_on: date) -> str | None:
    pattern = settings.get("certificate_number_pattern")
    return next_number(pattern, settings.get("region_code"), issued_on) if pattern else None


def _issue(app: Application, card: dict[str, Any]) -> str:
    """The last step: the new card (申领/换证/补证) with its 发证 event (文号 = the application's
    number), or the card's cancellation (注销). Returns what was done, in words."""
    today = clock.today()
    old = app.old_certificate
    if app.kind == "cancel":
        on = _day(card.get("cancelled_on") or card.get("issued_on"), "注销日期", today)
        if on > today:
            raise WorkflowError(f"注销日期（{cn_date(on)}）不能晚于今天", 400, "invalid_date")
        if old is None:
            raise WorkflowError("该申请没有要注销的证件", 409, "no_card")
        certs.transition(old, "cancel", effective_on=on, reason=app.reason or "注销申请",
                         document_no=app.number, today=today)
        return f"证件 {old.number} 已注销（{cn_date(on)}）"
    issued_on = _day(card.get("issued_on"), "发证日期", today)
    if issued_on > today:
        raise WorkflowError(f"发证日期（{cn_date(issued_on)}）不能晚于今天", 400, "invalid_date")
    number = str(card.get("certificate_number") or "").strip() or card_number_for(issued_on)
    if not number:
        raise WorkflowError("请填写证号（未设置证号编号规则）", 400, "number_required")
    expires_on = _day(card.get("expires_on"), "有效期至", certs.default_expiry(issued_on))
    handed_to = str(card.get("handed_to") or "").strip()[:50] or app.officer.name
    data = {"kind": "enforcement", "number": number, "issued_on": issued_on, "expires_on": expires_on,
            "issuing_authority": str(card.get("issuing_authority") or "").strip()[:100] or settings.get("org_name"),
            "categories": old.categories if old else "", "area": old.area if old else ""}
    errors = certs.validate_certificate_data(data)
    if errors:
        raise WorkflowError("；".join(errors.values()), 400 if "number" not in errors else 409, "invalid_card")
    why = f"{APPLICATION_KINDS[app.kind]}（申请 {app.number}）"
    if app.kind == "new":
        applying = db.session.scalar(select(Certificate).where(
            Certificate.officer_id == app.officer_id, Certificate.kind == "enforcement",
            Certificate.status == "applying").order_by(Certificate.id.desc()).limit(1))
        if applying is not None:  # the card registered 申领中 becomes this one
            certs.update_certificate(applying, data)
            certs.transition(applying, "issue", effective_on=issued_on, reason=why, document_no=app.number, today=today)
            new = applying
        else:
            new = certs.create_certificate(app.officer, data, reason=why, document_no=app.number, today=today)
    elif app.kind == "renew":
        if old is None or old.status != "valid":
            raise WorkflowError("原证件已不是有效状态，不能换证", 409, "no_card")
        certs.transition(old, "replace", effective_on=issued_on, reason=why, document_no=app.number,
                         replacement=data, today=today)
        new = old.replaced_by
    else:  # 补证: the old card is reported lost (or cancelled if suspended), the new one replaces it
        if old is None or old.status not in CARD_STATUSES["replace"]:
            raise WorkflowError("原证件已不能补证", 409, "no_card")
        if old.status == "valid":
            certs.transition(old, "lose", effective_on=issued_on, reason=f"补证：{app.reason or '遗失或损坏'}",
                             document_no=app.number, today=today)
        elif old.status == "suspended":
            certs.transition(old, "cancel", effective_on=issued_on, reason=f"补证，原证作废：{app.reason or ''}",
                             document_no=app.number, today=today)
        new = certs.create_certificate(app.officer, data, reason=f"补证（原证 {old.number}，申请 {app.number}）",
                                       document_no=app.number, today=today)
        old.replaced_by_id = new.id
    app.new_certificate_id = new.id
    db.session.flush()
    return f"证号 {new.number}，发证日期 {cn_date(issued_on)}，领证人 {handed_to}"


# --- the wait for an exam -------------------------------------------------------------------------

def advance_awaiting(session: Session, today: date | None = None) -> int:
    """Every application waiting for its exam whose officer now has a passed qualification exam
    held on or after its exam_since moves on to the first step (set-wise; no ORM events)."""
    today = today or clock.today()
    t = Application.__table__
    with scope.off(session):
        passed = (select(ExamResult.id).join(Exam, Exam.id == ExamResult.exam_id)
                  .where(ExamResult.officer_id == t.c.officer_id, Exam.kind == "qualification",
                         Exam.held_on >= t.c.exam_since, Exam.held_on <= today, ExamResult.passed).exists())
        rows = session.execute(select(t.c.id, t.c.number, t.c.submitted_by_id, t.c.kind, Officer.name, Officer.unit_id)
                               .join(Officer, Officer.id == t.c.officer_id)
                               .where(t.c.state == "awaiting_exam", passed)).all()
        if not rows:
            return 0
        first = steps()[0]
        due, estimated = Calendar().add_working_days(today, due_days())
        ids = [r.id for r in rows]
        session.execute(update(t).where(t.c.id.in_(ids)).values(
            state=first, step=first, step_since=today, due_on=due, due_estimated=estimated,
            version=t.c.version + 1, updated_at=utcnow()))
        session.execute(insert(ApplicationAction.__table__), [
            {"application_id": r.id, "step": "awaiting_exam", "decision": "exam_passed", "actor": "系统",
             "at": utcnow(), "acted_on": today, "reason": "已通过资格考试"} for r in rows])
        users: dict[int, list[int]] = {}
        for r in rows:
            who = users.setdefault(r.unit_id, users_for_step(first, r.unit_id))
            notify([u for u in who if u != r.submitted_by_id], r.id,
                   f"{APPLICATION_KINDS[r.kind]}申请 {r.number}（{r.name}）考试合格，待{APPLICATION_STEPS[first]}")
        for obj in list(session.identity_map.values()):
            if isinstance(obj, Application) and obj.id in ids:
                session.expire(obj)
    return len(rows)


_EXAM_TOUCHED = "applications_exam_touched"


@event.listens_for(Session, "after_flush")
def _exam_results_after_flush(session: Session, _ctx) -> None:
    """A result recorded or changed (grid, import, online close): look at the waiting applications
    after this flush (after_flush_postexec may write)."""
    if any(isinstance(o, ExamResult | Exam) for o in (*session.new, *session.dirty)):
        session.info[_EXAM_TOUCHED] = True


@event.listens_for(Session, "after_flush_postexec")
def _exam_results_postexec(session: Session, _ctx) -> None:
    if session.info.pop(_EXAM_TOUCHED, False):
        advance_awaiting(session)


# --- reading --------------------------------------------------------------------------------------

def as_json(app: Application, today: date | None = None) -> dict[str, Any]:
    today = today or clock.today()
    out = {
        "id": app.id, "number": app.number, "kind": app.kind, "state": app.state,
        "officer": {"id": app.officer.id, "name": app.officer.name, "unit": app.officer.unit.name},
        "submitted_on": app.submitted_on.isoformat(), "step": app.step,
        "due_on": app.due_on.isoformat() if app.due_on else None,
        "overdue": is_overdue(app, today),
        "certificate_number": (app.new_certificate.number if app.new_certificate
                               else app.old_certificate.number if app.old_certificate else None),
        "reason": app.reason,
        "history": [{"step": a.step, "decision": a.decision, "by": a.actor,
                     "at": a.at.replace(microsecond=0).isoformat(), "reason": a.reason} for a in app.actions],
    }
    if app.due_estimated:
        out["due_estimated"] = True
    return out


def is_overdue(app: Application, today: date) -> bool:
    return app.state in APPLICATION_STEPS and app.due_on is not None and app.due_on < today


def pending_for(user, today: date, limit: int = 10) -> tuple[list[Application], int, int]:
    """(the first `limit` applications waiting for the user — overdue and oldest first —, how many
    in all, how many overdue)."""
    late = overdue_clause(today)
    found = db.session.execute(  # one statement: the counts ride along as window functions
        select(Application, func.count().over(), func.sum(case((late, 1), else_=0)).over())
        .where(pending_clause(user))
        .order_by(late.desc(), Application.due_on.is_(None), Application.due_on,
                  Application.submitted_on, Application.id).limit(limit)).all()
    if not found:
        return [], 0, 0
    return [r[0] for r in found], int(found[0][1]), int(found[0][2] or 0)


def count_overdue(today: date) -> int:
    return db.session.scalar(select(func.count()).select_from(Application).where(overdue_clause(today))) or 0
