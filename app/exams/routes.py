"""Exam pages: list, create/edit, candidates and the results grid."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import func, or_, select

from app import clock, scope
from app.auth.access import require_role, sees_full_ids
from app.exams import bp, services
from app.exams.forms import ExamForm
from app.exams.lists import EXAMS, passed_counts
from app.extensions import db
from app.formatting import cn_date
from app.labels import EMPLOYMENT_STATUSES
from app.models.exams import Exam, ExamResult
from app.models.officers import Officer, Unit
from app.models_base import utcnow
from app.paging import page_of
from app.training.services import select_officers_partial
from app.units import unit_list
from app.web.args import page_arg, query_int
from app.web.tx import commit_or_errors


@bp.route("/exams")
def index():
    page = EXAMS.page(request.args, today=clock.today())
    exams = [r.Exam for r in page.rows]
    return render_template("exams/index.html", exams=exams, stats=passed_counts([e.id for e in exams]),
                           year=int(page.active.get("year", 0)) or None, kind=page.active.get("kind", ""),
                           q=page.active.get("q", ""), page=page.page, pages=page.pages, total=page.total,
                           args=page.args, active=page.active, sort=page.sort)


@bp.route("/exams.xlsx")
def index_xlsx():
    return EXAMS.export(request.args, today=clock.today())


def _form(exam: Exam | None) -> ExamForm:
    form = ExamForm(obj=exam)
    # blank means the default: shown as a hint, not pre-filled
    form.max_score.render_kw = {"placeholder": "100"}
    form.pass_score.render_kw = {"placeholder": f"{services.default_pass_score():g}"}
    others = db.session.execute(select(Exam.id, Exam.title, Exam.held_on).where(
        Exam.id != (exam.id if exam else -1), Exam.makeup_of_id.is_(None))
        .order_by(Exam.held_on.desc()).limit(200)).all()
    form.makeup_of_id.choices = [(0, "（不是补考）")] + [(i, f"{t}（{cn_date(d)}）") for i, t, d in others]
    form.unit_id.choices = scope.organising_choices()
    if exam is not None and request.method == "GET":
        form.makeup_of_id.data = exam.makeup_of_id or 0
    if request.method == "GET" or "unit_id" not in request.form:  # a form of before the field: as it was
        form.unit_id.data = (exam.unit_id if exam is not None else scope.scope_unit_id()) or scope.WHOLE
    return form


def _data(form: ExamForm) -> dict:
    return {"title": form.title.data, "kind": form.kind.data, "held_on": form.held_on.data,
            "max_score": form.max_score.data, "pass_score": form.pass_score.data,
            "makeup_of_id": form.makeup_of_id.data or None, "unit_id": form.unit_id.data or None}


@bp.route("/exams/new", methods=["GET", "POST"])
@require_role("clerk")  # viewers do not see the form at all
def create():
    form = _form(None)
    if request.method == "GET":
        form.held_on.data = clock.today()
        makeup = query_int("makeup_of", 0, 0, 10**9)
        if makeup:
            form.makeup_of_id.data = makeup
            orig = db.session.get(Exam, makeup)
            if orig:
                form.title.data = f"{orig.title}（补考）"
                form.max_score.data, form.pass_score.data = orig.max_score, orig.pass_score
    if form.validate_on_submit():
        with commit_or_errors(form) as tx:
            exam = services.save_exam(None, _data(form))
            added = services.add_candidates(exam, services.makeup_candidates(exam))
        if tx.ok:
            extra = f"，已列入原考试未通过的 {added} 人" if exam.makeup_of_id else "，请添加考生"
            flash(f"已新增考试“{exam.title}”{extra}", "success")
            return redirect(url_for("exams.detail", exam_id=exam.id))
    return render_template("exams/form.html", form=form, exam=None)


def get_exam(exam_id: int) -> Exam:
    return db.get_or_404(Exam, exam_id)


@bp.route("/exams/<int:exam_id>/edit", methods=["GET", "POST"])
@require_role("clerk")  # viewers do not see the form at all
def edit(exam_id: int):
    exam = get_exam(exam_id)
    scope.require_holds(exam)  # an exam organised above the branch: only its organiser edits it
    form = _form(exam)
    if form.validate_on_submit():
        with commit_or_errors(form) as tx:
            services.save_exam(exam, _data(form))
            tx.success = "考试信息已保存"
        if tx.ok:
            return redirect(url_for("exams.detail", exam_id=exam.id))
    return render_template("exams/form.html", form=form, exam=exam)


@bp.route("/exams/<int:exam_id>")
def detail(exam_id: int):
    exam = get_exam(exam_id)
    services.close_if_due(exam, utcnow())  # an online exam whose time is up: its scores, now (app.uow commits)
    return _detail(exam)


def _detail(exam: Exam, *, entered: dict | None = None, cell_errors: dict | None = None,
            enrol_text: str = "", status: int = 200):
    """The exam page: one page of the score grid (page/q from the query string, also kept in the
    grid form's action); after a refused save, with what was typed (`entered`: {result id: (score,
    absent)}) and each bad row's message, or the names left to fix in the candidates box."""
    q = (request.args.get("q") or "").strip()
    page = page_arg()
    rows, shown, total = grid_page(exam, q, page, GRID_PER_PAGE)
    makeups = list(db.session.scalars(select(Exam).where(Exam.makeup_of_id == exam.id).order_by(Exam.held_on)))
    return render_template("exams/detail.html", exam=exam, rows=rows, units=unit_list(), makeups=makeups,
                           summary=grid_summary(exam), q=q, page=shown,
                           pages=max(1, -(-total // GRID_PER_PAGE)), matched=total,
                           args={"exam_id": exam.id, "q": q},
                           entered=entered or {}, cell_errors=cell_errors or {},
                           enrol_text=enrol_text), status


GRID_PER_PAGE = 100


def grid_args() -> dict[str, str]:
    """The page and search of the grid a POST came from (kept in its action URL), to go back there."""
    return {k: v for k in ("page", "q") if (v := (request.args.get(k) or "").strip())}


def grid_summary(exam: Exam) -> dict[str, int]:
    """Candidates, takers, absentees and passes of the whole exam: one aggregate statement."""
    taken = (~ExamResult.absent) & ExamResult.score.is_not(None)
    r = db.session.execute(select(
        func.count(), func.count().filter(taken), func.count().filter(ExamResult.absent),
        func.count().filter(taken & (ExamResult.score >= exam.pass_score)))
        .where(ExamResult.exam_id == exam.id)).one()
    return {"total": r[0], "takers": r[1], "absent": r[2], "passed": r[3]}


def grid_page(exam: Exam, search: str, page: int, per_page: int) -> tuple[list, int, int]:
    """The score grid's rows of one page (unit order, then name), filtered by name or ID number:
    (rows of (result, officer, unit), page shown, rows matched). The page is cut in SQL
    (page cost: a city-wide exam has 16,000+ candidates)."""
    ids = (select(ExamResult.id).join(Officer, Officer.id == ExamResult.officer_id)
           .join(Unit, Unit.id == Officer.unit_id).where(ExamResult.exam_id == exam.id))
    if search:
        ids = ids.where(or_(Officer.name.like(f"%{search}%"),
                            Officer.id_number_search(search, partial=sees_full_ids())))
    order = (Unit.sort_order, Unit.name_pinyin, Unit.name, Officer.name_pinyin, Officer.name, ExamResult.id)
    picked, total, shown = page_of(ids, order, page, per_page)
    if not picked:
        return [], shown, total
    rows = db.session.execute(
        select(ExamResult, Officer, Unit).join(Officer, Officer.id == ExamResult.officer_id)
        .join(Unit, Unit.id == Officer.unit_id).where(ExamResult.id.in_([r.id for r in picked]))
        .order_by(*order).execution_options(**scope.PER_ROW_OPTION)).all()  # the page's rows by id
    return rows, shown, total


@bp.route("/exams/<int:exam_id>/candidates", methods=["POST"])
def candidates(exam_id: int):
    exam = get_exam(exam_id)
    try:
        unit_id = int(request.form.get("unit_id") or 0)
    except ValueError:
        unit_id = 0
    with commit_or_errors(refused="未添加：") as tx:
        mode = request.form.get("mode", "")
        officers, unknown = select_officers_partial(mode, unit_id=unit_id, text=request.form.get("officers", ""))
        enrolled = set(db.session.scalars(select(ExamResult.officer_id).where(ExamResult.exam_id == exam.id)))
        already = [o.name for o in officers if o.id in enrolled]
        if mode == "hand":  # typed in by hand: someone no longer in service is named, not added
            for o in officers:
                if o.employment_status != "active" and o.id not in enrolled:
                    unknown.problems.append(
                        f"{o.name}（{EMPLOYMENT_STATUSES.get(o.employment_status, o.employment_status)}）"
                        "不在职，不能报名考试")
                    unknown.tokens.append(o.name)
            officers = [o for o in officers if o.employment_status == "active" or o.id in enrolled]
        added = services.add_candidates(exam, officers)
    if tx.error is not None:
        return _detail(exam, enrol_text=request.form.get("officers", ""), status=422)
    if officers:
        flash(f"已添加 {added} 名考生", "success" if added else "info")
    if already:
        flash(f"已在考生名单中，未重复添加：{'、'.join(already[:20])}"
              f"{f' 等 {len(already)} 人' if len(already) > 20 else ''}", "info")
    if unknown.problems:
        flash(f"以下未添加，请改正后再添加（已留在输入框中）：{'；'.join(unknown.problems)}", "warning")
        return _detail(exam, enrol_text="\n".join(unknown.tokens))
    return redirect(url_for("exams.detail", exam_id=exam.id))


@bp.route("/exams/<int:exam_id>/results", methods=["POST"])
def results(exam_id: int):
    exam = get_exam(exam_id)
    rows = {}
    for key in request.form:
        if key.startswith("score-"):
            try:
                rid = int(key.removeprefix("score-"))
            except ValueError:
                continue
            rows[rid] = (request.form.get(key, ""), request.form.get(f"absent-{rid}") == "1")
    with commit_or_errors(refused="成绩未保存：") as tx:
        changed = services.save_results(exam, rows, today=clock.today())
        tx.success = f"成绩已保存（{changed} 人有变动）"
    if tx.error is not None:
        return _detail(exam, entered=rows, cell_errors=tx.fields, status=422)
    return redirect(url_for("exams.detail", exam_id=exam.id, **grid_args()))


@bp.route("/exams/<int:exam_id>/remove/<int:result_id>", methods=["POST"])
def remove(exam_id: int, result_id: int):
    exam = get_exam(exam_id)
    with commit_or_errors() as tx:
        services.remove_candidate(exam, result_id)
        tx.success = "已从考生名单中移除"
    return redirect(url_for("exams.detail", exam_id=exam.id))
