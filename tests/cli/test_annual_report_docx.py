"""The year's report: `flask report annual --format json` on a hand-built year (every figure worked
out by hand below, from the fixture, not from the code), and the Word document of the same figures
(`--format docx` and the statistics page's button): every number of the JSON is in it, as written
in the document (thousands separators, rates as percentages), with the rule's source."""

from __future__ import annotations

import io
import json
import re
from datetime import date

import docx
import pytest

from app.extensions import db as _db
from app.models.audit import AuditEvent
from app.models.cases import CaseCertificate, PenaltyCase
from app.models.certificates import AnnualReview, CertificateEvent
from app.models.exams import Exam, ExamResult
from app.models.training import Attendance, TrainingSession
from tests.conftest import login
from tests.factories import CertificateFactory, OfficerFactory, UnitFactory

SOURCE = "某区府办发〔2025〕3号"


def _session(title, held_on, hours, category, online=False):
    s = TrainingSession(title=title, held_on=held_on, hours=hours, category=category, online=online)
    _db.session.add(s)
    _db.session.flush()
    return s


def _attend(s, officer, credited=None, status="attended"):
    _db.session.add(Attendance(session=s, officer_id=officer.id, status=status,
                               credited_hours=(s.hours if credited is None else credited)
                               if status == "attended" else 0))
    _db.session.flush()


def _card(officer, number, issued_on, events=(), expires_on=date(2029, 12, 31)):
    """An enforcement card issued on `issued_on`, then `events`: (day, from, to)."""
    c = CertificateFactory(officer=officer, number=number, issued_on=issued_on, expires_on=expires_on)
    for day, old, new in events:
        _db.session.add(CertificateEvent(certificate=c, kind="status", from_status=old, to_status=new,
                                         effective_on=day, actor="test"))
        c.status = new
    _db.session.flush()
    return c


def _exam(title, held_on, kind, scores):
    e = Exam(title=title, kind=kind, held_on=held_on, max_score=100, pass_score=60)
    _db.session.add(e)
    _db.session.flush()
    for officer, score in scores:
        _db.session.add(ExamResult(exam_id=e.id, officer_id=officer.id, absent=score is None, score=score))
    _db.session.flush()


def _case(no, decided_on, numbers):
    c = PenaltyCase(case_no=no, title=no, decided_on=decided_on, unit="执法一队")
    _db.session.add(c)
    _db.session.flush()
    for pos, n in enumerate(numbers):
        _db.session.add(CaseCertificate(case_id=c.id, position=pos, number=n))
    _db.session.flush()


def build_year(app, runner):
    """2025, seen on 1 March 2026. Rule: 48 hours, 公共法律知识 ≥ 20, 专门法律知识 ≥ 12, online ≤ 10.

    执法一队: 甲 乙 丙 (on the post from 1 July 2025) 丁 (from 1 November: not judged);
    执法二队: 戊 on the post, 己 off the post; 执法三队: 庚 on the post, no card."""
    with app.app_context():
        u1, u2, u3 = UnitFactory(name="执法一队"), UnitFactory(name="执法二队"), UnitFactory(name="执法三队")
        jia = OfficerFactory(name="甲", unit=u1)
        yi = OfficerFactory(name="乙", unit=u1)
        bing = OfficerFactory(name="丙", unit=u1, post_since=date(2025, 7, 1))
        ding = OfficerFactory(name="丁", unit=u1, post_since=date(2025, 11, 1))
        wu = OfficerFactory(name="戊", unit=u2)
        ji = OfficerFactory(name="己", unit=u2, on_enforcement_post=False)
        geng = OfficerFactory(name="庚", unit=u3)

        old = _session("年末讲座", date(2024, 12, 20), 8, "political")
        lecture = _session("宪法讲座", date(2025, 3, 1), 20, "lecture")
        spec = _session("专门法律", date(2025, 4, 1), 24, "specialist_law")
        skill = _session("执法技能", date(2025, 5, 1), 16, "off_post")
        on1 = _session("网课一", date(2025, 2, 1), 12, "general_law", online=True)
        on2 = _session("网课二", date(2025, 6, 1), 12, "refresher", online=True)
        _attend(old, jia)
        for s in (lecture, spec, skill):
            _attend(s, jia)
        for s in (on1, on2, skill):
            _attend(s, yi)
        _attend(lecture, bing, 12)
        _attend(spec, bing, 14)
        _attend(lecture, wu, 15)
        _attend(spec, wu)
        _attend(skill, wu, status="absent")
        _attend(lecture, ji)

        cards = {
            "甲": _card(jia, "J1", date(2024, 1, 1)),
            "乙": _card(yi, "Y2", date(2025, 3, 1)),
            "丙": _card(bing, "B1", date(2023, 1, 1), [(date(2025, 5, 1), "valid", "suspended"),
                                                       (date(2025, 6, 1), "suspended", "valid")]),
            "丁": _card(ding, "D2", date(2025, 11, 15)),
            "戊": _card(wu, "W1", date(2022, 1, 1), [(date(2026, 1, 10), "valid", "suspended")]),
        }
        _card(yi, "Y1", date(2020, 1, 1), [(date(2025, 2, 1), "valid", "revoked")])
        _card(ji, "X1", date(2020, 1, 1), [(date(2025, 8, 1), "valid", "cancelled")])
        _card(ding, "D1", date(2019, 1, 1), [(date(2024, 6, 1), "valid", "revoked")])

        _exam("2024年度考试", date(2024, 11, 1), "annual", [(jia, 90)])
        _exam("2025年度资格考试", date(2025, 4, 10), "qualification", [(jia, 80), (yi, 55), (bing, None), (geng, 60)])
        _exam("2025年度法治理论考试", date(2025, 11, 20), "annual", [(jia, 90), (wu, 59.5), (yi, 70), (ding, 40)])

        for who, result in (("甲", "pass"), ("丙", "pass"), ("戊", "fail"), ("丁", "pending")):
            _db.session.add(AnnualReview(certificate_id=cards[who].id, year=2025, result=result))
        _db.session.add(AnnualReview(certificate_id=cards["甲"].id, year=2024, result="pass"))

        _case("罚1", date(2025, 6, 1), ["J1", "W1"])  # two holders: ok
        _case("罚2", date(2025, 5, 15), ["B1", "J1"])  # 丙's card suspended that day
        _case("罚3", date(2025, 7, 1), ["J1"])  # one officer
        _case("罚4", date(2024, 12, 1), ["J1"])  # another year
        _case("罚5", date(2025, 9, 1), ["Y2", "W1"])  # ok
        _db.session.commit()
    result = runner.invoke(args=["training", "rule", "set", "2025", "--total", "48", "--min", "公共法律知识=20",
                                 "--min", "专门法律知识=12", "--online-max", "10", "--source", SOURCE,
                                 "--closes", "2026-01-31"])
    assert result.exit_code == 0, result.output


EXPECTED = {
    "year": 2025,
    # sessions: 5 in 2025 (年末讲座 is 2024). Attended rows: 甲 3 (60 h), 乙 3 (40 h), 丙 2 (26 h),
    # 戊 2 (39 h; 执法技能 absent), 己 1 (20 h) = 11 rows, 185 h by 5 people (average 37).
    # Counted: 乙's online 24 h over the cap of 10 → 网课一 (earliest) counts 10, 网课二 0: 14 dropped.
    "training": {"sessions": 5, "participants": 5, "person_times": 11, "hours": 185.0,
                 "by_category": {"general_law": 1, "specialist_law": 1, "refresher": 1, "off_post": 1, "lecture": 1},
                 "counted_hours": 171.0, "online_dropped": 14.0, "average_hours": 37.0,
                 # 公共: 甲 20 + 乙 10 + 丙 12 + 戊 15 + 己 20; 专门: 甲 24 + 乙 0 + 丙 14 + 戊 24; 技能: 甲 16 + 乙 16
                 "by_group": {"公共法律知识": 77, "专门法律知识": 62, "执法技能": 32}},
    # by exam: qualification 3 took (丙 absent), 甲 庚 passed; annual 4 took, 甲 乙 passed.
    # by person: 甲 乙 庚 戊 丁 took, 甲 乙 庚 passed any.
    "exams": {"held": 2, "takers": 5, "passed": 3, "pass_rate": 0.6, "by_exam": [
        {"title": "2025年度资格考试", "held_on": "2025-04-10", "kind": "qualification", "takers": 3, "passed": 2,
         "pass_rate": 0.6667},
        {"title": "2025年度法治理论考试", "held_on": "2025-11-20", "kind": "annual", "takers": 4, "passed": 2,
         "pass_rate": 0.5}]},
    # at 31 Dec 2025: 甲 J1, 乙 Y2, 丙 B1 (restored), 丁 D2, 戊 W1 (suspended only in 2026);
    # in 2025: issued Y2 and D2, suspended B1, cancelled X1, revoked Y1 (D1 was revoked in 2024)
    "certificates": {"effective_at_year_end": 5, "issued": 2, "suspended": 1, "cancelled": 1, "revoked": 1},
    # on post: 甲 乙 丙 丁 戊 庚 (己 is not on the post)
    "officers": {"on_post_at_year_end": 6, "training_shortfall": 3},
    "required_hours": 48,
    # judged: 甲 乙 丙 戊 庚 (丁 took the post after 1 October). 丙 owes 184/365 of the year:
    # 24.2 in all, 10.08 公共, 6.05 专门 — 26, 12, 14: meets. 甲 meets (60, 20, 24).
    # not: 乙 (26; 公共 10; 专门 0), 戊 (39; 公共 15), 庚 (nothing).
    "rule": {"year": 2025, "total": 48, "minimums": {"公共法律知识": 20, "专门法律知识": 12}, "online_max": 10,
             "source": SOURCE, "closes_on": "2026-01-31", "judged": 5, "meets": 2, "not_meeting": 3,
             "meets_rate": 0.4, "below_minimum": {"公共法律知识": 3, "专门法律知识": 2}},
    "reviews": {"total": 4, "passed": 2, "failed": 1, "pending": 1, "pass_rate": 0.6667},
    # 罚1 and 罚5 ok; 罚2 (a suspended card) and 罚3 (one officer) not; 罚4 is 2024's
    "cases": {"total": 4, "ok": 2, "not_ok": 2},
    # 执法二队: 戊 on the post with a card (己 is off the post); 执法三队: 庚 without a card
    "units": {"with_officers_on_post": 3, "below_two": 2, "below_two_list": [
        {"unit": "执法二队", "on_post": 1, "holders": 1}, {"unit": "执法三队", "on_post": 1, "holders": 0}]},
}


def annual_json(runner, year=2025):
    result = runner.invoke(args=["report", "annual", "--year", str(year), "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_annual_json_figures_are_exact(app, runner, set_today):
    set_today(date(2026, 3, 1))
    build_year(app, runner)
    assert annual_json(runner) == EXPECTED
    # the count short of training is the officers judged whose `meets` is false in `report training`
    rows = json.loads(runner.invoke(args=["report", "training", "--year", "2025", "--format", "json"]).output)
    assert sorted(r["name"] for r in rows if r["judged"] and not r["meets"]) == ["乙", "庚", "戊"]


def written(value: float, rate: bool) -> set[str]:
    """How a number may be written in the document: as is, with thousands separators, without a
    trailing .0, and a rate as a percentage."""
    if rate:
        return {f"{round(value * 100, 2):g}%"}
    out = {str(value), f"{value:,}"}
    if float(value).is_integer():
        out |= {str(int(value)), f"{int(value):,}"}
    return out


def numbers_of(data, key=""):
    """(path, number, is a rate) for every number in the JSON (not booleans)."""
    if isinstance(data, dict):
        for k, v in data.items():
            yield from ((f"{key}.{p}" if key else p, n, r) for p, n, r in numbers_of(v, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from ((f"[{i}].{p}", n, r) for p, n, r in numbers_of(v, key))
    elif isinstance(data, (int, float)) and not isinstance(data, bool):
        yield key, data, key.endswith("rate")


def document_text(d) -> tuple[str, list[list[list[str]]]]:
    tables = [[[c.text for c in row.cells] for row in t.rows] for t in d.tables]
    text = "\n".join([p.text for p in d.paragraphs] + ["\t".join(r) for t in tables for r in t])
    return text, tables


def check_document(d, stats):
    text, tables = document_text(d)
    tokens = set(re.findall(r"\d[\d,]*(?:\.\d+)?%?", text))
    missing = [(path, n) for path, n, rate in numbers_of(stats) if not written(n, rate) & tokens]
    assert not missing, missing
    assert stats["rule"]["source"] in text
    # the prose, in the register's wording
    prose = d.paragraphs[1].text
    assert "全年组织行政执法培训5期，参训人员5人、累计11人次，认定学时185学时，人均37学时" in prose
    assert f"按照{SOURCE}（年度培训不少于48学时，其中公共法律知识不少于20学时、专门法律知识不少于12学时，" \
           "线上学时最多计入10学时）" in prose
    assert "应参加考核的5人中，2人达到年度学时要求，达标率40%，3人未达标" in prose
    assert "截至2025年12月31日，现有持证执法人员5人" in prose and "新增执法证2张，注销1张，暂扣1张，吊销1张" in prose
    assert "行政处罚案件4件" in prose and "2件执法人员不足两名或未持有效执法证" in prose
    assert "不足两人的单位2个（执法二队、执法三队）" in prose
    # the tables, each a grid in the built-in style
    assert all(t.style.name == "Table Grid" for t in d.tables)
    rows = {r[0]: r[1:] for t in tables for r in t}
    assert rows["2025年12月31日持有效执法证人数"] == ["5"]
    assert rows["达标率"] == ["40%"] and rows["依据"] == [SOURCE]
    assert rows["2025年度资格考试"] == ["2025年4月10日", "资格考试", "3", "2", "66.67%"]
    assert rows["执法三队"] == ["1", "0"]
    assert rows["不足两名持证执法人员（《中华人民共和国行政处罚法》第四十二条）"] == ["2"]
    # Chinese text in 宋体 for Word (the East Asian font of the Normal style)
    fonts = d.styles["Normal"].element.rPr.rFonts
    assert fonts.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia") == "宋体"


def test_annual_docx_has_every_number_of_the_json(app, runner, set_today, tmp_path):
    set_today(date(2026, 3, 1))
    build_year(app, runner)
    stats = annual_json(runner)
    out = tmp_path / "年度报告.docx"
    result = runner.invoke(args=["report", "annual", "--year", "2025", "--format", "docx", "--out", str(out)])
    assert result.exit_code == 0, result.output
    d = docx.Document(str(out))
    assert d.paragraphs[0].text == "示例街道办事处2025年度行政执法人员资格管理情况"
    check_document(d, stats)
    usage = runner.invoke(args=["report", "annual", "--year", "2025", "--format", "docx"])
    assert usage.exit_code == 2 and "--out" in usage.output


def test_thousands_are_written_with_separators(app, runner, set_today, tmp_path):
    """1,520 人次: a big year keeps its separators (the figures of a year of 1,520 attended rows)."""
    from app.training.annual_docx import num, pct

    assert (num(1520), num(1520.0), num(30.25), num(149.0), num(0), pct(0.6667), pct(1)) == \
        ("1,520", "1,520", "30.25", "149", "0", "66.67%", "100%")


def test_annual_page_downloads_the_document(app, client, runner, set_today):
    set_today(date(2026, 3, 1))
    build_year(app, runner)
    stats = annual_json(runner)
    login(client, app, "viewer")
    page = client.get("/training/annual?year=2025").get_data(as_text=True)
    assert "/training/annual.docx?year=2025" in page and "下载Word报告" in page
    assert SOURCE in page and "达标率" in page
    resp = client.get("/training/annual.docx?year=2025")
    assert resp.status_code == 200
    assert resp.mimetype == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert "filename*=UTF-8''" in resp.headers["Content-Disposition"]
    check_document(docx.Document(io.BytesIO(resp.data)), stats)
    with app.app_context():
        assert _db.session.query(AuditEvent).filter(AuditEvent.action == "export",
                                                    AuditEvent.summary.contains("年度报告")).count() == 1


@pytest.mark.parametrize("year", ["abc", "0", "99999"])
def test_annual_docx_bad_year_is_not_a_500(app, client, year):
    login(client, app, "viewer")
    resp = client.get(f"/training/annual.docx?year={year}")
    assert resp.status_code in (200, 400)
