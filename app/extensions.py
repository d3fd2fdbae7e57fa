"""Bare extension objects, bound to the app in create_app."""

from flask import current_app
from flask_bootstrap import Bootstrap5
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
bootstrap = Bootstrap5()

# Rate limits (Flask-Limiter), keyed by the client address. Storage: RATELIMIT_STORAGE_URI
# (memory:// by default, redis://… when configured). Limits are read from the config at each
# request, so tests and deployments change them without code.
limiter = Limiter(key_func=get_remote_address)


def config_limit(name: str):
    """A limit string taken from app.config[name] at request time, e.g. "30/minute"."""
    return lambda: current_app.config[name]


# One budget per client address shared by every public (no-login) page that uses it:
# decorate a view with @public_limit (e.g. /public/officers).
public_limit = limiter.shared_limit(config_limit("PUBLIC_RATE_LIMIT"), scope="public")
