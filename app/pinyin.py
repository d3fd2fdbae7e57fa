"""The one reading of a Chinese name for sorting: the printed documents sort with `pinyin_key`,
the web lists ORDER BY the stored `name_pinyin` column, which holds `sort_key(name)` — the same
order, because `pinyin_key` is built from `sort_key`."""

from __future__ import annotations

import functools
import os
import re

# Surnames whose reading differs from the character's everyday one (百家姓 readings).
SURNAME_READINGS: dict[str, list[str]] = {
    "曾": ["zeng1"], "单": ["shan4"], "解": ["xie4"], "仇": ["qiu2"], "朴": ["piao2"],
    "区": ["ou1"], "查": ["zha1"], "盖": ["ge3"], "缪": ["miao4"], "覃": ["qin2"],
    "乐": ["yue4"], "种": ["chong2"], "华": ["hua4"], "翟": ["zhai2"], "任": ["ren2"],
    "宁": ["ning4"], "纪": ["ji3"], "燕": ["yan1"], "薄": ["bo2"], "召": ["shao4"],
    "折": ["she2"], "员": ["yun4"], "秘": ["bi4"], "黑": ["he4"], "繁": ["po2"],
    "隗": ["wei3"], "句": ["gou1"], "祭": ["zhai4"],
    "尉迟": ["yu4", "chi2"], "万俟": ["mo4", "qi2"], "单于": ["chan2", "yu2"],
    "长孙": ["zhang3", "sun1"], "澹台": ["tan2", "tai2"],
}

SORT_KEY_LENGTH = 255
_NOT_ALNUM = re.compile(r"[^a-z0-9]")


def _reader():
    """pypinyin's reader of names in tone-number style (imported when first needed)."""
    # Names need single-character readings only (compound surnames are in SURNAME_READINGS);
    # without the phrase dictionary pypinyin needs a fraction of the memory (notes/benchmarks.md).
    os.environ.setdefault("PYPINYIN_NO_PHRASES", "true")
    os.environ.setdefault("PYPINYIN_NO_DICT_COPY", "true")
    from pypinyin import Style, lazy_pinyin  # noqa: PLC0415 — 0.23 s, 11 MB (measured); the switches above go first

    return functools.partial(lazy_pinyin, style=Style.TONE3, neutral_tone_with_five=True)


def _syllables(name: str, person: bool) -> list[str]:
    surname_len = 2 if name[:2] in SURNAME_READINGS else 1
    head = SURNAME_READINGS.get(name[:surname_len]) if person else None
    if head is None:
        surname_len, head = 0, []
    rest = name[surname_len:]
    if _HANS.fullmatch(rest):  # each character read alone (no phrases): read each one once
        return head + [s for ch in rest for s in _character(ch)]
    return head + _reader()(rest)


# Han characters only: without the phrase dictionary pypinyin reads them one by one, so a name's
# reading is its characters' readings (tests/unit/test_pinyin.py compares with whole names); a
# 100,000-row import of distinct names reads a few thousand characters, not 100,000 names.
_HANS = re.compile("[\u3400-\u4dbf\u4e00-\u9fff]+")


@functools.lru_cache(maxsize=1 << 14)
def _character(ch: str) -> tuple[str, ...]:
    return tuple(_reader()(ch))


def sort_key(name: str | None, *, person: bool = True) -> str:
    """A roster's order as a plain string: each syllable's letters then its tone digit
    (吕文 → "lv3wen2", 曾 → "zeng1", 单 → "shan4"). Only a-z and 0-9 appear, and every syllable
    ends with a digit, which sorts before any letter: so byte order (SQLite, PostgreSQL "C") and
    the usual locale collations order these strings exactly as syllable-by-syllable comparison
    (letters, then tone) would. `person=False` (unit names) reads no surname: 单位 is dān wèi."""
    return _sort_key((name or "").strip(), person)


@functools.lru_cache(maxsize=1 << 15)  # names repeat: a big import reads each distinct one once
def _sort_key(name: str, person: bool) -> str:
    out = []
    for s in _syllables(name, person):
        letters, tone = (s[:-1], s[-1]) if s[-1:].isdigit() else (s, "0")
        letters = _NOT_ALNUM.sub("", letters.lower())
        if letters:
            out.append(letters + tone)
    return "".join(out)[:SORT_KEY_LENGTH]


def pinyin_key(name: str | None, *, person: bool = True) -> tuple[str, str]:
    """Python sort key for names (the printed documents): the same order as
    ORDER BY name_pinyin, name."""
    return sort_key(name, person=person), (name or "").strip()


def unit_key(name: str | None) -> tuple[str, str]:
    """Python sort key for unit names, the order of ORDER BY Unit.name_pinyin, Unit.name."""
    return pinyin_key(name, person=False)
