from datetime import date

import pytest

from app import idnumber


def test_valid_number_with_x_and_lowercase():
    # 11010519491231002X is the GB 11643 example number.
    assert idnumber.validate("11010519491231002x") == "11010519491231002X"
    assert idnumber.gender("11010519491231002X") == "F"
    assert idnumber.birth_date("11010519491231002X") == date(1949, 12, 31)


def test_chongqing_county_created_after_birth_year_is_accepted():
    # 500108 (南岸区 since 1997) for someone born in 1985: stdnum's validate() would refuse this.
    body = "50010819850312001"
    from stdnum.cn import ric

    number = body + ric.calc_check_digit(body + "0")
    assert idnumber.validate(number) == number


@pytest.mark.parametrize(("value", "message"), [
    ("11010519491231002", "18位"),
    ("110105194912310021", "校验位"),
    ("990105194912310021", "省份代码"),
    ("110105194902300021", "出生日期"),
    ("11010519491231A02X", "只能包含数字"),
])
def test_invalid_numbers_say_what_is_wrong(value, message):
    with pytest.raises(idnumber.IdNumberError, match=message):
        idnumber.validate(value)


def test_mask_keeps_first_six_and_last_four():
    assert idnumber.mask("50010319850312123X") == "500103********123X"


def test_validator_gives_what_validate_gives_once_per_value():
    """The imports' memoised check: the same number or the same message as validate()."""
    today = date(2026, 6, 15)
    check = idnumber.validator(today)
    for value in ["11010519491231002x", "11010519491231002X", "110105194912310021", "1101051949",
                  "11010520300101002X", "99010519491231002X", "11010519491231002x"]:
        got = check(value)
        try:
            expected = idnumber.validate(value, today=today)
        except idnumber.IdNumberError as exc:
            assert isinstance(got, idnumber.IdNumberError) and str(got) == str(exc), value
        else:
            assert got == expected, value
    assert check("1101051949") is check("1101051949")
