from datetime import date

from flask import Response, abort, flash, redirect, render_template, url_for

from app.auth.access import require_role
from app.extensions import db
from app.imports import bp
from app.imports.base import importers
from app.imports.forms import ImportForm
from app.imports.readers import ImportRefused
from app.imports.services import run_import, template_workbook

MAX_SHOWN = 500
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def today() -> date:
    return date.today()


@bp.route("/imports", methods=["GET", "POST"])
@require_role("clerk")
def index():
    kinds = importers()
    form = ImportForm()
    form.kind.choices = [(k, i.noun) for k, i in kinds.items()]
    problems = None
    result = None
    if form.validate_on_submit():
        upload = form.file.data
        filename = upload.filename or ""
        try:
            result = run_import(form.kind.data, upload.stream.read(), filename, today=today(),
                                dry_run=form.dry_run.data)
        except ImportRefused as refused:
            db.session.rollback()
            problems = refused.problems
        else:
            if result.dry_run:
                db.session.rollback()
            else:
                db.session.commit()
                flash(f"导入成功：{result.summary()}", "success")
                return redirect(url_for("imports.index"))
    return render_template("imports/index.html", form=form, problems=problems, result=result,
                           max_shown=MAX_SHOWN, kinds=kinds)


@bp.route("/imports/template/<kind>.xlsx")
@require_role("clerk")
def template(kind: str):
    found = importers().get(kind)
    if found is None:
        abort(404)
    name = f"{found.noun}导入模板.xlsx"
    from urllib.parse import quote

    return Response(template_workbook(kind), mimetype=XLSX, headers={
        "Content-Disposition": f"attachment; filename=\"{kind}-template.xlsx\"; filename*=UTF-8''{quote(name)}"})
