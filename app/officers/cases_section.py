"""The officer page's 行政处罚案件 section: the cases naming one of the officer's cards that the
user may see, newest decision first, each judged as its stored verdict was (the rows of
app/cases/services.py `case_rows`, the judging of `case_page`).

Two statements, however large the branch: the cases and their numbers, then the cards their
numbers name. The scope's case condition is written here once, on the officer's few cases — the
ORM's criteria put it on every occurrence of a case table (four), and PostgreSQL, misjudging how
many of the branch's ~50,000 case_unit rows survive, hashed them all for each (590 ms for a
branch of 37,500 officers; now a few ms). The officer was found under the scope, so their cards
need no condition; the cases' numbers and the cards they name are read whole, as /cases does
(a case spanning two branches is judged on every card it names)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app import scope
from app.cases.services import as_json
from app.extensions import db
from app.models.cases import CaseCertificate, CaseUnit, PenaltyCase
from app.models.certificates import Certificate
from app.rules.verdicts import all_numbers, check_dates, judge_one, load_history, with_numbers


def officer_cases(officer_id: int) -> list[dict[str, Any]]:
    named = select(CaseCertificate.case_id).join(Certificate, Certificate.number == CaseCertificate.number).where(
        Certificate.officer_id == officer_id)
    ids = select(PenaltyCase.id).where(PenaltyCase.id.in_(named))
    seen = scope.scope_ids()
    if seen is not None:  # a probe of case_unit's primary key per case (`+unit_id`: not the unit index)
        ids = ids.where(select(CaseUnit.case_id).where(
            CaseUnit.case_id == PenaltyCase.id, scope.unindexed(CaseUnit.unit_id).in_(seen)).exists())
    with scope.off(db.session):
        cases, numbers = with_numbers(ids, PenaltyCase.case_no, PenaltyCase.title, PenaltyCase.opened_on,
                                       PenaltyCase.decided_on, PenaltyCase.unit, PenaltyCase.officer_names,
                                       PenaltyCase.outcome)
        if not cases:
            return []
        history = load_history(all_numbers(numbers))
    out = []
    for c in cases:
        v = judge_one(c.id, numbers.get(c.id, []), check_dates(c.opened_on, c.decided_on), history)
        out.append(as_json(c, numbers.get(c.id, []), v) | {
            "id": c.id, "unit": c.unit, "officer_names": c.officer_names, "outcome": c.outcome})
    return out
