from app.settings.services import SPECS
from tests.conftest import login, token


def _form(client, **overrides):
    data = {name: spec.default for name, spec in SPECS.items()}
    data.update(overrides)
    data["csrf_token"] = token(client, "/settings")
    return data


def test_admin_saves_settings(app, client):
    login(client, app, "admin")
    resp = client.post("/settings", data=_form(client, org_name="海棠溪街道办事处", reminder_windows="60, 30,7"),
                       follow_redirects=True)
    html = resp.get_data(as_text=True)
    assert "设置已保存" in html
    assert 'value="60,30,7"' in html
    assert "海棠溪街道办事处" in client.get("/").get_data(as_text=True)


def test_bad_setting_is_refused_with_message_and_nothing_saved(app, client):
    login(client, app, "admin")
    resp = client.post("/settings", data=_form(client, org_name="新名称", reminder_windows="九十",
                                               reminder_recipients="not-an-email"))
    html = resp.get_data(as_text=True)
    assert "有 2 项设置不正确" in html
    assert "应为用逗号分隔的天数" in html and "不是有效的电子邮件地址" in html
    assert "新名称" not in client.get("/").get_data(as_text=True)
