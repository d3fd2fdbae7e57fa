"""Import history (导入记录) and undo.

An import is recorded in its ImportBatch with the ids of every row it created. Undo deletes those
rows — only when nothing has changed them since (each row's updated_at is not later than the
import, no other record has come to depend on them) and when the import created rows only: an
import that updated existing records cannot give back their earlier contents, so its undo is
refused with that reason. Flushes, never commits; audited.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import delete, func, select

from app import clock
from app.audit.services import current_actor, record
from app.errors import DomainError
from app.extensions import db
from app.importing.base import chunks
from app.imports.cache import forget, parsed
from app.imports.kinds import importers
from app.labels import ENTITY_TYPES
from app.models.cases import CaseCertificate, PenaltyCase
from app.models.certificates import Certificate, CertificateEvent
from app.models.exams import Exam, ExamResult
from app.models.imports import ImportBatch, pack
from app.models.officers import Officer, Unit
from app.models.online import Question
from app.models.training import Attendance, TrainingSession
from app.models_base import utcnow
from app.officers.merge import DERIVED, references
from app.officers.merge import NOUNS as OFFICER_NOUNS
from app.rules import flagstore
from app.rules.verdicts import refresh_verdicts  # Core deletes: no flush hook sees them
from app.training.imports import _after_attendance_import

# children before parents
MODELS = {"attendance": Attendance, "exam_result": ExamResult, "certificate": Certificate,
          "training_session": TrainingSession, "exam": Exam, "officer": Officer, "unit": Unit,
          "penalty_case": PenaltyCase, "question": Question}
NOUNS = {"attendance": "出勤记录", "exam_result": "成绩", "certificate": "证件",
         "training_session": "培训", "exam": "考试", "officer": "执法人员", "unit": "单位",
         "penalty_case": "行政处罚案件", "question": "试题"}
# (child model, its foreign key, what a person calls it) that would stop a row being removed
DEPENDENTS = {
    "officer": [(Certificate, Certificate.officer_id, "证件"), (Attendance, Attendance.officer_id, "出勤记录"),
                (ExamResult, ExamResult.officer_id, "考试成绩")],
    "unit": [(Officer, Officer.unit_id, "执法人员"), (Unit, Unit.parent_id, "下级单位")],
    "training_session": [(Attendance, Attendance.session_id, "出勤记录")],
    "exam": [(ExamResult, ExamResult.exam_id, "考试成绩"), (Exam, Exam.makeup_of_id, "补考")],
    "certificate": [(Certificate, Certificate.replaced_by_id, "换发的证件")],
}


def record_batch(batch: ImportBatch, result) -> None:
    batch.status = "imported"
    batch.created_count, batch.updated_count = result.created, result.updated
    batch.summary = result.summary()
    batch.created_ids = result.created_ids
    batch.imported_at = utcnow()
    db.session.flush()
    forget(batch)


def why_not_undo(batch: ImportBatch) -> str | None:
    """The reason this import cannot be undone, or None."""
    if batch.status != "imported":
        return "已撤销" if batch.status == "undone" else "尚未导入"
    if batch.updated_count:
        return (f"本次导入更新了 {batch.updated_count} 条已有记录，撤销无法恢复它们原来的内容；"
                "请在各页面逐条修改")
    created = batch.created_ids
    if not any(created.values()):
        return "本次导入没有新增任何记录"
    since = batch.imported_at + timedelta(seconds=1)
    for table, ids in created.items():
        model = MODELS[table]
        for chunk in chunks(ids):
            changed = db.session.scalar(select(func.count()).select_from(model).where(
                model.id.in_(chunk), model.updated_at > since))
            if changed:
                return f"导入后已有 {changed} 条{NOUNS[table]}被修改，不能撤销"
            if len(chunk) != db.session.scalar(
                    select(func.count()).select_from(model).where(model.id.in_(chunk))):
                return f"导入的{NOUNS[table]}已有被删除的，不能撤销"
            for child, fk, noun in DEPENDENTS.get(table, []):
                own = set(created.get(child.__tablename__, []))
                others = [cid for (cid,) in db.session.execute(select(child.id).where(fk.in_(chunk)))
                          if cid not in own]
                if others:
                    return f"导入的{NOUNS[table]}之后已有{noun}（{len(others)} 条），不能撤销"
            reason = _referrers(table, chunk, created)
            if reason:
                return reason

    importer = importers().get(batch.kind)
    reason = importer.why_not_undo(created) if importer is not None else None
    if reason:
        return reason
    cert_ids = created.get("certificate", [])
    for chunk in chunks(cert_ids):
        if db.session.scalar(select(func.count()).select_from(Certificate).where(
                Certificate.id.in_(chunk), Certificate.version != 1)):
            return "导入的证件之后已办理过变更，不能撤销"
        if db.session.scalar(select(func.count()).select_from(CertificateEvent).where(
                CertificateEvent.certificate_id.in_(chunk),
                CertificateEvent.created_at > since)):
            return "导入的证件之后已办理过变更，不能撤销"
    return None


# Rows pointing at an imported record that are not in DEPENDENTS and still stop its removal,
# named for the message (any other table is named by its entity label or its table name).
REFERRER_NOUNS = {"user_account": "用户", "reminder_delivery": "到期提醒记录", "online_exam": "在线考试设置",
                  "exam_sitting": "在线考试记录", "annual_review": "年审记录"}
# Cascading rows that are someone's later work (a photo uploaded since): they stop the undo too.
KEPT_WORK = {"officer_photo"}
# Removed by undo itself (the certificate's own history) or recomputed (the yearly hours).
UNDO_REMOVES = {"certificate_event", "training_hours"}


def _referrers(table_name: str, chunk: list[int], created: dict) -> str | None:
    """Every other foreign key to the imported table (read from the schema: a photo, an
    attachment, an online exam sitting, a user assigned to a unit, a reminder sent, a table added
    later) stops the undo with a message instead of failing on the constraint — but for rows this
    import made itself, keys that cascade or clear themselves, and rows undo removes itself."""
    target = MODELS[table_name].__table__
    listed = {child.__tablename__ for child, _fk, _n in DEPENDENTS.get(table_name, [])}
    for table in db.metadata.sorted_tables:
        if table.name in UNDO_REMOVES or table.name in listed:
            continue
        for fk in table.foreign_keys:
            if fk.column.table is not target or (
                    (fk.ondelete or "").upper() in ("CASCADE", "SET NULL") and table.name not in KEPT_WORK):
                continue
            own = set(created.get(table.name, []))
            if own and "id" in table.c:
                n = len([i for (i,) in db.session.execute(select(table.c.id).where(fk.parent.in_(chunk)))
                         if i not in own])
            else:
                n = db.session.scalar(select(func.count()).select_from(table).where(fk.parent.in_(chunk)))
            if n:
                # this module's own names first: the merge's names speak of an officer's rows
                # (its user_account is "the officer's own login"), not of a unit's user
                word, measure = ((REFERRER_NOUNS[table.name], "条") if table.name in REFERRER_NOUNS
                                 else OFFICER_NOUNS.get(table.name)
                                 or (ENTITY_TYPES.get(table.name, table.name), "条"))
                return f"导入的{NOUNS[table_name]}之后已有{word}（{n} {measure}），不能撤销"
    return None


def undo(batch: ImportBatch) -> str:
    """Delete what the import created. Raises DomainError with the reason when it may not."""
    reason = why_not_undo(batch)
    if reason:
        raise DomainError(f"不能撤销这次导入：{reason}")
    created = batch.created_ids
    counts = []
    touched: set[int] = set()
    years: set[int] = set()
    for chunk in chunks(created.get("attendance") or []):
        for officer_id, held_on in db.session.execute(
                select(Attendance.officer_id, TrainingSession.held_on)
                .join(TrainingSession, TrainingSession.id == Attendance.session_id)
                .where(Attendance.id.in_(chunk))):
            touched.add(officer_id)
            years.add(held_on.year)
    for table, model in MODELS.items():
        ids = created.get(table) or []
        if not ids:
            continue
        for chunk in chunks(ids):
            if table == "certificate":
                db.session.execute(delete(CertificateEvent).where(
                    CertificateEvent.certificate_id.in_(chunk)))
            elif table == "officer":
                for ref, column in references():
                    if ref.name in DERIVED:
                        db.session.execute(delete(ref).where(column.in_(chunk)))
            elif table == "penalty_case":
                db.session.execute(delete(CaseCertificate).where(CaseCertificate.case_id.in_(chunk)))
            db.session.execute(delete(model).where(model.id.in_(chunk)))
        counts.append(f"{NOUNS[table]} {len(ids)} 条")
    if created.get("certificate") or created.get("penalty_case"):
        refresh_verdicts(db.session, everything=True)
    if created.get("certificate") or created.get("officer") or created.get("unit"):
        flagstore.refresh(db.session, None)  # Core deletes: the stored flags rebuilt set-wise
    if touched:
        _after_attendance_import(touched, years)
    batch.status = "undone"
    batch.undone_at = utcnow()
    db.session.flush()
    summary = f"撤销导入“{batch.filename}”：删除" + "、".join(counts)
    record("undo_import", "import_batch", batch.id, summary, {"status": ["imported", "undone"]})
    return summary


def new_batch(kind: str, filename: str, data: bytes, status: str = "uploaded") -> ImportBatch:
    """An uploaded file kept as a batch (for the wizard, a background job, or the history)."""
    actor, user_id, _ip = current_actor()
    batch = ImportBatch(token=secrets.token_urlsafe(24), user_id=user_id, actor=actor, kind=kind,
                        filename=(filename or "未命名")[:255], file_size=len(data), file_data=pack(data),
                        status=status)
    db.session.add(batch)
    db.session.flush()
    return batch


def run_batch(batch: ImportBatch, *, dry_run: bool):
    """Run a stored batch's file through its importer with the columns mapped in the wizard and
    the new units ticked at its last step ("create_units"; before that step, the check lists
    every new unit: all allowed)."""
    mapping = batch.mapping

    try:
        source = parsed(batch)  # the rows read at the preview, not the workbook again
    except (DomainError, OSError):  # the importer below says what is wrong with the file
        source = batch.original
    return importers()[batch.kind].run(source, batch.filename, today=clock.today(),
                                       dry_run=dry_run, ignore=mapping.get("ignore", []),
                                       assign=mapping.get("assign", {}),
                                       create_units=mapping.get("create_units", True))
