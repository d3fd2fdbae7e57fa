"""Officer pages: the list (search, filters, sorting, paging), create/edit, stale edits, detail, photo."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest
from PIL import Image
from sqlalchemy import event, func, select

from app.extensions import db as _db
from app.idnumber import mask
from app.models.officers import Officer
from tests.conftest import TODAY, login, token
from tests.factories import CertificateFactory, OfficerFactory, UnitFactory, id_number

D = timedelta


@pytest.fixture(autouse=True)
def _today(set_today):
    set_today(TODAY)


@pytest.fixture
def staff(app):
    """Two units; a certified officer, an unlicensed one, one off post, one retired contract worker."""
    with app.app_context():
        a = UnitFactory(name="城市管理科", sort_order=1)
        b = UnitFactory(name="南坪社区", sort_order=2)
        zhang = OfficerFactory(name="张三", unit=a, employee_no="E-1001")
        CertificateFactory(
            officer=zhang, number="C-ZHANG", issued_on=TODAY - D(400), expires_on=TODAY + D(800)
        )
        li = OfficerFactory(name="李四", unit=a)
        wang = OfficerFactory(name="王五", unit=b, on_enforcement_post=False)
        zhao = OfficerFactory(
            name="赵六", unit=b, employment_status="retired", establishment="contract"
        )
        _db.session.commit()
        return {
            "units": {"a": a.id, "b": b.id},
            **{o.name: {"id": o.id, "idn": o.id_number} for o in (zhang, li, wang, zhao)},
        }


def names(html: str) -> list[str]:
    body = html.split('id="officers"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<a href="/officers/\d+">([^<]+)</a>', body)


def listing(client, query: str = "") -> list[str]:
    resp = client.get("/officers" + query)
    assert resp.status_code == 200
    return names(resp.get_data(as_text=True))


def officer_count(app) -> int:
    with app.app_context():
        return _db.session.scalar(select(func.count()).select_from(Officer))


def form_data(client, url: str, **overrides) -> dict:
    data = {
        "name": "陈七",
        "id_number": id_number(),
        "unit_id": "",
        "position": "科员",
        "establishment": "civil_servant",
        "education": "bachelor",
        "on_enforcement_post": "y",
        "employment_status": "active",
        "status_changed_on": "", "post_since": "", "retirement_basis": "",
        "phone": "023-6666 8888",
        "employee_no": "",
        "notes": "",
        "csrf_token": token(client, url),
    }
    data.update(overrides)
    return data


def png_bytes(size=(40, 50)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buf, "PNG")
    return buf.getvalue()


# ---------------------------------------------------------------- list


def test_list_masks_id_numbers_and_shows_certificate_expiry(client, app, staff):
    login(client, app, "viewer")
    html = client.get("/officers").get_data(as_text=True)
    assert "共 4 人" in html
    assert mask(staff["张三"]["idn"]) in html and staff["张三"]["idn"] not in html
    assert "无有效执法证" in html.split(">李四</a>", 1)[1].split("</tr>", 1)[0]
    assert f"{(TODAY + D(800)).year}年" in html.split(">张三</a>", 1)[1].split("</tr>", 1)[0]
    assert "新增人员" not in html  # viewer: no edit buttons


def test_search_by_name_id_digits_and_employee_no(client, app, staff):
    login(client, app, "viewer")
    assert listing(client, "?q=张") == ["张三"]
    # A viewer cannot search by ID number at all; a clerk by the whole number only
    # (tests/web/test_id_rebuild.py, tests/web/test_security_masking.py).
    assert listing(client, "?q=" + staff["王五"]["idn"][-6:]) == []
    assert listing(client, "?q=" + staff["王五"]["idn"]) == []
    clerk = login(app.test_client(), app, "clerk")
    assert listing(clerk, "?q=" + staff["王五"]["idn"]) == ["王五"]
    assert listing(client, "?q=E-1001") == ["张三"]
    assert listing(client, "?q=nobody") == []
    assert "没有符合条件的人员" in client.get("/officers?q=nobody").get_data(as_text=True)
    assert listing(client, "?q=%25") == []  # a LIKE wildcard is matched literally


def test_filters(client, app, staff):
    login(client, app, "viewer")
    assert sorted(listing(client, f"?unit={staff['units']['b']}")) == ["王五", "赵六"]
    assert sorted(listing(client, "?post=yes&status=active")) == ["张三", "李四"]
    assert listing(client, "?post=no") == ["王五"]
    assert listing(client, "?establishment=contract") == ["赵六"]
    assert listing(client, "?status=retired") == ["赵六"]
    assert listing(client, "?flag=UNLICENSED") == ["李四"]
    assert listing(client, "?certified=yes") == ["张三"]
    assert sorted(listing(client, "?certified=no")) == ["李四", "王五", "赵六"]


def test_bad_query_values_are_ignored_not_errors(client, app, staff):
    login(client, app, "viewer")
    for q in (
        "?page=abc",
        "?page=-3",
        "?page=999",
        "?unit=x",
        "?sort=drop",
        "?flag=NOPE",
        "?status=%00",
        "?post=maybe",
    ):
        assert len(listing(client, q)) == 4, q


def test_sorting(client, app, staff):
    login(client, app, "viewer")
    by_name = listing(client, "?sort=name")
    assert len(by_name) == 4 and listing(client, "?sort=-name") == list(reversed(by_name))
    assert set(listing(client, "?sort=unit")[:2]) == {"张三", "李四"}  # 城市管理科 has sort order 1
    assert set(listing(client, "?sort=-unit")[:2]) == {"王五", "赵六"}
    html = client.get("/officers?sort=name").get_data(as_text=True)
    assert 'href="/officers?sort=-name&amp;page=1"' in html and "姓名 ▲" in html


def test_pagination_keeps_filters(client, app):
    with app.app_context():
        unit = UnitFactory(name="执法大队")
        for i in range(30):
            OfficerFactory(name=f"队员{i:02d}", unit=unit)
        OfficerFactory(name="外人")
        _db.session.commit()
        unit_id = unit.id
    login(client, app, "viewer")
    first = client.get(f"/officers?unit={unit_id}&sort=name").get_data(as_text=True)
    assert "共 30 人" in first and len(names(first)) == 25 and names(first)[0] == "队员00"
    assert f"unit={unit_id}" in first.split('aria-label="分页"', 1)[1]
    second = names(client.get(f"/officers?unit={unit_id}&sort=name&page=2").get_data(as_text=True))
    assert second == [f"队员{i}" for i in range(25, 30)]


def test_list_query_count_does_not_grow_with_rows(client, app):
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    with app.app_context():
        engine = _db.engine
    login(client, app, "viewer")

    def queries() -> int:
        statements.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            assert client.get("/officers?flag=UNLICENSED").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(statements)

    with app.app_context():
        for _ in range(3):
            OfficerFactory()
        _db.session.commit()
    queries()  # the day's first flag read builds the flag store (app/rules/flagstore.py), once
    few = queries()
    with app.app_context():
        for _ in range(40):
            OfficerFactory()
        _db.session.commit()
    assert queries() == few <= 12


# ---------------------------------------------------------------- create / edit


def test_bad_check_digit_is_refused_and_nothing_saved(client, app, staff):
    login(client, app, "clerk")
    good = id_number()
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    resp = client.post(
        "/officers/new",
        data=form_data(client, "/officers/new", id_number=bad, unit_id=str(staff["units"]["a"])),
    )
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "身份证号校验位错误，请核对最后一位" in html
    assert 'value="陈七"' in html  # what was typed is kept
    assert officer_count(app) == 4


def test_create_then_edit_officer(client, app, staff):
    login(client, app, "clerk")
    idn = id_number()
    resp = client.post(
        "/officers/new",
        data=form_data(
            client,
            "/officers/new",
            id_number=idn.lower(),
            unit_id=str(staff["units"]["a"]),
            employee_no="E-2002",
        ),
        follow_redirects=True,
    )
    html = resp.get_data(as_text=True)
    assert "执法人员“陈七”已保存" in html
    assert mask(idn) in html and idn not in html  # clerk sees the masked number
    assert "E-2002" in html and "本科" in html and "023-6666 8888" in html
    with app.app_context():
        officer = _db.session.scalar(select(Officer).where(Officer.name == "陈七"))
        oid, version = officer.id, officer.version
        assert officer.id_number == idn.upper()

    edit_url = f"/officers/{oid}/edit"
    page = client.get(edit_url).get_data(as_text=True)
    assert f'name="version" type="hidden" value="{version}"' in page
    assert idn not in page  # the clerk's edit form does not reveal the whole ID number
    resp = client.post(
        edit_url,
        data=form_data(
            client,
            edit_url,
            name="陈七七",
            id_number="",
            unit_id=str(staff["units"]["b"]),
            version=str(version),
            employment_status="transferred",
            on_enforcement_post="",
        ),
        follow_redirects=True,
    )
    html = resp.get_data(as_text=True)
    assert "执法人员“陈七七”已保存" in html
    with app.app_context():
        officer = _db.session.get(Officer, oid)
        assert officer.id_number == idn.upper()  # blank means unchanged
        assert (officer.unit_id, officer.employment_status, officer.on_enforcement_post) == (
            staff["units"]["b"],
            "transferred",
            False,
        )
        assert officer.status_changed_on == TODAY


def test_duplicate_id_number_is_refused(client, app, staff):
    login(client, app, "clerk")
    resp = client.post(
        "/officers/new",
        data=form_data(
            client,
            "/officers/new",
            id_number=staff["张三"]["idn"],
            unit_id=str(staff["units"]["a"]),
        ),
    )
    assert f"身份证号 {mask(staff['张三']['idn'])} 已登记给“张三”" in resp.get_data(as_text=True)
    assert officer_count(app) == 4


def test_missing_unit_is_a_form_error_not_a_crash(client, app, staff):
    login(client, app, "clerk")
    resp = client.post("/officers/new", data=form_data(client, "/officers/new", unit_id="abc"))
    assert resp.status_code == 200
    assert officer_count(app) == 4


def test_stale_edit_is_refused_and_first_edit_kept(client, app, staff):
    login(client, app, "clerk")
    oid = staff["李四"]["id"]
    url = f"/officers/{oid}/edit"
    page = client.get(url).get_data(as_text=True)
    version = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)
    common = {"unit_id": str(staff["units"]["a"]), "id_number": "", "version": version}
    first = client.post(url, data=form_data(client, url, name="李四", position="科长", **common))
    assert first.status_code == 302
    second = client.post(url, data=form_data(client, url, name="李四", position="副科长", **common))
    html = second.get_data(as_text=True)
    assert second.status_code == 200
    assert "“李四”的信息已被他人修改" in html and "请刷新页面查看最新内容后重新编辑" in html
    with app.app_context():
        assert _db.session.get(Officer, oid).position == "科长"


# ---------------------------------------------------------------- detail


def test_detail_masks_id_for_clerk_and_shows_it_whole_to_admin(client, app, staff):
    idn = staff["张三"]["idn"]
    url = f"/officers/{staff['张三']['id']}"
    login(client, app, "clerk")
    html = client.get(url).get_data(as_text=True)
    assert mask(idn) in html and idn not in html
    client.post("/logout", data={"csrf_token": token(client, url)})
    login(client, app, "admin")
    html = client.get(url).get_data(as_text=True)
    assert f'<dd class="col-sm-9 font-monospace" id="id-number">{idn}</dd>' in html
    assert idn not in client.get(url + "/edit").get_data(as_text=True)  # only the detail page


def test_detail_shows_flags_certificates_and_history(client, app, staff):
    login(client, app, "viewer")
    html = client.get(f"/officers/{staff['李四']['id']}").get_data(as_text=True)
    assert "未持证上岗" in html and "无执法证" in html and "尚未登记证件" in html
    assert "/edit" not in html and "/certificates/new" not in html  # viewer: no edit buttons
    html = client.get(f"/officers/{staff['张三']['id']}").get_data(as_text=True)
    flags = html.split('id="flags"', 1)[1].split('id="officer-fields"', 1)[0]
    assert "C-ZHANG" in html and "未持证上岗" not in flags
    assert "有效</span>" in html and "发证" in html  # status, computed state, history
    html = client.get(f"/officers/{staff['赵六']['id']}").get_data(as_text=True)
    assert "退休" in html and "合同制" in html
    assert client.get("/officers/99999").status_code == 404


# ---------------------------------------------------------------- photo


def test_photo_upload_is_checked_and_served(client, app, staff):
    login(client, app, "clerk")
    oid = staff["王五"]["id"]
    url = f"/officers/{oid}/edit"
    with app.app_context():
        version = str(_db.session.get(Officer, oid).version)
    fake = form_data(
        client,
        url,
        name="王五",
        id_number="",
        unit_id=str(staff["units"]["b"]),
        version=version,
        photo=(io.BytesIO(b"not an image at all"), "me.jpg"),
    )
    html = client.post(url, data=fake, content_type="multipart/form-data").get_data(as_text=True)
    assert "照片文件无法识别，请上传 JPG 或 PNG 图片" in html
    big = form_data(
        client,
        url,
        name="王五",
        id_number="",
        unit_id=str(staff["units"]["b"]),
        version=version,
        photo=(io.BytesIO(b"\x89PNG" + b"0" * (2 * 1024 * 1024)), "big.png"),
    )
    assert "照片不能超过 2 MB" in client.post(
        url, data=big, content_type="multipart/form-data"
    ).get_data(as_text=True)
    assert client.get(f"/officers/{oid}/photo").status_code == 404

    good = form_data(
        client,
        url,
        name="王五",
        id_number="",
        unit_id=str(staff["units"]["b"]),
        version=version,
        photo=(io.BytesIO(png_bytes()), "photo.jpg"),
    )
    resp = client.post(url, data=good, content_type="multipart/form-data", follow_redirects=True)
    assert f'src="/officers/{oid}/photo"' in resp.get_data(as_text=True)
    photo = client.get(f"/officers/{oid}/photo")
    assert photo.status_code == 200 and photo.mimetype == "image/png"  # type from content, not name
    assert photo.data == png_bytes()
    with app.app_context():
        from app.models.audit import AuditEvent

        event = _db.session.scalars(_db.select(AuditEvent).where(AuditEvent.summary == "更新照片：王五")).one()
        assert event.changes["photo"][1].startswith("image/png")

    client.post("/logout", data={"csrf_token": token(client, "/")})
    assert client.get(f"/officers/{oid}/photo").status_code == 302  # login required


def test_photo_is_replaced_and_removed_from_the_officer_form(client, app, staff):
    """The photo is kept in officer_photo, one row per officer: a new upload replaces it, 删除现有照片
    removes it; either is a new version of the officer (a form opened before is stale) and audited."""
    from app.models.audit import AuditEvent
    from app.models.officers import OfficerPhoto

    login(client, app, "clerk")
    oid = staff["王五"]["id"]
    url = f"/officers/{oid}/edit"

    def post(**extra):
        with app.app_context():
            version = _db.session.get(Officer, oid).version
        data = form_data(client, url, name="王五", id_number="", unit_id=str(staff["units"]["b"]),
                         version=str(version), **extra)
        resp = client.post(url, data=data, content_type="multipart/form-data", follow_redirects=True)
        with app.app_context():
            assert _db.session.get(Officer, oid).version > version
        return resp.get_data(as_text=True)

    jpeg = io.BytesIO()
    Image.new("RGB", (40, 50), (30, 30, 200)).save(jpeg, "JPEG")
    post(photo=(io.BytesIO(png_bytes()), "a.png"))
    html = post(photo=(io.BytesIO(jpeg.getvalue()), "b.jpg"))
    assert f'src="/officers/{oid}/photo"' in html
    photo = client.get(f"/officers/{oid}/photo")
    assert photo.mimetype == "image/jpeg" and photo.data == jpeg.getvalue()
    assert 'name="remove_photo"' in client.get(url).get_data(as_text=True)
    with app.app_context():
        assert _db.session.scalar(select(func.count()).select_from(OfficerPhoto)) == 1

    html = post(remove_photo="y")
    assert f'src="/officers/{oid}/photo"' not in html
    assert client.get(f"/officers/{oid}/photo").status_code == 404
    assert 'name="remove_photo"' not in client.get(url).get_data(as_text=True)
    with app.app_context():
        assert _db.session.scalar(select(func.count()).select_from(OfficerPhoto)) == 0
        officer = _db.session.get(Officer, oid)
        assert officer.photo is None and officer.photo_mime is None
        summaries = _db.session.scalars(select(AuditEvent.summary).where(AuditEvent.entity_id == oid)
                                        .order_by(AuditEvent.id)).all()
        assert summaries[-3:] == ["更新照片：王五", "更新照片：王五", "删除照片：王五"]


# ---------------------------------------------------------------- roles


def test_viewer_cannot_create_or_edit(client, app, staff):
    login(client, app, "viewer")
    assert client.get("/officers/new").status_code == 403
    assert client.get(f"/officers/{staff['李四']['id']}/edit").status_code == 403
    csrf = token(client, "/officers")
    resp = client.post(
        "/officers/new",
        data={
            "name": "偷偷",
            "id_number": id_number(),
            "unit_id": str(staff["units"]["a"]),
            "csrf_token": csrf,
        },
    )
    assert resp.status_code == 403
    resp = client.post(
        f"/officers/{staff['李四']['id']}/edit",
        data={"name": "改名", "unit_id": str(staff["units"]["a"]), "csrf_token": csrf},
    )
    assert resp.status_code == 403
    assert officer_count(app) == 4
    with app.app_context():
        assert _db.session.get(Officer, staff["李四"]["id"]).name == "李四"


def test_post_since_is_saved_from_the_form_and_shown(client, app, staff):
    login(client, app, "clerk")
    resp = client.post("/officers/new", data=form_data(
        client, "/officers/new", name="周八", unit_id=str(staff["units"]["a"]), post_since="2025年7月1日"),
        follow_redirects=True)
    html = resp.get_data(as_text=True)
    assert "执法人员“周八”已保存" in html
    assert '<dd class="col-sm-9" id="post-since">2025年7月1日</dd>' in html
    with app.app_context():
        assert _db.session.scalar(select(Officer.post_since).where(Officer.name == "周八")) == date(2025, 7, 1)
    resp = client.post("/officers/new", data=form_data(
        client, "/officers/new", name="吴九", unit_id=str(staff["units"]["a"]), post_since="2027-01-01"),
        follow_redirects=True)
    assert "任执法岗位日期 2027年1月1日 晚于今天" in resp.get_data(as_text=True)
    assert officer_count(app) == 5


def test_retirement_basis_from_the_form_sets_the_retirement_date(client, app, staff):
    login(client, app, "admin")  # the day of the date is an administrator's to see
    number = id_number(date(1976, 5, 20), "F")  # basis 50: 50y9m → 2027-02-20; basis 55: 56y8m
    resp = client.post("/officers/new", data=form_data(
        client, "/officers/new", name="褚十", id_number=number, unit_id=str(staff["units"]["a"]),
        retirement_basis="50"), follow_redirects=True)
    html = resp.get_data(as_text=True)
    assert "执法人员“褚十”已保存" in html
    assert '<dd class="col-sm-9" id="retirement-date">2027年2月20日（原法定退休年龄50岁）</dd>' in html
    with app.app_context():
        assert _db.session.scalar(select(Officer.retirement_basis).where(Officer.name == "褚十")) == 50
    resp = client.post("/officers/new", data=form_data(
        client, "/officers/new", name="卫十一", id_number=id_number(date(1976, 5, 20), "F"),
        unit_id=str(staff["units"]["a"])), follow_redirects=True)
    assert '<dd class="col-sm-9" id="retirement-date">2033年1月20日（原法定退休年龄55岁）</dd>' in \
        resp.get_data(as_text=True)


def test_a_clerk_sees_the_retirement_year_not_the_day(client, app, staff):
    """The retirement date keeps the birth day (the masked middle of the ID number): with the
    visible ends it would give a clerk the whole number. A clerk sees the year; an admin the day."""
    number = id_number(date(1976, 5, 20), "F")
    login(client, app, "admin")
    resp = client.post("/officers/new", data=form_data(
        client, "/officers/new", name="褚十", id_number=number, unit_id=str(staff["units"]["a"]),
        retirement_basis="50"), follow_redirects=True)
    assert '<dd class="col-sm-9" id="retirement-date">2027年2月20日（原法定退休年龄50岁）</dd>' in \
        resp.get_data(as_text=True)
    with app.app_context():
        oid = _db.session.scalar(select(Officer.id).where(Officer.name == "褚十"))
    clerk = app.test_client()
    login(clerk, app, "clerk")
    html = clerk.get(f"/officers/{oid}").get_data(as_text=True)
    assert '<dd class="col-sm-9" id="retirement-date">2027年（原法定退休年龄50岁）</dd>' in html
    assert "2027年2月20日" not in html and "2027-02-20" not in html


def test_detail_lists_approved_claims_and_counts_them_as_training_hours(app, client):
    """The officer page's training table shows the year's approved training claims (自行申报) next
    to the attended sessions, and its hours are training_hours' (claims included); a pending
    claim neither shows nor counts."""
    from app.models.me import TrainingClaim
    from app.models.training import Attendance, TrainingHours, TrainingSession

    with app.app_context():
        o = OfficerFactory(name="钱七")
        s = TrainingSession(title="专题培训", held_on=TODAY.replace(month=1, day=10), hours=6,
                            category="general_law")
        _db.session.add_all([
            s, Attendance(session=s, officer_id=o.id, status="attended", credited_hours=6),
            TrainingClaim(officer_id=o.id, title="外单位执法培训", held_on=TODAY.replace(month=1, day=5), hours=4,
                          category="general_law", status="approved"),
            TrainingClaim(officer_id=o.id, title="待审自学", held_on=TODAY.replace(month=1, day=6), hours=3,
                          category="general_law"),
        ])
        _db.session.commit()
        oid = o.id
        th = _db.session.scalar(select(TrainingHours).where(TrainingHours.officer_id == oid,
                                                            TrainingHours.year == TODAY.year))
        assert th.hours == 10
        counted = th.counted
    login(client, app, "viewer")
    html = client.get(f"/officers/{oid}").get_data(as_text=True)
    section = html[html.index('id="officer-training"'):html.index('id="officer-exams"')]
    assert '<span class="year-hours">10</span>' in section
    assert re.search(r'外单位执法培训 <span class="badge[^"]*">自行申报</span>', section)
    assert "专题培训" in section and "待审自学" not in section
    if counted != th.hours:
        assert f'<span class="year-counted">{counted:g}</span>' in section
    # the officer's own page lists the claim once, among the claims, not among the sessions
    from app.me.pages import hours

    with app.app_context():
        mine = hours(_db.session.get(Officer, oid), TODAY)
        assert [x["title"] for x in mine["sessions"]] == ["专题培训"]
