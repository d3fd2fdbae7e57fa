from flask import render_template

from app.officers import bp


@bp.route("/officers")
def index():
    return render_template("errors.html", code=200, message="建设中")


@bp.route("/units")
def units():
    return render_template("errors.html", code=200, message="建设中")
