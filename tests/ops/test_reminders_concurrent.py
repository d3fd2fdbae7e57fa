"""Two `flask reminders send` started at the same moment deliver each reminder exactly once.

Real processes, the suite's database (SQLite file or PostgreSQL), a real SMTP server and a real
HTTP receiver on loopback. The SMTP server answers slowly so both runs overlap for sure.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from tests.cli.test_reminders_cli import (
    Inbox,
    Receiver,
    SmtpServer,
    configure,
    deliveries,
    free_port,
    make_officer,
)
from tests.conftest import TODAY

ROOT = Path(__file__).resolve().parents[2]


class SlowInbox(Inbox):
    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(1.5)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def slow_smtp():
    server = SmtpServer(free_port())
    server.inbox = SlowInbox()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def _start(app, smtp_port: int) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "SECRET_KEY": "x",
           "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp_port), "SMTP_USER": "",
           "MAIL_FROM": "certmgr@example.gov.cn", "WEBHOOK_ALLOW_LOCAL": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "reminders", "send",
         "--today", TODAY.isoformat()], cwd=ROOT, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)


def test_two_runs_started_together_deliver_each_reminder_once(app, slow_smtp, receiver):
    configure(app, webhook=receiver.url)
    certs = [make_officer(app, f"人员{i}", TODAY + timedelta(days=3 + 10 * i)) for i in range(6)]

    procs = [_start(app, slow_smtp.port) for _ in range(2)]
    outs = [p.communicate(timeout=180) for p in procs]

    for p, (out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, out + err
    # Each certificate is in exactly one e-mail and one robot message.
    assert len(slow_smtp.messages) == 1, [m["msg"]["Subject"] for m in slow_smtp.messages]
    assert len(receiver.requests) == 1
    text = slow_smtp.messages[0]["msg"].get_body(preferencelist=("plain",)).get_content()
    for i in range(6):
        assert text.count(f"人员{i}") == 1
    sent = Counter(deliveries(app))
    assert set(sent.values()) == {1}
    assert {c for c, _w, _ch in sent} == set(certs)
    assert Counter(ch for _c, _w, ch in sent) == {"email": 6, "webhook": 6}


@pytest.fixture
def fast_smtp(app, monkeypatch):
    server = SmtpServer(free_port())
    server.start()
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", server.port)
    monkeypatch.setitem(app.config, "SMTP_USER", "")
    yield server
    server.stop()


def _hold_lock(app, heartbeat_at):
    from app.extensions import db
    from app.locks import RunLock

    with app.app_context():
        db.session.add(RunLock(name="reminders", holder="other-server:4242:abcd",
                               acquired_at=heartbeat_at, heartbeat_at=heartbeat_at))
        db.session.commit()


def test_a_run_beside_a_running_one_sends_nothing_and_says_why(app, runner, fast_smtp,
                                                                 monkeypatch):
    from app.models_base import utcnow

    configure(app)
    make_officer(app, "张三", TODAY + timedelta(days=5))
    _hold_lock(app, utcnow())
    monkeypatch.setitem(app.config, "REMINDER_LOCK_WAIT", 0)

    result = runner.invoke(args=["reminders", "send", "--today", TODAY.isoformat()])

    assert result.exit_code == 1
    assert "另一个提醒任务正在运行" in result.output and "other-server:4242" in result.output
    assert fast_smtp.messages == [] and deliveries(app) == []


def test_a_lock_left_by_a_killed_run_is_taken_over_once_stale(app, runner, fast_smtp):
    from app.models_base import utcnow

    configure(app)
    cert = make_officer(app, "张三", TODAY + timedelta(days=5))
    _hold_lock(app, utcnow() - timedelta(hours=1))

    result = runner.invoke(args=["reminders", "send", "--today", TODAY.isoformat()])

    assert result.exit_code == 0, result.output
    assert len(fast_smtp.messages) == 1 and deliveries(app) == [(cert, 7, "email")]
    with app.app_context():
        from app.extensions import db
        from app.locks import RunLock

        assert db.session.query(RunLock).count() == 0  # released after the run
