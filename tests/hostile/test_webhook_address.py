"""The reminder robot's address may not be this machine or a link-local address (a way to make
the server call its own local services or a cloud metadata endpoint): refused when the setting is
saved and again when a message is sent (the host name resolved). Intranet ranges stay allowed."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.settings import Setting
from tests.cli.test_reminders_cli import TODAY, configure, hook, make_officer, send  # noqa: F401
from tests.conftest import login
from tests.web.test_settings_page import _form

LOCAL = ["http://127.0.0.1:8080/robot?key=k", "http://localhost/robot", "http://[::1]/robot",
         "http://169.254.169.254/latest/meta-data", "http://0.0.0.0:9000/x", "http://[fe80::1]/robot",
         "http://127.9.9.9/x", "http://[::ffff:127.0.0.1]/x", "http://LOCALHOST./x"]
INTRANET = ["http://10.1.2.3/robot?key=k", "https://172.16.0.9/robot", "http://192.168.1.20:8080/send",
            "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc"]


@pytest.fixture
def strict(app, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_LOCAL", False)


def _stored(app) -> str | None:
    with app.app_context():
        return db.session.scalar(select(Setting.value).where(Setting.name == "webhook_url"))


@pytest.mark.parametrize("url", LOCAL)
def test_a_local_robot_address_is_refused_on_the_settings_page(app, client, strict, url):
    login(client, app, "admin")
    resp = client.post("/settings", data=_form(client, webhook_url=url))
    html = resp.get_data(as_text=True)
    assert "群机器人地址不能指向本机或链路本地地址" in html
    assert _stored(app) in (None, "")


@pytest.mark.parametrize("url", INTRANET)
def test_intranet_and_public_robot_addresses_are_saved(app, client, strict, url):
    login(client, app, "admin")
    resp = client.post("/settings", data=_form(client, webhook_url=url), follow_redirects=True)
    assert "设置已保存" in resp.get_data(as_text=True)
    assert _stored(app) == url.rstrip("/")


def test_a_host_name_resolving_to_loopback_is_refused(app, strict):
    from app.settings.services import SettingError, set_value

    name = socket.gethostname()
    try:
        resolved = {info[4][0] for info in socket.getaddrinfo(name, 80, proto=socket.IPPROTO_TCP)}
    except OSError:
        pytest.skip("this machine's name does not resolve")
    if not all(a.startswith("127.") or a == "::1" for a in resolved):
        pytest.skip("this machine's name resolves to a routable address")
    with app.app_context(), pytest.raises(SettingError, match="不能指向本机"):
        set_value("webhook_url", f"http://{name}:8080/robot")


def test_sending_to_a_local_address_is_refused_and_nothing_goes_out(app, runner, hook, monkeypatch):  # noqa: F811
    configure(app, recipients=[], webhook=hook.url)  # stored while local robots were allowed
    make_officer(app, "张三", TODAY + timedelta(days=5))
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_LOCAL", False)

    result = send(runner)

    assert result.exit_code == 1
    assert "群机器人消息未发送" in result.stderr and "不能指向本机" in result.stderr
    assert hook.requests == []


def test_a_redirect_is_not_followed(app, runner):
    """A robot that answers with a redirect (to an address the setting would refuse, say) is a
    failed delivery; the redirect's target is never called."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    reached: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def _answer(self):
            if self.path.startswith("/target"):
                reached.append(self.command)
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b'{"errcode":0}')
                return
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.1:{self.server.server_port}/target")
            self.end_headers()

        do_GET = do_POST = _answer

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        configure(app, recipients=[], webhook=f"http://127.0.0.1:{server.server_port}/robot")
        make_officer(app, "张三", TODAY + timedelta(days=5))
        result = send(runner)
    finally:
        server.shutdown()
        server.server_close()
    assert result.exit_code == 1
    assert "群机器人消息未发送" in result.stderr and "302" in result.stderr
    assert reached == []
