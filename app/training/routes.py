"""Training pages: sessions, attendance, the ledger (培训台账) and the year's statistics."""

from __future__ import annotations

import re

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from app import clock, scope
from app.auth.access import require_role, sees_full_ids
from app.errors import DomainError
from app.extensions import db
from app.forms import parse_date
from app.models.officers import Officer, Unit
from app.models.training import Attendance, TrainingSession
from app.rules import training as rules
from app.rules.hours import YEAR_STATUSES, pace, records_since
from app.rules.training import allow_late, closed_since, describe, rule_for
from app.settings.services import get
from app.training import bp, services
from app.training.annual_docx import annual_docx as annual_document
from app.training.annual_docx import rule_words
from app.training.forms import SessionForm
from app.training.lists import LEDGER_COLUMNS, SESSIONS, attendance_counts
from app.training.stats import annual_stats
from app.units import unit_list, unit_name
from app.web.args import page_arg, query_int
from app.web.files import download, record_export
from app.web.lists import xlsx_response
from app.web.tx import commit_or_errors


@bp.route("/training")
def index():
    page = SESSIONS.page(request.args, today=clock.today())
    years = sorted({d.year for d in db.session.scalars(select(TrainingSession.held_on).distinct())} |
                   {clock.today().year}, reverse=True)
    return render_template("training/index.html", sessions=[r.TrainingSession for r in page.rows],
                           counts=attendance_counts([r.TrainingSession.id for r in page.rows]),
                           year=int(page.active.get("year", 0)) or None,
                           category=page.active.get("category", ""), q=page.active.get("q", ""),
                           page=page.page, pages=page.pages, total=page.total, years=years,
                           args=page.args, active=page.active, sort=page.sort)


@bp.route("/training.xlsx")
def index_xlsx():
    return SESSIONS.export(request.args, today=clock.today())


def _form_data(form: SessionForm) -> dict:
    return {f: getattr(form, f).data for f in services.SESSION_FIELDS}


def _session_form(s: TrainingSession | None) -> SessionForm:
    form = SessionForm(obj=s)
    form.unit_id.choices = scope.organising_choices()
    if request.method == "GET" or "unit_id" not in request.form:  # a form of before the field: as it was
        form.unit_id.data = (s.unit_id if s is not None else scope.scope_unit_id()) or scope.WHOLE
    return form


@bp.route("/training/new", methods=["GET", "POST"])
@require_role("clerk")  # viewers do not see the form at all
def create():
    form = _session_form(None)
    if request.method == "GET":
        form.held_on.data = clock.today()
    if form.validate_on_submit():
        with commit_or_errors(form) as tx:
            s = services.save_session(None, _form_data(form))
            tx.success = f"已新增培训“{s.title}”，请添加参训人员"
        if tx.ok:
            return redirect(url_for("training.detail", session_id=s.id))
    return render_template("training/form.html", form=form, session=None)


def get_session(session_id: int) -> TrainingSession:
    return db.get_or_404(TrainingSession, session_id)


@bp.route("/training/<int:session_id>/edit", methods=["GET", "POST"])
@require_role("clerk")  # viewers do not see the form at all
def edit(session_id: int):
    s = get_session(session_id)
    scope.require_holds(s)  # a session organised above the branch: only its organiser edits it
    form = _session_form(s)
    if request.method == "GET":
        form.online.data = "online" if s.online else "offline"
    if form.validate_on_submit():
        with commit_or_errors(form) as tx:
            _late_reason()
            services.save_session(s, _form_data(form))
            tx.success = "培训信息已保存"
        if tx.ok:
            return redirect(url_for("training.detail", session_id=s.id))
    # a closed year (the session's, or the one it is being moved to): an admin gives a 补录理由

    typed = form.held_on.data if hasattr(form.held_on.data, "year") else None
    closed = closed_since(s.held_on.year) or (closed_since(typed.year) if typed else None)
    return render_template("training/form.html", form=form, session=s, closed=closed,
                           late_reason=request.form.get("late_reason", ""))


@bp.route("/training/<int:session_id>")
def detail(session_id: int):
    return _detail(get_session(session_id))


def _detail(s: TrainingSession, *, entered: dict | None = None, cell_errors: dict | None = None,
            enrol_text: str = "", status: int = 200):
    """The session page; after a refused save, with what was typed (`entered`: {attendance id:
    (status, hours)}) and each bad row's message (`cell_errors`), or the names left to fix in the
    enrolment box (`enrol_text`)."""
    rows = db.session.execute(
        select(Attendance, Officer, Unit).join(Officer, Officer.id == Attendance.officer_id)
        .join(Unit, Unit.id == Officer.unit_id).where(Attendance.session_id == s.id)
        .order_by(Unit.sort_order, Unit.name_pinyin, Unit.name, Officer.name_pinyin, Officer.name)).all()
    summary = {"total": len(rows), "attended": sum(1 for a, _o, _u in rows if a.status == "attended"),
               "hours": sum(a.credited_hours for a, _o, _u in rows if a.status == "attended")}

    return render_template("training/detail.html", s=s, rows=rows, units=unit_list(), summary=summary,
                           closed=closed_since(s.held_on.year),
                           entered=entered or {}, cell_errors=cell_errors or {},
                           enrol_text=enrol_text), status


def _late_reason() -> None:
    """An admin's 补录理由 lets this request write a closed year (audited); others' is ignored."""
    reason = (request.form.get("late_reason") or "").strip()
    if reason and getattr(current_user, "role", None) == "admin":
        allow_late(reason)


@bp.route("/training/<int:session_id>/enrol", methods=["POST"])
def enrol(session_id: int):
    s = get_session(session_id)
    mode = request.form.get("mode", "")
    try:
        unit_id = int(request.form.get("unit_id") or 0)
    except ValueError:
        unit_id = 0
    with commit_or_errors(refused="未添加：") as tx:
        _late_reason()
        officers, unknown = services.select_officers_partial(mode, unit_id=unit_id,
                                                             text=request.form.get("officers", ""))
        added = services.enrol(s, officers)
    if tx.error is not None:
        return _detail(s, enrol_text=request.form.get("officers", ""), status=422)
    if officers:
        flash(f"已添加 {added} 名参训人员" + (f"（{len(officers) - added} 人已在名单中）"
                                             if len(officers) > added else ""), "success")
    if unknown.problems:
        flash(f"以下未添加，请改正后再添加（已留在输入框中）：{'；'.join(unknown.problems)}", "warning")
        return _detail(s, enrol_text="\n".join(unknown.tokens))
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
    with commit_or_errors(refused="出勤未保存：") as tx:
        _late_reason()
        changed = services.save_grid(s, rows)
        tx.success = f"出勤已保存（{changed} 人有变动）"
    if tx.error is not None:
        return _detail(s, entered=rows, cell_errors=tx.fields, status=422)
    return redirect(url_for("training.detail", session_id=s.id))


@bp.route("/training/<int:session_id>/remove/<int:att_id>", methods=["POST"])
def remove(session_id: int, att_id: int):
    s = get_session(session_id)
    with commit_or_errors() as tx:
        _late_reason()
        services.remove_attendance(s, att_id)
        tx.success = "已从名单中移除"
    return redirect(url_for("training.detail", session_id=s.id))


def _ledger_rows():
    """The ledger's arguments from the query string, and its rows (the page and its export)."""
    d = clock.today()
    year = query_int("year", d.year)
    required = float(get("training_hours_required"))
    unit_id = query_int("unit", None, 1, 10**9)
    status = request.args.get("status") or None
    if status not in YEAR_STATUSES:
        status = None
    search = (request.args.get("q") or "").strip()
    return d, year, required, unit_id, status, search


@bp.route("/training/ledger")
def ledger():
    d, year, required, unit_id, status, search = _ledger_rows()
    per = 100
    asked = page_arg()
    # the filter's units (id and name: 1,000 units as ORM objects cost ~10 ms), in the picker's order
    units = db.session.execute(select(Unit.id, Unit.name).order_by(Unit.sort_order, Unit.name_pinyin,
                                                                   Unit.name)).all()
    rows = services.ledger(year, d, required, unit_id=unit_id, status=status, search=search, page=asked,
                           per_page=per, id_partial=sees_full_ids(), units=[u.id for u in units])
    total = rows[0]["total"] if rows else 0
    pages = max(1, -(-total // per))
    page = min(asked, pages)

    rule = rule_for(year, default_total=required)
    return render_template("training/ledger.html", rows=rows, year_pace=pace(rule.total, year, d),
                           rule=rule, rule_text=describe(rule),
                           since=records_since(d) if isinstance(records_since(d), int) else None,
                           total=total, page=page, pages=pages,
                           year=year, required=required, today=d, units=units, unit_id=unit_id,
                           status=status, q=search, statuses=YEAR_STATUSES,
                           args={"year": year, "unit": unit_id or "", "status": status or "", "q": search})


@bp.route("/training/ledger.xlsx")
def ledger_xlsx():
    """The ledger as shown (same arguments as /training/ledger), every page."""
    d, year, required, unit_id, status, search = _ledger_rows()
    rows = services.ledger(year, d, required, unit_id=unit_id, status=status, search=search,
                           id_partial=sees_full_ids())
    words = [f"{year}年", *([f"单位：{unit_name(unit_id)}"] if unit_id else []),
             *([f"状态：{YEAR_STATUSES[status]}"] if status else []), *([f"搜索：{search}"] if search else [])]
    return xlsx_response(rows, LEDGER_COLUMNS, title="培训台账", slug="training-ledger", described=words,
                         today=d, entity="training")


@bp.route("/training/annual")
def annual():
    year = query_int("year", clock.today().year)
    s = annual_stats(year)
    return render_template("training/annual.html", s=s, year=year, rule_words=rule_words(s["rule"]))


@bp.route("/training/annual.docx")
def annual_docx():
    """The year's report as a Word document: the figures of the page (annual_stats), audited."""
    year = query_int("year", clock.today().year)
    data = annual_document(annual_stats(year), get("org_name"), clock.today())
    record_export(f"{year}年度报告", "docx", 1, {"year": year})
    return download(data, f"{year}年度行政执法人员资格管理情况.docx", f"annual-report-{year}.docx")



@bp.route("/settings/training-rules", methods=["POST"])
@require_role("admin")
def rule_save():
    """The settings page's 年度学时要求 section: set (or, with delete, remove) one year's rule."""
    f = request.form
    back = redirect(url_for("settings.index", _anchor="training-rules"))
    try:
        year = int((f.get("year") or "").strip().removesuffix("年"))
    except ValueError:
        flash("未保存：年度应为年份，如 2025", "danger")
        return back
    with commit_or_errors(refused="未保存：") as tx:
        if f.get("delete"):
            rules.delete_rule(year)
            tx.success = f"已删除{year}年度学时要求"
        else:
            mins = {}
            for item in [x for x in re.split(r"[,，;；\s]+", f.get("minimums") or "") if x]:
                grp, sep, hours = item.replace("＝", "=").partition("=")
                if not sep:
                    raise DomainError(f"最低学时“{item}”应写成 内容类别=学时，如 公共法律知识=20")
                mins[grp.strip()] = hours.strip()
            try:
                closes = parse_date(f.get("closes_on"))
            except ValueError as exc:
                raise DomainError(f"记录截止日期：{exc}") from None
            rules.set_rule(year, (f.get("total") or "").strip(), mins,
                           (f.get("online_max") or "").strip() or None, f.get("source") or "", closes)
            tx.success = f"已保存{year}年度学时要求：{rules.describe(rules.rule_for(year))}"
    return back
