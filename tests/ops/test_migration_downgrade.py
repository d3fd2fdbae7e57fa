"""A migration downgrade never silently drops the reminder history."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import create_engine, text

from tests.unit.test_migrations import _flask, empty_db_url  # noqa: F401  (fixture)

ROW = ("INSERT INTO reminder_run (started_at, today, outcome, message, certificates, windows, "
       "messages) VALUES (:at, :today, 'ok', '已发送', 1, 1, 1)")


def _count(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT COUNT(*) FROM reminder_run")).scalar()
    finally:
        engine.dispose()


def test_downgrade_refuses_while_reminder_history_exists(empty_db_url):  # noqa: F811
    assert _flask(empty_db_url, "db", "upgrade").returncode == 0
    engine = create_engine(empty_db_url)
    with engine.begin() as conn:
        conn.execute(text(ROW), {"at": datetime(2026, 6, 15, 7, 15), "today": date(2026, 6, 15)})
    engine.dispose()

    down = _flask(empty_db_url, "db", "downgrade", "dff5ecedefd6")

    assert down.returncode != 0
    assert "提醒记录" in down.stderr
    assert _count(empty_db_url) == 1  # the history is still there

    engine = create_engine(empty_db_url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM reminder_run"))
    engine.dispose()
    assert _flask(empty_db_url, "db", "downgrade", "dff5ecedefd6").returncode == 0
