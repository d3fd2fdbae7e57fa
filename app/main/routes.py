from datetime import date, timedelta

from flask import render_template
from sqlalchemy import func, select

from app import compliance
from app.certificates.models import Certificate
from app.extensions import db
from app.main import bp
from app.officers.models import Officer


def today() -> date:
    return date.today()


@bp.route("/")
def dashboard():
    d = today()
    p = compliance.Params.from_settings(d)
    counts = compliance.count_by_flag(p)
    officers_total = db.session.scalar(
        select(func.count()).select_from(Officer).where(Officer.employment_status == "active"))
    on_post = db.session.scalar(select(func.count()).select_from(Officer).where(
        Officer.employment_status == "active", Officer.on_enforcement_post.is_(True)))
    certified = compliance.certified_count(d)
    eff = compliance.best_effective(d)
    expiring = {}
    for days in (30, 60, 90):
        expiring[days] = db.session.scalar(
            select(func.count()).select_from(Officer).join(eff, eff.c.officer_id == Officer.id).where(
                Officer.employment_status == "active", Officer.on_enforcement_post.is_(True),
                eff.c.expires_on <= d + timedelta(days=days)))
    certificates_total = db.session.scalar(select(func.count()).select_from(Certificate))
    from app.reminders.services import last_run_info

    reminder_run = last_run_info()
    return render_template("main/dashboard.html", counts=counts, officers_total=officers_total,
                           on_post=on_post, certified=certified, expiring=expiring, today=d,
                           certificates_total=certificates_total, reminder_run=reminder_run)
