"""The only place that calls WeasyPrint: a template under templates/pdf/ plus a plain-data context
in, PDF bytes out.

Long documents are laid out in chunks of `items` (table rows, certificates, unit notices): WeasyPrint
keeps the layout of every page in memory until it writes, so a long table in one piece needs
memory in proportion to its length (notes/benchmarks.md). Each chunk is cut at a page boundary —
when the chunk's last page is not its final one, that page is dropped and the next chunk starts
with the first item that was on it — so the joined document breaks exactly where a single render
would. "第 x / y 页" cannot be known inside a chunk, so it is stamped on afterwards: one small
WeasyPrint render of the page numbers, merged onto the pages with pypdf. No page of the body uses
counter(pages), which also spares WeasyPrint its second layout pass.

Fonts: every chunk (and the stamp) is drawn with one font configuration and one font table, so
chunk k's PDF embeds the subset of every glyph drawn so far — WeasyPrint keeps the font's own glyph
ids in its subsets, so a fuller subset serves every earlier chunk unchanged. The join points each
font descriptor at the fullest file of its font and drops the rest: each font is embedded once
(instead of a copy per chunk, which would multiply the file's size: notes/benchmarks.md).

Fonts are the system's Noto Sans CJK SC; the URL fetcher refuses everything except the app's own
static files and the in-memory resources (photos) handed to `render_pdf`.
"""

from __future__ import annotations

import gc
import io
import mimetypes
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import current_app, render_template
from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject

from app import progress

ITEMS_PER_CHUNK = 150
RESOURCE_SCHEME = "res"
FOOTER_MARGIN_MM = 14  # the templates leave this much at the bottom of the page for the stamp


class RefusedURL(ValueError):
    pass


def _weasyprint():
    """WeasyPrint, imported when the first PDF is made, not with the app."""
    import weasyprint  # noqa: PLC0415 — 1.4 s to import (measured), only PDF pages and jobs use it

    return weasyprint


def _fetcher_class():
    urls = _weasyprint().urls

    class StaticOnlyFetcher(urls.URLFetcher):
        """Serve files under the app's static folder and named in-memory resources; refuse the rest
        (no network, no other file on disk)."""

        def __init__(self, static_dir: Path, resources: Mapping[str, tuple[str, bytes]] | None = None):
            super().__init__(timeout=1, allowed_protocols=("file", RESOURCE_SCHEME),
                             allow_redirects=False)
            self.static_dir = static_dir.resolve()
            self.resources = dict(resources or {})

        def fetch(self, url, headers=None):
            parts = urlsplit(url)
            scheme = parts.scheme.lower()
            if scheme == RESOURCE_SCHEME:
                name = unquote(parts.path)
                if name in self.resources:
                    mime, data = self.resources[name]
                    return urls.URLFetcherResponse(url, body=data, headers={"Content-Type": mime})
                raise RefusedURL(f"no such resource: {name}")
            if scheme == "file" and not parts.netloc:
                path = Path(unquote(parts.path)).resolve()
                if path.is_relative_to(self.static_dir) and path.is_file():
                    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                    return urls.URLFetcherResponse(url, body=path.read_bytes(), headers={"Content-Type": mime})
            raise RefusedURL(f"refused: {url}")

    return StaticOnlyFetcher


def make_fetcher(resources: Mapping[str, tuple[str, bytes]] | None = None):
    return _fetcher_class()(Path(current_app.static_folder), resources)


def _first_item_on(page) -> int | None:
    """The index (data-i) of the first item that starts on a laid-out page."""
    for box in page._page_box.descendants():
        element = getattr(box, "element", None)
        if element is not None and element.get("data-i") is not None:
            try:
                return int(element.get("data-i"))
            except ValueError:
                return None
    return None


def render_pdf(
    template: str,
    context: dict[str, Any],
    *,
    items: Sequence[Any] | None = None,
    per_chunk: int = ITEMS_PER_CHUNK,
    resources: Mapping[str, tuple[str, bytes]] | None = None,
) -> bytes:
    """Render `template` with `context` into PDF bytes.

    The template sees `items[offset:end]` as `items`, `offset`, `first` (the chunk opens the
    document) and `last` (it closes it: totals, signatures); each item's outermost element
    must carry `data-i="{{ offset + loop.index0 }}"`.
    """
    weasyprint = _weasyprint()
    items = list(items or [])
    fetcher = make_fetcher(resources)
    base_url = Path(current_app.static_folder).resolve().as_uri() + "/"
    # One font configuration and one font table for every chunk: each chunk's PDF then embeds the
    # subset of every glyph used so far (glyph ids are the font's own), so the last chunk's subset
    # serves the whole document and the join keeps only that one (see _share_font_files).
    font_config, fonts = weasyprint.text.fonts.FontConfiguration(), {}
    parts: list[bytes] = []
    start, n = 0, len(items)
    gc.freeze()  # what exists before the first chunk is not a chunk's garbage: spare gc the walk
    try:
        while True:
            end = min(start + per_chunk, n)
            html = render_template(template, **context, items=items[start:end], offset=start,
                                   first=start == 0, last=end >= n)
            document = weasyprint.HTML(string=html, base_url=base_url, url_fetcher=fetcher).render(
                font_config=font_config)
            pages = document.pages
            if end < n and len(pages) > 1:
                carry = _first_item_on(pages[-1])
                if carry is not None and start < carry < end:
                    pages, end = pages[:-1], carry
            out = document.copy(pages) if pages is not document.pages else document
            out.fonts = fonts
            parts.append(out.write_pdf())
            del document, pages, out
            gc.collect()  # a laid-out chunk is a large web of cycles; free it before the next one
            start = end
            progress.report(0.95 * start / max(n, 1))  # a background job shows it (app/jobs)
            if start >= n:
                break
        stamp = _page_numbers(parts, font_config, fonts, fetcher)
    finally:
        gc.unfreeze()
    return _join_and_number(parts, stamp)


def _font_files(page) -> list[tuple[Any, str, int]]:
    """(font descriptor, its FontFile key, how many glyphs the font's /W covers) of every embedded
    Type0 font on a page."""
    found = []
    resources = page["/Resources"] if "/Resources" in page else {}
    font_dict = resources["/Font"] if "/Font" in resources else {}
    for ref in font_dict.values():
        font = ref.get_object()
        if font.get("/Subtype") != "/Type0":
            continue
        cid_font = font["/DescendantFonts"][0].get_object()
        descriptor = cid_font["/FontDescriptor"].get_object()
        widths = cid_font["/W"] if "/W" in cid_font else []
        glyphs = sum(len(w.get_object()) for w in widths if isinstance(w.get_object(), list))
        for key in ("/FontFile3", "/FontFile2", "/FontFile"):
            if key in descriptor:
                found.append((descriptor, key, glyphs))
                break
    return found


def _share_font_files(writer) -> None:
    """Keep one file per font: every chunk (and the page-number stamp) shared one font table, so
    the font files of one font form a chain, each holding the glyphs of those before it; point every
    descriptor at the largest and drop the others."""
    largest: dict[str, tuple[int, Any]] = {}
    for page in writer.pages:
        for descriptor, key, glyphs in _font_files(page):
            name = str(descriptor["/FontName"])
            if name not in largest or glyphs > largest[name][0]:
                largest[name] = (glyphs, descriptor.raw_get(key))
    changed = False
    for page in writer.pages:
        for descriptor, key, _ in _font_files(page):
            ref = largest[str(descriptor["/FontName"])][1]
            if descriptor.raw_get(key) != ref:
                descriptor[NameObject(key)] = ref
                changed = True
    if changed:
        writer.compress_identical_objects(remove_duplicates=False, remove_unreferenced=True)


def _join_and_number(parts: list[bytes], stamp: bytes) -> bytes:
    writer = PdfWriter()
    for part in parts:
        writer.append(PdfReader(io.BytesIO(part)))
    for page, number in zip(writer.pages, PdfReader(io.BytesIO(stamp)).pages, strict=True):
        page.merge_page(number)
        page.compress_content_streams()  # merge_page leaves the joined content uncompressed
    _share_font_files(writer)
    writer.add_metadata({"/Producer": "行政执法人员资格管理系统"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _page_numbers(parts: list[bytes], font_config, fonts: dict, fetcher) -> bytes:
    """As many blank pages as `parts` hold, each with only "第 x / total 页" at the foot; drawn
    with the chunks' font table, so its font files hold every glyph of the document."""
    readers = [PdfReader(io.BytesIO(part)) for part in parts]
    total = sum(len(r.pages) for r in readers)
    box = readers[0].pages[0].mediabox
    html = render_template("pdf/_page_numbers.html", total=total, width=float(box.width),
                           height=float(box.height), footer_mm=FOOTER_MARGIN_MM)
    document = _weasyprint().HTML(string=html, url_fetcher=fetcher).render(font_config=font_config)
    document.fonts = fonts
    return document.write_pdf()
