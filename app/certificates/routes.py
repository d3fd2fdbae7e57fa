from flask import render_template

from app.certificates import bp


@bp.route("/certificates")
def index():
    return render_template("errors.html", code=200, message="建设中")
