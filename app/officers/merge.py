"""Removing an officer entered by mistake: delete (when nothing refers to the record) or merge two
records of the same person into one.

Which rows refer to an officer is read from the schema (every foreign key to officer.id in
db.metadata), so a table added later is counted, moved and refused like the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import (
    Column,
    Table,
    UniqueConstraint,
    and_,
    delete,
    func,
    literal,
    select,
    union_all,
    update,
)

from app.audit.services import changes_of, record
from app.errors import DomainError
from app.extensions import db
from app.models.certificates import Certificate
from app.models.officers import Officer
from app.rules.hours import refresh_hours
from app.rules.verdicts import refresh_verdicts

# What a person calls the rows of each table that refers to an officer.
NOUNS = {
    "certificate": ("证件", "张"),
    "officer_photo": ("照片", "张"),
    "officer_attachment": ("附件", "份"),
    "attendance": ("培训出勤记录", "条"),
    "training_hours": ("年度学时汇总", "条"),
    "training_group_hours": ("内容类别学时汇总", "条"),
    "exam_sitting": ("在线考试记录", "条"),
    "exam_result": ("考试成绩", "条"),
    "card_cancel_task": ("离岗待注销证件", "个"),
    "officer_unit_history": ("单位变动记录", "条"),
    "training_claim": ("学时申报", "条"),
    "officer_change_request": ("信息修改申请", "条"),
    "application": ("证件申请", "件"),
    "officer_invite": ("本人账号邀请码", "个"),
    "user_account": ("本人登录账号（停用，须重新邀请）", "个"),
}
# Recomputed from other rows (training_hours from attendance): never a reason to refuse, never
# moved; dropped and rebuilt.
# The unit history goes with its record (a record entered by mistake has no history worth keeping;
# a merge keeps the kept record's).
# An invitation code names the record merged away: it goes too.
DERIVED = {"training_hours", "training_group_hours", "officer_unit_history", "officer_invite"}
# The merged-away record's own login (app/me) is ended, not moved or deleted (its sessions, tokens
# and decisions refer to it): the person is invited again on the kept record.
ENDED = {"user_account"}
# One row per officer: the kept record's wins (its photo stays; the other one's is dropped).
SINGLE = {"officer_photo"}
# A conflict named by what the other column points at (both records on the same exam…).
CONFLICT_TITLES = {"attendance": ("session_id", "training_session", "title", "培训"),
                   "exam_result": ("exam_id", "exam", "title", "考试"),
                   "exam_sitting": ("exam_id", "exam", "title", "在线考试")}

FIELDS = ["name", "id_number", "gender", "birth_date", "employee_no", "unit_id", "position", "establishment",
          "education", "on_enforcement_post", "employment_status", "phone", "notes"]


def references() -> list[tuple[Table, Column]]:
    """(table, column) of every foreign key to officer.id."""
    return [(t, fk.parent) for t in db.metadata.sorted_tables for fk in t.foreign_keys
            if fk.column.table.name == "officer"]


def noun(table: str) -> tuple[str, str]:
    return NOUNS.get(table, (table, "条"))


def counts(officer_id: int) -> dict[str, int]:
    """{table: rows referring to the officer}, in one statement."""
    parts = [select(literal(t.name).label("t"), func.count().label("n")).select_from(t).where(c == officer_id)
             for t, c in references()]
    return {t: n for t, n in db.session.execute(union_all(*parts)) if n}


def describe(found: dict[str, int]) -> str:
    order = list(NOUNS)
    tables = sorted(found, key=lambda t: (order.index(t) if t in order else len(order), t))
    return "、".join(f"{noun(t)[0]} {found[t]} {noun(t)[1]}" for t in tables)


def delete_blockers(officer_id: int, found: dict[str, int] | None = None) -> dict[str, int]:
    """What stops the record from being deleted: every referring row but the derived ones and
    the photo (which goes with the record)."""
    found = counts(officer_id) if found is None else found
    return {t: n for t, n in found.items() if t not in DERIVED and t not in SINGLE and t not in ENDED}


def delete_officer(officer: Officer) -> None:
    """Delete a record that nothing refers to; refuse, naming what refers to it, otherwise."""
    blockers = delete_blockers(officer.id)
    if blockers:
        raise DomainError(f"不能删除“{officer.name}”：还有{describe(blockers)}。"
                          "如是同一人重复录入，请使用“合并重复记录”")

    changes = changes_of(officer, {}, FIELDS)
    for t, c in references():
        if t.name in DERIVED:
            db.session.execute(delete(t).where(c == officer.id))
        elif t.name in ENDED:
            db.session.execute(update(t).where(c == officer.id).values({c.name: None, "active": False}))
    oid, name = officer.id, officer.name
    db.session.delete(officer)
    db.session.flush()
    record("delete", "officer", oid, f"删除执法人员 {name}（录入有误）",
           {f: [value, None] for f, (_none, value) in changes.items()})


@dataclass
class MergePlan:
    keep: Officer
    drop: Officer
    moves: dict[str, int] = field(default_factory=dict)      # table -> rows that will move
    dropped: dict[str, int] = field(default_factory=dict)    # table -> rows of `drop` removed
    conflicts: list[str] = field(default_factory=list)       # why the merge is refused

    @property
    def ok(self) -> bool:
        return not self.conflicts


def _unique_others(table: Table, column: Column) -> list[list[Column]]:
    """For each unique constraint (or primary key) of `table` that includes `column`: its other
    columns (an empty list: one row per officer)."""
    out = []
    for cons in [table.primary_key, *[c for c in table.constraints if isinstance(c, UniqueConstraint)]]:
        cols = list(cons.columns)
        if column in cols:
            out.append([c for c in cols if c is not column])
    return out


def plan_merge(keep: Officer, drop: Officer) -> MergePlan:
    if keep.id == drop.id:
        raise DomainError("请选择另一条记录：不能与自身合并")
    plan = MergePlan(keep, drop)
    found = counts(drop.id)
    for table, column in references():
        n = found.get(table.name, 0)
        if not n:
            continue
        if table.name in DERIVED or table.name in ENDED:
            plan.dropped[table.name] = n
            continue
        for others in _unique_others(table, column):
            if not others:  # one row per officer
                if db.session.scalar(select(func.count()).select_from(table).where(column == keep.id)):
                    plan.dropped[table.name] = n
                break
            mine = select(*others).where(column == drop.id)
            theirs = select(*[o.label(o.name) for o in others]).where(column == keep.id).subquery()
            clash = mine.where(and_(*[o == theirs.c[o.name] for o in others]))
            rows = db.session.execute(clash).all()
            if rows:
                plan.conflicts.append(_conflict_text(table.name, rows))
        if table.name not in plan.dropped:
            plan.moves[table.name] = n
    return plan


def _conflict_text(table: str, rows) -> str:
    spec = CONFLICT_TITLES.get(table)
    if spec is not None and len(rows[0]) == 1:
        fk, target, title, what = spec
        t = db.metadata.tables[target]
        titles = list(db.session.scalars(select(t.c[title]).where(t.c.id.in_([r[0] for r in rows]))))
        return (f"两条记录都有{what}“{'、'.join(titles)}”的{noun(table)[0]}，"
                f"请先在该{what}页删除其中一条（保留正确的一条）再合并")
    return f"两条记录有 {len(rows)} 条{noun(table)[0]}重复，请先删除重复的一条再合并"


def merge_officers(keep: Officer, drop: Officer) -> MergePlan:
    """Move every row that refers to `drop` to `keep`, then delete `drop`. Refused (DomainError,
    nothing written) when the two records clash (both on the same exam, the same session…)."""
    plan = plan_merge(keep, drop)
    if not plan.ok:
        raise DomainError("不能合并：" + "；".join(plan.conflicts))

    numbers = set(db.session.scalars(select(Certificate.number).where(Certificate.officer_id == drop.id)))
    moved: dict[str, list] = {}
    for table, column in references():
        if table.name in ENDED:
            db.session.execute(update(table).where(column == drop.id).values({column.name: None, "active": False}))
        elif table.name in plan.dropped:
            db.session.execute(delete(table).where(column == drop.id))
        elif table.name in plan.moves:
            key = list(table.primary_key.columns)[0]
            moved[noun(table.name)[0]] = list(db.session.scalars(select(key).where(column == drop.id)))
            db.session.execute(update(table).where(column == drop.id).values({column.name: keep.id}))
    drop_id, drop_name, masked = drop.id, drop.name, drop.id_number_masked
    db.session.expire(drop)
    db.session.expire(keep)
    db.session.delete(drop)
    db.session.flush()
    refresh_hours(db.session, officer_ids={keep.id})
    refresh_verdicts(db.session, numbers=numbers, officer_ids={keep.id})
    what = describe(plan.moves) or "没有需要转移的记录"
    removed = f"；删除被合并记录的{describe(plan.dropped)}" if plan.dropped else ""
    record("merge", "officer", keep.id,
           f"合并重复记录：{drop_name}（编号 {drop_id}，{masked}）并入本记录，转移{what}{removed}",
           {"merged_from": [f"{drop_name}（编号 {drop_id}，{masked}）", None], "moved": [None, moved]})
    record("merge", "officer", drop_id, f"本记录已并入 {keep.name}（编号 {keep.id}）后删除",
           {"name": [drop_name, None]})
    return plan
