"""Units and officers pages: parse the request, call officers.services, commit, flash, redirect."""

from __future__ import annotations

from datetime import date

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from app import compliance
from app import labels as L
from app.auth.access import require_role, sees_full_ids
from app.certificates.models import Certificate
from app.errors import DomainError
from app.extensions import db
from app.officers import bp
from app.officers.forms import OfficerForm, UnitForm, form_version
from app.officers.models import Officer, Unit
from app.officers.services import delete_unit, save_officer, save_unit, set_photo

OFFICER_SORTS = {
    "name": (Officer.name,),
    "unit": (Unit.sort_order, Unit.name),
    "establishment": (Officer.establishment,),
    "status": (Officer.employment_status,),
}


def today() -> date:
    return date.today()


def page_arg() -> int:
    try:
        return max(1, int(request.args.get("page", 1)))
    except ValueError:
        return 1


def paginate(query, count_query, page: int, per_page: int):
    """(rows, page, pages, total) with two queries: the count and the page."""
    total = db.session.scalar(count_query) or 0
    pages = max(1, -(-total // per_page))
    page = min(page, pages)
    rows = db.session.execute(query.limit(per_page).offset((page - 1) * per_page)).all()
    return rows, page, pages, total


def unit_list() -> list[Unit]:
    return list(db.session.scalars(select(Unit).order_by(Unit.sort_order, Unit.name)))


# ---------------------------------------------------------------- units


@bp.route("/units")
def units():
    counts = (
        select(Officer.unit_id, func.count(Officer.id).label("n"))
        .group_by(Officer.unit_id)
        .subquery()
    )
    parent = db.aliased(Unit)
    rows = db.session.execute(
        select(Unit, parent.name.label("parent_name"), func.coalesce(counts.c.n, 0).label("n"))
        .outerjoin(counts, counts.c.unit_id == Unit.id)
        .outerjoin(parent, parent.id == Unit.parent_id)
        .order_by(Unit.sort_order, Unit.name)
    ).all()
    return render_template("officers/units.html", rows=rows)


def _unit_form(unit: Unit | None) -> UnitForm:
    form = UnitForm(obj=unit)
    others = [u for u in unit_list() if unit is None or u.id != unit.id]
    form.parent_id.choices = [("", "（无）"), *[(u.id, u.name) for u in others]]
    return form


@bp.route("/units/new", methods=["GET", "POST"])
@require_role("clerk")
def unit_new():
    return _unit_edit(None)


@bp.route("/units/<int:unit_id>/edit", methods=["GET", "POST"])
@require_role("clerk")
def unit_edit(unit_id: int):
    return _unit_edit(db.get_or_404(Unit, unit_id))


def _unit_edit(unit: Unit | None):
    form = _unit_form(unit)
    if form.validate_on_submit():
        try:
            saved = save_unit(
                unit,
                name=form.name.data,
                kind=form.kind.data,
                parent_id=form.parent_id.data,
                sort_order=form.sort_order.data or 0,
            )
            db.session.commit()
            flash(f"单位“{saved.name}”已保存", "success")
            return redirect(url_for("officers.units"))
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
    return render_template("officers/unit_form.html", form=form, unit=unit)


@bp.route("/units/<int:unit_id>/delete", methods=["POST"])
@require_role("clerk")
def unit_delete(unit_id: int):
    unit = db.get_or_404(Unit, unit_id)
    name = unit.name
    try:
        delete_unit(unit)
        db.session.commit()
        flash(f"单位“{name}”已删除", "success")
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
    return redirect(url_for("officers.units"))


# ---------------------------------------------------------------- officers


def _officer_filters(args, d: date) -> tuple[list, dict]:
    """WHERE clauses from the query string; unknown values are ignored, never an error page."""
    where: list = []
    active: dict[str, str] = {}
    q = (args.get("q") or "").strip()[:50]
    if q:
        where.append(
            Officer.name.contains(q, autoescape=True)
            | Officer.id_number_search(q, partial=sees_full_ids())
            | Officer.employee_no.contains(q, autoescape=True)
        )
        active["q"] = q
    unit = args.get("unit", "")
    if unit.isdigit():
        where.append(Officer.unit_id == int(unit))
        active["unit"] = unit
    if args.get("establishment") in L.ESTABLISHMENTS:
        where.append(Officer.establishment == args["establishment"])
        active["establishment"] = args["establishment"]
    if args.get("post") in ("yes", "no"):
        where.append(Officer.on_enforcement_post.is_(args["post"] == "yes"))
        active["post"] = args["post"]
    if args.get("status") in L.EMPLOYMENT_STATUSES:
        where.append(Officer.employment_status == args["status"])
        active["status"] = args["status"]
    if args.get("flag") in L.FLAGS and args["flag"] != "UNIT_UNDERSTAFFED":
        p = compliance.Params.from_settings(d)
        where.append(Officer.id.in_(compliance.officer_ids_with_flag(p, args["flag"])))
        active["flag"] = args["flag"]
    if args.get("certified") in ("yes", "no"):
        eff = compliance.best_effective(d)
        held = select(eff.c.officer_id)
        where.append(
            Officer.id.in_(held) if args["certified"] == "yes" else Officer.id.not_in(held)
        )
        active["certified"] = args["certified"]
    return where, active


@bp.route("/officers")
def index():
    d = today()
    where, active = _officer_filters(request.args, d)
    sort = request.args.get("sort", "unit")
    if sort.lstrip("-") not in OFFICER_SORTS:
        sort = "unit"
    cols = OFFICER_SORTS[sort.lstrip("-")]
    order = [c.desc() if sort.startswith("-") else c for c in cols]
    if sort.lstrip("-") != "name":
        order.append(Officer.name)
    query = (
        select(Officer, Unit.name.label("unit_name"))
        .join(Unit, Unit.id == Officer.unit_id)
        .where(*where)
        .order_by(*order, Officer.id)
    )
    count = select(func.count()).select_from(Officer).where(*where)
    rows, page, pages, total = paginate(query, count, page_arg(), current_app.config["PER_PAGE"])
    expires: dict[int, date] = {}
    if rows:
        # The effective enforcement certificate that expires last, for this page's officers only.
        eff = compliance.best_effective(d, officer_ids=[r.Officer.id for r in rows])
        expires = dict(db.session.execute(select(eff.c.officer_id, eff.c.expires_on)).all())
    args = dict(active, sort=sort)
    return render_template(
        "officers/index.html",
        rows=rows,
        page=page,
        pages=pages,
        total=total,
        args=args,
        active=active,
        sort=sort,
        units=unit_list(),
        expires=expires,
        today=d,
    )


def _officer_form(officer: Officer | None) -> OfficerForm:
    form = OfficerForm(obj=officer)
    form.unit_id.choices = [("", "请选择单位"), *[(u.id, u.name) for u in unit_list()]]
    if officer is not None:
        if request.method == "GET":
            form.version.data = str(officer.version)
            # The whole ID number appears only on the detail page, to admins (DESIGN §3):
            # the edit form starts blank, and blank keeps the stored number.
            form.id_number.data = ""
        form.id_number.render_kw = {"placeholder": officer.id_number_masked}
        form.id_number.description = "留空表示不修改；如需更正请输入完整的18位号码"
    return form


@bp.route("/officers/new", methods=["GET", "POST"])
@require_role("clerk")
def officer_new():
    return _officer_edit(None)


@bp.route("/officers/<int:officer_id>/edit", methods=["GET", "POST"])
@require_role("clerk")
def officer_edit(officer_id: int):
    return _officer_edit(db.get_or_404(Officer, officer_id))


def _officer_edit(officer: Officer | None):
    form = _officer_form(officer)
    if form.validate_on_submit():
        data = form.officer_data()
        if officer is not None and not data["id_number"]:
            data["id_number"] = officer.id_number
        expected = form_version(form.version.data) if officer is not None else None
        try:
            saved = save_officer(officer, data, today=today(), expected_version=expected)
            if form.photo_data:
                set_photo(saved, *form.photo_data)
            elif form.remove_photo.data and saved.photo_mime:
                set_photo(saved, None, None)
            db.session.commit()
            flash(f"执法人员“{saved.name}”已保存", "success")
            return redirect(url_for("officers.detail", officer_id=saved.id))
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
    elif form.errors:
        flash("表单有误，请按提示修改", "danger")
    return render_template("officers/form.html", form=form, officer=officer)


@bp.route("/officers/<int:officer_id>")
def detail(officer_id: int):
    officer = db.session.scalar(
        select(Officer)
        .where(Officer.id == officer_id)
        .options(
            joinedload(Officer.unit),
            selectinload(Officer.certificates).selectinload(Certificate.events),
        )
    )
    if officer is None:
        abort(404)
    d = today()
    flags = compliance.officer_flags(compliance.Params.from_settings(d), officer.id)
    show_id = officer.id_number if sees_full_ids() else officer.id_number_masked
    from app.cases.services import CaseFilters, case_rows
    from app.training.officer import officer_context

    return render_template(
        "officers/detail.html", officer=officer, flags=flags, today=d, show_id=show_id,
        full_id=sees_full_ids(),
        **officer_context(officer.id), officer_cases=case_rows(CaseFilters(officer_id=officer.id)),
    )


@bp.route("/officers/<int:officer_id>/photo")
def photo(officer_id: int):
    row = db.session.execute(
        select(Officer.photo, Officer.photo_mime).where(Officer.id == officer_id)
    ).first()
    if row is None or not row.photo:
        abort(404)
    resp = Response(row.photo, mimetype=row.photo_mime or "application/octet-stream")
    resp.headers["Cache-Control"] = "private, no-store"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp
