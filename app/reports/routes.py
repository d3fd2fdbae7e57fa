from __future__ import annotations

from flask import current_app, g, render_template, request, url_for

from app import clock
from app.auth.access import sees_full_ids
from app.formatting import cn_date
from app.jobs.services import defer
from app.labels import FLAG_REASONS
from app.reports import bp, forecast, services
from app.reports.trend import cached, spark
from app.rules import compliance
from app.web import exports, files
from app.web.args import page_arg

PER_PAGE = 50
MAX_WITHIN = 3650


_ID_MARK = 987654321  # an officer id no URL part contains otherwise


def _officer_url(officer_id: int) -> str:
    """The officer's detail page; the URL is built once per request and filled in for each id (a
    page lists up to a few thousand officers: url_for for each is a measurable cost)."""
    pattern = g.get("_officer_url_pattern")
    if pattern is None:
        built = (url_for("officers.detail", officer_id=_ID_MARK) if "officers.detail" in current_app.view_functions
                 else f"/officers/{_ID_MARK}")
        pattern = g._officer_url_pattern = built.split(str(_ID_MARK))
    return str(officer_id).join(pattern)


def _parse_request() -> tuple[compliance.Params, services.FlagFilters, list[str]]:
    """Filters from the query string; bad values are dropped with a message, never a 500."""
    problems: list[str] = []
    args = request.args
    within = None
    raw_within = args.get("within", "").strip()
    if raw_within:
        try:
            within = int(raw_within)
            if not 0 <= within <= MAX_WITHIN:
                raise ValueError
        except ValueError:
            within = None
            problems.append(f"到期天数“{raw_within}”无效，应为 0 到 {MAX_WITHIN} 之间的整数，已按默认天数显示")
    flag = None
    raw_flag = args.get("flag", "").strip()
    if raw_flag:
        flag = services.flag_code(raw_flag)
        if flag is None:
            problems.append(f"未知的问题类型“{raw_flag}”，已显示全部问题")
    unit = args.get("unit", "").strip() or None
    if unit and not services.unit_exists(unit):
        problems.append(f"没有名为“{unit}”的单位，已显示全部单位")
        unit = None
    reason = args.get("reason", "").strip() or None
    search = args.get("q", "").strip()[:50] or None
    p = compliance.Params.from_settings(clock.today(), within)
    return p, services.FlagFilters(flag=flag, reason=reason, unit=unit, search=search,
                                    id_partial=sees_full_ids()), problems


@bp.route("/flags")
def flags():
    p, f, problems = _parse_request()
    asked = page_arg()
    result = services.flags_report(p, f, page=asked, per_page=PER_PAGE)
    total, rows = result.total, result.rows
    pages = max(1, (total + PER_PAGE - 1) // PER_PAGE)
    page = min(max(asked, 1), pages)
    args = f.as_dict()
    if request.args.get("within", "").strip() and not any("到期天数" in m for m in problems):
        args["within"] = str(p.within)
    return render_template(
        "reports/flags.html", rows=rows, total=total, page=page, pages=pages, args=args,
        counts=result.counts, reasons=result.reasons, filters=f, params=p, problems=problems,
        units=services.unit_names(), officer_url=_officer_url, reason_label=exports.reason_label,
        all_reasons=FLAG_REASONS,
    )


@bp.route("/flags.<any(xlsx, csv):fmt>")
def flags_export(fmt: str):
    p, f, _problems = _parse_request()
    rows = services.flags_report(p, f).rows
    if (queued := defer(f"问题提示 .{fmt}", rows=len(rows))) is not None:
        return queued
    words = [*f.described(), f"到期提醒 {p.within} 天内"]
    data = services.render(rows, fmt, heading=f"问题提示（{'；'.join(words)}）　截至 {cn_date(p.today)}")
    filters = {**f.as_dict(), "within": p.within, "today": p.today.isoformat()}
    files.record_export("flags", fmt, len(rows), filters)
    name = services.export_filename("问题提示", p.today, fmt)
    fallback = services.export_filename("flags", p.today, fmt)
    return files.download(data, name, fallback)


FORECAST_LABELS = ("现在", "3个月后", "6个月后", "12个月后")
FORECAST_PER_PAGE = 60  # unit cards per page (three to a row on a wide screen)


def _forecast_request():
    """(forecast, unit filter, messages): the unit named in ?unit= (unknown: all units, with a
    message). The figures are compute()'s, for the user's scope (the ORM hook narrows them), kept
    until the next audited write like the dashboard's (which shares the whole-list one)."""
    problems: list[str] = []
    unit = request.args.get("unit", "").strip() or None
    if unit and not services.unit_exists(unit):
        problems.append(f"没有名为“{unit}”的单位，已显示全部单位")
        unit = None
    return cached("forecast", forecast.compute, clock.today(), forecast.DEFAULT_MONTHS, unit), unit, problems


@bp.route("/forecast")
def forecast_page():
    fc, unit, problems = _forecast_request()
    soon = sorted((u for u in fc.units if u.below_two_on is not None),
                  key=lambda u: (u.below_two_on, fc.units.index(u)))
    ordered = soon + [u for u in fc.units if u.below_two_on is None]
    # a page of cards (the units falling below two first): a province's thousand units and their
    # fourteen thousand losses are not one page
    pages = max(1, -(-len(ordered) // FORECAST_PER_PAGE))
    page = min(page_arg(), pages)
    units = ordered[(page - 1) * FORECAST_PER_PAGE:page * FORECAST_PER_PAGE]
    charts = {u.unit_id: spark([u.now, *(u.months[k] for k in fc.months)], list(FORECAST_LABELS),
                               title="持证人数", color="#dc3545" if u.below_two_on else "#198754",
                               width=240, height=70, caption="今后12个月", threshold=2)
              for u in units}
    within6 = {u.unit_id for u in fc.below_two_within(6)}
    return render_template("reports/forecast.html", fc=fc, units=units, charts=charts, unit=unit,
                           problems=problems, unit_names=services.unit_names(), within6=within6,
                           reasons=forecast.REASONS, officer_url=_officer_url, soon=len(soon),
                           page=page, pages=pages, page_args={"unit": unit} if unit else {})


@bp.route("/forecast.xlsx")
def forecast_export():
    fc, unit, _problems = _forecast_request()
    data = forecast.to_xlsx(fc)
    files.record_export(services.FORECAST_TITLE, "xlsx", len(fc.units),
                           {"unit": unit, "today": fc.today.isoformat()})
    return files.download(data, services.export_filename(services.FORECAST_TITLE, fc.today, "xlsx"),
                          services.export_filename("forecast", fc.today, "xlsx"))
