"""Online exams (机考): the question bank, papers, access codes, the exam room and scoring."""

from flask import Blueprint

bp = Blueprint("online", __name__)
