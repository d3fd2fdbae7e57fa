"""Cases: saving them, and the 行政处罚法 art. 42 check (docs/domain.md 案件核查).

The check is decided from the certificates' dated history (each case's verdict is stored and kept
current by every write that can change it: app/rules/verdicts.py):

- the check dates are 立案日期 (when given) and 决定日期;
- each listed number resolves to its certificate (the enforcement certificate when a supervision
  certificate shares the number), and so to its officer;
- a certificate's state on day D is the `to_status` of its last event dated on or before D (a status
  event takes effect on its own date); it is effective when that state is valid and
  issued_on ≤ D ≤ expires_on;
- an officer counts when on every check date at least one of their enforcement certificates was
  effective (it may be a different card on each date); the case is ok with two counting officers.

`judge()` (app/rules/verdicts.py) loads the cases with their numbers, the certificates they name, every enforcement
certificate of those officers and all their events in three queries whatever the number of cases,
then decides in Python (an officer's certification per day is memoised). Hypothetical events (a
suspension about to be entered) can be laid over the history to count the verdicts it would change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, extract, func, or_, select

from app import scope
from app.audit.services import changes_of, record, snapshot
from app.errors import DomainError, required_text
from app.extensions import db
from app.formatting import cn_date
from app.labels import CERT_KINDS
from app.models.cases import CaseCertificate, CaseUnit, CaseVerdict, PenaltyCase
from app.models.certificates import Certificate
from app.models.officers import Officer, Unit
from app.paging import page_of
from app.rules.verdicts import (
    Verdict,
    all_numbers,
    check_dates,
    judge,
    judge_one,
    load_history,
    reason_like,
    with_numbers,
)

# Reasons in the order docs/domain.md (案件核查) names them; labels for people in app.labels.CASE_REASONS.
REASONS = ["unknown", "not_yet_valid", "expired", "applying", "suspended", "revoked", "cancelled",
           "lost", "replaced", "supervision", "outdated_number", "same_officer", "fewer_than_two"]
NUMBER_SPLIT = re.compile(r"[、，,；;/\s]+")
CASE_FIELDS = ["case_no", "title", "opened_on", "decided_on", "unit", "officer_names", "outcome"]


def split_numbers(text: str | None) -> list[str]:
    """'A、B，C' → ['A', 'B', 'C'] (separators 、 ， , ； ; / and spaces), in written order."""
    return [n for n in NUMBER_SPLIT.split((text or "").strip()) if n]


# --- the stored verdict (page cost) -----------------------------------------------------------------
#
# The dashboard's count, the list's verdict and reason filters and counts, and the annual figures
# read case_verdict (kept current by every write: cases/verdicts.py) instead of judging 20,000
# cases per request. The problems (why a case fails) are still judged here, for the cases shown.
# A case without a stored verdict (there should be none: `flask check cases`) counts as failing.


def ok_case_ids(case_ids: Select) -> Select:
    """SELECT of the ids among `case_ids` whose verdict is ok: two different officers, each
    certified on every check date (立案日期 when given, 决定日期)."""
    cv = CaseVerdict.__table__  # bare: `case_ids` carries the scope (see verdict_counts)
    return select(cv.c.case_id).where(cv.c.ok.is_(True), cv.c.case_id.in_(case_ids))


def verdict_counts(case_ids: Select) -> tuple[int, int]:
    """(cases, cases not ok) among `case_ids`: one statement."""
    ids = case_ids.subquery("ids")
    # the verdicts as the bare table: joined to the (scoped) ids, they need no scope of their own —
    # as the entity they carried a second `case_id IN (the branch's cases)` (docs/architecture.md)
    cv = CaseVerdict.__table__
    total, n_ok = db.session.execute(
        select(func.count(ids.c.id), func.count(cv.c.case_id)).select_from(ids)
        .outerjoin(cv, (cv.c.case_id == ids.c.id) & cv.c.ok.is_(True))).one()
    return total, total - n_ok


# --- listing ------------------------------------------------------------------------------------


@dataclass
class CaseFilters:
    year: int | None = None
    unit: str | None = None
    verdict: str | None = None  # "ok" | "not_ok"
    reason: str | None = None
    search: str | None = None
    officer_id: int | None = None

    def as_dict(self) -> dict[str, str]:
        return {k: str(v) for k, v in (("year", self.year), ("unit", self.unit), ("verdict", self.verdict),
                                       ("reason", self.reason), ("q", self.search)) if v}


def _filtered_ids(f: CaseFilters) -> Select:
    q = select(PenaltyCase.id)
    if f.year:
        q = q.where(PenaltyCase.decided_on.between(date(f.year, 1, 1), date(f.year, 12, 31)))
    if f.unit:
        q = q.where(PenaltyCase.unit == f.unit)
    if f.search:
        like = f"%{f.search.strip()}%"
        q = q.where(or_(PenaltyCase.case_no.like(like), PenaltyCase.title.like(like),
                        PenaltyCase.officer_names.like(like),
                        PenaltyCase.id.in_(select(CaseCertificate.case_id)
                                           .where(CaseCertificate.number == f.search.strip()))))
    if f.officer_id is not None:
        q = q.where(PenaltyCase.id.in_(
            select(CaseCertificate.case_id).join(Certificate, Certificate.number == CaseCertificate.number)
            .where(Certificate.officer_id == f.officer_id)))
    return q


def case_rows(f: CaseFilters) -> list[dict[str, Any]]:
    """Every case matching `f`, newest decision first, as dicts of the report's JSON shape (plus
    `id`, `unit`, `officer_names`, `outcome` for the pages); three queries in all."""
    ids = _filtered_ids(f)
    cases, numbers = with_numbers(ids, PenaltyCase.case_no, PenaltyCase.title, PenaltyCase.opened_on,
                                   PenaltyCase.decided_on, PenaltyCase.unit, PenaltyCase.officer_names,
                                   PenaltyCase.outcome)
    if not cases:
        return []
    history = load_history(all_numbers(numbers))
    out = []
    for c in cases:
        v = judge_one(c.id, numbers.get(c.id, []), check_dates(c.opened_on, c.decided_on), history)
        if f.verdict == "ok" and not v.ok or f.verdict == "not_ok" and v.ok:
            continue
        if f.reason and f.reason not in v.reasons:
            continue
        out.append(as_json(c, numbers.get(c.id, []), v) | {
            "id": c.id, "unit": c.unit, "officer_names": c.officer_names, "outcome": c.outcome})
    return out


def _year_range(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


def _branch(case_id, within: list[int] | None) -> list:
    """[the condition that `case_id` is a case of the branch `within`] (none for the whole
    organisation): one `IN (case_unit of the branch's units)` on the bare tables."""
    if within is None:
        return []
    cu = CaseUnit.__table__
    return [case_id.in_(select(cu.c.case_id).where(cu.c.unit_id.in_(within)))]


def _stored_counts(year: int | None, within: list[int] | None = None) -> tuple[int, int]:
    """(cases, cases not ok) of the whole organisation or of the branch `within` (of `year`): two
    index counts in one statement — the cases by 决定日期, the ok verdicts by (ok, 决定日期) — instead
    of a verdict looked up per case. A case without a stored verdict counts as failing, as in
    `verdict_counts`. Reads the bare tables: the caller gives the branch."""
    cv, pc = CaseVerdict.__table__, PenaltyCase.__table__
    cases = select(func.count()).select_from(pc).where(*_branch(pc.c.id, within))
    oks = select(func.count()).select_from(cv).where(cv.c.ok.is_(True), *_branch(cv.c.case_id, within))
    if year:
        cases = cases.where(pc.c.decided_on.between(*_year_range(year)))
        oks = oks.where(cv.c.decided_on.between(*_year_range(year)))
    total, n_ok = db.session.execute(select(cases.scalar_subquery(), oks.scalar_subquery())).one()
    return total, total - n_ok


def _slice(q: Select, order: list, total: int, page: int, per_page: int) -> tuple[list[int], int]:
    """(ids of the page shown, page shown) of `q` (a SELECT of one id column) in `order` (columns,
    descending); `total` rows. A page past the middle is read from the other end (ascending, then
    reversed): no more than half the rows are ever stepped over, and the last page — also asked
    for by any page past the end — is the first rows of the reversed order."""
    pages = max(1, -(-total // per_page))
    shown = max(1, min(page, pages))
    offset = (shown - 1) * per_page
    if offset <= total // 2:
        ids = list(db.session.scalars(q.order_by(*(c.desc() for c in order)).limit(per_page).offset(offset)))
    else:
        n = min(per_page, total - offset)
        ids = list(db.session.scalars(q.order_by(*order).limit(n).offset(total - offset - n)))[::-1]
    return ids, shown


def _stored_page(f: CaseFilters, page: int, per_page: int,
                 within: list[int] | None) -> tuple[list[int], int, int, int]:
    """(page's ids, total, not ok, page shown) of the list filtered by year, verdict or reason only,
    for the whole organisation or the branch `within` (its units: the cases of `case_unit`):
    counted and paged on the stored verdicts' index (ok, 决定日期, case) and the cases' 决定日期 index —
    index ranges in list order, no verdict looked up per case. Bare tables: the branch is given."""
    cv, pc = CaseVerdict.__table__, PenaltyCase.__table__
    span = [cv.c.decided_on.between(*_year_range(f.year))] if f.year else []
    if f.verdict == "ok":
        where = [cv.c.ok.is_(True), *span]
    elif f.verdict == "not_ok" or f.reason:
        where = [cv.c.ok.is_(False), *span]
        if f.reason:
            where.append(cv.c.reasons.like(reason_like(f.reason)))
    else:
        where = None
    if where is None:
        total, bad = _stored_counts(f.year, within)
        dated = [pc.c.decided_on.between(*_year_range(f.year))] if f.year else []
        ids, shown = _slice(select(pc.c.id).where(*dated, *_branch(pc.c.id, within)),
                            [pc.c.decided_on, pc.c.id], total, page, per_page)
        return ids, total, bad, shown
    where += _branch(cv.c.case_id, within)
    if f.reason:  # a LIKE on the reasons: read the table, not the ok index row by row (SQLite 40 → 8 ms)
        scan = [cv.c.ok.is_not(True), *where[1:]]
        n = db.session.scalar(select(func.count()).select_from(cv).where(*scan))
        if n < 1000:  # few: sorting them beats walking every failing case in order
            where = scan
    else:
        n = db.session.scalar(select(func.count()).select_from(cv).where(*where))
    ids, shown = _slice(select(cv.c.case_id).where(*where), [cv.c.decided_on, cv.c.case_id], n, page, per_page)
    return ids, n, 0 if f.verdict == "ok" else n, shown


def case_page(f: CaseFilters, page: int, per_page: int) -> tuple[list[dict[str, Any]], int, int, int]:
    """(rows of the page shown, cases matching `f`, of which not ok, page shown). The verdict and
    reason filters, the counts and the page are SQL on the stored verdicts; only the page's cases
    are judged in Python, for their problems."""
    if not f.unit and not f.search and f.officer_id is None:
        within = scope.scope_ids()
        with scope.off(db.session):  # the branch is written into the statements (bare tables)
            picked, total, bad, shown = _stored_page(f, page, per_page, within)
    else:
        ids = _filtered_ids(f)
        if f.verdict == "ok":
            ids = ids.where(PenaltyCase.id.in_(ok_case_ids(_filtered_ids(f))))
        elif f.verdict == "not_ok" or f.reason:
            ids = ids.where(PenaltyCase.id.not_in(ok_case_ids(_filtered_ids(f))))
        if f.reason:
            ids = ids.where(PenaltyCase.id.in_(select(CaseVerdict.case_id).where(
                CaseVerdict.reasons.like(reason_like(f.reason)))))
        if not f.verdict and not f.reason:
            total, bad = verdict_counts(ids)
        rows, n, shown = page_of(ids, (PenaltyCase.decided_on.desc(), PenaltyCase.id.desc()), page, per_page)
        picked = [r.id for r in rows]
        # with a verdict or reason filter the page's own total is the count (every such case fails)
        if f.verdict == "ok":
            total, bad = n, 0
        elif f.verdict == "not_ok" or f.reason:
            total = bad = n
    page_ids = select(PenaltyCase.id).where(PenaltyCase.id.in_(picked))
    # the page's cases were picked under the scope: reading them (and their numbers) by id needs no
    # scope again (it added three `IN (the branch's cases)` lists to a 50-row read)
    with scope.off(db.session):
        cases, numbers = with_numbers(page_ids, PenaltyCase.case_no, PenaltyCase.title, PenaltyCase.opened_on,
                                       PenaltyCase.decided_on, PenaltyCase.unit, PenaltyCase.officer_names,
                                       PenaltyCase.outcome)
    # The shown cases (all within the user's scope) are judged as their stored verdicts were: on
    # every card their numbers name, in whichever branch (a case spanning two branches is judged
    # whole; its problems name only the numbers written on it).
    with scope.off(db.session):
        history = load_history(all_numbers(numbers))
    rows = []
    for c in cases:
        v = judge_one(c.id, numbers.get(c.id, []), check_dates(c.opened_on, c.decided_on), history)
        rows.append(as_json(c, numbers.get(c.id, []), v) | {
            "id": c.id, "unit": c.unit, "officer_names": c.officer_names, "outcome": c.outcome})
    return rows, total, bad, shown


def as_json(c: Any, numbers: list[str], v: Verdict) -> dict[str, Any]:
    return {
        "case_no": c.case_no, "title": c.title,
        "opened_on": c.opened_on.isoformat() if c.opened_on else None,
        "decided_on": c.decided_on.isoformat(), "certificate_numbers": numbers,
        "ok": v.ok, "problems": v.problems,
    }


JSON_KEYS = ["case_no", "title", "opened_on", "decided_on", "certificate_numbers", "ok", "problems"]


def report(year: int | None = None, unit: str | None = None) -> list[dict[str, Any]]:
    """`flask report cases --format json`: exactly the documented keys (docs/domain.md 案件核查)."""
    return [{k: r[k] for k in JSON_KEYS} for r in case_rows(CaseFilters(year=year, unit=unit))]


def _counts(year: int | None) -> tuple[int, int]:
    """(cases, not ok) the user sees (of `year`), from the stored verdicts' index."""
    within = scope.scope_ids()
    with scope.off(db.session):
        return _stored_counts(year, within)


def count_not_ok(year: int | None = None) -> int:
    """Cases failing the art. 42 check (the dashboard's card), from the stored verdicts."""
    return _counts(year)[1]


def year_figures(year: int) -> dict[str, int]:
    total, not_ok = _counts(year)
    return {"total": total, "ok": total - not_ok, "not_ok": not_ok}


def case_units() -> list[str]:
    return list(db.session.scalars(select(PenaltyCase.unit).where(PenaltyCase.unit != "")
                                   .distinct().order_by(PenaltyCase.unit)))


def case_years() -> list[int]:
    years = {d.year for d in db.session.scalars(select(PenaltyCase.decided_on).distinct())}
    return sorted(years, reverse=True)


def case_choices() -> tuple[list[int], list[str]]:
    """(years, 承办单位) of the cases the user sees, for the list's filters. A scoped user: one pass
    over the branch's cases (the two DISTINCTs each built the list of the branch's cases: SQLite
    40 → 23 ms, PostgreSQL 35 → 21); the whole organisation: the two statements, each answered from
    the table in a few ms (the one pass costs it 14–23 ms)."""
    if scope.scope_ids() is None:
        return case_years(), case_units()
    pairs = db.session.execute(select(extract("year", PenaltyCase.decided_on), PenaltyCase.unit).distinct()).all()
    return sorted({int(y) for y, _u in pairs}, reverse=True), sorted({u for _y, u in pairs if u})


def impact_of(cert: Certificate, status: str, effective_on: date) -> int:
    """How many cases naming this certificate's officer would change verdict if the card took
    `status` on `effective_on` (the warning before a back-dated suspension or revocation)."""
    ids = select(CaseCertificate.case_id).join(
        Certificate, Certificate.number == CaseCertificate.number).where(
        Certificate.officer_id == cert.officer_id)
    ids = select(PenaltyCase.id).where(PenaltyCase.id.in_(ids), PenaltyCase.decided_on >= effective_on)
    before = judge(ids)
    after = judge(ids, {cert.id: [(effective_on, status)]})
    return sum(1 for cid, v in before.items() if v.ok != after[cid].ok)


def officer_ids_with_cases_between(start: date, end: date) -> Select:
    """Officers whose certificates appear in a case decided in [start, end] (the 年审 note)."""
    return (select(Certificate.officer_id).join(CaseCertificate, CaseCertificate.number == Certificate.number)
            .join(PenaltyCase, PenaltyCase.id == CaseCertificate.case_id)
            .where(PenaltyCase.decided_on.between(start, end)))


def any_cases() -> bool:
    return db.session.scalar(select(PenaltyCase.id).limit(1)) is not None


# --- saving -------------------------------------------------------------------------------------


class CaseError(DomainError):
    """Refused case fields; `fields` maps each form field to its message."""

    def __init__(self, fields: dict[str, str]):
        self.fields = fields
        super().__init__("；".join(fields.values()))


def validate_case_data(data: dict[str, Any], *, exclude_id: int | None = None,
                       check_unique: bool = True) -> dict[str, str]:
    """{field: message} for one case's fields (the form and the import share these rules)."""
    errors: dict[str, str] = {}
    case_no = required_text(errors, data, "case_no", "案号", 100)
    opened, decided = data.get("opened_on"), data.get("decided_on")
    if not isinstance(decided, date):
        errors["decided_on"] = "决定日期不能为空"
    if isinstance(opened, date) and isinstance(decided, date) and opened > decided:
        errors["opened_on"] = f"立案日期（{cn_date(opened)}）晚于决定日期（{cn_date(decided)}）"
    numbers = data.get("certificate_numbers") or []
    if not numbers:
        errors["certificate_numbers"] = "执法证号不能为空"
    elif any(len(n) > 50 for n in numbers):
        errors["certificate_numbers"] = "每个执法证号不能超过50个字符"
    for name, limit, label in (("title", 200, "案件名称"), ("unit", 100, "承办单位"),
                               ("officer_names", 200, "执法人员")):
        if len(data.get(name) or "") > limit:
            errors[name] = f"{label}不能超过{limit}个字"
    if check_unique and case_no and "case_no" not in errors:
        clash = db.session.scalar(select(PenaltyCase.id).where(
            PenaltyCase.case_no == case_no, PenaltyCase.id != (exclude_id or -1))
            .execution_options(scope_all=True))  # unique everywhere, whichever branch holds it
        if clash:
            errors["case_no"] = f"案号“{case_no}”已存在"
    return errors


def _apply(case: PenaltyCase, data: dict[str, Any]) -> None:
    for f in CASE_FIELDS:
        value = data.get(f)
        if f in ("opened_on", "decided_on"):
            setattr(case, f, value)
        else:
            setattr(case, f, (value or "").strip())
    numbers = list(data.get("certificate_numbers") or [])
    if case.numbers != numbers:
        # rewrite rows in place: replacing the list would INSERT before the orphans' DELETE and
        # trip the (case_id, position) unique constraint
        rows = list(case.certificates)
        for i, n in enumerate(numbers):
            if i < len(rows):
                rows[i].number = n
            else:
                case.certificates.append(CaseCertificate(position=i, number=n))
        for extra in rows[len(numbers):]:
            case.certificates.remove(extra)


def save_case(case: PenaltyCase | None, data: dict[str, Any], *, audit: bool = True) -> PenaltyCase:
    """Create (case None) or update a case. Flushes; raises DomainError with per-field messages."""
    errors = validate_case_data(data, exclude_id=case.id if case else None)
    if errors:
        raise CaseError(errors)
    fields = CASE_FIELDS + ["certificate_numbers"]
    if case is None:
        case = PenaltyCase()
        before = dict.fromkeys(fields)
        db.session.add(case)
    else:
        before = snapshot(case, CASE_FIELDS) | {"certificate_numbers": "、".join(case.numbers)}
    _apply(case, data)
    db.session.flush()
    if audit:
        after_numbers = "、".join(case.numbers)
        changes = changes_of(case, {k: v for k, v in before.items() if k != "certificate_numbers"},
                             CASE_FIELDS)
        if before.get("certificate_numbers") != after_numbers:
            changes["certificate_numbers"] = [before.get("certificate_numbers"), after_numbers]
        if changes:
            action = "create" if before.get("case_no") is None else "update"
            record(action, "case", case.id, f"{'登记' if action == 'create' else '修改'}案件 {case.case_no}",
                   changes)
    return case


def delete_case(case: PenaltyCase) -> None:
    record("delete", "case", case.id, f"删除案件 {case.case_no}", {"case_no": [case.case_no, None]})
    db.session.delete(case)
    db.session.flush()


def unit_choices() -> list[str]:
    """Registry units and units already named on cases, for the form's suggestions."""
    names = set(db.session.scalars(select(Unit.name))) | set(case_units())
    return sorted(names)


def number_suggestions(limit: int = 5000) -> list[tuple[str, str]]:
    """(number, '姓名 · 行政执法证') for the form's <datalist>."""
    rows = db.session.execute(
        select(Certificate.number, Officer.name, Certificate.kind)
        .join(Officer, Officer.id == Certificate.officer_id)
        .where(Certificate.status.in_(("valid", "suspended")))
        .order_by(Certificate.number).limit(limit))
    return [(r.number, f"{r.name} · {CERT_KINDS.get(r.kind, r.kind)}") for r in rows]
