"""The flag store (app/rules/flagstore.py) against the query-time engine (app/rules/compliance.py):
the store built for a day holds what the engine computes for that day, and stays so through the
writes of the services; it is rebuilt on a new day and after a settings change; a scoped user's
first read builds every branch's rows; `flask check flags` finds a planted difference and --fix
repairs it; a refused write leaves the store as it was."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from sqlalchemy import delete, func, insert, select, text, update

from app import uow
from app.certificates import services as certs
from app.errors import DomainError
from app.models.certificates import Certificate, CertificateEvent
from app.models.flags import FlagMeta, FlagRow
from app.models.officers import Officer, Unit
from app.models.training import Attendance, TrainingSession
from app.officers import services as officers
from app.rules import compliance, flagstore
from app.settings import services as settings
from tests.conftest import PASSWORD, TODAY, csrf_from, login
from tests.factories import CertificateFactory, OfficerFactory, UnitFactory

D = timedelta
COLS = ("flag", "reason", "officer_id", "unit_id", "certificate_id")


@pytest.fixture(autouse=True)
def _today(set_today):
    set_today(TODAY)


def reference(day, flags=None, within=None):
    """The engine's rows for `day` under the settings (never the store)."""
    p = compliance.Params.from_settings(day, within)
    sub = compliance.flags_select(p, flags, store=False)
    return sorted(tuple(r) for r in compliance.db.session.execute(select(*(sub.c[c] for c in COLS))))


def stored(day, flags=None, within=None):
    p = compliance.Params.from_settings(day, within)
    q = compliance.stored_select(p, flags)
    assert q is not None, "the store does not serve this day"
    return sorted(tuple(r) for r in compliance.db.session.execute(q))


def assert_same(day):
    assert flagstore.differences(compliance.db.session, day) == []
    for within in (30, 60, 90):
        assert stored(day, within=within) == reference(day, within=within)
    for flag in compliance.FLAG_ORDER:
        assert stored(day, [flag]) == reference(day, [flag])


def random_register(rng: random.Random, n_units=4, n_officers=30):
    units = [UnitFactory(enforcement_fields=rng.choice(["", "", "市场监管", "市场监管、食品安全"]))
             for _ in range(n_units)]
    people = []
    for _ in range(n_officers):
        o = OfficerFactory(unit=rng.choice(units),
                           establishment=rng.choice(["civil_servant", "civil_servant", "contract",
                                                     "public_institution"]),
                           on_enforcement_post=rng.random() < 0.85,
                           employment_status=rng.choice(["active"] * 8 + ["retired", "resigned"]),
                           post_since=rng.choice([None, TODAY - D(rng.randint(0, 900))]))
        people.append(o)
        for _ in range(rng.choice([0, 1, 1, 2])):
            issued = TODAY - D(rng.randint(-30, 2000))
            CertificateFactory(officer=o, issued_on=issued, expires_on=issued + D(rng.randint(30, 2200)),
                               status=rng.choice(["valid"] * 6 + ["suspended", "revoked", "lost"]),
                               kind=rng.choice(["enforcement"] * 5 + ["supervision"]),
                               categories=rng.choice(["", "市场监管", "市场监管、食品安全"]))
    sessions = [TrainingSession(title=f"培训{i}", held_on=TODAY - D(rng.randint(0, 500)), hours=8, category="law")
                for i in range(3)]
    compliance.db.session.add_all(sessions)
    compliance.db.session.flush()
    for o in people:
        for s in sessions:
            if rng.random() < 0.4:
                compliance.db.session.add(Attendance(session_id=s.id, officer_id=o.id, status="attended",
                                                     credited_hours=rng.choice([4, 8, 24, 40])))
    compliance.db.session.flush()
    return units, people


def _card(rng, o, day, _units, _people):
    CertificateFactory(officer=o, issued_on=day - D(rng.randint(0, 700)), expires_on=day + D(rng.randint(-10, 200)))


def _expire(rng, o, day, _units, _people):
    c = compliance.db.session.scalar(select(Certificate).where(Certificate.officer_id == o.id).limit(1))
    if c is not None:
        c.expires_on = day + D(rng.randint(-5, 100))


def _transition(rng, o, day, _units, _people):
    c = compliance.db.session.scalar(select(Certificate).where(Certificate.officer_id == o.id,
                                                               Certificate.status == "valid").limit(1))
    if c is not None:
        try:
            certs.transition(c, "suspend", effective_on=day, reason="测试", today=day)
        except DomainError:
            pass


def _attend(rng, o, day, _units, _people):
    s = compliance.db.session.scalar(select(TrainingSession).limit(1))
    if compliance.db.session.scalar(select(Attendance).where(Attendance.session_id == s.id,
                                                             Attendance.officer_id == o.id)) is None:
        compliance.db.session.add(Attendance(session_id=s.id, officer_id=o.id, status="attended",
                                             credited_hours=60))


WRITES = {
    "move": lambda rng, o, day, units, people: setattr(o, "unit", rng.choice(units)),
    "status": lambda rng, o, day, units, people: setattr(o, "employment_status", rng.choice(["active", "retired"])),
    "post": lambda rng, o, day, units, people: setattr(o, "on_enforcement_post", not o.on_enforcement_post),
    "establishment": lambda rng, o, day, units, people: setattr(o, "establishment",
                                                                rng.choice(["civil_servant", "contract"])),
    "unit_fields": lambda rng, o, day, units, people: setattr(rng.choice(units), "enforcement_fields",
                                                              rng.choice(["", "市场监管", "食品安全"])),
    "new_officer": lambda rng, o, day, units, people: people.append(OfficerFactory(unit=rng.choice(units))),
    "card": _card, "expire": _expire, "transition": _transition, "attend": _attend,
}


def build(day):
    """The store for `day`, as the first read of that day builds it (committed)."""
    uow.commit()
    flagstore.forget()
    st = flagstore.ensure(day)
    assert st is not None and st.day == day
    return st


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_store_matches_engine_on_random_registers_and_days(db, set_today, seed):
    rng = random.Random(seed)
    units, people = random_register(rng)
    for _ in range(2):
        day = TODAY + D(rng.randint(-400, 400))
        set_today(day)
        build(day)
        assert_same(day)
    # random writes through the services, on the store's day
    for _ in range(25):
        action = rng.choice(sorted(WRITES))
        WRITES[action](rng, rng.choice(people), day, units, people)
        db.session.flush()
        flagstore.forget()
        assert flagstore.differences(db.session, day) == [], action
    assert_same(day)
    # an officer deleted, a unit deleted
    victim = people[0]
    db.session.execute(delete(Attendance).where(Attendance.officer_id == victim.id))
    db.session.execute(delete(CertificateEvent).where(CertificateEvent.certificate_id.in_(
        select(Certificate.id).where(Certificate.officer_id == victim.id))))
    db.session.expire_all()
    for c in db.session.scalars(select(Certificate).where(Certificate.officer_id == victim.id)):
        db.session.delete(c)
    db.session.flush()
    db.session.delete(victim)
    db.session.flush()
    empty = UnitFactory()
    db.session.flush()
    db.session.delete(empty)
    db.session.flush()
    flagstore.forget()
    assert_same(day)


def test_the_pages_read_the_store_and_show_what_the_engine_shows(app, client):
    with app.app_context():
        random_register(random.Random(7))
        uow.commit()
    login(client, app, "admin")
    assert client.get("/flags").status_code == 200
    with app.app_context():
        assert flagstore.state().day == TODAY  # the first read of the day built it
        assert_same(TODAY)
        p = compliance.Params.from_settings(TODAY)
        assert compliance.store_serves(p)
        by_engine = {f: sum(1 for r in reference(TODAY) if r[0] == f) for f in compliance.FLAG_ORDER}
        assert compliance.count_by_flag(p) == by_engine
        figures = compliance.dashboard_counts(p)
        engine = compliance.count_by_flag(p, compliance._figures((30, 60, 90)))
        assert figures == engine
    for url in ("/", "/flags?flag=EXPIRING&within=30", "/flags?flag=UNLICENSED&reason=expired",
                "/officers?flag=UNLICENSED", "/officers?flag=TRAINING_SHORTFALL", "/reminders", "/api/v1/flags"):
        assert client.get(url).status_code in (200, 401), url


def test_a_new_day_and_a_settings_change_rebuild_the_store(db, set_today):
    o = OfficerFactory()
    CertificateFactory(officer=o, issued_on=TODAY - D(300), expires_on=TODAY + D(40))
    build(TODAY)
    assert stored(TODAY, ["EXPIRING"]) == reference(TODAY, ["EXPIRING"]) != []
    # the next day: not served until rebuilt; the first read rebuilds it
    tomorrow = TODAY + D(1)
    set_today(tomorrow)
    flagstore.forget()
    p = compliance.Params.from_settings(tomorrow)
    assert flagstore.current(flagstore.state(), tomorrow) is False
    assert compliance.store_serves(p)  # built by this read
    assert db.session.scalar(select(FlagMeta.day)) == tomorrow
    assert_same(tomorrow)
    # a settings change: the store is marked unusable in the same transaction, rebuilt at the next read
    settings.set_value("eligible_establishments", "事业编制")
    uow.commit()
    flagstore.forget()
    assert db.session.scalar(select(FlagMeta.day)) is None
    p = compliance.Params.from_settings(tomorrow)
    assert compliance.store_serves(p)
    assert ("INELIGIBLE", "civil_servant") in {r[:2] for r in stored(tomorrow)}  # only 事业编制 now
    assert_same(tomorrow)


def test_the_first_training_session_year_is_part_of_the_fingerprint(db):
    o = OfficerFactory(post_since=date(2020, 1, 1))
    CertificateFactory(officer=o, issued_on=TODAY - D(300), expires_on=TODAY + D(900))
    db.session.add(TrainingSession(title="今年", held_on=TODAY - D(10), hours=8, category="law"))
    db.session.flush()
    build(TODAY)
    assert_same(TODAY)
    # a session of last year makes last year judged: the store is no longer current
    db.session.add(TrainingSession(title="去年", held_on=date(TODAY.year - 1, 3, 1), hours=8, category="law"))
    db.session.flush()
    flagstore.forget()
    assert flagstore.state().day is None
    uow.commit()
    flagstore.forget()
    assert compliance.store_serves(compliance.Params.from_settings(TODAY))
    assert ("TRAINING_SHORTFALL", "shortfall", o.id) in {r[:3] for r in stored(TODAY)}
    assert_same(TODAY)


def test_a_scoped_users_first_read_builds_every_branch(app, client):
    from app.auth.services import create_user

    with app.app_context():
        top = UnitFactory(name="上级")
        a = UnitFactory(name="甲分局", parent=top)
        b = UnitFactory(name="乙分局", parent=top)
        mine = OfficerFactory(unit=a, name="甲员")
        theirs = OfficerFactory(unit=b, name="乙员")
        user, _ = create_user("scoped", "viewer", PASSWORD)
        user.unit_id = a.id
        uow.commit()
        ids = (mine.id, theirs.id, a.id, b.id)
    page = client.get("/login")
    client.post("/login", data={"username": "scoped", "password": PASSWORD,
                                "csrf_token": csrf_from(page.get_data(as_text=True))})
    html = client.get("/flags").get_data(as_text=True)
    assert "甲员" in html and "乙员" not in html
    with app.app_context():
        officers_stored = set(compliance.db.session.scalars(
            select(FlagRow.officer_id).where(FlagRow.officer_id.is_not(None))))
        assert {ids[0], ids[1]} <= officers_stored  # both branches built
        assert {ids[2], ids[3]} <= set(compliance.db.session.scalars(select(FlagRow.unit_id).where(
            FlagRow.flag == "UNIT_UNDERSTAFFED")))
        assert_same(TODAY)


def test_check_flags_finds_a_planted_difference_and_fix_repairs_it(app, db, runner):
    o = OfficerFactory()
    CertificateFactory(officer=o, issued_on=TODAY - D(300), expires_on=TODAY + D(20))
    build(TODAY)
    ok = runner.invoke(args=["check", "flags"])
    assert ok.exit_code == 0, ok.output
    db.session.execute(text("DELETE FROM flag_row WHERE flag = 'EXPIRING'"))
    db.session.execute(insert(FlagRow).values(flag="UNLICENSED", reason="none", officer_id=o.id, unit_id=o.unit_id))
    uow.commit()
    bad = runner.invoke(args=["check", "flags"])
    assert bad.exit_code == 1
    assert "EXPIRING" in bad.output and "UNLICENSED" in bad.output and "2 处" in bad.output
    fixed = runner.invoke(args=["check", "flags", "--fix"])
    assert fixed.exit_code == 0, fixed.output
    assert runner.invoke(args=["check", "flags"]).exit_code == 0
    db.session.expire_all()
    assert_same(TODAY)


def test_a_refused_write_leaves_the_store_as_it_was(db):
    o = OfficerFactory()
    CertificateFactory(officer=o, issued_on=TODAY - D(300), expires_on=TODAY + D(20))
    build(TODAY)
    before = stored(TODAY)
    o.on_enforcement_post = False
    db.session.flush()
    flagstore.forget()
    assert stored(TODAY) != before  # refreshed in the write's transaction
    uow.rollback()
    flagstore.forget()
    assert stored(TODAY) == before
    with pytest.raises(DomainError):
        officers.save_officer(o, {"name": ""}, today=TODAY, expected_version=o.version)
    uow.rollback()
    flagstore.forget()
    assert stored(TODAY) == before
    assert_same(TODAY)


def test_bulk_core_writes_refresh_set_wise(db):
    u = UnitFactory()
    people = [OfficerFactory(unit=u) for _ in range(3)]
    build(TODAY)
    before = stored(TODAY)
    db.session.execute(update(Officer).where(Officer.id.in_([p.id for p in people[:2]])).values(
        on_enforcement_post=False))
    flagstore.refresh(db.session, [p.id for p in people[:2]])
    assert stored(TODAY) != before
    assert_same(TODAY)
    db.session.execute(update(Unit).where(Unit.id == u.id).values(enforcement_fields="市场监管"))
    flagstore.refresh(db.session, None)
    assert_same(TODAY)
    assert db.session.scalar(select(func.count()).select_from(FlagRow)) >= 2  # unlicensed, understaffed…


def test_the_workers_maintain_builds_the_new_days_store(db, set_today):
    from app.jobs.services import MAINTENANCE

    o = OfficerFactory()
    CertificateFactory(officer=o, issued_on=TODAY - D(300), expires_on=TODAY + D(20))
    uow.commit()
    assert flagstore.ensure_today in MAINTENANCE
    for task in MAINTENANCE:
        task()
    assert db.session.scalar(select(FlagMeta.day)) == TODAY
    assert_same(TODAY)
