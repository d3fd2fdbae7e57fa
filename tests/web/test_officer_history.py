"""An officer's unit, post and status changes on the officer page; attachments
(PDF/JPEG/PNG, size-limited, content sniffed) for admins and clerks only, audited."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import select

from app.extensions import db as _db
from app.models.audit import AuditEvent
from app.models.officers import OfficerAttachment
from tests.conftest import TODAY, login, token
from tests.factories import OfficerFactory, UnitFactory

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture(autouse=True)
def _today(set_today):
    set_today(TODAY)


@pytest.fixture
def staff(app):
    with app.app_context():
        a = UnitFactory(name="城市管理科")
        b = UnitFactory(name="南坪社区")
        o = OfficerFactory(name="张三", unit=a)
        _db.session.commit()
        return {"a": a.id, "b": b.id, "o": o.id}


def test_history_lists_unit_post_and_status_changes(app, client, staff):
    login(client, app, "clerk")
    client.post("/officers/bulk", data={"csrf_token": token(client, "/officers"), "action": "unit",
                                        "ids": [staff["o"]], "confirmed": "1", "target": str(staff["b"])})
    client.post("/officers/bulk", data={"csrf_token": token(client, "/officers"), "action": "post_off",
                                        "ids": [staff["o"]], "confirmed": "1"})
    html = client.get(f"/officers/{staff['o']}").get_data(as_text=True)
    hist = html.split('id="officer-history"', 1)[1].split("</table>", 1)[0]
    assert "<td>单位</td><td>城市管理科</td><td>南坪社区</td>" in hist
    assert "<td>执法岗位</td><td>是</td><td>否</td>" in hist
    assert hist.index("执法岗位") < hist.index("<td>单位</td>")  # newest first
    assert "unit_id" not in hist and "True" not in hist


def upload(client, officer_id, data, name, kind="certificate_scan"):
    return client.post(f"/officers/{officer_id}/attachments", follow_redirects=True,
                       data={"csrf_token": token(client, f"/officers/{officer_id}"), "kind": kind,
                             "file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def test_attachments_upload_list_download_delete(app, client, staff):
    login(client, app, "clerk")
    html = upload(client, staff["o"], PDF, "执法证扫描.pdf").get_data(as_text=True)
    assert "附件《执法证扫描.pdf》已上传" in html
    html = upload(client, staff["o"], png(), "任命文件.jpg", "appointment").get_data(as_text=True)
    assert "附件《任命文件.png》已上传" in html  # named by what it is
    html = upload(client, staff["o"], b"MZ\x90\x00 not a pdf", "病毒.pdf").get_data(as_text=True)
    assert "只能上传 PDF、JPG 或 PNG 文件" in html
    html = upload(client, staff["o"], PDF + b"0" * (5 * 1024 * 1024), "大文件.pdf").get_data(as_text=True)
    assert "附件不能超过 5 MB" in html
    with app.app_context():
        atts = _db.session.scalars(select(OfficerAttachment).order_by(OfficerAttachment.id)).all()
        assert [(a.filename, a.mime) for a in atts] == [("执法证扫描.pdf", "application/pdf"),
                                                         ("任命文件.png", "image/png")]
        pdf_id, png_id = atts[0].id, atts[1].id
    page = client.get(f"/officers/{staff['o']}").get_data(as_text=True)
    assert "执法证扫描件" in page and "任命文件.png" in page
    resp = client.get(f"/officers/{staff['o']}/attachments/{pdf_id}")
    assert resp.status_code == 200 and resp.data == PDF and resp.mimetype == "application/pdf"
    assert "attachment" in resp.headers["Content-Disposition"]
    assert client.get(f"/officers/{staff['o'] + 99}/attachments/{pdf_id}").status_code == 404
    # Viewers see neither the list nor the files.
    viewer = app.test_client()
    login(viewer, app, "viewer")
    assert "任命文件.png" not in viewer.get(f"/officers/{staff['o']}").get_data(as_text=True)
    assert viewer.get(f"/officers/{staff['o']}/attachments/{pdf_id}").status_code == 403
    # Delete asks first (data-confirm) and is audited.
    assert 'data-confirm="确定删除附件《任命文件.png》吗？' in page
    html = client.post(f"/officers/{staff['o']}/attachments/{png_id}/delete", follow_redirects=True,
                       data={"csrf_token": token(client, f"/officers/{staff['o']}")}).get_data(as_text=True)
    assert "附件《任命文件.png》已删除" in html
    with app.app_context():
        assert _db.session.scalar(select(_db.func.count()).select_from(OfficerAttachment)) == 1
        summaries = _db.session.scalars(select(AuditEvent.summary).where(AuditEvent.entity_id == staff["o"])).all()
    assert any("上传附件" in s for s in summaries) and any("删除附件：张三" in s for s in summaries)
