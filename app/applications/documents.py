"""The printed 行政执法证申领审批表 (A4, app/pdf.py): the officer with photo, the application, every
decision with name and date, the card issued, and a signature and seal block for each step."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app import clock
from app.applications.services import steps
from app.exams.services import officer_exams
from app.extensions import db
from app.formatting import cn_date
from app.idnumber import mask
from app.labels import (
    APPLICATION_DECISIONS,
    APPLICATION_KINDS,
    APPLICATION_STATES,
    APPLICATION_STEPS,
    EDUCATIONS,
    ESTABLISHMENTS,
    GENDERS,
)
from app.models.applications import Application
from app.models.auth import User
from app.models.officers import OfficerPhoto
from app.pdf import render_pdf
from app.settings import services as settings

TITLE = "行政执法证申领审批表"


def application_form_pdf(a: Application) -> bytes:
    o = a.officer
    resources = {}
    photo = db.session.execute(select(OfficerPhoto.mime, OfficerPhoto.data)
                               .where(OfficerPhoto.officer_id == o.id)).first()
    if photo and photo.mime and photo.mime.startswith("image/") and photo.data:
        resources["photo"] = (photo.mime, photo.data)
    user_ids = {act.user_id for act in a.actions if act.user_id}
    names = dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(user_ids))
                                    .execution_options(scope_all=True)).all()) if user_ids else {}

    def who(act) -> str:
        shown = names.get(act.user_id) or ""
        return f"{shown}（{act.actor}）" if shown and shown != act.actor else act.actor

    passed = next((e for e in officer_exams(o.id) if e["passed"] and e["kind"] == "qualification"), None)
    by_step: dict[str, list[dict[str, Any]]] = {s: [] for s in steps()}
    for act in a.actions:
        if act.step in by_step:
            by_step[act.step].append({"decision": APPLICATION_DECISIONS.get(act.decision, act.decision),
                                      "reason": act.reason, "by": who(act), "on": cn_date(act.acted_on)})
    new = a.new_certificate
    ctx = {
        "title": TITLE, "org_name": settings.get("org_name"), "as_of_text": f"申请编号 {a.number}",
        "signatures": False,
        "a": {"number": a.number, "kind": APPLICATION_KINDS.get(a.kind, a.kind), "reason": a.reason or "",
              "submitted_on": cn_date(a.submitted_on), "submitted_by": a.submitted_by,
              "state": APPLICATION_STATES.get(a.state, a.state),
              "old_number": a.old_certificate.number if a.old_certificate else ""},
        "o": {"name": o.name, "gender": GENDERS.get(o.gender, ""), "id_masked": mask(o.id_number),
              "unit": o.unit.name, "position": o.position or "",
              "establishment": ESTABLISHMENTS.get(o.establishment, o.establishment or ""),
              "education": EDUCATIONS.get(o.education or "", ""), "phone": o.phone or ""},
        "exam": {"title": passed["title"], "held_on": cn_date(passed["held_on"]),
                 "score": f"{passed['score']:g}"} if passed else None,
        "photo": "res:photo" if resources else None,
        "steps": [{"label": APPLICATION_STEPS[s], "acts": by_step[s]} for s in steps()],
        "card": {"number": new.number, "issued_on": cn_date(new.issued_on), "expires_on": cn_date(new.expires_on)}
        if new else None,
        "printed_on": cn_date(clock.today()),
        "timeline": [{"at": cn_date(act.acted_on), "step": APPLICATION_STEPS.get(act.step)
                      or ("提交" if act.step == "submitted" else APPLICATION_STATES.get(act.step, act.step)),
                      "decision": APPLICATION_DECISIONS.get(act.decision, act.decision), "by": who(act),
                      "reason": act.reason} for act in a.actions],
    }
    return render_pdf("pdf/application_form.html", ctx, resources=resources)
