"""The anonymous /public/officers.pdf, rendered once per version of the list.

Anyone may ask for it, as often as they like, and WeasyPrint takes seconds: the PDF is kept on
disk (config PUBLIC_PDF_CACHE_DIR, in instance/ by default) under a fingerprint of exactly what
it shows: the template's source and the document's context and rows (the people, their
certificates, the organisation's name, the as-of date). Reading the rows is one query; a change to
anyone on the list (a new certificate, a suspension, a renamed unit, the org name setting, a new
day) gives a new fingerprint and the next request renders the new version. Only the current
version is kept. A hit is counted (VerifyHit, kind "public-pdf"), not audited.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import date
from pathlib import Path

from flask import current_app

from app.documents.services import build
from app.pdf import render_pdf

PREFIX = "public-list-"
VERSION = "1"  # raise to drop every cached file after a change to how the PDF is made


def _folder() -> Path:
    return Path(current_app.config["PUBLIC_PDF_CACHE_DIR"])


def fingerprint(doc) -> str:
    try:
        source = current_app.jinja_loader.get_source(current_app.jinja_env, doc.template)[0]
    except Exception:  # no template source to read: the document's data alone
        source = ""
    data = json.dumps([VERSION, doc.template, source, doc.context, doc.items,
                       sorted((k, hashlib.sha256(v[1]).hexdigest()) for k, v in doc.resources.items())],
                      sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()[:32]


def public_pdf(today: date) -> tuple[bytes, str]:
    """(PDF bytes, file name) of today's public list: from the cache, or rendered and kept."""
    doc = build("public-list", today=today)
    folder = _folder()
    path = folder / f"{PREFIX}{fingerprint(doc)}.pdf"
    try:
        return path.read_bytes(), doc.filename
    except OSError:
        pass
    pdf = render_pdf(doc.template, doc.context, items=doc.items, resources=doc.resources)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(pdf)
        os.replace(tmp, path)  # readers see the whole file or none
        for old in folder.glob(f"{PREFIX}*.pdf"):
            if old != path:
                old.unlink(missing_ok=True)
    except OSError:  # a read-only or full disk: serve it anyway, render again next time
        current_app.logger.exception("public list PDF: not cached")
    return pdf, doc.filename
