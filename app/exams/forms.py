"""Exam form: input shape only; the rules are in services."""

from wtforms import DecimalField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.forms import CnDateField, CompleteForm
from app.labels import EXAM_KINDS


class ExamForm(CompleteForm):
    optional_in_post = ("unit_id",)  # absent: the organising unit stays as it is (see the route)
    title = StringField("考试名称", validators=[DataRequired("请填写考试名称"), Length(max=200)])
    kind = SelectField("考试类型", choices=list(EXAM_KINDS.items()))
    held_on = CnDateField("考试日期", validators=[DataRequired("请填写考试日期")])
    max_score = DecimalField("满分", places=1, description="留空则为100分", validators=[
        Optional(), NumberRange(min=1, max=1000, message="满分应在1到1000之间")])
    pass_score = DecimalField("合格分数", places=1, description="留空则用系统设置的默认合格分数",
                              validators=[Optional(), NumberRange(min=0, max=1000, message="合格分数应在0到1000之间")])
    unit_id = SelectField("主办单位", coerce=int, default=0,
                          description="主办单位及其下级、上级单位的人员能看到这场考试；“全单位”则人人可见")
    makeup_of_id = SelectField("补考对应考试", coerce=int, default=0,
                               description="补考时选择原考试；考试类型随原考试")
