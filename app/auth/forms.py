from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp, ValidationError

from app.auth.passwords import problem
from app.forms import CompleteForm
from app.labels import ROLES


def strong_password(form, field) -> None:
    """The password policy of app/auth/passwords.py (length, common passwords, same characters)."""
    username = getattr(getattr(form, "username", None), "data", None)
    if field.data and (message := problem(field.data, username)):
        raise ValidationError(message)


class LoginForm(FlaskForm):
    username = StringField("用户名", validators=[DataRequired("请输入用户名"), Length(max=50)])
    password = PasswordField("密码", validators=[DataRequired("请输入密码"), Length(max=200)])


class UserForm(CompleteForm):
    optional_in_post = ("unit_id",)  # absent: the scope stays as it was
    username = StringField("用户名", validators=[DataRequired("请输入用户名"), Length(max=50),
                                              Regexp(r"^[A-Za-z0-9_.-]+$",
                                                     message="用户名只能包含字母、数字、点、下划线和连字符")])
    display_name = StringField("姓名", validators=[Optional(), Length(max=50)])
    role = SelectField("角色", choices=list(ROLES.items()))
    unit_id = SelectField("管辖范围", coerce=lambda v: None if v in (None, "", "None") else int(v),
                          validate_choice=True, description="该用户只能查看和管理此单位及其下级单位的人员")
    active = BooleanField("启用", default=True)
    password = PasswordField("密码（留空则不修改）", validators=[Optional(), Length(max=200), strong_password])
    confirm = PasswordField("确认密码", validators=[EqualTo("password", message="两次输入的密码不一致")])


class PasswordForm(FlaskForm):
    current = PasswordField("当前密码", validators=[DataRequired("请输入当前密码")])
    password = PasswordField("新密码", validators=[DataRequired("请输入新密码"), Length(max=200), strong_password])
    confirm = PasswordField("确认新密码", validators=[EqualTo("password", message="两次输入的密码不一致")])
