"""Reminder recipients per unit: a unit with recipients of its own gets a digest of its subtree's
officers only (a unit without receives through the nearest unit above it that has); the
organisation-wide recipients still get the whole list. Against a real SMTP server on loopback."""

from __future__ import annotations

from datetime import timedelta

from app.extensions import db
from tests.cli.test_reminders_cli import configure, deliveries, make_officer, send, smtp, text_of  # noqa: F401
from tests.conftest import TODAY


def _tree(app) -> None:
    """街道 → 城管科 → 一中队; 街道 → 安监科."""
    from app.models.officers import Unit

    with app.app_context():
        top = Unit(name="街道", kind="department")
        db.session.add(top)
        db.session.flush()
        a = Unit(name="城管科", kind="department", parent_id=top.id)
        b = Unit(name="安监科", kind="department", parent_id=top.id)
        db.session.add_all([a, b])
        db.session.flush()
        db.session.add(Unit(name="一中队", kind="department", parent_id=a.id))
        db.session.commit()


def test_each_unit_with_recipients_gets_its_subtree_and_the_organisation_everything(app, runner, smtp):  # noqa: F811
    _tree(app)
    configure(app, recipients=["hr@example.gov.cn"])
    make_officer(app, "张三", TODAY + timedelta(days=5), unit="城管科")
    make_officer(app, "赵六", TODAY + timedelta(days=20), unit="一中队")
    make_officer(app, "李四", TODAY + timedelta(days=45), unit="安监科")
    out = runner.invoke(args=["units", "set-recipients", "城管科", "cg@example.gov.cn；cg2@example.gov.cn"])
    assert out.exit_code == 0 and "cg@example.gov.cn, cg2@example.gov.cn" in out.output, out.output

    result = send(runner)

    assert result.exit_code == 0, result.output
    by_rcpt = {tuple(sorted(m["rcpt_tos"])): m["msg"] for m in smtp.messages}
    assert set(by_rcpt) == {("hr@example.gov.cn",), ("cg2@example.gov.cn", "cg@example.gov.cn")}
    whole = text_of(by_rcpt[("hr@example.gov.cn",)])
    assert all(n in whole for n in ("张三", "赵六", "李四"))
    street = by_rcpt[("cg2@example.gov.cn", "cg@example.gov.cn")]
    body = text_of(street)
    assert "张三" in body and "赵六" in body and "李四" not in body  # 一中队 receives through 城管科
    assert "城管科" in street["Subject"] and "2 个行政执法证" in street["Subject"]
    # a second run the same day sends nothing again, on either channel
    smtp.inbox.messages.clear()
    assert send(runner).exit_code == 0
    assert smtp.messages == []
    assert sorted(ch for _c, _w, ch in deliveries(app)) == ["email"] * 3 + ["unitmail"] * 2


def test_unit_recipients_alone_are_a_channel(app, runner, smtp):  # noqa: F811
    _tree(app)
    configure(app, recipients=[])
    make_officer(app, "李四", TODAY + timedelta(days=45), unit="安监科")
    assert runner.invoke(args=["units", "set-recipients", "街道", "jd@example.gov.cn"]).exit_code == 0
    result = send(runner)
    assert result.exit_code == 0, result.output
    assert [m["rcpt_tos"] for m in smtp.messages] == [["jd@example.gov.cn"]]


def test_set_recipients_refuses_a_bad_address_or_unknown_unit(app, runner):
    _tree(app)
    bad = runner.invoke(args=["units", "set-recipients", "城管科", "not-an-address"])
    assert bad.exit_code == 1 and "不是有效的电子邮件地址" in bad.output
    unknown = runner.invoke(args=["units", "set-recipients", "没有这个", "a@example.gov.cn"])
    assert unknown.exit_code == 1 and "没有名为“没有这个”的单位" in unknown.output
    cleared = runner.invoke(args=["units", "set-recipients", "城管科", ""])
    assert cleared.exit_code == 0 and "改由上级单位的接收人接收" in cleared.output


def test_the_unit_form_sets_the_recipients(app, client):
    from sqlalchemy import select

    from app.models.officers import Unit
    from tests.conftest import login, token

    _tree(app)
    login(client, app, "admin")
    with app.app_context():
        unit = db.session.scalar(select(Unit).where(Unit.name == "安监科"))
        uid, parent = unit.id, unit.parent_id
    page = client.get(f"/units/{uid}/edit").get_data(as_text=True)
    assert "提醒接收人" in page
    data = {"name": "安监科", "kind": "department", "parent_id": str(parent), "sort_order": "0",
            "reminder_recipients": "aj@example.gov.cn", "csrf_token": token(client, f"/units/{uid}/edit")}
    assert client.post(f"/units/{uid}/edit", data=data).status_code == 302
    refused = client.post(f"/units/{uid}/edit", data=data | {"reminder_recipients": "oops"})
    assert "不是有效的电子邮件地址" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Unit, uid).reminder_recipients == "aj@example.gov.cn"
