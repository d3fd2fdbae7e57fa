from datetime import date, datetime, timedelta

from flask import render_template, request
from sqlalchemy import func, or_, select

from app.audit import bp
from app.audit.display import Translator, actor_label, entity_label
from app.audit.models import AuditEvent
from app.auth.access import require_role
from app.extensions import db
from app.forms import parse_date
from app.labels import AUDIT_ACTIONS


def _date_arg(name: str) -> date | None:
    try:
        return parse_date(request.args.get(name, ""))
    except ValueError:
        return None


@bp.route("/audit")
@require_role("admin")
def index():
    q = select(AuditEvent)
    action = request.args.get("action", "")
    if action in AUDIT_ACTIONS:
        q = q.where(AuditEvent.action == action)
    entity = request.args.get("entity", "").strip()
    if entity:
        q = q.where(AuditEvent.entity_type == entity)
    search = request.args.get("q", "").strip()
    if search:
        like = f"%{search}%"
        q = q.where(or_(AuditEvent.actor.like(like), AuditEvent.summary.like(like)))
    start, end = _date_arg("from"), _date_arg("to")
    if start:
        q = q.where(AuditEvent.at >= datetime.combine(start, datetime.min.time()) - timedelta(hours=8))
    if end:
        q = q.where(AuditEvent.at < datetime.combine(end + timedelta(days=1), datetime.min.time()) - timedelta(hours=8))
    total = db.session.scalar(select(func.count()).select_from(q.subquery()))
    per_page = 50
    pages = max(1, (total + per_page - 1) // per_page)
    page = min(max(request.args.get("page", 1, type=int), 1), pages)
    rows = db.session.scalars(q.order_by(AuditEvent.id.desc()).limit(per_page).offset((page - 1) * per_page)).all()
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template("audit/index.html", rows=rows, page=page, pages=pages, total=total, args=args,
                           actions=AUDIT_ACTIONS, show=Translator(rows), actor_label=actor_label,
                           entity_label=entity_label)  # masks rows written before masking too
