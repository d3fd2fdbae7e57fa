"""Exports neutralise spreadsheet formulas (OWASP CSV injection) and keep numbers and dates typed."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook

from app.extensions import db as _db
from tests.conftest import TODAY, login
from tests.factories import CertificateFactory, OfficerFactory, UnitFactory

FORMULA = '=HYPERLINK("http://x","y")'


@pytest.fixture(autouse=True)
def _today(set_today):
    set_today(TODAY)


@pytest.fixture
def evil(app):
    with app.app_context():
        unit = UnitFactory(name="@SUM(1+1)*cmd")
        officer = OfficerFactory(name=FORMULA, unit=unit)
        CertificateFactory(officer=officer, number="-2+3+cmd|' /C calc'!A0",
                           issued_on=TODAY - timedelta(2000), expires_on=TODAY - timedelta(12))
        _db.session.commit()


def test_flags_xlsx_cells_are_strings_not_formulas(client, app, evil):
    login(client, app, "viewer")
    resp = client.get("/flags.xlsx?flag=UNLICENSED")
    assert resp.status_code == 200
    ws = load_workbook(io.BytesIO(resp.data)).active
    assert "问题：未持证上岗" in ws["A1"].value  # the filters in the title row, the headers below
    header = [c.value for c in ws[2]]
    row = {h: c for h, c in zip(header, ws[3], strict=True)}
    name = row["姓名"]
    # text as typed, stored as text with Excel's quote prefix (editing the cell keeps it text)
    assert name.data_type == "s" and name.value == FORMULA and name.quotePrefix
    assert row["单位"].data_type == "s" and row["单位"].value == "@SUM(1+1)*cmd" and row["单位"].quotePrefix
    assert row["证件编号"].value.startswith("-2+3") and row["证件编号"].data_type == "s"
    # real numbers and dates stay typed: a negative number is still a number
    assert row["剩余天数"].data_type == "n" and row["剩余天数"].value == -12
    assert row["有效期至"].is_date and row["有效期至"].value.date() == TODAY - timedelta(12)
    assert not any(c.data_type == "f" for line in ws.iter_rows() for c in line)


def test_flags_csv_cells_are_prefixed(client, app, evil):
    login(client, app, "viewer")
    resp = client.get("/flags.csv?flag=UNLICENSED")
    rows = list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))
    line = dict(zip(rows[0], rows[1], strict=True))
    assert line["姓名"] == "'" + FORMULA
    assert line["单位"] == "'@SUM(1+1)*cmd"
    assert line["证件编号"].startswith("'-2+3")
    assert line["剩余天数"] == "-12"  # a number, written as a number
    assert line["有效期至"] == (TODAY - timedelta(12)).isoformat()


def test_cli_csv_report_is_prefixed_too(runner, app, evil):
    result = runner.invoke(args=["report", "flags", "--format", "csv", "--today", TODAY.isoformat()])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.output)))
    assert rows[1][2] == "'" + FORMULA


@pytest.mark.parametrize("value, expected", [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@x", "'@x"), ("\tx", "'\tx"),
    ("\rx", "'\rx"), ("张三", "张三"), ("", ""), (-5, -5), (3.5, 3.5), (None, None),
    (date(2024, 3, 1), date(2024, 3, 1)),
])
def test_safe_cell(value, expected):
    from app.web.exports import safe_cell

    assert safe_cell(value) == expected
