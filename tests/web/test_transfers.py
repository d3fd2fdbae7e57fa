"""调动: a dated transfer with 文号 keeps the officer's unit history; past cases and the year's
training report use the unit of their date; NEEDS_REISSUE when the unit's 执法类别 are not covered by
the officer's card."""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import select

from app.cases import services as cases
from app.extensions import db as _db
from app.models.audit import AuditEvent
from app.models.cases import CaseUnit, PenaltyCase
from app.models.certificates import Certificate
from app.models.officers import Officer, OfficerUnitHistory, Unit
from app.rules import case_units as branches
from tests.conftest import csrf_from, login, make_user
from tests.factories import CertificateFactory, OfficerFactory, UnitFactory
from tests.web.test_api import bearer, issue
from tests.web.test_scope import scoped_login, tree  # noqa: F401  (the fixture)

TODAY = date(2026, 6, 15)


def _version(page: str, form_id: str) -> str:
    part = page.split(f'id="{form_id}"', 1)[1]
    return part.split('name="version" type="hidden" value="', 1)[1].split('"', 1)[0]


def _case_units(case_no: str) -> set[str]:
    return set(_db.session.scalars(select(Unit.name).join(CaseUnit, CaseUnit.unit_id == Unit.id)
                                   .join(PenaltyCase, PenaltyCase.id == CaseUnit.case_id)
                                   .where(PenaltyCase.case_no == case_no)))


def _setup(app):
    with app.app_context():
        a, b = UnitFactory(name="甲所"), UnitFactory(name="乙所")
        o = OfficerFactory(name="调动甲", unit=a, post_since=date(2020, 1, 1))
        CertificateFactory(officer=o, number="ZF-T1", issued_on=date(2024, 1, 1), expires_on=date(2029, 1, 1))
        partner = OfficerFactory(name="搭档乙", unit=b)
        CertificateFactory(officer=partner, number="ZF-T2", issued_on=date(2024, 1, 1), expires_on=date(2029, 1, 1))
        _db.session.commit()
        return o.id, a.id, b.id


def test_a_transfer_on_the_officer_page_moves_past_and_future_cases_by_their_dates(app, client, set_today):
    set_today(TODAY)
    oid, a_id, b_id = _setup(app)
    with app.app_context():  # cases named by card number only (no 承办单位 of the tree)
        for no, day in (("罚-二月", date(2025, 2, 1)), ("罚-四月", date(2025, 4, 1))):
            cases.save_case(None, {"case_no": no, "title": "", "decided_on": day, "opened_on": None,
                                   "unit": "", "certificate_numbers": ["ZF-T1"]})
        _db.session.commit()
        assert _case_units("罚-二月") == _case_units("罚-四月") == {"甲所"}
    login(client, app, "clerk")
    detail = client.get(f"/officers/{oid}").get_data(as_text=True)
    assert "登记调动" in detail and "单位履历" in detail and "尚无调动记录" in detail
    page = client.get(f"/officers/{oid}/transfer").get_data(as_text=True)
    assert "登记调动：调动甲" in page and "data-confirm" in page
    resp = client.post(f"/officers/{oid}/transfer", data={
        "to_unit": str(b_id), "on": "2025年3月1日", "document_no": "区人社〔2025〕12号", "reason": "工作需要",
        "version": _version(page, "transfer"), "csrf_token": csrf_from(page)}, follow_redirects=True)
    html = resp.get_data(as_text=True)
    assert "已登记“调动甲”调入“乙所”（2025年3月1日起）" in html
    table = html.split('id="unit-history-table"', 1)[1].split("</table>", 1)[0]
    assert "乙所" in table and "2025年3月1日" in table and "区人社〔2025〕12号" in table and "至今" in table
    assert "甲所" in table and "2020年1月1日" in table  # the interval before it, from 任执法岗位日期
    with app.app_context():
        assert _db.session.get(Officer, oid).unit_id == b_id
        assert _case_units("罚-二月") == {"甲所"}   # decided before the transfer
        assert _case_units("罚-四月") == {"乙所"}   # after it
        assert branches.differences(_db.session) == []
        audit = _db.session.scalar(select(AuditEvent).where(AuditEvent.entity_id == oid,
                                                            AuditEvent.summary.like("调动%")))
        assert "甲所 → 乙所" in audit.summary and "区人社〔2025〕12号" in audit.summary
        spells = _db.session.execute(select(OfficerUnitHistory.unit_id, OfficerUnitHistory.from_on,
                                            OfficerUnitHistory.to_on).where(OfficerUnitHistory.officer_id == oid)
                                     .order_by(OfficerUnitHistory.from_on)).all()
        assert [tuple(s) for s in spells] == [(a_id, date(2020, 1, 1), date(2025, 3, 1)),
                                              (b_id, date(2025, 3, 1), None)]
    # the case check page as a user of 甲所 sees the February case, not the April one
    other = app.test_client()
    scoped_login(other, app, "jia_viewer", "viewer", "甲所")
    listing = other.get("/cases").get_data(as_text=True)
    assert "罚-二月" in listing and "罚-四月" not in listing


def test_transfers_that_cannot_be_recorded_are_refused_and_nothing_changes(app, client, set_today):
    set_today(TODAY)
    oid, a_id, b_id = _setup(app)
    with app.app_context():
        from app.rules.transfers import transfer

        transfer(_db.session.get(Officer, oid), _db.session.get(Unit, b_id), date(2026, 1, 1), today=TODAY)
        _db.session.commit()
    login(client, app, "clerk")
    page = client.get(f"/officers/{oid}/transfer").get_data(as_text=True)
    version, token = _version(page, "transfer"), csrf_from(page)
    cases_ = [
        ({"to_unit": str(a_id), "on": "2026年7月1日"}, "调动日期2026年7月1日晚于今天"),
        ({"to_unit": str(b_id), "on": "2026年6月1日"}, "已在“乙所”，无需调动"),
        ({"to_unit": str(a_id), "on": "2025年12月31日"}, "调动日期须晚于调入现单位的日期2026年1月1日"),
        ({"to_unit": "", "on": "2026年6月1日"}, "请选择调入单位"),
        ({"to_unit": str(a_id), "on": ""}, "请填写调动日期"),
        ({"to_unit": str(a_id), "on": "2026年6月1日", "version": "0"}, "已被他人修改"),
    ]
    for data, message in cases_:
        resp = client.post(f"/officers/{oid}/transfer", data={"version": version, "csrf_token": token, **data},
                           follow_redirects=True)
        assert resp.status_code == 200
        assert message in resp.get_data(as_text=True), message
    with app.app_context():
        assert _db.session.get(Officer, oid).unit_id == b_id
        assert len(_db.session.scalars(select(OfficerUnitHistory.id)
                                       .where(OfficerUnitHistory.officer_id == oid)).all()) == 2


def test_a_scoped_clerk_cannot_move_someone_out_of_their_branch(app, client, tree):  # noqa: F811
    scoped_login(client, app, "jia_clerk", "clerk", "甲局")
    oid = tree["officers"]["赵甲"]
    page = client.get(f"/officers/{oid}/transfer").get_data(as_text=True)
    assert "甲一科" in page and "丙局" not in page.split('id="transfer"', 1)[1].split("</form>", 1)[0]
    assert client.get(f"/officers/{tree['officers']['李丙']}/transfer").status_code == 404
    resp = client.post(f"/officers/{oid}/transfer", data={
        "to_unit": str(tree["units"]["丙局"]), "on": "2026年6月1日", "version": _version(page, "transfer"),
        "csrf_token": csrf_from(page)}, follow_redirects=True)
    assert "调动未登记" in resp.get_data(as_text=True)
    # someone of another branch: not found
    assert client.post(f"/officers/{tree['officers']['李丙']}/transfer", data={
        "to_unit": str(tree["units"]["甲一科"]), "on": "2026年6月1日",
        "csrf_token": csrf_from(page)}).status_code == 404
    with app.app_context():
        assert _db.session.get(Officer, oid).unit_id == tree["units"]["甲局"]
    # within the branch it works
    resp = client.post(f"/officers/{oid}/transfer", data={
        "to_unit": str(tree["units"]["甲一科"]), "on": "2026年6月1日", "version": _version(page, "transfer"),
        "csrf_token": csrf_from(page)}, follow_redirects=True)
    assert "已登记“赵甲”调入“甲一科”" in resp.get_data(as_text=True)


def test_changing_the_unit_on_the_form_is_recorded_as_a_transfer_dated_today(app, client, set_today):
    set_today(TODAY)
    oid, a_id, b_id = _setup(app)
    login(client, app, "clerk")
    with app.app_context():
        from app.officers.services import save_officer

        o = _db.session.get(Officer, oid)
        data = {f: getattr(o, f) for f in ("name", "id_number", "position", "establishment", "education",
                                           "on_enforcement_post", "employment_status", "post_since")}
        save_officer(o, {**data, "unit_id": b_id}, today=TODAY)
        _db.session.commit()
    html = client.get(f"/officers/{oid}").get_data(as_text=True)
    table = html.split('id="unit-history-table"', 1)[1].split("</table>", 1)[0]
    assert "修改人员信息时更改单位" in table and "2026年6月15日" in table
    edit = client.get(f"/officers/{oid}/edit").get_data(as_text=True)
    assert "在此更改单位记为今天的调动" in edit


def test_the_training_report_lists_officers_under_their_unit_at_the_year_end(app, runner, set_today):
    set_today(TODAY)
    oid, a_id, b_id = _setup(app)
    with app.app_context():
        from app.rules.transfers import transfer

        stayer = OfficerFactory(name="后调丙", unit=_db.session.get(Unit, a_id))
        _db.session.flush()
        transfer(_db.session.get(Officer, oid), _db.session.get(Unit, b_id), date(2025, 3, 1), today=TODAY)
        transfer(stayer, _db.session.get(Unit, b_id), date(2026, 2, 1), today=TODAY)
        _db.session.commit()
    result = runner.invoke(args=["report", "training", "--year", "2025", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r["unit"] for r in json.loads(result.output)}
    assert rows["调动甲"] == "乙所"    # moved in March 2025: 乙所 at the end of 2025
    assert rows["后调丙"] == "甲所"    # moved in February 2026: still 甲所 at the end of 2025
    result = runner.invoke(args=["report", "training", "--year", "2026", "--format", "json"])
    assert {r["name"]: r["unit"] for r in json.loads(result.output)}["后调丙"] == "乙所"


def _flags(runner, today="2026-06-15"):
    result = runner.invoke(args=["report", "flags", "--format", "json", "--today", today])
    assert result.exit_code == 0, result.output
    return [(r["flag"], r["name"]) for r in json.loads(result.output)]


def test_needs_reissue_when_the_cards_categories_leave_out_a_field_of_the_unit(app, client, runner, set_today):
    set_today(TODAY)
    with app.app_context():
        a = UnitFactory(name="城管所", enforcement_fields="城市管理")
        b = UnitFactory(name="市监所", enforcement_fields="城市管理、市场监管")
        UnitFactory(name="无类别所")
        o = OfficerFactory(name="换证甲", unit=a)
        card = CertificateFactory(officer=o, number="ZF-R1", categories="城市管理", issued_on=date(2024, 1, 1),
                                  expires_on=date(2029, 1, 1))
        for unit, name in ((a, "同事乙"), (b, "同事丙")):
            CertificateFactory(officer=OfficerFactory(name=name, unit=unit), categories="城市管理，市场监管",
                               issued_on=date(2024, 1, 1), expires_on=date(2029, 1, 1))
        _db.session.commit()
        oid, b_id, card_id = o.id, b.id, card.id
    assert [f for f in _flags(runner) if f[0] == "NEEDS_REISSUE"] == []
    with app.app_context():
        from app.rules.transfers import transfer

        transfer(_db.session.get(Officer, oid), _db.session.get(Unit, b_id), date(2026, 6, 1), today=TODAY)
        _db.session.commit()
    assert [f for f in _flags(runner) if f[0] == "NEEDS_REISSUE"] == [("NEEDS_REISSUE", "换证甲")]
    login(client, app, "admin")
    page = client.get("/flags?flag=NEEDS_REISSUE").get_data(as_text=True)
    assert "需换证" in page and "换证甲" in page and "同事丙" not in page
    officers = client.get("/officers?flag=NEEDS_REISSUE").get_data(as_text=True)
    assert "换证甲" in officers and "同事丙" not in officers
    assert "需换证" in client.get(f"/officers/{oid}").get_data(as_text=True)
    make_user(app, "caller", "viewer")
    tok = issue(runner, "caller")
    api = client.get("/api/v1/flags?flag=NEEDS_REISSUE", headers=bearer(tok)).get_json()
    items = api["items"] if isinstance(api, dict) else api
    assert [(i["flag"], i["name"]) for i in items] == [("NEEDS_REISSUE", "换证甲")]
    # a new card covering both fields (the old one replaced): the flag goes
    with app.app_context():
        old = _db.session.get(Certificate, card_id)
        old.status = "replaced"
        CertificateFactory(officer=_db.session.get(Officer, oid), number="ZF-R2", categories="市场监管、城市管理",
                           issued_on=date(2026, 6, 10), expires_on=date(2031, 6, 9))
        _db.session.commit()
    assert [f for f in _flags(runner) if f[0] == "NEEDS_REISSUE"] == []
    # the unit asking for a field nobody's card has: both people there are flagged; none in a unit without fields
    with app.app_context():
        _db.session.get(Unit, b_id).enforcement_fields = "市场监管、安全生产"
        _db.session.commit()
    assert sorted(f for f in _flags(runner) if f[0] == "NEEDS_REISSUE") == [
        ("NEEDS_REISSUE", "同事丙"), ("NEEDS_REISSUE", "换证甲")]


def test_the_unit_form_keeps_its_enforcement_fields(app, client, set_today):
    set_today(TODAY)
    login(client, app, "clerk")
    page = client.get("/units/new").get_data(as_text=True)
    assert "执法类别" in page
    resp = client.post("/units/new", data={"name": "执法一队", "kind": "team", "parent_id": "", "sort_order": "0",
                                           "enforcement_fields": "城市管理, 市场监管；城市管理",
                                           "csrf_token": csrf_from(page)}, follow_redirects=True)
    assert "单位“执法一队”已保存" in resp.get_data(as_text=True)
    assert "城市管理、市场监管" in resp.get_data(as_text=True)  # the list shows them, normalised
    with app.app_context():
        assert (_db.session.scalar(select(Unit.enforcement_fields).where(Unit.name == "执法一队"))
                == "城市管理、市场监管")
