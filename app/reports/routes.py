from flask import render_template

from app.reports import bp


@bp.route("/flags")
def flags():
    return render_template("errors.html", code=200, message="建设中")
