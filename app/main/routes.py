
from flask import current_app, render_template

from app import clock
from app.cases.services import count_not_ok
from app.main import bp
from app.officers.departures import count_open
from app.public.services import enabled as public_list_enabled
from app.reminders.services import last_run_info
from app.reports.forecast import DEFAULT_MONTHS, compute
from app.reports.trend import cached, cached_trend, spark, with_today
from app.rules import compliance

WINDOWS = (30, 60, 90)


@bp.route("/")
def dashboard():
    d = clock.today()
    p = compliance.Params.from_settings(d)
    windows = WINDOWS
    # the flags and the figures (officers, on post, certified, expiring in 30/60/90 days): one
    # statement — from the flag store (officer counts + flag_row), else the engine's officer_state
    everything = compliance.dashboard_counts(p, WINDOWS)
    counts = {f: everything[f] for f in compliance.FLAG_ORDER}
    officers_total, on_post_total, certified = (everything[k] for k in ("officers_total", "on_post", "certified"))
    expiring_counts = [everything[f"expiring_{w}"] for w in windows]
    reminder_run = last_run_info()
    case_problems = count_not_ok()
    # the last point is today's: the engine's counts above, the cards' own figures
    t = with_today(cached_trend(d, p.within), everything)
    charts = [
        spark(t["holders"], t["months"], title="持证执法人员（月末）", color="#198754"),
        spark(t["flags"], t["months"], title="未持证上岗＋证件即将到期（月末）", color="#dc3545"),
        spark(t["hours"], t["months"], title="培训认定学时（当月）", color="#0d6efd", unit="学时"),
    ]

    # 持证力量预测: two statements (units, cards), kept until the next audited write — the very
    # forecast the /forecast page shows (same key)
    forecast = cached("forecast", compute, d, DEFAULT_MONTHS, None)
    falling = sorted(forecast.below_two_within(6), key=lambda u: u.below_two_on)  # soonest first

    # the certificates on record and the open 注销 tasks after a departure: one statement
    certificates_total, cancel_open, cancel_overdue = count_open(d)
    return render_template("main/dashboard.html", falling=falling, cancel_open=cancel_open,
                           cancel_overdue=cancel_overdue, counts=counts, officers_total=officers_total,
                           on_post=on_post_total, certified=certified,
                           expiring=dict(zip(windows, expiring_counts, strict=True)), today=d,
                           certificates_total=certificates_total, reminder_run=reminder_run,
                           case_problems=case_problems, trend=t, charts=charts,
                           public_list_on=public_list_enabled())


@bp.route("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico on every site, whatever the page links."""
    return current_app.send_static_file("favicon.ico")
