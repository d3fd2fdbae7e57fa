"""Every detail page says where it sits (breadcrumbs), and empty lists say what to do."""

from __future__ import annotations

import re

from app.extensions import db as _db
from app.models.exams import Exam
from app.models.training import TrainingSession
from tests.conftest import TODAY, login
from tests.factories import CertificateFactory, OfficerFactory, UnitFactory


def crumbs(html: str) -> list[str]:
    nav = html.split('aria-label="breadcrumb"', 1)[1].split("</nav>", 1)[0]
    return [re.sub(r"<[^>]+>", "", li).strip() for li in re.findall(r"<li[^>]*>(.*?)</li>", nav, re.S)]


def test_detail_pages_have_breadcrumbs(app, client):
    with app.app_context():
        unit = UnitFactory(name="城市管理科")
        cert = CertificateFactory(officer=OfficerFactory(name="张三", unit=unit), number="C-1")
        s = TrainingSession(title="行政处罚法讲座", category="lecture", held_on=TODAY, hours=4.0)
        e = Exam(title="资格考试", kind="qualification", held_on=TODAY)
        _db.session.add_all([s, e])
        _db.session.commit()
        oid, cid, sid, eid, uid = cert.officer_id, cert.id, s.id, e.id, unit.id
    login(client, app, "admin")
    expected = {
        f"/officers/{oid}": ["首页", "执法人员", "城市管理科", "张三"],
        f"/officers/{oid}/edit": ["首页", "执法人员", "张三", "编辑"],
        f"/certificates/{cid}": ["首页", "执法人员", "张三", "证件 C-1"],
        f"/training/{sid}": ["首页", "培训", "行政处罚法讲座"],
        f"/exams/{eid}": ["首页", "考试", "资格考试"],
        f"/units/{uid}/edit": ["首页", "单位", "编辑：城市管理科"],
        "/officers/new": ["首页", "执法人员", "新增人员"],
    }
    for url, want in expected.items():
        html = client.get(url).get_data(as_text=True)
        assert crumbs(html) == want, url
    html = client.get(f"/officers/{oid}").get_data(as_text=True)
    assert f'href="/officers?unit={uid}"' in html


def test_empty_lists_say_what_to_do(app, client):
    login(client, app, "clerk")
    assert "新增人员</a>，或在“数据导入”中从 Excel 批量导入" in client.get("/officers").get_data(as_text=True)
    assert "新增培训</a>，再在培训页登记参训人员和学时" in client.get("/training").get_data(as_text=True)
    assert "新增考试</a>，再添加考生、登记成绩" in client.get("/exams").get_data(as_text=True)
    assert "没有符合条件的人员，<a" in client.get("/officers?q=谁").get_data(as_text=True)
