"""The audit log page (/audit, admins): a page above the list kit (app/web), apart from the
writer of the rows (app/audit), which every floor down to the kit uses.

Blueprint only (named "audit": its endpoints are audit.index, audit.index_xlsx); routes are
imported by create_app."""

from flask import Blueprint

bp = Blueprint("audit", __name__)
