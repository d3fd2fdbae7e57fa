"""The compliance engine (DESIGN §4): every flag, computed in SQL over whole tables.

One place, used by the dashboard, the pages, the reports and the command line. `today` is always
a parameter. Each flag is a SELECT yielding (flag, reason, officer_id, unit_id, certificate_id);
`flags_select()` unions them so callers can count, filter or join without a query per officer.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from sqlalchemy import String, and_, case, cast, func, literal, null, or_, select, union_all
from sqlalchemy.orm import aliased
from sqlalchemy.sql import Select

from app.certificates.models import Certificate
from app.extensions import db
from app.officers.idnumber import mask
from app.officers.models import Officer, Unit

FLAG_ORDER = ["UNLICENSED", "EXPIRING", "SHOULD_CANCEL", "INELIGIBLE", "TRAINING_SHORTFALL",
              "UNIT_UNDERSTAFFED"]


@dataclass(frozen=True)
class Params:
    today: date
    within: int = 90
    eligible: tuple[str, ...] = ("civil_servant", "public_institution")
    hours_required: float = 60.0
    include_training: bool = True
    officer_id: int | None = None  # one officer's flags only (the detail page): filtered inside each part

    @classmethod
    def from_settings(cls, today: date, within: int | None = None) -> Params:
        from app.settings import services as settings

        windows = settings.get("reminder_windows")
        return cls(
            today=today,
            within=within if within is not None else (max(windows) if windows else 90),
            eligible=tuple(settings.get("eligible_establishments")),
            hours_required=float(settings.get("training_hours_required")),
        )


def _effective(today: date, cert=Certificate):
    return and_(
        cert.kind == "enforcement",
        cert.status == "valid",
        cert.issued_on <= today,
        cert.expires_on >= today,
    )


def _best_of(cert, alias, where, order):
    """`cert` is its officer's first certificate among those matching `where` in `order`.

    A correlated LIMIT 1 over the officer's own certificates (index on certificate.officer_id)
    rather than ROW_NUMBER() over the whole table: joined to officer, SQLite flattens it and looks
    each officer up, instead of scanning a materialised window result once per officer.
    """
    return cert.id == (
        select(alias.id).where(alias.officer_id == cert.officer_id, where)
        .order_by(*order).limit(1).correlate(cert).scalar_subquery()
    )


def best_effective(today: date):
    """Per officer, the effective enforcement certificate that expires last."""
    other = aliased(Certificate)
    return select(Certificate.officer_id, Certificate.id.label("cert_id"),
                  Certificate.expires_on).where(
        _effective(today),
        _best_of(Certificate, other, _effective(today, other),
                 (other.expires_on.desc(), other.id.desc())),
    ).subquery("best_eff")


def latest_enforcement():
    """Per officer, the latest enforcement certificate (greatest issued_on, ties greatest id)."""
    other = aliased(Certificate)
    return select(Certificate.officer_id, Certificate.id.label("cert_id"), Certificate.status,
                  Certificate.issued_on, Certificate.expires_on).where(
        Certificate.kind == "enforcement",
        _best_of(Certificate, other, other.kind == "enforcement",
                 (other.issued_on.desc(), other.id.desc())),
    ).subquery("latest")


def _on_post():
    return and_(Officer.employment_status == "active", Officer.on_enforcement_post.is_(True))


def unlicensed(p: Params) -> Select:
    eff = best_effective(p.today)
    lat = latest_enforcement()
    reason = case(
        (lat.c.cert_id.is_(None), literal("none")),
        (and_(lat.c.status == "valid", lat.c.issued_on > p.today), literal("not_yet_valid")),
        (and_(lat.c.status == "valid", lat.c.expires_on < p.today), literal("expired")),
        else_=lat.c.status,
    )
    return (
        select(literal("UNLICENSED").label("flag"), cast(reason, String).label("reason"),
               Officer.id.label("officer_id"), Officer.unit_id.label("unit_id"),
               lat.c.cert_id.label("certificate_id"))
        .select_from(Officer)
        .outerjoin(eff, eff.c.officer_id == Officer.id)
        .outerjoin(lat, lat.c.officer_id == Officer.id)
        .where(_on_post(), eff.c.cert_id.is_(None))
    )


def expiring(p: Params) -> Select:
    eff = best_effective(p.today)
    return (
        select(literal("EXPIRING").label("flag"), cast(literal("expiring"), String).label("reason"),
               Officer.id.label("officer_id"), Officer.unit_id.label("unit_id"),
               eff.c.cert_id.label("certificate_id"))
        .select_from(Officer)
        .join(eff, eff.c.officer_id == Officer.id)
        .where(_on_post(), eff.c.expires_on <= p.today + timedelta(days=p.within))
    )


def should_cancel(p: Params) -> Select:
    other = aliased(Certificate)

    def holding(c):
        return and_(c.kind == "enforcement", c.status.in_(("valid", "suspended")),
                    c.expires_on >= p.today)

    held = select(Certificate.officer_id, Certificate.id.label("cert_id")).where(
        holding(Certificate),
        _best_of(Certificate, other, holding(other), (other.expires_on.desc(), other.id.desc())),
    ).subquery()
    reason = case((Officer.employment_status != "active", literal("not_active")), else_=literal("off_post"))
    return (
        select(literal("SHOULD_CANCEL").label("flag"), cast(reason, String).label("reason"),
               Officer.id.label("officer_id"), Officer.unit_id.label("unit_id"),
               held.c.cert_id.label("certificate_id"))
        .select_from(Officer)
        .join(held, held.c.officer_id == Officer.id)
        .where(or_(Officer.employment_status != "active", Officer.on_enforcement_post.is_(False)))
    )


def ineligible(p: Params) -> Select:
    eff = best_effective(p.today)
    return (
        select(literal("INELIGIBLE").label("flag"), cast(Officer.establishment, String).label("reason"),
               Officer.id.label("officer_id"), Officer.unit_id.label("unit_id"),
               eff.c.cert_id.label("certificate_id"))
        .select_from(Officer)
        .outerjoin(eff, eff.c.officer_id == Officer.id)
        .where(
            Officer.employment_status == "active",
            Officer.establishment.not_in(p.eligible),
            or_(Officer.on_enforcement_post.is_(True), eff.c.cert_id.is_not(None)),
        )
    )


def unit_understaffed(p: Params) -> Select:
    eff = best_effective(p.today)
    certified = func.count(eff.c.cert_id)
    return (
        select(literal("UNIT_UNDERSTAFFED").label("flag"),
               cast(literal("understaffed"), String).label("reason"),
               null().label("officer_id"), Officer.unit_id.label("unit_id"),
               null().label("certificate_id"))
        .select_from(Officer)
        .outerjoin(eff, eff.c.officer_id == Officer.id)
        .where(_on_post())
        .group_by(Officer.unit_id)
        .having(certified < 2)
    )


def training_shortfall(p: Params) -> Select | None:
    """Hook for the training module (TRAINING_SHORTFALL); None until it is registered."""
    for builder in _EXTRA_BUILDERS:
        return builder(p)
    return None


_EXTRA_BUILDERS: list = []


def register_flag_builder(builder) -> None:
    """Let a module (training) contribute a flag SELECT of the same five columns."""
    if builder not in _EXTRA_BUILDERS:
        _EXTRA_BUILDERS.append(builder)


def flags_select(p: Params, flags: list[str] | None = None):
    """UNION ALL of every flag's SELECT: columns flag, reason, officer_id, unit_id, certificate_id."""
    builders = {
        "UNLICENSED": unlicensed,
        "EXPIRING": expiring,
        "SHOULD_CANCEL": should_cancel,
        "INELIGIBLE": ineligible,
        "UNIT_UNDERSTAFFED": unit_understaffed,
    }
    if p.officer_id is not None:
        builders.pop("UNIT_UNDERSTAFFED")  # a unit's flag, not an officer's
    parts = [b(p) for code, b in builders.items() if not flags or code in flags]
    if p.include_training and (not flags or "TRAINING_SHORTFALL" in flags):
        extra = training_shortfall(p)
        if extra is not None:
            parts.append(extra)
    if p.officer_id is not None:  # every officer part selects from Officer
        parts = [part.where(Officer.id == p.officer_id) for part in parts]
    if not parts:
        return None
    return union_all(*parts).subquery("flags")


def count_by_flag(p: Params) -> dict[str, int]:
    sub = flags_select(p)
    rows = db.session.execute(select(sub.c.flag, func.count()).group_by(sub.c.flag)).all()
    counts = dict.fromkeys(FLAG_ORDER, 0)
    counts.update({flag: n for flag, n in rows})
    return counts


def officer_ids_with_flag(p: Params, flag: str):
    """A subquery of officer ids carrying `flag`, for filtering officer lists."""
    sub = flags_select(p, [flag])
    return select(sub.c.officer_id).where(sub.c.officer_id.is_not(None))


def list_flags(
    p: Params,
    *,
    flags: list[str] | None = None,
    unit: str | None = None,
    reason: str | None = None,
    search: str | None = None,
    officer_id: int | None = None,
    id_partial: bool = False,
) -> list[dict[str, Any]]:
    """Every flag as a plain dict of the DESIGN §5 JSON shape, in one query. `search` matches
    names and units in part, ID numbers whole (in part too with `id_partial`: admins only)."""
    sub = flags_select(p, flags)
    if sub is None:
        return []
    order = case({f: i for i, f in enumerate(FLAG_ORDER)}, value=sub.c.flag)
    q = (
        select(sub.c.flag, sub.c.reason, sub.c.officer_id, Officer.name, Officer.id_number,
               Unit.name.label("unit"), Unit.id.label("unit_id"), Certificate.number,
               Certificate.expires_on)
        .select_from(sub)
        .join(Unit, Unit.id == sub.c.unit_id)
        .outerjoin(Officer, Officer.id == sub.c.officer_id)
        .outerjoin(Certificate, Certificate.id == sub.c.certificate_id)
        .order_by(order, Unit.sort_order, Unit.name_pinyin, Unit.name, Officer.name_pinyin, Officer.name, sub.c.officer_id)
    )
    if unit:
        q = q.where(Unit.name == unit)
    if reason:
        q = q.where(sub.c.reason == reason)
    if officer_id is not None:
        q = q.where(sub.c.officer_id == officer_id)
    if search:
        like = f"%{search.strip()}%"
        q = q.where(or_(Officer.name.like(like), Unit.name.like(like),
                        Officer.id_number_search(search, partial=id_partial)))
    out = []
    for r in db.session.execute(q):
        out.append({
            "flag": r.flag,
            "reason": r.reason,
            "officer_id": r.officer_id,
            "name": r.name,
            "id_number_masked": mask(r.id_number) if r.id_number else None,
            "unit": r.unit,
            "certificate_number": r.number,
            "expires_on": r.expires_on.isoformat() if r.expires_on else None,
            "days_left": (r.expires_on - p.today).days if r.expires_on else None,
        })
        if r.flag == "TRAINING_SHORTFALL":  # the year the hours are short in (DESIGN §4)
            out[-1]["year"] = p.today.year - 1 if r.reason == "shortfall" else p.today.year
    return out


def officer_flags(p: Params, officer_id: int) -> list[dict[str, Any]]:
    """One officer's flags, computed for that officer only (not filtered out of everyone's)."""
    return list_flags(replace(p, officer_id=officer_id), officer_id=officer_id)
