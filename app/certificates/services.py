"""Certificate rules: issue, edit, and the status lifecycle (docs/domain.md 证件与状态) with its append-only history."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from app.audit.services import changes_of, current_actor, record, snapshot
from app.errors import DomainError, StaleEdit, required_text
from app.extensions import db
from app.formatting import cn_date
from app.labels import CERT_ACTIONS, CERT_KINDS, CERT_STATUSES
from app.models.certificates import Certificate, CertificateEvent
from app.models.officers import Officer
from app.settings import services as settings

CERT_FIELDS = ["kind", "number", "issuing_authority", "issued_on", "expires_on", "categories", "area"]


def validate_certificate_data(
    data: dict[str, Any], *, exclude_id: int | None = None, check_unique: bool = True
) -> dict[str, str]:
    """{field: message} for every problem in one certificate's fields.

    `check_unique=False` skips the per-row uniqueness query for callers (imports) that check
    the whole file against preloaded keys.
    """
    errors: dict[str, str] = {}
    if data.get("kind") not in CERT_KINDS:
        errors["kind"] = f"未知的证件类型“{data.get('kind')}”，可选：{'、'.join(CERT_KINDS.values())}"
    number = required_text(errors, data, "number", "证件编号", 50, "个字符")
    issued, expires = data.get("issued_on"), data.get("expires_on")
    if not isinstance(issued, date):
        errors["issued_on"] = "发证日期不能为空"
    if not isinstance(expires, date):
        errors["expires_on"] = "有效期至不能为空"
    if isinstance(issued, date) and isinstance(expires, date) and expires < issued:
        errors["expires_on"] = f"有效期至（{cn_date(expires)}）早于发证日期（{cn_date(issued)}）"
    if check_unique and number and "kind" not in errors:
        clash = db.session.scalar(select(Certificate).where(
            Certificate.kind == data["kind"], Certificate.number == number,
            Certificate.id != (exclude_id or -1)).execution_options(scope_all=True))  # unique everywhere
        if clash:
            errors["number"] = f"{CERT_KINDS[data['kind']]}编号“{number}”已存在"
    return errors


def _event(cert: Certificate, kind: str, from_status: str | None, to_status: str, effective_on: date,
           reason: str = "", document_no: str = "") -> CertificateEvent:
    ev = CertificateEvent(certificate=cert, kind=kind, from_status=from_status, to_status=to_status,
                          effective_on=effective_on, reason=reason or "", document_no=document_no or "",
                          actor=current_actor()[0])
    db.session.add(ev)
    return ev


def create_certificate(
    officer: Officer,
    data: dict[str, Any],
    *,
    status: str = "valid",
    status_date: date | None = None,
    reason: str = "",
    document_no: str = "",
    today: date,
) -> Certificate:
    """Register a certificate. Its history starts with an issue (or apply) event; a final or
    suspended status adds a status event dated `status_date` (or today)."""
    data = dict(data)
    data.setdefault("kind", "enforcement")
    errors = validate_certificate_data(data)
    if status not in CERT_STATUSES:
        errors["status"] = f"未知的证件状态“{status}”，可选：{'、'.join(CERT_STATUSES.values())}"
    if errors:
        raise DomainError("；".join(errors.values()), fields=errors)
    cert = Certificate(officer=officer, status=status, **{k: (data.get(k) or "") if k in
                       ("issuing_authority", "categories", "area") else data[k] for k in CERT_FIELDS})
    cert.number = cert.number.strip()
    db.session.add(cert)
    db.session.flush()
    if status == "applying":
        _event(cert, "apply", None, "applying", cert.issued_on, reason, document_no)
    else:
        _event(cert, "issue", None, "valid", cert.issued_on, reason, document_no)
        if status != "valid":
            kind = {"suspended": "suspend", "cancelled": "cancel", "revoked": "revoke", "lost": "lose",
                    "replaced": "replace"}[status]
            _event(cert, kind, "valid", status, status_date or today, reason, document_no)
    changes = changes_of(cert, dict.fromkeys(CERT_FIELDS), CERT_FIELDS) | {"status": [None, status]}
    record("create", "certificate", cert.id, f"登记{CERT_KINDS[cert.kind]} {cert.number}（{officer.name}）",
           changes)
    return cert


def update_certificate(cert: Certificate, data: dict[str, Any], *, expected_version: int | None = None) -> Certificate:
    """Edit the fields of a certificate (not its status — that is a transition)."""
    if expected_version is not None and cert.version != expected_version:
        raise StaleEdit(f"证件“{cert.number}”已被他人修改（版本 {expected_version} → {cert.version}），"
                        "请刷新页面查看最新内容后重新编辑")
    merged = {f: data.get(f, getattr(cert, f)) for f in CERT_FIELDS}
    errors = validate_certificate_data(merged, exclude_id=cert.id)
    if errors:
        raise DomainError("；".join(errors.values()), fields=errors)
    before = snapshot(cert, CERT_FIELDS)
    for f in CERT_FIELDS:
        value = merged[f]
        setattr(cert, f, value.strip() if isinstance(value, str) else value)
    db.session.flush()
    changes = changes_of(cert, before, CERT_FIELDS)
    if changes:
        record("update", "certificate", cert.id, f"修改证件 {cert.number}", changes)
    return cert


def allowed_actions(cert: Certificate) -> list[str]:
    return [code for code, (_l, sources, _t) in CERT_ACTIONS.items() if cert.status in sources]


def transition(
    cert: Certificate,
    action: str,
    *,
    effective_on: date,
    reason: str,
    document_no: str = "",
    replacement: dict[str, Any] | None = None,
    today: date,
    expected_version: int | None = None,
) -> Certificate:
    """Apply one lifecycle action. Refused transitions name both states.

    `replace` needs `replacement` (the new card's fields); the new card is created valid and the
    old one points at it.
    """
    if action not in CERT_ACTIONS:
        raise DomainError(f"未知的操作“{action}”")
    label, sources, target = CERT_ACTIONS[action]
    if expected_version is not None and cert.version != expected_version:
        raise StaleEdit(f"证件“{cert.number}”已被他人修改，请刷新页面后重试")
    if cert.status not in sources:
        raise DomainError(
            f"证件“{cert.number}”当前状态为“{CERT_STATUSES[cert.status]}”，不能{label}"
            f"（“{label}”只适用于{'、'.join('“' + CERT_STATUSES[s] + '”' for s in sources)}状态，"
            f"会变为“{CERT_STATUSES[target]}”）")
    if not isinstance(effective_on, date):
        raise DomainError("请填写生效日期")
    if not (reason or "").strip():
        raise DomainError("请填写原因")
    if effective_on > today:
        raise DomainError(f"生效日期（{cn_date(effective_on)}）不能晚于今天")
    new_cert = None
    if action == "replace":
        if not replacement:
            raise DomainError("换证需要填写新证件的信息")
        new_cert = create_certificate(cert.officer, {**replacement, "kind": cert.kind},
                                      reason=f"换证（原证 {cert.number}）", document_no=document_no,
                                      today=today)
        cert.replaced_by_id = new_cert.id
    old = cert.status
    cert.status = target
    _event(cert, action, old, target, effective_on, reason.strip(), (document_no or "").strip())
    db.session.flush()
    record("status", "certificate", cert.id, f"证件 {cert.number} {label}：{reason.strip()}",
           {"status": [old, target]} | ({"replaced_by": [None, new_cert.number]} if new_cert else {}))
    return cert


def record_override(cert: Certificate, reason: str, *, today: date) -> CertificateEvent:
    """Note in the history that a certificate was issued without a passed qualification exam."""
    ev = _event(cert, "override", cert.status, cert.status, today, reason)
    db.session.flush()
    return ev


def default_expiry(issued_on: date) -> date:
    """issued_on + the configured validity in years, minus one day (the expiry date is inclusive)."""
    years = settings.get("certificate_validity_years")
    try:
        end = issued_on.replace(year=issued_on.year + years)
    except ValueError:  # 29 February
        end = issued_on.replace(year=issued_on.year + years, day=28) + timedelta(days=1)
    return end - timedelta(days=1)
