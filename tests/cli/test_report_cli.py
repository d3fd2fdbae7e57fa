"""`flask report …` on hand-built data (docs/domain.md 命令行约定)."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from app.extensions import db as _db
from app.idnumber import mask
from app.models.audit import AuditEvent
from tests.conftest import TODAY
from tests.factories import CertificateFactory, OfficerFactory, UnitFactory

D = timedelta
ISO = TODAY.isoformat()


@pytest.fixture
def data(app):
    """Two units: 城管科 with an expired and an expiring officer, 社区 with an unlicensed one."""
    with app.app_context():
        a = UnitFactory(name="城市管理科", sort_order=1)
        b = UnitFactory(name="南坪社区", sort_order=2)
        expired = OfficerFactory(name="张三", unit=a)
        CertificateFactory(officer=expired, number="C-EXPIRED", issued_on=TODAY - D(2000),
                           expires_on=TODAY - D(12))
        soon = OfficerFactory(name="李四", unit=a)
        CertificateFactory(officer=soon, number="C-SOON", issued_on=TODAY - D(1000),
                           expires_on=TODAY + D(45))
        fine = OfficerFactory(name="王五", unit=b)
        CertificateFactory(officer=fine, number="C-FINE", issued_on=TODAY - D(100),
                           expires_on=TODAY + D(1500))
        none = OfficerFactory(name="赵六", unit=b)
        _db.session.commit()
        return {o.name: (o.id, o.id_number) for o in (expired, soon, fine, none)}


def row(data, flag, reason, name, unit, number=None, expires=None, days=None):
    oid, idn = data[name]
    return {"flag": flag, "reason": reason, "officer_id": oid, "name": name,
            "id_number_masked": mask(idn), "unit": unit, "certificate_number": number,
            "expires_on": expires.isoformat() if expires else None, "days_left": days}


def run_json(runner, *args):
    result = runner.invoke(args=["report", *args, "--format", "json", "--today", ISO])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_unlicensed_json_is_exactly_the_expected_list(runner, data):
    assert run_json(runner, "unlicensed") == [
        row(data, "UNLICENSED", "expired", "张三", "城市管理科", "C-EXPIRED", TODAY - D(12), -12),
        row(data, "UNLICENSED", "none", "赵六", "南坪社区"),
    ]


def test_expiring_respects_within(runner, data):
    expected = [row(data, "EXPIRING", "expiring", "李四", "城市管理科", "C-SOON", TODAY + D(45), 45)]
    assert run_json(runner, "expiring") == expected  # default: largest reminder window, 90
    assert run_json(runner, "expiring", "--within", "45") == expected
    assert run_json(runner, "expiring", "--within", "44") == []


def test_within_default_follows_the_reminder_windows_setting(runner, data, app):
    from app.settings.services import set_value

    with app.app_context():
        set_value("reminder_windows", "30,7")
        _db.session.commit()
    assert run_json(runner, "expiring") == []


def test_flags_lists_every_flag_and_unit_filter(runner, data):
    # TRAINING_SHORTFALL belongs to the training module (nobody here has any hours): left aside
    everything = [r for r in run_json(runner, "flags") if r["flag"] != "TRAINING_SHORTFALL"]
    assert [(r["flag"], r["unit"], r["name"]) for r in everything] == [
        ("UNLICENSED", "城市管理科", "张三"),
        ("UNLICENSED", "南坪社区", "赵六"),
        ("EXPIRING", "城市管理科", "李四"),
        ("UNIT_UNDERSTAFFED", "城市管理科", None),  # only 李四 holds an effective certificate
        ("UNIT_UNDERSTAFFED", "南坪社区", None),  # only 王五
    ]
    only_b = [r for r in run_json(runner, "flags", "--unit", "南坪社区")
              if r["flag"] != "TRAINING_SHORTFALL"]
    assert [(r["flag"], r["unit"], r["name"]) for r in only_b] == [
        ("UNLICENSED", "南坪社区", "赵六"), ("UNIT_UNDERSTAFFED", "南坪社区", None)]


def test_unknown_unit_is_a_usage_error(runner, data):
    result = runner.invoke(args=["report", "flags", "--unit", "南坪", "--today", ISO])
    assert result.exit_code == 2
    assert "没有名为“南坪”的单位" in result.output
    assert "南坪社区" in result.output  # a close match is suggested
    assert "Traceback" not in result.output


def test_bad_today_is_a_usage_error(runner, data):
    result = runner.invoke(args=["report", "flags", "--today", "2026-13-01"])
    assert result.exit_code == 2
    assert "不是有效日期" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_table_output_has_names_and_aligned_columns(runner, data):
    result = runner.invoke(args=["report", "flags", "--today", ISO])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "张三" in out and "赵六" in out and "李四" in out
    assert "未持证上岗" in out and "已过期12天" in out and "剩余45天" in out
    assert mask(data["张三"][1]) in out
    from app.web.exports import display_width

    lines = out.splitlines()
    header = lines[1]
    # the 单位 column starts at the same display column on every data line
    start = display_width(header[: header.index("单位")])
    for line in lines[3:]:
        for unit in ("城市管理科", "南坪社区"):
            if unit in line:
                assert display_width(line[: line.index(unit)]) == start


def test_csv_file_has_bom_chinese_headers_and_is_audited(runner, data, app, tmp_path):
    out = tmp_path / "flags.csv"
    result = runner.invoke(args=["report", "unlicensed", "--format", "csv", "--out", str(out),
                                 "--today", ISO])
    assert result.exit_code == 0, result.output
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["问题", "原因", "姓名", "身份证号", "单位", "证件编号", "有效期至", "剩余天数"]
    assert rows[1] == ["未持证上岗", "证件已过期", "张三", mask(data["张三"][1]), "城市管理科",
                       "C-EXPIRED", (TODAY - D(12)).isoformat(), "-12"]
    assert rows[2][2] == "赵六" and len(rows) == 3
    with app.app_context():
        events = _db.session.query(AuditEvent).filter_by(action="export").all()
        assert len(events) == 1
        assert events[0].actor.startswith("cli:") and events[0].actor.endswith("report unlicensed")
        assert "2 条" in events[0].summary and str(out) in events[0].summary


def test_xlsx_needs_out(runner, data):
    result = runner.invoke(args=["report", "flags", "--format", "xlsx", "--today", ISO])
    assert result.exit_code == 2
    assert "--out" in result.output


def test_xlsx_has_the_rows_with_real_dates(runner, data, tmp_path):
    out = tmp_path / "问题.xlsx"
    result = runner.invoke(args=["report", "flags", "--format", "xlsx", "--out", str(out), "--today", ISO])
    assert result.exit_code == 0, result.output
    ws = load_workbook(out).active
    values = [v for v in ws.iter_rows(values_only=True) if v[0] != "年度学时不足"]
    assert values[0] == ("问题", "原因", "姓名", "身份证号", "单位", "证件编号", "有效期至", "剩余天数")
    assert ws.freeze_panes == "A2"
    assert ws["A1"].font.bold
    by_name = {v[2]: v for v in values[1:]}
    assert by_name["张三"][6].date() == TODAY - D(12)  # a real date cell, not text
    assert by_name["张三"][7] == -12
    assert by_name["李四"][0] == "证件即将到期"
    assert len(values) == 6  # header + 张三, 赵六, 李四 + two understaffed units
    assert f"已导出 {ws.max_row - 1} 条" in result.output


def test_json_to_stdout_has_nothing_else_and_empty_is_an_array(runner, app):
    result = runner.invoke(args=["report", "flags", "--format", "json", "--today", ISO])
    assert result.exit_code == 0
    assert json.loads(result.output) == []


def test_unwritable_out_is_a_usage_error(runner, data, tmp_path):
    result = runner.invoke(args=["report", "flags", "--format", "csv", "--out",
                                 str(tmp_path / "missing" / "x.csv"), "--today", ISO])
    assert result.exit_code == 2
    assert "无法写入文件" in result.output
