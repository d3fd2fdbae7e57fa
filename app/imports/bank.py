"""The question bank's own upload: its page (/exams/bank/import, on the online blueprint) and
`flask exams import-questions FILE`. Both run the questions importer of the import framework and
record the upload in 导入记录 (undoable there), so they live here, in the import centre, above the
online exams they serve; app/cli.py puts the command in the `flask exams` group.
"""

from __future__ import annotations

import click
from flask import flash, redirect, render_template, url_for
from flask.cli import with_appcontext

from app import clock
from app.auth.access import require_role
from app.extensions import db
from app.importing.base import get_importer
from app.importing.readers import ImportRefused
from app.imports.cli import _run
from app.imports.history import new_batch, record_batch
from app.online import bp as online_bp
from app.online.forms import BankImportForm


@online_bp.route("/exams/bank/import", methods=["GET", "POST"])
@require_role("clerk")
def bank_import():
    """The bank's own upload: the questions importer of the import framework, recorded in 导入记录
    (undoable there); the wizard (/imports?kind=questions) adds the preview and column mapping."""
    importer = get_importer("questions")
    form = BankImportForm()
    problems = []
    if form.validate_on_submit():
        upload = form.file.data
        if upload is None or not getattr(upload, "filename", ""):
            flash("请选择文件", "danger")
        else:
            data = upload.read()
            try:
                result = importer.run(data, upload.filename, today=clock.today(), dry_run=form.dry_run.data)
            except ImportRefused as refused:
                db.session.rollback()
                problems = refused.problems
                flash(f"导入被拒绝：共 {len(problems)} 个问题，未写入任何数据", "danger")
            else:
                matched = result.updated + result.unchanged
                same = f"（其中 {result.unchanged} 道内容无变化）" if result.unchanged else ""
                if form.dry_run.data:
                    db.session.rollback()
                    flash(f"校验通过（未写入）：将新增 {result.created} 道、更新 {matched} 道试题{same}", "info")
                else:
                    record_batch(new_batch("questions", upload.filename, data), result)
                    flash(f"已导入：新增 {result.created} 道、更新 {matched} 道试题{same}", "success")
                    return redirect(url_for("online.bank_index"))
    return render_template("online/bank_import.html", form=form, problems=problems, columns=importer.columns)


@click.command("import-questions")
@click.argument("file")
@click.option("--dry-run", is_flag=True, help="只校验，不写入")
@click.option("--ignore-column", "ignore", multiple=True, metavar="列名", help="忽略文件中的这一列（可重复）")
@click.option("--errors-out", type=click.Path(dir_okay=False), default=None,
              help="被拒绝时，把标注了问题的表格写到这个 .xlsx 文件")
@with_appcontext
def import_questions_cmd(file: str, dry_run: bool, ignore: tuple[str, ...], errors_out: str | None) -> None:
    """导入题库（.xlsx/.xls/.ods/.csv；题干+题型相同的题目更新）；同 flask import questions"""

    def summary(result) -> str:
        # "更新" here counts every row that matched a bank question, as this command always has
        matched = result.updated + result.unchanged
        same = f"（其中 {result.unchanged} 道内容无变化）" if result.unchanged else ""
        if result.dry_run:
            return f"校验通过（未写入）：将新增 {result.created} 道、更新 {matched} 道试题{same}"
        return f"已导入：新增 {result.created} 道、更新 {matched} 道试题{same}"

    _run("questions", file, dry_run, None, ignore, errors_out, summary=summary)


exam_commands = [import_questions_cmd]  # `flask exams import-questions`
