"""`flask import transfers|departures FILE`: every row checked, problems by row and column, nothing
written unless all pass; what is written is what the officer page's 调动 / 离岗 writes."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from app.cases import services as cases
from app.extensions import db as _db
from app.models.audit import AuditEvent
from app.models.cases import CaseUnit, PenaltyCase
from app.models.officers import CardCancelTask, Officer, OfficerUnitHistory, Unit
from app.rules import case_units as branches
from tests.factories import CertificateFactory, OfficerFactory, UnitFactory, id_number
from tests.sheets import xlsx

TODAY = "2026-06-15"


def _people(app):
    with app.app_context():
        a, b, c = UnitFactory(name="甲所"), UnitFactory(name="乙所"), UnitFactory(name="丙所")
        one = OfficerFactory(name="调动一", unit=a)
        two = OfficerFactory(name="调动二", unit=a)
        CertificateFactory(officer=one, number="ZF-M1", issued_on=date(2024, 1, 1), expires_on=date(2029, 1, 1))
        CertificateFactory(officer=OfficerFactory(unit=b), number="ZF-M9", issued_on=date(2024, 1, 1),
                           expires_on=date(2029, 1, 1))
        for no, day in (("罚-早", date(2025, 2, 1)), ("罚-晚", date(2025, 4, 1))):
            cases.save_case(None, {"case_no": no, "title": "", "decided_on": day, "opened_on": None, "unit": "",
                                   "certificate_numbers": ["ZF-M1", "ZF-M9"]})
        _db.session.commit()
        return {"one": (one.id, one.id_number), "two": (two.id, two.id_number), "units": (a.id, b.id, c.id)}


def _history(oid):
    h = OfficerUnitHistory
    return [(u, f, t) for u, f, t in _db.session.execute(
        select(Unit.name, h.from_on, h.to_on).join(Unit, Unit.id == h.unit_id).where(h.officer_id == oid)
        .order_by(h.from_on))]


def test_transfers_are_imported_with_their_dates(app, runner, tmp_path):
    p = _people(app)
    path = xlsx(tmp_path / "t.xlsx", [
        ["姓名", "身份证号", "调入单位", "日期", "文号", "原因"],
        ["调动一", p["one"][1], "乙所", date(2025, 3, 1), "区人社〔2025〕12号", "工作需要"],
        ["调动一", p["one"][1], "丙所", date(2026, 1, 1), "区人社〔2026〕1号", ""],
        ["", p["two"][1], "丙所", "2026-05-01", "", ""],
    ])
    dry = runner.invoke(args=["import", "transfers", str(path), "--dry-run", "--today", TODAY])
    assert dry.exit_code == 0, dry.output
    assert "校验通过，未写入任何数据" in dry.output
    with app.app_context():
        assert _db.session.scalar(select(func.count()).select_from(OfficerUnitHistory)) == 0
    result = runner.invoke(args=["import", "transfers", str(path), "--today", TODAY])
    assert result.exit_code == 0, result.output
    assert "调动 3 条（涉及 2 人）" in result.output
    with app.app_context():
        assert _history(p["one"][0]) == [("甲所", date(1900, 1, 1), date(2025, 3, 1)),
                                         ("乙所", date(2025, 3, 1), date(2026, 1, 1)),
                                         ("丙所", date(2026, 1, 1), None)]
        one = _db.session.get(Officer, p["one"][0])
        assert one.unit.name == "丙所" and one.version == 2
        assert _db.session.get(Officer, p["two"][0]).unit.name == "丙所"
        units = {no: set(_db.session.scalars(select(Unit.name).join(CaseUnit, CaseUnit.unit_id == Unit.id)
                                             .join(PenaltyCase, PenaltyCase.id == CaseUnit.case_id)
                                             .where(PenaltyCase.case_no == no))) for no in ("罚-早", "罚-晚")}
        assert units == {"罚-早": {"甲所", "乙所"}, "罚-晚": {"乙所"}}  # ZF-M9's holder is in 乙所 throughout
        assert branches.differences(_db.session) == []
        summaries = list(_db.session.scalars(select(AuditEvent.summary).where(AuditEvent.entity_id == p["one"][0])
                                             .order_by(AuditEvent.id)))
        assert any("甲所 → 乙所，2025年3月1日，文号 区人社〔2025〕12号" in s for s in summaries)


def test_bad_transfer_rows_are_refused_by_row_and_column_and_nothing_is_written(app, runner, tmp_path):
    p = _people(app)
    path = xlsx(tmp_path / "t.xlsx", [
        ["姓名", "身份证号", "调入单位", "日期", "文号"],
        ["调动一", p["one"][1], "乙所", date(2025, 3, 1), "甲"],        # fine alone
        ["别人", p["two"][1], "乙所", date(2025, 3, 1), ""],             # 2: name mismatch
        ["", id_number(), "乙所", date(2025, 3, 1), ""],                 # 3: unknown person
        ["", p["two"][1], "不存在所", date(2025, 3, 1), ""],              # 4: unknown unit
        ["", p["two"][1], "乙所", date(2026, 7, 1), ""],                 # 5: future
        ["", p["two"][1], "甲所", date(2025, 3, 1), ""],                 # 6: already there
        ["", p["one"][1], "丙所", date(2025, 3, 1), ""],                 # 7: same day as row 2
        ["", p["two"][1], "乙所", "不是日期", ""],                        # 8: not a date
    ])
    result = runner.invoke(args=["import", "transfers", str(path), "--today", TODAY])
    assert result.exit_code == 1
    out = result.output
    assert "第 3 行，列“姓名”：姓名“别人”与身份证号登记的姓名“调动二”不一致" in out
    assert "第 4 行，列“身份证号”：系统中没有身份证号为" in out
    assert "第 5 行，列“调入单位”：单位“不存在所”未登记" in out
    assert "第 6 行，列“日期”：调动日期2026年7月1日晚于今天" in out
    assert "第 7 行，列“日期”：须晚于同一人第 3 行的调动日期2025年3月1日" in out  # 调动二 again that day
    assert "第 8 行，列“日期”：须晚于同一人第 2 行的调动日期2025年3月1日" in out
    assert "第 9 行，列“日期”" in out
    assert "未写入任何数据" in out
    with app.app_context():
        assert _db.session.scalar(select(func.count()).select_from(OfficerUnitHistory)) == 0
        assert {o.unit.name for o in _db.session.scalars(select(Officer).where(Officer.name.like("调动%")))} == {"甲所"}
    path = xlsx(tmp_path / "s.xlsx", [["身份证号", "调入单位", "日期"], [p["two"][1], "甲所", date(2025, 3, 1)]])
    result = runner.invoke(args=["import", "transfers", str(path), "--today", TODAY])
    assert result.exit_code == 1 and "第 2 行，列“调入单位”：“调动二”此时已在“甲所”，无需调动" in result.output


def test_departures_are_imported_and_open_cancel_tasks(app, runner, tmp_path):
    p = _people(app)
    path = xlsx(tmp_path / "d.xlsx", [
        ["身份证号", "类型", "日期", "文号"],
        [p["one"][1], "调离", date(2026, 6, 1), "区人社〔2026〕30号"],   # the old label still reads as 调出
        [p["two"][1], "退休", date(2026, 5, 31), ""],
    ])
    result = runner.invoke(args=["import", "departures", str(path), "--today", TODAY])
    assert result.exit_code == 0, result.output
    assert "离岗 2 人" in result.output
    with app.app_context():
        one, two = _db.session.get(Officer, p["one"][0]), _db.session.get(Officer, p["two"][0])
        assert (one.employment_status, one.status_changed_on) == ("transferred", date(2026, 6, 1))
        assert (two.employment_status, two.status_changed_on) == ("retired", date(2026, 5, 31))
        task = _db.session.scalar(select(CardCancelTask))
        assert (task.officer_id, task.departure, task.due_on) == (one.id, "transferred", date(2026, 7, 1))
        summary = _db.session.scalar(select(AuditEvent.summary).where(AuditEvent.entity_id == one.id,
                                                                      AuditEvent.summary.like("登记离岗%")))
        assert "调出，2026年6月1日，文号 区人社〔2026〕30号；待注销证件 ZF-M1" in summary
    again = runner.invoke(args=["import", "departures", str(path), "--today", TODAY])
    assert again.exit_code == 1 and "已不在职，不能再登记离岗" in again.output


def test_bad_departure_rows_are_refused_by_row_and_column_and_nothing_is_written(app, runner, tmp_path):
    p = _people(app)
    path = xlsx(tmp_path / "d.xlsx", [
        ["身份证号", "类型", "日期"],
        [p["one"][1], "退休", date(2026, 6, 1)],
        [p["one"][1], "辞职", date(2026, 6, 1)],   # 3: the same person again
        [p["two"][1], "放假", date(2026, 6, 1)],   # 4: unknown type
        [p["two"][1], "辞职", date(2026, 6, 16)],  # 5: future (and again the same person as row 4)
        ["123", "辞职", date(2026, 6, 1)],          # 6: malformed ID number
    ])
    result = runner.invoke(args=["import", "departures", str(path), "--today", TODAY])
    assert result.exit_code == 1
    out = result.output
    assert "第 3 行，列“身份证号”：与第 2 行是同一人" in out
    assert "第 4 行，列“类型”：未知的类型“放假”" in out
    assert "第 5 行，列“身份证号”：与第 4 行是同一人" in out
    assert "第 6 行，列“身份证号”" in out
    with app.app_context():
        assert set(_db.session.scalars(select(Officer.employment_status))) == {"active"}
        assert _db.session.scalar(select(func.count()).select_from(CardCancelTask)) == 0


def test_units_import_reads_the_enforcement_fields(app, runner, tmp_path):
    path = xlsx(tmp_path / "u.xlsx", [["单位名称", "执法类别"], ["执法一队", "城市管理，市场监管"], ["办公室", ""]])
    result = runner.invoke(args=["import", "units", str(path)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert dict(_db.session.execute(select(Unit.name, Unit.enforcement_fields)).all()) == {
            "执法一队": "城市管理、市场监管", "办公室": ""}
    # a file without the column leaves them as they are
    path = xlsx(tmp_path / "v.xlsx", [["单位名称", "排序号"], ["执法一队", 3]])
    assert runner.invoke(args=["import", "units", str(path)]).exit_code == 0
    with app.app_context():
        assert (_db.session.scalar(select(Unit.enforcement_fields).where(Unit.name == "执法一队"))
                == "城市管理、市场监管")


def test_the_officer_import_still_reads_the_old_status_label(app, runner, tmp_path):
    with app.app_context():
        o = OfficerFactory(name="旧称")
        _db.session.commit()
        number = o.id_number
    path = xlsx(tmp_path / "o.xlsx", [["姓名", "身份证号", "单位", "在职状态"], ["旧称", number, "甲所", "调离"]])
    result = runner.invoke(args=["import", "officers", str(path), "--today", TODAY])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert _db.session.scalar(select(Officer.employment_status)) == "transferred"
        from app.labels import EMPLOYMENT_STATUSES

        assert EMPLOYMENT_STATUSES["transferred"] == "调出"
