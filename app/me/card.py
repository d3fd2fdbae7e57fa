"""The live electronic card: a QR that changes every `card_qr_seconds` (docs/domain.md, 电子执法证).

The QR points to /verify/card/<token>, a token signed with the app's SECRET_KEY (itsdangerous, like
the printed certificates' /verify tokens, another salt) naming the card and the moment it was made:
{"c": certificate id, "t": seconds since the epoch, UTC}. The check reads the card's state live
from the register (never from the token); a token older than the window says only that it expired.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import segno
from flask import current_app
from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy import case, select

from app import labels as L
from app.extensions import db
from app.formatting import cn_date
from app.models.certificates import Certificate
from app.models.officers import Officer
from app.models_base import utcnow
from app.scope import UNSCOPED
from app.settings.services import get

SALT = "certmgr.card.v1"
SKEW = 5  # seconds a token may be "from the future" (the server's clock moved back a little)

# The card's state now, in the words of the check page.
STATES = {"valid": "有效", "suspended": "暂扣中", "cancelled": "已注销", "revoked": "已吊销",
          "lost": "已挂失", "replaced": "已换证", "applying": "申领中"}


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def _epoch(moment: datetime) -> int:
    return int(moment.replace(tzinfo=UTC).timestamp())


def make_token(cert_id: int, moment: datetime | None = None) -> str:
    return _serializer().dumps({"c": int(cert_id), "t": _epoch(moment or utcnow())})


def read_token(token: str) -> tuple[int, datetime] | None:
    """(certificate id, moment made, UTC) of a genuine token; None when forged, altered or malformed."""
    if len(token) > 300:
        return None
    try:
        data = _serializer().loads(token)
    except (BadData, UnicodeError, ValueError):
        return None
    if not isinstance(data, dict) or type(data.get("c")) is not int or type(data.get("t")) is not int:
        return None
    try:
        made = datetime.fromtimestamp(data["t"], UTC).replace(tzinfo=None)
    except (OverflowError, OSError, ValueError):
        return None
    return data["c"], made


def window() -> int:
    return int(get("card_qr_seconds"))


def fresh(made: datetime, now: datetime | None = None) -> bool:
    age = ((now or utcnow()) - made).total_seconds()
    return -SKEW <= age <= window()


def state_of(cert: Certificate, today: date) -> str:
    if cert.status == "valid" and cert.expires_on < today:
        return "已过期"
    if cert.status == "valid" and cert.issued_on > today:
        return "尚未生效"
    return STATES.get(cert.status, L.CERT_STATUSES.get(cert.status, cert.status))


def cards_of(officer_id: int) -> list[Certificate]:
    """The officer's cards to show: not replaced, enforcement first, newest first."""
    return list(db.session.scalars(
        select(Certificate).where(Certificate.officer_id == officer_id, Certificate.status != "replaced")
        .order_by(case((Certificate.kind == "enforcement", 0), else_=1), Certificate.issued_on.desc(),
                  Certificate.id.desc())
        .execution_options(**UNSCOPED)))


def face(cert: Certificate, officer: Officer, today: date) -> dict[str, Any]:
    """What the card shows (also the check page): never the ID number."""
    state = state_of(cert, today)
    return {"id": cert.id, "kind": L.CERT_KINDS.get(cert.kind, cert.kind), "number": cert.number,
            "name": officer.name, "unit": officer.unit.name, "officer_id": officer.id,
            "has_photo": officer.photo_record is not None,
            "categories": cert.categories, "area": cert.area, "authority": cert.issuing_authority,
            "issued_on": cn_date(cert.issued_on), "expires_on": cn_date(cert.expires_on),
            "state": state, "ok": state == "有效"}


def qr_payload(cert: Certificate, base: str) -> dict[str, Any]:
    """The QR of this moment: its target (relative `url`, absolute in the image), the image as a
    data URI, and how long it lasts."""
    token = make_token(cert.id)
    path = f"/verify/card/{token}"
    return {"url": path, "qr": segno.make(base + path, error="m").svg_data_uri(scale=4, border=2),
            "seconds": window()}


def lookup(cert_id: int) -> tuple[Certificate, Officer] | None:
    """The card and its holder, read from the register (the public check: no user scope)."""
    found = db.session.execute(select(Certificate, Officer).join(Officer, Officer.id == Certificate.officer_id)
                               .where(Certificate.id == cert_id).execution_options(**UNSCOPED)).first()
    return (found[0], found[1]) if found else None
