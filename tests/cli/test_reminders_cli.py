"""`flask reminders send` against a real SMTP server and a real HTTP receiver on loopback."""

from __future__ import annotations

import email
import json
import socket
import threading
from datetime import date, timedelta
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from app.extensions import db
from tests.conftest import TODAY
from tests.factories import CertificateFactory, OfficerFactory, UnitFactory

RECIPIENTS = ["hr@example.gov.cn", "legal@example.gov.cn"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """aiosmtpd handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[dict] = []
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append({"mail_from": envelope.mail_from, "rcpt_tos": list(envelope.rcpt_tos),
                              "msg": msg})
        return "250 Message accepted for delivery"


class SmtpServer:
    def __init__(self, port: int) -> None:
        self.port = port
        self.inbox = Inbox()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self) -> list[dict]:
        return self.inbox.messages


@pytest.fixture
def smtp(app, monkeypatch):
    """A real SMTP server on 127.0.0.1; the app's SMTP_* settings point at it."""
    server = SmtpServer(free_port())
    server.start()
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", server.port)
    monkeypatch.setitem(app.config, "SMTP_USER", "")
    monkeypatch.setitem(app.config, "MAIL_FROM", "certmgr@example.gov.cn")
    monkeypatch.setitem(app.config, "APP_BASE_URL", "http://certs.example.gov.cn")
    yield server
    server.stop()


class Receiver:
    """An http.server in a thread, answering like a WeCom robot (or failing on demand)."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.status = 200
        self.answer = b'{"errcode":0,"errmsg":"ok"}'
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                receiver.requests.append({"path": self.path, "headers": dict(self.headers),
                                          "body": self.rfile.read(length)})
                self.send_response(receiver.status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(receiver.answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/cgi-bin/webhook/send?key=SECRET-KEY"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    def bodies(self) -> list[dict]:
        return [json.loads(r["body"].decode("utf-8")) for r in self.requests]


@pytest.fixture
def hook():
    receiver = Receiver()
    yield receiver
    receiver.close()


def configure(app, *, recipients=RECIPIENTS, webhook: str | None = None) -> None:
    from app.settings.services import set_value

    with app.app_context():
        set_value("reminder_recipients", ",".join(recipients))
        set_value("webhook_url", webhook or "")
        db.session.commit()


def make_officer(app, name: str, expires_on: date, *, unit: str = "城市管理科",
                 issued_on: date = date(2021, 1, 1), **officer) -> int:
    """An active officer on post with one valid enforcement certificate; returns the cert id."""
    from app.models.officers import Unit

    with app.app_context():
        u = db.session.scalar(select(Unit).where(Unit.name == unit)) or UnitFactory(name=unit)
        o = OfficerFactory(name=name, unit=u, **officer)
        c = CertificateFactory(officer=o, issued_on=issued_on, expires_on=expires_on)
        db.session.commit()
        return c.id


def send(runner, today: date | None = TODAY, *extra: str):
    args = ["reminders", "send", *extra]
    if today is not None:
        args += ["--today", today.isoformat()]
    return runner.invoke(args=args)


def deliveries(app, outcome: str | None = "sent") -> list[tuple[int, int, str]]:
    from app.models.reminders import ReminderDelivery

    with app.app_context():
        q = select(ReminderDelivery).order_by(ReminderDelivery.id)
        if outcome:
            q = q.where(ReminderDelivery.outcome == outcome)
        return [(d.certificate_id, d.window, d.channel) for d in db.session.scalars(q)]


def runs(app) -> list[tuple[str, str]]:
    from app.models.reminders import ReminderRun

    with app.app_context():
        return [(r.outcome, r.message) for r in
                db.session.scalars(select(ReminderRun).order_by(ReminderRun.id))]


def text_of(msg) -> str:
    return msg.get_body(preferencelist=("plain",)).get_content()


def html_of(msg) -> str:
    return msg.get_body(preferencelist=("html",)).get_content()


# ---------------------------------------------------------------- the digest e-mail

def test_digest_recipients_subject_and_body(app, runner, smtp):
    configure(app)
    c1 = make_officer(app, "张三", TODAY + timedelta(days=5), unit="城市管理科")
    c2 = make_officer(app, "李四", TODAY + timedelta(days=45), unit="安全生产科")
    make_officer(app, "王五", TODAY + timedelta(days=200))  # not in any window

    result = send(runner)

    assert result.exit_code == 0, result.output
    assert "2 个证件，2 个窗口，1 条消息" in result.output
    assert len(smtp.messages) == 1
    got = smtp.messages[0]
    assert sorted(got["rcpt_tos"]) == sorted(RECIPIENTS)
    msg = got["msg"]
    assert msg["From"] == "certmgr@example.gov.cn"
    assert set(a.strip() for a in msg["To"].split(",")) == set(RECIPIENTS)
    assert msg["Subject"] == "【证件到期提醒】示例街道办事处：2 个行政执法证即将到期（2026年6月15日）"
    text = text_of(msg)
    assert "【7 天内到期】" in text and "【60 天内到期】" in text
    assert "张三" in text and "城市管理科" in text and "2026年6月20日" in text and "剩余5天" in text
    assert "李四" in text and "安全生产科" in text and "剩余45天" in text
    assert "王五" not in text
    assert "http://certs.example.gov.cn/reminders" in text
    html = html_of(msg)
    assert "<td>张三</td>" in html and "<td>李四</td>" in html
    pdfs = [p for p in msg.iter_attachments() if p.get_content_type() == "application/pdf"]
    assert len(pdfs) == 1 and pdfs[0].get_filename() == "证件到期提醒.pdf"
    assert pdfs[0].get_content().startswith(b"%PDF")
    assert sorted(deliveries(app)) == sorted([(c1, 7, "email"), (c2, 60, "email")])
    assert runs(app)[-1][0] == "ok"


def test_second_run_same_day_sends_nothing_new(app, runner, smtp):
    configure(app)
    make_officer(app, "张三", TODAY + timedelta(days=20))

    first = send(runner)
    second = send(runner)

    assert first.exit_code == 0 and second.exit_code == 0, second.output
    assert len(smtp.messages) == 1
    assert "0 个证件，0 个窗口，0 条消息" in second.output
    assert len(deliveries(app)) == 1


def test_windows_crossed_one_after_another_over_simulated_days(app, runner, smtp):
    configure(app)
    expires = date(2026, 9, 30)
    cert = make_officer(app, "张三", expires)
    days = [expires - timedelta(days=d) for d in (120, 91, 90, 89, 61, 60, 45, 30, 8, 7, 6, 1, 0)]
    days.append(expires + timedelta(days=1))

    windows_seen = []
    for day in days:
        before = len(smtp.messages)
        result = send(runner, day)
        assert result.exit_code == 0, (day, result.output)
        if len(smtp.messages) > before:
            text = text_of(smtp.messages[-1]["msg"])
            windows_seen.append((day, next(w for w in (90, 60, 30, 7) if f"【{w} 天内到期】" in text)))

    assert windows_seen == [(expires - timedelta(days=90), 90), (expires - timedelta(days=60), 60),
                            (expires - timedelta(days=30), 30), (expires - timedelta(days=7), 7)]
    assert deliveries(app) == [(cert, 90, "email"), (cert, 60, "email"), (cert, 30, "email"),
                               (cert, 7, "email")]


def test_several_windows_crossed_at_once_remind_once_for_the_smallest(app, runner, smtp):
    configure(app)
    cert = make_officer(app, "张三", TODAY + timedelta(days=5))

    result = send(runner)
    again = send(runner, TODAY + timedelta(days=1))

    assert result.exit_code == 0 and again.exit_code == 0
    assert "1 个证件，1 个窗口，1 条消息" in result.output
    assert len(smtp.messages) == 1
    text = text_of(smtp.messages[0]["msg"])
    assert "【7 天内到期】" in text
    assert "【30 天内到期】" not in text and "【90 天内到期】" not in text
    assert deliveries(app) == [(cert, 7, "email")]


def test_smtp_down_exits_non_zero_records_nothing_sent_and_next_run_delivers(app, runner, monkeypatch):
    configure(app)
    cert = make_officer(app, "张三", TODAY + timedelta(days=25))
    port = free_port()  # nothing listens here yet
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", port)

    down = send(runner)

    assert down.exit_code == 1
    error_lines = [line for line in down.stderr.splitlines() if line.strip()]
    assert len(error_lines) == 1
    assert error_lines[0].startswith("错误：邮件未发送：SMTP 127.0.0.1:")
    assert "下次运行会再次发送" in error_lines[0]
    assert deliveries(app) == []
    assert runs(app)[-1][0] == "failed"

    server = SmtpServer(port)
    server.start()
    try:
        up = send(runner)
    finally:
        server.stop()
    assert up.exit_code == 0, up.output
    assert len(server.messages) == 1
    assert "张三" in text_of(server.messages[0]["msg"])
    assert deliveries(app) == [(cert, 30, "email")]
    assert runs(app)[-1][0] == "ok"


def test_smtp_host_not_set_fails_clearly(app, runner, monkeypatch):
    configure(app)
    make_officer(app, "张三", TODAY + timedelta(days=25))
    monkeypatch.setitem(app.config, "SMTP_HOST", "")

    result = send(runner)

    assert result.exit_code == 1
    assert "未配置 SMTP_HOST" in result.stderr
    assert deliveries(app) == []


def test_refused_recipient_is_reported_but_the_others_are_not_sent_twice(app, runner, smtp):
    configure(app)
    cert = make_officer(app, "张三", TODAY + timedelta(days=5))
    smtp.inbox.refuse = {"legal@example.gov.cn"}

    first = send(runner)
    second = send(runner)

    assert first.exit_code == 1
    assert "拒绝了收件人 legal@example.gov.cn" in first.stderr
    assert second.exit_code == 0
    assert [m["rcpt_tos"] for m in smtp.messages] == [["hr@example.gov.cn"]]
    assert deliveries(app) == [(cert, 7, "email")]
    assert runs(app)[0][0] == "failed"


# ---------------------------------------------------------------- the webhook

def test_webhook_body_is_group_robot_text(app, runner, hook):
    configure(app, recipients=[], webhook=hook.url)
    make_officer(app, "张三", TODAY + timedelta(days=5), unit="城市管理科")
    make_officer(app, "李四", TODAY + timedelta(days=80), unit="市场监管所")

    result = send(runner)

    assert result.exit_code == 0, result.output
    assert len(hook.requests) == 1
    req = hook.requests[0]
    assert req["path"] == "/cgi-bin/webhook/send?key=SECRET-KEY"
    assert req["headers"]["Content-Type"].startswith("application/json")
    body = hook.bodies()[0]
    assert set(body) == {"msgtype", "text"} and body["msgtype"] == "text"
    assert set(body["text"]) == {"content"}
    content = body["text"]["content"]
    assert "张三（城市管理科）" in content and "2026年6月20日到期" in content and "剩余5天" in content
    assert "李四（市场监管所）" in content
    assert "【7天内到期】" in content and "【90天内到期】" in content
    # recorded without the robot's secret key
    from app.models.reminders import ReminderDelivery

    with app.app_context():
        recipients = set(db.session.scalars(select(ReminderDelivery.recipient)))
    assert recipients == {f"http://127.0.0.1:{hook.server.server_port}/cgi-bin/webhook/send?…"}


def test_webhook_down_keeps_email_and_retries_only_the_webhook(app, runner, smtp, hook):
    configure(app, webhook=hook.url)
    cert = make_officer(app, "张三", TODAY + timedelta(days=5))
    hook.status = 502

    first = send(runner)

    assert first.exit_code == 1
    assert "群机器人消息未发送" in first.stderr and "HTTP 502" in first.stderr
    assert "SECRET-KEY" not in first.output + first.stderr
    assert len(smtp.messages) == 1
    assert deliveries(app) == [(cert, 7, "email")]

    hook.status = 200
    second = send(runner)

    assert second.exit_code == 0, second.output
    assert len(smtp.messages) == 1  # the e-mail is not sent twice
    assert len(hook.requests) == 2
    assert deliveries(app) == [(cert, 7, "email"), (cert, 7, "webhook")]


def test_robot_errcode_counts_as_failure(app, runner, hook):
    configure(app, recipients=[], webhook=hook.url)
    make_officer(app, "张三", TODAY + timedelta(days=5))
    hook.answer = b'{"errcode":310000,"errmsg":"keywords not in content"}'

    result = send(runner)

    assert result.exit_code == 1
    assert "errcode 310000" in result.stderr
    assert deliveries(app) == []


# ---------------------------------------------------------------- dry run, channels, scope

def test_dry_run_prints_what_would_be_sent_and_records_nothing(app, runner, smtp, hook):
    configure(app, webhook=hook.url)
    make_officer(app, "张三", TODAY + timedelta(days=5))

    dry = send(runner, TODAY, "--dry-run")

    assert dry.exit_code == 0, dry.output
    assert "收件人：hr@example.gov.cn, legal@example.gov.cn" in dry.output
    assert "主题：【证件到期提醒】示例街道办事处：1 个行政执法证即将到期" in dry.output
    assert "张三" in dry.output and '"msgtype": "text"' in dry.output
    assert "演练（未发送、未记录）：1 个证件，1 个窗口，2 条消息" in dry.output
    assert smtp.messages == [] and hook.requests == []
    assert deliveries(app, outcome=None) == [] and runs(app) == []

    real = send(runner)
    assert real.exit_code == 0
    assert len(smtp.messages) == 1 and len(hook.requests) == 1


def test_no_channel_configured_fails_when_something_is_due(app, runner):
    configure(app, recipients=[])
    make_officer(app, "张三", TODAY + timedelta(days=5))

    result = send(runner)

    assert result.exit_code == 1
    assert "没有配置提醒渠道" in result.stderr
    assert runs(app)[-1][0] == "failed"


def test_unconfigured_channel_is_skipped_and_delivers_once_configured(app, runner, smtp, hook):
    configure(app)  # e-mail only
    cert = make_officer(app, "张三", TODAY + timedelta(days=5))
    first = send(runner)
    assert first.exit_code == 0
    assert "（群机器人：未设置 webhook_url，跳过）" in first.output
    assert hook.requests == []

    configure(app, webhook=hook.url)
    later = send(runner)

    assert later.exit_code == 0
    assert len(smtp.messages) == 1 and len(hook.requests) == 1
    assert deliveries(app) == [(cert, 7, "email"), (cert, 7, "webhook")]


def test_renewed_certificate_starts_fresh_and_old_one_is_superseded(app, runner, smtp):
    from app.models.officers import Officer

    configure(app)
    old = make_officer(app, "张三", TODAY + timedelta(days=5))
    assert send(runner).exit_code == 0
    with app.app_context():
        officer = db.session.scalar(select(Officer).where(Officer.name == "张三"))
        new = CertificateFactory(officer=officer, issued_on=TODAY, expires_on=TODAY + timedelta(days=80)).id
        db.session.commit()

    renewed = send(runner, TODAY + timedelta(days=1))

    assert renewed.exit_code == 0
    assert len(smtp.messages) == 2
    text = text_of(smtp.messages[1]["msg"])
    assert "【90 天内到期】" in text and "剩余79天" in text
    assert deliveries(app) == [(old, 7, "email"), (new, 90, "email")]


def test_certificate_renewed_by_a_new_expiry_date_starts_fresh(app, runner, smtp, tmp_path):
    """Renewing by re-importing the same card (same number, new 有效期至) resets its reminders."""
    from app.models.certificates import Certificate

    configure(app)
    cert = make_officer(app, "张三", TODAY + timedelta(days=5))
    assert send(runner).exit_code == 0
    with app.app_context():
        c = db.session.get(Certificate, cert)
        row = [c.officer.id_number, "行政执法证", c.number, "2021-01-01", (TODAY + timedelta(days=370)).isoformat()]
    f = tmp_path / "renew.csv"
    f.write_text("身份证号,证件类型,证件编号,发证日期,有效期至\n" + ",".join(row) + "\n", encoding="utf-8")
    assert runner.invoke(args=["import", "certificates", str(f)]).exit_code == 0
    assert send(runner, TODAY + timedelta(days=1)).exit_code == 0  # 369 days left: no window
    assert len(smtp.messages) == 1

    later = send(runner, TODAY + timedelta(days=366))  # 4 days left of the new validity

    assert later.exit_code == 0, later.output
    assert "1 个证件，1 个窗口，1 条消息" in later.output
    assert len(smtp.messages) == 2 and "剩余4天" in text_of(smtp.messages[1]["msg"])
    assert deliveries(app) == [(cert, 7, "email"), (cert, 7, "email")]
    assert "0 个证件" in send(runner, TODAY + timedelta(days=366)).output


def test_only_active_officers_on_post_with_effective_certificates(app, runner, smtp):
    configure(app)
    make_officer(app, "在岗", TODAY + timedelta(days=10))
    make_officer(app, "离岗", TODAY + timedelta(days=10), on_enforcement_post=False)
    make_officer(app, "退休", TODAY + timedelta(days=10), employment_status="retired")
    make_officer(app, "未生效", TODAY + timedelta(days=10), issued_on=TODAY + timedelta(days=1))

    assert send(runner).exit_code == 0

    text = text_of(smtp.messages[0]["msg"])
    assert "在岗" in text
    for name in ("离岗", "退休", "未生效"):
        assert name not in text


def test_summary_counts_certificates_windows_and_messages(app, runner, smtp, hook):
    configure(app, webhook=hook.url)
    make_officer(app, "甲", TODAY + timedelta(days=3))
    make_officer(app, "乙", TODAY + timedelta(days=6))
    make_officer(app, "丙", TODAY + timedelta(days=50))

    result = send(runner)

    assert result.exit_code == 0
    assert "提醒已完成：3 个证件，2 个窗口，2 条消息（邮件 1，群机器人 1）" in result.output
    from app.models.reminders import ReminderRun

    with app.app_context():
        run = db.session.scalar(select(ReminderRun))
        assert (run.certificates, run.windows, run.messages) == (3, 2, 2)
        from app.models.audit import AuditEvent

        assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "remind", AuditEvent.actor.like("cli:%reminders send"))) == 1


def test_bad_date_is_a_usage_error(runner):
    result = runner.invoke(args=["reminders", "send", "--today", "2026-13-01"])
    assert result.exit_code == 2
    assert "不是有效日期" in result.output


def test_digest_names_the_units_falling_below_two_within_six_months(app, runner, smtp):
    """The forecast's line: 安全生产科 keeps two holders for a year; 城市管理科 has two until
    张三's card runs out (in 5 days); 综合执法队 has one holder today."""
    configure(app)
    make_officer(app, "张三", TODAY + timedelta(days=5), unit="城市管理科")
    make_officer(app, "赵六", TODAY + timedelta(days=3000), unit="城市管理科")
    make_officer(app, "李四", TODAY + timedelta(days=3000), unit="安全生产科")
    make_officer(app, "钱七", TODAY + timedelta(days=3000), unit="安全生产科")
    make_officer(app, "孙八", TODAY + timedelta(days=3000), unit="综合执法队")

    result = send(runner)

    assert result.exit_code == 0, result.output
    msg = smtp.messages[0]["msg"]
    text = text_of(msg)
    assert ("2 个单位将在 6 个月内不足两名持证人员：综合执法队（2026年6月15日起）、"
            "城市管理科（2026年6月21日起）。") in text
    assert "http://certs.example.gov.cn/forecast" in text
    assert "安全生产科" not in text
    html = html_of(msg)
    assert "2 个单位将在 6 个月内不足两名持证人员" in html and "综合执法队（2026年6月15日起）" in html


def test_digest_has_no_forecast_line_when_every_unit_keeps_two(app, runner, smtp):
    configure(app)
    make_officer(app, "张三", TODAY + timedelta(days=5), unit="城市管理科")
    make_officer(app, "赵六", TODAY + timedelta(days=3000), unit="城市管理科")
    make_officer(app, "钱七", TODAY + timedelta(days=3000), unit="城市管理科")

    assert send(runner).exit_code == 0
    assert "不足两名持证人员" not in text_of(smtp.messages[0]["msg"])
