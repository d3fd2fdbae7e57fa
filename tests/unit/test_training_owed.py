"""年度学时 (docs/domain.md): who owes the hours of a year, and how many — judged by the officer's
任执法岗位日期 (post_since) and the first year of training records, never by when the officer's
row was created (a bulk import records a whole office on one day)."""

from __future__ import annotations

from datetime import date

import pytest

from app.extensions import db as _db
from app.imports.services import OfficerImporter, import_officers
from app.models.officers import Officer
from app.models.training import Attendance, TrainingSession
from app.rules import compliance
from app.settings.services import set_value
from app.training.services import ledger
from app.training.stats import annual_stats, training_report
from tests.factories import id_number
from tests.sheets import xlsx

TODAY = date(2026, 6, 15)
HEAD = ["姓名", "身份证号", "单位", "执法岗位", "在职状态", "任执法岗位日期"]


@pytest.fixture
def imported(db, tmp_path, set_today):
    """Five officers brought in today by the officer import, none with any attendance recorded
    before: 甲 (post date unknown), 乙 (on the post since 1 November last year: 2 months left of
    it), 丙 and 丁 (since 1 July last year: 184 of 365 days, so 60 × 184 / 365 = 30.25 hours owed),
    with 30 and 31 hours last year and 40 this year."""
    set_today(TODAY)
    rows = [HEAD,
            ["甲", id_number(), "综合执法队", "是", "在职", None],
            ["乙", id_number(), "综合执法队", "是", "在职", date(2025, 11, 1)],
            ["丙", id_number(), "综合执法队", "是", "在职", "2025-07-01"],
            ["丁", id_number(), "综合执法队", "是", "在职", "2025年7月1日"]]
    result = import_officers(xlsx(tmp_path / "o.xlsx", rows), "o.xlsx", today=TODAY)
    assert result.created == 4
    ids = {o.name: o.id for o in _db.session.query(Officer)}
    last = TrainingSession(title="执法规范化培训", category="general_law", held_on=date(2025, 9, 1), hours=31)
    this = TrainingSession(title="年度法律知识更新", category="general_law", held_on=date(2026, 3, 1), hours=40)
    _db.session.add_all([last, this])
    _db.session.flush()
    for name, h in (("丙", 30.0), ("丁", 31.0)):
        _db.session.add(Attendance(session_id=last.id, officer_id=ids[name], status="attended", credited_hours=h))
        _db.session.add(Attendance(session_id=this.id, officer_id=ids[name], status="attended", credited_hours=40.0))
    _db.session.flush()
    return ids


def shortfall_flags(today=TODAY):
    p = compliance.Params.from_settings(today)
    return {f["name"]: (f["reason"], f["year"]) for f in compliance.list_flags(p, flags=["TRAINING_SHORTFALL"])}


def test_imported_officers_are_judged_from_post_since_not_from_the_import_day(imported):
    set_value("training_records_since", "2025")
    flags = shortfall_flags()
    assert flags["甲"] == ("shortfall", 2025)      # no date: owed the whole of 2025, had none
    assert flags["乙"] == ("at_risk", 2026)        # 2 months of 2025 left: not judged for 2025
    assert flags["丙"] == ("shortfall", 2025)      # owed 30.25 pro rata, had 30
    assert "丁" not in flags                       # had 31 of 30.25, and 40 this year
    # the ledger, the report and the year's figures say the same
    rows = {r["name"]: r for r in ledger(2025, TODAY, 60.0)}
    assert {n: r["status"] for n, r in rows.items()} == {
        "甲": "shortfall", "乙": "not_judged", "丙": "shortfall", "丁": "met"}
    assert rows["丙"]["required"] == 30.25 and rows["丙"]["shortfall"] == 0.25
    assert rows["甲"]["required"] == 60
    report = {r["name"]: r for r in training_report(2025, 60.0)}
    assert (report["丙"]["required"], report["乙"]["judged"]) == (30.25, False)
    assert annual_stats(2025, 60.0)["officers"]["training_shortfall"] == 2
    # this year's pace: 丙 and 丁 are ahead (40), 甲 and 乙 behind (0 of 60 × 166 / 365)
    this_year = {r["name"]: r["status"] for r in ledger(2026, TODAY, 60.0)}
    assert this_year == {"甲": "at_risk", "乙": "at_risk", "丙": "on_track", "丁": "on_track"}


def test_years_before_the_first_training_records_are_not_judged(imported):
    # no setting: the first year judged is that of the earliest session (2025 here)
    assert shortfall_flags()["甲"] == ("shortfall", 2025)
    set_value("training_records_since", "2026")
    flags = shortfall_flags()
    assert flags["甲"] == ("at_risk", 2026) and "丙" not in flags
    assert {r["status"] for r in ledger(2025, TODAY, 60.0)} == {"not_judged"}


def test_the_import_takes_post_since_and_exports_it_back(imported):
    exported = {r["name"]: r["post_since"] for r in OfficerImporter().export_rows()}
    assert exported == {"甲": None, "乙": date(2025, 11, 1), "丙": date(2025, 7, 1), "丁": date(2025, 7, 1)}
