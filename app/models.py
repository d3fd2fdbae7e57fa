"""Every model, imported in one place for Alembic and the shell."""

from app.audit.models import AuditEvent
from app.auth.models import User
from app.certificates.models import AnnualReview, Certificate, CertificateEvent
from app.exams.models import Exam, ExamResult
from app.imports.models import ImportBatch
from app.officers.models import Officer, Unit
from app.reminders.models import ReminderDelivery, ReminderRun
from app.settings.models import Setting
from app.training.models import Attendance, TrainingSession

__all__ = [
    "AnnualReview", "Attendance", "AuditEvent", "Certificate", "CertificateEvent", "Exam",
    "ExamResult", "ImportBatch", "Officer", "ReminderDelivery", "ReminderRun", "Setting", "TrainingSession", "Unit", "User",
]
