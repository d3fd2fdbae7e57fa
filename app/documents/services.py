"""Plain-data contexts for the printed documents (docs/domain.md 打印文件与公开页面), and the one function that prints.

Each builder reads what it needs in a few whole-table queries and returns a `Doc`: the template,
a context of strings and numbers (no ORM objects reach a template), the items the renderer may
split into chunks, and in-memory resources (photos). ID numbers only ever leave here masked.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import segno
from markupsafe import Markup
from sqlalchemy import func, select, update

from app import labels as L
from app.audit.services import record
from app.errors import DomainError
from app.extensions import db
from app.formatting import cn_date, days_text
from app.idnumber import mask
from app.models.exams import Exam, ExamResult
from app.models.officers import Officer, OfficerPhoto, Unit
from app.models.training import Attendance, TrainingSession
from app.models_base import utcnow
from app.pdf import render_pdf
from app.pinyin import SURNAME_READINGS, pinyin_key, unit_key  # noqa: F401  (re-exported)
from app.rules import compliance
from app.rules.hours import attach_year, parts, records_since, rule_status_sql
from app.rules.timeline import certified_select
from app.rules.training import rule_for
from app.settings.services import get
from app.web.tokens import verify_url

DOCUMENTS = {
    "roster": "持证人员名册",
    "public-list": "执法人员公示名单",
    "sign-in": "培训签到表",
    "ledger": "培训台账",
    "scores": "考试成绩登记表",
    "certificates": "合格证书",
    "reminder": "证件到期提醒",
}


@dataclass
class Doc:
    template: str
    context: dict[str, Any]
    items: list[dict[str, Any]] = field(default_factory=list)
    resources: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    filename: str = "document.pdf"
    summary: str = ""
    entity_type: str = "document"
    entity_id: int | None = None
    exam_results: list[int] = field(default_factory=list)  # 考试合格证明: the results printed


def _org_name() -> str:
    return get("org_name")


def _base(title: str, as_of: date, as_of_label: str = "截至") -> dict[str, Any]:
    return {
        "org_name": _org_name(),
        "title": title,
        "as_of": as_of.isoformat(),
        "as_of_text": f"{as_of_label}{cn_date(as_of)}",
        "signatures": True,
    }


def _hours(value: float | None) -> str:
    value = float(value or 0)
    return str(int(value)) if value == int(value) else f"{value:g}"


def _score(value: float | None) -> str:
    return "" if value is None else _hours(value)


def _unit(name: str | None) -> Unit:
    unit = db.session.scalar(select(Unit).where(Unit.name == (name or "").strip()))
    if unit is None:
        raise DomainError(f"单位“{name}”不存在，请核对单位名称")
    return unit


def _grouped(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows (already ordered by unit) → items: a unit heading before each unit's rows; 序号 runs on."""
    items: list[dict[str, Any]] = []
    current, heading, no = None, None, 0
    for row in rows:
        if row["unit"] != current:
            current = row["unit"]
            heading = {"kind": "unit", "unit": current, "count": 0}
            items.append(heading)
        no += 1
        heading["count"] += 1
        items.append({"kind": "row", "no": no, **row})
    return items


def _order_by_unit_then_pinyin(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: (r["_unit_order"], unit_key(r["unit"]), pinyin_key(r["name"]), r["_id"]))


# --- 持证人员名册 / 执法人员公示名单 -------------------------------------------------------------

def certified_rows(today: date, unit: str | None = None) -> list[dict[str, Any]]:
    """`certified_select` ordered by unit, then by the 拼音 of the name. One query."""
    q = certified_select(today)
    if unit:
        q = q.where(Unit.id == _unit(unit).id)
    rows = [{
        "_id": r.id, "_unit_order": r.sort_order or 0,
        "name": r.name, "gender": L.GENDERS.get(r.gender, ""), "unit": r.unit,
        "position": r.position or "", "categories": r.categories or "", "area": r.area or "",
        "number": r.number, "issued_on": cn_date(r.issued_on), "expires_on": cn_date(r.expires_on),
    } for r in db.session.execute(q)]
    return _order_by_unit_then_pinyin(rows)


def _certified_doc(title: str, template: str, today: date, unit: str | None, *, unit_in_summary: bool) -> Doc:
    """A list of the certified officers on `today` (of `unit`, or all), grouped by unit."""
    items = _grouped(certified_rows(today, unit))
    count = sum(1 for i in items if i["kind"] == "row")
    ctx = _base(title, today) | {"scope": unit or "全部单位", "count": count}
    where = f"{unit or '全部单位'}，" if unit_in_summary else ""
    return Doc(template, ctx, items, filename=f"{title}_{today.isoformat()}.pdf",
               summary=f"打印{title}（{where}{count}人，截至{cn_date(today)}）")


def roster(today: date, unit: str | None = None) -> Doc:
    return _certified_doc("持证人员名册", "pdf/roster.html", today, unit, unit_in_summary=True)


def public_list(today: date, unit: str | None = None) -> Doc:
    return _certified_doc("执法人员公示名单", "pdf/public_list.html", today, unit, unit_in_summary=False)


# --- 培训签到表 / 培训台账 / 考试成绩登记表 ----------------------------------------------------------

def _session(session_id: int) -> TrainingSession:
    session = db.session.get(TrainingSession, session_id)
    if session is None:
        raise DomainError(f"培训班（ID {session_id}）不存在")
    return session


def _exam(exam_id: int) -> Exam:
    exam = db.session.get(Exam, exam_id)
    if exam is None:
        raise DomainError(f"考试（ID {exam_id}）不存在")
    return exam


def _session_info(s: TrainingSession) -> dict[str, Any]:
    return {
        "id": s.id, "title": s.title, "category": L.TRAINING_CATEGORIES.get(s.category, s.category),
        "held_on": cn_date(s.held_on), "hours": _hours(s.hours), "location": s.location or "",
        "organiser": s.organiser or "", "lecturer": s.lecturer or "",
    }


def _exam_info(e: Exam) -> dict[str, Any]:
    return {
        "id": e.id, "title": e.title, "kind": L.EXAM_KINDS.get(e.kind, e.kind),
        "held_on": cn_date(e.held_on), "max_score": _score(e.max_score),
        "pass_score": _score(e.pass_score),
    }


def sign_in(session_id: int) -> Doc:
    s = _session(session_id)
    q = (
        select(Attendance.id, Attendance.status, Officer.id.label("officer_id"), Officer.name,
               Officer.position, Unit.name.label("unit"), Unit.sort_order)
        .join(Officer, Officer.id == Attendance.officer_id)
        .join(Unit, Unit.id == Officer.unit_id)
        .where(Attendance.session_id == s.id)
    )
    rows = _order_by_unit_then_pinyin([{
        "_id": r.officer_id, "_unit_order": r.sort_order or 0, "name": r.name, "unit": r.unit,
        "position": r.position or "", "note": "请假" if r.status == "excused" else "",
    } for r in db.session.execute(q)])
    items = [{"kind": "row", "no": n, **r} for n, r in enumerate(rows, 1)]
    if not items:  # nobody registered yet: a blank sheet to fill in by hand
        items = [{"kind": "blank", "no": n} for n in range(1, 21)]
    ctx = _base("培训签到表", s.held_on, "培训日期 ") | {"session": _session_info(s), "count": len(rows)}
    return Doc("pdf/sign_in.html", ctx, items, filename=f"培训签到表_{s.held_on.isoformat()}_{s.id}.pdf",
               summary=f"打印培训签到表：{s.title}（{s.held_on.isoformat()}）",
               entity_type="training_session", entity_id=s.id)


def ledger(year: int, today: date) -> Doc:
    """Every active officer on an enforcement post with the hours credited in `year`, against
    the required hours; and the sessions held that year."""
    if not 1900 <= year <= 9999:
        raise DomainError(f"年份“{year}”无效")
    # the year's rule (total, group minimums, online cap) and the counted hours: the
    # TRAINING_SHORTFALL rule (docs/domain.md)
    rule = rule_for(year)
    mins = [g for g, _m in rule.minimums]
    base = select(Officer.id).select_from(Officer).join(Unit, Unit.id == Officer.unit_id)
    base, cols, per_group = attach_year(base, year, mins)
    _st, is_judged, due, _now, _meets = rule_status_sql(cols["counted"], per_group, rule, year, today,
                                                       records_since(today))
    q = base.with_only_columns(
        Officer.id, Officer.name, Officer.position, Officer.post_since, Unit.name.label("unit"), Unit.sort_order,
        cols["counted"].label("hours"), *[c.label(f"g{i}") for i, c in enumerate(per_group.values())],
        is_judged.label("judged"), due.label("due"), maintain_column_froms=True).where(Officer.on_post)
    rows = []
    for r in db.session.execute(q):
        got, owes = float(r.hours or 0), float(r.due)
        by_group = {g: float(getattr(r, f"g{i}")) for i, g in enumerate(mins)}
        rest = parts(rule, year, r.post_since, got, by_group, bool(r.judged))
        short = max(owes - got, 0.0) if r.judged else 0.0
        rows.append({
            "_id": r.id, "_unit_order": r.sort_order or 0, "name": r.name, "unit": r.unit,
            "position": r.position or "", "hours": _hours(got),
            "required": _hours(round(owes, 2)) if r.judged else "不考核",
            "short": "；".join([*([_hours(short)] if short else []),
                               *[f"{m['group']}差{_hours(m['hours'])}" for m in rest["missing"]]]),
            "done": rest["meets"],
        })
    items = _grouped(_order_by_unit_then_pinyin(rows))
    attended = func.count(Attendance.id).filter(Attendance.status == "attended")
    sessions = [
        {**_session_info(s), "attended": n}
        for s, n in db.session.execute(
            select(TrainingSession, attended)
            .outerjoin(Attendance, Attendance.session_id == TrainingSession.id)
            .where(TrainingSession.held_on.between(date(year, 1, 1), date(year, 12, 31)))
            .group_by(TrainingSession.id)
            .order_by(TrainingSession.held_on, TrainingSession.id))
    ]
    as_of = min(today, date(year, 12, 31))
    done = sum(1 for r in rows if r["done"])
    ctx = _base(f"{year}年度培训台账", as_of) | {
        "year": year, "sessions": sessions, "count": len(rows), "done": done,
        "required": _hours(rule.total),
        "session_hours": _hours(sum(float(s["hours"]) for s in sessions)),
    }
    return Doc("pdf/ledger.html", ctx, items, filename=f"培训台账_{year}.pdf",
               summary=f"打印{year}年度培训台账（{len(rows)}人）")


def scores(exam_id: int) -> Doc:
    e = _exam(exam_id)
    q = (
        select(ExamResult.id, ExamResult.score, ExamResult.absent, Officer.id.label("officer_id"),
               Officer.name, Officer.position, Unit.name.label("unit"), Unit.sort_order)
        .join(Officer, Officer.id == ExamResult.officer_id)
        .join(Unit, Unit.id == Officer.unit_id)
        .where(ExamResult.exam_id == e.id)
    )
    rows = []
    for r in db.session.execute(q):
        passed = (not r.absent) and r.score is not None and r.score >= e.pass_score
        result = "缺考" if r.absent or r.score is None else ("合格" if passed else "不合格")
        rows.append({"_id": r.officer_id, "_unit_order": r.sort_order or 0, "name": r.name,
                     "unit": r.unit, "position": r.position or "", "score": "" if r.absent else _score(r.score),
                     "result": result, "passed": passed})
    rows = _order_by_unit_then_pinyin(rows)
    items = [{"kind": "row", "no": n, **r} for n, r in enumerate(rows, 1)]
    sat = sum(1 for r in rows if r["result"] != "缺考")
    passed = sum(1 for r in rows if r["passed"])
    ctx = _base("考试成绩登记表", e.held_on, "考试日期 ") | {
        "exam": _exam_info(e), "total": len(rows), "sat": sat, "absent": len(rows) - sat,
        "passed": passed, "rate": f"{passed / sat * 100:.1f}%" if sat else "—",
    }
    return Doc("pdf/scores.html", ctx, items, filename=f"考试成绩登记表_{e.held_on.isoformat()}_{e.id}.pdf",
               summary=f"打印考试成绩登记表：{e.title}（{e.held_on.isoformat()}）",
               entity_type="exam", entity_id=e.id)


# --- 培训合格证书 / 考试合格证明 ----------------------------------------------------------------

def certificate_number(kind: str, row_id: int, year: int) -> str:
    return f"{'培' if kind == 'training' else '考'}〔{year}〕{row_id:06d}号"


def _qr_svg(url: str) -> Markup:
    return Markup(segno.make(url, error="m").svg_inline(scale=1, border=2, omitsize=True))


# the holder of each certificate (the query joins Officer, Unit and OfficerPhoto)
_HOLDER_COLUMNS = (Officer.id, Officer.name, Officer.gender, Officer.id_number, Officer.position,
                   OfficerPhoto.mime.label("photo_mime"), Unit.name.label("unit"), Unit.sort_order)


def certificates(today: date, *, session_id: int | None = None, exam_id: int | None = None,
                 officer_id: int | None = None) -> Doc:
    """One certificate per officer who attended the session (or passed the exam)."""
    if (session_id is None) == (exam_id is None):
        raise DomainError("请指定培训班或考试（二选一）")
    if session_id is not None:
        s = _session(session_id)
        kind, title, event = "training", "培训合格证书", _session_info(s)
        q = (select(Attendance.id.label("row_id"), Attendance.credited_hours.label("value"), *_HOLDER_COLUMNS)
             .join(Officer, Officer.id == Attendance.officer_id)
             .where(Attendance.session_id == s.id, Attendance.status == "attended"))
        held_on, entity = s.held_on, ("training_session", s.id)
    else:
        e = _exam(exam_id)
        kind, title, event = "exam", "考试合格证明", _exam_info(e)
        q = (select(ExamResult.id.label("row_id"), ExamResult.score.label("value"), *_HOLDER_COLUMNS)
             .join(Officer, Officer.id == ExamResult.officer_id)
             .where(ExamResult.exam_id == e.id, ExamResult.absent.is_(False),
                    ExamResult.score.is_not(None), ExamResult.score >= e.pass_score))
        held_on, entity = e.held_on, ("exam", e.id)
    q = q.join(Unit, Unit.id == Officer.unit_id).outerjoin(OfficerPhoto, OfficerPhoto.officer_id == Officer.id)
    if officer_id is not None:
        q = q.where(Officer.id == officer_id)
    rows = list(db.session.execute(q))
    if officer_id is not None and not rows:
        raise DomainError("该人员未出席此培训，不能打印培训合格证书" if kind == "training"
                          else "该人员未通过此考试，不能打印考试合格证明")
    if not rows:
        raise DomainError("此培训班没有出席人员，没有可打印的培训合格证书" if kind == "training"
                          else "此考试没有合格人员，没有可打印的考试合格证明")
    with_photo = [r.id for r in rows if r.photo_mime]
    resources = {}
    if with_photo:
        for oid, data, mime in db.session.execute(
                select(OfficerPhoto.officer_id, OfficerPhoto.data, OfficerPhoto.mime)
                .where(OfficerPhoto.officer_id.in_(with_photo))):
            if data and mime and mime.startswith("image/"):
                resources[f"photo-{oid}"] = (mime, data)
    ordered = sorted(rows, key=lambda r: (r.sort_order or 0, unit_key(r.unit), pinyin_key(r.name), r.id))
    items = []
    for r in ordered:
        url = verify_url(kind, r.row_id)
        items.append({
            "kind": kind, "number": certificate_number(kind, r.row_id, held_on.year),
            "name": r.name, "gender": L.GENDERS.get(r.gender, ""), "unit": r.unit,
            "position": r.position or "", "id_masked": mask(r.id_number),
            "value": _hours(r.value) if kind == "training" else _score(r.value),
            "photo": f"res:photo-{r.id}" if f"photo-{r.id}" in resources else None,
            "qr": _qr_svg(url), "url": url,
        })
    ctx = _base(title, today, "发证日期 ") | {"doc_kind": kind, "event": event,
                                              "issued_on": cn_date(today), "signatures": False}
    what = f"{event['title']}（{held_on.isoformat()}）"
    return Doc("pdf/certificates.html", ctx, items, resources,
               filename=f"{title}_{held_on.isoformat()}.pdf",
               summary=f"打印{title}{len(items)}份：{what}", entity_type=entity[0], entity_id=entity[1],
               exam_results=[r.row_id for r in rows] if kind == "exam" else [])


# --- 证件到期提醒 -----------------------------------------------------------------------------

def reminder(today: date, within: int | None = None) -> Doc:
    """Officers whose enforcement certificate expires within `within` days or has expired, one
    notice per unit."""
    p = compliance.Params.from_settings(today, within)
    if not 0 <= p.within <= 3650:
        raise DomainError("提前天数应在 0 到 3650 之间")
    flagged = [f for f in compliance.list_flags(p, flags=["EXPIRING", "UNLICENSED"])
               if f["flag"] == "EXPIRING" or f["reason"] == "expired"]
    orders = dict(db.session.execute(select(Unit.name, Unit.sort_order)).all())
    units: dict[str, list[dict[str, Any]]] = {}
    for f in flagged:
        units.setdefault(f["unit"], []).append({
            "name": f["name"], "id_masked": f["id_number_masked"],
            "number": f["certificate_number"] or "", "expires_on": cn_date(f["expires_on"]),
            "days_left": f["days_left"], "status": days_text(f["days_left"]),
            "expired": (f["days_left"] or 0) < 0,
        })
    items = []
    for name in sorted(units, key=lambda u: (orders.get(u) or 0, unit_key(u))):
        rows = sorted(units[name], key=lambda r: (r["days_left"], pinyin_key(r["name"])))
        items.append({"kind": "unit", "unit": name,
                      "rows": [{"no": n, **r} for n, r in enumerate(rows, 1)],
                      "expired": sum(1 for r in rows if r["expired"])})
    ctx = _base("证件到期提醒", today) | {
        "signatures": False,  # the seal block is inside each unit's notice, not once at the end
        "within": p.within, "deadline": cn_date(today + timedelta(days=p.within)),
        "count": len(flagged), "units": len(items),
    }
    return Doc("pdf/reminder.html", ctx, items, filename=f"证件到期提醒_{today.isoformat()}.pdf",
               summary=f"打印证件到期提醒（{p.within}天内，{len(flagged)}人）")


# --- printing ------------------------------------------------------------------------------

def build(name: str, *, today: date, unit: str | None = None, session_id: int | None = None,
          exam_id: int | None = None, officer_id: int | None = None, year: int | None = None,
          within: int | None = None) -> Doc:
    if name == "roster":
        return roster(today, unit)
    if name == "public-list":
        return public_list(today, unit)
    if name == "reminder":
        return reminder(today, within)
    if name == "sign-in":
        if session_id is None:
            raise DomainError("请选择培训班")
        return sign_in(session_id)
    if name == "ledger":
        return ledger(year or today.year, today)
    if name == "scores":
        if exam_id is None:
            raise DomainError("请选择考试")
        return scores(exam_id)
    if name == "certificates":
        return certificates(today, session_id=session_id, exam_id=exam_id, officer_id=officer_id)
    raise DomainError(f"未知的文书“{name}”")


def print_document(name: str, **params: Any) -> tuple[bytes, Doc]:
    """Build, render and audit one document; flushes, never commits."""
    doc = build(name, **params)
    pdf = render_pdf(doc.template, doc.context, items=doc.items, resources=doc.resources)
    record("print", doc.entity_type, doc.entity_id, doc.summary)
    if doc.exam_results:  # issued (again): replacing such a result asks to withdraw it first
        db.session.execute(update(ExamResult).where(ExamResult.id.in_(doc.exam_results)).values(
            document_issued_at=utcnow(), document_withdrawn_at=None, document_withdrawn_reason=None))
    db.session.flush()
    return pdf, doc


