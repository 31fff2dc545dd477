"""Plain SMTP for account e-mails (password reset). Settings `smtp_*` say where to send."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from chiso.settings import get_settings


def send_mail(*, to: str, subject: str, body: str) -> None:
    settings = get_settings()
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=15) as smtp:
        if settings.smtp_user:
            smtp.starttls()
            smtp.login(settings.smtp_user, settings.smtp_password)
        smtp.send_message(message)


def reset_mail_body(*, full_name: str, link: str, minutes: int) -> str:
    return (
        f"Xin chào {full_name},\n\n"
        f"Có yêu cầu đặt lại mật khẩu cho tài khoản của bạn trên hệ thống chiso. "
        f"Mở liên kết sau trong {minutes} phút để đặt mật khẩu mới:\n\n{link}\n\n"
        f"Nếu bạn không yêu cầu, hãy bỏ qua thư này; mật khẩu hiện tại vẫn giữ nguyên.\n\n"
        f"---\nA password reset was requested for your chiso account. Open the link above "
        f"within {minutes} minutes to choose a new password. If it was not you, ignore "
        f"this message.\n"
    )
