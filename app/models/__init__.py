"""Every model, imported in one place for Alembic and the shell."""

from app.locks import RunLock
from app.models.api import ApiToken
from app.models.applications import Application, ApplicationAction, CalendarDay, Notification
from app.models.audit import AuditEvent, AuditSubject
from app.models.auth import LoginThrottle, User
from app.models.cases import CaseCertificate, CaseUnit, CaseVerdict, PenaltyCase
from app.models.certificates import AnnualReview, Certificate, CertificateEvent
from app.models.exams import Exam, ExamResult
from app.models.flags import FlagMeta, FlagRow
from app.models.imports import ImportBatch
from app.models.jobs import Job
from app.models.me import ChangeRequest, OfficerInvite, TrainingClaim
from app.models.officers import Officer, OfficerAttachment, OfficerPhoto, Unit
from app.models.online import OnlineExam, PaperItem, Question, Sitting
from app.models.reminders import ReminderDelivery, ReminderRun
from app.models.settings import Setting
from app.models.training import Attendance, TrainingSession
from app.models.verify import VerifyHit

__all__ = [
    "ApiToken",
    "Application",
    "ApplicationAction",
    "AnnualReview",
    "Attendance",
    "AuditEvent",
    "AuditSubject",
    "CalendarDay",
    "CaseCertificate",
    "CaseUnit",
    "CaseVerdict",
    "Certificate",
    "CertificateEvent",
    "ChangeRequest",
    "Exam",
    "ExamResult",
    "FlagMeta",
    "FlagRow",
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
