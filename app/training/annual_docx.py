"""`flask report annual --format docx` and the statistics page's Word button: the year's report as
a document the office edits and pastes into its annual report — a heading, a paragraph of prose in
the register's wording and the tables of the figures.

It renders `annual_stats()` (the dict `--format json` prints) and computes nothing: every number in
it is one of the dict's values, written with `num()` (Arabic numerals, thousands separators) or
`pct()` (a rate as a percentage).
"""

from __future__ import annotations

import io
import re
from datetime import date
from typing import Any

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor

from app.formatting import cn_date
from app.labels import EXAM_KINDS, TRAINING_CATEGORIES

FONT = "宋体"  # SimSun: what Word shows Chinese in; East Asian text needs rFonts w:eastAsia
HEADING_FONT = "黑体"
NUMBER = re.compile(r"[\d,]+(?:\.\d+)?%?")  # a cell holding a figure: right-aligned
ARTICLE_42 = "《中华人民共和国行政处罚法》第四十二条"


def num(x: Any) -> str:
    """A figure as the document writes it: 1520 → 1,520; 30.25 → 30.25; 149.0 → 149."""
    x = round(float(x), 2)
    if x.is_integer():
        return f"{int(x):,}"
    return f"{x:,.2f}".rstrip("0").rstrip(".")


def pct(rate: Any) -> str:
    """A rate of the JSON (0.8571) as a percentage (85.71%)."""
    return f"{num(float(rate) * 100)}%"


def rule_words(r: dict[str, Any]) -> str:
    """The year's rule in words: total, group minimums, the online cap."""
    words = f"年度培训不少于{num(r['total'])}学时"
    if r["minimums"]:
        words += "，其中" + "、".join(f"{g}不少于{num(h)}学时" for g, h in r["minimums"].items())
    if r["online_max"] is not None:
        words += f"，线上学时最多计入{num(r['online_max'])}学时"
    return words


def rule_origin(s: dict[str, Any]) -> str:
    """Where the year's rule comes from: its source (文号), else the year's rule or the setting."""
    r = s["rule"]
    if r["year"] is None:
        return "系统设置的年度培训学时要求"
    taken = f"（沿用{r['year']}年度要求）" if r["year"] != s["year"] else ""
    return (r["source"] or f"{r['year']}年度学时要求") + taken


def prose(s: dict[str, Any], org: str = "") -> str:
    """The paragraph, in the wording of a street office's annual report."""
    t, r, e, v = s["training"], s["rule"], s["exams"], s["reviews"]
    c, k, u = s["certificates"], s["cases"], s["units"]
    year = s["year"]
    out = [f"{year}年，{org}加强对行政执法人员的培训，全年组织行政执法培训{num(t['sessions'])}期，"
           f"参训人员{num(t['participants'])}人、累计{num(t['person_times'])}人次，"
           f"认定学时{num(t['hours'])}学时，人均{num(t['average_hours'])}学时"]
    if t["online_dropped"]:
        out[-1] += f"（线上学时超出上限未计入{num(t['online_dropped'])}学时，计入{num(t['counted_hours'])}学时）"
    out[-1] += "。"
    out.append(f"按照{rule_origin(s)}（{rule_words(r)}），应参加考核的{num(r['judged'])}人中，"
               f"{num(r['meets'])}人达到年度学时要求，达标率{pct(r['meets_rate'])}，"
               f"{num(r['not_meeting'])}人未达标。")
    if e["held"]:
        out.append(f"组织执法资格和法治理论考试{num(e['held'])}场，参考{num(e['takers'])}人，"
                   f"合格{num(e['passed'])}人，合格率{pct(e['pass_rate'])}。")
    else:
        out.append("全年未组织考试。")
    if v["total"]:
        out.append(f"开展行政执法证年审{num(v['total'])}人次，通过{num(v['passed'])}人次，"
                   f"不通过{num(v['failed'])}人次" + (f"，待审{num(v['pending'])}人次" if v["pending"] else "") + "。")
    out.append(f"截至{year}年12月31日，现有持证执法人员{num(c['effective_at_year_end'])}人；"
               f"全年新增执法证{num(c['issued'])}张，注销{num(c['cancelled'])}张，"
               f"暂扣{num(c['suspended'])}张，吊销{num(c['revoked'])}张。")
    out.append(f"全年共有行政处罚案件{num(k['total'])}件，经核查，{num(k['ok'])}件由两名以上持证执法人员实施"
               + (f"，{num(k['not_ok'])}件执法人员不足两名或未持有效执法证，不符合{ARTICLE_42}的规定。"
                  if k["not_ok"] else "，均符合" + ARTICLE_42 + "的规定。"))
    if u["below_two"]:
        names = "、".join(x["unit"] for x in u["below_two_list"][:10])
        more = "等" if u["below_two"] > 10 else ""
        out.append(f"年末持证执法人员不足两人的单位{num(u['below_two'])}个（{names}{more}），需抓紧补充持证人员。")
    else:
        out.append("年末各执法单位持证执法人员均不少于两人。")
    return "".join(out)


# --- the tables ---------------------------------------------------------------------------------


def tables(s: dict[str, Any]) -> list[tuple[str, list[str], list[list[str]]]]:
    """(caption, header, rows) of each table, the cells as written."""
    t, r, e, v = s["training"], s["rule"], s["exams"], s["reviews"]
    c, k, u, o = s["certificates"], s["cases"], s["units"], s["officers"]
    year = s["year"]
    out = [
        ("持证情况及全年证件变动", ["项目", "数量"], [
            [f"{year}年12月31日持有效执法证人数", num(c["effective_at_year_end"])],
            ["全年新增（发证，张）", num(c["issued"])], ["全年注销（张）", num(c["cancelled"])],
            ["全年暂扣（张）", num(c["suspended"])], ["全年吊销（张）", num(c["revoked"])],
            ["年末执法岗位在职人数", num(o["on_post_at_year_end"])]]),
        ("培训情况", ["项目", "数量"], [
            ["培训期数", num(t["sessions"])],
            *[[f"　其中：{TRAINING_CATEGORIES.get(code, code)}（期）", num(n)] for code, n in t["by_category"].items()],
            ["参训人数", num(t["participants"])], ["参训人次", num(t["person_times"])],
            ["认定学时（人·学时）", num(t["hours"])], ["人均认定学时", num(t["average_hours"])],
            ["计入年度要求的学时（人·学时）", num(t["counted_hours"])],
            ["线上学时超出上限未计入（人·学时）", num(t["online_dropped"])],
            *[[f"　其中：{g}（计入，人·学时）", num(h)] for g, h in t["by_group"].items()]]),
        ("年度学时要求执行情况", ["项目", "内容"], [
            ["依据", r["source"] or ("系统设置" if r["year"] is None else "—")],
            ["要求", rule_words(r) + (f"（沿用{r['year']}年度）" if r["year"] not in (None, year) else "")],
            ["记录截止日期", cn_date(date.fromisoformat(r["closes_on"])) if r["closes_on"] else "不截止"],
            ["应参加考核人数", num(r["judged"])], ["达标人数", num(r["meets"])],
            ["未达标人数", num(r["not_meeting"])], ["达标率", pct(r["meets_rate"])],
            *[[f"{g}未达最低学时（{num(r['minimums'][g])}学时）人数", num(n)]
              for g, n in r["below_minimum"].items()]]),
        ("考试情况", ["考试", "日期", "类型", "参考人数", "合格人数", "合格率"], [
            *[[x["title"], cn_date(date.fromisoformat(x["held_on"])), EXAM_KINDS.get(x["kind"], x["kind"]),
               num(x["takers"]), num(x["passed"]), pct(x["pass_rate"])] for x in e["by_exam"]],
            [f"合计（{num(e['held'])}场，按人计）", "", "", num(e["takers"]), num(e["passed"]), pct(e["pass_rate"])]]),
        ("执法证年审情况", ["项目", "数量"], [
            ["年审人次", num(v["total"])], ["通过", num(v["passed"])], ["不通过", num(v["failed"])],
            ["待审", num(v["pending"])], ["通过率（已审）", pct(v["pass_rate"])]]),
        ("行政处罚案件执法人员资格核查", ["项目", "件数"], [
            ["核查案件数（按决定日期）", num(k["total"])], ["由两名以上持证执法人员实施", num(k["ok"])],
            [f"不足两名持证执法人员（{ARTICLE_42}）", num(k["not_ok"])]]),
        (f"年末持证执法人员不足两人的单位（共{num(u['below_two'])}个，"
         f"有执法岗位人员的单位{num(u['with_officers_on_post'])}个）", ["单位", "执法岗位在职人数", "持证人数"],
         [[x["unit"], num(x["on_post"]), num(x["holders"])] for x in u["below_two_list"]] or [["无", "", ""]]),
    ]
    return out


def _east_asian(style_or_run, name: str) -> None:
    rpr = style_or_run.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia"):
        fonts.set(qn(attr), name)


def _styles(doc) -> None:
    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(12)
    _east_asian(normal, FONT)
    for name in ("Title", "Heading 1", "Heading 2"):
        st = doc.styles[name]
        st.font.name = HEADING_FONT
        st.font.color.rgb = RGBColor(0, 0, 0)
        _east_asian(st, HEADING_FONT)


def _table(doc, caption: str, n: int, header: list[str], rows: list[list[str]]) -> None:
    p = doc.add_paragraph(f"表{n}　{caption}")
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.runs[0].bold = True
    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = text
        cell.paragraphs[0].runs[0].bold = True
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    for row in rows:
        cells = table.add_row().cells
        for i, (cell, text) in enumerate(zip(cells, row, strict=True)):
            cell.text = text
            if i and NUMBER.fullmatch(text):
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    doc.add_paragraph()


def annual_docx(stats: dict[str, Any], org_name: str, made_on: date | None = None) -> bytes:
    """The Word document of `stats` (annual_stats())."""
    doc = Document()
    _styles(doc)
    title = doc.add_heading(f"{org_name}{stats['year']}年度行政执法人员资格管理情况", level=1)
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p = doc.add_paragraph(prose(stats, org_name))
    p.paragraph_format.first_line_indent = Pt(24)
    p.paragraph_format.line_spacing = 1.5
    for n, (caption, header, rows) in enumerate(tables(stats), 1):
        _table(doc, caption, n, header, rows)
    if made_on is not None:
        foot = doc.add_paragraph(f"（本文数据由行政执法人员资格管理系统于{cn_date(made_on)}生成，"
                                 f"按{stats['year']}年1月1日至12月31日统计。）")
        foot.runs[0].font.size = Pt(10)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
