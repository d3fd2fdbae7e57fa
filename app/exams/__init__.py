"""Exams and results (资格考试, 补考)."""

from flask import Blueprint

bp = Blueprint("exams", __name__)
