"""The year's per-unit figures (`units` of `flask report annual`, its Word table) count each officer
and their card in the unit they belonged to on 31 December of the year (today for the current
year), from the unit history — not in the unit they work in now."""

from __future__ import annotations

import json
from datetime import date

import docx

from app.extensions import db as _db
from app.models.officers import Officer, Unit
from app.rules.transfers import transfer
from tests.factories import CertificateFactory, OfficerFactory, UnitFactory

TODAY = date(2026, 6, 15)


def _year(runner, year: int) -> dict:
    result = runner.invoke(args=["report", "annual", "--year", str(year), "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)["units"]


def test_a_transfer_moves_the_officer_and_card_between_units_from_its_date(app, runner, set_today, tmp_path):
    set_today(TODAY)
    with app.app_context():
        a, b = UnitFactory(name="甲所"), UnitFactory(name="乙所")
        mover = OfficerFactory(name="调动甲", unit=a)
        for o in (mover, OfficerFactory(name="留守乙", unit=a), OfficerFactory(name="本所丙", unit=b)):
            CertificateFactory(officer=o, issued_on=date(2024, 1, 1), expires_on=date(2029, 12, 31))
        OfficerFactory(name="无证丁", unit=a)
        _db.session.flush()
        transfer(_db.session.get(Officer, mover.id), _db.session.get(Unit, b.id), date(2026, 3, 1), today=TODAY)
        _db.session.commit()

    # end of 2025: 调动甲 still in 甲所 (3 on post, 2 holders: not below two); 乙所 has 1 holder
    u2025 = _year(runner, 2025)
    assert u2025["with_officers_on_post"] == 2
    assert u2025["below_two_list"] == [{"unit": "乙所", "on_post": 1, "holders": 1}]
    # 2026 (today): 调动甲 and their card in 乙所; 甲所 is left with one holder
    u2026 = _year(runner, 2026)
    assert u2026["with_officers_on_post"] == 2
    assert u2026["below_two_list"] == [{"unit": "甲所", "on_post": 2, "holders": 1}]

    # the Word report's table of units below two, for 2025
    out = tmp_path / "2025.docx"
    result = runner.invoke(args=["report", "annual", "--year", "2025", "--format", "docx", "--out", str(out)])
    assert result.exit_code == 0, result.output
    table = docx.Document(str(out)).tables[-1]
    assert [[c.text for c in r.cells] for r in table.rows[1:]] == [["乙所", "1", "1"]]
