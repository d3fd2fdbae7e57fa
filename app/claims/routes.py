"""/training/claims and /officers/requests: the pending claims and change requests of the user's
scope (the unit scope filters both: they are keyed by officer_id) — approve, or return with a
reason. /officers/invite: invitation slips (a one-time code and a QR to /me/activate)."""

from __future__ import annotations

import segno
from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from app import scope
from app.auth.access import require_role
from app.claims import bp
from app.errors import DomainError
from app.extensions import db
from app.me import accounts
from app.me import claims as svc
from app.models.me import ChangeRequest, TrainingClaim
from app.models.officers import Officer
from app.web.args import page_arg
from app.web.files import private_file
from app.web.tokens import base_url

STATUSES = ("pending", "approved", "returned")
PER_PAGE = 50


def _page(stmt, order):
    """(rows, page, pages) of `stmt` (scoped by the unit scope), PER_PAGE a page."""
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    pages = max(1, -(-total // PER_PAGE))
    page = min(page_arg(), pages)
    rows = db.session.scalars(stmt.order_by(*order).limit(PER_PAGE).offset((page - 1) * PER_PAGE)).unique().all()
    return rows, page, pages


def _filters(model):
    """The status tab and a search by name (or training title) of the lists."""
    status = request.args.get("status") if request.args.get("status") in STATUSES else "pending"
    q = (request.args.get("q") or "").strip()[:50]
    stmt = (select(model).join(Officer, Officer.id == model.officer_id).options(joinedload(model.officer))
            .where(model.status == status))
    if q:
        cond = Officer.name.contains(q, autoescape=True)
        if model is TrainingClaim:
            cond = or_(cond, TrainingClaim.title.contains(q, autoescape=True))
        stmt = stmt.where(cond)
    return stmt, status, q


def _decide(decide, item, what, endpoint: str):
    """Approve or return `item` by `decide` (the form's decision and reason), commit or roll back
    and say so — naming `what()`, read after the commit — then back to the list `endpoint`."""
    approve = request.form.get("decision") == "approve"
    try:
        decide(item, approve, request.form.get("reason", ""))
    except DomainError as exc:
        db.session.rollback()
        flash(f"未处理：{exc}", "danger")
    else:
        flash(f"已{'通过' if approve else '退回'}：{what()}", "success")
    return redirect(url_for(endpoint))


@bp.route("/training/claims")
def claim_list():
    stmt, status, q = _filters(TrainingClaim)
    rows, page, pages = _page(stmt, (TrainingClaim.created_at.desc(), TrainingClaim.id.desc()))
    return render_template("claims/claims.html", rows=rows, status=status, q=q, page=page, pages=pages)


@bp.route("/training/claims/<int:claim_id>/proof")
def claim_proof(claim_id: int):
    claim = scope.get_or_404(TrainingClaim, claim_id)
    return private_file(claim.proof or b"", claim.proof_mime or "application/octet-stream")


@bp.route("/training/claims/<int:claim_id>/decide", methods=["POST"])
@require_role("clerk")
def claim_decide(claim_id: int):
    claim = scope.get_or_404(TrainingClaim, claim_id)
    return _decide(svc.decide_claim, claim, lambda: f"{claim.officer.name}《{claim.title}》", "claims.claim_list")


@bp.route("/officers/requests")
def request_list():
    stmt, status, q = _filters(ChangeRequest)
    rows, page, pages = _page(stmt, (ChangeRequest.id.desc(),))
    return render_template("claims/requests.html", rows=rows, status=status, q=q, page=page, pages=pages)


@bp.route("/officers/requests/<int:req_id>/photo")
def request_photo(req_id: int):
    req = scope.get_or_404(ChangeRequest, req_id)
    if req.field != "photo" or not req.data:
        abort(404)
    return private_file(req.data, req.mime)


@bp.route("/officers/requests/<int:req_id>/decide", methods=["POST"])
@require_role("clerk")
def request_decide(req_id: int):
    req = scope.get_or_404(ChangeRequest, req_id)
    return _decide(svc.decide_change, req, lambda: f"{req.officer.name}的申请", "claims.request_list")


@bp.route("/officers/invite", methods=["POST"])
@require_role("clerk")
def invite():
    """Invitation slips for the officers ticked on the list (or one officer's page): a one-time
    code each, shown once, with a QR to the activation page; the ID number masked."""
    ids = [int(x) for x in request.form.getlist("ids") if x.isdigit()][:200]
    officers = db.session.scalars(select(Officer).where(Officer.id.in_(ids)).order_by(Officer.name)).all()
    if not officers:
        flash("请先选择要邀请的执法人员", "warning")
        return redirect(url_for("officers.index"))
    try:
        slips = accounts.invite(list(officers))
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return redirect(url_for("officers.index"))
    link = base_url() + url_for("me.activate")
    qr = segno.make(link, error="m").svg_data_uri(scale=3, border=2)
    return render_template("claims/slips.html", slips=slips, link=link, qr=qr, days=accounts.INVITE_DAYS)
