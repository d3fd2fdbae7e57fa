"""Every model, imported in one place for Alembic and the shell."""

from app.api.models import ApiToken
from app.applications.models import Application, ApplicationAction, CalendarDay, Notification
from app.audit.models import AuditEvent
from app.auth.models import User
from app.auth.throttle import LoginThrottle
from app.cases.models import CaseCertificate, CaseUnit, CaseVerdict, PenaltyCase
from app.certificates.models import AnnualReview, Certificate, CertificateEvent
from app.exams.models import Exam, ExamResult
from app.imports.models import ImportBatch
from app.jobs.models import Job
from app.locks import RunLock
from app.me.models import ChangeRequest, OfficerInvite, TrainingClaim
from app.officers.models import Officer, OfficerAttachment, OfficerPhoto, Unit
from app.online.models import OnlineExam, PaperItem, Question, Sitting
from app.reminders.models import ReminderDelivery, ReminderRun
from app.settings.models import Setting
from app.training.models import Attendance, TrainingSession
from app.verify.models import VerifyHit

__all__ = [
    "ApiToken",
    "Application",
    "ApplicationAction",
    "AnnualReview",
    "Attendance",
    "AuditEvent",
    "CalendarDay",
    "CaseCertificate",
    "CaseUnit",
    "CaseVerdict",
    "Certificate",
    "CertificateEvent",
    "ChangeRequest",
    "Exam",
    "ExamResult",
    "ImportBatch",
    "Job",
    "LoginThrottle",
    "Notification",
    "Officer",
    "OfficerInvite",
    "OfficerAttachment",
    "OfficerPhoto",
    "OnlineExam",
    "PaperItem",
    "PenaltyCase",
    "Question",
    "ReminderDelivery",
    "ReminderRun",
    "RunLock",
    "Setting",
    "Sitting",
    "TrainingClaim",
    "TrainingSession",
    "Unit",
    "User",
    "VerifyHit",
]
