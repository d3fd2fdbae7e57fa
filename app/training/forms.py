"""Training forms: input shape only; the rules are in services."""

from wtforms import DecimalField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.forms import CnDateField, CompleteForm
from app.labels import TRAINING_CATEGORIES, TRAINING_MODES


class SessionForm(CompleteForm):
    optional_in_post = ("unit_id",)  # absent: the organising unit stays as it is (see the route)
    title = StringField("培训名称", validators=[DataRequired("请填写培训名称"), Length(max=200)])
    category = SelectField("培训类别", choices=list(TRAINING_CATEGORIES.items()))
    online = SelectField("培训方式", choices=list(TRAINING_MODES.items()), default="offline",
                         description="线上学时超过年度上限的部分不计入")
    held_on = CnDateField("培训日期", validators=[DataRequired("请填写培训日期")])
    hours = DecimalField("学时", places=1, validators=[
        InputRequired("请填写学时（大于0的数字）"), NumberRange(min=0.5, max=1000, message="学时应在0.5到1000之间")])
    location = StringField("地点", validators=[Optional(), Length(max=200)])
    organiser = StringField("组织单位", validators=[Optional(), Length(max=100)])
    unit_id = SelectField("主办单位", coerce=int, default=0,
                          description="主办单位及其下级、上级单位的人员能看到这次培训；“全单位”则人人可见")
    lecturer = StringField("授课人", validators=[Optional(), Length(max=100)])
    notes = TextAreaField("备注", validators=[Optional()])
