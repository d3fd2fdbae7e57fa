"""Training sessions, attendance and hours; the TRAINING_SHORTFALL flag joins the compliance engine."""

from flask import Blueprint

from app.rules import compliance
from app.rules.hours import shortfall_select

bp = Blueprint("training", __name__)

compliance.register_flag_builder(shortfall_select)
