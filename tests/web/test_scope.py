"""Accounts scoped to a branch of the unit tree: what a scoped user sees, may change and may grant."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.extensions import db as _db
from tests.conftest import PASSWORD, TODAY, csrf_from, token


@pytest.fixture
def tree(app, set_today):
    """区 → 甲局 → 甲一科; 区 → 乙局; and 丙局 outside. One officer (with a card) in each."""
    from app.models.officers import Unit
    from tests.factories import CertificateFactory, OfficerFactory

    set_today(TODAY)
    with app.app_context():
        root = Unit(name="某区", kind="department")
        _db.session.add(root)
        _db.session.flush()
        a = Unit(name="甲局", kind="department", parent_id=root.id)
        b = Unit(name="乙局", kind="department", parent_id=root.id)
        c = Unit(name="丙局", kind="department")
        _db.session.add_all([a, b, c])
        _db.session.flush()
        a1 = Unit(name="甲一科", kind="department", parent_id=a.id)
        _db.session.add(a1)
        _db.session.flush()
        out = {"units": {u.name: u.id for u in (root, a, b, c, a1)}, "officers": {}, "certs": {}}
        for unit, person in ((a, "赵甲"), (a1, "钱甲一"), (b, "孙乙"), (c, "李丙")):
            o = OfficerFactory(name=person, unit=unit)
            cert = CertificateFactory(officer=o, number=f"ZF-{person}",
                                      issued_on=TODAY - timedelta(days=300),
                                      expires_on=TODAY + timedelta(days=30))
            out["officers"][person] = o.id
            out["certs"][person] = (cert.id, cert.number)
        _db.session.commit()
    return out


def scoped_login(client, app, username: str, role: str, unit: str | None):
    from app.auth.services import create_user, unit_named

    with app.app_context():
        unit_id = unit_named(unit).id if unit else None
        create_user(username, role, PASSWORD, unit_id=unit_id)
        _db.session.commit()
    page = client.get("/login")
    resp = client.post("/login", data={"username": username, "password": PASSWORD,
                                       "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert resp.status_code == 302
    return client


def test_scoped_user_sees_only_their_subtree_in_lists(app, client, tree):
    scoped_login(client, app, "jia", "viewer", "甲局")
    for url in ("/officers", "/flags", "/", "/certificates"):
        html = client.get(url).get_data(as_text=True)
        assert "孙乙" not in html and "李丙" not in html, url
    html = client.get("/officers").get_data(as_text=True)
    assert "赵甲" in html and "钱甲一" in html


def test_out_of_scope_officer_and_certificate_answer_404(app, client, tree):
    scoped_login(client, app, "yi", "clerk", "乙局")
    assert client.get(f"/officers/{tree['officers']['孙乙']}").status_code == 200
    assert client.get(f"/officers/{tree['officers']['赵甲']}").status_code == 404
    assert client.get(f"/officers/{tree['officers']['赵甲']}/edit").status_code == 404
    assert client.get(f"/certificates/{tree['certs']['赵甲'][0]}").status_code == 404
    assert client.get(f"/certificates/{tree['certs']['孙乙'][0]}").status_code == 200


def test_whole_organisation_user_sees_everyone(app, client, tree):
    scoped_login(client, app, "all", "viewer", None)
    html = client.get("/officers").get_data(as_text=True)
    assert all(n in html for n in ("赵甲", "钱甲一", "孙乙", "李丙"))


def test_flag_counts_are_the_subtree_s(app, client, tree):
    from app.models.auth import User
    from app.rules import compliance

    with app.app_context():
        from app.auth.services import create_user, unit_named

        user, _ = create_user("jia2", "viewer", PASSWORD, unit_id=unit_named("甲局").id)
        _db.session.commit()
        user_id = user.id
    with app.test_request_context("/"):
        from app import scope

        scope.activate(_db.session.get(User, user_id))
        counts = compliance.count_by_flag(compliance.Params(today=TODAY))
        names = {f["name"] for f in compliance.list_flags(compliance.Params(today=TODAY)) if f["officer_id"]}
    assert counts["EXPIRING"] == 2
    assert names == {"赵甲", "钱甲一"}


def test_officer_form_offers_only_units_of_the_subtree(app, client, tree):
    scoped_login(client, app, "jia", "clerk", "甲局")
    html = client.get("/officers/new").get_data(as_text=True)
    assert "甲一科" in html and "乙局" not in html and "丙局" not in html
    resp = client.post("/officers/new", data={
        "csrf_token": token(client, "/officers/new"), "name": "周外", "id_number": "11010519491231002X",
        "unit_id": str(tree["units"]["乙局"]), "establishment": "civil_servant",
        "employment_status": "active", "on_enforcement_post": "y"})
    assert resp.status_code == 200
    with app.app_context():
        from app.models.officers import Officer

        assert _db.session.scalar(_db.select(Officer).where(Officer.name == "周外")) is None


# --- accounts ------------------------------------------------------------------------------------

def test_cli_create_with_unit_and_set_unit(app, runner, tree):
    from app.models.auth import User

    result = runner.invoke(args=["users", "create", "jia_admin", "--role", "admin", "--unit", "甲局"])
    assert result.exit_code == 0, result.output
    assert "甲局" in result.output
    with app.app_context():
        assert _db.session.scalar(_db.select(User.unit_id).where(User.username == "jia_admin")) == tree["units"]["甲局"]
    result = runner.invoke(args=["users", "set-unit", "jia_admin", "乙局"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert _db.session.scalar(_db.select(User.unit_id).where(User.username == "jia_admin")) == tree["units"]["乙局"]
    result = runner.invoke(args=["users", "set-unit", "jia_admin", "--all"])
    assert result.exit_code == 0, result.output
    assert "全部单位" in result.output
    with app.app_context():
        assert _db.session.scalar(_db.select(User.unit_id).where(User.username == "jia_admin")) is None
    result = runner.invoke(args=["users", "set-unit", "jia_admin", "没有这个局"])
    assert result.exit_code == 1 and "没有单位“没有这个局”" in result.output
    result = runner.invoke(args=["users", "create", "x1", "--role", "viewer", "--unit", "没有这个局"])
    assert result.exit_code == 1
    result = runner.invoke(args=["users", "set-unit", "jia_admin"])
    assert result.exit_code == 2


def test_scoped_admin_manages_only_users_of_their_subtree(app, client, tree):
    from app.auth.services import create_user
    from app.models.auth import User

    with app.app_context():
        other, _ = create_user("yi_clerk", "clerk", PASSWORD, unit_id=tree["units"]["乙局"])
        mine, _ = create_user("jia1_clerk", "clerk", PASSWORD, unit_id=tree["units"]["甲一科"])
        top, _ = create_user("boss", "admin", PASSWORD)
        other_id, mine_id, top_id = other.id, mine.id, top.id
        _db.session.commit()
    scoped_login(client, app, "jia_admin", "admin", "甲局")
    html = client.get("/users").get_data(as_text=True)
    assert "jia1_clerk" in html and "yi_clerk" not in html and "boss" not in html
    assert client.get(f"/users/{other_id}/edit").status_code == 404
    assert client.get(f"/users/{top_id}/edit").status_code == 404
    page = client.get("/users/new").get_data(as_text=True)
    assert "乙局" not in page and "全部单位" not in page and "甲一科" in page
    # a wider scope is refused: the whole organisation, a sibling branch
    for unit_value in ("", str(tree["units"]["乙局"]), str(tree["units"]["某区"])):
        resp = client.post("/users/new", data={"csrf_token": token(client, "/users/new"), "username": "newbie",
                                               "role": "viewer", "unit_id": unit_value, "active": "y"})
        assert resp.status_code == 200
        with app.app_context():
            assert _db.session.scalar(_db.select(User).where(User.username == "newbie")) is None
    resp = client.post("/users/new", data={"csrf_token": token(client, "/users/new"), "username": "newbie",
                                           "role": "viewer", "unit_id": str(tree["units"]["甲一科"]),
                                           "active": "y"})
    assert resp.status_code == 302
    with app.app_context():
        assert _db.session.scalar(_db.select(User.unit_id).where(User.username == "newbie")) == tree["units"]["甲一科"]
    # moving a user of the subtree out of it is refused too
    resp = client.post(f"/users/{mine_id}/edit", data={"csrf_token": token(client, "/users"), "username": "jia1_clerk",
                                                       "display_name": "", "password": "", "confirm": "",
                                                       "role": "clerk", "unit_id": str(tree["units"]["乙局"]),
                                                       "active": "y"})
    assert resp.status_code == 200
    with app.app_context():
        assert _db.session.get(User, mine_id).unit_id == tree["units"]["甲一科"]
    assert client.post(f"/users/{other_id}/signout", data={"csrf_token": token(client, "/users")}).status_code == 404


def test_users_page_shows_and_sets_the_scope(app, client, tree):
    from app.auth.services import create_user
    from app.models.auth import User

    with app.app_context():
        u, _ = create_user("clerk1", "clerk", PASSWORD)
        uid = u.id
        _db.session.commit()
    scoped_login(client, app, "root_admin", "admin", None)
    resp = client.post(f"/users/{uid}/edit", data={"csrf_token": token(client, "/users"), "username": "clerk1",
                                                   "display_name": "", "password": "", "confirm": "",
                                                   "role": "clerk", "unit_id": str(tree["units"]["乙局"]),
                                                   "active": "y"})
    assert resp.status_code == 302
    html = client.get("/users").get_data(as_text=True)
    assert "乙局" in html and "全部单位" in html
    with app.app_context():
        assert _db.session.get(User, uid).unit_id == tree["units"]["乙局"]



def test_import_refuses_rows_naming_units_or_people_outside_the_subtree(app, client, tree):
    from app.models.officers import Officer, Unit
    from tests.factories import id_number
    from tests.web.test_import_web import upload, xlsx_bytes

    with app.app_context():
        yi_number = _db.session.get(Officer, tree["officers"]["孙乙"]).id_number
    scoped_login(client, app, "jia", "clerk", "甲局")
    data = xlsx_bytes([["姓名", "身份证号", "单位"], ["新人", id_number(), "乙局"],
                       ["孙乙", yi_number, "甲局"], ["好人", id_number(), "甲一科"]])
    html = upload(client, data).get_data(as_text=True)
    assert "未写入任何数据" in html
    assert "<td>2</td><td>单位</td><td>单位“乙局”不在您的管辖范围内" in html
    assert "<td>3</td><td>身份证号</td>" in html and "不在您的管辖范围内" in html
    with app.app_context():
        assert _db.session.scalar(_db.select(_db.func.count()).select_from(Officer)) == 4
        assert _db.session.get(Officer, tree["officers"]["孙乙"]).unit_id == tree["units"]["乙局"]
    data = xlsx_bytes([["姓名", "身份证号", "单位"], ["好人", id_number(), "甲一科"],
                       ["新科人", id_number(), "甲新科"]])
    html = upload(client, data).get_data(as_text=True)
    assert "导入成功" in html
    with app.app_context():
        new_unit = _db.session.scalar(_db.select(Unit).where(Unit.name == "甲新科"))
        assert new_unit.parent_id == tree["units"]["甲局"]


# --- the unit tree ----------------------------------------------------------------------------

def test_tree_page_shows_branches_with_counts(app, client, tree):
    import re

    scoped_login(client, app, "top", "viewer", None)
    html = client.get("/units/tree").get_data(as_text=True)
    # 某区: 赵甲, 钱甲一, 孙乙 — three officers, each holding a valid card
    assert re.search(r"某区</span>.*?人员 3</span>.*?持证 3</span>", html, re.S)
    assert re.search(r"甲局</span>.*?人员 2</span>.*?持证 2</span>", html, re.S)
    assert html.index("某区") < html.index("甲局") < html.index("甲一科")
    assert "<details open>" in html


def test_scoped_tree_page_shows_only_the_branch(app, client, tree):
    scoped_login(client, app, "jia", "viewer", "甲局")
    html = client.get("/units/tree").get_data(as_text=True)
    assert "甲局" in html and "甲一科" in html
    assert "乙局" not in html and "丙局" not in html and "某区" not in html


def _move(client, unit_id, parent_id):
    return client.post(f"/units/{unit_id}/move", data={"csrf_token": token(client, "/units/tree"),
                                                      "parent_id": "" if parent_id is None else str(parent_id)},
                       follow_redirects=True)


def test_admin_moves_a_unit_and_a_cycle_is_refused(app, client, tree):
    from app.models.audit import AuditEvent
    from app.models.officers import Unit

    u = tree["units"]
    scoped_login(client, app, "top", "admin", None)
    html = _move(client, u["甲局"], u["甲一科"]).get_data(as_text=True)
    assert "不能把单位移到它自己的下级单位之下（会形成循环）" in html
    html = _move(client, u["乙局"], u["甲局"]).get_data(as_text=True)
    assert "单位“乙局”已移动" in html
    with app.app_context():
        assert _db.session.get(Unit, u["乙局"]).parent_id == u["甲局"]
        assert _db.session.get(Unit, u["甲局"]).parent_id == u["某区"]
        assert _db.session.scalar(_db.select(AuditEvent.summary).where(AuditEvent.entity_type == "unit")
                                  .order_by(AuditEvent.id.desc())) == "移动单位 乙局：某区 → 甲局"


def test_scoped_admin_moves_only_inside_their_branch(app, client, tree):
    from app.models.officers import Unit

    u = tree["units"]
    scoped_login(client, app, "jia", "admin", "甲局")
    # the top of their own branch cannot be moved (its parent is outside), nor a unit outside
    html = _move(client, u["甲局"], u["甲一科"]).get_data(as_text=True)
    assert "会形成循环" in html
    html = _move(client, u["甲一科"], None).get_data(as_text=True)
    assert "只有同时管辖原上级单位和新上级单位的管理员才能移动该单位" in html
    assert _move(client, u["乙局"], u["甲局"]).status_code == 404
    with app.app_context():
        assert _db.session.get(Unit, u["甲一科"]).parent_id == u["甲局"]
        assert _db.session.get(Unit, u["乙局"]).parent_id == u["某区"]


def test_clerk_may_not_move_a_unit(app, client, tree):
    u = tree["units"]
    scoped_login(client, app, "c", "clerk", None)
    assert _move(client, u["乙局"], u["甲局"]).status_code == 403
    resp = client.post(f"/units/{u['乙局']}/edit", data={
        "csrf_token": token(client, "/units"), "name": "乙局", "kind": "department",
        "parent_id": str(u["甲局"]), "sort_order": "0"})
    assert "移动单位（修改上级单位）需要管理员权限" in resp.get_data(as_text=True)


def test_a_number_registered_outside_the_branch_is_refused_without_naming_the_person(app, client, tree):
    from app.models.officers import Officer

    with app.app_context():
        yi_number = _db.session.get(Officer, tree["officers"]["孙乙"]).id_number
    scoped_login(client, app, "jia", "clerk", "甲局")
    data = {"csrf_token": token(client, "/officers/new"), "name": "周新", "id_number": yi_number,
            "unit_id": str(tree["units"]["甲局"]), "establishment": "civil_servant",
            "employment_status": "active", "on_enforcement_post": "y", "position": "科员"}
    resp = client.post("/officers/new", data=data)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "已登记在您管辖范围以外的单位" in html and "孙乙" not in html
    data["id_number"], data["unit_id"] = yi_number, str(tree["units"]["乙局"])
    assert "孙乙" not in client.post("/officers/new", data=data).get_data(as_text=True)
    with app.app_context():
        assert _db.session.scalar(_db.select(Officer).where(Officer.name == "周新")) is None


def test_bulk_actions_touch_only_the_branch(app, client, tree):
    from app.models.officers import Officer

    o, u = tree["officers"], tree["units"]
    scoped_login(client, app, "jia", "clerk", "甲局")
    form = {"csrf_token": token(client, "/officers"), "action": "post_off",
            "ids": [o["赵甲"], o["孙乙"], o["李丙"]], "filters": ""}
    page = client.post("/officers/bulk", data=form).get_data(as_text=True)
    assert "将对以下 <strong>1</strong> 名人员" in page and "孙乙" not in page
    client.post("/officers/bulk", data={**form, "confirmed": "1"})
    # a unit outside the branch as the target of a move is not found
    page = client.post("/officers/bulk", data={**form, "action": "unit", "confirmed": "1",
                                               "target": str(u["乙局"])}).get_data(as_text=True)
    assert "请选择要调入的单位" in page
    with app.app_context():
        off = {n: _db.session.get(Officer, i) for n, i in o.items()}
        assert not off["赵甲"].on_enforcement_post
        assert off["孙乙"].on_enforcement_post and off["李丙"].on_enforcement_post
        assert off["赵甲"].unit_id == u["甲局"]


def test_a_token_acts_with_its_users_scope(app, client, runner, tree):
    """/api/v1 answers a scoped user's token with that user's subtree only; foreign records are 404."""
    from app.auth.services import create_user, unit_named

    with app.app_context():
        create_user("jia_api", "viewer", PASSWORD, unit_id=unit_named("甲局").id)
        _db.session.commit()
    result = runner.invoke(args=["users", "token", "jia_api", "--label", "案件系统"])
    assert result.exit_code == 0, result.output
    headers = {"Authorization": "Bearer " + result.output.strip().splitlines()[-1]}

    listed = client.get("/api/v1/officers", headers=headers).get_json()
    assert sorted(o["name"] for o in listed["items"]) == ["赵甲", "钱甲一"] and listed["total"] == 2
    assert client.get(f"/api/v1/officers/{tree['officers']['孙乙']}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/officers/{tree['officers']['钱甲一']}", headers=headers).status_code == 200
    assert client.get(f"/api/v1/certificates/{tree['certs']['李丙'][1]}", headers=headers).status_code == 404
    mine = client.get(f"/api/v1/certificates/{tree['certs']['赵甲'][1]}", headers=headers).get_json()
    assert mine["officer"]["name"] == "赵甲" and mine["effective"] is True
    flags = client.get("/api/v1/flags", headers=headers).get_json()
    names = {f["name"] for f in flags}
    assert "赵甲" in names and not names & {"孙乙", "李丙"}  # their cards expire in 30 days
    # a unit outside the branch is not revealed
    assert client.get("/api/v1/officers?unit=乙局", headers=headers).status_code == 422


def test_dashboard_pictures_are_cached_per_scope(app, tree):
    """The dashboard's cached pictures (trend, forecast card) are kept apart per scope: a branch
    never gets the figures computed for the whole organisation, nor another branch's."""
    from app import scope
    from app.auth.services import create_user, unit_named
    from app.models.auth import User
    from app.models.officers import Officer
    from app.reports.trend import _cache, cached

    with app.app_context():
        create_user("jia_cache", "viewer", PASSWORD, unit_id=unit_named("甲局").id)
        create_user("yi_cache", "viewer", PASSWORD, unit_id=unit_named("乙局").id)
        _db.session.commit()
    calls = []

    def picture(day):
        calls.append(day)
        return sorted(o.name for o in _db.session.scalars(_db.select(Officer)))

    app.config["TREND_CACHE_SECONDS"] = 300
    try:
        seen = []
        for username in (None, "jia_cache", "yi_cache", "jia_cache"):
            with app.test_request_context():
                if username is not None:
                    scope.activate(_db.session.scalar(_db.select(User).where(User.username == username)))
                seen.append(cached("picture", picture, TODAY))
        assert seen == [["孙乙", "李丙", "赵甲", "钱甲一"], ["赵甲", "钱甲一"], ["孙乙"], ["赵甲", "钱甲一"]]
        assert len(calls) == 3  # the second visit of 甲局 is served from the cache
    finally:
        app.config.pop("TREND_CACHE_SECONDS", None)
        _cache.clear()


def test_scoped_audit_shows_rows_about_the_branch_written_by_others(app, client, tree):
    """Rows written by a user of the whole organisation are seen by a branch's admin when they are
    about the branch's officers — also about an officer who moved into the branch afterwards — and
    not when they are about another branch's."""
    o, u = tree["officers"], tree["units"]
    scoped_login(client, app, "top", "admin", None)
    client.post("/officers/bulk", data={"csrf_token": token(client, "/officers"), "action": "post_off",
                                        "ids": list(o.values()), "filters": "", "confirmed": "1"})
    client.post("/officers/bulk", data={"csrf_token": token(client, "/officers"), "action": "unit",
                                        "ids": [o["孙乙"]], "target": str(u["甲一科"]), "filters": "",
                                        "confirmed": "1"})
    everything = client.get("/audit").get_data(as_text=True)
    for person in ("赵甲", "钱甲一", "孙乙", "李丙"):
        assert f"批量设置岗位：{person} 设为非执法岗位" in everything
    client.post("/logout", data={"csrf_token": token(client, "/")})
    scoped_login(client, app, "jia", "admin", "甲局")
    page = client.get("/audit").get_data(as_text=True)
    for person in ("赵甲", "钱甲一", "孙乙"):
        assert f"批量设置岗位：{person} 设为非执法岗位" in page
    assert "批量调整单位：孙乙 调入 甲一科" in page
    assert "李丙" not in page
