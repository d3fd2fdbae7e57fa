"""Training sessions, attendance and hours; the TRAINING_SHORTFALL flag joins the compliance engine."""

from flask import Blueprint

bp = Blueprint("training", __name__)


def _register_flag() -> None:
    from app.rules import compliance
    from app.rules.hours import shortfall_select

    compliance.register_flag_builder(shortfall_select)


_register_flag()
