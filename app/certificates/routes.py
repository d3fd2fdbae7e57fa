"""Certificate pages: list, issue, edit, detail with history, and the lifecycle actions."""

from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app import clock, scope
from app import labels as L
from app.auth.access import require_role
from app.cases.services import impact_of
from app.certificates import bp
from app.certificates.forms import ActionForm, CertificateForm
from app.certificates.lists import CERTIFICATES
from app.certificates.services import (
    allowed_actions,
    create_certificate,
    default_expiry,
    record_override,
    transition,
    update_certificate,
)
from app.exams.services import has_recent_passed_qualification, issue_confirmation
from app.extensions import db
from app.forms import form_version
from app.models.certificates import Certificate
from app.models.officers import Officer
from app.settings import services as settings
from app.units import unit_list
from app.web.tx import commit_or_errors


def follow_issue_date(field) -> None:
    """An expiry box left empty on a new form: the server computes it from the issue date on
    save (default_expiry), and static/app.js shows that date beside the box as the issue date
    is typed — never a date computed from today that a later issue date would not move."""
    field.render_kw = {**(field.render_kw or {}),
                       "data-validity-years": settings.get("certificate_validity_years")}


def _exam_override(officer_id: int, kind: str, status: str, d: date) -> str | None:
    """The no-passed-exam confirmation of the submitted form: the reason to keep in the history,
    or None when none is needed (raises DomainError when it is needed but missing)."""
    _needs, override = issue_confirmation(
        officer_id, kind, status, today=d,
        confirmed=request.form.get("no_exam_confirm") == "1",
        reason=request.form.get("no_exam_reason", ""))
    return override


@bp.route("/certificates")
def index():
    d = clock.today()
    page = CERTIFICATES.shown_page(request.args, today=d)
    return render_template("certificates/index.html", **page.context(), units=unit_list(), today=d)


@bp.route("/certificates.xlsx")
def index_xlsx():
    return CERTIFICATES.export(request.args, today=clock.today())


@bp.route("/officers/<int:officer_id>/certificates/new", methods=["GET", "POST"])
@require_role("clerk")
def new(officer_id: int):
    officer = db.get_or_404(Officer, officer_id)
    d = clock.today()
    form = CertificateForm()
    del form.version
    if request.method == "GET":
        form.issued_on.data = d
    follow_issue_date(form.expires_on)
    if valid := form.validate_on_submit():
        data = form.certificate_data()
        if data["expires_on"] is None:
            data["expires_on"] = default_expiry(data["issued_on"])
        with commit_or_errors(form) as tx:
            override = _exam_override(officer.id, data["kind"], form.status.data, d)
            cert = create_certificate(
                officer,
                data,
                status=form.status.data,
                document_no=form.document_no.data or "",
                today=d,
            )
            if override:
                record_override(cert, override, today=d)
            tx.success = f"已为“{officer.name}”登记{L.CERT_KINDS[cert.kind]} {cert.number}"
        if tx.ok:
            return redirect(url_for("officers.detail", officer_id=officer.id))
    return _form_page(form, officer, None, valid,
                      needs_exam_confirm=not has_recent_passed_qualification(officer.id, d))


@bp.route("/certificates/<int:cert_id>/edit", methods=["GET", "POST"])
@require_role("clerk")
def edit(cert_id: int):
    cert = db.get_or_404(Certificate, cert_id)
    form = CertificateForm(obj=cert)
    del form.status
    del form.document_no
    if request.method == "GET":
        form.version.data = str(cert.version)
    if valid := form.validate_on_submit():
        data = form.certificate_data()
        if data["expires_on"] is None:
            data["expires_on"] = default_expiry(data["issued_on"])
        with commit_or_errors(form) as tx:
            update_certificate(cert, data, expected_version=form_version(form.version.data))
            tx.success = f"证件 {cert.number} 已保存"
        if tx.ok:
            return redirect(url_for("certificates.detail", cert_id=cert.id))
    return _form_page(form, cert.officer, cert, valid)


def _form_page(form: CertificateForm, officer: Officer, cert: Certificate | None, valid: bool, **extra):
    """The certificate form again: first shown, or refused (a form that did not validate says so)."""
    if not valid and form.errors:
        flash("表单有误，请按提示修改", "danger")
    return render_template("certificates/form.html", form=form, officer=officer, cert=cert, **extra)


@bp.route("/certificates/<int:cert_id>")
@scope.per_row  # one card's rows: its events, its officer, the cards it replaces (app/scope.py PER_ROW)
def detail(cert_id: int):
    cert = db.session.scalar(
        select(Certificate)
        .where(Certificate.id == cert_id)
        .options(
            selectinload(Certificate.events),
            selectinload(Certificate.officer).selectinload(Officer.unit),
            selectinload(Certificate.replaced_by),
        )
    )
    if cert is None:
        abort(404)
    replaces = db.session.scalars(
        select(Certificate).where(Certificate.replaced_by_id == cert.id)
    ).all()
    return render_template(
        "certificates/detail.html",
        cert=cert,
        replaces=replaces,
        today=clock.today(),
        actions=allowed_actions(cert),
    )


@bp.route("/certificates/<int:cert_id>/actions/<action>", methods=["GET", "POST"])
@require_role("clerk")
def action(cert_id: int, action: str):
    if action not in L.CERT_ACTIONS:
        abort(404)
    cert = db.get_or_404(Certificate, cert_id)
    d = clock.today()
    form = ActionForm()
    if action == "replace":  # the new number is needed for a replacement (the service says so too)
        form.new_number.flags.required = True
    if request.method == "GET":
        form.effective_on.data = d
        form.version.data = str(cert.version)
        if action == "replace":
            form.new_issued_on.data = d
    if action == "replace":
        follow_issue_date(form.new_expires_on)
    if form.validate_on_submit():
        replacement = None
        if action == "replace":
            replacement = {
                "number": (form.new_number.data or "").strip(),
                "issued_on": form.new_issued_on.data,
                "expires_on": form.new_expires_on.data
                or (default_expiry(form.new_issued_on.data) if form.new_issued_on.data else None),
                "issuing_authority": cert.issuing_authority,
                "categories": cert.categories,
                "area": cert.area,
            }
        label = L.CERT_ACTIONS[action][0]
        case_impact = _case_impact(cert, action, form.effective_on.data, d)
        if case_impact:  # a back-dated suspension/revocation: say what it does to the cases first
            return _action_page(form, cert, action, d, case_impact)
        with commit_or_errors(form) as tx:
            override = _exam_override(cert.officer_id, cert.kind, "valid", d) if action == "issue" else None
            transition(
                cert,
                action,
                effective_on=form.effective_on.data,
                reason=form.reason.data,
                document_no=form.document_no.data or "",
                replacement=replacement,
                today=d,
                expected_version=form_version(form.version.data),
            )
            if override:
                record_override(cert, override, today=d)
            tx.success = f"证件 {cert.number} 已{label}"
        if tx.ok:
            return redirect(url_for("certificates.detail", cert_id=cert.id))
    elif form.errors:
        flash("表单有误，请按提示修改", "danger")
    return _action_page(form, cert, action, d)


def _case_impact(cert: Certificate, action: str, effective_on, d: date) -> int:
    """Cases whose verdict a back-dated suspension/revocation changes, unless the user has
    already seen that number and confirmed (hidden field `confirm_cases`)."""
    if action not in ("suspend", "revoke") or not isinstance(effective_on, date) or effective_on >= d:
        return 0

    n = impact_of(cert, L.CERT_ACTIONS[action][2], effective_on)
    return 0 if request.form.get("confirm_cases") == f"{effective_on.isoformat()}:{n}" else n


def _action_page(form, cert: Certificate, action: str, d: date, case_impact: int = 0):
    return render_template(
        "certificates/action.html",
        form=form,
        cert=cert,
        action=action,
        allowed=action in allowed_actions(cert),
        needs_exam_confirm=action == "issue" and cert.kind == "enforcement"
        and not has_recent_passed_qualification(cert.officer_id, d),
        case_impact=case_impact,
    )
