"""marshmallow schemas of /api/v1: the query parameters it reads and the JSON it answers
(flask-smorest turns them into the OpenAPI document)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.rules.compliance import FLAG_ORDER
from app.web.args import PAGE_MAX

STATES = ["valid", "not_yet_valid", "expired", "applying", "suspended", "revoked", "cancelled", "lost",
          "replaced"]
KINDS = ["enforcement", "supervision"]
MAX_PER_PAGE = 200
DEFAULT_PER_PAGE = 50


class OfficersArgs(Schema):
    unit = fields.String(metadata={"description": "单位名称：该单位及其全部下级单位（在调用者的范围内）"})
    q = fields.String(metadata={"description": "姓名（部分匹配）或完整的 18 位身份证号"
                                               "（查看员的令牌不能按身份证号搜索：403；"
                                               "按身份证号搜索每小时有次数限制：429，每次记入操作日志）"})
    flag = fields.String(validate=validate.OneOf(FLAG_ORDER), metadata={"description": "只看带此问题提示的人员"})
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=PAGE_MAX),
                          metadata={"description": f"页码，从 1 开始，至多 {PAGE_MAX}"})
    per_page = fields.Integer(load_default=DEFAULT_PER_PAGE, validate=validate.Range(min=1),
                              metadata={"description": f"每页条数，默认 {DEFAULT_PER_PAGE}，"
                                                       f"超过 {MAX_PER_PAGE} 按 {MAX_PER_PAGE}"})


class CertificateArgs(Schema):
    on = fields.String(metadata={"format": "date", "example": "2026-06-15",
                                 "description": "日期 YYYY-MM-DD（默认今天）"})


class FlagsArgs(Schema):
    unit = fields.String(metadata={"description": "单位名称（只看该单位，同 flask report flags --unit）"})
    flag = fields.String(validate=validate.OneOf(FLAG_ORDER), metadata={"description": "只看这一种问题"})


class OfficerItem(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    unit = fields.String(required=True)
    id_number_masked = fields.String(required=True, metadata={"example": "110101********1234"})
    on_post = fields.Boolean(required=True, metadata={"description": "在职且在执法岗位"})
    flags = fields.List(fields.String(validate=validate.OneOf(FLAG_ORDER)), required=True)


class OfficerPage(Schema):
    items = fields.List(fields.Nested(OfficerItem), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


class CertificateKey(Schema):
    """What names a certificate: its number and kind (the fields the schemas below start with)."""

    number = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))


class CertificateItem(CertificateKey):
    status = fields.String(required=True, metadata={"description": "证件当前状态"})
    issued_on = fields.Date(required=True)
    expires_on = fields.Date(required=True)


class OfficerDetail(OfficerItem):
    certificates = fields.List(fields.Nested(CertificateItem), required=True)


class OfficerRef(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    unit = fields.String(required=True)


class CertificateState(CertificateKey):
    officer = fields.Nested(OfficerRef, required=True)
    state_on = fields.String(required=True, validate=validate.OneOf(STATES))
    effective = fields.Boolean(required=True, metadata={"description": "该日证件是否有效（state_on 为 valid）"})


class Flag(Schema):
    """One object of `flask report flags --format json`."""

    flag = fields.String(required=True, validate=validate.OneOf(FLAG_ORDER))
    reason = fields.String(allow_none=True)
    officer_id = fields.Integer(allow_none=True)
    name = fields.String(allow_none=True)
    id_number_masked = fields.String(allow_none=True)
    unit = fields.String(required=True)
    certificate_number = fields.String(allow_none=True)
    expires_on = fields.String(allow_none=True, metadata={"format": "date"})
    days_left = fields.Integer(allow_none=True)
    year = fields.Integer(metadata={"description": "TRAINING_SHORTFALL：学时不足的年度"})
    missing = fields.List(fields.Nested(lambda: MissingGroup()), metadata={
        "description": "TRAINING_SHORTFALL：低于最低学时的内容类别及尚缺学时"})
    total_gap = fields.Float(metadata={"description": "TRAINING_SHORTFALL：距总学时尚缺的学时（达到为0）"})


class MissingGroup(Schema):
    group = fields.String(required=True, metadata={"example": "公共法律知识"})
    hours = fields.Float(required=True, metadata={"example": 5})


class Error(Schema):
    error = fields.String(required=True, metadata={"example": "not_found"})
    message = fields.String(required=True, metadata={"example": "证号不存在"})
