"""执法类别 as text: a certificate's `categories` and a unit's `enforcement_fields` are both stored as
labels separated by "、" (what the certificate form and imports take, 城市管理、市场监管). A card
covers a unit when every one of the unit's labels is among the card's (NEEDS_REISSUE in
app/rules/compliance.py). Other separators people type (，,；;/ and spaces) are read as "、"."""

from __future__ import annotations

import re

from sqlalchemy import func, literal

SEPARATORS = "，,；;/ 　\t"
_SPLIT = re.compile(r"[、，,；;/\s　]+")


def split(text: str | None) -> list[str]:
    """The labels, in order, each once."""
    out: list[str] = []
    for part in _SPLIT.split(text or ""):
        if part and part not in out:
            out.append(part)
    return out


def normalize(text: str | None) -> str:
    """The canonical stored form: the labels joined by "、"."""
    return "、".join(split(text))


def framed_sql(column):
    """SQL: the column's labels framed by "、" on both sides ("、城市管理、市场监管、"), every other
    separator read as "、", so that `framed LIKE '%、' || label || '、%'` tests one label (both databases)."""
    expr = func.coalesce(column, "")
    for sep in SEPARATORS:
        expr = func.replace(expr, sep, "、")
    return literal("、") + expr + literal("、")
