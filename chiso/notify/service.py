"""notify(): email over SMTP plus an in-app notification, never the same event twice.

The (recipient, event_key) pair is unique in the table, so a repeated cron run, a second
process or a retry cannot send an event again. An email that failed (SMTP down) is kept
as `failed` and retried by the next call with the same event; the in-app row stays.
"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from chiso.accounts.models import User
from chiso.db.base import utcnow
from chiso.notify.models import Notification
from chiso.settings import get_settings


def notify(session: Session, *, recipients: list[User], event_key: str, subject: str,
           body: str, link: str = "", email_now: bool = True) -> int:
    """Tell each recipient once about `event_key`; returns the number of emails sent.
    With `email_now=False` the e-mails wait as `pending` for `send_pending` (called after
    the request has answered): a slow mail server then never holds up the person who
    approved a report."""
    sent = 0
    for user in _distinct(recipients):
        row = session.scalar(select(Notification).where(
            Notification.user_id == user.id, Notification.event_key == event_key))
        if row is None:
            row = Notification(user_id=user.id, event_key=event_key, subject=subject,
                               body=body, link=link)
            session.add(row)
            session.flush()
        elif row.email_status not in ("failed", "pending"):
            continue
        if email_now:
            sent += _email(row, user)
        else:
            row.email_status = "pending" if user.email else "none"
    return sent


def send_pending(session: Session, limit: int = 200) -> int:
    """Send the e-mails left `pending` (oldest first); returns how many went out. A failure
    stays `failed`, retried when the same event is notified again."""
    rows = session.scalars(select(Notification).where(Notification.email_status == "pending")
                           .order_by(Notification.id).limit(limit)).all()
    sent = 0
    for row in rows:
        user = session.get(User, row.user_id)
        if user is None or not user.is_active:
            row.email_status = "none"
            continue
        sent += _email(row, user)
    return sent


def _distinct(recipients: list[User]) -> list[User]:
    seen: dict[int, User] = {}
    for user in recipients:
        if user is not None and user.is_active:
            seen.setdefault(user.id, user)
    return list(seen.values())


def _email(row: Notification, user: User) -> int:
    if not user.email:
        row.email_status = "none"
        return 0
    try:
        send_email(to=user.email, subject=row.subject, body=_with_link(row.body, row.link))
    except (OSError, smtplib.SMTPException) as exc:
        row.email_status, row.email_error = "failed", str(exc)[:500]
        return 0
    row.email_status, row.email_error = "sent", ""
    return 1


def _with_link(body: str, link: str) -> str:
    if not link:
        return body
    url = link if link.startswith("http") else get_settings().base_url.rstrip("/") + link
    return f"{body}\n\n{url}"


def send_email(*, to: str, subject: str, body: str) -> None:
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


def unread_count(session: Session, user: User) -> int:
    return session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


def recent(session: Session, user: User, limit: int = 50) -> list[Notification]:
    return list(session.scalars(select(Notification).where(Notification.user_id == user.id)
                                .order_by(Notification.id.desc()).limit(limit)))


def mark_all_read(session: Session, user: User) -> None:
    session.execute(update(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)).values(
            read_at=utcnow()))
