"""`flask import units FILE`: the unit tree (名称, 上级单位, 单位类型, 排序号) as an importer of the
framework in app.importing.base. A unit is identified by its name; its parent is named and must be
a unit already registered or one in the same file."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.importing.base import Importer, ImportResult, Sheet, register
from app.importing.readers import Column
from app.labels import UNIT_KINDS
from app.models.officers import Unit
from app.officers.services import save_unit
from app.rules.fields import normalize

UNIT_COLUMNS = [
    Column("name", "单位名称", "name", required=True, max_length=100, example="城市管理科"),
    Column("parent", "上级单位", "parent", max_length=100, example="海棠溪街道办事处",
           hint="已登记的单位或本文件中的单位；留空为顶级单位"),
    Column("kind", "单位类型", "kind", kind="enum", mapping=UNIT_KINDS, example="科室"),
    Column("sort_order", "排序号", "sort_order", example=10, hint="整数，小的排在前面"),
    Column("enforcement_fields", "执法类别", "enforcement_fields", max_length=200, example="城市管理、市场监管",
           hint="本单位执法工作涉及的类别，用顿号分隔，与执法证上的“执法类别”写法一致；不填此列则不修改"),
]


def _sort_order(value: Any) -> int:
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"排序号“{text}”不是整数") from None
    if not number.is_integer() or not -9999 <= number <= 9999:
        raise ValueError("排序号应为 -9999 到 9999 之间的整数")
    return int(number)


@register
class UnitImporter(Importer):
    kind, entity, noun = "units", "unit", "单位"
    help = "导入单位（按单位名称新增或更新；上级单位须已登记或在同一文件中）"
    columns = UNIT_COLUMNS
    defaults = {"kind": "按名称推断（…社区为社区，含“队”为执法队，其余为科室）", "sort_order": "0"}

    def validate(self, sheet: Sheet, *, today: date):
        stored = {u.name: u for u in db_units()}
        plan: dict[str, dict[str, Any]] = {}
        for row in sheet.rows:
            name = (row.get("name") or "").strip()
            if not name:
                row.error("name", "单位名称不能为空")
                continue
            if name in plan:
                row.error("name", f"单位“{name}”与第 {plan[name]['row'].number} 行重复")
                continue
            current = stored.get(name)
            data = {"row": row, "name": name,
                    "parent": (row.get("parent") or "").strip() if row.has("parent") else (
                        current.parent.name if current is not None and current.parent else ""),
                    "kind": row.get("kind") or (current.kind if current is not None else None),
                    "sort_order": current.sort_order if current is not None else 0,
                    "enforcement_fields": normalize(row.get("enforcement_fields") or "")
                    if row.has("enforcement_fields") and not row.is_bad("enforcement_fields") else (
                        current.enforcement_fields if current is not None else "")}
            if data["kind"] is None:
                data["kind"] = ("community" if name.endswith("社区") else
                                "team" if "队" in name else "department")
            if row.get("sort_order") is not None:
                try:
                    data["sort_order"] = _sort_order(row.get("sort_order"))
                except ValueError as exc:
                    row.error("sort_order", str(exc))
            plan[name] = data
        for name, data in plan.items():
            parent = data["parent"]
            if not parent:
                continue
            if parent == name:
                data["row"].error("parent", "上级单位不能是自己")
            elif parent not in plan and parent not in stored:
                data["row"].error("parent", f"上级单位“{parent}”未登记，也不在本文件中")
        # a cycle (A under B, B under A) has no top
        parents = {n: u.parent.name if u.parent else "" for n, u in stored.items()}
        parents |= {n: d["parent"] for n, d in plan.items()}
        for name, data in plan.items():
            seen, at = {name}, parents.get(name)
            while at:
                if at in seen:
                    data["row"].error("parent", f"上级单位“{data['parent']}”会形成循环（{name} 是它的上级）")
                    break
                seen.add(at)
                at = parents.get(at)
        changes = []
        for name, data in plan.items():
            current = stored.get(name)
            changed = current is None or (
                (current.parent.name if current.parent else ""), current.kind, current.sort_order,
                current.enforcement_fields) != (data["parent"], data["kind"], data["sort_order"],
                                                data["enforcement_fields"])
            changes.append((data, current, changed))
        return changes

    def export_rows(self):
        units = db_units()
        names = {u.id: u.name for u in units}
        for u in sorted(units, key=lambda u: (u.sort_order, u.id)):
            yield {"name": u.name, "parent": names.get(u.parent_id), "kind": UNIT_KINDS.get(u.kind),
                   "sort_order": u.sort_order, "enforcement_fields": u.enforcement_fields or None}

    def result(self, plan) -> ImportResult:
        created = sum(1 for _d, cur, _c in plan if cur is None)
        updated = sum(1 for _d, cur, c in plan if cur is not None and c)
        return ImportResult(self.noun, total=len(plan), created=created, updated=updated,
                            unchanged=len(plan) - created - updated)

    def apply(self, plan, *, today: date, result: ImportResult) -> None:
        units = {u.name: u for u in db_units()}
        todo = [(d, cur) for d, cur, changed in plan if changed]
        done: set[str] = set()
        in_file = {d["name"] for d, _cur in todo}
        while todo:  # parents first (validate ruled out cycles)
            ready = [(d, cur) for d, cur in todo
                     if not d["parent"] or d["parent"] not in in_file or d["parent"] in done]
            for d, cur in ready:
                parent = units[d["parent"]] if d["parent"] else None
                units[d["name"]] = save_unit(cur, name=d["name"], kind=d["kind"],
                                             parent_id=parent.id if parent else None,
                                             sort_order=d["sort_order"],
                                             enforcement_fields=d["enforcement_fields"])
                done.add(d["name"])
            todo = [t for t in todo if t[0]["name"] not in done]


def db_units() -> list[Unit]:
    return list(db.session.scalars(select(Unit)))
