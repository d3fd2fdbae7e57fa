"""法定退休年龄 under the 2025 law: the published tables (附件) row by row, and the date arithmetic."""

from datetime import date

import pytest

from app.retirement import add_months, retirement_age, retirement_date

# (birth year, month) → (years, months) of the statutory age, from the law's tables: the first
# rows, rows where a step turns, the last step and the cap, and the old age before the first step.
MEN = [
    ((1964, 12), (60, 0)), ((1960, 1), (60, 0)),
    ((1965, 1), (60, 1)), ((1965, 4), (60, 1)), ((1965, 5), (60, 2)), ((1965, 8), (60, 2)),
    ((1965, 9), (60, 3)), ((1965, 12), (60, 3)), ((1966, 1), (60, 4)), ((1966, 12), (60, 6)),
    ((1967, 1), (60, 7)), ((1968, 1), (60, 10)), ((1968, 9), (61, 0)), ((1970, 1), (61, 4)),
    ((1972, 5), (61, 11)), ((1972, 9), (62, 0)), ((1976, 4), (62, 10)), ((1976, 5), (62, 11)), ((1976, 8), (62, 11)),
    ((1976, 9), (63, 0)), ((1976, 12), (63, 0)), ((1990, 6), (63, 0)),
]
WOMEN_55 = [
    ((1969, 12), (55, 0)), ((1970, 1), (55, 1)), ((1970, 4), (55, 1)), ((1970, 5), (55, 2)),
    ((1971, 1), (55, 4)), ((1973, 9), (56, 0)), ((1977, 5), (56, 11)), ((1977, 9), (57, 0)), ((1981, 8), (57, 11)),
    ((1981, 9), (58, 0)), ((1995, 1), (58, 0)),
]
WOMEN_50 = [
    ((1974, 12), (50, 0)), ((1975, 1), (50, 1)), ((1975, 2), (50, 1)), ((1975, 3), (50, 2)),
    ((1975, 12), (50, 6)), ((1976, 1), (50, 7)), ((1976, 11), (51, 0)), ((1979, 11), (52, 6)), ((1980, 11), (53, 0)),
    ((1984, 9), (54, 11)), ((1984, 10), (54, 11)), ((1984, 11), (55, 0)), ((1990, 1), (55, 0)),
]


@pytest.mark.parametrize(("born", "age"), MEN)
def test_men(born, age):
    assert retirement_age(date(*born, 15), "M") == age
    assert retirement_age(date(*born, 15), "M", 50) == age  # a man's basis is always 60


@pytest.mark.parametrize(("born", "age"), WOMEN_55)
def test_women_cadres(born, age):
    assert retirement_age(date(*born, 1), "F") == age
    assert retirement_age(date(*born, 28), "F", 55) == age


@pytest.mark.parametrize(("born", "age"), WOMEN_50)
def test_women_basis_50(born, age):
    assert retirement_age(date(*born, 10), "F", 50) == age


@pytest.mark.parametrize(("birth", "gender", "basis", "retires"), [
    (date(1964, 12, 31), "M", None, date(2024, 12, 31)),      # before the steps: 60
    (date(1965, 1, 15), "M", None, date(2025, 2, 15)),        # 60y1m
    (date(1965, 1, 31), "M", None, date(2025, 2, 28)),        # no 31 February: the month's last day
    (date(1968, 1, 31), "M", None, date(2028, 11, 30)),       # 60y10m
    (date(1966, 12, 29), "M", None, date(2027, 6, 29)),       # 60y6m
    (date(1976, 9, 1), "M", None, date(2039, 9, 1)),          # 63
    (date(1970, 1, 31), "F", None, date(2025, 2, 28)),        # 55y1m
    (date(1972, 2, 29), "F", None, date(2027, 9, 29)),        # 55y7m from a leap day
    (date(1969, 12, 31), "F", None, date(2024, 12, 31)),      # 55
    (date(1975, 1, 31), "F", 50, date(2025, 2, 28)),          # 50y1m
    (date(1974, 12, 31), "F", 50, date(2024, 12, 31)),        # 50
    (date(1980, 2, 29), "F", 50, date(2032, 9, 29)),          # 52y7m: 61 months since 1975-01 → 31
])
def test_retirement_date(birth, gender, basis, retires):
    assert retirement_date(birth, gender, basis) == retires


def test_add_months_month_end():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert add_months(date(2026, 8, 31), 3) == date(2026, 11, 30)
    assert add_months(date(2026, 12, 15), 1) == date(2027, 1, 15)
    assert add_months(date(2026, 6, 15), 12) == date(2027, 6, 15)
