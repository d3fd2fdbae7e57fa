"""A name's sort key is read character by character (each character once, cached): the same
readings pypinyin gives the whole name, for every character of the CJK blocks a name may use."""

from __future__ import annotations

import random

from app import pinyin


def test_names_read_by_character_as_pypinyin_reads_them_whole():
    reader = pinyin._reader()
    blocks = [*range(0x3400, 0x4DC0), *range(0x4E00, 0xA000)]
    rng = random.Random(21)
    for _ in range(3000):
        name = "".join(chr(rng.choice(blocks)) for _ in range(rng.randint(1, 4)))
        assert [s for ch in name for s in pinyin._character(ch)] == reader(name), name


def test_sort_keys_of_names_with_and_without_han_characters():
    assert pinyin.sort_key("吕文") == "lv3wen2"
    assert pinyin.sort_key("曾小华") == "zeng1xiao3hua2"  # the surname's reading, then each character
    assert pinyin.sort_key("单位", person=False) == "dan1wei4"
    assert pinyin.sort_key("王小A") == "wang2xiao3a0"  # not only Han: pypinyin reads the rest whole
