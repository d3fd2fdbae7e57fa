from flask import flash, redirect, render_template, url_for

from app.extensions import db
from app.roles import require_role
from app.settings import bp
from app.settings.forms import CHOICE_SETTINGS, SettingsForm
from app.settings.services import PAGE_SECTIONS, SPECS, SettingError, forget, get_raw, set_value


@bp.route("/settings", methods=["GET", "POST"])
@require_role("admin")
def index():
    form = SettingsForm(data={name: get_raw(name).split(",") if name in CHOICE_SETTINGS else get_raw(name)
                              for name in SPECS})
    if form.validate_on_submit():
        errors = 0
        for name in SPECS:
            try:
                value = getattr(form, name).data or ""
                set_value(name, ",".join(value) if isinstance(value, list) else value)
            except SettingError as exc:
                # beside its field, without the setting's code name (that is for the command line)
                getattr(form, name).errors = [str(exc).removeprefix(f"{SPECS[name].label}（{name}）：")]
                errors += 1
        if errors:
            db.session.rollback()
            forget()
            flash(f"有 {errors} 项设置不正确，未保存，请按提示修改", "danger")
        else:
            flash("设置已保存", "success")
            return redirect(url_for("settings.index"))
    # the training-hours rules (app/rules/training.py) and whatever else their owners show here
    sections = {name: make() for name, make in PAGE_SECTIONS.items()}
    return render_template("settings/index.html", form=form, specs=SPECS, **sections)
