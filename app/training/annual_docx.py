"""`flask report annual --format docx`: the year's statistics as a Word document — a heading, a
paragraph of prose built from the same data as `--format json` (every number in it is one of its
values, written as is) and the tables of the figures."""

from __future__ import annotations

import io
from typing import Any

from docx import Document
from docx.oxml.ns import qn
from docx.shared import Pt


def n(x: Any) -> str:
    """A number as the JSON has it (149.0 → 149, 30.25 → 30.25)."""
    return f"{x:g}" if isinstance(x, float) else str(x)


def prose(s: dict[str, Any]) -> str:
    t, e, c, o, k = s["training"], s["exams"], s["certificates"], s["officers"], s["cases"]
    return (
        f"{s['year']}年，共举办培训{n(t['sessions'])}次，参训{n(t['participants'])}人、"
        f"{n(t['person_times'])}人次，认定学时{n(t['hours'])}人·学时。"
        f"举办考试{n(e['held'])}场，参考{n(e['takers'])}人，合格{n(e['passed'])}人。"
        f"年末持有效执法证{n(c['effective_at_year_end'])}人；全年发证{n(c['issued'])}张，"
        f"暂扣{n(c['suspended'])}张，注销{n(c['cancelled'])}张，吊销{n(c['revoked'])}张。"
        f"年末执法岗位在职{n(o['on_post_at_year_end'])}人，年度学时要求{n(s['required_hours'])}学时，"
        f"学时不足{n(o['training_shortfall'])}人。"
        f"全年行政处罚案件{n(k['total'])}件，其中执法人员资格符合的{n(k['ok'])}件、不符合的{n(k['not_ok'])}件。")


def _font(doc) -> None:
    style = doc.styles["Normal"]
    style.font.name = "Noto Serif CJK SC"
    style.font.size = Pt(11)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "Noto Serif CJK SC")


def annual_docx(stats: dict[str, Any], rows: list[dict[str, Any]], org_name: str) -> bytes:
    """The document: heading, prose, the figures' table (`rows`: label/value as in the xlsx)."""
    doc = Document()
    _font(doc)
    doc.add_heading(f"{org_name}{stats['year']}年度行政执法人员资格管理统计", level=1)
    doc.add_paragraph(prose(stats))
    doc.add_heading("统计表", level=2)
    table = doc.add_table(rows=1, cols=2)
    table.style = "Table Grid"
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "项目", "数值"
    for r in rows:
        cells = table.add_row().cells
        cells[0].text, cells[1].text = r["label"].strip(), n(r["value"])
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
