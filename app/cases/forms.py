"""The case form: input shape only; the rules live in cases/services.py."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import FieldList, StringField, TextAreaField
from wtforms.validators import Optional

from app.cases.services import split_numbers
from app.forms import CnDateField
from app.labels import CASE_REASONS, CASE_VERDICTS
from app.web.lists import Filter, FilterBar

NUMBER_SLOTS = 4


class CaseForm(FlaskForm):
    case_no = StringField("案号")
    title = StringField("案件名称")
    opened_on = CnDateField("立案日期", validators=[Optional()])
    decided_on = CnDateField("决定日期", validators=[Optional()])
    unit = StringField("承办单位")
    numbers = FieldList(StringField("执法证号"), min_entries=NUMBER_SLOTS)
    officer_names = StringField("执法人员", description="按决定书上的顺序，如“张三、李四”（可不填）")
    outcome = TextAreaField("处罚结果")

    def case_data(self) -> dict:
        numbers = [n for entry in self.numbers.entries for n in split_numbers(entry.data)]
        return {
            "case_no": (self.case_no.data or "").strip(), "title": self.title.data or "",
            "opened_on": self.opened_on.data, "decided_on": self.decided_on.data,
            "unit": self.unit.data or "", "officer_names": self.officer_names.data or "",
            "outcome": self.outcome.data or "", "certificate_numbers": numbers,
        }


CASE_FILTERS = FilterBar("cases", "cases.index", (
    Filter("year", label="年度", choices="years", all="全部年度"),
    Filter("unit", label="承办单位", choices="names", all="全部承办单位"),
    Filter("verdict", label="核查结果", choices=CASE_VERDICTS, all="全部结果"),
    Filter("reason", label="问题", choices=CASE_REASONS, all="全部问题"),
    Filter("q", "text", "搜索", placeholder="案号、案件名称、执法人员或完整证号")),
    form_class="row g-2 mb-3 d-print-none", action=True, submit="筛选", submit_class="btn-primary",
    clear="清除", clear_always=True, keep_sort=False)
