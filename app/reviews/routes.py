"""The annual review page: pre-checks for every certificate of a year, results for many at once."""

from __future__ import annotations

from datetime import date

from flask import flash, redirect, render_template, request, url_for

from app import clock
from app.errors import DomainError
from app.forms import parse_date
from app.labels import REVIEW_RESULTS
from app.reviews import bp, services
from app.settings.services import get
from app.units import unit_list, unit_name
from app.web.args import page_arg, query_int
from app.web.exports import Column
from app.web.lists import Filter, FilterBar, xlsx_response
from app.web.tx import commit_or_errors

REVIEW_FILTERS = FilterBar("reviews", "reviews.index", (
    Filter("year", "number", "年度", style="width:7em"),
    Filter("unit", choices="units", all="全部单位"),
    Filter("result", choices={"none": "未登记", **REVIEW_RESULTS}),
    Filter("q", "text", placeholder="姓名或证件编号")), clear="", keep_sort=False)


def _required() -> float:
    return float(get("training_hours_required"))


def _review_args() -> tuple[date, int, int | None, str | None, str]:
    """The review list's arguments from the query string (the page and its export)."""
    d = clock.today()
    year = query_int("year", d.year - 1 if d.month < 7 else d.year)
    unit_id = query_int("unit", None, 1, 10**9)
    result = request.args.get("result") or None
    if result not in REVIEW_RESULTS and result != "none":
        result = None
    q = (request.args.get("q") or "").strip()
    return d, year, unit_id, result, q


@bp.route("/reviews")
def index():
    _d, year, unit_id, result, q = _review_args()
    return _page(year, unit_id=unit_id, result=result, q=q, page=page_arg())


def _page(year: int, *, unit_id: int | None = None, result: str | None = None, q: str = "",
          page: int = 1, confirm: dict | None = None, status: int = 200):
    """The review page (one page of rows, paged in SQL); `confirm` (after a refused pass: the
    people failing a pre-check, and what was ticked and typed) shows the confirmation box."""
    d = clock.today()
    per_page = 50
    rows, annual_held = services.review_rows(year, _required(), unit_id=unit_id, result=result, search=q,
                                             page=page, per_page=per_page, today=d)
    total = rows[0]["total"] if rows else 0
    pages = max(1, -(-total // per_page))
    return render_template("reviews/index.html", rows=rows, year=year, annual_held=annual_held,
                           required=_required(), units=unit_list(), unit_id=unit_id, result=result, q=q,
                           today=d, total=total, page=min(page, pages), pages=pages, confirm=confirm,
                           args={"year": year, "unit": unit_id or "", "result": result or "", "q": q}), status


def _yes_no(value: bool | None) -> str:
    return "—" if value is None else ("是" if value else "否")


REVIEW_COLUMNS = [
    Column("单位", lambda r: r["unit"], 20), Column("姓名", lambda r: r["name"], 10),
    Column("证件编号", lambda r: r["number"], 18), Column("有效期至", lambda r: r["expires_on"], 16),
    Column("证件有效", lambda r: _yes_no(r["checks"]["valid"]), 8),
    Column("在岗", lambda r: _yes_no(r["checks"]["on_post"]), 6),
    Column("认定学时", lambda r: r["hours"], 10, number_format="0.0"),
    Column("学时达标", lambda r: _yes_no(r["checks"]["hours"]), 8),
    Column("未暂扣", lambda r: _yes_no(r["checks"]["no_suspension"]), 8),
    Column("年度考试合格", lambda r: _yes_no(r["checks"]["annual_exam"]), 12),
    Column("年审结果", lambda r: REVIEW_RESULTS.get(r["result"] or "", "未登记"), 10),
    Column("年审日期", lambda r: r["reviewed_on"], 16),
    Column("备注", lambda r: "；".join([*r["notes"], *([r["note"]] if r["note"] else [])]), 24),
]


@bp.route("/reviews.xlsx")
def index_xlsx():
    """The review list as shown (same arguments as /reviews), every row."""
    d, year, unit_id, result, q = _review_args()
    rows, _held = services.review_rows(year, _required(), unit_id=unit_id, result=result, search=q, today=d)
    words = [f"{year}年", *([f"单位：{unit_name(unit_id)}"] if unit_id else []),
             *([f"年审结果：{REVIEW_RESULTS.get(result, '未登记')}"] if result else []),
             *([f"搜索：{q}"] if q else [])]
    return xlsx_response(rows, REVIEW_COLUMNS, title="年审", slug="reviews", described=words, today=d,
                         entity="annual_review")


@bp.route("/reviews/<int:year>", methods=["POST"])
def record(year: int):
    ids = []
    for raw in request.form.getlist("cert"):
        try:
            ids.append(int(raw))
        except ValueError:
            continue
    try:
        reviewed_on = parse_date(request.form.get("reviewed_on"))
    except ValueError as exc:
        if ids:
            flash(f"年审结果未保存：年审{exc}", "danger")
            return redirect(url_for("reviews.index", year=year))
        reviewed_on = None
    result = request.form.get("result", "")
    overrides = {}
    if result == "pass" and ids:
        try:  # people short of the exam or hours: ask to confirm (a page, not a saved change)
            overrides = services.pass_overrides(
                year, ids, _required(), today=clock.today(),
                confirmed=request.form.get("override_confirm") == "1",
                reason=request.form.get("override_reason", ""))
        except DomainError as exc:
            flash(f"年审结果未保存：{exc}", "danger")
            return _page(year, confirm={"people": list(exc.fields.values()), "ids": set(ids),
                                        "form": request.form}, status=422)
    with commit_or_errors(refused="年审结果未保存：") as tx:
        n = services.record_reviews(year, ids, result, reviewed_on=reviewed_on,
                                    note=request.form.get("note", ""), today=clock.today(), overrides=overrides)
        tx.success = f"已将 {n} 个证件的{year}年年审登记为“{REVIEW_RESULTS[result]}”"
    return redirect(url_for("reviews.index", year=year))
