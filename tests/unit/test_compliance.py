"""Every rule of docs/domain.md (合规提示) at its edges, on hand-built data."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.rules import compliance, timeline
from tests.conftest import TODAY
from tests.factories import CertificateFactory, OfficerFactory, UnitFactory

D = timedelta


def flags(today=TODAY, within=90, **kw):
    # TRAINING_SHORTFALL has its own tests (tests/unit/test_training.py); these are about certificates.
    return compliance.list_flags(compliance.Params(today=today, within=within, include_training=False), **kw)


def of(officer, today=TODAY, within=90):
    return {(f["flag"], f["reason"]) for f in flags(today, within) if f["officer_id"] == officer.id}


def cert(officer, issued=TODAY - D(365), expires=TODAY + D(1000), status="valid", kind="enforcement", **kw):
    return CertificateFactory(officer=officer, issued_on=issued, expires_on=expires, status=status,
                              kind=kind, **kw)


@pytest.mark.parametrize(
    ("expires_in", "expected"),
    [
        (0, {("EXPIRING", "expiring")}),  # expires today: still effective, expiring
        (90, {("EXPIRING", "expiring")}),  # the edge of the window
        (91, set()),  # just outside
        (-1, {("UNLICENSED", "expired")}),  # expired yesterday
    ],
)
def test_expiry_edges(db, expires_in, expected):
    o = OfficerFactory()
    cert(o, expires=TODAY + D(expires_in))
    assert of(o) == expected


def test_days_left_and_certificate_number_in_output(db):
    o = OfficerFactory(name="张三")
    c = cert(o, expires=TODAY + D(30))
    (row,) = [f for f in flags() if f["officer_id"] == o.id]
    assert row["days_left"] == 30
    assert row["certificate_number"] == c.number
    assert row["expires_on"] == (TODAY + D(30)).isoformat()
    assert row["name"] == "张三"
    assert row["id_number_masked"] == o.id_number[:6] + "********" + o.id_number[-4:]


def test_within_parameter(db):
    o = OfficerFactory()
    cert(o, expires=TODAY + D(45))
    assert ("EXPIRING", "expiring") in of(o, within=45)
    assert of(o, within=44) == set()


def test_issued_tomorrow_is_not_yet_valid(db):
    o = OfficerFactory()
    cert(o, issued=TODAY + D(1), expires=TODAY + D(1800))
    assert of(o) == {("UNLICENSED", "not_yet_valid")}


def test_issued_today_is_effective(db):
    o = OfficerFactory()
    cert(o, issued=TODAY, expires=TODAY + D(1800))
    assert of(o) == set()


@pytest.mark.parametrize("status", ["suspended", "revoked", "cancelled", "applying", "lost", "replaced"])
def test_latest_certificate_status_is_the_reason(db, status):
    o = OfficerFactory()
    cert(o, status=status)
    assert ("UNLICENSED", status) in of(o)


def test_no_certificate(db):
    o = OfficerFactory()
    assert of(o) == {("UNLICENSED", "none")}


def test_supervision_certificate_only_is_unlicensed(db):
    o = OfficerFactory()
    cert(o, kind="supervision")
    assert of(o) == {("UNLICENSED", "none")}


def test_old_expired_card_next_to_new_valid_one(db):
    o = OfficerFactory()
    cert(o, issued=TODAY - D(6 * 365), expires=TODAY - D(300))
    cert(o, issued=TODAY - D(300), expires=TODAY + D(1500))
    assert of(o) == set()


def test_new_card_applying_next_to_old_expired_one(db):
    o = OfficerFactory()
    cert(o, issued=TODAY - D(6 * 365), expires=TODAY - D(3))
    cert(o, issued=TODAY - D(10), expires=TODAY + D(1800), status="applying")
    assert of(o) == {("UNLICENSED", "applying")}


def test_two_overlapping_effective_cards_use_the_later_expiry(db):
    o = OfficerFactory()
    cert(o, issued=TODAY - D(1700), expires=TODAY + D(20))
    c2 = cert(o, issued=TODAY - D(30), expires=TODAY + D(1700))
    assert of(o) == set()
    # and when both are expiring, one flag only, for the later one
    o2 = OfficerFactory()
    cert(o2, issued=TODAY - D(1700), expires=TODAY + D(20))
    c3 = cert(o2, issued=TODAY - D(1600), expires=TODAY + D(60))
    rows = [f for f in flags() if f["officer_id"] == o2.id]
    assert [(r["flag"], r["certificate_number"], r["days_left"]) for r in rows] == [("EXPIRING", c3.number, 60)]
    assert c2.number != c3.number


@pytest.mark.parametrize("status", ["retired", "transferred", "resigned", "dismissed"])
def test_not_active_with_valid_card_should_be_cancelled(db, status):
    o = OfficerFactory(employment_status=status)
    cert(o)
    assert of(o) == {("SHOULD_CANCEL", "not_active")}


def test_off_post_with_suspended_card_should_be_cancelled(db):
    o = OfficerFactory(on_enforcement_post=False)
    cert(o, status="suspended")
    assert of(o) == {("SHOULD_CANCEL", "off_post")}


def test_retired_with_expired_or_cancelled_card_is_fine(db):
    o = OfficerFactory(employment_status="retired")
    cert(o, issued=TODAY - D(2000), expires=TODAY - D(1))
    cert(o, status="cancelled")
    assert of(o) == set()


def test_should_cancel_counts_card_expiring_today(db):
    o = OfficerFactory(on_enforcement_post=False)
    cert(o, expires=TODAY)
    assert of(o) == {("SHOULD_CANCEL", "off_post")}


def test_off_post_without_card_has_no_flag(db):
    o = OfficerFactory(on_enforcement_post=False)
    assert of(o) == set()


@pytest.mark.parametrize("establishment", ["contract", "temporary", "auxiliary", "seconded"])
def test_ineligible_on_post(db, establishment):
    o = OfficerFactory(establishment=establishment)
    cert(o)
    assert of(o) == {("INELIGIBLE", establishment)}


def test_ineligible_off_post_but_holding_effective_card(db):
    o = OfficerFactory(establishment="contract", on_enforcement_post=False)
    cert(o)
    assert of(o) == {("INELIGIBLE", "contract"), ("SHOULD_CANCEL", "off_post")}


def test_ineligible_off_post_without_card_is_fine(db):
    o = OfficerFactory(establishment="contract", on_enforcement_post=False)
    assert of(o) == set()


def test_ineligible_set_is_a_parameter(db):
    o = OfficerFactory(establishment="public_institution")
    cert(o)
    p = compliance.Params(today=TODAY, eligible=("civil_servant",), include_training=False)
    assert {(f["flag"], f["reason"]) for f in compliance.list_flags(p) if f["officer_id"] == o.id} == {
        ("INELIGIBLE", "public_institution")}


def test_unit_understaffed(db):
    small = UnitFactory(name="小科室")
    big = UnitFactory(name="大科室")
    a = OfficerFactory(unit=small)
    cert(a)
    OfficerFactory(unit=small, on_enforcement_post=False)
    cert(OfficerFactory(unit=small, employment_status="retired"))  # does not count
    for _ in range(2):
        cert(OfficerFactory(unit=big))
    OfficerFactory(unit=UnitFactory(name="空科室"), on_enforcement_post=False)  # nobody on post: no flag
    units = [f for f in flags() if f["flag"] == "UNIT_UNDERSTAFFED"]
    assert [(u["unit"], u["officer_id"], u["name"], u["id_number_masked"]) for u in units] == [
        ("小科室", None, None, None)]


def test_each_flag_at_most_once_per_officer(db):
    o = OfficerFactory(establishment="auxiliary")
    for i in range(3):
        cert(o, issued=TODAY - D(100 + i), expires=TODAY + D(10 + i))
    codes = [f["flag"] for f in flags() if f["officer_id"] == o.id]
    assert sorted(codes) == ["EXPIRING", "INELIGIBLE"]


def test_today_is_a_parameter(db):
    o = OfficerFactory()
    cert(o, issued=date(2020, 1, 1), expires=date(2024, 12, 31))
    assert of(o, today=date(2024, 12, 31)) == {("EXPIRING", "expiring")}
    assert of(o, today=date(2025, 1, 1)) == {("UNLICENSED", "expired")}
    assert of(o, today=date(2019, 12, 31)) == {("UNLICENSED", "not_yet_valid")}
    assert of(o, today=date(2024, 1, 1)) == set()


def test_counts_match_the_list(db):
    for status in ("valid", "suspended", "revoked"):
        cert(OfficerFactory(), status=status)
    OfficerFactory()
    p = compliance.Params(today=TODAY)
    counts = compliance.count_by_flag(p)
    assert counts["UNLICENSED"] == 3
    assert counts["UNLICENSED"] == sum(1 for f in compliance.list_flags(p) if f["flag"] == "UNLICENSED")


def test_one_officers_flags_equal_their_rows_in_the_whole_list(db):
    """officer_flags computes for one officer only; it must agree with the full list."""
    unit = UnitFactory()
    a = OfficerFactory(unit=unit, establishment="auxiliary")
    cert(a, expires=TODAY + D(10))
    b = OfficerFactory(unit=unit)
    cert(b, status="suspended")
    c = OfficerFactory(unit=unit, on_enforcement_post=False)
    cert(c)
    p = compliance.Params(today=TODAY)  # training included: nobody has hours
    everyone = compliance.list_flags(p)
    for o in (a, b, c):
        mine = compliance.officer_flags(p, o.id)
        # the same rows, less the training shortfall's details (the officer page shows the year's parts)
        assert mine == [{k: v for k, v in f.items() if k not in ("missing", "total_gap")}
                        for f in everyone if f["officer_id"] == o.id]
        assert mine  # each of them carries something
    assert {f["flag"] for f in compliance.officer_flags(p, a.id)} == {"EXPIRING", "INELIGIBLE", "TRAINING_SHORTFALL"}


def test_statements_kept_between_requests_read_the_data_of_now(db):
    """count_by_flag and flags_page keep their built statements (same Params, same filters): the
    second call must still see a certificate saved in between, and other arguments their own."""
    o = OfficerFactory()
    p = compliance.Params(today=TODAY, include_training=False)
    figures = {"certified": lambda st, d: st.c.eff_key.is_not(None),
               "expiring_30": lambda st, d: compliance.expires_by(st, d + D(30))}
    assert compliance.count_by_flag(p, figures)["UNLICENSED"] == 1
    counts, rows, _ = compliance.flags_page(p, flag="UNLICENSED")
    assert [(r["officer_id"], r["reason"]) for r in rows] == [(o.id, "none")]
    cert(o, expires=TODAY + D(30))
    again = compliance.count_by_flag(p, figures)
    assert (again["UNLICENSED"], again["EXPIRING"], again["certified"], again["expiring_30"]) == (0, 1, 1, 1)
    counts, rows, _ = compliance.flags_page(p, flag="UNLICENSED")
    assert rows == [] and ("UNLICENSED", "none") not in counts and counts[("EXPIRING", "expiring")] == 1
    assert compliance.count_by_flag(compliance.Params(today=TODAY + D(1), include_training=False),
                                    figures)["expiring_30"] == 1
    assert compliance.count_by_flag(compliance.Params(today=TODAY, within=29, include_training=False),
                                    figures)["EXPIRING"] == 0
    _, rows, _ = compliance.flags_page(compliance.Params(today=TODAY + D(31), include_training=False))
    assert [(r["flag"], r["reason"]) for r in rows] == [("UNLICENSED", "expired"),
                                                        ("UNIT_UNDERSTAFFED", "understaffed")]


@pytest.mark.parametrize("day", [date(1970, 1, 1), date(2000, 2, 29), TODAY, date(2099, 12, 31)])
def test_day_number_in_sql_is_epoch_days_in_python(db, day):
    """expires_by compares the packed key with a bound computed in Python: both count days the same."""
    from sqlalchemy import Date, literal, select

    from app.extensions import db as _db

    got = _db.session.scalar(select(timeline.day_number(literal(day, Date))))
    assert got == timeline.epoch_days(day) == (day - date(1970, 1, 1)).days


def test_sqlite_reads_officers_for_the_flags_from_the_index_not_the_photo_rows(db):
    """SQLite keeps an officer's photo (up to 2 MB) inline in its row, with created_at behind it:
    the flags statement must read every officer from ix_officer_flag_columns, never scan the
    table (a scan reads the photos too: notes/benchmarks.md)."""
    from sqlalchemy import func, select

    from app.extensions import db as _db

    if _db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's row layout (PostgreSQL keeps large values out of line)")
    sub = compliance.flags_select(compliance.Params(today=TODAY))
    stmt = select(sub.c.flag, func.count()).group_by(sub.c.flag).compile(
        _db.engine, compile_kwargs={"literal_binds": True})
    plan = [row[3] for row in _db.session.execute(_db.text(f"EXPLAIN QUERY PLAN {stmt}"))]
    officer_reads = [step for step in plan if step.split()[:2] in (["SCAN", "officer"], ["SEARCH", "officer"])]
    assert officer_reads and all("COVERING INDEX ix_officer_flag_columns" in step for step in officer_reads), plan
