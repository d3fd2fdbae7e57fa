"""Figures kept until the next write (app/training/memo.py): the ledger's pages found from the kept
counts are the query-time ledger's pages; any write — ORM, Core, text(), in the same transaction —
gives new figures; a scoped user's are the branch's; `flask check hours` finds a kept figure that
differs from a fresh computation and `--fix` drops it."""

from __future__ import annotations

import json
import random
import re
from datetime import date

from sqlalchemy import select, text, update

from app.extensions import db as _db
from app.models.auth import User
from app.models.training import Attendance, FigureMemo, TrainingSession
from app.rules.hours import YEAR_STATUSES, refresh_hours
from app.training import memo, services
from app.training.stats import annual_stats, compute_annual_stats
from tests.conftest import login
from tests.factories import OfficerFactory, UnitFactory

TODAY = date(2026, 6, 15)


def _register(rng: random.Random) -> list[int]:
    """Four units (the last two under the first), 60 officers with every kind of post date, some
    off post or retired, sessions in 2025 and 2026 with random attendance. Returns the unit ids."""
    units = [UnitFactory(name=f"单位{i}", sort_order=rng.choice([0, 1])) for i in range(4)]
    _db.session.flush()
    units[2].parent_id = units[3].parent_id = units[0].id
    posts = [None, date(2024, 1, 1), date(2025, 3, 1), date(2025, 11, 1), date(2026, 2, 1), date(2026, 9, 1)]
    officers = [OfficerFactory(name=f"人员{i:02d}", unit=rng.choice(units), post_since=rng.choice(posts),
                               on_enforcement_post=rng.random() > 0.1,
                               employment_status="active" if rng.random() > 0.1 else "retired")
                for i in range(60)]
    sessions = [TrainingSession(title=f"培训{i}", category=rng.choice(["general_law", "specialist_law", "lecture"]),
                                held_on=date(rng.choice([2025, 2026]), rng.randint(1, 12), rng.randint(1, 28)),
                                hours=rng.choice([8.0, 16.0, 24.0])) for i in range(6)]
    _db.session.add_all(sessions)
    _db.session.flush()
    for s in sessions:
        for o in rng.sample(officers, rng.randint(5, 40)):
            _db.session.add(Attendance(session_id=s.id, officer_id=o.id, status="attended",
                                       credited_hours=rng.choice([s.hours, s.hours / 2])))
    _db.session.commit()
    return [u.id for u in units]


def test_ledger_pages_from_the_kept_counts_are_the_query_time_pages(db, set_today):
    set_today(TODAY)
    unit_ids = _register(random.Random(7))
    checked = 0
    for year in (2025, 2026, 2027):
        for unit_id in (None, *unit_ids):
            for status in (None, *YEAR_STATUSES):
                full = [r["officer_id"] for r in services.ledger(year, TODAY, 40.0, unit_id=unit_id, status=status)]
                pages = max(1, -(-len(full) // 7))
                for page in (*range(1, pages + 2), 100000):
                    got = services.ledger(year, TODAY, 40.0, unit_id=unit_id, status=status, page=page, per_page=7)
                    shown = min(page, pages)
                    assert [r["officer_id"] for r in got] == full[(shown - 1) * 7:shown * 7], (year, unit_id, status)
                    assert all(r["total"] == len(full) for r in got)
                checked += len(full)
    assert checked > 500


def _figures(html: str) -> dict[str, str]:
    return dict(re.findall(r"<tr><th>([^<]+)</th><td>([^<]*)</td>", html))


def test_a_write_of_any_kind_gives_new_figures(app, client, set_today, monkeypatch):
    set_today(TODAY)
    monkeypatch.setattr(memo, "PRUNE", 1)  # every write drops the stale memos
    login(client, app, "admin")
    with app.app_context():
        unit = UnitFactory(name="执法队")
        a, b = OfficerFactory(name="甲", unit=unit), OfficerFactory(name="乙", unit=unit)
        s = TrainingSession(title="讲座", category="lecture", held_on=date(2026, 3, 1), hours=8.0)
        _db.session.add(s)
        _db.session.flush()
        _db.session.add(Attendance(session_id=s.id, officer_id=a.id, status="attended", credited_hours=8.0))
        _db.session.commit()
        sid, b_id = s.id, b.id
    assert _figures(client.get("/training/annual").get_data(as_text=True))["参训人次"] == "1"
    assert "在职执法岗位人员 2 人" in client.get("/training/ledger").get_data(as_text=True)
    with app.app_context():  # an ORM write
        _db.session.add(Attendance(session_id=sid, officer_id=b_id, status="attended", credited_hours=4.0))
        _db.session.commit()
    html = client.get("/training/annual").get_data(as_text=True)
    assert (_figures(html)["参训人次"], _figures(html)["认定学时（人·学时）"]) == ("2", "12")
    with app.app_context():  # a Core write on the session (and the hours refreshed, as bulk writes do)
        _db.session.execute(update(Attendance).where(Attendance.officer_id == b_id).values(credited_hours=6.0))
        refresh_hours(_db.session, officer_ids={b_id})
        _db.session.commit()
    assert _figures(client.get("/training/annual").get_data(as_text=True))["认定学时（人·学时）"] == "14"
    with app.app_context():  # text() on the session's connection
        _db.session.connection().execute(text("UPDATE officer SET on_enforcement_post = :f WHERE id = :i"),
                                         {"f": False, "i": b_id})
        _db.session.commit()
    assert "在职执法岗位人员 1 人" in client.get("/training/ledger").get_data(as_text=True)
    with app.app_context():  # the figures of earlier stamps are gone (stale for good)
        assert set(_db.session.scalars(select(FigureMemo.stamp))) == {memo.current_stamp()}
    with app.app_context():  # this transaction's own writes, before any commit
        before = annual_stats(2026)["training"]["person_times"]
        _db.session.add(Attendance(session_id=sid, officer_id=OfficerFactory(name="丙", unit=unit).id,
                                   status="attended", credited_hours=8.0))
        _db.session.flush()
        assert annual_stats(2026)["training"]["person_times"] == before + 1
        assert annual_stats(2026) == compute_annual_stats(2026)
        _db.session.rollback()


def test_a_scoped_users_figures_are_the_branchs(app, client, set_today, runner):
    set_today(TODAY)
    with app.app_context():
        top, branch = UnitFactory(name="总队"), UnitFactory(name="一支队")
        _db.session.flush()
        branch.parent_id = top.id
        for i in range(3):
            OfficerFactory(name=f"总队{i}", unit=top)
        OfficerFactory(name="支队员", unit=branch)
        _db.session.commit()
        branch_id, top_id = branch.id, top.id
    login(client, app, "admin", username="whole")
    assert "在职执法岗位人员 4 人" in client.get("/training/ledger").get_data(as_text=True)
    assert _figures(client.get("/training/annual").get_data(as_text=True))["年末执法岗位在职人数"] == "4"
    client = app.test_client()
    login(client, app, "admin", username="branch")
    with app.app_context():
        _db.session.execute(update(User).where(User.username == "branch").values(unit_id=branch_id))
        _db.session.commit()
    html = client.get("/training/ledger").get_data(as_text=True)
    assert "在职执法岗位人员 1 人" in html and "支队员" in html and "总队0" not in html
    html = client.get(f"/training/ledger?unit={top_id}&page=2").get_data(as_text=True)  # a unit outside
    assert "在职执法岗位人员 0 人" in html and "总队0" not in html
    assert _figures(client.get("/training/annual").get_data(as_text=True))["年末执法岗位在职人数"] == "1"
    # both users' figures are kept, each recomputed under its own scope by the check: no difference
    with app.app_context():
        assert _db.session.scalar(select(_db.func.count()).select_from(FigureMemo)) >= 4
    result = runner.invoke(args=["check", "hours"])
    assert result.exit_code == 0, result.output


def test_check_hours_finds_a_kept_figure_that_differs_and_fix_drops_it(app, client, set_today, runner):
    set_today(TODAY)
    with app.app_context():
        OfficerFactory(name="甲")
        _db.session.commit()
    login(client, app, "admin")
    assert _figures(client.get("/training/annual").get_data(as_text=True))["年末执法岗位在职人数"] == "1"
    assert runner.invoke(args=["check", "hours"]).exit_code == 0
    with app.app_context():  # plant a difference: the kept figures say 7 officers on post
        row = _db.session.scalar(select(FigureMemo).where(FigureMemo.kind == "annual"))
        data = json.loads(row.data)
        data["officers"]["on_post_at_year_end"] = 7
        _db.session.execute(update(FigureMemo).where(FigureMemo.key == row.key).values(data=json.dumps(data)))
        _db.session.commit()
    assert _figures(client.get("/training/annual").get_data(as_text=True))["年末执法岗位在职人数"] == "7"
    result = runner.invoke(args=["check", "hours"])
    assert result.exit_code == 1
    assert "已存统计结果" in result.output and "officers" in result.output
    result = runner.invoke(args=["check", "hours", "--fix"])
    assert result.exit_code == 0 and "已修正" in result.output, result.output
    assert runner.invoke(args=["check", "hours"]).exit_code == 0
    assert _figures(client.get("/training/annual").get_data(as_text=True))["年末执法岗位在职人数"] == "1"
