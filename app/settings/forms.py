from flask_wtf import FlaskForm
from wtforms import StringField

from app.settings.services import SPECS


class SettingsForm(FlaskForm):
    pass


for _name, _spec in SPECS.items():
    setattr(SettingsForm, _name, StringField(_spec.label, description=_spec.help))
