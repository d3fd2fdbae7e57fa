"""One uploaded file on its way through the import wizard, and afterwards the record of what it
imported (导入记录): who, when, which file (kept for download), how many rows
were new or updated, and the ids it created so that the import can be undone."""

from __future__ import annotations

import json
import zlib
from datetime import datetime
from pathlib import Path

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
    # as stored: the file itself, or (PACKED + zlib) for a file that compresses — `original`
    file_data: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    # uploaded → imported → undone
    status: Mapped[str] = mapped_column(String(20), default="uploaded")
    mapping_json: Mapped[str] = mapped_column(Text, default="{}")  # {"ignore": [...], "assign": {...}}
    created_count: Mapped[int] = mapped_column(Integer, default=0)
    updated_count: Mapped[int] = mapped_column(Integer, default=0)
    summary: Mapped[str] = mapped_column(Text, default="")
    # {table: [[first, last], …]} (sorted ranges); earlier imports: {table: [ids]}
    created_json: Mapped[str] = deferred(mapped_column(Text, default="{}"))
    imported_at: Mapped[datetime | None] = mapped_column(DateTime)
    undone_at: Mapped[datetime | None] = mapped_column(DateTime)

    @property
    def mapping(self) -> dict:
        return json.loads(self.mapping_json or "{}")

    @mapping.setter
    def mapping(self, value: dict) -> None:
        self.mapping_json = json.dumps(value, ensure_ascii=False)

    @property
    def original(self) -> bytes:
        """The file as uploaded."""
        return unpack(self.file_data)

    @property
    def created_ids(self) -> dict[str, list[int]]:
        return {table: expand(ids) for table, ids in json.loads(self.created_json or "{}").items()}

    @created_ids.setter
    def created_ids(self, value: dict[str, list[int]]) -> None:
        self.created_json = json.dumps({table: ranges(ids) for table, ids in value.items()},
                                       separators=(",", ":"))


# A stored file that starts with these bytes is compressed (neither a workbook nor a CSV file
# starts with a NUL byte); any other stored file is the file itself.
PACKED = b"\x00zlib\x00"
READ_SIZE = 1 << 20


def pack(data: bytes) -> bytes:
    """The file as stored: compressed, unless it does not get smaller (an .xlsx is a zip
    already)."""
    if data[:2] == b"PK":
        return data
    packed = PACKED + zlib.compress(data, 6)
    return packed if len(packed) < len(data) else data


def pack_file(path: Path) -> tuple[bytes, int]:
    """A file on disk as stored and its size, read a piece at a time (a CSV file of a million
    rows is never held whole, only its compressed form)."""
    with path.open("rb") as f:
        head = f.read(READ_SIZE)
        if head[:2] == b"PK":
            rest = f.read()
            return head + rest, len(head) + len(rest)
        z = zlib.compressobj(6)
        parts, size, piece = [PACKED], 0, head
        while piece:
            size += len(piece)
            parts.append(z.compress(piece))
            piece = f.read(READ_SIZE)
        parts.append(z.flush())
    packed = b"".join(parts)
    del parts
    if len(packed) >= size:
        return path.read_bytes(), size
    return packed, size


def unpack(stored: bytes | None) -> bytes:
    if stored is None:
        return b""
    if stored[:len(PACKED)] == PACKED:
        return zlib.decompress(memoryview(stored)[len(PACKED):])
    return bytes(stored)


def ranges(ids) -> list[list[int]]:
    """Ids as sorted, merged [first, last] ranges (a bulk insert's ids are mostly one run)."""
    out: list[list[int]] = []
    for i in sorted(ids):
        if out and i <= out[-1][1] + 1:
            out[-1][1] = max(i, out[-1][1])
        else:
            out.append([i, i])
    return out


def expand(stored: list) -> list[int]:
    """Ids from either stored form: ranges, or the plain list earlier imports stored."""
    out: list[int] = []
    for item in stored:
        if isinstance(item, list):
            out.extend(range(item[0], item[1] + 1))
        else:
            out.append(item)
    return out
