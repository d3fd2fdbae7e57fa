"""Units and officers: the root of the domain."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    and_,
    event,
    false,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.idnumber import mask, normalize
from app.models_base import TimestampMixin, utcnow
from app.pinyin import SORT_KEY_LENGTH, sort_key
from app.retirement import retirement_date

# Whether this request may look up a whole ID number (never for a viewer; a clerk so many times an
# hour, each one audited): the access rule, app/auth/access.py id_search_allowed, installs itself
# here when it is imported — a model knows no request, role or setting.
_id_search_allowed: Callable[[str], bool] | None = None


def install_id_search_check(check: Callable[[str], bool]) -> None:
    global _id_search_allowed
    _id_search_allowed = check


def _pinyin_default(context) -> str:
    """Column default: also fills the key on Core bulk INSERTs (imports), row by row."""
    return sort_key(context.get_current_parameters().get("name"))


def _unit_pinyin_default(context) -> str:
    return sort_key(context.get_current_parameters().get("name"), person=False)


class Unit(TimestampMixin, db.Model):
    __tablename__ = "unit"
    name: Mapped[str] = mapped_column(String(100), unique=True)
    # Sort key of the name read in pinyin (app/pinyin.py), kept current on every save.
    name_pinyin: Mapped[str] = mapped_column(
        String(SORT_KEY_LENGTH), default=_unit_pinyin_default, server_default="", index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    kind: Mapped[str] = mapped_column(String(20), default="department")
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    # Who receives this unit's expiring-certificate reminders (e-mail addresses, ", "-separated):
    # a digest of its subtree's officers (app/reminders); empty: the nearest unit above that has some.
    reminder_recipients: Mapped[str] = mapped_column(Text, default="", server_default="")
    # 执法类别 the unit's work needs, stored as a certificate's `categories` are ("、"-separated
    # labels, app/rules/fields.py): an officer whose effective card does not cover them all is
    # flagged NEEDS_REISSUE. Empty: the unit asks for none (never flags anyone).
    enforcement_fields: Mapped[str] = mapped_column(String(200), default="", server_default="")

    parent: Mapped[Unit | None] = relationship(remote_side="Unit.id")
    officers: Mapped[list[Officer]] = relationship(back_populates="unit")


class Officer(TimestampMixin, db.Model):
    __tablename__ = "officer"
    __table_args__ = (
        # Every column the flag engine reads of every officer (officer_state, training shortfall), in
        # id order: SQLite scans this narrow index instead of the table. (It was added when the rows
        # carried the photo inline, up to 2 MB; the photo now lives in officer_photo.)
        Index("ix_officer_flag_columns", "id", "unit_id", "employment_status", "on_enforcement_post",
              "establishment", "post_since"),
    )
    name: Mapped[str] = mapped_column(String(50), index=True)
    # Sort key of the name read in pinyin (app/pinyin.py), kept current on every save:
    # web lists ORDER BY it, so they sort as the printed rosters do.
    name_pinyin: Mapped[str] = mapped_column(
        String(SORT_KEY_LENGTH), default=_pinyin_default, server_default="", index=True)
    id_number: Mapped[str] = mapped_column(String(18), unique=True)
    gender: Mapped[str] = mapped_column(String(1))
    birth_date: Mapped[date] = mapped_column(Date)
    employee_no: Mapped[str | None] = mapped_column(String(30), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    position: Mapped[str] = mapped_column(String(50), default="")
    establishment: Mapped[str] = mapped_column(String(20), default="civil_servant")
    education: Mapped[str | None] = mapped_column(String(20))
    on_enforcement_post: Mapped[bool] = mapped_column(Boolean, default=True)
    employment_status: Mapped[str] = mapped_column(String(20), default="active")
    status_changed_on: Mapped[date | None] = mapped_column(Date, index=True)  # public change log's window
    # 任执法岗位日期: since when the officer holds an enforcement post (None: unknown — treated as
    # on the post for every year judged). The yearly training hours are owed from it (docs/domain.md).
    post_since: Mapped[date | None] = mapped_column(Date)
    # 原法定退休年龄 of a woman: 55 (None: the default, cadres) or 50; the 2025 law raises it
    # (app/retirement.py). Ignored for men (always 60).
    retirement_basis: Mapped[int | None] = mapped_column(Integer)
    phone: Mapped[str] = mapped_column(String(30), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    @hybrid_property
    def on_post(self) -> bool:
        """In service and on an enforcement post: the people the compliance rules are about.
        Usable in Python (``officer.on_post``) and in SQL (``where(Officer.on_post)``)."""
        return self.employment_status == "active" and bool(self.on_enforcement_post)

    @on_post.inplace.expression
    @classmethod
    def _on_post_expression(cls):
        return and_(cls.employment_status == "active", cls.on_enforcement_post.is_(True))

    unit: Mapped[Unit] = relationship(back_populates="officers")
    # loaded on first use (the detail page joins it); its bytes only when `photo` is read
    photo_record: Mapped[OfficerPhoto | None] = relationship(
        cascade="all, delete-orphan", passive_deletes=True)
    certificates: Mapped[list[Certificate]] = relationship(  # noqa: F821
        back_populates="officer", order_by="Certificate.issued_on.desc()"
    )
    # the unit history, latest first (app/rules/transfers.py writes it; read-only here)
    unit_spells: Mapped[list[OfficerUnitHistory]] = relationship(
        viewonly=True, order_by="(OfficerUnitHistory.from_on.desc(), OfficerUnitHistory.id.desc())")

    __mapper_args__ = {"version_id_col": version}

    # The photo (bytes and type) lives in officer_photo; these read and write it as if it were
    # two columns of the officer (None: no photo). Setting either to None removes the photo.
    @property
    def photo(self) -> bytes | None:
        return self.photo_record.data if self.photo_record is not None else None

    @photo.setter
    def photo(self, data: bytes | None) -> None:
        self._set_photo(data=data)

    @property
    def photo_mime(self) -> str | None:
        return self.photo_record.mime if self.photo_record is not None else None

    @photo_mime.setter
    def photo_mime(self, mime: str | None) -> None:
        self._set_photo(mime=mime)

    def _set_photo(self, **value) -> None:
        current = self.photo_record
        if None in value.values():
            self.photo_record = None
        elif current is None:
            self.photo_record = OfficerPhoto(**value)
        else:
            for k, v in value.items():
                setattr(current, k, v)

    @property
    def id_number_masked(self) -> str:
        return mask(self.id_number)

    @property
    def retirement_date(self) -> date:
        """The day the officer reaches the statutory retirement age (the 2025 law)."""
        return retirement_date(self.birth_date, self.gender, self.retirement_basis)

    def age_on(self, d: date) -> int:
        """Age in whole years: what non-admins see instead of the birth date, which is the
        masked middle of the ID number (docs/domain.md 身份证号)."""
        b = self.birth_date
        return d.year - b.year - ((d.month, d.day) < (b.month, b.day))

    @classmethod
    def id_number_search(cls, q: str, *, partial: bool):
        """WHERE clause for a search by ID number: every search by ID number goes through here.
        Only admins (`partial`) may match the end of a number; anyone else must type all 18
        characters, so that searching digit by digit cannot rebuild a masked number, and whether
        a whole number may be looked up at all (never for a viewer; a clerk so many times an
        hour, each one audited) is `access.id_search_allowed`'s decision (installed here with
        `install_id_search_check`; a search before it is installed is an error, never unchecked)."""
        number = normalize(q)
        if partial:
            return cls.id_number.endswith(q.strip().upper(), autoescape=True)
        if _id_search_allowed is None:
            raise RuntimeError("id_number_search: no access check installed (app.auth.access not imported)")
        if len(number) != 18 or not _id_search_allowed(number):
            return false()
        return cls.id_number == number


class OfficerPhoto(db.Model):
    """An officer's photo, printed on certificates (JPEG or PNG, up to 2 MB): a row of its own so
    that the officer rows stay small. Inline, SQLite kept the bytes in the officer row and every
    column behind them on overflow pages, so every query reading officer rows paid for them."""

    __tablename__ = "officer_photo"
    officer_id: Mapped[int] = mapped_column(ForeignKey("officer.id", ondelete="CASCADE"), primary_key=True)
    mime: Mapped[str] = mapped_column(String(30))
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class OfficerAttachment(TimestampMixin, db.Model):
    """A scan kept with an officer's file (执法证, appointment letter): PDF, JPEG or PNG."""

    __tablename__ = "officer_attachment"
    officer_id: Mapped[int] = mapped_column(ForeignKey("officer.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="other")
    filename: Mapped[str] = mapped_column(String(200))
    mime: Mapped[str] = mapped_column(String(30))
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    uploaded_by: Mapped[str] = mapped_column(String(100), default="")


@event.listens_for(Unit, "before_insert")
@event.listens_for(Unit, "before_update")
@event.listens_for(Officer, "before_insert")
@event.listens_for(Officer, "before_update")
def _keep_name_pinyin(_mapper, _connection, target) -> None:
    """Every ORM save recomputes the key from the name (a rename included)."""
    key = sort_key(target.name, person=isinstance(target, Officer))
    if target.name_pinyin != key:
        target.name_pinyin = key


class CardCancelTask(TimestampMixin, db.Model):
    """注销 an officer's card after a departure (app/officers/departures.py): due `due_on`; open
    while the card is still valid or suspended (cancelling it closes the task)."""

    __tablename__ = "card_cancel_task"
    id: Mapped[int] = mapped_column(primary_key=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officer.id"), index=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificate.id"), index=True)
    departure: Mapped[str] = mapped_column(String(20))  # app/labels.py DEPARTURES
    left_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date, index=True)


class OfficerUnitHistory(TimestampMixin, db.Model):
    """Where an officer worked when (app/rules/transfers.py): from `from_on` (inclusive) until
    `to_on` (exclusive: the day of the next transfer; None: still there). Officer.unit_id is the
    open interval's unit; past cases and the annual figures read the unit of their date from here
    (an officer without a row, or a date before the first one: the current unit)."""

    __tablename__ = "officer_unit_history"
    __table_args__ = (Index("ix_officer_unit_history_officer_from", "officer_id", "from_on"),)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officer.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    from_on: Mapped[date] = mapped_column(Date)
    to_on: Mapped[date | None] = mapped_column(Date)
    document_no: Mapped[str] = mapped_column(String(100), default="")  # 文号
    reason: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[str] = mapped_column(String(100), default="")

    unit: Mapped[Unit] = relationship()
