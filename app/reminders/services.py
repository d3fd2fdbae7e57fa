"""Expiring-certificate reminders: who is due, what was sent, and the send run itself.

Rules:
- A certificate is due when it is the effective enforcement certificate that expires last
  (timeline.best_effective — so a renewed card supersedes the old one) of an active officer on
  an enforcement post, and 0 ≤ expires_on − today ≤ the largest reminder window. Its window is the
  smallest window w with days_left ≤ w: crossing several windows at once reminds once.
- "Already reminded" = a ReminderDelivery row with outcome `sent` for (certificate, window,
  channel). Channels are independent: a down webhook does not resend the e-mail.
- Never twice, never lost: each channel sends first, then records its `sent` rows and commits at
  once; a failure records `failed` rows only. A kill between a send and its commit can at most
  repeat that one message on the next run.
- A channel that is not configured (no `reminder_recipients` / no `webhook_url`) is skipped and
  records nothing, so configuring it later delivers whatever is then in a window. With no channel
  configured at all while certificates are due, the run fails (nobody would be told).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from flask import render_template
from sqlalchemy import case, func, literal, select, union_all
from sqlalchemy.exc import OperationalError

from app import locks
from app.audit.services import record
from app.extensions import db
from app.formatting import cn_date, cn_datetime, days_text
from app.models.certificates import Certificate
from app.models.officers import Officer, Unit
from app.models.reminders import ReminderDelivery, ReminderRun
from app.models_base import utcnow
from app.paging import page_of
from app.pdf import render_pdf
from app.pinyin import pinyin_key, unit_key
from app.reminders import mail, webhook
from app.reminders.mail import DeliveryError
from app.reports.forecast import compute
from app.rules import compliance
from app.settings import services as settings

CHANNELS = {"email": "邮件", "webhook": "群机器人", "unitmail": "单位邮件"}
# the organisation-wide channels (settings); "unitmail": each unit's own recipients (Unit.reminder_recipients)
ORG_CHANNELS = ("email", "webhook")
OUTCOMES = {"sent": "已发送", "failed": "发送失败"}
RUN_OUTCOMES = {"ok": "成功", "failed": "失败", "running": "未完成（运行中或被中断）"}
ATTACHMENT_NAME = "证件到期提醒.pdf"


# ---------------------------------------------------------------- who is due

def reminder_windows() -> list[int]:
    """The windows from the settings, largest first (e.g. [90, 60, 30, 7])."""
    return sorted(set(settings.get("reminder_windows")), reverse=True)


def smallest_window(days_left: int, windows: list[int]) -> int | None:
    fitting = [w for w in windows if 0 <= days_left <= w]
    return min(fitting) if fitting else None


@dataclass(frozen=True)
class Due:
    certificate_id: int
    number: str
    expires_on: date
    days_left: int
    window: int
    officer_id: int
    name: str
    phone: str
    unit: str
    unit_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "certificate_id": self.certificate_id, "number": self.number,
            "expires_on": self.expires_on, "days_left": self.days_left, "window": self.window,
            "officer_id": self.officer_id, "name": self.name, "phone": self.phone,
            "unit": self.unit,
        }


def _due_select(today: date, within: int):
    """The EXPIRING flag's rows (one query, no per-officer loop) joined to what we show."""
    sub = compliance.flags_select(compliance.Params(today=today, within=within), ["EXPIRING"])  # stored or computed
    return (
        select(Certificate.id, Certificate.number, Certificate.expires_on, Officer.id.label("oid"),
               Officer.name, Officer.phone, Unit.name.label("unit"), Unit.id.label("unit_id"))
        .select_from(sub)
        .join(Certificate, Certificate.id == sub.c.certificate_id)
        .join(Officer, Officer.id == sub.c.officer_id)
        .join(Unit, Unit.id == sub.c.unit_id)
        .order_by(Certificate.expires_on, Unit.sort_order, Unit.name_pinyin, Unit.name, Officer.name_pinyin,
                  Officer.name, Certificate.id)
    ), sub


def due_certificates(today: date, windows: list[int]) -> list[Due]:
    if not windows:
        return []
    q, _ = _due_select(today, max(windows))
    out = []
    for r in db.session.execute(q):
        days_left = (r.expires_on - today).days
        window = smallest_window(days_left, windows)
        if window is not None:
            out.append(Due(r.id, r.number, r.expires_on, days_left, window, r.oid, r.name,
                           r.phone or "", r.unit, r.unit_id))
    return out


def _deliveries(cert_ids: list[int]) -> list[ReminderDelivery]:
    if not cert_ids:
        return []
    rows: list[ReminderDelivery] = []
    for start in range(0, len(cert_ids), 900):  # stay under every database's parameter limit
        chunk = cert_ids[start:start + 900]
        rows.extend(db.session.scalars(
            select(ReminderDelivery).where(ReminderDelivery.certificate_id.in_(chunk))
            .order_by(ReminderDelivery.at, ReminderDelivery.id)))
    return rows


def _run_days(deliveries: list[ReminderDelivery]) -> dict[int, date]:
    """The `today` of each run behind these deliveries (run id → date)."""
    ids = sorted({d.run_id for d in deliveries if d.run_id is not None})
    out: dict[int, date] = {}
    for start in range(0, len(ids), 900):
        out.update(db.session.execute(select(ReminderRun.id, ReminderRun.today).where(
            ReminderRun.id.in_(ids[start:start + 900]))).all())
    return out


def for_expiry(d: ReminderDelivery, runs: dict[int, date], expires_on: date | None) -> bool:
    """Whether delivery `d` was about the certificate's current expiry date: a card renewed by
    editing its 有效期至 (or re-importing it) starts fresh, like a new card."""
    run_day = runs.get(d.run_id) if d.run_id is not None else None
    if run_day is None or expires_on is None:
        return True
    return run_day + timedelta(days=d.days_left) == expires_on


def sent_keys(cert_ids: list[int], expires: dict[int, date] | None = None) -> set[tuple[int, int, str]]:
    """(certificate, window, channel) already reminded — for the certificate's current expiry
    date when `expires` (certificate id → expires_on) is given."""
    rows = [d for d in _deliveries(cert_ids) if d.outcome == "sent"]
    runs = _run_days(rows) if expires else {}
    return {(d.certificate_id, d.window, d.channel) for d in rows
            if not expires or for_expiry(d, runs, expires.get(d.certificate_id))}


# ---------------------------------------------------------------- the report page

def configured_channels() -> dict[str, str]:
    """channel → recipient as shown to people ('' when not configured)."""
    recipients = settings.get("reminder_recipients")
    url = settings.get("webhook_url")
    return {"email": ", ".join(recipients), "webhook": webhook.redact(url) if url else ""}


def expired_on_post(today: date) -> list[dict[str, Any]]:
    """Active officers on a post whose latest enforcement certificate has expired (UNLICENSED /
    expired), most overdue first."""
    sub = compliance.flags_select(compliance.Params(today=today), ["UNLICENSED"])  # stored or computed
    q = (
        select(Certificate.id, Certificate.number, Certificate.expires_on, Officer.id.label("oid"),
               Officer.name, Officer.phone, Unit.name.label("unit"))
        .select_from(sub)
        .join(Certificate, Certificate.id == sub.c.certificate_id)
        .join(Officer, Officer.id == sub.c.officer_id)
        .join(Unit, Unit.id == sub.c.unit_id)
        .where(sub.c.reason == "expired")
        .order_by(Certificate.expires_on, Unit.sort_order, Unit.name_pinyin, Unit.name, Officer.name_pinyin,
                  Officer.name)
    )
    return [{"certificate_id": r.id, "number": r.number, "expires_on": r.expires_on,
             "days_left": (r.expires_on - today).days, "officer_id": r.oid, "name": r.name,
             "phone": r.phone or "", "unit": r.unit}
            for r in db.session.execute(q)]


def _history_text(d: ReminderDelivery) -> str:
    return f"{d.window}天提醒 · {CHANNELS.get(d.channel, d.channel)} · {cn_datetime(d.at)} · " \
           f"{OUTCOMES.get(d.outcome, d.outcome)}"


def _window_state(row: dict[str, Any], items: list[ReminderDelivery], runs, channels: dict[str, Any]) -> None:
    """What this window's reminder really is: sent (when, how), waiting for a channel, or no
    channel configured at all — for the page, the .xlsx and the PDF alike."""
    sent = [d for d in items if d.outcome == "sent" and d.window == row["window"]
            and for_expiry(d, runs, row["expires_on"])]
    done = {d.channel for d in sent}
    row["pending"] = [CHANNELS[c] for c, who in channels.items() if who and c not in done]
    row["sent"] = [{"channel": CHANNELS.get(d.channel, d.channel), "at": d.at} for d in sent]
    row["no_channel"] = not any(channels.values())


def _attach_history(rows: list[dict[str, Any]], channels: dict[str, Any]) -> list[dict[str, Any]]:
    """Each row's delivery history (one query for all the rows) and, for a row of a window, what
    that window's reminder is (_window_state) — the same for the page, the .xlsx and the PDF."""
    deliveries = _deliveries([r["certificate_id"] for r in rows])
    runs = _run_days(deliveries)
    history: dict[int, list[ReminderDelivery]] = {}
    for d in deliveries:
        history.setdefault(d.certificate_id, []).append(d)
    for row in rows:
        items = history.get(row["certificate_id"], [])
        row["history"] = [{"text": _history_text(d), "outcome": d.outcome, "window": d.window,
                           "channel": d.channel, "at": d.at, "error": d.error} for d in items]
        row["history_text"] = "；".join(h["text"] for h in row["history"])
        if "window" in row:
            _window_state(row, items, runs, channels)
    return rows


def report(today: date) -> dict[str, Any]:
    """Plain-data context for the page, the .xlsx and the PDF (no ORM objects)."""
    windows = reminder_windows()
    due = due_certificates(today, windows)
    expired = expired_on_post(today)
    channels = configured_channels()
    due_rows = [x.as_dict() for x in due]
    _attach_history(due_rows + expired, channels)  # one delivery query for both

    ascending = sorted(windows)
    bands = []
    for i, w in enumerate(ascending):
        lower = ascending[i - 1] + 1 if i else 0
        rows = [r for r in due_rows if r["window"] == w]
        units: dict[str, list[dict[str, Any]]] = {}
        for row in sorted(rows, key=lambda r: (unit_key(r["unit"]), r["days_left"], pinyin_key(r["name"]))):
            units.setdefault(row["unit"], []).append(row)
        bands.append({"window": w, "label": f"{w} 天内到期" + (f"（{lower}–{w} 天）" if i else ""),
                      "count": len(rows), "units": [{"unit": u, "rows": r} for u, r in units.items()]})
    return {
        "today": today,
        "windows": windows,
        "expired": expired,
        "bands": bands,
        "total": len(due),
        "channels": {CHANNELS[c]: who for c, who in channels.items()},
        "last_run": last_run_info(),
    }


def _page_select(today: date, windows: list[int]):
    """Expired-on-post rows (band -1) and due rows (band = their window) in the page's order, as one
    UNION ALL: expired most overdue first; then by window, unit name, days left, name."""
    ascending = sorted(windows)
    p_unl, p_exp = compliance.Params(today=today), compliance.Params(today=today, within=max(windows))
    if compliance.store_serves(p_exp, ["UNLICENSED", "EXPIRING"]):  # the flag store (rules/flagstore.py)
        unl = compliance.stored_select(p_unl, ["UNLICENSED"]).subquery("unl")
        exp = compliance.stored_select(p_exp, ["EXPIRING"]).subquery("exp")
    else:
        shared = compliance.Shared(today)  # one officer_state CTE for both parts
        unl = compliance.unlicensed(p_unl, shared).subquery("unl")
        exp = compliance.expiring(p_exp, shared).subquery("exp")
    band = case(*[(Certificate.expires_on <= today + timedelta(days=w), w) for w in ascending])

    def part(sub, band_expr, keys, where):
        return (select(band_expr.label("band"), Certificate.id.label("certificate_id"), Certificate.number,
                       Certificate.expires_on, Officer.id.label("officer_id"), Officer.name, Officer.phone,
                       Officer.name_pinyin.label("name_py"), Unit.name.label("unit"),
                       *[k.label(f"k{i}") for i, k in enumerate(keys)])
                .select_from(sub)
                .join(Certificate, Certificate.id == sub.c.certificate_id)
                .join(Officer, Officer.id == sub.c.officer_id)
                .join(Unit, Unit.id == sub.c.unit_id).where(*where))

    expired = part(unl, literal(-1), [literal(""), Certificate.expires_on, Unit.sort_order, Unit.name_pinyin],
                   [unl.c.reason == "expired"])
    due = part(exp, band, [Unit.name_pinyin, Certificate.expires_on, literal(0), literal("")], [])
    return union_all(expired, due).subquery("reminder_rows")


def report_page(today: date, page: int, per_page: int = 50) -> dict[str, Any]:
    """One page of the report (the page; downloads use `report`): the page's rows with every band's
    count in one statement (a page past the end: the last page), then the delivery history of
    those rows only."""
    windows = reminder_windows()
    channels = configured_channels()
    counts: dict[int, int] = {}
    rows: list[dict[str, Any]] = []
    pages, page = 1, max(page, 1)
    if windows:
        sub = _page_select(today, windows)
        bands_all = [-1, *sorted(windows)]
        # every band's count rides on each row (SUM … OVER ()), so one statement gives the page too
        q = select(sub, *[func.sum(case((sub.c.band == b, 1), else_=0)).over().label(f"n{i}")
                          for i, b in enumerate(bands_all)])
        result, n, page = page_of(q, (sub.c.band, sub.c.k0, sub.c.k1, sub.c.k2, sub.c.k3, sub.c.name_py,
                                      sub.c.name, sub.c.certificate_id), page, per_page)
        if result:
            counts = {b: int(getattr(result[0], f"n{i}") or 0) for i, b in enumerate(bands_all)}
        pages = max(1, -(-n // per_page))
        rows = [{k: v for k, v in r._mapping.items() if not k.startswith(("k", "n", "page_"))
                 or k in ("name", "number")} for r in result]
    n = sum(counts.values())
    for r in rows:
        r["days_left"] = (r["expires_on"] - today).days
        r["phone"] = r["phone"] or ""
        if r["band"] != -1:
            r["window"] = r["band"]
    _attach_history(rows, channels)
    ascending = sorted(windows)
    bands = []
    for i, w in enumerate(ascending):
        lower = ascending[i - 1] + 1 if i else 0
        units: dict[str, list[dict[str, Any]]] = {}
        for r in rows:
            if r["band"] == w:
                units.setdefault(r["unit"], []).append(r)
        bands.append({"window": w, "label": f"{w} 天内到期" + (f"（{lower}–{w} 天）" if i else ""),
                      "count": counts.get(w, 0), "units": [{"unit": u, "rows": g} for u, g in units.items()]})
    return {
        "today": today,
        "windows": windows,
        "expired": [r for r in rows if r["band"] == -1],
        "expired_total": counts.get(-1, 0),
        "bands": bands,
        "total": n - counts.get(-1, 0),
        "channels": {CHANNELS[c]: who for c, who in channels.items()},
        "last_run": last_run_info(),
        "page": page,
        "pages": pages,
    }


def report_rows(ctx: dict[str, Any]) -> list[dict[str, Any]]:
    """The page's rows, flat, for the spreadsheet: expired first, then by window."""
    rows = [dict(r, band="已过期仍在岗") for r in ctx["expired"]]
    for band in ctx["bands"]:
        for group in band["units"]:
            rows.extend(dict(r, band=band["label"]) for r in group["rows"])
    return rows


def last_run_info() -> dict[str, Any] | None:
    run = db.session.scalars(select(ReminderRun).order_by(ReminderRun.started_at.desc(),
                                                          ReminderRun.id.desc()).limit(1)).first()
    if run is None:
        return None
    return {"started_at": run.started_at, "finished_at": run.finished_at, "today": run.today,
            "outcome": run.outcome, "outcome_label": RUN_OUTCOMES.get(run.outcome, run.outcome),
            "message": run.message, "certificates": run.certificates, "windows": run.windows,
            "messages": run.messages}


# ---------------------------------------------------------------- messages

@dataclass
class Outgoing:
    channel: str
    recipient: str  # as recorded and shown (webhook URL without its secret query)
    items: list[Due]
    subject: str = ""
    text: str = ""
    html: str = ""
    payload: dict | None = None
    to: list[str] = field(default_factory=list)
    url: str = ""


@dataclass
class Plan:
    today: date
    windows: list[int]
    due: list[Due]
    outgoing: list[Outgoing]
    skipped: list[str]  # channels not configured, as sentences
    unit_channel: bool = False  # some unit has recipients of its own


def _by_window(items: list[Due]) -> list[tuple[int, list[Due]]]:
    groups: dict[int, list[Due]] = {}
    for it in sorted(items, key=lambda x: (x.window, x.days_left, unit_key(x.unit), pinyin_key(x.name))):
        groups.setdefault(it.window, []).append(it)
    return list(groups.items())


def _subject(org: str, items: list[Due], today: date) -> str:
    return f"【证件到期提醒】{org}：{len(items)} 个行政执法证即将到期（{cn_date(today)}）"


def falling_units(today: date) -> list[tuple[str, date]]:
    """持证力量预测's units falling below two holders within six months: (name, from), soonest
    first (app/reports/forecast.py; three statements whatever the number of officers)."""
    falling = compute(today).below_two_within(6)
    return [(u.unit, u.below_two_on) for u in sorted(falling, key=lambda u: u.below_two_on)]


def unit_recipients() -> dict[int, tuple[str, list[str]]]:
    """{unit id: (the unit that receives its reminders, their addresses)}: the unit itself when it
    has recipients, else the nearest unit above it that has; units with none above are left out.
    One query over the whole tree (30–60 units), unscoped: the run covers every unit."""
    rows = {uid: (name, parent, text) for uid, name, parent, text in db.session.execute(
        select(Unit.id, Unit.name, Unit.parent_id, Unit.reminder_recipients).execution_options(scope_all=True))}
    out: dict[int, tuple[str, list[str]]] = {}
    for uid in rows:
        seen, cur = set(), uid
        while cur is not None and cur in rows and cur not in seen:
            seen.add(cur)
            name, parent, text = rows[cur]
            emails = [x.strip() for x in (text or "").split(",") if x.strip()]
            if emails:
                out[uid] = (name, emails)
                break
            cur = parent
    return out


def _email(org: str, today: date, items: list[Due], recipients: list[str], base_url: str,
           attachment: bool, channel: str = "email", title: str = "") -> Outgoing:
    ctx = {"org": org, "today": today, "groups": _by_window(items), "count": len(items),
           "link": f"{base_url.rstrip('/')}/reminders" if base_url else "", "attachment": attachment,
           "attachment_name": ATTACHMENT_NAME,
           # the organisation's digest names the units falling below two; a unit's own mail does not
           # (it would name other branches)
           "falling": falling_units(today) if channel == "email" else [],
           "forecast_link": f"{base_url.rstrip('/')}/forecast" if base_url else ""}
    return Outgoing(
        channel=channel, recipient=", ".join(recipients), items=items, to=list(recipients),
        subject=_subject(title or org, items, today),
        text=render_template("reminders/email.txt", **ctx),
        html=render_template("reminders/email.html", **ctx),
    )


def _line(it: Due) -> str:
    return f"{it.name}（{it.unit}）证号{it.number}，{cn_date(it.expires_on)}到期，{days_text(it.days_left)}"


def _webhook(org: str, today: date, items: list[Due], url: str, base_url: str) -> Outgoing:
    lines = []
    for w, group in _by_window(items):
        lines.append(f"【{w}天内到期】")
        lines.extend(f"{i}. {_line(it)}" for i, it in enumerate(group, start=1))
    header = f"{org} 证件到期提醒（{cn_date(today)}）：{len(items)} 个行政执法证即将到期，请及时办理换证。"
    footer = f"详情：{base_url.rstrip('/')}/reminders" if base_url else ""
    content = webhook.fit(lines, header, footer)
    return Outgoing(channel="webhook", recipient=webhook.redact(url), items=items, url=url,
                    payload=webhook.body(content))


def plan(today: date, config: Any) -> Plan:
    """What a run on `today` would send: one digest per configured channel, only the
    certificates not yet reminded for their current window on that channel."""
    windows = reminder_windows()
    due = due_certificates(today, windows)
    sent = sent_keys([d.certificate_id for d in due], {d.certificate_id: d.expires_on for d in due})
    org = settings.get("org_name")
    base_url = config.get("APP_BASE_URL") or ""
    recipients = settings.get("reminder_recipients")
    url = settings.get("webhook_url")
    outgoing: list[Outgoing] = []
    skipped: list[str] = []

    def pending(channel: str) -> list[Due]:
        return [d for d in due if (d.certificate_id, d.window, channel) not in sent]

    if recipients:
        items = pending("email")
        if items:
            outgoing.append(_email(org, today, items, recipients, base_url, attachment=True))
    else:
        skipped.append("邮件：未设置提醒收件人（reminder_recipients），跳过")
    if url:
        items = pending("webhook")
        if items:
            outgoing.append(_webhook(org, today, items, url, base_url))
    else:
        skipped.append("群机器人：未设置 webhook_url，跳过")
    # each unit with recipients of its own: a digest of its subtree's officers only (a unit
    # without receives through the nearest unit above it that has)
    receivers = unit_recipients()
    groups: dict[str, tuple[list[str], list[Due]]] = {}
    for d in pending("unitmail"):
        if d.unit_id in receivers:
            name, emails = receivers[d.unit_id]
            groups.setdefault(name, (emails, []))[1].append(d)
    for name, (emails, items) in sorted(groups.items(), key=lambda kv: unit_key(kv[0])):
        outgoing.append(_email(org, today, items, emails, base_url, attachment=True, channel="unitmail",
                               title=f"{org}·{name}"))
    return Plan(today, windows, due, outgoing, skipped, unit_channel=bool(receivers))


def notice_pdf(today: date, items: list[Due]) -> bytes:
    """The 证件到期提醒 notice for the certificates in one digest (e-mail attachment)."""
    rows = [dict(it.as_dict(), band=f"{it.window} 天内到期", history_text="") for it in items]
    return render_pdf("reminders/pdf.html", {"notice": True, "org_name": settings.get("org_name"),
                                             "today": today, "rows": rows, "windows": reminder_windows()})


# ---------------------------------------------------------------- the run

@dataclass
class RunResult:
    ok: bool
    summary: str
    errors: list[str]
    sent: list[Outgoing]
    run_id: int | None = None
    skipped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # went out, but not to everyone


def summarize(sent: list[Outgoing]) -> str:
    certs = {it.certificate_id for o in sent for it in o.items}
    windows = sorted({it.window for o in sent for it in o.items}, reverse=True)
    per = "，".join(f"{CHANNELS[c]} {sum(1 for o in sent if o.channel == c)}" for c in CHANNELS
                   if c in ORG_CHANNELS or any(o.channel == c for o in sent))
    text = f"{len(certs)} 个证件，{len(windows)} 个窗口，{len(sent)} 条消息（{per}）"
    if windows:
        text += "；窗口：" + "、".join(f"{w}天" for w in windows)
    return text


def _deliver(out: Outgoing, smtp: mail.SmtpSettings, today: date) -> str | None:
    """Send one digest; raise DeliveryError when it did not go out, return a warning when it
    went out imperfectly (some recipients refused)."""
    if out.channel in ("email", "unitmail"):
        pdf = notice_pdf(today, out.items)
        msg = mail.build_message(smtp, out.to, out.subject, out.text, out.html,
                                 attachment=(ATTACHMENT_NAME, pdf))
        return mail.send(smtp, msg)
    webhook.post(out.url, out.payload or {})
    return None


LOCK_NAME = "reminders"


def send_reminders(today: date, config: Any, *, commit: Callable[[], None],
                   sender: Callable[[Outgoing, mail.SmtpSettings, date], str | None] = _deliver
                   ) -> RunResult:
    """Run once: record the run, send each channel's digest, record `sent` rows and commit right
    after each successful send. `commit` is passed in because this is the one service whose
    guarantee (never twice, never lost) depends on committing between sends.

    Only one run at a time, whatever starts it (cron, a systemd timer, a person, another app
    server): the run holds the database lock `reminders` (app.locks) from before it reads what
    was already sent until after its last commit. A second run waits for it (up to
    REMINDER_LOCK_WAIT seconds), then finds everything already recorded and sends only what
    is left — so nothing is sent twice and nothing is lost."""
    holder = locks.new_holder()
    stale = timedelta(minutes=float(config.get("REMINDER_LOCK_STALE_MINUTES") or 15))
    try:
        locks.acquire(LOCK_NAME, holder, stale_after=stale,
                      wait=float(config.get("REMINDER_LOCK_WAIT", 900)))
    except locks.LockBusy as busy:
        return RunResult(ok=False, summary=summarize([]), sent=[], errors=[
            f"另一个提醒任务正在运行（{busy}），本次没有发送任何内容；它结束后再运行即可"])
    try:
        return _send_locked(today, config, commit=commit, sender=sender, holder=holder)
    except BaseException:
        db.session.rollback()
        raise
    finally:
        try:
            locks.release(LOCK_NAME, holder)
        except OperationalError:  # database gone: the lock goes stale and is taken over
            pass


def _send_locked(today: date, config: Any, *, commit: Callable[[], None],
                 sender: Callable[[Outgoing, mail.SmtpSettings, date], str | None],
                 holder: str) -> RunResult:
    run = ReminderRun(today=today, outcome="running", started_at=utcnow())
    db.session.add(run)
    commit()
    p = plan(today, config)
    smtp = mail.SmtpSettings.from_config(config)
    sent: list[Outgoing] = []
    errors: list[str] = []
    warnings: list[str] = []
    if p.due and len(p.skipped) == len(ORG_CHANNELS) and not p.unit_channel:
        errors.append(f"未发送：没有配置提醒渠道（reminder_recipients 和 webhook_url 均为空），"
                      f"{len(p.due)} 个证件在提醒窗口内")
    for out in p.outgoing:
        if not locks.heartbeat(LOCK_NAME, holder):
            errors.append(f"{CHANNELS[out.channel]}未发送：提醒任务的运行锁已失效（运行时间超过"
                          f" REMINDER_LOCK_STALE_MINUTES），为避免重复发送已停止；下次运行会补发")
            break
        try:
            warning = sender(out, smtp, today)
        except Exception as exc:  # any failure: nothing marked sent, say why
            error = str(exc) if isinstance(exc, DeliveryError) else \
                f"{CHANNELS[out.channel]}未发送：内部错误（{exc.__class__.__name__}: {exc}）"
            errors.append(error)
            db.session.add_all(ReminderDelivery(
                run_id=run.id, certificate_id=it.certificate_id, window=it.window,
                channel=out.channel, recipient=out.recipient, outcome="failed",
                days_left=it.days_left, error=error) for it in out.items)
            commit()
            continue
        now = utcnow()
        db.session.add_all(ReminderDelivery(
            run_id=run.id, certificate_id=it.certificate_id, window=it.window, channel=out.channel,
            recipient=out.recipient, at=now, outcome="sent", days_left=it.days_left)
            for it in out.items)
        commit()
        sent.append(out)
        if warning:
            warnings.append(warning)
    summary = summarize(sent)
    run = db.session.get(ReminderRun, run.id)
    run.finished_at = utcnow()
    run.outcome = "failed" if errors or warnings else "ok"
    run.certificates = len({it.certificate_id for o in sent for it in o.items})
    run.windows = len({it.window for o in sent for it in o.items})
    run.messages = len(sent)
    run.message = "；".join([*errors, *warnings, f"已发送：{summary}"])
    record("remind", "reminder_run", run.id, f"发送证件到期提醒（{cn_date(today)}）："
           + run.message)
    commit()
    return RunResult(ok=not errors and not warnings, summary=summary, errors=errors, sent=sent,
                     run_id=run.id, skipped=p.skipped, warnings=warnings)


def dry_run_text(p: Plan) -> str:
    """Exactly what a real run would send, for `--dry-run`."""
    parts = []
    for out in p.outgoing:
        if out.channel in ("email", "unitmail"):
            parts.append("\n".join([
                f"=== {CHANNELS[out.channel]} ===", f"收件人：{out.recipient}", f"主题：{out.subject}",
                f"附件：{ATTACHMENT_NAME}", "", out.text.rstrip()]))
        else:
            parts.append("\n".join([
                "=== 群机器人 Webhook ===", f"地址：{out.recipient}", "POST JSON：",
                json.dumps(out.payload, ensure_ascii=False, indent=2)]))
    parts.extend(f"（{s}）" for s in p.skipped)
    return "\n\n".join(parts)

