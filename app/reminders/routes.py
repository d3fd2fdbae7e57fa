"""证件到期提醒: the page and its .xlsx / PDF exports. Thin: parse, call the service, return."""

from __future__ import annotations

from datetime import date

from flask import Response, render_template, request

from app import clock
from app.audit.services import record
from app.formatting import cn_date, days_text
from app.forms import parse_date
from app.jobs.services import defer
from app.pdf import render_pdf
from app.reminders import bp, services
from app.reminders import jobs as _jobs  # noqa: F401  (registers the "reminders" job kind)
from app.settings.services import get
from app.sheets import DAYS_FORMAT
from app.web.args import page_arg
from app.web.exports import Column, to_xlsx
from app.web.files import download


def _today() -> tuple[date, str]:
    """?today=YYYY-MM-DD (to look ahead or back), else the real date; a bad value is explained."""
    raw = (request.args.get("today") or "").strip()
    if not raw:
        return clock.today(), ""
    try:
        return parse_date(raw) or clock.today(), ""
    except ValueError as exc:
        return clock.today(), f"{exc}；已按今天显示"


def _columns():
    return [
        Column("类别", lambda r: r["band"], 18),
        Column("单位", lambda r: r["unit"], 20),
        Column("姓名", lambda r: r["name"], 10),
        Column("证件编号", lambda r: r["number"], 20),
        Column("有效期至", lambda r: r["expires_on"], 12),
        Column("剩余天数", lambda r: r["days_left"], 10, text=days_text, number_format=DAYS_FORMAT),
        Column("联系电话", lambda r: r["phone"], 14),
        Column("已发送提醒", lambda r: r["history_text"], 60),
    ]


def _download(data: bytes, today: date, ext: str) -> Response:
    return download(data, f"证件到期提醒_{today.isoformat()}.{ext}", f"reminders_{today.isoformat()}.{ext}")


@bp.route("/reminders")
def index():
    today, error = _today()
    ctx = services.report_page(today, page_arg())
    return render_template("reminders/index.html", error=error, real_today=clock.today(), **ctx)


@bp.route("/reminders.xlsx")
def export_xlsx():
    today, _ = _today()
    ctx = services.report(today)
    rows = services.report_rows(ctx)
    if (queued := defer("证件到期提醒 .xlsx", rows=len(rows))) is not None:
        return queued
    data = to_xlsx(rows, _columns(), sheet="证件到期提醒",
                   title=f"{get('org_name')} · 证件到期提醒 · {cn_date(today)}")
    record("export", "reminders", None, f"导出证件到期提醒 .xlsx（{cn_date(today)}，{len(rows)} 行）")
    return _download(data, today, "xlsx")


@bp.route("/reminders.pdf")
def export_pdf():
    if (queued := defer("证件到期提醒 PDF")) is not None:  # every PDF: a background job
        return queued
    today, _ = _today()
    ctx = services.report(today)
    rows = services.report_rows(ctx)
    data = render_pdf("reminders/pdf.html", {"notice": False, "org_name": get("org_name"), "today": today,
                                             "rows": rows, "windows": ctx["windows"]})
    record("export", "reminders", None, f"导出证件到期提醒 PDF（{cn_date(today)}，{len(rows)} 行）")
    return _download(data, today, "pdf")
