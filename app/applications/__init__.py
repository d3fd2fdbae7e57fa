"""申请审批: applications for a card (申领, 换证, 补证, 注销) and their steps (docs/domain.md)."""

from flask import Blueprint

bp = Blueprint("applications", __name__)
