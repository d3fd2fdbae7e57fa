from urllib.parse import urlsplit

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from app import scope
from app.audit.services import changes_of, record, snapshot
from app.auth import bp, sessions, throttle, tokens
from app.auth.access import allow_role, require_role
from app.auth.forms import LoginForm, PasswordForm, UserForm
from app.auth.services import UserError, authenticate, create_user, set_unit
from app.errors import DomainError
from app.extensions import config_limit, db, limiter
from app.models.api import ApiToken
from app.models.auth import User
from app.models.officers import Unit
from app.models_base import utcnow
from app.units import unit_list
from app.uow import commit


def _safe_next(target: str | None) -> str:
    officer = current_user.is_authenticated and current_user.role == "officer"
    if target and not urlsplit(target).netloc and target.startswith("/") and not target.startswith("//") \
            and (not officer or target.startswith("/me")):
        return target
    return url_for("me.home") if officer else url_for("main.dashboard")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(config_limit("LOGIN_RATE_LIMIT"), methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(_safe_next(None))
    form = LoginForm()
    if form.validate_on_submit():
        user, error = authenticate(
            form.username.data, form.password.data,
            max_failures=current_app.config["LOGIN_MAX_FAILURES"],
            lock_minutes=current_app.config["LOGIN_LOCK_MINUTES"],
            address=request.remote_addr or "",
        )
        commit()
        if user:
            login_user(user)
            sessions.start(user)
            return redirect(_safe_next(request.args.get("next")))
        flash(error, "danger")
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
@allow_role("viewer")
def logout():
    """Ends this browser's session (and every copy of its cookie); the user's other sessions,
    on other computers, carry on."""
    record("logout", "user", current_user.id, f"退出：{current_user.username}")
    sessions.end_current()
    logout_user()
    flash("已退出登录", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account")
@allow_role("viewer")
def account():
    """The signed-in user's account: their open sessions, each of which they can end."""
    return render_template("auth/account.html", rows=sessions.open_sessions(current_user.id),
                           current_sid=sessions.current_id(), browser=sessions.browser)


@bp.route("/account/sessions/<sid>/end", methods=["POST"])
@allow_role("viewer")
def account_end_session(sid: str):
    if sid == sessions.current_id():
        return logout()
    if sessions.end(current_user.id, sid):
        record("update", "user", current_user.id, f"结束用户 {current_user.username} 的一个登录会话")
        flash("该登录已退出", "success")
    else:
        flash("该登录已结束或不存在", "warning")
    return redirect(url_for("auth.account"))


@bp.route("/account/signout-all", methods=["POST"])
@allow_role("viewer")
def account_signout_all():
    """退出所有设备: every session of the signed-in user ends, this one included."""
    user = current_user._get_current_object()
    user.end_sessions()
    record("update", "user", user.id, f"用户 {user.username} 在所有设备上退出登录")
    logout_user()
    flash("您已在所有设备上退出，请重新登录", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@allow_role("viewer")
def change_password():
    form = PasswordForm()
    if form.validate_on_submit():
        if not current_user.check_password(form.current.data):
            form.current.errors.append("当前密码不正确")
        else:
            current_user.set_password(form.password.data)  # ends every other session
            record("update", "user", current_user.id, "修改密码", {"password": ["***", "***"]})
            commit()
            user = current_user._get_current_object()
            login_user(user)
            sessions.start(user)  # this browser carries on, in a new session
            flash("密码已修改", "success")
            return redirect(url_for("main.dashboard"))
    return render_template("auth/password.html", form=form)


def _managed_users():
    """The users the signed-in admin manages: those whose unit lies in the admin's subtree (all of
    them for an admin of the whole organisation)."""
    return select(User).where(scope.unit_clause(User.unit_id))


def _managed_user_or_404(user_id: int) -> User:
    user = db.session.scalar(_managed_users().where(User.id == user_id))
    if user is None:
        abort(404)
    return user


def _scope_choices(form: UserForm) -> None:
    """The units the admin may give: their own subtree (the whole organisation only if theirs)."""
    whole = [("", "全部单位")] if scope.scope_unit_id() is None else []
    form.unit_id.choices = [*whole, *[(u.id, u.name) for u in unit_list()]]


@bp.route("/users")
@require_role("admin")
def users():
    rows = db.session.scalars(_managed_users().order_by(User.username)).all()
    names = dict(db.session.execute(select(Unit.id, Unit.name)).all())
    return render_template("auth/users.html", users=rows, now=utcnow(), unit_names=names)


@bp.route("/users/new", methods=["GET", "POST"])
@require_role("admin")
def user_new():
    form = UserForm()
    _scope_choices(form)
    form.password.label.text = "密码（留空则自动生成）"
    if form.validate_on_submit():
        try:
            user, password = create_user(form.username.data, form.role.data, form.password.data or None,
                                         form.display_name.data or "", unit_id=form.unit_id.data)
            user.active = form.active.data
            if form.password.data:
                flash(f"用户 {user.username} 已创建", "success")
            else:
                flash(f"用户 {user.username} 已创建，初始密码：{password}（只显示这一次）", "success")
            return redirect(url_for("auth.users"))
        except UserError as exc:
            db.session.rollback()
            form.username.errors.append(str(exc))
    return render_template("auth/user_form.html", form=form, user=None)


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@require_role("admin")
def user_edit(user_id: int):
    user = _managed_user_or_404(user_id)
    form = UserForm(obj=user)
    _scope_choices(form)
    form.username.render_kw = {"readonly": True}
    if form.validate_on_submit():
        fields = ["display_name", "role", "active"]
        before = snapshot(user, fields)
        if user.id == current_user.id and (form.role.data != "admin" or not form.active.data):
            flash("不能降低或停用自己的管理员账号", "danger")
            return render_template("auth/user_form.html", form=form, user=user)
        if user.id == current_user.id and form.unit_id.data != user.unit_id:
            flash("不能修改自己的管辖范围", "danger")
            return render_template("auth/user_form.html", form=form, user=user)
        try:
            set_unit(user, form.unit_id.data)
        except UserError as exc:
            db.session.rollback()
            form.unit_id.errors.append(str(exc))
            return render_template("auth/user_form.html", form=form, user=user)
        user.display_name = form.display_name.data or user.username
        user.role = form.role.data
        user.active = form.active.data
        if before["active"] and not user.active:
            user.end_sessions()
        changes = changes_of(user, before, fields)
        if form.password.data:
            user.set_password(form.password.data)
            user.locked_until = None
            user.failed_logins = 0
            throttle.clear(user.username)
            changes["password"] = ["***", "***"]
        record("update", "user", user.id, f"修改用户 {user.username}", changes)
        commit()
        if user.id == current_user.id and form.password.data:
            login_user(user)
            sessions.start(user)  # the admin's own browser carries on, in a new session
        flash(f"用户 {user.username} 已保存", "success")
        return redirect(url_for("auth.users"))
    return render_template("auth/user_form.html", form=form, user=user)


@bp.route("/users/<int:user_id>/signout", methods=["POST"])
@require_role("admin")
def user_signout(user_id: int):
    """Sign a user out on every browser (a lost laptop, a shared screen)."""
    user = _managed_user_or_404(user_id)
    user.end_sessions()
    record("update", "user", user.id, f"使用户 {user.username} 在所有设备上退出登录")
    if user.id == current_user.id:
        logout_user()
        flash("您已在所有设备上退出，请重新登录", "info")
        return redirect(url_for("auth.login"))
    flash(f"用户 {user.username} 已在所有设备上退出登录", "success")
    return redirect(url_for("auth.users"))


@bp.route("/users/<int:user_id>/unlock", methods=["POST"])
@require_role("admin")
def user_unlock(user_id: int):
    user = _managed_user_or_404(user_id)
    user.locked_until = None
    user.failed_logins = 0
    throttle.clear(user.username)
    record("update", "user", user.id, f"解锁用户 {user.username}")
    flash(f"用户 {user.username} 已解锁", "success")
    return redirect(url_for("auth.users"))


@bp.route("/account/tokens", methods=["GET", "POST"])
@allow_role("viewer")
def api_tokens():
    """The signed-in user's API tokens: last use, revoke; a new one is shown once, on this page."""
    new_token = None
    if request.method == "POST":
        try:
            _row, new_token = tokens.create_token(current_user._get_current_object(), request.form.get("label", ""))
        except DomainError as exc:
            db.session.rollback()
            flash(f"令牌未生成：{exc}", "danger")
    return render_template("auth/tokens.html", tokens=tokens.tokens_of(current_user), new_token=new_token)


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@allow_role("viewer")
def api_token_revoke(token_id: int):
    row = db.session.get(ApiToken, token_id)
    if row is None or row.user_id != current_user.id:
        abort(404)
    if row.revoked_at is None:
        tokens.revoke(row)
        flash(f"已撤销 API 令牌“{row.label}”", "success")
    return redirect(url_for("auth.api_tokens"))
