"""The year's statistics (年度统计) against a slow, obviously-correct Python count of the same
definitions on a random data set (the page, made cheap, reads training_hours, seeks each card's last
event, groups exam results by officer — the figures must not change)."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy import delete, select, update

from app.extensions import db as _db
from app.models.certificates import Certificate, CertificateEvent
from app.models.exams import Exam, ExamResult
from app.models.training import Attendance, TrainingHours, TrainingSession
from app.rules.timeline import effective_officers_on
from app.rules.timeline import states_on as status_on
from app.training.stats import annual_stats
from tests.factories import CertificateFactory, OfficerFactory

YEARS = (2024, 2025, 2026)
STATUSES = ["valid", "suspended", "cancelled", "revoked", "applying"]


def _day(rng: random.Random, first=date(2023, 6, 1), last=date(2027, 3, 1)) -> date:
    return first + timedelta(days=rng.randint(0, (last - first).days))


def _build(rng: random.Random) -> None:
    officers = [OfficerFactory() for _ in range(40)]
    # certificates with a random history: several events on one day (the greatest id wins), events
    # after the year end, cards with no event at all, supervision cards that do not count
    for o in officers:
        for _ in range(rng.choice([0, 1, 1, 2, 3])):
            issued = _day(rng, date(2019, 1, 1), date(2026, 12, 31))
            c = CertificateFactory(officer=o, kind=rng.choice(["enforcement"] * 4 + ["supervision"]),
                                   issued_on=issued, expires_on=issued + timedelta(days=rng.choice([300, 1000, 2500])))
            # the factory's own issue event replaced by a random history (or none at all)
            _db.session.execute(delete(CertificateEvent).where(CertificateEvent.certificate_id == c.id))
            if rng.random() < 0.1:
                continue
            day, status = issued, None
            for k in range(rng.choice([1, 1, 2, 3, 4])):
                to = "valid" if k == 0 else rng.choice(STATUSES)
                _db.session.add(CertificateEvent(
                    certificate=c, kind="issue" if k == 0 else rng.choice(["status", "suspend", "restore"]),
                    from_status=status if rng.random() < 0.9 else to, to_status=to, effective_on=day, actor="test"))
                _db.session.flush()
                status = to
                day = day + timedelta(days=rng.choice([0, 0, 30, 200, 400]))
    # training: sessions over three years, every attendance status, adjusted credits
    sessions = [TrainingSession(title=f"课{i}", category=rng.choice(["lecture", "court_observation", "general_law"]),
                                held_on=_day(rng), hours=rng.choice([2, 3.5, 8])) for i in range(14)]
    _db.session.add_all(sessions)
    _db.session.flush()
    for s in sessions:
        for o in rng.sample(officers, rng.randint(0, 25)):
            status = rng.choice(["attended", "attended", "absent", "excused", "registered"])
            credited = rng.choice([s.hours, s.hours, 1.5, 0.0]) if status == "attended" else 0.0
            _db.session.add(Attendance(session_id=s.id, officer_id=o.id, status=status, credited_hours=credited))
    _db.session.flush()
    # later writes: the summary must follow them (a session moved to another year, rows changed, removed)
    moved = sessions[0]
    moved.held_on = date(2026, 2, 3) if moved.held_on.year != 2026 else date(2025, 2, 3)
    rows = list(_db.session.scalars(select(Attendance).order_by(Attendance.id)))
    for a in rng.sample(rows, min(8, len(rows))):
        a.status, a.credited_hours = "attended", 1.0
    for a in rng.sample(rows, min(5, len(rows))):
        _db.session.delete(a)
    _db.session.flush()
    # exams: takers, absentees, no score, pass and fail around the pass score, make-ups
    exams = [Exam(title=f"考试{i}", kind=rng.choice(["qualification", "annual"]), held_on=_day(rng),
                  max_score=100, pass_score=rng.choice([60, 75])) for i in range(6)]
    _db.session.add_all(exams)
    _db.session.flush()
    for e in exams:
        for o in rng.sample(officers, rng.randint(0, 30)):
            absent = rng.random() < 0.1
            score = None if absent or rng.random() < 0.05 else float(rng.choice([40, 59.5, 60, 74, 75, 90]))
            _db.session.add(ExamResult(exam_id=e.id, officer_id=o.id, absent=absent, score=score))
    _db.session.flush()


def _expected(year: int) -> dict:
    start, end = date(year, 1, 1), date(year, 12, 31)
    sessions = {s.id: s for s in _db.session.scalars(select(TrainingSession)) if start <= s.held_on <= end}
    attended = [a for a in _db.session.scalars(select(Attendance))
                if a.session_id in sessions and a.status == "attended"]
    exams = {e.id: e for e in _db.session.scalars(select(Exam)) if start <= e.held_on <= end}
    took, passed = set(), set()
    for r in _db.session.scalars(select(ExamResult)):
        if r.exam_id in exams and not r.absent and r.score is not None:
            took.add(r.officer_id)
            if r.score >= exams[r.exam_id].pass_score:
                passed.add(r.officer_id)
    certs = {c.id: c for c in _db.session.scalars(select(Certificate)) if c.kind == "enforcement"}
    history = defaultdict(list)
    for ev in _db.session.scalars(select(CertificateEvent)):
        history[ev.certificate_id].append(ev)
    effective = set()
    for c in certs.values():
        before = sorted((ev for ev in history[c.id] if ev.effective_on <= end), key=lambda ev: (ev.effective_on, ev.id))
        if before and before[-1].to_status == "valid" and c.issued_on <= end <= c.expires_on:
            effective.add(c.officer_id)
    year_events = [ev for cid in certs for ev in history[cid] if start <= ev.effective_on <= end]

    def changed_to(status):
        return sum(1 for ev in year_events if ev.to_status == status and ev.from_status != ev.to_status
                   and ev.from_status != "applying")

    return {
        "training": {"sessions": len(sessions), "participants": len({a.officer_id for a in attended}),
                     "person_times": len(attended), "hours": round(sum(a.credited_hours for a in attended), 2)},
        "exams": {"held": len(exams), "takers": len(took), "passed": len(passed)},
        "certificates": {"effective_at_year_end": len(effective),
                         "issued": sum(1 for ev in year_events if ev.kind == "issue"),
                         "suspended": changed_to("suspended"), "cancelled": changed_to("cancelled"),
                         "revoked": changed_to("revoked")},
    }


def test_annual_figures_match_a_python_count_on_random_data(db):
    checked = 0
    for seed in (3, 17):
        _build(random.Random(seed))
        for year in YEARS:
            got, want = annual_stats(year, required=60), _expected(year)
            assert {k: got["training"][k] for k in want["training"]} == want["training"], (seed, year)
            assert {k: got["exams"][k] for k in want["exams"]} == want["exams"], (seed, year)
            assert got["certificates"] == want["certificates"], (seed, year)
            checked += want["training"]["person_times"] + want["exams"]["takers"] + \
                want["certificates"]["effective_at_year_end"]
    assert checked > 200  # the random data set is not empty


def test_effective_officers_on_picks_the_same_event_as_status_on(db):
    """The per-card seek and the history subquery the reviews use agree, day by day."""
    _build(random.Random(5))
    for day in (date(2024, 12, 31), date(2025, 6, 30), date(2025, 12, 31), date(2026, 12, 31)):
        st = status_on(day)
        by_history = set(_db.session.scalars(
            select(Certificate.officer_id).join(st, st.c.certificate_id == Certificate.id)
            .where(Certificate.kind == "enforcement", st.c.to_status == "valid",
                   Certificate.issued_on <= day, Certificate.expires_on >= day)))
        assert set(_db.session.scalars(effective_officers_on(day))) == by_history
        assert by_history


def test_training_hours_counts_the_attended_rows(db):
    """training_hours.attended follows every write, as its hours do (the person-times figure)."""
    _build(random.Random(9))
    stored = {(r.officer_id, r.year): r.attended for r in _db.session.scalars(select(TrainingHours))}
    want = defaultdict(int)
    for a in _db.session.scalars(select(Attendance)):
        if a.status == "attended":
            want[(a.officer_id, _db.session.get(TrainingSession, a.session_id).held_on.year)] += 1
    assert stored == dict(want) and stored


def test_check_hours_reports_a_wrong_attended_count(app, runner):
    with app.app_context():
        o = OfficerFactory(name="王五")
        s = TrainingSession(title="讲座", category="lecture", held_on=date(2025, 5, 6), hours=4)
        _db.session.add(s)
        _db.session.flush()
        _db.session.add(Attendance(session_id=s.id, officer_id=o.id, status="attended", credited_hours=4))
        _db.session.commit()
        assert _db.session.get(TrainingHours, (o.id, 2025)).attended == 1
        _db.session.execute(update(TrainingHours).values(attended=3))
        _db.session.commit()
    result = runner.invoke(args=["check", "hours"])
    assert result.exit_code == 1
    assert "王五" in result.output and "汇总表出勤 3 次，应为 1 次" in result.output
