"""Shared column helpers for every model, and SQL functions written per database."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.functions import FunctionElement


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class TimestampMixin:
    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


def sql_function(name: str, type_, default: str, sqlite: str, doc: str) -> type[FunctionElement]:
    """A SQL function of one or more arguments, written `default` (PostgreSQL) or `sqlite`, where
    `{}` stands for the arguments: sql_function("next_day", Date(), "({} + 1)", "date({}, '+1 day')", …)."""
    cls = type(name, (FunctionElement,), {"type": type_, "inherit_cache": True, "__doc__": doc})

    @compiles(cls)
    def _default(element, compiler, **kw):
        return default.format(compiler.process(element.clauses, **kw))

    @compiles(cls, "sqlite")
    def _sqlite(element, compiler, **kw):
        return sqlite.format(compiler.process(element.clauses, **kw))

    return cls
