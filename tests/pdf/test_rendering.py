"""app/pdf.py: chunks join seamlessly, pages are numbered, the fetcher refuses the outside world;
the `flask docs` commands."""

from __future__ import annotations

import io
from datetime import date

import pytest
from pypdf import PdfReader

from app.documents import services
from app.pdf import RefusedURL, make_fetcher, render_pdf
from tests.factories import CertificateFactory, OfficerFactory, UnitFactory


def texts(pdf: bytes) -> list[str]:
    return [p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages]


def test_pinyin_key_uses_surname_readings():
    names = ["张三", "曾国藩", "单雄信", "陈一", "蔡二", "孙五"]
    assert sorted(names, key=services.pinyin_key) == ["蔡二", "陈一", "单雄信", "孙五", "曾国藩", "张三"]


def test_chunked_roster_breaks_exactly_like_one_piece(db):
    units = [UnitFactory(name=f"第{i}执法中队", sort_order=i) for i in range(3)]
    for i in range(70):
        CertificateFactory(officer=OfficerFactory(name=f"执法员{i:03d}", unit=units[i % 3]),
                           categories="市容环境卫生、城乡规划建设、环境保护" * (1 + i % 2))
    doc = services.roster(date(2026, 6, 15))
    whole = render_pdf(doc.template, doc.context, items=doc.items, per_chunk=10_000)
    chunked = render_pdf(doc.template, doc.context, items=doc.items, per_chunk=17)
    a, b = texts(whole), texts(chunked)
    assert len(a) >= 3
    assert a == b
    assert f"第 1 / {len(a)} 页" in b[0].replace("\n", " ")
    assert "序号" in b[-1] and "姓名" in b[-1]  # the header row repeats on every page
    assert b[-1].count("合计") == 1 and "".join(b).count("合计") == 1


def embedded_fonts(pdf: bytes) -> dict[str, list[bytes]]:
    """FontName → the distinct font files embedded under that name (decoded)."""
    files: dict[str, dict[int, bytes]] = {}
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
            stream = descriptor["/FontFile3"]
            files.setdefault(str(descriptor["/FontName"]), {})[stream.indirect_reference.idnum] = stream.get_data()
    return {name: list(by_id.values()) for name, by_id in files.items()}


def drawn_glyphs(font_file: bytes) -> set[int]:
    """Glyph ids that have an outline in an embedded (glyph-id-keeping) CFF subset."""
    from fontTools.ttLib import TTFont

    font = TTFont(io.BytesIO(font_file))
    top = font["CFF "].cff.topDictIndex[0]
    order = font.getGlyphOrder()
    return {gid for gid, name in enumerate(order) if top.CharStrings[name].calcBounds(top.CharStrings)}


def test_chunked_document_embeds_each_font_once(db):
    """A long document is laid out in chunks; the PDF still holds one file per font, with every glyph
    any page draws, and is about the size of the one-piece render (not one font copy per chunk)."""
    surnames = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹"
    given = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华玉萍红玲"
    units = [UnitFactory(name=f"第{i}执法中队", sort_order=i) for i in range(4)]
    for i in range(240):
        name = surnames[i % len(surnames)] + given[(i * 7) % len(given)] + given[(i * 13) % len(given)]
        CertificateFactory(officer=OfficerFactory(name=name, unit=units[i % 4]),
                           categories=["市容环境卫生", "城乡规划建设", "安全生产、应急管理", "市场监管"][i % 4])
    doc = services.roster(date(2026, 6, 15))
    whole = render_pdf(doc.template, doc.context, items=doc.items, per_chunk=10_000)
    chunked = render_pdf(doc.template, doc.context, items=doc.items, per_chunk=30)
    assert texts(chunked) == texts(whole)
    fonts, one_piece = embedded_fonts(chunked), embedded_fonts(whole)
    assert fonts.keys() == one_piece.keys() and len(fonts) == 2  # regular and bold
    for name, files in fonts.items():
        assert len(files) == 1, (name, len(files))
        assert drawn_glyphs(files[0]) == drawn_glyphs(one_piece[name][0]), name
    assert len(chunked) < 1.25 * len(whole), (len(chunked), len(whole))


def test_fetcher_serves_only_static_files(app, tmp_path):
    with app.app_context():
        fetcher = make_fetcher({"photo-1": ("image/png", b"\x89PNG")})
        static = (app.static_folder.rstrip("/") + "/app.css")
        assert fetcher.fetch("file://" + static).read()
        assert fetcher.fetch("res:photo-1").read() == b"\x89PNG"
        for url in ("http://example.com/a.png", "https://127.0.0.1/x", "file:///etc/passwd",
                    "file://" + app.static_folder + "/../../pyproject.toml", "res:photo-2",
                    "ftp://host/file", "data:text/plain,hello"):
            with pytest.raises((RefusedURL, ValueError)):
                fetcher.fetch(url)


def test_docs_cli_prints_and_refuses(app, runner, tmp_path):
    with app.app_context():
        CertificateFactory(officer=OfficerFactory(name="曾小明"))
        from app.extensions import db

        db.session.commit()
    out = tmp_path / "roster.pdf"
    result = runner.invoke(args=["docs", "roster", "--out", str(out), "--today", "2026-06-15"])
    assert result.exit_code == 0, result.output
    assert "已生成持证人员名册" in result.output
    assert "曾小明" in "".join(texts(out.read_bytes()))

    result = runner.invoke(args=["docs", "roster", "--unit", "没有这个单位", "--out", str(out)])
    assert result.exit_code == 1 and "单位“没有这个单位”不存在" in result.output
    result = runner.invoke(args=["docs", "sign-in", "--session", "4242", "--out", str(out)])
    assert result.exit_code == 1 and "培训班（ID 4242）不存在" in result.output
    result = runner.invoke(args=["docs", "certificates", "--out", str(out)])
    assert result.exit_code == 2
    result = runner.invoke(args=["docs", "public-list", "--out", str(tmp_path / "p.pdf")])
    assert result.exit_code == 0 and (tmp_path / "p.pdf").read_bytes()[:5] == b"%PDF-"


def test_certificate_embeds_the_officer_photo(db):
    from PIL import Image

    from app.models.training import Attendance, TrainingSession

    buf = io.BytesIO()
    Image.new("RGB", (60, 80), (200, 30, 30)).save(buf, "PNG")
    officer = OfficerFactory(name="有照片", photo=buf.getvalue(), photo_mime="image/png")
    session = TrainingSession(title="法治讲座", category="lecture", held_on=date(2026, 3, 1), hours=2)
    db.session.add(session)
    db.session.flush()
    db.session.add(Attendance(session_id=session.id, officer_id=officer.id, status="attended", credited_hours=2))
    db.session.flush()
    doc = services.certificates(date(2026, 6, 15), session_id=session.id)
    pdf = render_pdf(doc.template, doc.context, items=doc.items, resources=doc.resources)
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    assert len(page.images) == 1 and "有照片" in page.extract_text()
