"""One uploaded file on its way through the import wizard, and afterwards the record of what it
imported (导入记录): who, when, which file (kept for download), how many rows
were new or updated, and the ids it created so that the import can be undone."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, deferred, mapped_column

from app.extensions import db
from app.models_base import TimestampMixin


class ImportBatch(TimestampMixin, db.Model):
    __tablename__ = "import_batch"
    token: Mapped[str] = mapped_column(String(40), unique=True)  # the wizard's URL key (random)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    actor: Mapped[str] = mapped_column(String(100), default="")
    kind: Mapped[str] = mapped_column(String(30))
    filename: Mapped[str] = mapped_column(String(255))
    file_size: Mapped[int] = mapped_column(Integer, default=0)
    file_data: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    # uploaded → imported → undone
    status: Mapped[str] = mapped_column(String(20), default="uploaded")
    mapping_json: Mapped[str] = mapped_column(Text, default="{}")  # {"ignore": [...], "assign": {...}}
    created_count: Mapped[int] = mapped_column(Integer, default=0)
    updated_count: Mapped[int] = mapped_column(Integer, default=0)
    summary: Mapped[str] = mapped_column(Text, default="")
    created_json: Mapped[str] = deferred(mapped_column(Text, default="{}"))  # {table: [ids]}
    imported_at: Mapped[datetime | None] = mapped_column(DateTime)
    undone_at: Mapped[datetime | None] = mapped_column(DateTime)

    @property
    def mapping(self) -> dict:
        return json.loads(self.mapping_json or "{}")

    @mapping.setter
    def mapping(self, value: dict) -> None:
        self.mapping_json = json.dumps(value, ensure_ascii=False)

    @property
    def created_ids(self) -> dict[str, list[int]]:
        return json.loads(self.created_json or "{}")

    @created_ids.setter
    def created_ids(self, value: dict[str, list[int]]) -> None:
        self.created_json = json.dumps(value)
