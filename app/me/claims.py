"""Training claims (外单位培训学时申报) and change requests (phone, photo): filed by the officer,
decided by their unit's admin or clerk. Services: flush, never commit; raise DomainError; audited.

An approved claim counts like an attended session held on its date (app/rules/hours.py adds
approved claims to the rows it sums); a claim for a year whose records are closed is refused.
"""

from __future__ import annotations

import re
from datetime import date

from app import labels as L
from app.audit.services import current_actor, record
from app.errors import DomainError
from app.extensions import db
from app.forms import DATE_HINT, parse_date
from app.models.me import ChangeRequest, TrainingClaim
from app.models.officers import Officer
from app.models_base import utcnow
from app.officers.attachments import MAX_SIZE, sniff
from app.officers.services import set_photo
from app.rules.training import closed_message, closed_since


def _closed(day: date) -> None:
    closed = closed_since(day.year)
    if closed is not None:
        msg = closed_message(day.year, closed).split("；")[0]
        raise DomainError(f"{msg}，不能再申报该年度的学时", fields={"date": f"{day.year}年度培训记录已截止"})


def file_claim(officer: Officer, data: dict, proof_name: str, proof: bytes, today: date) -> TrainingClaim:
    errors: dict[str, str] = {}
    title = (data.get("title") or "").strip()
    organiser = (data.get("organiser") or "").strip()
    if not title:
        errors["title"] = "请填写培训名称"
    elif len(title) > 200:
        errors["title"] = "培训名称不能超过200个字"
    if len(organiser) > 100:
        errors["organiser"] = "主办单位不能超过100个字"
    held_on = None
    try:  # the same spellings as every other date box (2026-03-01, 2026/3/1, 2026年3月1日)
        held_on = parse_date(str(data.get("date") or "")[:30])
    except ValueError as exc:
        errors["date"] = f"培训日期：{exc}"
    if held_on is None and "date" not in errors:
        errors["date"] = f"请填写培训日期，{DATE_HINT}"
    if held_on is not None and held_on > today:
        errors["date"] = "培训日期不能晚于今天"
    try:
        hours = float((data.get("hours") or "").strip())
        if not 0 < hours <= 200:
            raise ValueError
    except ValueError:
        errors["hours"] = "学时应为 0 到 200 之间的数"
        hours = 0.0
    category = data.get("category") or ""
    if category not in L.TRAINING_CATEGORIES:
        errors["category"] = "请选择培训类别"
    mime = ""
    if not proof:
        errors["proof"] = "请上传培训证明（照片或 PDF）"
    elif len(proof) > MAX_SIZE:
        errors["proof"] = "文件太大，不能超过 5 MB"
    else:
        found = sniff(proof)
        if found is None:
            errors["proof"] = "只能上传 PDF、JPG 或 PNG 文件（按文件内容判断，不看扩展名）"
        else:
            mime = found[0]
    if errors:
        raise DomainError(next(iter(errors.values())), fields=errors)
    _closed(held_on)
    name = re.sub(r"[\x00-\x1f/\\:*?\"<>|]+", "_", proof_name or "").strip()[:150] or "证明"
    claim = TrainingClaim(officer_id=officer.id, title=title, organiser=organiser, held_on=held_on, hours=hours,
                          category=category, online=str(data.get("online") or "") in ("1", "on", "true", "y"),
                          proof_name=name, proof_mime=mime, proof=proof, status="pending")
    db.session.add(claim)
    db.session.flush()
    record("create", "officer", officer.id, f"学时申报：{officer.name}《{title}》{hours:g}学时",
           {"claim": [None, f"{held_on.isoformat()} {hours:g}"]})
    return claim


def _checked_reason(item: TrainingClaim | ChangeRequest, approve: bool, reason: str, noun: str,
                    fields: dict[str, str] | None = None) -> str:
    """The reason of a decision, stripped; refused: one decided already, a return without a reason."""
    if item.status != "pending":
        raise DomainError(f"该{noun}已处理")
    reason = (reason or "").strip()
    if not approve and not reason:
        raise DomainError("退回时请填写理由", fields=fields)
    return reason


def _mark_decided(item: TrainingClaim | ChangeRequest, approve: bool, reason: str) -> None:
    item.status = "approved" if approve else "returned"
    item.reason = reason[:500]
    item.decided_by = current_actor()[0]
    item.decided_at = utcnow()


def decide_claim(claim: TrainingClaim, approve: bool, reason: str = "") -> None:
    reason = _checked_reason(claim, approve, reason, "申报", {"reason": "请填写退回理由"})
    if approve:
        _closed(claim.held_on)
    _mark_decided(claim, approve, reason)
    db.session.flush()  # the hours flush hook counts an approved claim in its year
    record("update", "officer", claim.officer_id,
           f"{'通过' if approve else '退回'}学时申报：{claim.officer.name}《{claim.title}》{claim.hours:g}学时"
           + (f"（{reason}）" if reason else ""), {"claim": ["待审核", L.CLAIM_STATUSES[claim.status]]})


PHONE = re.compile(r"^[0-9+\- ]{5,30}$")


def request_change(officer: Officer, field: str, value: str = "", data: bytes | None = None,
                   mime: str = "") -> ChangeRequest:
    if field == "phone":
        value = (value or "").strip()
        if not PHONE.match(value):
            raise DomainError("请填写正确的联系电话", fields={"phone": "请填写正确的联系电话"})
    elif field != "photo" or not data:
        raise DomainError("请选择照片", fields={"photo": "请选择照片"})
    req = ChangeRequest(officer_id=officer.id, field=field, value=value, data=data, mime=mime, status="pending")
    db.session.add(req)
    db.session.flush()
    record("create", "officer", officer.id, f"申请修改{L.CHANGE_FIELDS[field]}：{officer.name}")
    return req


def decide_change(req: ChangeRequest, approve: bool, reason: str = "") -> None:
    reason = _checked_reason(req, approve, reason, "申请")
    officer = req.officer
    if approve and req.field == "phone":
        old = officer.phone
        officer.phone = req.value
        record("update", "officer", officer.id, f"修改联系电话（本人申请）：{officer.name}",
               {"phone": [old, req.value]})
    elif approve:
        set_photo(officer, req.data, req.mime)
    _mark_decided(req, approve, reason)
    db.session.flush()
    record("update", "officer", officer.id,
           f"{'通过' if approve else '退回'}{L.CHANGE_FIELDS[req.field]}修改申请：{officer.name}"
           + (f"（{reason}）" if reason else ""))
