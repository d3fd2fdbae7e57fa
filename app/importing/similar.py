"""Registered names close to a new one (南岸区城管局 ↔ 南岸区城市管理局), so that a unit typed a
little differently is seen before an import registers it as another unit.

difflib's ratio on the names as written and on the names with the usual long forms shortened
(城市管理 → 城管, 综合行政执法 → 综合执法, …): two spellings of one abbreviation meet exactly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from difflib import SequenceMatcher

# long form -> the short form offices write (longest first: 综合行政执法 before 行政执法)
ABBREVIATIONS = [
    ("综合行政执法", "综合执法"), ("城市管理", "城管"), ("人民政府", "政府"), ("街道办事处", "街道"),
    ("行政执法", "执法"), ("市场监督管理", "市场监管"), ("生态环境", "环境"), ("交通运输", "交通"),
    ("住房和城乡建设", "住建"), ("自然资源和规划", "规划资源"), ("办公室", "办"), ("委员会", "委"),
    ("管理局", "局"),
]
THRESHOLD = 0.6  # below this, names share too little to be worth showing
SHOWN = 3


def short_form(name: str) -> str:
    text = re.sub(r"\s", "", name).replace("（", "(").replace("）", ")")
    for long, short in ABBREVIATIONS:
        text = text.replace(long, short)
    return text


def similar_names(new: Iterable[str], known: Iterable[str]) -> dict[str, list[str]]:
    """{new name: up to three known names, nearest first, that look like the same unit}."""
    known = list(known)
    shorts = [(k, short_form(k)) for k in known]
    found: dict[str, list[str]] = {}
    for name in new:
        short = short_form(name)
        scored = []
        for k, ks in shorts:
            if short == ks:
                scored.append((2.0, k))
                continue
            m = SequenceMatcher(None, short, ks)
            if m.real_quick_ratio() < THRESHOLD or m.quick_ratio() < THRESHOLD:
                continue
            score = max(m.ratio(), SequenceMatcher(None, name, k).ratio())
            if score >= THRESHOLD:
                scored.append((score, k))
        scored.sort(key=lambda t: (-t[0], t[1]))
        found[name] = [k for _s, k in scored[:SHOWN]]
    return found
