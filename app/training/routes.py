"""Training pages: sessions, attendance, the ledger (培训台账) and the year's statistics."""

from __future__ import annotations

from datetime import date

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import case, func, select

from app.auth.access import require_role, sees_full_ids
from app.errors import DomainError
from app.extensions import db
from app.labels import TRAINING_CATEGORIES
from app.officers.models import Officer, Unit
from app.training import bp, services
from app.training.forms import SessionForm
from app.training.hours import YEAR_STATUSES
from app.training.models import Attendance, TrainingSession


def today() -> date:
    return date.today()


def int_arg(name: str, default: int | None = None, lo: int = 1900, hi: int = 2999) -> int | None:
    raw = request.args.get(name, "")
    try:
        value = int(raw)
    except ValueError:
        return default
    return value if lo <= value <= hi else default


def units() -> list[Unit]:
    return list(db.session.scalars(select(Unit).order_by(Unit.sort_order, Unit.name)))


@bp.route("/training")
def index():
    year = int_arg("year")
    category = request.args.get("category") or ""
    q = (request.args.get("q") or "").strip()
    stmt = select(TrainingSession).order_by(TrainingSession.held_on.desc(), TrainingSession.id.desc())
    if year:
        stmt = stmt.where(TrainingSession.held_on.between(date(year, 1, 1), date(year, 12, 31)))
    if category in TRAINING_CATEGORIES:
        stmt = stmt.where(TrainingSession.category == category)
    if q:
        stmt = stmt.where(TrainingSession.title.like(f"%{q}%"))
    page = int_arg("page", 1, 1, 10**6)
    per = current_app.config["PER_PAGE"]
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    sessions = list(db.session.scalars(stmt.limit(per).offset((page - 1) * per)))
    ids = [s.id for s in sessions]
    counts = {sid: (n, att, hrs) for sid, n, att, hrs in db.session.execute(
        select(Attendance.session_id, func.count(),
               func.sum(case((Attendance.status == "attended", 1), else_=0)),
               func.sum(Attendance.credited_hours))
        .where(Attendance.session_id.in_(ids or [-1])).group_by(Attendance.session_id))}
    years = sorted({d.year for d in db.session.scalars(select(TrainingSession.held_on).distinct())} |
                   {today().year}, reverse=True)
    return render_template("training/index.html", sessions=sessions, counts=counts, year=year,
                           category=category, q=q, page=page, pages=max(1, -(-total // per)),
                           total=total, years=years,
                           args={"year": year or "", "category": category, "q": q})


def _form_data(form: SessionForm) -> dict:
    return {f: getattr(form, f).data for f in services.SESSION_FIELDS}


@bp.route("/training/new", methods=["GET", "POST"])
@require_role("clerk")  # viewers do not see the form at all
def create():
    form = SessionForm()
    if request.method == "GET":
        form.held_on.data = today()
    if form.validate_on_submit():
        try:
            s = services.save_session(None, _form_data(form))
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        else:
            db.session.commit()
            flash(f"已新增培训“{s.title}”，请添加参训人员", "success")
            return redirect(url_for("training.detail", session_id=s.id))
    return render_template("training/form.html", form=form, session=None)


def get_session(session_id: int) -> TrainingSession:
    s = db.session.get(TrainingSession, session_id)
    if s is None:
        abort(404)
    return s


@bp.route("/training/<int:session_id>/edit", methods=["GET", "POST"])
@require_role("clerk")  # viewers do not see the form at all
def edit(session_id: int):
    s = get_session(session_id)
    form = SessionForm(obj=s)
    if form.validate_on_submit():
        try:
            services.save_session(s, _form_data(form))
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        else:
            db.session.commit()
            flash("培训信息已保存", "success")
            return redirect(url_for("training.detail", session_id=s.id))
    return render_template("training/form.html", form=form, session=s)


@bp.route("/training/<int:session_id>")
def detail(session_id: int):
    s = get_session(session_id)
    rows = db.session.execute(
        select(Attendance, Officer, Unit).join(Officer, Officer.id == Attendance.officer_id)
        .join(Unit, Unit.id == Officer.unit_id).where(Attendance.session_id == s.id)
        .order_by(Unit.sort_order, Unit.name, Officer.name)).all()
    summary = {"total": len(rows), "attended": sum(1 for a, _o, _u in rows if a.status == "attended"),
               "hours": sum(a.credited_hours for a, _o, _u in rows if a.status == "attended")}
    return render_template("training/detail.html", s=s, rows=rows, units=units(), summary=summary)


@bp.route("/training/<int:session_id>/enrol", methods=["POST"])
def enrol(session_id: int):
    s = get_session(session_id)
    mode = request.form.get("mode", "")
    try:
        unit_id = int(request.form.get("unit_id") or 0)
    except ValueError:
        unit_id = 0
    try:
        officers = services.select_officers(mode, unit_id=unit_id, text=request.form.get("officers", ""))
        added = services.enrol(s, officers)
    except DomainError as exc:
        db.session.rollback()
        flash(f"未添加：{exc}", "danger")
    else:
        db.session.commit()
        flash(f"已添加 {added} 名参训人员" + (f"（{len(officers) - added} 人已在名单中）"
                                             if len(officers) > added else ""), "success")
    return redirect(url_for("training.detail", session_id=s.id))


@bp.route("/training/<int:session_id>/attendance", methods=["POST"])
def attendance(session_id: int):
    s = get_session(session_id)
    rows = {}
    for key, value in request.form.items():
        if key.startswith("status-"):
            try:
                att_id = int(key.removeprefix("status-"))
            except ValueError:
                continue
            rows[att_id] = (value, request.form.get(f"hours-{att_id}"))
    try:
        changed = services.save_grid(s, rows)
    except DomainError as exc:
        db.session.rollback()
        flash(f"出勤未保存：{exc}", "danger")
    else:
        db.session.commit()
        flash(f"出勤已保存（{changed} 人有变动）", "success")
    return redirect(url_for("training.detail", session_id=s.id))


@bp.route("/training/<int:session_id>/remove/<int:att_id>", methods=["POST"])
def remove(session_id: int, att_id: int):
    s = get_session(session_id)
    try:
        services.remove_attendance(s, att_id)
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
    else:
        db.session.commit()
        flash("已从名单中移除", "success")
    return redirect(url_for("training.detail", session_id=s.id))


@bp.route("/training/ledger")
def ledger():
    from app.settings.services import get

    d = today()
    year = int_arg("year", d.year)
    required = float(get("training_hours_required"))
    unit_id = int_arg("unit", None, 1, 10**9)
    status = request.args.get("status") or None
    if status not in YEAR_STATUSES:
        status = None
    search = (request.args.get("q") or "").strip()
    per = 100
    asked = int_arg("page", 1, 1, 10**6)
    rows = services.ledger(year, d, required, unit_id=unit_id, status=status, search=search, page=asked,
                           per_page=per, id_partial=sees_full_ids())
    total = rows[0]["total"] if rows else 0
    pages = max(1, -(-total // per))
    page = min(asked, pages)
    return render_template("training/ledger.html", rows=rows,
                           total=total, page=page, pages=pages,
                           year=year, required=required, today=d, units=units(), unit_id=unit_id,
                           status=status, q=search, statuses=YEAR_STATUSES,
                           args={"year": year, "unit": unit_id or "", "status": status or "", "q": search})


@bp.route("/training/annual")
def annual():
    from app.training.stats import annual_stats

    year = int_arg("year", today().year)
    return render_template("training/annual.html", s=annual_stats(year), year=year)

