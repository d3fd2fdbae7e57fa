"""身份证号 (GB 11643) validation from python-stdnum's pieces.

Not `stdnum.cn.ric.validate()` as a whole: it also demands that the county code existed in the
birth year, which rejects real people (docs/domain.md 身份证号).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from stdnum.cn import ric

# GB/T 2260 province-level codes.
PROVINCES = {
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
    "65", "71", "81", "82",
}


class IdNumberError(ValueError):
    pass


def normalize(value: str) -> str:
    text = str(value or "")
    if text.isascii():  # what ric.compact does to ASCII (its character map is for the rest)
        return text.upper().strip()
    return ric.compact(text).upper()


def validate(value: str, *, today: date | None = None) -> str:
    """Return the normalised number or raise IdNumberError with a message a person can act on."""
    number = normalize(value)
    if len(number) != 18:
        raise IdNumberError(f"身份证号应为18位，实际为{len(number)}位")
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise IdNumberError("身份证号只能包含数字，最后一位可以是X")
    if number[:2] not in PROVINCES:
        raise IdNumberError(f"身份证号前两位“{number[:2]}”不是有效的省份代码")
    try:  # ric.get_birth_date without compacting the number again (imports check 100,000s)
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise IdNumberError(f"身份证号中的出生日期“{number[6:14]}”不存在") from None
    if birth.year < 1900 or (today and birth > today):
        raise IdNumberError(f"身份证号中的出生日期“{number[6:14]}”不合理")
    if ric.calc_check_digit(number) != number[17]:
        raise IdNumberError("身份证号校验位错误，请核对最后一位")
    return number


def validator(today: date | None = None) -> Callable[[str], str | IdNumberError]:
    """`validate(value, today=today)` as a function that returns the error instead of raising
    it and computes each distinct value once: an import sheet names each officer many times
    (200,000 attendance rows, ~20 per officer), and validating is most of checking a row."""
    memo: dict[str, str | IdNumberError] = {}

    def check(value: str) -> str | IdNumberError:
        found = memo.get(value)
        if found is None:
            try:
                found = validate(value, today=today)
            except IdNumberError as exc:
                found = exc
            memo[value] = found
        return found

    return check


def birth_date(number: str) -> date:
    return ric.get_birth_date(number)


def gender(number: str) -> str:
    return "M" if int(number[16]) % 2 else "F"


def mask(number: str | None) -> str:
    if not number:
        return ""
    if len(number) < 10:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]
