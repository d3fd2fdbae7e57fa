from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, StringField, widgets

from app.labels import ESTABLISHMENTS
from app.settings.services import SPECS


class CheckboxesField(SelectMultipleField):
    """A list of codes chosen by ticking their Chinese labels (stored comma-separated)."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()

    def process_formdata(self, valuelist):
        # A ticked box per code; a comma-separated list (as typed before) is taken too.
        super().process_formdata([c for v in valuelist for c in str(v).split(",") if c.strip()])

    def pre_validate(self, form):  # "none ticked" is the setting's own message, not WTForms'
        if self.data:
            super().pre_validate(form)


# Settings whose value is a set of codes: checkboxes of their labels instead of typed codes.
CHOICE_SETTINGS = {"eligible_establishments": ESTABLISHMENTS}


class SettingsForm(FlaskForm):
    pass


for _name, _spec in SPECS.items():
    if _name in CHOICE_SETTINGS:
        field = CheckboxesField(_spec.label, choices=list(CHOICE_SETTINGS[_name].items()),
                                description=_spec.help)
    else:
        field = StringField(_spec.label, description=_spec.help)
    setattr(SettingsForm, _name, field)
