"""The case check (docs/domain.md 案件核查): two officers certified on each of the case's dates.

Histories are built through the certificate services (create_certificate, transition), so each
status change is a dated CertificateEvent exactly as the pages and imports record it.
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest

from app.cases import services
from app.certificates.services import create_certificate, transition
from app.models.cases import PenaltyCase
from tests.conftest import TODAY
from tests.factories import OfficerFactory

D = timedelta
SUSPEND = date(2025, 7, 10)
_SEQ = itertools.count(1)


def card(officer, number, *, issued=date(2024, 1, 1), expires=date(2028, 12, 31), kind="enforcement",
         status="valid"):
    return create_certificate(officer, {"number": number, "issued_on": issued, "expires_on": expires,
                                        "kind": kind}, status=status, today=TODAY)


def act(cert, action, on, **kw):
    return transition(cert, action, effective_on=on, reason="测试", today=TODAY, **kw)


def officer_with(number, **kw):
    o = OfficerFactory()
    return o, card(o, number, **kw)


def case(numbers, decided, opened=None, case_no=None):
    c = services.save_case(None, {"case_no": case_no or f"罚〔{decided.year}〕{next(_SEQ)}号",
                                  "decided_on": decided, "opened_on": opened,
                                  "certificate_numbers": list(numbers)})
    return c


def verdict(c: PenaltyCase):
    from sqlalchemy import select

    v = services.judge(select(PenaltyCase.id).where(PenaltyCase.id == c.id))[c.id]
    return v.ok, [(p["certificate_number"], p["date"], p["reason"]) for p in v.problems]


FEW = (None, None, "fewer_than_two")


def test_two_valid_officers_ok(db):
    officer_with("A1")
    officer_with("B1")
    assert verdict(case(["A1", "B1"], date(2025, 7, 1))) == (True, [])


@pytest.mark.parametrize("action,reason", [("suspend", "suspended"), ("revoke", "revoked"),
                                           ("cancel", "cancelled"), ("lose", "lost")])
def test_status_event_takes_effect_on_its_own_date(db, action, reason):
    _o, a = officer_with("A1")
    officer_with("B1")
    act(a, action, SUSPEND)
    assert verdict(case(["A1", "B1"], SUSPEND - D(1))) == (True, [])
    assert verdict(case(["A1", "B1"], SUSPEND)) == (False, [("A1", SUSPEND.isoformat(), reason), FEW])
    assert verdict(case(["A1", "B1"], SUSPEND + D(1))) == (
        False, [("A1", (SUSPEND + D(1)).isoformat(), reason), FEW])


def test_restored_card_counts_again_from_the_restore_date(db):
    _o, a = officer_with("A1")
    officer_with("B1")
    act(a, "suspend", SUSPEND)
    act(a, "restore", date(2025, 7, 20))
    assert verdict(case(["A1", "B1"], date(2025, 7, 19)))[1][0][2] == "suspended"
    assert verdict(case(["A1", "B1"], date(2025, 7, 20))) == (True, [])


def test_expiry_day_is_inclusive_and_the_day_after_expired(db):
    officer_with("A1", expires=date(2025, 12, 31))
    officer_with("B1")
    assert verdict(case(["A1", "B1"], date(2025, 12, 31))) == (True, [])
    assert verdict(case(["A1", "B1"], date(2026, 1, 1))) == (
        False, [("A1", "2026-01-01", "expired"), FEW])


def test_not_yet_valid_the_day_before_issue(db):
    officer_with("A1", issued=date(2025, 3, 1))
    officer_with("B1")
    assert verdict(case(["A1", "B1"], date(2025, 2, 28))) == (
        False, [("A1", "2025-02-28", "not_yet_valid"), FEW])
    assert verdict(case(["A1", "B1"], date(2025, 3, 1))) == (True, [])


def test_stored_state_wins_over_expiry(db):
    _o, a = officer_with("A1", expires=date(2025, 6, 30))
    officer_with("B1")
    act(a, "revoke", date(2025, 5, 1))
    assert verdict(case(["A1", "B1"], date(2025, 7, 1)))[1][0] == ("A1", "2025-07-01", "revoked")


def test_applying_card_on_any_date(db):
    officer_with("A1", status="applying")
    officer_with("B1")
    assert verdict(case(["A1", "B1"], date(2025, 7, 1))) == (
        False, [("A1", "2025-07-01", "applying"), FEW])


def test_issued_after_applying_counts_from_the_issue_date(db):
    _o, a = officer_with("A1", status="applying", issued=date(2025, 1, 1))
    officer_with("B1")
    act(a, "issue", date(2025, 3, 1))
    assert verdict(case(["A1", "B1"], date(2025, 2, 28)))[1][0][2] == "applying"
    assert verdict(case(["A1", "B1"], date(2025, 3, 1))) == (True, [])


def test_unknown_number_has_no_date(db):
    officer_with("B1")
    assert verdict(case(["NOPE", "B1"], date(2025, 7, 1), opened=date(2025, 6, 1))) == (
        False, [("NOPE", None, "unknown"), FEW])


def test_supervision_certificate_does_not_authorise(db):
    officer_with("S1", kind="supervision")
    officer_with("B1")
    assert verdict(case(["S1", "B1"], date(2025, 7, 1))) == (
        False, [("S1", "2025-07-01", "supervision"), FEW])


def test_supervision_number_of_a_certified_officer_is_outdated_number(db):
    o, _s = officer_with("S1", kind="supervision")
    card(o, "A1")
    officer_with("B1")
    assert verdict(case(["S1", "B1"], date(2025, 7, 1))) == (True, [("S1", "2025-07-01", "outdated_number")])


def test_enforcement_certificate_preferred_when_a_supervision_one_shares_the_number(db):
    officer_with("X1", kind="supervision")
    officer_with("X1")  # an enforcement card with the same number, another officer
    officer_with("B1")
    assert verdict(case(["X1", "B1"], date(2025, 7, 1))) == (True, [])


def test_several_officers_where_two_remain(db):
    _o, a = officer_with("A1")
    officer_with("B1")
    officer_with("C1")
    act(a, "suspend", SUSPEND)
    assert verdict(case(["A1", "B1", "C1"], SUSPEND)) == (True, [("A1", SUSPEND.isoformat(), "suspended")])


def test_one_officer_listed_twice(db):
    o, _a = officer_with("A1")
    card(o, "A2", issued=date(2024, 6, 1))
    officer_with("B1")
    assert verdict(case(["A1", "A2"], date(2025, 7, 1))) == (False, [("A2", None, "same_officer"), FEW])
    assert verdict(case(["A1", "A1"], date(2025, 7, 1), case_no="twice")) == (
        False, [("A1", None, "same_officer"), FEW])
    assert verdict(case(["A1", "A2", "B1"], date(2025, 7, 1))) == (True, [("A2", None, "same_officer")])


def _replace(cert, on, new_number, issued):
    return act(cert, "replace", on, replacement={
        "number": new_number, "issued_on": issued, "expires_on": date(2030, 12, 31)})


def test_replaced_card_with_its_replacement_is_an_outdated_number(db):
    _o, a = officer_with("A1")
    officer_with("B1")
    _replace(a, date(2025, 5, 1), "A1-NEW", date(2025, 5, 1))
    assert verdict(case(["A1", "B1"], date(2025, 4, 30))) == (True, [])
    assert verdict(case(["A1", "B1"], date(2025, 5, 1))) == (True, [("A1", "2025-05-01", "outdated_number")])
    assert verdict(case(["A1-NEW", "B1"], date(2025, 5, 1))) == (True, [])
    # replaced between 立案 and 决定: a different card on each date keeps the officer counting
    assert verdict(case(["A1", "B1"], date(2025, 6, 1), opened=date(2025, 4, 1))) == (
        True, [("A1", "2025-06-01", "outdated_number")])


def test_replaced_card_without_its_replacement(db):
    _o, a = officer_with("A1")
    officer_with("B1")
    _replace(a, date(2025, 5, 1), "A1-NEW", date(2025, 6, 1))  # the new card dated a month later
    assert verdict(case(["A1", "B1"], date(2025, 5, 15))) == (
        False, [("A1", "2025-05-15", "replaced"), FEW])
    assert verdict(case(["A1", "B1"], date(2025, 6, 1))) == (True, [("A1", "2025-06-01", "outdated_number")])


def test_opened_and_decided_straddling_a_suspension(db):
    _o, a = officer_with("A1")
    officer_with("B1")
    act(a, "suspend", SUSPEND)
    act(a, "restore", date(2025, 7, 20))
    # opened before, decided during the suspension: only the decision date is a problem
    assert verdict(case(["A1", "B1"], date(2025, 7, 15), opened=date(2025, 7, 5))) == (
        False, [("A1", "2025-07-15", "suspended"), FEW])
    # opened during, decided after: only the opening date
    assert verdict(case(["A1", "B1"], date(2025, 7, 25), opened=date(2025, 7, 15))) == (
        False, [("A1", "2025-07-15", "suspended"), FEW])
    # both dates outside the suspension
    assert verdict(case(["A1", "B1"], date(2025, 7, 25), opened=date(2025, 7, 5))) == (True, [])


def test_single_number_is_stored_and_judged(db):
    officer_with("A1")
    c = case(["A1"], date(2025, 7, 1))
    assert c.id is not None
    assert verdict(c) == (False, [FEW])


def test_judging_many_cases_takes_a_fixed_number_of_queries(db):
    from sqlalchemy import event, select

    from app.extensions import db as _db

    for i in range(12):
        officer_with(f"N{i}")
    for i in range(0, 12, 2):
        case([f"N{i}", f"N{i + 1}"], date(2025, 7, 1))
    _db.session.flush()
    statements = []
    listener = lambda *a, **k: statements.append(a[2])  # noqa: E731
    event.listen(_db.engine, "before_cursor_execute", listener)
    try:
        verdicts = services.judge(select(PenaltyCase.id))
    finally:
        event.remove(_db.engine, "before_cursor_execute", listener)
    assert len(verdicts) == 6 and all(v.ok for v in verdicts.values())
    assert len(statements) <= 3
