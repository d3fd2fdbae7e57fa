from datetime import timedelta
from itertools import islice

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import delete, func, select

from app import clock, idnumber
from app.audit.services import record
from app.auth.access import require_role
from app.extensions import db
from app.importing.base import ERRORS_HEADER
from app.importing.readers import (
    SUPPORTED_EXTENSIONS,
    ImportRefused,
    extension,
    read_table,
    to_text,
    unsupported_message,
)
from app.imports import bank as _bank  # noqa: F401  (the question bank's upload page, on the online blueprint)
from app.imports import bp
from app.imports.annotate import annotated_workbook
from app.imports.cache import parsed, prune
from app.imports.forms import ImportForm
from app.imports.history import MODELS, new_batch, record_batch, run_batch, why_not_undo
from app.imports.history import undo as undo_import
from app.imports.jobs import defer  # also registers the "import" job kind
from app.imports.kinds import importers
from app.imports.services import run_import, template_workbook
from app.imports.templates import export_workbook
from app.models.imports import ImportBatch
from app.models_base import utcnow
from app.uow import commit
from app.web.args import page_arg
from app.web.files import download
from app.web.tx import commit_or_errors

MAX_SHOWN = 500


@bp.route("/imports", methods=["GET", "POST"])
@require_role("clerk")
def index():
    kinds = importers()
    form = ImportForm()
    form.kind.choices = [(k, i.noun) for k, i in kinds.items()]
    if request.method == "GET" and request.args.get("kind") in kinds:
        form.kind.data = request.args["kind"]  # a module's page links here with its kind chosen
    problems, problem_total = None, 0
    result = None
    if form.validate_on_submit():
        storage = form.file.data
        filename = storage.filename or ""
        data = storage.stream.read()
        try:
            result = run_import(form.kind.data, data, filename, today=clock.today(),
                                dry_run=form.dry_run.data)
        except ImportRefused as refused:
            db.session.rollback()
            problems, problem_total = refused.problems, refused.total
        else:
            if result.dry_run:
                db.session.rollback()
            else:
                record_batch(new_batch(form.kind.data, filename, data), result)
                flash(f"导入成功：{result.summary()}", "success")
                return redirect(url_for("imports.index"))
    return render_template("imports/index.html", form=form, problems=problems, result=result,
                           problem_total=problem_total, max_shown=MAX_SHOWN, kinds=kinds)


@bp.route("/imports/template/<kind>.xlsx")
@require_role("clerk")
def template(kind: str):
    found = importers().get(kind)
    if found is None:
        abort(404)
    return download(template_workbook(kind), f"{found.noun}导入模板.xlsx", f"{kind}-template.xlsx")


@bp.route("/imports/export/<kind>.xlsx")
@require_role("admin")  # full ID numbers: the import needs them, so only an administrator
def export(kind: str):
    found = importers().get(kind)
    if found is None:
        abort(404)
    data = export_workbook(found)
    record("export", found.entity, None, f"按导入格式导出{found.noun}")
    return download(data, f"{found.noun}（导入格式）.xlsx", f"{kind}.xlsx")


# --- the wizard: upload → preview and column mapping → check → import ---------------------------

PREVIEW_ROWS = 20
IGNORE = "__ignore__"


def _batch(token: str) -> ImportBatch:
    """The caller's own upload (an administrator may open anyone's); 404 otherwise."""
    batch = db.session.scalar(select(ImportBatch).where(ImportBatch.token == token))
    if batch is None or (batch.user_id != current_user.id and current_user.role != "admin"):
        abort(404)
    return batch


def _uploaded_batch(token: str) -> ImportBatch:
    """`_batch`, still waiting to be imported; one imported already: back to the history."""
    batch = _batch(token)
    if batch.status != "uploaded":
        flash("这个文件已经导入过了", "warning")
        abort(redirect(url_for("imports.history")))
    return batch


def _batch_and_importer(token: str, *, uploaded: bool = False):
    """(`_batch`, or `_uploaded_batch` when `uploaded`, and the importer of its kind)."""
    batch = _uploaded_batch(token) if uploaded else _batch(token)
    return batch, importers()[batch.kind]


@bp.route("/imports/upload", methods=["POST"])
@require_role("clerk")
def upload():
    kinds = importers()
    form = ImportForm()
    form.kind.choices = [(k, i.noun) for k, i in kinds.items()]
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for e in errors:
                flash(e, "danger")
        return redirect(url_for("imports.index"))
    storage = form.file.data
    filename = storage.filename or ""
    if extension(filename) not in SUPPORTED_EXTENSIONS:
        flash(unsupported_message(filename), "danger")
        return redirect(url_for("imports.index"))
    # uploads left in the wizard for a day are dropped (they hold whole files)
    db.session.execute(delete(ImportBatch).where(
        ImportBatch.status == "uploaded", ImportBatch.created_at < utcnow() - timedelta(days=1)))
    prune()
    batch = new_batch(form.kind.data, filename, storage.stream.read())
    return redirect(url_for("imports.preview", token=batch.token))


@bp.route("/imports/b/<token>")
@require_role("clerk")
def preview(token: str):
    batch, importer = _batch_and_importer(token)
    try:
        table = read_table(parsed(batch), batch.filename, importer.columns)
        rows = list(islice(table.rows, PREVIEW_ROWS))
    except ImportRefused as refused:
        return render_template("imports/wizard.html", step="check", batch=batch,
                               importer=importer, problems=refused.problems, problem_total=refused.total,
                               max_shown=MAX_SHOWN)
    headers = [h for h in table.headers if h != ERRORS_HEADER]  # an annotated sheet's own column
    detected, _problems = importer.map_headers(headers, header_row=table.header_row)
    saved = batch.mapping
    choice = {}
    for h in headers:
        if h in saved.get("assign", {}):
            choice[h] = saved["assign"][h]
        elif h in saved.get("ignore", []) or h not in detected:
            choice[h] = IGNORE
        else:
            choice[h] = detected[h].field
    absent = [c for c in importer.columns if c.field not in {col.field for col in detected.values()}]
    examples = {number for number, values in rows if importer.is_example(values, detected)}
    return render_template("imports/wizard.html", step="preview", batch=batch, importer=importer,
                           table=table, headers=headers, rows=rows, detected=detected, choice=choice, absent=absent,
                           examples=examples,
                           ignore=IGNORE, to_text=to_text, defaults=importer.defaults,
                           masked={h for h, c in detected.items()
                                   if c.kind == "id" and current_user.role != "admin"},
                           mask=idnumber.mask)


@bp.route("/imports/b/<token>/check", methods=["POST"])
@require_role("clerk")
def check(token: str):
    batch, importer = _batch_and_importer(token, uploaded=True)
    fields = {c.field for c in importer.columns}
    ignore, assign = [], {}
    for key, value in request.form.items():
        if not key.startswith("map:"):
            continue
        header = key[4:]
        if value == IGNORE:
            ignore.append(header)
        elif value in fields:
            assign[header] = value
    batch.mapping = {"ignore": ignore, "assign": assign}
    commit()
    problems, problem_total, result = None, 0, None
    try:
        result = run_batch(batch, dry_run=True)
    except ImportRefused as refused:
        problems, problem_total = refused.problems, refused.total
    db.session.rollback()
    return render_template("imports/wizard.html", step="check", batch=batch, importer=importer,
                           problems=problems, problem_total=problem_total, result=result,
                           max_shown=MAX_SHOWN)


@bp.route("/imports/b/<token>/errors.xlsx")
@require_role("clerk")
def errors_xlsx(token: str):
    batch, importer = _batch_and_importer(token)
    try:
        run_batch(batch, dry_run=True)
        problems = []
    except ImportRefused as refused:
        problems = refused.problems
    db.session.rollback()
    try:
        source = parsed(batch)
    except (ImportRefused, OSError):
        source = batch.original
    data = annotated_workbook(importer, source, batch.filename, problems)
    stem = batch.filename.rsplit(".", 1)[0]
    return download(data, f"{stem}（问题标注）.xlsx", "errors.xlsx")


@bp.route("/imports/b/<token>/import", methods=["POST"])
@require_role("clerk")
def run(token: str):
    batch = _uploaded_batch(token)
    # the new units ticked on the check page are the only ones the import may register
    batch.mapping = batch.mapping | {"create_units": request.form.getlist("create_unit")}
    commit()
    if (queued := defer(batch)) is not None:  # a big file: a background job
        return queued
    try:
        result = run_batch(batch, dry_run=False)
    except ImportRefused as refused:
        db.session.rollback()
        return render_template("imports/wizard.html", step="check", batch=batch,
                               importer=importers()[batch.kind], problems=refused.problems,
                               problem_total=refused.total,
                               max_shown=MAX_SHOWN)
    record_batch(batch, result)
    flash(f"导入成功：{result.summary()}", "success")
    return redirect(url_for("imports.batch_detail", batch_id=batch.id))


@bp.route("/imports/history")
@require_role("clerk")
def history():
    page = page_arg()
    per_page = 50
    query = select(ImportBatch).where(ImportBatch.status != "uploaded")
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    batches = db.session.scalars(query.order_by(ImportBatch.id.desc())
                                 .limit(per_page).offset((page - 1) * per_page)).all()
    return render_template("imports/history.html", batches=batches, kinds=importers(),
                           page=page, pages=max((total + per_page - 1) // per_page, 1), total=total)


# what a person calls the rows of each table, and where one is shown
CREATED_LINKS = {"unit": ("单位", None, None), "officer": ("执法人员", "officers.detail", "officer_id"),
                 "certificate": ("证件", "certificates.detail", "cert_id"),
                 "training_session": ("培训", "training.detail", "session_id"),
                 "attendance": ("出勤记录", None, None), "exam": ("考试", "exams.detail", "exam_id"),
                 "exam_result": ("成绩", None, None),
                 "penalty_case": ("行政处罚案件", "cases.detail", "case_id"),
                 "question": ("试题", "online.bank_edit", "qid")}
DETAIL_LINKS = 50


def _created_names(table: str, ids: list[int]) -> dict[int, str]:
    """What a person calls each created row (an officer's name, a certificate's number…), read in
    one query; rows since removed are missing."""
    model = MODELS.get(table)
    column = {"officer": "name", "unit": "name", "certificate": "number", "training_session": "title",
              "exam": "title", "penalty_case": "case_no", "question": "stem"}.get(table)
    if model is None or column is None or not ids:
        return {}
    return {i: (n or "")[:30] for i, n in db.session.execute(
        select(model.id, getattr(model, column)).where(model.id.in_(ids)))}


@bp.route("/imports/history/<int:batch_id>")
@require_role("clerk")
def batch_detail(batch_id: int):
    """One import: its summary and links to what it created (the first 50 of each kind)."""
    batch = db.session.get(ImportBatch, batch_id) or abort(404)
    created = []
    for table, ids in batch.created_ids.items():
        noun, endpoint, arg = CREATED_LINKS.get(table, (table, None, None))
        if ids:
            names = _created_names(table, ids[:DETAIL_LINKS]) if endpoint else {}
            links = [(names.get(i) or f"已删除（编号 {i}）", url_for(endpoint, **{arg: i}) if i in names else None)
                     for i in ids[:DETAIL_LINKS]] if endpoint else []
            created.append((noun, len(ids), links))
    return render_template("imports/batch.html", batch=batch, created=created,
                           kinds=importers(), why_not=why_not_undo(batch))


@bp.route("/imports/history/<int:batch_id>/file")
@require_role("clerk")
def original(batch_id: int):
    batch = db.session.get(ImportBatch, batch_id) or abort(404)
    if batch.user_id != current_user.id and current_user.role != "admin":
        abort(403)  # the file holds full ID numbers: its uploader's or an administrator's only
    ext = extension(batch.filename) or ".bin"
    return download(batch.original, batch.filename, f"import-{batch.id}{ext}", mimetype="application/octet-stream")


@bp.route("/imports/history/<int:batch_id>/undo", methods=["POST"])
@require_role("clerk")
def undo(batch_id: int):
    batch = db.session.get(ImportBatch, batch_id) or abort(404)
    if batch.user_id != current_user.id and current_user.role != "admin":
        flash("只能撤销自己的导入（管理员可撤销任何导入）", "danger")
        return redirect(url_for("imports.history"))
    with commit_or_errors() as tx:
        summary = undo_import(batch)
        tx.success = summary
    return redirect(url_for("imports.history"))
