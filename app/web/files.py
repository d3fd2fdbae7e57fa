"""Private file responses: an uploaded photo or proof that no cache keeps and no browser sniffs."""

from __future__ import annotations

from flask import Response, abort
from sqlalchemy import select

from app.extensions import db
from app.models.officers import OfficerPhoto


def private_file(data: bytes, mimetype: str | None) -> Response:
    """`data` as `mimetype`, never cached (private, no-store) nor content-sniffed (nosniff)."""
    resp = Response(data, mimetype=mimetype)
    resp.headers["Cache-Control"] = "private, no-store"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


def officer_photo(officer_id: int) -> Response:
    """The officer's photo as a private file; 404 when there is none. The read is scoped as the
    caller's session is (a caller past the scope wraps the call)."""
    row = db.session.execute(
        select(OfficerPhoto.data, OfficerPhoto.mime).where(OfficerPhoto.officer_id == officer_id)
    ).first()
    if row is None or not row.data:
        abort(404)
    return private_file(row.data, row.mime or "application/octet-stream")
