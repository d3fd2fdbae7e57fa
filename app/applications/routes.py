"""申请审批 pages: the list (filters, search, sort, pages, export), a new application (also paper
received earlier), the detail with its timeline and the decision buttons, the printed form, the
batch of an exam's class, notifications and the working-day calendar of a year."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select, update

from app import clock
from app.applications import bp, services, workdays
from app.applications.documents import application_form_pdf
from app.applications.lists import APPLICATIONS
from app.audit.services import record
from app.auth.access import allow_role, require_role
from app.auth.sessions import USER_FIGURES, user_figure
from app.extensions import db
from app.forms import parse_date
from app.labels import APPLICATION_KINDS
from app.models.applications import Application, Notification
from app.models.exams import Exam
from app.models.officers import Officer
from app.models_base import utcnow
from app.units import unit_list
from app.web.files import download
from app.web.tx import commit_or_errors


def _unread_of(user):
    """The user's unread messages, as a subquery of the user loader's statement."""
    return (select(func.count()).select_from(Notification)
            .where(Notification.user_id == user.id, Notification.read_at.is_(None))
            .correlate(user).scalar_subquery())


USER_FIGURES["unread_notifications"] = _unread_of


@bp.app_context_processor
def _helpers():
    """Lazy helpers for other pages' templates: the officer page's 申请 section, the dashboard's
    待办, the navbar's unread count (each runs only when a template calls it)."""

    def todo(limit: int = 8):
        return services.pending_for(current_user, clock.today(), limit)

    def unread():
        if not current_user.is_authenticated:
            return 0
        n = user_figure("unread_notifications")  # loaded with the user (app/auth/sessions.py)
        return services.unread_count(current_user) if n is None else n

    return {"applications_todo": todo,
            "unread_notifications": unread, "application_overdue": services.is_overdue}


@bp.route("/applications")
def index():
    d = clock.today()
    page = APPLICATIONS.shown_page(request.args, today=d)
    return render_template("applications/index.html", **page.context(), today=d, units=unit_list(),
                           q=page.active.get("q", ""), overdue_total=services.count_overdue(d))


@bp.route("/applications.xlsx")
def index_xlsx():
    return APPLICATIONS.export(request.args, today=clock.today())


def _officer_from_form() -> Officer | None:
    officer_id = request.values.get("officer_id", "")
    if officer_id.isdigit() and len(officer_id) < 10:
        return db.session.get(Officer, int(officer_id))
    number = (request.values.get("id_number") or "").strip().upper()
    if number:
        return db.session.scalar(select(Officer).where(Officer.id_number == number))
    return None


@bp.route("/applications/new", methods=["GET", "POST"])
@require_role("clerk")
def new():
    d = clock.today()
    officer = _officer_from_form()
    values = {"kind": request.values.get("kind", "new"), "reason": request.form.get("reason", ""),
              "submitted_on": request.form.get("submitted_on", "")}
    if request.method == "POST":
        try:
            received = parse_date(values["submitted_on"]) or d
        except ValueError as exc:
            flash(f"收件日期：{exc}", "danger")
            received = None
        if officer is None:
            flash("请选择执法人员（或填写其身份证号）", "danger")
        elif received is not None:
            with commit_or_errors(refused="申请未提交：") as tx:
                a = services.submit(officer, values["kind"], reason=values["reason"], submitted_on=received,
                                    user=current_user)
                tx.success = f"已提交{APPLICATION_KINDS[a.kind]}申请 {a.number}"
            if tx.ok:
                return redirect(url_for("applications.detail", application_id=a.id))
    return render_template("applications/new.html", officer=officer, values=values, today=d)


def _get(application_id: int) -> Application:
    return db.get_or_404(Application, application_id)  # scoped: another branch's answers 404


@bp.route("/applications/<int:application_id>")
def detail(application_id: int):
    a = _get(application_id)
    d = clock.today()
    return render_template("applications/detail.html", a=a, today=d, steps=services.steps(),
                           may_decide=a.state in services.STEP_ROLES and services.may_decide(current_user, a),
                           own=a.submitted_by_id == current_user.id,
                           may_resubmit=services.may_resubmit(current_user, a),
                           suggested_number=services.card_number_for(d) if a.state == "issuing" else None)


@bp.route("/applications/<int:application_id>/decision", methods=["POST"])
def decide(application_id: int):
    a = _get(application_id)
    decision = request.form.get("decision", "")
    card = {k: request.form.get(k, "") for k in ("certificate_number", "handed_to")}
    for name, label in (("issued_on", "发证日期"), ("expires_on", "有效期至"), ("cancelled_on", "注销日期")):
        try:
            card[name] = parse_date(request.form.get(name))
        except ValueError as exc:
            flash(f"{label}：{exc}", "danger")
            return redirect(url_for("applications.detail", application_id=a.id))
    version = request.form.get("version", "")
    with commit_or_errors(refused="未办理：") as tx:
        services.decide(a, current_user, decision, reason=request.form.get("reason", ""), card=card,
                        expected_version=int(version) if version.isdigit() else None)
        tx.success = f"申请 {a.number}：{services.APPLICATION_DECISIONS.get(decision, decision)}"
    if not tx.ok and isinstance(tx.error, services.WorkflowError) and tx.error.status == 403:
        abort(403)
    return redirect(url_for("applications.detail", application_id=a.id))


@bp.route("/applications/<int:application_id>/resubmit", methods=["POST"])
def resubmit(application_id: int):
    a = _get(application_id)
    with commit_or_errors(refused="未提交：", success="已补正并重新提交"):
        services.resubmit(a, current_user, request.form.get("note", ""))
    return redirect(url_for("applications.detail", application_id=a.id))


@bp.route("/applications/<int:application_id>.pdf")
def pdf(application_id: int):
    a = _get(application_id)
    data = application_form_pdf(a)
    record("print", "application", a.id, f"打印行政执法证申领审批表 {a.number}")
    return download(data, f"行政执法证申领审批表_{a.number}.pdf", f"application-{a.number}.pdf", inline=True)


# --- batch: a class after its exam ------------------------------------------------------------------

@bp.route("/applications/batch", methods=["GET", "POST"])
@require_role("clerk")
def batch():
    d = clock.today()
    exams = list(db.session.scalars(select(Exam).where(Exam.kind == "qualification")
                                    .order_by(Exam.held_on.desc(), Exam.id.desc()).limit(50)))
    exam_id = request.values.get("exam_id", "")
    exam = db.session.get(Exam, int(exam_id)) if exam_id.isdigit() and len(exam_id) < 10 else None
    candidates = services.exam_candidates(exam) if exam else []
    refused = []
    if request.method == "POST" and exam is not None:
        try:
            received = parse_date(request.form.get("submitted_on")) or d
        except ValueError as exc:
            flash(f"收件日期：{exc}", "danger")
            received = None
        if received is not None:
            with commit_or_errors(refused="批量申请未提交：") as tx:
                created, refused = services.submit_many(candidates, "new", reason=request.form.get("reason", ""),
                                                        submitted_on=received, user=current_user, skip_refused=True)
                tx.success = f"已为“{exam.title}”的 {len(created)} 名合格人员提交申领申请" + (
                    f"，{len(refused)} 人未提交（见下）" if refused else "")
            if tx.ok and not refused:
                return redirect(url_for("applications.index", state=services.steps()[0]))
    return render_template("applications/batch.html", exams=exams, exam=exam, candidates=candidates,
                           refused=refused, today=d)


# --- notifications ---------------------------------------------------------------------------------

@bp.route("/notifications")
def notifications():
    rows = list(db.session.scalars(select(Notification).where(Notification.user_id == current_user.id)
                                   .order_by(Notification.id.desc()).limit(100)))
    return render_template("applications/notifications.html", rows=rows)


@bp.route("/notifications/read", methods=["POST"])
@allow_role("viewer")  # one's own messages: a viewer may mark them read
def notifications_read():
    db.session.execute(update(Notification).where(Notification.user_id == current_user.id,
                                                  Notification.read_at.is_(None)).values(read_at=utcnow()))
    return redirect(url_for("applications.notifications"))



@bp.route("/notifications/<int:note_id>")
def notification_open(note_id: int):
    note = db.session.get(Notification, note_id)
    if note is None or note.user_id != current_user.id:
        abort(404)
    if note.read_at is None:
        note.read_at = utcnow()
    if note.application_id:
        return redirect(url_for("applications.detail", application_id=note.application_id))
    return redirect(url_for("applications.notifications"))


# --- the working-day calendar -------------------------------------------------------------------------

@bp.route("/applications/calendar", methods=["GET", "POST"])
@require_role("admin")
def calendar():
    d = clock.today()
    year_arg = request.values.get("year", "")
    year = int(year_arg) if year_arg.isdigit() and 2000 <= int(year_arg) <= 2100 else d.year + 1
    text = request.form.get("days") if request.method == "POST" else workdays.year_text(year)
    if request.method == "POST":
        with commit_or_errors(refused="工作日历未保存：") as tx:
            n = workdays.set_year(year, text or "")
            tx.success = f"已保存 {year} 年工作日历（{n} 天）"
        if tx.ok:
            return redirect(url_for("applications.calendar", year=year))
    return render_template("applications/calendar.html", year=year, text=text or "",
                           known=year in workdays.known_years(), today=d,
                           estimated=workdays.Calendar().estimated(year))
