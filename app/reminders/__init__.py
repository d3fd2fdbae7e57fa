"""Expiring-certificate reminders: the 证件到期提醒 page and `flask reminders send`.

Blueprint only: routes are imported by create_app (avoids import cycles).
"""

from flask import Blueprint

bp = Blueprint("reminders", __name__)
