"""The certificate list as a spec (app/web/lists.py): filters, sort keys, export columns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import select

from app import labels as L
from app.formatting import cn_date
from app.models.certificates import Certificate
from app.models.officers import Officer, Unit
from app.units import unit_name
from app.web.exports import Column
from app.web.lists import Criteria, Filter, Filtered, ListSpec, labelled_bar


def certificate_filters(args: Mapping[str, str], d: date) -> Filtered:
    c = Criteria(args)
    c.text("q", lambda q: Certificate.number.contains(q, autoescape=True)
           | Officer.name.contains(q, autoescape=True))
    c.choice("kind", L.CERT_KINDS, Certificate.kind, "证件类型")
    c.choice("status", L.CERT_STATUSES, Certificate.status, "状态")
    c.ident("unit", Officer.unit_id, "单位", unit_name)
    c.flag("expired", {"yes": "仅已过期"}, lambda _v: Certificate.expires_on < d, "有效期")
    c.day("expires_from", "到期日起", lambda v: Certificate.expires_on >= v, lambda v: f"到期日起：{cn_date(v)}")
    c.day("expires_to", "到期日止", lambda v: Certificate.expires_on <= v, lambda v: f"到期日止：{cn_date(v)}")
    return c.filtered(
        select(Certificate, Officer.name.label("officer_name"), Unit.name.label("unit_name"))
        .join(Officer, Officer.id == Certificate.officer_id).join(Unit, Unit.id == Officer.unit_id),
        # the entities, not their bare tables: the scope's criteria apply to the count too
        count_from=select(Certificate).join(Officer, Officer.id == Certificate.officer_id))


def validity(cert: Certificate, d: date) -> str:
    """The 有效性 column, as the list shows it."""
    if d < cert.issued_on:
        return "尚未生效"
    if d > cert.expires_on:
        return "已过期"
    return "有效" if cert.status == "valid" else "—"


def certificate_export_rows(rows: Sequence[Any], d: date) -> list[dict[str, Any]]:
    return [{
        "number": r.Certificate.number, "kind": L.CERT_KINDS.get(r.Certificate.kind, r.Certificate.kind),
        "name": r.officer_name, "unit": r.unit_name, "issued_on": r.Certificate.issued_on,
        "expires_on": r.Certificate.expires_on,
        "status": L.CERT_STATUSES.get(r.Certificate.status, r.Certificate.status),
        "validity": validity(r.Certificate, d),
    } for r in rows]


CERTIFICATE_COLUMNS = [
    Column("证件编号", lambda r: r["number"], 18),
    Column("证件类型", lambda r: r["kind"], 14),
    Column("持证人", lambda r: r["name"], 10),
    Column("单位", lambda r: r["unit"], 20),
    Column("发证日期", lambda r: r["issued_on"], 16),
    Column("有效期至", lambda r: r["expires_on"], 16),
    Column("状态", lambda r: r["status"], 8),
    Column("有效性", lambda r: r["validity"], 8),
]

CERTIFICATES = ListSpec(
    title="执法证件", slug="certificates", entity="certificate",
    filtered=certificate_filters, columns=CERTIFICATE_COLUMNS, export_rows=certificate_export_rows,
    sorts={
        "number": (Certificate.number,),
        "name": (Officer.name_pinyin, Officer.name),
        "unit": (Unit.sort_order, Unit.name_pinyin, Unit.name),
        "issued": (Certificate.issued_on,),
        "expires": (Certificate.expires_on,),
        "status": (Certificate.status,),
    },
    default_sort="expires", tiebreak=(Certificate.id,),
    bar=labelled_bar(
        "certificates", "certificates.index",
        Filter("q", "text", "搜索", placeholder="证件编号、姓名", col="col-12 col-md-3 col-xl-2"),
        Filter("kind", label="证件类型", choices=L.CERT_KINDS, col="col-6 col-md-2 col-xl-1"),
        Filter("status", label="状态", choices=L.CERT_STATUSES, col="col-6 col-md-2 col-xl-1"),
        Filter("unit", label="单位", choices="units", col="col-6 col-md-3 col-xl-2"),
        Filter("expires_from", "date", "到期日从", title="到期日起", raw=True, col="col-6 col-md-2 col-xl-auto"),
        Filter("expires_to", "date", "到", title="到期日止", raw=True, col="col-6 col-md-2 col-xl-auto"),
        Filter("expired", "check", "仅已过期")),
)
