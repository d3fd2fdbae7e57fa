"""Reminder rules and the never-twice / never-lost protocol, at the service level."""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess
from datetime import date, timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from app.models.reminders import ReminderDelivery, ReminderRun
from app.reminders import mail, services, webhook
from app.settings.services import set_value
from tests.cli.test_reminders_cli import Inbox, free_port
from tests.conftest import TODAY
from tests.factories import CertificateFactory, OfficerFactory


class Killed(BaseException):
    """Stands in for SIGKILL: nothing after it runs, no except Exception catches it."""


def officer_with(db, expires_on: date, **kw):
    o = OfficerFactory(**kw)
    c = CertificateFactory(officer=o, issued_on=date(2021, 1, 1), expires_on=expires_on)
    db.session.commit()
    return o, c


def sent_rows(db):
    return [(d.certificate_id, d.window, d.channel) for d in db.session.scalars(
        select(ReminderDelivery).where(ReminderDelivery.outcome == "sent").order_by(ReminderDelivery.id))]


@pytest.fixture
def channels(db):
    set_value("reminder_recipients", "hr@example.gov.cn")
    set_value("webhook_url", "http://127.0.0.1:9/robot?key=abc")
    db.session.commit()


class FakeSender:
    """Records what would go out; can fail or 'kill the process' on a channel."""

    def __init__(self, fail=(), kill=()):
        self.sent: list[tuple[str, list[int]]] = []
        self.fail, self.kill = set(fail), set(kill)

    def __call__(self, out, smtp, today):
        if out.channel in self.kill:
            raise Killed()
        if out.channel in self.fail:
            raise mail.DeliveryError(f"{out.channel} down")
        self.sent.append((out.channel, [it.certificate_id for it in out.items]))


@pytest.mark.parametrize(("days_left", "expected"), [
    (91, None), (90, 90), (61, 90), (60, 60), (31, 60), (30, 30), (8, 30), (7, 7), (0, 7), (-1, None),
])
def test_smallest_window(days_left, expected):
    assert services.smallest_window(days_left, [90, 60, 30, 7]) == expected


def test_superseded_certificate_is_not_due(db):
    o, old = officer_with(db, TODAY + timedelta(days=5))
    CertificateFactory(officer=o, issued_on=TODAY - timedelta(days=3), expires_on=TODAY + timedelta(days=1800))
    _, due = officer_with(db, TODAY + timedelta(days=5))
    db.session.commit()

    got = services.due_certificates(TODAY, [90, 60, 30, 7])

    assert [d.certificate_id for d in got] == [due.id]


def test_suspended_certificate_is_not_due(db):
    o = OfficerFactory()
    CertificateFactory(officer=o, expires_on=TODAY + timedelta(days=5), status="suspended")
    db.session.commit()
    assert services.due_certificates(TODAY, [90, 60, 30, 7]) == []


def test_failure_records_failed_rows_only_and_next_run_delivers(db, app, channels):
    _, c = officer_with(db, TODAY + timedelta(days=20))

    first = services.send_reminders(TODAY, app.config, commit=db.session.commit,
                                    sender=FakeSender(fail={"email", "webhook"}))

    assert not first.ok and first.errors == ["email down", "webhook down"]
    assert sent_rows(db) == []
    failed = db.session.scalars(select(ReminderDelivery).where(ReminderDelivery.outcome == "failed")).all()
    assert {(d.channel, d.error) for d in failed} == {("email", "email down"), ("webhook", "webhook down")}
    assert services.last_run_info()["outcome"] == "failed"

    sender = FakeSender()
    second = services.send_reminders(TODAY, app.config, commit=db.session.commit, sender=sender)

    assert second.ok
    assert sender.sent == [("email", [c.id]), ("webhook", [c.id])]
    assert sent_rows(db) == [(c.id, 30, "email"), (c.id, 30, "webhook")]


def test_killed_after_first_channel_loses_nothing_and_repeats_nothing(db, app, channels):
    _, c = officer_with(db, TODAY + timedelta(days=20))
    sender = FakeSender(kill={"webhook"})

    with pytest.raises(Killed):
        services.send_reminders(TODAY, app.config, commit=db.session.commit, sender=sender)
    db.session.rollback()  # the process died; its session is gone

    assert sender.sent == [("email", [c.id])]
    assert sent_rows(db) == [(c.id, 30, "email")]
    assert services.last_run_info()["outcome_label"] == "未完成（运行中或被中断）"

    again = FakeSender()
    assert services.send_reminders(TODAY, app.config, commit=db.session.commit, sender=again).ok
    assert again.sent == [("webhook", [c.id])]
    assert sent_rows(db) == [(c.id, 30, "email"), (c.id, 30, "webhook")]


def test_killed_between_send_and_commit_repeats_only_the_message_in_flight(db, app, channels):
    _, c = officer_with(db, TODAY + timedelta(days=20))
    sender = FakeSender()
    commits = {"n": 0}

    def dying_commit():
        commits["n"] += 1
        if commits["n"] == 2:  # 1: the run row; 2: right after the e-mail went out
            raise Killed()
        db.session.commit()

    with pytest.raises(Killed):
        services.send_reminders(TODAY, app.config, commit=dying_commit, sender=sender)
    db.session.rollback()
    assert sender.sent == [("email", [c.id])]
    assert sent_rows(db) == []

    services.send_reminders(TODAY, app.config, commit=db.session.commit, sender=sender)
    services.send_reminders(TODAY, app.config, commit=db.session.commit, sender=sender)

    # the e-mail in flight went twice; the webhook, never sent before the kill, exactly once
    assert sender.sent == [("email", [c.id]), ("email", [c.id]), ("webhook", [c.id])]
    assert sent_rows(db) == [(c.id, 30, "email"), (c.id, 30, "webhook")]


def test_internal_error_in_a_channel_is_reported_not_marked_sent(db, app, channels):
    officer_with(db, TODAY + timedelta(days=20))

    def broken(out, smtp, today):
        raise RuntimeError("boom")

    result = services.send_reminders(TODAY, app.config, commit=db.session.commit, sender=broken)

    assert not result.ok
    assert result.errors[0] == "邮件未发送：内部错误（RuntimeError: boom）"
    assert sent_rows(db) == []
    assert db.session.scalar(select(ReminderRun.outcome)) == "failed"


def test_webhook_content_fits_the_robot_limit():
    lines = [f"{i}. 张三{i}（城市管理综合执法大队第{i}中队）证号500108230000{i:04d}，2026年9月30日到期，剩余7天"
             for i in range(200)]
    content = webhook.fit(lines, "示例街道办事处 证件到期提醒：200 个", "详情：http://x/reminders")

    assert len(content.encode()) <= webhook.MAX_CONTENT_BYTES
    kept = sum(1 for line in content.splitlines() if "证号" in line)
    assert 0 < kept < 200
    assert f"……另有 {200 - kept} 个" in content
    assert content.endswith("详情：http://x/reminders")
    short = webhook.fit(lines[:2], "头", "尾")
    assert short == "\n".join(["头", *lines[:2], "尾"])


def test_webhook_redacts_the_secret_key():
    assert webhook.redact("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc") == \
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?…"
    assert webhook.redact("http://robot.local/hook") == "http://robot.local/hook"
    assert json.loads(json.dumps(webhook.body("x"))) == {"msgtype": "text", "text": {"content": "x"}}


@pytest.mark.skipif(not shutil.which("openssl"), reason="needs the openssl command")
def test_starttls_is_used_when_the_server_offers_it(tmp_path, monkeypatch):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(str(cert), str(key))
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), tls_context=server_ctx,
                            require_starttls=True)
    controller.start()
    real = ssl.create_default_context
    monkeypatch.setattr(mail.ssl, "create_default_context", lambda: real(cafile=str(cert)))
    try:
        smtp = mail.SmtpSettings(host="127.0.0.1", port=controller.port, mail_from="a@example.gov.cn")
        msg = mail.build_message(smtp, ["hr@example.gov.cn"], "主题", "正文", "<p>正文</p>")
        mail.send(smtp, msg)
    finally:
        controller.stop()
    assert len(inbox.messages) == 1
    assert inbox.messages[0]["msg"]["Subject"] == "主题"
