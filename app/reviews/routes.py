"""The annual review page: pre-checks for every certificate of a year, results for many at once."""

from __future__ import annotations

from datetime import date

from flask import flash, redirect, render_template, request, url_for

from app.errors import DomainError
from app.extensions import db
from app.labels import REVIEW_RESULTS
from app.reviews import bp, services
from app.training.routes import int_arg, units


def today() -> date:
    return date.today()


def _required() -> float:
    from app.settings.services import get

    return float(get("training_hours_required"))


@bp.route("/reviews")
def index():
    d = today()
    year = int_arg("year", d.year - 1 if d.month < 7 else d.year)
    unit_id = int_arg("unit", None, 1, 10**9)
    result = request.args.get("result") or None
    if result not in REVIEW_RESULTS and result != "none":
        result = None
    q = (request.args.get("q") or "").strip()
    per_page = 50
    rows, annual_held = services.review_rows(year, _required(), unit_id=unit_id, result=result, search=q,
                                             page=int_arg("page", 1, 1, 10**6), per_page=per_page)
    total = rows[0]["total"] if rows else 0
    pages = max(1, -(-total // per_page))
    page = min(int_arg("page", 1, 1, 10**6), pages)
    return render_template("reviews/index.html", rows=rows, year=year, annual_held=annual_held,
                           required=_required(), units=units(), unit_id=unit_id, result=result, q=q,
                           today=d, total=total, page=page, pages=pages,
                           args={"year": year, "unit": unit_id or "", "result": result or "", "q": q})


@bp.route("/reviews/<int:year>", methods=["POST"])
def record(year: int):
    ids = []
    for raw in request.form.getlist("cert"):
        try:
            ids.append(int(raw))
        except ValueError:
            continue
    try:
        reviewed_on = date.fromisoformat(request.form.get("reviewed_on") or "")
    except ValueError:
        reviewed_on = None
    result = request.form.get("result", "")
    try:
        n = services.record_reviews(year, ids, result, reviewed_on=reviewed_on,
                                    note=request.form.get("note", ""), today=today())
    except DomainError as exc:
        db.session.rollback()
        flash(f"年审结果未保存：{exc}", "danger")
    else:
        db.session.commit()
        flash(f"已将 {n} 个证件的{year}年年审登记为“{REVIEW_RESULTS[result]}”", "success")
    return redirect(url_for("reviews.index", year=year))
