"""The business day turns at midnight in the organisation's time zone, not the server's."""
from datetime import UTC, date, datetime

import pytest

from app import clock
from app.formatting import cn_datetime


@pytest.fixture
def utc_instant(monkeypatch):
    def _set(moment: datetime) -> None:
        monkeypatch.setattr(clock, "_utcnow", lambda: moment.replace(tzinfo=UTC))
    return _set


def test_a_server_on_utc_turns_the_day_at_beijing_midnight(ctx, utc_instant):
    utc_instant(datetime(2026, 6, 14, 15, 59))
    assert clock.today() == date(2026, 6, 14)
    utc_instant(datetime(2026, 6, 14, 16, 0))  # 00:00 on 15 June in Beijing
    assert clock.today() == date(2026, 6, 15)
    assert clock.now() == datetime(2026, 6, 15, 0, 0)


def test_the_zone_is_a_setting(app, utc_instant, monkeypatch):
    utc_instant(datetime(2026, 6, 14, 16, 0))
    monkeypatch.setitem(app.config, "TIMEZONE", "UTC")
    with app.app_context():
        assert clock.today() == date(2026, 6, 14)
    monkeypatch.setitem(app.config, "TIMEZONE", "Asia/Urumqi")  # UTC+6
    with app.app_context():
        assert clock.today() == date(2026, 6, 14)
        assert clock.now() == datetime(2026, 6, 14, 22, 0)


def test_stored_utc_reads_and_typed_times_store_in_local_time(ctx):
    assert cn_datetime(datetime(2026, 6, 14, 16, 5)) == "2026年6月15日 00:05"
    assert clock.from_local(datetime(2026, 6, 15, 9, 0)) == datetime(2026, 6, 15, 1, 0)
    assert clock.to_local(clock.from_local(datetime(2026, 3, 1, 8, 30))) == datetime(2026, 3, 1, 8, 30)
