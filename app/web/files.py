"""File responses: downloads (one helper for names and types) and private files (an uploaded photo or
proof that no cache keeps and no browser sniffs); the export audit row."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Response, abort
from sqlalchemy import select

from app.audit.services import record
from app.extensions import db
from app.models.officers import OfficerPhoto
from app.sheets import CSV_MIME, XLSX_MIME

MIMETYPES = {
    "xlsx": XLSX_MIME,
    "csv": CSV_MIME,
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "zip": "application/zip",
}


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


REPORT_TITLES = {"flags": "问题提示", "unlicensed": "未持证上岗人员", "expiring": "证件即将到期人员"}


def content_disposition(filename: str, ascii_fallback: str) -> str:
    """attachment with an ASCII name for old clients and the Chinese one per RFC 5987."""
    return f"attachment; filename=\"{ascii_fallback}\"; filename*=UTF-8''{quote(filename)}"


def download(data: Any, filename: str, ascii_fallback: str | None = None, *, mimetype: str | None = None,
             inline: bool = False, private: bool = False) -> Response:
    """The one file response: `data` saved as `filename` (the Chinese name per RFC 5987, the ASCII
    `ascii_fallback` for old clients), its type from the extension (xlsx, csv, pdf, docx, zip)
    unless `mimetype` says otherwise. `inline`: shown in the browser rather than saved;
    `private`: an uploaded file, as private_file serves it (never cached, never sniffed)."""
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    fallback = ascii_fallback or filename.encode("ascii", "ignore").decode() or f"download.{ext}"
    mime = mimetype or MIMETYPES.get(ext, "application/octet-stream")
    resp = private_file(data, mime) if private else Response(data, mimetype=mime)
    disposition = content_disposition(filename, fallback)
    resp.headers["Content-Disposition"] = disposition.replace("attachment", "inline", 1) if inline else disposition
    return resp


def record_export(report: str, fmt: str, count: int, filters: dict[str, Any], target: str = "") -> None:
    """One audit row per export (action `export`); the caller commits."""
    parts = [f"{k}={v}" for k, v in filters.items() if v not in (None, "")]
    summary = f"导出{REPORT_TITLES.get(report, report)}（{fmt}，{count} 条）"
    if parts:
        summary += "，条件：" + "，".join(parts)
    if target:
        summary += f"，文件：{target}"
    record("export", "report", None, summary[:500])
