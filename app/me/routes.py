"""/me: an officer's own pages (mobile first), account activation, the live card and its public check.

Every /me page reads the signed-in officer explicitly (`current_user.officer_id`, kept in
`g.me_officer`). While one is shown, the unit scope (app/scope.py) is set to no unit at all, so a
query that forgot its officer filter finds nothing; the pages read their own rows inside
`own_rows()` with an explicit filter on the officer, their certificates or their numbers.
"""

from __future__ import annotations

from contextlib import contextmanager
from types import SimpleNamespace

from flask import (
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_user
from sqlalchemy import select

from app import clock, scope
from app.audit.services import record
from app.auth import sessions, throttle
from app.auth.passwords import problem
from app.errors import DomainError
from app.extensions import config_limit, db, limiter
from app.me import accounts, bp, pages
from app.me import card as cards
from app.me import claims as svc
from app.models.me import ChangeRequest
from app.models.officers import Officer
from app.models_base import utcnow
from app.officers.forms import read_photo
from app.online import services as online
from app.public.hits import count_hit
from app.uow import commit
from app.web.args import page_arg
from app.web.files import officer_photo
from app.web.tokens import base_url

PUBLIC = {"me.activate", "me.verify_card", "me.verify_card_photo", "me.manifest"}
NOBODY = SimpleNamespace(unit_id=0, is_authenticated=True)  # a unit no row has: the empty scope


@contextmanager
def own_rows():
    """Inside: the page's own explicitly filtered reads, past the empty scope."""
    with scope.off(db.session):
        yield


@bp.before_request
def load_officer():
    if request.endpoint in PUBLIC:
        return None
    officer_id = getattr(current_user, "officer_id", None)
    if officer_id is None:
        abort(404)
    with own_rows():
        officer = db.session.get(Officer, officer_id)
    if officer is None or officer.employment_status != "active":
        abort(404)
    g.me_officer = officer
    scope.activate(NOBODY)
    return None


def me() -> Officer:
    return g.me_officer


# --- activation ----------------------------------------------------------------------------------

@bp.route("/me/activate", methods=["GET", "POST"])
@limiter.limit(config_limit("LOGIN_RATE_LIMIT"), methods=["POST"])
def activate():
    errors: dict[str, str] = {}
    values = {"id_number": (request.form.get("id_number") or "").strip()}
    if request.method == "POST":
        idn = values["id_number"].upper()
        address = request.remote_addr or ""
        key = f"activate:{idn}"[:100]
        now = utcnow()
        until = throttle.locked_until(key, address, now)
        if until is not None:
            minutes = int((until - now).total_seconds() // 60) + 1
            flash(f"激活失败次数过多，请 {minutes} 分钟后再试", "danger")
        else:
            try:
                accounts.activate(idn, request.form.get("code", ""), request.form.get("password", ""),
                                  request.form.get("confirm", ""))
            except DomainError as exc:
                db.session.rollback()
                errors = exc.fields or {"code": str(exc)}
                if "code" in errors:
                    throttle.failed(key, address, now, max_failures=current_app.config["LOGIN_MAX_FAILURES"],
                                    lock_minutes=current_app.config["LOGIN_LOCK_MINUTES"])
                    record("login_failed", "user", None, f"执法人员账号激活失败：{idn[:4]}…",
                           actor=f"激活:{idn[:4]}…")
                commit()
            else:
                throttle.succeeded(key, address)
                flash("账号已开通：请用身份证号和刚设置的密码登录", "success")
                return redirect(url_for("auth.login"))
    return render_template("me/activate.html", errors=errors, values=values), (400 if errors else 200)


# --- the officer's own record --------------------------------------------------------------------

@bp.route("/me")
def home():
    with own_rows():
        data = pages.overview(me(), clock.today())
    return render_template("me/home.html", o=me(), **data)


@bp.route("/me/hours")
def hours():
    with own_rows():
        data = pages.hours(me(), clock.today())
    return render_template("me/hours.html", o=me(), **data)


@bp.route("/me/exams")
def exams():
    with own_rows():
        data = pages.exams(me(), utcnow())
    return render_template("me/exams.html", o=me(), **data)


@bp.route("/me/exams/<int:exam_id>/start", methods=["POST"])
def exam_start(exam_id: int):
    """参加考试: the candidate flow without the access code — the account is the identity. The
    exam room (/exam) takes over with the token handed to it."""
    with own_rows():
        try:
            token, sitting, exam_online = pages.start_exam(me(), exam_id, utcnow(), request.remote_addr or "")
        except LookupError:
            db.session.rollback()
            abort(404)
        except DomainError as exc:
            commit()  # a time-out submission made on the way stays
            flash(str(exc), "warning")
            return redirect(url_for("me.exams"))
        title = exam_online.exam.title
        ends = online.iso(online.ends_at(exam_online, sitting))
    return render_template("me/exam_handoff.html", token=token, title=title, ends=ends)


@bp.route("/me/cases")
def cases():
    with own_rows():
        rows, page, count = pages.cases(me(), page_arg())
    return render_template("me/cases.html", o=me(), rows=rows, page=page, pages=count)


@bp.route("/me/applications")
def applications():
    with own_rows():
        rows = pages.applications(me(), clock.today())
    return render_template("me/applications.html", o=me(), rows=rows)


@bp.route("/me/photo")
def photo():
    return _photo_of(me().id)


def _photo_of(officer_id: int):
    with own_rows():
        return officer_photo(officer_id)


@bp.route("/me/password", methods=["GET", "POST"])
def password():
    errors: dict[str, str] = {}
    if request.method == "POST":
        user = current_user._get_current_object()
        new = request.form.get("password", "")
        if not user.check_password(request.form.get("current", "")):
            errors["current"] = "当前密码不正确"
        elif message := problem(new, user.username):
            errors["password"] = message
        elif new != request.form.get("confirm", ""):
            errors["confirm"] = "两次输入的密码不一致"
        else:
            user.set_password(new)
            record("update", "user", user.id, "修改密码", {"password": ["***", "***"]})
            commit()
            login_user(user)
            sessions.start(user)
            flash("密码已修改", "success")
            return redirect(url_for("me.home"))
    return render_template("me/password.html", o=me(), errors=errors), (400 if errors else 200)


# --- the live card -------------------------------------------------------------------------------

def _my_card():
    with own_rows():
        mine = cards.cards_of(me().id)
    if not mine:
        return None, mine
    wanted = request.args.get("c", type=int)
    chosen = next((c for c in mine if c.id == wanted), None) if wanted else mine[0]
    if chosen is None:
        abort(404)
    return chosen, mine


@bp.route("/me/card")
def card():
    chosen, mine = _my_card()
    if chosen is None:
        return render_template("me/card.html", o=me(), face=None, cards=[], qr=None)
    with own_rows():
        face = cards.face(chosen, me(), clock.today())
    return render_template("me/card.html", o=me(), face=face, cards=mine,
                           qr=cards.qr_payload(chosen, base_url()))


@bp.route("/me/card/qr")
def card_qr():
    chosen, _mine = _my_card()
    if chosen is None:
        abort(404)
    resp = jsonify(cards.qr_payload(chosen, base_url()))
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.route("/verify/card/<token>")
@limiter.limit(config_limit("VERIFY_RATE_LIMIT"))
def verify_card(token: str):
    parsed = cards.read_token(token)
    day = clock.today()
    found = cards.lookup(parsed[0]) if parsed else None
    if found is None:
        first = count_hit("card-invalid", 0, day)
        if first:
            record("verify", "", None, "电子执法证验证失败：二维码无效（当日首次，之后只计数）")
        commit()
        return render_template("me/verify_card.html", face=None, expired=False, made=None), 404
    cert, officer = found
    first = count_hit("card", cert.id, day)
    if not cards.fresh(parsed[1]):
        return render_template("me/verify_card.html", face=None, expired=True, made=None)
    face = cards.face(cert, officer, day)
    if first:
        record("verify", "certificate", cert.id,
               f"电子执法证验证：{officer.name}（{face['state']}；当日首次，之后只计数）")
    return render_template("me/verify_card.html", face=face, expired=False, made=parsed[1], token=token,
                           today=day)


@bp.route("/verify/card/<token>/photo")
@limiter.limit(config_limit("VERIFY_RATE_LIMIT"))
def verify_card_photo(token: str):
    parsed = cards.read_token(token)
    if parsed is None or not cards.fresh(parsed[1]):
        abort(404)
    found = cards.lookup(parsed[0])
    if found is None:
        abort(404)
    return _photo_of(found[1].id)


@bp.route("/manifest.webmanifest")
def manifest():
    body = {
        "name": "电子执法证", "short_name": "电子执法证", "lang": "zh-CN",
        "start_url": url_for("me.card"), "scope": "/", "display": "standalone",
        "background_color": "#ffffff", "theme_color": "#0d6efd",
        "icons": [{"src": url_for("static", filename=f"icons/icon-{n}.png"), "sizes": f"{n}x{n}",
                   "type": "image/png"} for n in (192, 512)],
    }
    resp = jsonify(body)
    resp.mimetype = "application/manifest+json"
    return resp


# --- training claims and change requests ---------------------------------------------------------

@bp.route("/me/claims")
def claims():
    return redirect(url_for("me.hours"))


@bp.route("/me/claims/new", methods=["GET", "POST"])
def claim_new():
    errors: dict[str, str] = {}
    if request.method == "POST":
        upload = request.files.get("proof")
        data = upload.read(svc.MAX_SIZE + 1) if upload else b""
        try:
            svc.file_claim(me(), request.form, upload.filename if upload else "", data, clock.today())
        except DomainError as exc:
            db.session.rollback()
            errors = exc.fields or {"title": str(exc)}
            if not exc.fields:
                flash(str(exc), "danger")
        else:
            flash("学时申报已提交，等待单位审核", "success")
            return redirect(url_for("me.hours"))
    return render_template("me/claim_form.html", o=me(), errors=errors, values=request.form), \
        (400 if errors else 200)


@bp.route("/me/requests", methods=["GET", "POST"])
def requests():
    errors: dict[str, str] = {}
    if request.method == "POST":
        field = request.form.get("field")
        try:
            if field == "photo":
                upload = request.files.get("photo")
                if not upload or not upload.filename:
                    raise DomainError("请选择照片", fields={"photo": "请选择照片"})
                try:
                    data, mime = read_photo(upload)
                except Exception as exc:  # WTForms' ValidationError: its message is for the person
                    raise DomainError(str(exc), fields={"photo": str(exc)}) from None
                svc.request_change(me(), "photo", data=data, mime=mime)
            else:
                svc.request_change(me(), "phone", value=request.form.get("phone", ""))
        except DomainError as exc:
            db.session.rollback()
            errors = exc.fields or {"phone": str(exc)}
        else:
            flash("申请已提交，等待单位审核", "success")
            return redirect(url_for("me.requests"))
    with own_rows():
        rows = list(db.session.scalars(select(ChangeRequest).where(ChangeRequest.officer_id == me().id)
                                       .order_by(ChangeRequest.id.desc()).limit(20)))
    return render_template("me/requests.html", o=me(), rows=rows, errors=errors), (400 if errors else 200)
