"""Online exam documents: admission tickets (准考证), the paper with its answer key (for a
paper-based fallback) and each candidate's answer sheet. Plain-data contexts for app/pdf.py."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.errors import DomainError
from app.formatting import cn_date, cn_datetime
from app.idnumber import mask
from app.labels import EXAM_KINDS, QUESTION_TYPES
from app.models.exams import Exam
from app.models.online import Sitting
from app.online import services as svc
from app.pdf import render_pdf
from app.settings.services import get
from app.sheets import Column, write_xlsx

RULES_TEXT = [
    "凭准考证和身份证件入场，按座位号就座。",
    "在考场电脑浏览器中打开考试页面，输入身份证号和本准考证上的登录码登录。",
    "答案选定即自动保存；电脑故障时请举手，换机后用同一登录码重新登录可继续作答。",
    "考试时间到系统自动交卷。多选题多选、少选、错选均不得分。",
    "登录码仅限本人本场考试使用，请勿外传。",
]


def _org() -> str:
    return str(get("org_name"))


def _local(moment: datetime | None) -> str:
    return cn_datetime(moment) if moment is not None else "待定"


def _base(title: str, exam: Exam) -> dict[str, Any]:
    return {"org_name": _org(), "title": title, "as_of_text": f"考试日期{cn_date(exam.held_on)}",
            "signatures": False,
            "exam": {"title": exam.title, "kind": EXAM_KINDS.get(exam.kind, exam.kind),
                     "held_on": cn_date(exam.held_on), "max_score": f"{exam.max_score:g}",
                     "pass_score": f"{exam.pass_score:g}"}}


def tickets_pdf(exam: Exam) -> bytes:
    online = svc.online_of(exam)
    sittings = svc.ensure_sittings(exam)
    if not sittings:
        raise DomainError("考试还没有考生")
    when = "待定"
    if online and online.opens_at and online.ends_at:
        minutes = int((online.ends_at - online.opens_at).total_seconds() // 60)
        when = f"{_local(online.opens_at)} 起，{minutes} 分钟"
    items = [{"name": s.officer.name, "id_masked": mask(s.officer.id_number), "seat": s.seat, "code": s.code,
              "unit": s.officer.unit.name if s.officer.unit else ""} for s in sittings]
    ctx = _base("准考证", exam) | {"when": when, "room": (online.room if online else "") or "机房",
                                   "rules": RULES_TEXT}
    return render_pdf("pdf/exam_tickets.html", ctx, items=items, per_chunk=100)


def _item_data(i: Any) -> dict[str, Any]:
    return {"position": i.position, "type": QUESTION_TYPES[i.type], "stem": i.stem,
            "options": [(letter, text) for letter, _o, text in i.options], "points": f"{i.points:g}",
            "key": i.key}


def paper_pdf(exam: Exam) -> bytes:
    """The paper (the fixed one, or one sample draw) with the answer key on the last page."""
    items = [_item_data(i) for i in svc.preview_items(exam)]
    online = svc.online_of(exam)
    ctx = _base("试卷（含答案）", exam) | {"fixed": bool(online and online.fixed), "key": items}
    return render_pdf("pdf/exam_paper.html", ctx, items=items)


def sheet_pdf(sitting: Sitting, exam: Exam) -> bytes:
    if sitting.submitted_at is None:
        raise DomainError("该考生尚未交卷")
    data = svc.answer_sheet(sitting, exam)
    items = [_item_data(i) | {"answer": i.answer or "未答", "score": f"{svc.item_score(i):g}"}
             for i in sitting.items]
    how = {"candidate": "考生交卷", "timeout": "时间到自动交卷", "close": "结束考试时自动交卷",
           "force": "监考强制交卷"}.get(sitting.submitted_by or "", "")
    ctx = _base("答题卡", exam) | {"name": data["name"], "id_masked": data["id_masked"], "seat": data["seat"],
                                   "score": f"{(data['score'] or 0):g}", "submitted": _local(sitting.submitted_at),
                                   "how": how}
    return render_pdf("pdf/exam_sheet.html", ctx, items=items)


def codes_xlsx(rows: list[dict[str, Any]]) -> bytes:
    """The access codes as a workbook (身份证号, 姓名, 座位号, 登录码), for the invigilators; the ID
    numbers are masked for anyone but an administrator (app/sheets.py)."""
    columns = [Column("身份证号", lambda r: r["id_number"], 22), Column("姓名", lambda r: r["name"], 12),
               Column("座位号", lambda r: r["seat"], 8), Column("登录码", lambda r: r["code"], 12)]
    return write_xlsx(rows, columns, sheet="登录码")
