"""The anonymous /public/officers.pdf: rendered once per version of the list, each hit counted
(not audited), and a change to anyone on the list gives a new PDF."""

from __future__ import annotations

import io
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from app.extensions import db as _db
from app.models.audit import AuditEvent
from app.models.officers import Officer
from app.models.verify import VerifyHit
from tests.conftest import TODAY
from tests.factories import CertificateFactory, OfficerFactory, UnitFactory


@pytest.fixture(autouse=True)
def _today(set_today):
    set_today(TODAY)


@pytest.fixture
def cache(app):
    folder = Path(app.config.get("PUBLIC_PDF_CACHE_DIR") or "/nonexistent")
    shutil.rmtree(folder, ignore_errors=True)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def listed(app):
    from app.settings.services import set_value

    with app.app_context():
        o = OfficerFactory(name="张三", unit=UnitFactory(name="城市管理科"))
        CertificateFactory(officer=o, number="5001080001", issued_on=TODAY - timedelta(100),
                           expires_on=TODAY + timedelta(800))
        set_value("public_list_enabled", "是")
        _db.session.commit()
        return o.id


def text(data: bytes) -> str:
    return "".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)


def test_two_hits_one_render_no_audit_rows_and_a_change_renders_anew(app, client, cache, listed):
    with app.app_context():  # switching the list on is audited; the hits must add nothing
        before = _db.session.scalar(select(func.count()).select_from(AuditEvent))
    first = client.get("/public/officers.pdf")
    assert first.status_code == 200 and "张三" in text(first.data)
    second = client.get("/public/officers.pdf")
    assert second.status_code == 200
    with app.app_context():
        assert _db.session.scalar(select(func.count()).select_from(AuditEvent)) == before
        hits = _db.session.scalar(select(VerifyHit.hits).where(VerifyHit.kind == "public-pdf"))
        assert hits == 2
    files = list(cache.glob("*.pdf"))
    assert len(files) == 1
    stamp = files[0].stat().st_mtime_ns
    assert second.data == first.data  # the kept file, not a second render
    client.get("/public/officers.pdf")
    assert list(cache.glob("*.pdf")) == files and files[0].stat().st_mtime_ns == stamp
    with app.app_context():
        o = _db.session.get(Officer, listed)
        o.name = "张三丰"
        _db.session.commit()
    third = client.get("/public/officers.pdf")
    assert "张三丰" in text(third.data)
    assert [p.name for p in cache.glob("*.pdf")] != [f.name for f in files]  # the old one is gone
    assert len(list(cache.glob("*.pdf"))) == 1
