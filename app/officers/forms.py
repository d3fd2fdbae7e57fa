"""Unit and officer forms: input shape only; the rules live in officers/services.py."""

from __future__ import annotations

import io
import warnings

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from PIL import Image, UnidentifiedImageError
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from app.forms import CnDateField, CompleteForm
from app.labels import DEPARTURES, EDUCATIONS, EMPLOYMENT_STATUSES, ESTABLISHMENTS, UNIT_KINDS

PHOTO_MAX_BYTES = 2 * 1024 * 1024
PHOTO_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png"}
# A 2 MB PNG can declare 400 megapixels (a pixel bomb): the size is read from the header and checked
# before anything decodes the pixels (a 6000×4000 camera photo is 24 megapixels).
PHOTO_MAX_PIXELS = 40_000_000


def _int_or_none(value):
    if value in (None, "", "None"):
        return None
    return int(value)


class UnitForm(CompleteForm):
    optional_in_post = ("reminder_recipients", "enforcement_fields")
    name = StringField("单位名称", validators=[DataRequired("请填写单位名称"), Length(max=100)])
    reminder_recipients = StringField(
        "提醒接收人", validators=[Optional(), Length(max=2000)],
        description="电子邮件地址，用逗号分隔：本单位及下级单位人员的证件到期提醒发给他们；留空则发给上级单位的接收人")
    enforcement_fields = StringField(
        "执法类别", validators=[Optional(), Length(max=200, message="执法类别不能超过200个字")],
        description="本单位执法工作涉及的类别，用顿号分隔，写法与执法证上的“执法类别”一致（如 城市管理、市场监管）；"
                    "人员执法证的类别未全部覆盖时提示“需换证”。留空则不检查")
    kind = SelectField("单位类型", choices=list(UNIT_KINDS.items()))
    parent_id = SelectField("上级单位", coerce=_int_or_none, validate_choice=True)
    sort_order = IntegerField(
        "排序号",
        default=0,
        validators=[Optional(), NumberRange(-9999, 9999, "排序号应在 -9999 到 9999 之间")],
        description="数字小的排在前面",
    )


def read_photo(storage) -> tuple[bytes, str]:
    """The uploaded file's bytes and MIME type, checked by content (not by name): JPEG or PNG, ≤ 2 MB."""
    data = storage.read(PHOTO_MAX_BYTES + 1)
    if len(data) > PHOTO_MAX_BYTES:
        raise ValidationError("照片不能超过 2 MB")
    if not data:
        raise ValidationError("照片文件是空的")
    too_big = ValidationError(f"照片像素过大（超过 {PHOTO_MAX_PIXELS // 1_000_000:,} 百万像素），"
                              "请缩小后再上传")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:  # reads the header only
                fmt, pixels = img.format, img.width * img.height
                if pixels <= PHOTO_MAX_PIXELS:
                    img.verify()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise too_big from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ValidationError("照片文件无法识别，请上传 JPG 或 PNG 图片") from None
    if pixels > PHOTO_MAX_PIXELS:
        raise too_big
    if fmt not in PHOTO_FORMATS:
        raise ValidationError(f"照片格式为 {fmt}，只接受 JPG 或 PNG")
    return data, PHOTO_FORMATS[fmt]


class OfficerForm(CompleteForm):
    name = StringField(
        "姓名",
        validators=[DataRequired("请填写姓名"), Length(max=50, message="姓名不能超过50个字")],
    )
    id_number = StringField("身份证号", validators=[Length(max=30, message="身份证号应为18位")])
    unit_id = SelectField("单位", coerce=_int_or_none, validators=[DataRequired("请选择单位")])
    position = StringField("职务", validators=[Length(max=50, message="职务不能超过50个字")])
    establishment = SelectField(
        "编制类型", choices=list(ESTABLISHMENTS.items()), default="civil_servant"
    )
    education = SelectField("学历", choices=[("", "（未填）"), *EDUCATIONS.items()], default="")
    on_enforcement_post = BooleanField("在执法岗位", default=True)
    employment_status = SelectField(
        "在职状态", choices=list(EMPLOYMENT_STATUSES.items()), default="active"
    )
    status_changed_on = CnDateField(
        "状态变动日期", validators=[Optional()], description="在职状态改变时留空则记为今天"
    )
    post_since = CnDateField(
        "任执法岗位日期", validators=[Optional()],
        description="年度培训学时自该日起按比例计算；留空则按全年计算")
    retirement_basis = SelectField(
        "原法定退休年龄", choices=[("", "55岁（默认）"), ("50", "50岁")], default="", validate_choice=False,
        description="仅对女性适用：按2025年渐进式延迟退休规定计算退休日期")
    phone = StringField("联系电话", validators=[Length(max=30, message="联系电话不能超过30个字符")])
    employee_no = StringField("工号", validators=[Length(max=30, message="工号不能超过30个字符")])
    notes = TextAreaField("备注", render_kw={"rows": 3})
    photo = FileField("照片", description="JPG 或 PNG，不超过 2 MB，用于打印证书")
    remove_photo = BooleanField("删除现有照片")
    version = HiddenField()

    photo_data: tuple[bytes, str] | None = None

    def validate_photo(self, field):
        self.photo_data = None
        if field.data and getattr(field.data, "filename", ""):
            self.photo_data = read_photo(field.data)

    def officer_data(self) -> dict:
        """The fields save_officer understands."""
        return {
            "name": self.name.data or "",
            "id_number": (self.id_number.data or "").strip(),
            "unit_id": self.unit_id.data,
            "position": self.position.data or "",
            "establishment": self.establishment.data,
            "education": self.education.data or None,
            "on_enforcement_post": bool(self.on_enforcement_post.data),
            "employment_status": self.employment_status.data,
            "status_changed_on": self.status_changed_on.data,
            "post_since": self.post_since.data,
            "retirement_basis": self.retirement_basis.data or None,
            "phone": self.phone.data or "",
            "employee_no": self.employee_no.data or "",
            "notes": self.notes.data or "",
        }



class DepartureForm(FlaskForm):
    """离岗 on the officer page (app/officers/departures.py)."""

    kind = SelectField("离岗类型", choices=[("", "请选择"), *DEPARTURES.items()], default="",
                       validators=[DataRequired("请选择离岗类型")])
    on = CnDateField("离岗日期", validators=[DataRequired("请填写离岗日期")])
    document_no = StringField("文号", validators=[Optional(), Length(max=100, message="文号不能超过100个字")])
    version = HiddenField()


class TransferForm(FlaskForm):
    """调动 on the officer page (app/rules/transfers.py): to another unit of the organisation."""

    to_unit = SelectField("调入单位", coerce=_int_or_none, validators=[DataRequired("请选择调入单位")])
    on = CnDateField("调动日期", validators=[DataRequired("请填写调动日期")])
    document_no = StringField("文号", validators=[Optional(), Length(max=100, message="文号不能超过100个字")])
    reason = StringField("原因", validators=[Optional(), Length(max=200, message="原因不能超过200个字")])
    version = HiddenField()
