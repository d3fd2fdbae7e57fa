"""vulture's allow-list (`make lint`, settings in pyproject.toml [tool.vulture]): names the code
defines for a reader vulture cannot see — Flask, Flask-Login, SQLAlchemy, WTForms, openpyxl,
python-docx, urllib, WeasyPrint, huey, or a Jinja template. Add a name here only with its reader."""
# ruff: noqa
_ = object()

# Flask / Flask-Login / Werkzeug read these attributes
_.request_class, _.login_view, _.login_message, _.anonymous_user, _.direct_passthrough
# flask-smorest reads these class attributes and calls the overridden method
_.DEFAULT_ERROR_RESPONSE_NAME, _.ERROR_SCHEMA, _._register_error_handlers
# SQLAlchemy: columns and relationships (read by templates, the API or queries by name), cache flag
_.step_since, _.application, _.certificate, _.last_login_at, _.failed_logins, _.created_count, _.undone_at
_.decided_by, _.decided_at, _.uploaded_by, _.first_at, _.last_at, _.api_token_id, _.inherit_cache
# request-scoped caches on flask.g
_._user_session, _._user_figures, _._scope_unit, _._scope_user, _._scope_parents, _._scope_opts
_._settings, _._training_rules, _._t0, _._officer_url_pattern, _.progress_hook
# WTForms: widgets, inline validators, fields a template draws by name
_.widget, _.option_widget, _.validate_photo, _.description
_.option_a, _.option_b, _.option_c, _.option_d, _.option_e, _.option_f
# openpyxl and python-docx read what is set on cells, sheets and paragraphs
_.fill, _.comment, _.alignment, _.freeze_panes, _.data_type, _.quotePrefix
_.rgb, _.style, _.first_line_indent, _.line_spacing
# WeasyPrint's url fetcher and urllib's redirect handler call these
_.fetch, _.redirect_request
# click reads a command's help from __doc__
_.__doc__
# importers register themselves by subclassing Importer (app/importing/base.py)
_.CaseImporter, _.ScoreImporter, _.UnitImporter, _.TransferImporter, _.DepartureImporter
_.QuestionImporter, _.AttendanceImporter
# templates: User.can, Officer.age_on, L.CERT_EVENT_KINDS, the filter bars (templates/macros.html)
_.can, _.age_on, _.CERT_EVENT_KINDS, _.total_gap
_.placeholder, _.style, _.labelled, _.form_class, _.form_id, _.submit_class, _.clear_always, _.keep_sort
_.bar, _.CASE_FILTERS, _.REVIEW_FILTERS
# tests and scripts call these (the import CLI's Python entry points, the oracle tests, warm-up)
_.import_officers, _.import_certificates, _.effective_in_year, _.effective_span, _.settle
# the Python statement of the training-hours rule, which rule_status_sql's docstring mirrors
_.year_status
# Flask's CLI finds the factory by name (`flask --app app`); a flag on flask.g read back with g.pop
_.create_app, _._uow_failed
# the flag store (app/rules/flagstore.py): when it was built (read by people), the suite's check (tests/conftest.py)
_.built_at, _.held_differences
