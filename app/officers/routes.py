"""Units and officers pages: parse the request, call officers.services, commit, flash, redirect."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app import clock, scope
from app.auth.access import require_role, sees_ages, sees_full_ids
from app.errors import DomainError
from app.exams.services import bulk_add_candidates
from app.extensions import db
from app.formatting import cn_date
from app.forms import form_version
from app.idnumber import normalize
from app.models.certificates import Certificate
from app.models.exams import Exam
from app.models.officers import Officer, OfficerAttachment, OfficerUnitHistory, Unit
from app.models.training import TrainingSession
from app.officers import bp
from app.officers.attachments import (
    ATTACHMENT_KINDS,
    MAX_SIZE,
    add_attachment,
    attachments_of,
    delete_attachment,
    history,
)
from app.officers.cases_section import officer_cases
from app.officers.departures import depart, open_tasks
from app.officers.forms import DepartureForm, OfficerForm, TransferForm, UnitForm, _int_or_none
from app.officers.lists import (
    BULK_ACTIONS,
    OFFICERS,
    UNITS,
    bulk_targets,
    expiries,
    record_prints,
    roster_rows,
    selected_officers,
    selection,
)
from app.officers.merge import delete_blockers, delete_officer, describe, merge_officers, plan_merge
from app.officers.services import (
    bulk_set_post,
    bulk_set_unit,
    delete_unit,
    save_officer,
    save_unit,
    set_photo,
)
from app.officers.training_section import officer_context
from app.officers.tree import descendants, move_unit, unit_tree
from app.rules import compliance
from app.rules.transfers import history as unit_history
from app.rules.transfers import spells_of, transfer
from app.settings.services import get as settings_get
from app.training.services import bulk_enrol
from app.units import unit_list
from app.web.files import download, officer_photo
from app.web.tx import commit_or_errors

# ---------------------------------------------------------------- units


@bp.route("/units")
def units():
    page = UNITS.shown_page(request.args, today=clock.today())
    return render_template("officers/units.html", **page.context())


@bp.route("/units.xlsx")
def units_xlsx():
    return UNITS.export(request.args, today=clock.today())


def _parent_choices(unit: Unit | None) -> list:
    """The units `unit` may go under: those the user sees, but not the unit's own branch (a
    cycle); "none" only for a user of the whole organisation; a parent out of the user's sight
    (the top of their branch) is offered as it is, to be kept."""
    own = set(descendants(unit.id)) if unit is not None else set()
    choices = [("", "（无）")] if scope.scope_unit_id() is None else []
    choices += [(u.id, u.name) for u in unit_list() if u.id not in own]
    if unit is not None and unit.parent_id is not None and unit.parent_id not in {c[0] for c in choices}:
        name = db.session.scalar(select(Unit.name).where(Unit.id == unit.parent_id)
                                 .execution_options(scope_all=True))
        choices.insert(0, (unit.parent_id, name))
    return choices


def _unit_form(unit: Unit | None) -> UnitForm:
    form = UnitForm(obj=unit)
    form.parent_id.choices = _parent_choices(unit)
    return form


@bp.route("/units/tree")
def unit_tree_page():
    tops = unit_tree(clock.today())
    movable = current_user.role == "admin"
    choices = _parent_choices(None) if movable else []
    return render_template("officers/unit_tree.html", tops=tops, movable=movable,
                           choices=choices, choice_names=dict(choices))


@bp.route("/units/<int:unit_id>/move", methods=["POST"])
@require_role("admin")
def unit_move(unit_id: int):
    """Put a unit (its whole branch) under another: an admin whose branch holds both places."""
    unit = db.get_or_404(Unit, unit_id)
    try:
        parent_id = _int_or_none(request.form.get("parent_id"))
    except ValueError:
        parent_id = -1
    if parent_id is not None and db.session.get(Unit, parent_id) is None:
        flash("请选择有效的上级单位", "danger")
        return redirect(url_for("officers.unit_tree_page"))
    with commit_or_errors() as tx:
        move_unit(unit, parent_id)
        tx.success = f"单位“{unit.name}”已移动"
    return redirect(url_for("officers.unit_tree_page"))


@bp.route("/units/new", methods=["GET", "POST"])
@require_role("clerk")
def unit_new():
    return _unit_edit(None)


@bp.route("/units/<int:unit_id>/edit", methods=["GET", "POST"])
@require_role("clerk")
def unit_edit(unit_id: int):
    return _unit_edit(db.get_or_404(Unit, unit_id))


def _unit_edit(unit: Unit | None):
    form = _unit_form(unit)
    if form.validate_on_submit():
        if unit is not None and form.parent_id.data != unit.parent_id and current_user.role != "admin":
            form.parent_id.errors.append("移动单位（修改上级单位）需要管理员权限")
            return render_template("officers/unit_form.html", form=form, unit=unit)
        with commit_or_errors(form) as tx:
            saved = save_unit(
                unit,
                name=form.name.data,
                kind=form.kind.data,
                parent_id=form.parent_id.data,
                sort_order=form.sort_order.data or 0,
                reminder_recipients=(form.reminder_recipients.data or "")
                if "reminder_recipients" in request.form else None,
                enforcement_fields=(form.enforcement_fields.data or "")
                if "enforcement_fields" in request.form else None,
            )
            tx.success = f"单位“{saved.name}”已保存"
        if tx.ok:
            return redirect(url_for("officers.units"))
    return render_template("officers/unit_form.html", form=form, unit=unit)


@bp.route("/units/<int:unit_id>/delete", methods=["POST"])
@require_role("clerk")
def unit_delete(unit_id: int):
    unit = db.get_or_404(Unit, unit_id)
    name = unit.name
    with commit_or_errors() as tx:
        delete_unit(unit)
        tx.success = f"单位“{name}”已删除"
    return redirect(url_for("officers.units"))


# ---------------------------------------------------------------- officers


@bp.route("/officers")
def index():
    d = clock.today()
    page = OFFICERS.shown_page(request.args, today=d)
    expires = expiries([r.Officer.id for r in page.rows], d)
    return render_template("officers/index.html", **page.context(), units=unit_list(), expires=expires,
                           today=d, bulk_actions=BULK_ACTIONS)


@bp.route("/officers.xlsx")
def index_xlsx():
    return OFFICERS.export(request.args, today=clock.today())


@bp.route("/officers/bulk", methods=["POST"])
@require_role("clerk")
def bulk():
    """Bulk actions on the officer list: the ticked rows or every row matching the filters.
    A change first shows a confirmation naming the count; the confirmed form applies it."""
    d = clock.today()
    action = request.form.get("action", "")
    ids_select, filters = selection(request.form, d)
    back = url_for("officers.index") + (f"?{filters}" if filters else "")
    if action not in BULK_ACTIONS:
        flash("请选择要执行的批量操作", "warning")
        return redirect(back)
    officers = selected_officers(ids_select)
    if not officers:
        flash("请先勾选人员，或勾选“全部符合条件的人员”", "warning")
        return redirect(back)
    if action == "roster":
        rows = roster_rows(officers, d)
        record_prints(officers)
        return render_template("officers/bulk_roster.html", rows=rows, today=d, back=back)
    error = None
    if request.form.get("confirmed") == "1":
        try:
            message = _bulk_apply(action, officers, request.form.get("target", ""))
            flash(message, "success")
            return redirect(back)
        except DomainError as exc:
            db.session.rollback()
            error = str(exc)
    return render_template("officers/bulk_confirm.html", action=action, label=BULK_ACTIONS[action],
                           officers=officers, targets=bulk_targets(action), error=error, back=back,
                           form=request.form, filters=filters)


def _bulk_apply(action: str, officers: list[Officer], target: str) -> str:
    n = len(officers)
    if action in ("post_on", "post_off"):
        changed = bulk_set_post(officers, action == "post_on")
        return f"已将 {changed} 名人员{BULK_ACTIONS[action]}" + (f"（{n - changed} 人原已如此）" if n > changed else "")
    target_id = int(target) if target.isdigit() and len(target) < 10 else None
    if action == "unit":
        unit = db.session.get(Unit, target_id) if target_id else None
        if unit is None:
            raise DomainError("请选择要调入的单位")
        moved = bulk_set_unit(officers, unit)
        return f"已将 {moved} 名人员调入“{unit.name}”" + (f"（{n - moved} 人原已在该单位）" if n > moved else "")
    if action == "training":
        session = db.session.get(TrainingSession, target_id) if target_id else None
        if session is None:
            raise DomainError("请选择要报名的培训")
        added = bulk_enrol(session, officers)
        return f"已为 {added} 名人员报名培训“{session.title}”" + (f"（{n - added} 人已在名单中）" if n > added else "")
    exam = db.session.get(Exam, target_id) if target_id else None
    if exam is None:
        raise DomainError("请选择要报名的考试")
    added = bulk_add_candidates(exam, officers)
    return f"已为 {added} 名人员报名考试“{exam.title}”" + (f"（{n - added} 人已在考生名单中）" if n > added else "")


def _officer_form(officer: Officer | None) -> OfficerForm:
    form = OfficerForm(obj=officer)
    form.unit_id.choices = [("", "请选择单位"), *[(u.id, u.name) for u in unit_list()]]
    if officer is not None:
        if request.method == "GET":
            form.version.data = str(officer.version)
            # The whole ID number appears only on the detail page, to admins (docs/domain.md 身份证号):
            # the edit form starts blank, and blank keeps the stored number.
            form.id_number.data = ""
        form.id_number.render_kw = {"placeholder": officer.id_number_masked}
        form.id_number.description = "留空表示不修改；如需更正请输入完整的18位号码"
        form.unit_id.description = ("在此更改单位记为今天的调动（无文号）；补登调动日期、文号和原因，"
                                    "请在人员页面用“调动”登记")
    return form


@bp.route("/officers/new", methods=["GET", "POST"])
@require_role("clerk")
def officer_new():
    return _officer_edit(None)


@bp.route("/officers/<int:officer_id>/edit", methods=["GET", "POST"])
@require_role("clerk")
def officer_edit(officer_id: int):
    return _officer_edit(db.get_or_404(Officer, officer_id))


def _officer_edit(officer: Officer | None):
    form = _officer_form(officer)
    if form.validate_on_submit():
        data = form.officer_data()
        if officer is not None and not data["id_number"]:
            data["id_number"] = officer.id_number
        expected = form_version(form.version.data) if officer is not None else None
        with commit_or_errors(form) as tx:
            saved = save_officer(officer, data, today=clock.today(), expected_version=expected)
            if form.photo_data:
                set_photo(saved, *form.photo_data)
            elif form.remove_photo.data and saved.photo_mime:
                set_photo(saved, None, None)
            tx.success = f"执法人员“{saved.name}”已保存"
        if tx.ok:
            return redirect(url_for("officers.detail", officer_id=saved.id))
    elif form.errors:
        flash("表单有误，请按提示修改", "danger")
    return render_template("officers/form.html", form=form, officer=officer)


@bp.route("/officers/<int:officer_id>")
@scope.per_row  # one officer's rows in every section (app/scope.py PER_ROW)
def detail(officer_id: int):
    officer = db.session.scalars(
        select(Officer)
        .where(Officer.id == officer_id)
        .options(
            joinedload(Officer.unit),
            joinedload(Officer.photo_record),  # its type only (whether to show it); bytes deferred
            # the cards and their events in the same statement (a scoped user's page runs one
            # statement more, the unit tree: ≤ 12 in all)
            joinedload(Officer.certificates).joinedload(Certificate.events),
            joinedload(Officer.unit_spells).joinedload(OfficerUnitHistory.unit),  # the unit history
            joinedload(Officer.applications),  # the 申请 section (app/applications)
        )
    ).unique().first()
    if officer is None:
        abort(404)
    d = clock.today()
    flags = compliance.officer_flags(compliance.Params.from_settings(d), officer.id)
    show_id = officer.id_number if sees_full_ids() else officer.id_number_masked

    can_edit = current_user.role in ("admin", "clerk")

    can_depart = can_edit and officer.employment_status == "active"
    return render_template(
        # only a departed officer has 注销 tasks: an active one's page runs no statement for them
        "officers/detail.html", cancel_tasks=open_tasks(officer.id) if officer.employment_status != "active" else [],
        departure_form=DepartureForm(formdata=None, version=officer.version) if can_depart else None,
        can_transfer=can_depart, unit_history=spells_of(officer),
        cancel_days=settings_get("card_cancel_days") if can_depart else None,
        officer=officer, flags=flags, today=d, show_id=show_id,
        full_id=sees_full_ids(), show_age=sees_ages(), history=history(officer.id), can_edit=can_edit,
        attachments=attachments_of(officer.id) if can_edit else [], attachment_kinds=ATTACHMENT_KINDS,
        **officer_context(officer.id), officer_cases=officer_cases(officer.id),
    )


@bp.route("/officers/<int:officer_id>/photo")
def photo(officer_id: int):
    return officer_photo(officer_id)


# ---------------------------------------------------------------- attachments (admin and clerk only)


@bp.route("/officers/cancel-tasks")
def cancel_tasks():
    """离岗待注销证件: every open task, overdue first (within the user's unit scope)."""
    d = clock.today()
    tasks = open_tasks()
    return render_template("officers/cancel_tasks.html", tasks=tasks, today=d,
                           overdue=sum(1 for t in tasks if t.due_on < d))


@bp.route("/officers/<int:officer_id>/depart", methods=["POST"])
@require_role("clerk")
def officer_depart(officer_id: int):
    """离岗: the post ends and a task opens to 注销 each card still held (app/officers/departures.py)."""
    officer = db.get_or_404(Officer, officer_id)
    form = DepartureForm()
    if not form.validate():
        problems = [m for errors in form.errors.values() for m in errors]
        flash("离岗未登记：" + "；".join(problems), "danger")
        return redirect(url_for("officers.detail", officer_id=officer_id) + "#departure")
    with commit_or_errors(refused="离岗未登记：") as tx:
        tasks = depart(officer, form.kind.data, form.on.data, today=clock.today(),
                       expected_version=form_version(form.version.data), document_no=form.document_no.data or "")
        tx.success = (f"已登记“{officer.name}”离岗" + (f"，请在{tasks[0].due_on.year}年{tasks[0].due_on.month}月"
                      f"{tasks[0].due_on.day}日前注销其 {len(tasks)} 个证件" if tasks else ""))
    return redirect(url_for("officers.detail", officer_id=officer_id) + "#departure")


def _transfer_form(officer: Officer, formdata=None) -> TransferForm:
    form = TransferForm(formdata=formdata, version=officer.version)
    form.to_unit.choices = [("", "请选择"), *((u.id, u.name) for u in unit_list() if u.id != officer.unit_id)]
    return form


@bp.route("/officers/<int:officer_id>/transfer", methods=["GET", "POST"])
@require_role("clerk")
def officer_transfer(officer_id: int):
    """调动: to another unit on a date, with a 文号 (app/rules/transfers.py). The user's scope must
    hold both the officer's unit and the one they move to."""
    officer = scope.get_officer_or_404(officer_id)
    if request.method == "GET":
        if officer.employment_status != "active":
            flash(f"“{officer.name}”已不在职，不能登记调动", "warning")
            return redirect(url_for("officers.detail", officer_id=officer_id))
        return render_template("officers/transfer.html", officer=officer, form=_transfer_form(officer),
                               unit_history=unit_history(officer.id))
    back = redirect(url_for("officers.detail", officer_id=officer_id) + "#unit-history")
    form = _transfer_form(officer, request.form)
    form.to_unit.choices = [(u.id, u.name) for u in unit_list()]
    if not form.validate():
        problems = [m for errors in form.errors.values() for m in errors]
        flash("调动未登记：" + "；".join(problems), "danger")
        return redirect(url_for("officers.officer_transfer", officer_id=officer_id))
    to_unit = db.session.get(Unit, form.to_unit.data)
    if to_unit is None or not scope.covers(to_unit.id) or not scope.covers(officer.unit_id):
        flash("调动未登记：调入单位不在您的管辖范围内", "danger")
        return redirect(url_for("officers.officer_transfer", officer_id=officer_id))
    with commit_or_errors(refused="调动未登记：") as tx:
        transfer(officer, to_unit, form.on.data, today=clock.today(), document_no=form.document_no.data or "",
                 reason=form.reason.data or "", expected_version=form_version(form.version.data))
        tx.success = f"已登记“{officer.name}”调入“{to_unit.name}”（{cn_date(form.on.data)}起）"
    if not tx.ok:
        return redirect(url_for("officers.officer_transfer", officer_id=officer_id))
    return back


@bp.route("/officers/<int:officer_id>/attachments", methods=["POST"])
@require_role("clerk")
def attachment_add(officer_id: int):
    officer = db.get_or_404(Officer, officer_id)
    storage = request.files.get("file")
    data = storage.read(MAX_SIZE + 1) if storage else b""
    with commit_or_errors(refused="附件未上传：") as tx:
        att = add_attachment(officer, request.form.get("kind", ""), storage.filename if storage else "", data)
        tx.success = f"附件《{att.filename}》已上传"
    return redirect(url_for("officers.detail", officer_id=officer_id) + "#attachments")


def _attachment(officer_id: int, att_id: int) -> OfficerAttachment:
    att = db.session.get(OfficerAttachment, att_id)
    if att is None or att.officer_id != officer_id:
        abort(404)
    return att


@bp.route("/officers/<int:officer_id>/attachments/<int:att_id>")
@require_role("clerk")
def attachment_get(officer_id: int, att_id: int):
    att = _attachment(officer_id, att_id)
    return download(att.data, att.filename, f"attachment-{att.id}.{att.filename.rsplit('.', 1)[-1]}",
                    mimetype=att.mime, private=True)


@bp.route("/officers/<int:officer_id>/attachments/<int:att_id>/delete", methods=["POST"])
@require_role("clerk")
def attachment_delete(officer_id: int, att_id: int):
    officer = db.get_or_404(Officer, officer_id)
    att = _attachment(officer_id, att_id)
    name = att.filename
    delete_attachment(officer, att)
    flash(f"附件《{name}》已删除", "success")
    return redirect(url_for("officers.detail", officer_id=officer_id) + "#attachments")


@bp.route("/officers/<int:officer_id>/delete", methods=["POST"])
@require_role("admin")
def officer_delete(officer_id: int):
    """Delete a record entered by mistake, when nothing refers to it."""
    officer = db.get_or_404(Officer, officer_id)
    name = officer.name
    with commit_or_errors() as tx:
        delete_officer(officer)
        tx.success = f"已删除执法人员“{name}”"
    if tx.ok:
        return redirect(url_for("officers.index"))
    return redirect(url_for("officers.detail", officer_id=officer_id))


def _find_other(text: str, officer: Officer) -> tuple[Officer | None, str]:
    """The other record, by its full ID number, its 编号 (the number in its page's address) or a
    name only one other record has."""
    text = text.strip()
    if not text:
        return None, ""
    number = normalize(text)
    if len(number) == 18:
        other = db.session.scalar(select(Officer).where(Officer.id_number == number))
        return other, "" if other else "没有身份证号为该号码的人员"
    if text.isdigit():
        other = db.session.get(Officer, int(text))
        return other, "" if other else f"没有编号为 {text} 的人员"
    found = list(db.session.scalars(select(Officer).where(Officer.name == text, Officer.id != officer.id).limit(3)))
    if len(found) == 1:
        return found[0], ""
    return None, (f"没有其他名为“{text}”的人员" if not found
                  else f"有多位人员名为“{text}”，请改填身份证号或编号")


@bp.route("/officers/<int:officer_id>/merge", methods=["GET", "POST"])
@require_role("admin")
def officer_merge(officer_id: int):
    """Remove a record entered by mistake: its 删除 button (or what refers to it), and the merge of
    a duplicate record of the same person into one: pick the other record, then the
    record to keep; every row of the other moves to it."""
    officer = db.get_or_404(Officer, officer_id)
    other, problem = _find_other(request.values.get("other", ""), officer)
    plan = None
    if other is not None:
        keep_id = request.values.get("keep", type=int) or officer.id
        keep, drop = (other, officer) if keep_id == other.id else (officer, other)
        try:
            plan = plan_merge(keep, drop)
        except DomainError as exc:
            problem, plan = str(exc), None
    if request.method == "POST" and plan is not None:
        keep_id, keep_name = plan.keep.id, plan.keep.name
        with commit_or_errors(refused="未合并：") as tx:
            merge_officers(plan.keep, plan.drop)
            tx.success = f"已合并：全部记录已归入“{keep_name}”（编号 {keep_id}）"
        if tx.ok:
            return redirect(url_for("officers.detail", officer_id=keep_id))
        return redirect(url_for("officers.officer_merge", officer_id=officer_id, other=request.values.get("other", "")))

    return render_template("officers/merge.html", officer=officer, other=other, plan=plan, problem=problem,
                           other_text=request.values.get("other", ""), describe=describe,
                           delete_blockers=describe(delete_blockers(officer.id)))
