"""Uploads that cannot hurt (docs/architecture.md, Cost targets): a pixel bomb is refused with a message, not a 500."""

from __future__ import annotations

import io

from app.extensions import db as _db
from app.models.officers import Officer
from tests.conftest import login, token
from tests.factories import OfficerFactory
from tests.hostile import pixel_bomb_png


def test_pixel_bomb_photo_is_refused_with_a_message(client, app):
    with app.app_context():
        officer = OfficerFactory()
        _db.session.commit()
        oid, name, unit_id, version = officer.id, officer.name, officer.unit_id, officer.version
    login(client, app, "clerk")
    url = f"/officers/{oid}/edit"
    data = {"csrf_token": token(client, url), "name": name, "id_number": "", "unit_id": str(unit_id),
            "position": "", "establishment": "civil_servant", "education": "", "employment_status":
            "active", "status_changed_on": "", "post_since": "", "retirement_basis": "", "phone": "", "employee_no": "",
            "notes": "",
            "on_enforcement_post": "y", "version": str(version),
            "photo": (io.BytesIO(pixel_bomb_png()), "bomb.png")}
    resp = client.post(url, data=data, content_type="multipart/form-data")
    assert resp.status_code == 200
    assert "照片像素过大" in resp.get_data(as_text=True)
    with app.app_context():
        assert _db.session.get(Officer, oid).photo_mime is None


def test_photo_over_the_pixel_limit_but_under_pillows_is_refused_too(client, app):
    from app.officers.forms import read_photo

    class Upload(io.BytesIO):
        filename = "big.png"

    import pytest
    from wtforms.validators import ValidationError

    with pytest.raises(ValidationError, match="照片像素过大"):
        read_photo(Upload(pixel_bomb_png(8_000, 6_000)))
