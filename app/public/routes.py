"""/public/officers: the 行政执法公示 list, no login, never the ID number (docs/domain.md 打印文件与公开页面).

Live: computed from the registry on every request, so a suspension removes the officer at once.
Turned off (404) by the setting `public_list_enabled`.
"""

from __future__ import annotations

import io

from flask import abort, render_template, request, send_file

from app import clock
from app.extensions import public_limit
from app.formatting import cn_date
from app.public import bp, services
from app.public.hits import count_hit
from app.public.pdfcache import public_pdf
from app.settings.services import get
from app.web.args import page_arg
from app.web.exports import Column, to_xlsx
from app.web.files import download

PER_PAGE = 50

COLUMNS = [
    Column("姓名", lambda r: r["name"], 10),
    Column("单位", lambda r: r["unit"], 20),
    Column("执法证号", lambda r: r["number"], 18),
    Column("执法类别", lambda r: r["categories"], 20),
    Column("执法区域", lambda r: r["area"], 16),
    Column("发证日期", lambda r: r["issued_on"], 12),
    Column("有效期至", lambda r: r["expires_on"], 12),
]


def _guard() -> str:
    if not services.enabled():
        abort(404)
    return (request.args.get("q") or "").strip()[:50]


@bp.route("/public/officers")
@public_limit
def officers():
    q = _guard()
    page = page_arg()
    t = clock.today()
    result = services.holders(t, q, page, PER_PAGE)
    return render_template("public/officers.html", result=result, q=q, today=t,
                           changes=services.changes(t) if not q else [],
                           days=services.CHANGE_DAYS, args={"q": q} if q else {})


@bp.route("/public/officers.xlsx")
@public_limit
def officers_xlsx():
    q = _guard()
    t = clock.today()
    data = to_xlsx(services.all_holders(t, q), COLUMNS, sheet="执法人员公示",
                   title=f"{get('org_name')} 行政执法人员公示名单（截至{cn_date(t)}）")
    return download(data, f"执法人员公示名单_{t.isoformat()}.xlsx", f"public-officers-{t.isoformat()}.xlsx")


@bp.route("/public/officers.pdf")
@public_limit
def officers_pdf():
    """Rendered once per version of the list (app/public/pdfcache.py); each hit is counted, not
    audited (anyone may ask as often as they like)."""
    _guard()
    t = clock.today()
    pdf, filename = public_pdf(t)
    count_hit("public-pdf", 0, t)
    return send_file(io.BytesIO(pdf), mimetype="application/pdf", as_attachment=True,
                     download_name=filename)
