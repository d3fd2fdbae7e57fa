"""Officer and unit rules: validation, create/update with audit, optimistic locking."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import func, select

from app import clock, idnumber, scope
from app.audit.services import changes_of, new_or_snapshot, record, record_saved, snapshot
from app.errors import DomainError, StaleEdit
from app.extensions import db
from app.labels import EDUCATIONS, EMPLOYMENT_STATUSES, ESTABLISHMENTS, RETIREMENT_BASES, UNIT_KINDS
from app.models.officers import Officer, OfficerUnitHistory, Unit
from app.models_base import utcnow
from app.officers.tree import check_parent
from app.rules import fields
from app.rules.transfers import record_moves
from app.settings.services import SettingError, _emails

OFFICER_FIELDS = [
    "name", "id_number", "gender", "birth_date", "employee_no", "unit_id", "position",
    "establishment", "education", "on_enforcement_post", "employment_status", "status_changed_on",
    "post_since", "retirement_basis", "phone", "notes",
]
UNIT_FIELDS = ["name", "parent_id", "kind", "sort_order", "reminder_recipients", "enforcement_fields"]



def get_or_create_unit(name: str, *, kind: str | None = None) -> Unit:
    """The unit of this name, created when there is none — for a user limited to a branch of the
    tree, under the top of that branch (a unit outside it is refused)."""
    name = name.strip()
    unit = db.session.scalar(select(Unit).where(Unit.name == name))
    if unit is None:
        top = scope.scope_unit_id()
        if top is not None and db.session.scalar(
                select(Unit.id).where(Unit.name == name).execution_options(scope_all=True)):
            raise DomainError(f"单位“{name}”不在您的管辖范围内")
        if kind is None:
            kind = "community" if name.endswith("社区") else ("team" if "队" in name else "department")
        unit = Unit(name=name, kind=kind, sort_order=0, parent_id=top)
        db.session.add(unit)
        db.session.flush()
        record("create", "unit", unit.id, f"新增单位 {name}", {"name": [None, name]})
    return unit


def reminder_recipients_text(value: str) -> str:
    """E-mail addresses as typed (commas, semicolons or spaces between) → "a@x.cn, b@x.cn"; a
    DomainError naming the bad address."""
    try:
        return ", ".join(_emails(value or "")) if (value or "").strip() else ""
    except SettingError as exc:
        raise DomainError(f"提醒接收人：{exc}", fields={"reminder_recipients": str(exc)}) from None


def save_unit(unit: Unit | None, *, name: str, kind: str, parent_id: int | None, sort_order: int,
              reminder_recipients: str | None = None, enforcement_fields: str | None = None) -> Unit:
    """Create or edit a unit; `reminder_recipients`, `enforcement_fields` None: left as they are."""
    name = (name or "").strip()
    if not name:
        raise DomainError("单位名称不能为空", fields={"name": "单位名称不能为空"})
    if kind not in UNIT_KINDS:
        raise DomainError(f"未知的单位类型“{kind}”", fields={"kind": f"未知的单位类型“{kind}”"})
    clash = db.session.scalar(select(Unit).where(Unit.name == name, Unit.id != (unit.id if unit else -1))
                              .execution_options(scope_all=True))  # names are unique in the whole tree
    if clash:
        raise DomainError(f"单位“{name}”已存在", fields={"name": f"单位“{name}”已存在"})

    check_parent(unit, parent_id)  # no cycle; inside the user's branch
    creating = unit is None
    unit, before = new_or_snapshot(unit, Unit, UNIT_FIELDS)
    unit.name, unit.kind, unit.parent_id, unit.sort_order = name, kind, parent_id, sort_order
    if reminder_recipients is not None:
        unit.reminder_recipients = reminder_recipients_text(reminder_recipients)
    elif creating:
        unit.reminder_recipients = ""
    if enforcement_fields is not None:
        text = fields.normalize(enforcement_fields)
        if len(text) > 200:
            raise DomainError("执法类别不能超过200个字", fields={"enforcement_fields": "执法类别不能超过200个字"})
        unit.enforcement_fields = text
    elif creating:
        unit.enforcement_fields = ""
    db.session.flush()
    record_saved("unit", unit, before, UNIT_FIELDS, f"单位 {name}", creating)
    return unit


def delete_unit(unit: Unit) -> None:
    n = db.session.scalar(select(func.count()).select_from(Officer).where(Officer.unit_id == unit.id))
    if n:
        raise DomainError(f"单位“{unit.name}”下还有 {n} 名人员，不能删除；请先把人员调到其他单位")
    children = db.session.scalar(select(func.count()).select_from(Unit).where(Unit.parent_id == unit.id))
    if children:
        raise DomainError(f"单位“{unit.name}”下还有 {children} 个下级单位，不能删除")
    past = db.session.scalar(select(func.count(func.distinct(OfficerUnitHistory.officer_id)))
                             .where(OfficerUnitHistory.unit_id == unit.id).execution_options(scope_all=True))
    if past:
        raise DomainError(f"单位“{unit.name}”是 {past} 名人员的调动履历中的单位，"
                          "不能删除（过去的案件和统计按当时的单位计）")
    record("delete", "unit", unit.id, f"删除单位 {unit.name}", {"name": [unit.name, None]})
    db.session.delete(unit)
    db.session.flush()


def validate_officer_data(data: dict[str, Any], *, today: date) -> dict[str, str]:
    """Check one officer's fields; return {field: message} for every problem."""
    errors: dict[str, str] = {}
    if not (data.get("name") or "").strip():
        errors["name"] = "姓名不能为空"
    elif len(data["name"].strip()) > 50:
        errors["name"] = "姓名不能超过50个字"
    try:
        data["id_number"] = idnumber.validate(data.get("id_number") or "", today=today)
    except idnumber.IdNumberError as exc:
        errors["id_number"] = str(exc)
    for key, mapping, label in (
        ("establishment", ESTABLISHMENTS, "编制类型"),
        ("employment_status", EMPLOYMENT_STATUSES, "在职状态"),
    ):
        if data.get(key) not in mapping:
            errors[key] = f"未知的{label}“{data.get(key)}”，可选：{'、'.join(mapping.values())}"
    if data.get("education") and data["education"] not in EDUCATIONS:
        errors["education"] = f"未知的学历“{data['education']}”，可选：{'、'.join(EDUCATIONS.values())}"
    since = data.get("post_since")
    if since is not None and not isinstance(since, date):
        errors["post_since"] = "任执法岗位日期应为日期，如 2024年3月1日"
    elif since is not None and since > today:
        errors["post_since"] = f"任执法岗位日期 {since.year}年{since.month}月{since.day}日 晚于今天"
    elif since is not None and since.year < 1950:
        errors["post_since"] = f"任执法岗位日期 {since.year}年{since.month}月{since.day}日 不合理"
    basis = data.get("retirement_basis")
    if basis not in (None, "") and str(basis) not in RETIREMENT_BASES:
        errors["retirement_basis"] = (f"原法定退休年龄只能是{'或'.join(RETIREMENT_BASES.values())}"
                                      f"（不是“{basis}”）")
    phone = (data.get("phone") or "").strip()
    if phone and (len(phone) > 30 or not all(c.isdigit() or c in "-+ ()" for c in phone)):
        errors["phone"] = f"联系电话“{phone}”格式不正确"
    return errors


def basis_value(value: Any) -> int | None:
    """The stored 原法定退休年龄: 50, 55 or None (not given: 55 for a woman). Validated before."""
    return int(value) if value not in (None, "") else None


def officer_values(data: dict[str, Any], *, today: date, current_status: str | None) -> dict[str, Any]:
    """The columns an officer's validated `data` sets (all but the unit), as save_officer and the
    officer import's bulk update both write them. `current_status`: the stored 在职状态 (None for a
    new officer); a change dates status_changed_on today unless `data` gives the date."""
    number = data["id_number"]
    values = {
        "name": data["name"].strip(), "id_number": number, "gender": idnumber.gender(number),
        "birth_date": idnumber.birth_date(number),
        "employee_no": (data.get("employee_no") or "").strip() or None,
        "position": (data.get("position") or "").strip(), "establishment": data["establishment"],
        "education": data.get("education") or None, "on_enforcement_post": bool(data["on_enforcement_post"]),
        "employment_status": data["employment_status"], "phone": (data.get("phone") or "").strip(),
        "post_since": data.get("post_since") or None,
        "retirement_basis": basis_value(data.get("retirement_basis")),
    }
    if current_status is not None and current_status != data["employment_status"]:
        values["status_changed_on"] = data.get("status_changed_on") or today
    elif data.get("status_changed_on"):
        values["status_changed_on"] = data["status_changed_on"]
    if "notes" in data:
        values["notes"] = data.get("notes") or ""
    return values


def _refuse_taken(officer: Officer | None, field: str, value: str, seen: Callable[[str], str],
                  unseen: str) -> None:
    """Refuse `value` of the unique `field` held by another officer (looked up everywhere): the
    message names the holder (`seen`) only when the user sees their unit."""
    clash = db.session.scalar(select(Officer).where(getattr(Officer, field) == value,
                                                    Officer.id != (officer.id if officer else -1))
                              .execution_options(scope_all=True))
    if clash:
        message = seen(clash.name) if scope.covers(clash.unit_id) else unseen
        raise DomainError(message, fields={field: message})


def save_officer(
    officer: Officer | None,
    data: dict[str, Any],
    *,
    today: date,
    expected_version: int | None = None,
) -> Officer:
    """Create or update an officer. Refuses a stale edit (someone saved in between)."""
    data = dict(data)
    data.setdefault("establishment", "civil_servant")
    data.setdefault("employment_status", "active")
    data.setdefault("on_enforcement_post", True)
    errors = validate_officer_data(data, today=today)
    if errors:
        raise DomainError("；".join(errors.values()), fields=errors)
    if officer is not None and expected_version is not None and officer.version != expected_version:
        raise StaleEdit(f"“{officer.name}”的信息已被他人修改（版本 {expected_version} → {officer.version}），"
                        "请刷新页面查看最新内容后重新编辑")

    number = data["id_number"]
    # unique in the whole organisation: looked up everywhere, named only when the user sees them
    _refuse_taken(officer, "id_number", number, lambda name: f"身份证号 {idnumber.mask(number)} 已登记给“{name}”",
                  f"身份证号 {idnumber.mask(number)} 已登记在您管辖范围以外的单位")
    emp_no = (data.get("employee_no") or "").strip() or None
    if emp_no:
        _refuse_taken(officer, "employee_no", emp_no, lambda name: f"工号“{emp_no}”已被“{name}”使用",
                      f"工号“{emp_no}”已被您管辖范围以外的人员使用")
    creating = officer is None
    officer, before = new_or_snapshot(officer, Officer, OFFICER_FIELDS)
    unit = data.get("unit")
    if isinstance(unit, str):
        unit = get_or_create_unit(unit)
    unit_id = unit.id if unit is not None else int(data["unit_id"]) if data.get("unit_id") else officer.unit_id
    if not unit_id:
        raise DomainError("请选择单位", fields={"unit_id": "请选择单位"})
    if not creating and before["unit_id"] != unit_id:
        # recorded as a transfer dated today, before the officer moves (the cases' units read it)
        record_moves({officer.id: (before["unit_id"], unit_id)}, on=today, reason="修改人员信息时更改单位")
    officer.unit_id = unit_id
    for name, value in officer_values(data, today=today,
                                      current_status=None if creating else officer.employment_status).items():
        setattr(officer, name, value)
    db.session.flush()
    record_saved("officer", officer, before, OFFICER_FIELDS, f"执法人员 {officer.name}", creating,
                 even_unchanged=creating)
    return officer


def set_photo(officer: Officer, data: bytes | None, mime: str | None) -> None:
    """Store or remove the photo printed on certificates (validated by the form)."""
    old = f"{officer.photo_mime}" if officer.photo_mime else None
    officer.photo, officer.photo_mime = data, mime  # the officer_photo row (models.Officer.photo)
    # a change of the officer as before the photo had its own table: a new version (an edit form
    # opened earlier is stale) and modification time
    officer.updated_at = utcnow()
    db.session.flush()
    record("update", "officer", officer.id, f"{'更新' if data else '删除'}照片：{officer.name}",
           {"photo": [old, f"{mime}, {len(data)} bytes" if data else None]})


# ---------------------------------------------------------------- bulk changes from the officer list


def bulk_set_unit(officers: list[Officer], unit: Unit) -> int:
    """Move officers to `unit`; one audit row per officer moved. Returns how many moved."""
    moved = 0
    # recorded as transfers dated today, before the officers move (the cases' units read them)
    record_moves({o.id: (o.unit_id, unit.id) for o in officers}, on=clock.today(), reason="批量调整单位")
    for officer in officers:
        if officer.unit_id == unit.id:
            continue
        before = snapshot(officer, ["unit_id"])
        officer.unit_id = unit.id
        record("update", "officer", officer.id, f"批量调整单位：{officer.name} 调入 {unit.name}",
               changes_of(officer, before, ["unit_id"]))
        moved += 1
    db.session.flush()
    return moved


def bulk_set_post(officers: list[Officer], on_post: bool) -> int:
    """Set officers on (or off) an enforcement post; one audit row per officer changed."""
    changed = 0
    label = "执法岗位" if on_post else "非执法岗位"
    for officer in officers:
        if officer.on_enforcement_post is on_post:
            continue
        before = snapshot(officer, ["on_enforcement_post"])
        officer.on_enforcement_post = on_post
        record("update", "officer", officer.id, f"批量设置岗位：{officer.name} 设为{label}",
               changes_of(officer, before, ["on_enforcement_post"]))
        changed += 1
    db.session.flush()
    return changed
