"""Settings stored in the database (names are a contract: docs/domain.md 命令行约定), with their
defaults and validation.

A setting whose meaning belongs to a feature or a rule is checked and followed by that package:
it adds a save-time check (`add_check`: the robot's address, the card numbering pattern), an
after-change hook (`on_change`: the hours counted per content group) or a section of the
settings page (`show_on_page`: the training-hours rules) when it is imported. These settings
import no feature."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import g, has_app_context
from sqlalchemy import select

from app.audit.services import record
from app.extensions import db
from app.labels import APPLICATION_STEPS, ESTABLISHMENTS, TRAINING_CATEGORIES, lookup
from app.models.settings import Setting


class SettingError(ValueError):
    pass


def _int_list(value: str) -> list[int]:
    try:
        items = [int(x) for x in re.split(r"[,，\s]+", value.strip()) if x]
    except ValueError:
        raise SettingError("应为用逗号分隔的天数，例如 90,60,30,7") from None
    if not items or any(i < 0 or i > 3650 for i in items):
        raise SettingError("天数应在 0 到 3650 之间，至少一个")
    return sorted(set(items), reverse=True)


def _emails(value: str) -> list[str]:
    items = [x.strip() for x in re.split(r"[,，;；\s]+", value.strip()) if x.strip()]
    for item in items:
        if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+|[^@\s]+@localhost", item):
            raise SettingError(f"“{item}”不是有效的电子邮件地址")
    return items


def _positive_number(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise SettingError("应为数字") from None
    if not math.isfinite(number) or number <= 0 or number > 10000:
        raise SettingError("应为大于 0、不超过 10000 的数字")
    return int(number) if number == int(number) else number


def _whole_number(lo: int, hi: int, unit: str = "", noun: str = "整数"):
    """A setting's parser: a whole number from `lo` to `hi` (`unit` named in the first refusal,
    `noun` in the second)."""
    def parse(value: str) -> int:
        try:
            number = int(value.strip())
        except ValueError:
            raise SettingError(f"应为整数（{unit}）" if unit else "应为整数") from None
        if number < lo or number > hi:
            raise SettingError(f"应为 {lo} 到 {hi} 之间的{noun}")
        return number
    return parse


_positive_int = _whole_number(1, 50)
_rows = _whole_number(0, 1_000_000, "行数", "行数")
_minutes = _whole_number(5, 720, "分钟", "分钟数")
_qr_seconds = _whole_number(2, 3600, "秒", "秒数")


def _year_or_empty(value: str) -> int | None:
    text = value.strip().removesuffix("年")
    if not text:
        return None
    try:
        year = int(text)
    except ValueError:
        raise SettingError("应为年份，如 2024；留空则按最早的培训记录") from None
    if year < 1990 or year > 2100:
        raise SettingError("应为 1990 到 2100 之间的年份")
    return year


def _codes(value: str, separators: str, labels: dict[str, str], noun: str) -> list[str]:
    """The codes of a list of labels (or codes) split at `separators`, in order; refused: one `noun`
    that is none of `labels`."""
    codes = []
    for raw in [x for x in re.split(separators, value.strip()) if x]:
        code = lookup(labels, raw)
        if not code:
            raise SettingError(f"未知的{noun}“{raw}”，可选：{'、'.join(labels.values())}")
        codes.append(code)
    return codes


def _establishments(value: str) -> list[str]:
    items = _codes(value, r"[,，\s]+", ESTABLISHMENTS, "编制类型")
    if not items:
        raise SettingError("至少需要一种编制类型")
    return items


def _url(value: str) -> str:
    value = value.strip()
    if value and not re.fullmatch(r"https?://\S+", value):
        raise SettingError("应为以 http:// 或 https:// 开头的网址")
    return value.rstrip("/")


def _text(value: str) -> str:
    value = value.strip()
    if not value:
        raise SettingError("不能为空")
    if len(value) > 100:
        raise SettingError("不能超过100个字")
    return value


def _switch(value: str) -> bool:
    v = value.strip().lower()
    if v in ("1", "true", "yes", "on", "是", "开启", "开"):
        return True
    if v in ("0", "false", "no", "off", "否", "关闭", "关"):
        return False
    raise SettingError("应为 是/否（也可写 1/0、on/off）")


DEFAULT_GROUPS = {
    "general_law": "公共法律知识", "lecture": "公共法律知识", "court_observation": "公共法律知识",
    "political": "公共法律知识", "specialist_law": "专门法律知识", "refresher": "专门法律知识",
    "off_post": "执法技能",
}


def _category_groups(value: str) -> dict[str, str]:
    """培训类别=内容类别 pairs (类别 by label or code); every category must be given a group."""
    out: dict[str, str] = {}
    for item in [x.strip() for x in re.split(r"[,，;；\n]+", value.strip()) if x.strip()]:
        cat, sep, grp = item.replace("＝", "=").partition("=")
        code = lookup(TRAINING_CATEGORIES, cat.strip())
        if not sep or not code:
            raise SettingError(f"“{item}”应写成 培训类别=内容类别，培训类别可选："
                               f"{'、'.join(TRAINING_CATEGORIES.values())}")
        grp = grp.strip()
        if not grp or len(grp) > 50:
            raise SettingError(f"“{item}”的内容类别应为 1 到 50 个字")
        out[code] = grp
    missing = [label for code, label in TRAINING_CATEGORIES.items() if code not in out]
    if missing:
        raise SettingError(f"以下培训类别未指定内容类别：{'、'.join(missing)}")
    return {code: out[code] for code in TRAINING_CATEGORIES}


def _application_steps(value: str) -> list[str]:
    """The steps of an application in order (labels or codes); 制证发证 must be last."""
    items = _codes(value, r"[,，\s→>]+", APPLICATION_STEPS, "审批环节")
    for i, code in enumerate(items):
        if code in items[:i]:
            raise SettingError(f"审批环节“{APPLICATION_STEPS[code]}”重复")
    if not items or items[-1] != "issuing":
        raise SettingError("最后一个环节应为“制证发证”")
    return items


def _number_pattern(value: str) -> str:
    """A numbering pattern for new cards, e.g. {地区码}{年份:2}{序号:06}; empty: typed by hand.
    Its placeholders are checked at save time by app/applications/numbering.py (`add_check`)."""
    return value.strip()


def _region_code(value: str) -> str:
    value = value.strip()
    if value and not re.fullmatch(r"[0-9A-Za-z]{1,12}", value):
        raise SettingError("应为 1 到 12 位数字或字母，如 500103")
    return value


@dataclass(frozen=True)
class SettingSpec:
    label: str
    default: str
    parse: Callable[[str], Any]
    help: str = ""


SPECS: dict[str, SettingSpec] = {
    "org_name": SettingSpec("单位名称", "示例街道办事处", _text),
    "reminder_windows": SettingSpec("提醒窗口（天）", "90,60,30,7", _int_list, "用逗号分隔"),
    "reminder_recipients": SettingSpec("提醒收件人", "", lambda v: _emails(v) if v.strip() else [],
                                       "电子邮件地址，用逗号分隔"),
    "webhook_url": SettingSpec("群机器人 Webhook", "", _url),
    "training_hours_required": SettingSpec("年度培训学时要求", "60", _positive_number),
    "training_records_since": SettingSpec(
        "培训记录起始年度", "", _year_or_empty,
        "早于此年度的学时不考核（不提示学时不足）；留空则为系统中最早一次培训的年度"),
    "training_category_groups": SettingSpec(
        "培训内容类别", ",".join(f"{TRAINING_CATEGORIES[c]}={g}" for c, g in DEFAULT_GROUPS.items()), _category_groups,
        "每个培训类别属于哪个内容类别（年度学时要求可规定每个内容类别的最低学时），"
        "写成 培训类别=内容类别，用逗号分隔"),
    "exam_pass_score": SettingSpec("考试默认合格分数", "60", _positive_number),
    "certificate_validity_years": SettingSpec("证件默认有效期（年）", "5", _positive_int),
    "card_cancel_days": SettingSpec("离岗后注销证件期限（天）", "30", _positive_int,
                                    "人员调出、辞职、辞退、退休或死亡后，须在这么多天内注销其执法证"),
    "eligible_establishments": SettingSpec(
        "可持证编制类型", "civil_servant,public_institution", _establishments
    ),
    "public_base_url": SettingSpec("二维码验证网址前缀", "", _url),
    "application_steps": SettingSpec(
        "证件申请审批环节", "单位初审,法制审核,审批,制证发证", _application_steps,
        "按顺序用逗号分隔，可选：单位初审、法制审核、审批、制证发证（最后一个须为制证发证）"),
    "application_due_days": SettingSpec("每个审批环节办理期限（工作日）", "10", _positive_int,
                                        "环节到达后这么多个工作日内办结（按法定节假日和调休计算）"),
    "certificate_number_pattern": SettingSpec(
        "证号编号规则", "", _number_pattern,
        "制证发证时自动编号，如 {地区码}{年份:2}{序号:06}；留空则制证时手工填写证号"),
    "region_code": SettingSpec("地区码", "", _region_code, "证号编号规则中的 {地区码}，如 500103"),
    "session_idle_minutes": SettingSpec("登录空闲超时（分钟）", "120", _minutes,
                                        "超过这么久没有操作，需重新登录"),
    "id_search_per_hour": SettingSpec("每人每小时按身份证号搜索次数", "30", _positive_int,
                                      "录入员输入完整身份证号搜索的次数上限；查看员不能按身份证号搜索"),
    "job_threshold_rows": SettingSpec("后台生成门槛（行）", "500", _rows,
                                      "导出或导入超过这么多行时转为后台任务，完成后下载"),
    "jobs_per_user": SettingSpec("每人同时生成的文件数", "3", _positive_int,
                                 "超过时提示稍后再试，防止一人占满后台"),
    "card_qr_seconds": SettingSpec("电子执法证二维码刷新间隔（秒）", "60", _qr_seconds,
                                   "电子执法证的二维码每隔这么久更换一次，旧二维码随即失效"),
    "public_list_enabled": SettingSpec("公开执法人员公示名单（/public/officers）", "否", _switch,
                                       "是：任何人无需登录即可查看；否：页面关闭（新安装默认关闭，"
                                       "由管理员决定是否公开）"),
}


# Filled by the packages that give a setting its meaning, when they are imported (see the top).
_CHECKS: dict[str, list[Callable[[Any], str | None]]] = {}
_ON_CHANGE: dict[str, list[Callable[[], None]]] = {}
PAGE_SECTIONS: dict[str, Callable[[], Any]] = {}


def add_check(name: str, check: Callable[[Any], str | None]) -> None:
    """`check(parsed value)` at save time only (it may be dear: resolving a host): the problem
    in words, or None."""
    _CHECKS.setdefault(name, []).append(check)


def on_change(name: str, hook: Callable[[], None]) -> None:
    """`hook()` once the setting has a new value, in the same transaction (before its audit row)."""
    _ON_CHANGE.setdefault(name, []).append(hook)


def show_on_page(name: str, make: Callable[[], Any]) -> None:
    """The settings page shows `make()` as its template's `name` (read when the page is made)."""
    PAGE_SECTIONS[name] = make


def _canonical(name: str, parsed: Any) -> str:
    if parsed is None:
        return ""
    if isinstance(parsed, bool):
        return "是" if parsed else "否"
    if isinstance(parsed, dict):
        return ",".join(f"{TRAINING_CATEGORIES.get(k, k)}={v}" for k, v in parsed.items())
    if isinstance(parsed, list):
        return ",".join(str(x) for x in parsed)
    return str(parsed)


def _stored() -> dict[str, str]:
    """Every stored setting, read once per app context (one query per page, not one per name)."""
    cache = g.get("_settings") if has_app_context() else None
    if cache is None:
        cache = {name: value for name, value in db.session.execute(select(Setting.name, Setting.value))}
        if has_app_context():
            g._settings = cache
    return cache


def forget() -> None:
    """Drop the per-context cache (after a rollback)."""
    if has_app_context():
        g.pop("_settings", None)


def get_raw(name: str) -> str:
    return _stored().get(name, SPECS[name].default)


def get(name: str) -> Any:
    return SPECS[name].parse(get_raw(name))


def set_value(name: str, value: str) -> Any:
    """Validate and store one setting; raise SettingError naming what to fix."""
    if name not in SPECS:
        raise SettingError(f"未知的设置项“{name}”，可选：{', '.join(SPECS)}")
    try:
        parsed = SPECS[name].parse(value)
        for check in _CHECKS.get(name, ()):
            if problem := check(parsed):
                raise SettingError(problem)
    except SettingError as exc:
        raise SettingError(f"{SPECS[name].label}（{name}）：{exc}") from None
    canonical = _canonical(name, parsed)
    row = db.session.scalar(select(Setting).where(Setting.name == name))
    old = row.value if row else SPECS[name].default
    if row is None:
        row = Setting(name=name, value=canonical)
        db.session.add(row)
    else:
        row.value = canonical
    db.session.flush()
    forget()  # re-read after this change
    if old != canonical:
        for hook in _ON_CHANGE.get(name, ()):
            hook()
        record("settings", "setting", row.id, f"修改设置 {SPECS[name].label}", {name: [old, canonical]})
    return parsed
