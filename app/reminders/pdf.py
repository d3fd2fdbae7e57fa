"""WeasyPrint for the reminder PDFs, until app/pdf.py (the documents issue) takes this over.

Same contract as STYLE.md's app/pdf.py: a template under templates/, plain-data context, and a
URL fetcher that refuses everything (the documents need no outside resource), so a value in the
data can never make the server fetch a URL or read a file.
"""

from __future__ import annotations

from typing import Any

from flask import render_template


def _refuse(url: str, *args: Any, **kwargs: Any) -> dict:
    raise ValueError(f"PDF 不加载外部资源：{url}")


def render(template: str, **context: Any) -> bytes:
    from weasyprint import HTML

    html = render_template(template, **context)
    return HTML(string=html, base_url="about:blank", url_fetcher=_refuse).write_pdf()
