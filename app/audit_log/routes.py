
from flask import flash, render_template, request

from app import clock
from app.audit_log import bp
from app.audit_log.display import Translator, actor_label, entity_label
from app.audit_log.lists import AUDIT
from app.labels import AUDIT_ACTIONS
from app.roles import require_role


@bp.route("/audit")
@require_role("admin")
def index():
    page = AUDIT.page(request.args, today=clock.today())
    for message in page.problems:
        flash(message, "warning")
    rows = [r.AuditEvent for r in page.rows]
    return render_template("audit/index.html", rows=rows, page=page.page,
                           pages=page.pages, total=page.total, args=page.args, active=page.active,
                           counted=page.counted, nav=page.nav,
                           actions=AUDIT_ACTIONS, show=Translator(rows), actor_label=actor_label,
                           entity_label=entity_label)  # masks rows written before masking too


@bp.route("/audit.xlsx")
@require_role("admin")
def index_xlsx():
    return AUDIT.export(request.args, today=clock.today())
