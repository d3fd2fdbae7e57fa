"""Forms of the question bank (input shape only; the rules are in bank.py)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, SelectField, StringField, TextAreaField

from app.forms import CompleteForm
from app.labels import QUESTION_TYPES


class QuestionForm(CompleteForm):
    type = SelectField("题型", choices=list(QUESTION_TYPES.items()))
    stem = TextAreaField("题干")
    option_a = StringField("选项A")
    option_b = StringField("选项B")
    option_c = StringField("选项C")
    option_d = StringField("选项D")
    option_e = StringField("选项E")
    option_f = StringField("选项F")
    answer = StringField("答案", description="单选：一个字母；多选：两个以上字母，如 ABD；判断：对/错")
    points = StringField("分值（组卷时的默认分值，可空）")
    category = StringField("类别", description="如 公共法律知识、专门法律知识")
    basis = StringField("依据", description="法条出处，可空")


class BankImportForm(FlaskForm):
    file = FileField("题库文件（.xlsx 或 .csv）")
    dry_run = BooleanField("只校验，不写入")
