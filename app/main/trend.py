"""The dashboard's twelve-month trend: holders, flags and training hours at each month's end,
computed set-wise (three statements whatever the number of officers) against a 12-row months
table, and drawn as small inline SVG charts (no JavaScript library).

History the database does not keep is read as follows: a certificate that is not valid today
stopped being valid on the date of its latest status event (earlier suspensions of a certificate
valid again today are not replayed); employment and post are today's. "Flags" at a month's end
are the date-driven ones: on-post officers recorded by then without an effective certificate
(未持证), and holders whose certificate expires within the reminder window (即将到期).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from markupsafe import Markup, escape
from sqlalchemy import case, func, select

from app.certificates.models import Certificate, CertificateEvent
from app.extensions import db
from app.officers.models import Officer
from app.training.models import Attendance, TrainingSession


@dataclass
class Month:
    start: date
    end: date              # the month's last day, or today for the current month

    @property
    def label(self) -> str:
        return f"{self.start.year}年{self.start.month}月"


def last_months(today: date, n: int = 12) -> list[Month]:
    out = []
    y, m = today.year, today.month
    for _ in range(n):
        start = date(y, m, 1)
        nxt = date(y + (m == 12), m % 12 + 1, 1)
        out.append(Month(start, min(nxt - timedelta(days=1), today)))
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return out[::-1]


_cache: dict[tuple, tuple[float, dict]] = {}


def cached_trend(today: date, within: int = 90) -> dict:
    """trend(), kept for TREND_CACHE_SECONDS (default 300; 0 when testing) per process: a
    twelve-month picture need not be recomputed on every visit to the dashboard."""
    import time as _time

    from flask import current_app

    ttl = current_app.config.get("TREND_CACHE_SECONDS", 0 if current_app.testing else 300)
    key = (str(db.engine.url), today, within)
    now = _time.monotonic()
    hit = _cache.get(key)
    if ttl and hit and now - hit[0] < ttl:
        return hit[1]
    value = trend(today, within)
    if ttl:
        _cache.clear()
        _cache[key] = (now, value)
    return value


def _first(col, bounds: list, *, strict: bool = False):
    """The index of the first boundary `col` is ≤ (or <, `strict`) — 12 when none: a month bucket
    computed in the same single scan, so no months × rows join is needed."""
    # Most rows fall past the last boundary: test that first, one comparison instead of twelve.
    past = (col >= bounds[-1]) if strict else (col > bounds[-1])
    whens = [((col < b) if strict else (col <= b), i) for i, b in enumerate(bounds)]
    return case((past, len(bounds)), *whens, else_=len(bounds))


def trend(today: date, within: int = 90) -> dict:
    """{months, holders, flags, unlicensed, expiring, hours} — lists of 12 values, oldest first.
    Holders are counted by certificate (an officer holding two effective enforcement
    certificates at once counts twice)."""
    months = last_months(today)
    ends = [m.end for m in months]
    n = len(months)
    on_post = Officer.on_post
    # When a certificate that is not valid today reached its current status (aggregated once, for
    # those certificates only; one with no history at all was never held).
    left = (select(CertificateEvent.certificate_id, func.max(CertificateEvent.effective_on).label("left_on"))
            .join(Certificate, Certificate.id == CertificateEvent.certificate_id)
            .where(Certificate.status != "valid").group_by(CertificateEvent.certificate_id).subquery("left_valid"))
    left_on = func.coalesce(left.c.left_on, date(1900, 1, 1))
    # 1: enforcement certificates bucketed by the month from which they are held (bi), no longer
    # held because expired (bx) or revoked/suspended/... (bl), and expiring within the window (bh).
    bi = _first(Certificate.issued_on, ends)
    bx = _first(Certificate.expires_on, ends, strict=True)  # not held once expires_on < D
    bl = case((Certificate.status == "valid", n), else_=_first(left_on, ends))
    bh = _first(Certificate.expires_on, [d + timedelta(days=within) for d in ends])
    post = case((on_post, 1), else_=0)
    per_cert = (select(bi.label("bi"), bx.label("bx"), bl.label("bl"), bh.label("bh"), post.label("post"))
                .select_from(Certificate).join(Officer, Officer.id == Certificate.officer_id)
                .outerjoin(left, left.c.certificate_id == Certificate.id)
                .where(Certificate.kind == "enforcement", Certificate.status != "applying",
                       Certificate.issued_on <= ends[-1], Certificate.expires_on >= ends[0])
                .subquery("per_cert"))
    c = per_cert.c
    groups = db.session.execute(
        select(c.bi, c.bx, c.bl, c.bh, c.post, func.count()).group_by(c.bi, c.bx, c.bl, c.bh, c.post)).all()
    holders, expiring, post_holders = [0] * n, [0] * n, [0] * n
    for i_from, x_from, l_from, h_from, is_post, count in groups:
        for k in range(i_from, min(x_from, l_from, n)):
            holders[k] += count
            post_holders[k] += count if is_post else 0
            expiring[k] += count if k >= h_from else 0
    # 2: on-post officers by the month from which they were on record
    recorded_from = _first(Officer.created_at, [datetime.combine(d + timedelta(days=1), time()) for d in ends],
                           strict=True)
    recorded = [0] * (n + 1)
    for k, count in db.session.execute(select(recorded_from, func.count()).where(on_post).group_by(recorded_from)):
        recorded[k] += count
    # 3: training hours credited, by the month the session was held
    per_session = (select(Attendance.session_id, func.sum(Attendance.credited_hours).label("h"))
                   .join(TrainingSession, TrainingSession.id == Attendance.session_id)
                   .where(TrainingSession.held_on.between(months[0].start, ends[-1]))
                   .group_by(Attendance.session_id).subquery())
    month_of = _first(TrainingSession.held_on, ends)
    hours = dict(db.session.execute(
        select(month_of, func.sum(per_session.c.h))
        .join(per_session, per_session.c.session_id == TrainingSession.id).group_by(month_of)).all())
    out = {"months": [m.label for m in months], "holders": holders, "expiring": expiring,
           "unlicensed": [], "flags": [], "hours": []}
    on_record = 0
    for k in range(n):
        on_record += recorded[k]
        unl = max(on_record - post_holders[k], 0)
        out["unlicensed"].append(unl)
        out["flags"].append(unl + expiring[k])
        out["hours"].append(round(float(hours.get(k) or 0), 1))
    return out


def spark(values: list[float], labels: list[str], *, title: str, color: str, unit: str = "",
          width: int = 320, height: int = 90) -> Markup:
    """A small line chart as inline SVG: the line, a dot per month, first/last month names, the
    latest value; each point has a <title> for hovering."""
    pad_l, pad_r, pad_t, pad_b = 6, 6, 18, 16
    w, h = width - pad_l - pad_r, height - pad_t - pad_b
    hi = max(values) if values and max(values) > 0 else 1
    step = w / max(len(values) - 1, 1)
    pts = [(pad_l + i * step, pad_t + h - (v / hi) * h) for i, v in enumerate(values)]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
    fmt = (lambda v: f"{v:g}") if unit else (lambda v: f"{int(v)}")
    dots = "".join(
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{color}"><title>{escape(lab)}：{fmt(v)}{unit}</title></circle>'
        for (x, y), v, lab in zip(pts, values, labels, strict=True))
    last = fmt(values[-1]) + unit if values else ""
    svg = (
        f'<svg class="trend-chart" role="img" viewBox="0 0 {width} {height}" width="100%" '
        f'aria-label="{escape(title)}，最近12个月">'
        f'<title>{escape(title)}</title>'
        f'<text x="{pad_l}" y="12" font-size="11" fill="#6c757d">{escape(title)}</text>'
        f'<text x="{width - pad_r}" y="12" font-size="12" text-anchor="end" font-weight="bold" fill="{color}">{escape(last)}</text>'
        f'<line x1="{pad_l}" y1="{pad_t + h}" x2="{width - pad_r}" y2="{pad_t + h}" stroke="#dee2e6"/>'
        f'<polyline points="{line}" fill="none" stroke="{color}" stroke-width="2"/>{dots}'
        f'<text x="{pad_l}" y="{height - 3}" font-size="10" fill="#6c757d">{escape(labels[0] if labels else "")}</text>'
        f'<text x="{width - pad_r}" y="{height - 3}" font-size="10" text-anchor="end" fill="#6c757d">{escape(labels[-1] if labels else "")}</text>'
        "</svg>")
    return Markup(svg)
