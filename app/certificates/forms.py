"""Certificate forms: input shape only; the rules live in certificates/services.py."""

from __future__ import annotations

from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.forms import CnDateField, CompleteForm
from app.labels import CERT_KINDS, CERT_STATUSES


class CertificateForm(CompleteForm):
    kind = SelectField("证件类型", choices=list(CERT_KINDS.items()), default="enforcement")
    number = StringField(
        "证件编号",
        validators=[
            DataRequired("请填写证件编号"),
            Length(max=50, message="证件编号不能超过50个字符"),
        ],
    )
    issuing_authority = StringField(
        "发证机关", validators=[Length(max=100, message="发证机关不能超过100个字")]
    )
    issued_on = CnDateField("发证日期", validators=[DataRequired("请填写发证日期")])
    expires_on = CnDateField(
        "有效期至",
        validators=[Optional()],
        description="留空则按发证日期和系统设置的默认有效期计算（发证日期起若干年，含发证当天）",
        render_kw={"data-expiry-from": "issued_on"},
    )
    categories = StringField(
        "执法类别", validators=[Length(max=200, message="执法类别不能超过200个字")]
    )
    area = StringField("执法区域", validators=[Length(max=200, message="执法区域不能超过200个字")])
    status = SelectField(
        "初始状态",
        choices=[("valid", CERT_STATUSES["valid"]), ("applying", CERT_STATUSES["applying"])],
        default="valid",
    )
    document_no = StringField("文号", validators=[Length(max=100, message="文号不能超过100个字符")])
    version = HiddenField()

    def certificate_data(self) -> dict:
        return {
            "kind": self.kind.data,
            "number": (self.number.data or "").strip(),
            "issuing_authority": (self.issuing_authority.data or "").strip(),
            "issued_on": self.issued_on.data,
            "expires_on": self.expires_on.data,
            "categories": (self.categories.data or "").strip(),
            "area": (self.area.data or "").strip(),
        }


class ActionForm(CompleteForm):
    """One lifecycle action; the replacement fields are used by `replace` only."""

    optional_in_post = ("new_number", "new_issued_on", "new_expires_on")

    effective_on = CnDateField("生效日期", validators=[DataRequired("请填写生效日期")])
    reason = TextAreaField(
        "原因",
        validators=[DataRequired("请填写原因"), Length(max=500, message="原因不能超过500字")],
        render_kw={"rows": 2},
    )
    document_no = StringField("文号", validators=[Length(max=100, message="文号不能超过100个字符")])
    new_number = StringField(
        "新证件编号", validators=[Length(max=50, message="证件编号不能超过50个字符")]
    )
    new_issued_on = CnDateField("新证发证日期", validators=[Optional()])
    new_expires_on = CnDateField(
        "新证有效期至", validators=[Optional()],
        description="留空则按新证发证日期和设置的默认有效期计算",
        render_kw={"data-expiry-from": "new_issued_on"},
    )
    version = HiddenField()
