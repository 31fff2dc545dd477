"""The text of account e-mails (password reset); `chiso.notify.service.send_email` sends
them over the SMTP server that settings `smtp_*` name."""

from __future__ import annotations


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
