from __future__ import annotations

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models_base import TimestampMixin


class Setting(TimestampMixin, db.Model):
    __tablename__ = "setting"
    name: Mapped[str] = mapped_column(String(50), unique=True)
    value: Mapped[str] = mapped_column(Text, default="")
