"""Sending one e-mail over SMTP (smtplib), with STARTTLS whenever the server offers it."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid


class DeliveryError(Exception):
    """A channel could not deliver; the message is one line a person can act on."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 25
    user: str = ""
    password: str = ""
    mail_from: str = "certmgr@localhost"
    timeout: float = 30.0

    @classmethod
    def from_config(cls, config) -> SmtpSettings:
        return cls(
            host=(config.get("SMTP_HOST") or "").strip(),
            port=int(config.get("SMTP_PORT") or 25),
            user=config.get("SMTP_USER") or "",
            password=config.get("SMTP_PASSWORD") or "",
            mail_from=config.get("MAIL_FROM") or "certmgr@localhost",
        )


def build_message(smtp: SmtpSettings, recipients: list[str], subject: str, text: str,
                  html: str, attachment: tuple[str, bytes] | None = None) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = smtp.mail_from
    msg["To"] = ", ".join(recipients)
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain=smtp.mail_from.rpartition("@")[2] or "localhost")
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    if attachment:
        filename, data = attachment
        msg.add_attachment(data, maintype="application", subtype="pdf", filename=filename)
    return msg


def send(smtp: SmtpSettings, msg: EmailMessage) -> str:
    """Deliver `msg` to every address in To, or raise DeliveryError.

    Returns a warning when the server accepted the message but refused some recipients: the
    message went out, so it must count as sent (retrying would repeat it to everyone else).
    """
    where = f"SMTP {smtp.host}:{smtp.port}"
    if not smtp.host:
        raise DeliveryError("邮件未发送：未配置 SMTP_HOST（邮件服务器地址）")
    server: smtplib.SMTP | None = None
    try:
        if smtp.port == 465:
            server = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout,
                                      context=ssl.create_default_context())
        else:
            server = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
        server.ehlo()
        if smtp.port != 465 and server.has_extn("starttls"):
            server.starttls(context=ssl.create_default_context())
            server.ehlo()
        if smtp.user:
            server.login(smtp.user, smtp.password)
        refused = server.send_message(msg)
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryError(f"邮件未发送：{where} 拒绝登录（SMTP_USER/SMTP_PASSWORD）：{_why(exc)}") from exc
    except smtplib.SMTPRecipientsRefused as exc:
        raise DeliveryError(f"邮件未发送：{where} 拒绝了全部收件人 {', '.join(exc.recipients)}") from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"邮件未发送：{where} 不可用（{_why(exc)}）") from exc
    finally:
        if server is not None:
            try:  # the message is already accepted (or not); a failing QUIT changes nothing
                server.quit()
            except (smtplib.SMTPException, OSError):
                server.close()
    if refused:
        return f"邮件已发出，但 {where} 拒绝了收件人 {', '.join(refused)}（请检查 reminder_recipients）"
    return ""


def _why(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        detail = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) \
            else str(exc.smtp_error)
        return f"{exc.smtp_code} {detail}".strip()
    return str(exc) or exc.__class__.__name__
