"""Issue 10: an officer recorded this year or last is not flagged 上年度学时不足 for a year in which
they were not yet employed here; one recorded long ago is."""

from __future__ import annotations

from datetime import date, datetime

from app import compliance
from tests.factories import OfficerFactory


def test_just_recorded_officer_is_not_short_of_last_years_hours(db):
    today = date.today()
    veteran = OfficerFactory(name="老员工")
    veteran.created_at = datetime(today.year - 3, 5, 1)
    newcomer = OfficerFactory(name="新员工")  # recorded now (a new hire or a fresh import)
    db.session.flush()
    p = compliance.Params.from_settings(today)
    flags = {f["officer_id"]: f["reason"] for f in compliance.list_flags(p, flags=["TRAINING_SHORTFALL"])}
    assert flags.get(veteran.id) == "shortfall"
    assert newcomer.id not in flags
