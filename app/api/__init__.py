"""The token API, /api/v1 (JSON): officers, certificates on a date, flags; applications (申请审批).

`bp` is a flask-smorest Blueprint so its views document themselves in the OpenAPI document;
app/api/spec.py binds it to the app (create_app calls spec.init_app), not BLUEPRINT_MODULES.
"""

from flask_smorest import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1",
               description="执法人员、证件状态与问题提示（只读），证件申请审批（Authorization: Bearer 令牌）")
