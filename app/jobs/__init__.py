"""Background jobs (huey): big documents and exports, reminders, backups; /jobs/<id>, /healthz."""

from flask import Blueprint

bp = Blueprint("jobs", __name__)
