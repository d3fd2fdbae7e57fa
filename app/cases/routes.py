"""案件核查 pages: the list with verdicts, the form, the detail, the export, the impact count."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from app import clock
from app.audit.services import record
from app.auth.access import require_role
from app.cases import bp, services
from app.cases.exports import CASE_COLUMNS, problem_text, to_rows
from app.cases.forms import NUMBER_SLOTS, CaseForm
from app.errors import DomainError
from app.extensions import db
from app.jobs.services import defer
from app.labels import CASE_REASONS, CASE_VERDICTS
from app.models.cases import PenaltyCase
from app.models.certificates import Certificate
from app.web.args import page_arg
from app.web.exports import to_xlsx
from app.web.files import download

PER_PAGE = 50


def _filters() -> tuple[services.CaseFilters, list[str]]:
    """Filters from the query string; a bad value is dropped with a message, never a 500."""
    args, problems = request.args, []
    year = None
    raw = (args.get("year") or "").strip()
    if raw:
        if raw.isdigit() and 1900 <= int(raw) <= 2999:
            year = int(raw)
        else:
            problems.append(f"年度“{raw[:20]}”无效，已显示全部年度")
    verdict = (args.get("verdict") or "").strip() or None
    if verdict and verdict not in CASE_VERDICTS:
        problems.append("未知的核查结果，已显示全部")
        verdict = None
    reason = (args.get("reason") or "").strip() or None
    if reason and reason not in CASE_REASONS:
        problems.append("未知的问题类型，已显示全部")
        reason = None
    return services.CaseFilters(year=year, unit=(args.get("unit") or "").strip()[:100] or None,
                                verdict=verdict, reason=reason,
                                search=(args.get("q") or "").strip()[:50] or None), problems


@bp.route("/cases")
def index():
    f, problems = _filters()
    asked = page_arg()
    rows, total, bad, page = services.case_page(f, asked, PER_PAGE)
    pages = max(1, (total + PER_PAGE - 1) // PER_PAGE)
    for p in problems:
        flash(p, "warning")
    years, units = services.case_choices()
    return render_template("cases/index.html", rows=rows,
                           total=total, bad=bad, page=page, pages=pages,
                           f=f, args=f.as_dict(), years=years, units=units,
                           reason_text=problem_text)


@bp.route("/cases.xlsx")
def export():
    f, _problems = _filters()
    rows = services.case_rows(f)
    if (queued := defer("案件核查 .xlsx", rows=len(rows))) is not None:
        return queued
    t = clock.today()
    data = to_xlsx(to_rows(rows), CASE_COLUMNS, sheet="案件核查", title="行政处罚案件执法人员资格核查")
    record("export", "case", None, f"导出案件核查 {len(rows)} 条（xlsx）", {"filters": [None, f.as_dict()]})
    return download(data, f"案件核查_{t.isoformat()}.xlsx", f"cases-{t.isoformat()}.xlsx")


def _case(case_id: int) -> PenaltyCase:
    case = db.session.get(PenaltyCase, case_id)
    if case is None:
        abort(404)
    return case


@bp.route("/cases/<int:case_id>")
def detail(case_id: int):
    case = _case(case_id)
    v = services.judge(select(PenaltyCase.id).where(PenaltyCase.id == case.id))[case.id]
    holders = {c.number: c for c in db.session.scalars(  # enforcement wins a shared number
        select(Certificate).where(Certificate.number.in_(case.numbers))
        .order_by((Certificate.kind == "enforcement").asc()))}
    return render_template("cases/detail.html", case=case, v=v, holders=holders, reason_text=problem_text)


def _form_page(case: PenaltyCase | None):
    form = CaseForm(obj=case) if case is not None and request.method == "GET" else CaseForm()
    if case is not None and request.method == "GET":
        numbers = case.numbers + [""] * max(0, NUMBER_SLOTS - len(case.numbers))
        while len(form.numbers.entries) < len(numbers):
            form.numbers.append_entry()
        for entry, n in zip(form.numbers.entries, numbers, strict=False):
            entry.data = n
    errors: dict[str, str] = {}
    if form.validate_on_submit():
        try:
            saved = services.save_case(case, form.case_data())
            flash(f"案件“{saved.case_no}”已保存", "success")
            return redirect(url_for("cases.detail", case_id=saved.id))
        except services.CaseError as exc:
            db.session.rollback()
            errors = exc.fields
            flash("表单有误，请按提示修改", "danger")
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
    elif form.errors:
        flash("表单有误，请按提示修改", "danger")
    return render_template("cases/form.html", form=form, case=case, errors=errors,
                           suggestions=services.number_suggestions(), units=services.unit_choices())


@bp.route("/cases/new", methods=["GET", "POST"])
@require_role("clerk")
def new():
    return _form_page(None)


@bp.route("/cases/<int:case_id>/edit", methods=["GET", "POST"])
@require_role("clerk")
def edit(case_id: int):
    return _form_page(_case(case_id))


@bp.route("/cases/<int:case_id>/delete", methods=["POST"])
@require_role("clerk")
def delete(case_id: int):
    case = _case(case_id)
    no = case.case_no
    services.delete_case(case)
    flash(f"案件“{no}”已删除", "success")
    return redirect(url_for("cases.index"))
