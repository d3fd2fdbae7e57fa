"""factory_boy factories bound to db.session (use inside an app context)."""

from __future__ import annotations

import random
from datetime import date, timedelta

import factory
from factory.alchemy import SQLAlchemyModelFactory
from stdnum.cn import ric

from app.extensions import db
from app.models.certificates import Certificate, CertificateEvent
from app.models.officers import Officer, Unit

_rng = random.Random(42)


def id_number(birth: date | None = None, gender: str = "M", county: str = "500108") -> str:
    birth = birth or date(1985, 1, 1) + timedelta(days=_rng.randint(0, 5000))
    seq = _rng.randint(0, 49) * 2 + (1 if gender == "M" else 0)
    body = f"{county}{birth:%Y%m%d}{_rng.randint(0, 9)}{seq:02d}"
    return body + ric.calc_check_digit(body + "0")


class Base(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session = db.session
        sqlalchemy_session_persistence = "flush"


class UnitFactory(Base):
    class Meta:
        model = Unit

    name = factory.Sequence(lambda n: f"测试科室{n}")
    kind = "department"
    sort_order = factory.Sequence(int)


class OfficerFactory(Base):
    class Meta:
        model = Officer

    name = factory.Sequence(lambda n: f"测试员{n}")
    id_number = factory.LazyFunction(id_number)
    gender = factory.LazyAttribute(lambda o: "M" if int(o.id_number[16]) % 2 else "F")
    birth_date = factory.LazyAttribute(lambda o: ric.get_birth_date(o.id_number))
    unit = factory.SubFactory(UnitFactory)
    position = "科员"
    establishment = "civil_servant"
    on_enforcement_post = True
    employment_status = "active"
    phone = "13800000000"


class CertificateFactory(Base):
    class Meta:
        model = Certificate

    officer = factory.SubFactory(OfficerFactory)
    kind = "enforcement"
    number = factory.Sequence(lambda n: f"5001082300{n:04d}")
    issuing_authority = "重庆市人民政府"
    issued_on = date(2024, 1, 1)
    expires_on = date(2028, 12, 31)
    status = "valid"

    @factory.post_generation
    def history(obj, create, extracted, **kwargs):
        if create:
            db.session.add(CertificateEvent(certificate=obj, kind="issue", from_status=None,
                                            to_status="valid", effective_on=obj.issued_on, actor="test"))
            if obj.status != "valid":
                db.session.add(CertificateEvent(certificate=obj, kind="status", from_status="valid",
                                                to_status=obj.status, effective_on=obj.issued_on, actor="test"))
            db.session.flush()
