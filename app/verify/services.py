"""What the public verification page says about a token (docs/domain.md 打印文件与公开页面)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from app import labels as L
from app.documents.services import certificate_number
from app.extensions import db
from app.formatting import cn_date, cn_datetime
from app.idnumber import mask
from app.models.certificates import Certificate
from app.models.exams import ExamResult
from app.models.officers import Officer
from app.models.training import Attendance
from app.rules import timeline


def _enforcement(officer_id: int, today: date) -> dict[str, Any]:
    """The officer's effective enforcement certificate today, else the latest one and its state."""
    eff = timeline.best_effective(today)
    cert = db.session.scalar(select(Certificate).join(eff, eff.c.cert_id == Certificate.id)
                             .where(eff.c.officer_id == officer_id))
    if cert is not None:
        return {"effective": True, "number": cert.number, "issued_on": cn_date(cert.issued_on),
                "expires_on": cn_date(cert.expires_on), "state": "有效",
                "issuing_authority": cert.issuing_authority}
    latest = db.session.scalar(
        select(Certificate).where(Certificate.officer_id == officer_id, Certificate.kind == "enforcement")
        .order_by(Certificate.issued_on.desc(), Certificate.id.desc()).limit(1))
    if latest is None:
        return {"effective": False, "number": "", "state": "无行政执法证"}
    if latest.status == "valid" and latest.expires_on < today:
        state = "已过期"
    elif latest.status == "valid" and latest.issued_on > today:
        state = "尚未生效"
    else:
        state = L.CERT_STATUSES.get(latest.status, latest.status)
    return {"effective": False, "number": latest.number, "issued_on": cn_date(latest.issued_on),
            "expires_on": cn_date(latest.expires_on), "state": state,
            "issuing_authority": latest.issuing_authority}


def verify(kind: str, row_id: int, today: date) -> dict[str, Any] | None:
    """None when the row behind a genuine token no longer exists."""
    if kind == "training":
        att = db.session.get(Attendance, row_id)
        if att is None:
            return None
        s, officer = att.session, att.officer
        document = {
            "title": "培训合格证书", "event": s.title, "held_on": cn_date(s.held_on),
            "detail": f"{L.TRAINING_CATEGORIES.get(s.category, s.category)}，"
                      f"{att.credited_hours:g}学时",
            "number": certificate_number(kind, att.id, s.held_on.year),
            "valid": att.status == "attended",
        }
    else:
        res = db.session.get(ExamResult, row_id)
        if res is None:
            return None
        e, officer = res.exam, res.officer
        document = {
            "title": "考试合格证明", "event": e.title, "held_on": cn_date(e.held_on),
            "detail": f"{L.EXAM_KINDS.get(e.kind, e.kind)}，成绩{res.score:g}分" if res.score is not None
                      else L.EXAM_KINDS.get(e.kind, e.kind),
            "number": certificate_number(kind, res.id, e.held_on.year),
            "valid": res.passed and res.document_withdrawn_at is None,
            "withdrawn": ({"on": cn_datetime(res.document_withdrawn_at),
                           "reason": res.document_withdrawn_reason or ""}
                          if res.document_withdrawn_at is not None else None),
        }
    officer = db.session.get(Officer, officer.id)
    return {
        "document": document,
        "officer": {"name": officer.name, "unit": officer.unit.name, "id_masked": mask(officer.id_number),
                    "active": officer.employment_status == "active",
                    "status": L.EMPLOYMENT_STATUSES.get(officer.employment_status, "")},
        "certificate": _enforcement(officer.id, today),
        "today": cn_date(today),
    }
