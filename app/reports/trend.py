"""The dashboard's twelve-month trend: certified officers, the two date-driven flags and training
hours at each month's end, drawn as small inline SVG charts (no JavaScript library).

Each month's end D is judged as the compliance engine (app/rules/compliance.py) judges today, from the
dated history: an officer counts at D when on an enforcement post then (on the post, active — or
left after D, by status_changed_on — and took the post, post_since, on or before D); a certificate
is effective at D when issued_on ≤ D ≤ expires_on and it was valid then (a certificate not valid
today stopped being valid on the date of its latest status event; earlier suspensions of a
certificate valid again today are not replayed). 持证 = officers on post with an effective
enforcement certificate (the card 持证执法人员); 未持证 = officers on post without one
(UNLICENSED); 即将到期 = holders whose effective certificate expiring last does so within the
window (EXPIRING). The last point is not reconstructed: it is the engine's own count of today,
the very figures of the cards (with_today()).
"""

from __future__ import annotations

import time as _time
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app, g, has_request_context
from markupsafe import Markup, escape
from sqlalchemy import and_, case, func, or_, select

from app import scope
from app.extensions import db
from app.models.audit import AuditEvent
from app.models.certificates import Certificate, CertificateEvent
from app.models.officers import Officer
from app.models.training import Attendance, TrainingSession


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


_cache: dict[tuple, tuple[float, object]] = {}
_CACHE_ENTRIES = 64  # a few days, scopes and pictures per process


# Audited actions that change no data (app/labels.py AUDIT_ACTIONS): a login, an export, a print,
# an ID-number search or a certificate check is audited too, but must not clear the pictures —
# under load these are most of the audit rows.
READ_ONLY_ACTIONS = ("login", "login_failed", "logout", "export", "print", "search", "verify")


def _last_change() -> tuple:
    """The newest audit row's id and time among the actions that change data (not
    READ_ONLY_ACTIONS): every write is audited in its own transaction (app/audit), so this moves
    whenever officers, certificates or training change — in every process — and not on a mere
    export or login (one statement, walking the primary key back from the newest row). The time
    too, because an id can come back: after `flask restore` of an older backup
    (or tables emptied, as the tests do between tests) SQLite hands out the same ids again, and a
    picture kept for the old rows must not be taken for the new ones. Read once per request."""
    if has_request_context() and "_last_change" in g:
        return g._last_change
    newest = (select(AuditEvent.id, AuditEvent.at).where(AuditEvent.action.not_in(READ_ONLY_ACTIONS))
              .order_by(AuditEvent.id.desc()).limit(1)
              .execution_options(scope_all=True))
    value = tuple(db.session.execute(newest).first() or (0, None))
    if has_request_context():
        g._last_change = value
    return value


def cached(name: str, compute, *args):
    """compute(*args), kept per process until the next audited write (or TREND_CACHE_SECONDS,
    default 300; 0 when testing), separately for each user scope (app/scope.py): the dashboard's
    pictures need not be recomputed on every visit, and a branch never gets another's figures."""
    ttl = current_app.config.get("TREND_CACHE_SECONDS", 0 if current_app.testing else 300)
    if not ttl:
        return compute(*args)
    key = (name, str(db.engine.url), scope.scope_unit_id(), *args, _last_change())
    now = _time.monotonic()
    hit = _cache.get(key)
    if hit and now - hit[0] < ttl:
        return hit[1]
    value = compute(*args)
    if len(_cache) >= _CACHE_ENTRIES:
        _cache.clear()
    _cache[key] = (now, value)
    return value


def cached_trend(today: date, within: int = 90) -> dict:
    """trend(), kept until the next audited write (see `cached`)."""
    return cached("trend", trend, today, within)


def with_today(t: dict, figures: dict) -> dict:
    """The trend with its last point (today) set from the compliance engine's counts of today —
    the dashboard's cards (`figures`: compliance.dashboard_counts — from the flag store when fresh)."""
    out = dict(t)
    now = {"holders": figures["certified"], "unlicensed": figures["UNLICENSED"], "expiring": figures["EXPIRING"]}
    now["flags"] = now["unlicensed"] + now["expiring"]
    for key, value in now.items():
        out[key] = [*t[key][:-1], value]
    return out


def _first(col, bounds: list, *, strict: bool = False):
    """The index of the first boundary `col` is ≤ (or <, `strict`) — 12 when none: a month bucket
    computed in the same single scan, so no months × rows join is needed."""
    past = (col >= bounds[-1]) if strict else (col > bounds[-1])
    whens = [((col < b) if strict else (col <= b), i) for i, b in enumerate(bounds)]
    return case((past, len(bounds)), *whens, else_=len(bounds))


def _on_post_at(d):
    """Officer on an enforcement post at the end of day `d` (a SQL date expression)."""
    return and_(Officer.on_enforcement_post.is_(True),
                or_(Officer.employment_status == "active",
                    and_(Officer.status_changed_on.is_not(None), Officer.status_changed_on > d)),
                or_(Officer.post_since.is_(None), Officer.post_since <= d))


def trend(today: date, within: int = 90) -> dict:
    """{months, holders, flags, unlicensed, expiring, hours} — lists of 12 values, oldest first;
    officers counted once each (see the module's docstring)."""
    months = last_months(today)
    ends = [m.end for m in months]
    n = len(months)
    # When a certificate that is not valid today reached its current status (aggregated once, for
    # those certificates only; one with no history at all was never held).
    left = (select(CertificateEvent.certificate_id, func.max(CertificateEvent.effective_on).label("left_on"))
            .join(Certificate, Certificate.id == CertificateEvent.certificate_id)
            .where(Certificate.status != "valid").group_by(CertificateEvent.certificate_id).subquery("left_valid"))
    c = Certificate
    # 1: per officer (one row each, grouped in the certificate index's officer order: no sort),
    # for each month's end the expiry of the effective enforcement certificate expiring last
    # there — twelve columns, one pass over the certificates instead of one per month
    eff = [func.max(case((and_(c.issued_on <= d, c.expires_on >= d,
                                or_(c.status == "valid", func.coalesce(left.c.left_on, date(1900, 1, 1)) > d)),
                           c.expires_on))).label(f"e{k}")
           for k, d in enumerate(ends)]
    per_officer = (select(c.officer_id, *eff)
                   .outerjoin(left, left.c.certificate_id == c.id)
                   .where(c.kind == "enforcement", c.status != "applying",
                          c.issued_on <= ends[-1], c.expires_on >= ends[0])
                   .group_by(c.officer_id).subquery("held"))
    # then per month: those on post at its end holding one, and of them those expiring within the window
    figures = []
    for k, d in enumerate(ends):
        ek = per_officer.c[f"e{k}"]
        holds = and_(ek.is_not(None), _on_post_at(d))
        figures += [func.count(case((holds, 1))),
                    func.count(case((and_(holds, ek <= d + timedelta(days=within)), 1)))]
    row = db.session.execute(select(*figures).select_from(per_officer)
                             .join(Officer, Officer.id == per_officer.c.officer_id)).one()
    holders, expiring = list(row[0::2]), list(row[1::2])
    # 2: officers on post at each month's end (one pass over the officers)
    on_post = list(db.session.execute(
        select(*(func.count(case((_on_post_at(d), 1))) for d in ends)).select_from(Officer)).one())
    # 3: training hours credited, by the month the session was held
    per_session = (select(Attendance.session_id, func.sum(Attendance.credited_hours).label("h"))
                   .join(TrainingSession, TrainingSession.id == Attendance.session_id)
                   .where(TrainingSession.held_on.between(months[0].start, ends[-1]))
                   .group_by(Attendance.session_id).subquery())
    month_of = _first(TrainingSession.held_on, ends)
    hours = dict(db.session.execute(
        select(month_of, func.sum(per_session.c.h))
        .join(per_session, per_session.c.session_id == TrainingSession.id).group_by(month_of)).all())
    out = {"months": [mo.label for mo in months], "holders": holders, "expiring": expiring,
           "unlicensed": [], "flags": [], "hours": []}
    for k in range(n):
        unl = on_post[k] - holders[k]
        out["unlicensed"].append(unl)
        out["flags"].append(unl + expiring[k])
        out["hours"].append(round(float(hours.get(k) or 0), 1))
    return out


def spark(values: list[float], labels: list[str], *, title: str, color: str, unit: str = "",
          width: int = 320, height: int = 90, caption: str = "最近12个月",
          threshold: float | None = None) -> Markup:
    """A small line chart as inline SVG: the line, a dot per month, first/last month names, the
    latest value; each point has a <title> for hovering. `threshold`: a dashed line at that value
    (the forecast's two holders)."""
    pad_l, pad_r, pad_t, pad_b = 6, 6, 18, 16
    w, h = width - pad_l - pad_r, height - pad_t - pad_b
    hi = max([*values, threshold or 0]) if values and max([*values, threshold or 0]) > 0 else 1
    step = w / max(len(values) - 1, 1)
    pts = [(pad_l + i * step, pad_t + h - (v / hi) * h) for i, v in enumerate(values)]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
    fmt = (lambda v: f"{v:g}") if unit else (lambda v: f"{int(v)}")
    dots = "".join(
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{color}">'
        f'<title>{escape(lab)}：{fmt(v)}{unit}</title></circle>'
        for (x, y), v, lab in zip(pts, values, labels, strict=True))
    last = fmt(values[-1]) + unit if values else ""
    mark = ""
    if threshold is not None:
        ty = pad_t + h - (threshold / hi) * h
        mark = (f'<line x1="{pad_l}" y1="{ty:.1f}" x2="{width - pad_r}" y2="{ty:.1f}" stroke="#adb5bd" '
                f'stroke-dasharray="4 3"><title>{fmt(threshold)}{unit}</title></line>')
    svg = (
        f'<svg class="trend-chart" role="img" viewBox="0 0 {width} {height}" width="100%" '
        f'aria-label="{escape(title)}，{escape(caption)}">'
        f'<title>{escape(title)}</title>'
        f'<text x="{pad_l}" y="12" font-size="11" fill="#6c757d">{escape(title)}</text>'
        f'<text x="{width - pad_r}" y="12" font-size="12" text-anchor="end" font-weight="bold" fill="{color}">'
        f'{escape(last)}</text>'
        f'<line x1="{pad_l}" y1="{pad_t + h}" x2="{width - pad_r}" y2="{pad_t + h}" stroke="#dee2e6"/>'
        f'{mark}<polyline points="{line}" fill="none" stroke="{color}" stroke-width="2"/>{dots}'
        f'<text x="{pad_l}" y="{height - 3}" font-size="10" fill="#6c757d">{escape(labels[0] if labels else "")}</text>'
        f'<text x="{width - pad_r}" y="{height - 3}" font-size="10" text-anchor="end" fill="#6c757d">'
        f'{escape(labels[-1] if labels else "")}</text>'
        "</svg>")
    return Markup(svg)
