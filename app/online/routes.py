"""Staff pages of the online exams: the bank, and an exam's paper, window, monitor and results."""

from __future__ import annotations

import io
from datetime import datetime

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import func, or_, select

from app import scope
from app.audit.services import record
from app.auth.access import require_role
from app.errors import DomainError
from app.extensions import db
from app.jobs.services import defer
from app.labels import QUESTION_TYPES
from app.models.exams import Exam
from app.models.online import Question, Sitting
from app.models_base import utcnow
from app.online import api as _api  # noqa: F401  (the exam room's page and JSON API)
from app.online import bank, bp, documents
from app.online import services as svc
from app.online.forms import QuestionForm
from app.web.args import page_arg
from app.web.tx import commit_or_errors

PER_PAGE = 50


# --- the bank ------------------------------------------------------------------------------------

@bp.route("/exams/bank")
def bank_index():
    q = (request.args.get("q") or "").strip()
    qtype = request.args.get("type") or ""
    category = (request.args.get("category") or "").strip()
    status = request.args.get("status") or "active"
    page = page_arg()
    stmt = select(Question)
    if q:
        stmt = stmt.where(or_(Question.stem.contains(q, autoescape=True), Question.basis.contains(q, autoescape=True)))
    if qtype in QUESTION_TYPES:
        stmt = stmt.where(Question.type == qtype)
    if category:
        stmt = stmt.where(Question.category == category)
    if status == "active":
        stmt = stmt.where(Question.retired.is_(False))
    elif status == "retired":
        stmt = stmt.where(Question.retired.is_(True))
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    pages = max(1, -(-total // PER_PAGE))
    page = min(page, pages)
    rows = db.session.scalars(stmt.order_by(Question.type, Question.id).limit(PER_PAGE)
                              .offset((page - 1) * PER_PAGE)).all()
    categories = db.session.scalars(select(Question.category).where(Question.category != "")
                                    .distinct().order_by(Question.category)).all()
    args = {k: v for k, v in {"q": q, "type": qtype, "category": category, "status": status}.items() if v}
    hidden = svc.answers_hidden_for(current_user.role, [x.id for x in rows])
    return render_template("online/bank.html", rows=rows, total=total, page=page, pages=pages, args=args,
                           q=q, qtype=qtype, category=category, status=status, categories=categories,
                           show_answers=hidden is not None, hidden=hidden or set())


ANSWER_WITHHELD = "该试题在正在进行的考试试卷上：考试结束前，只有管理员可以查看或修改它（含答案）"
PAPER_WITHHELD = "考试进行中：含答案的试卷只有管理员可以打印"


def _question(qid: int) -> Question:
    q = db.session.get(Question, qid)
    if q is None:
        abort(404)
    return q


def _form_data(form: QuestionForm) -> dict:
    return {f: getattr(form, f).data for f in ("type", "stem", "option_a", "option_b", "option_c", "option_d",
                                                 "option_e", "option_f", "answer", "points", "category", "basis")}


@bp.route("/exams/bank/new", methods=["GET", "POST"])
@bp.route("/exams/bank/<int:qid>/edit", methods=["GET", "POST"])
@require_role("clerk")
def bank_edit(qid: int | None = None):
    q = _question(qid) if qid else None
    if q is not None and svc.answers_hidden_for(current_user.role, [q.id]):
        flash(ANSWER_WITHHELD, "warning")
        return redirect(url_for("online.bank_index"))
    obj = None
    if q is not None:
        obj = {"type": q.type, "stem": q.stem, "answer": q.answer,
               "points": "" if q.points is None else f"{q.points:g}",
               "category": q.category, "basis": q.basis}
        obj |= {f"option_{c.lower()}": (q.options or {}).get(c, "") for c in bank.LETTERS}
        obj = type("Obj", (), obj)()
    form = QuestionForm(obj=obj)
    if form.validate_on_submit():
        with commit_or_errors() as tx:
            saved = bank.save_question(q, _form_data(form))
            tx.success = "试题已保存" + ("（已用于考试的试卷保留原题，不受影响）" if q is not None else "")
        if tx.ok:
            return redirect(url_for("online.bank_index", q=saved.stem[:20]))
    return render_template("online/question_form.html", form=form, question=q)


@bp.route("/exams/bank/<int:qid>/retire", methods=["POST"])
def bank_retire(qid: int):
    q = _question(qid)
    bank.set_retired(q, not q.retired)
    flash(f"试题已{'停用（不再抽入新试卷）' if q.retired else '恢复'}", "success")
    return redirect(request.referrer or url_for("online.bank_index"))


# --- an exam's online page -----------------------------------------------------------------------

def _exam(exam_id: int) -> Exam:
    exam = db.session.get(Exam, exam_id)
    if exam is None:
        abort(404)
    return exam


def _sitting(exam: Exam, sid: int) -> Sitting:
    s = db.session.get(Sitting, sid)
    if s is None or s.exam_id != exam.id:
        abort(404)
    return s


RECORDED_PER_PAGE = 50


@bp.route("/exams/<int:exam_id>/online")
def exam_online(exam_id: int):
    exam = _exam(exam_id)
    now = utcnow()
    if svc.finish_if_due(exam, now):
        flash("考试时间已到：已按保存的答案自动交卷，成绩已写入", "info")
    online = svc.online_of(exam)
    st = svc.state(online, now)
    rows = svc.monitor(exam, now) if online and online.rules else []
    rules_text = "\n".join(f"{QUESTION_TYPES[r.type]}{':' + r.category if r.category else ''}={r.count}x{r.points:g}"
                           for r in svc.rules_of(online)) if online else ""
    recorded, recorded_total, page = svc.recorded_page(exam, online, page_arg(), RECORDED_PER_PAGE)
    for c in recorded:
        c["withdraws"] = svc.document_to_withdraw(c)
    return render_template("online/exam.html", exam=exam, online=online, state=st,
                           state_label=svc.STATE_LABELS[st], rows=rows, rules_text=rules_text, recorded=recorded,
                           recorded_total=recorded_total, page=page,
                           pages=max(1, -(-recorded_total // RECORDED_PER_PAGE)),
                           stats=svc.statistics(exam) if st == "closed" else [],
                           status_labels=svc.MONITOR_STATUS, local=_local_text)


def _local_text(moment: datetime | None) -> str:
    return documents._local(moment)


@bp.route("/exams/<int:exam_id>/online/monitor")
def exam_monitor(exam_id: int):
    exam = _exam(exam_id)
    now = utcnow()
    svc.finish_if_due(exam, now)
    rows = svc.monitor(exam, now)
    online = svc.online_of(exam)
    return render_template("online/_monitor_rows.html", exam=exam, rows=rows, status_labels=svc.MONITOR_STATUS,
                           state=svc.state(online, now))


def _done(exam: Exam, message: str, category: str = "success"):
    flash(message, category)
    return redirect(url_for("online.exam_online", exam_id=exam.id))


def _back(exam: Exam):
    return redirect(url_for("online.exam_online", exam_id=exam.id))


@bp.route("/exams/<int:exam_id>/online/paper", methods=["POST"])
def exam_paper(exam_id: int):
    exam = _exam(exam_id)
    scope.require_holds(exam)  # an exam organised above the branch: its organiser sets it up
    lines = [x.strip() for x in (request.form.get("rules") or "").replace("，", "\n").splitlines() if x.strip()]
    with commit_or_errors(refused="组卷被拒绝：") as tx:
        rules = [svc.parse_rule(x) for x in lines]
        svc.set_paper(exam, rules, fixed=bool(request.form.get("fixed")), now=utcnow())
        tx.success = "组卷规则已保存"
    return _back(exam)


def _parse_local(text: str) -> datetime | None:
    return svc.parse_beijing(text) if (text or "").strip() else None


@bp.route("/exams/<int:exam_id>/online/open", methods=["POST"])
def exam_open(exam_id: int):
    exam = _exam(exam_id)
    scope.require_holds(exam)
    now = utcnow()
    try:
        minutes = int(request.form.get("minutes") or "0")
    except ValueError:
        return _done(exam, "考试时长应为整数分钟", "danger")
    with commit_or_errors() as tx:
        at = _parse_local(request.form.get("at", "")) or now
        # candidates who already have a result: listed on the page above the button, kept out
        online = svc.open_exam(exam, minutes, at=at, now=now, keep_recorded=True)
        online.room = (request.form.get("room") or "").strip()[:100]
        online.show_score = bool(request.form.get("show_score"))
        held = svc.held_back(exam)
        tx.success = f"考试已开放：{_local_text(online.opens_at)} 起 {minutes} 分钟" + (
            f"。{svc.held_message(held)}" if held else "")
    return _back(exam)


@bp.route("/exams/<int:exam_id>/online/recorded/<int:officer_id>/replace", methods=["POST"])
@require_role("admin")
def exam_replace(exam_id: int, officer_id: int):
    """An administrator lets the online result replace a candidate's recorded result (with a reason;
    withdrawing an issued 考试合格证明 only when ticked)."""
    exam = _exam(exam_id)
    with commit_or_errors(refused="未更改：") as tx:
        s = svc.allow_replace(exam, officer_id, request.form.get("reason", ""),
                              withdraw_document=request.form.get("withdraw_document") == "1", now=utcnow())
        tx.success = f"已允许 {s.officer.name} 参加机考，机考成绩将替换其已有成绩"
    return _back(exam)


@bp.route("/exams/<int:exam_id>/online/close", methods=["POST"])
def exam_close(exam_id: int):
    exam = _exam(exam_id)
    scope.require_holds(exam)
    with commit_or_errors() as tx:
        done = svc.close_exam(exam, now=utcnow())
        tx.success = f"考试已结束：自动交卷 {done['submitted']} 人，缺考 {done['absent']} 人，成绩已写入"
    return _back(exam)


@bp.route("/exams/<int:exam_id>/online/sittings/<int:sid>/extend", methods=["POST"])
def sitting_extend(exam_id: int, sid: int):
    exam = _exam(exam_id)
    s = _sitting(exam, sid)
    try:
        minutes = int(request.form.get("minutes") or "0")
    except ValueError:
        return _done(exam, "延长时间应为整数分钟", "danger")
    with commit_or_errors() as tx:
        svc.extend(s, minutes, request.form.get("reason", ""), now=utcnow())
        tx.success = f"已为 {s.officer.name} 延长 {minutes} 分钟"
    return _back(exam)


@bp.route("/exams/<int:exam_id>/online/sittings/<int:sid>/submit", methods=["POST"])
def sitting_force_submit(exam_id: int, sid: int):
    exam = _exam(exam_id)
    s = _sitting(exam, sid)
    with commit_or_errors() as tx:
        score = svc.force_submit(s, now=utcnow())
        tx.success = f"已为 {s.officer.name} 强制交卷，得分 {score:g}"
    return _back(exam)


def _pdf(data: bytes, name: str):
    return send_file(io.BytesIO(data), mimetype="application/pdf", as_attachment=True, download_name=name)


def _printed(exam: Exam, make, what: str, name: str, mimetype: str = "application/pdf"):
    """A staff document of the exam, audited as printed/exported; a refusal goes back to the page."""
    if name.endswith(".pdf") and (queued := defer(f"{what}：{exam.title}")) is not None:
        return queued  # every PDF is made by a background job (docs/architecture.md, Cost targets)
    with commit_or_errors() as tx:
        data = make(exam)
        record("export" if name.endswith(".xlsx") else "print", "exam", exam.id, f"{what}：{exam.title}")
    if not tx.ok:
        return _back(exam)
    return send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True, download_name=name)


@bp.route("/exams/<int:exam_id>/online/paper.pdf")
@require_role("clerk")
def exam_paper_pdf(exam_id: int):
    exam = _exam(exam_id)
    if current_user.role != "admin" and svc.in_progress(svc.online_of(exam)):
        return _done(exam, PAPER_WITHHELD, "warning")
    return _printed(exam, documents.paper_pdf, "打印试卷（含答案）", f"试卷_{exam.held_on.isoformat()}_{exam.id}.pdf")


@bp.route("/exams/<int:exam_id>/online/tickets.pdf")
@require_role("clerk")
def exam_tickets_pdf(exam_id: int):
    exam = _exam(exam_id)
    return _printed(exam, documents.tickets_pdf, "打印准考证", f"准考证_{exam.held_on.isoformat()}_{exam.id}.pdf")


@bp.route("/exams/<int:exam_id>/online/codes.xlsx")
@require_role("clerk")
def exam_codes_xlsx(exam_id: int):
    exam = _exam(exam_id)
    return _printed(exam, lambda e: documents.codes_xlsx(svc.code_rows(e)), "导出登录码", f"登录码_{exam.id}.xlsx",
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.route("/exams/<int:exam_id>/online/sittings/<int:sid>/sheet.pdf")
@require_role("clerk")  # the key, and per question what scored: never for viewers
def sitting_sheet_pdf(exam_id: int, sid: int):
    exam = _exam(exam_id)
    s = _sitting(exam, sid)
    online = svc.online_of(exam)
    if online is None or online.closed_at is None:
        return _done(exam, "考试结束后才能查看答题卡", "warning")  # the key stays on the server till then

    if (queued := defer(f"答题卡：{s.officer.name}")) is not None:
        return queued
    try:
        data = documents.sheet_pdf(s, exam)
    except DomainError as exc:
        return _done(exam, str(exc), "danger")
    return _pdf(data, f"答题卡_{exam.id}_{s.seat}.pdf")
