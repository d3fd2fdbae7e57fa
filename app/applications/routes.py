from app.applications import bp  # noqa: F401
