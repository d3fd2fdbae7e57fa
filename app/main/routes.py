from datetime import date, timedelta

from flask import render_template
from sqlalchemy import and_, case, func, select

from app import compliance
from app.certificates.models import Certificate
from app.extensions import db
from app.main import bp
from app.officers.models import Officer
from app.reminders.services import last_run_info


def today() -> date:
    return date.today()


@bp.route("/")
def dashboard():
    d = today()
    p = compliance.Params.from_settings(d)
    counts = compliance.count_by_flag(p)
    active = Officer.employment_status == "active"
    on_post = and_(active, Officer.on_enforcement_post.is_(True))
    officers_total, on_post_total = db.session.execute(
        select(func.count(case((active, 1))), func.count(case((on_post, 1))))).one()
    eff = compliance.best_effective(d)
    windows = (30, 60, 90)
    certified, *expiring_counts = db.session.execute(
        select(func.count(), *[func.count(case((eff.c.expires_on <= d + timedelta(days=w), 1)))
                               for w in windows])
        .select_from(Officer).join(eff, eff.c.officer_id == Officer.id).where(on_post)).one()
    certificates_total = db.session.scalar(select(func.count()).select_from(Certificate))
    reminder_run = last_run_info()
    from app.cases.services import count_not_ok

    case_problems = count_not_ok()
    from app.main.trend import cached_trend, spark

    t = cached_trend(d, p.within)
    charts = [
        spark(t["holders"], t["months"], title="持证人数（月末）", color="#198754"),
        spark(t["flags"], t["months"], title="问题提示（未持证＋即将到期，月末）", color="#dc3545"),
        spark(t["hours"], t["months"], title="培训认定学时（当月）", color="#0d6efd", unit="学时"),
    ]
    return render_template("main/dashboard.html", counts=counts, officers_total=officers_total,
                           on_post=on_post_total, certified=certified,
                           expiring=dict(zip(windows, expiring_counts, strict=True)), today=d,
                           certificates_total=certificates_total, reminder_run=reminder_run,
                           case_problems=case_problems, trend=t, charts=charts)
