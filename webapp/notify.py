"""Delivering the notification outbox: render each row in its language, send it, record the outcome.

Delivery is **at least once**: a row is marked sent only after the transport accepted the message,
and each row's outcome is committed on its own. A crash between the transport accepting a message
and that commit sends that one message again on the next pass; nothing delivered before the crash
is sent again and nothing undelivered is lost. A row that fails ``MAX_ATTEMPTS`` times is a dead
letter: later passes skip it and count it, and staff can read its ``last_error``.

On PostgreSQL each row is claimed with ``FOR UPDATE SKIP LOCKED`` while it is sent, so two passes
running at once never send the same row twice; on SQLite (development) run one pass at a time.

``flask --app webapp notifications send [--batch N]`` runs one pass: over SMTP when ``SMTP_URL``
is set (``smtp://user:pass@host:587`` with STARTTLS, ``smtps://user:pass@host:465``), else to the
console outside production.
"""

from __future__ import annotations

import logging
import os
import re
import smtplib
import ssl
import sys
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import IO, Protocol
from urllib.parse import unquote, urlsplit

import click
from flask import Flask, current_app, render_template
from flask.cli import AppGroup
from flask_babel import force_locale, format_datetime
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Match, MatchRequest, Mentor, MentoringSession, Notification, Room, User, utcnow
from webapp.config import ConfigError
from webapp.database import get_db
from webapp.services.notifications import MAX_ATTEMPTS

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "http://127.0.0.1:5000"
#: Where each kind's link points, below BASE_URL.
LINK_PATHS: dict[str, str] = {
    "request_new": "/mentor/requests",
    "proposal_approved": "/dashboard",
    "request_accepted": "/me/mentorship",
    "request_declined": "/me/requests",
    "request_expired": "/me/mentors",
    "request_closed": "/mentor/requests",
    "mentor_paused": "/mentor/profile",
    "session_proposed": "/sessions",
    "session_reminder": "/sessions",
}
DEFAULT_LINK_PATH = "/dashboard"
SMTP_TIMEOUT = 10.0


# --- rendering -------------------------------------------------------------------------------


def base_url(app: Flask) -> str:
    """The public address of the site for links in messages (``BASE_URL``), without a trailing slash."""
    url = app.config.get("BASE_URL") or os.environ.get("BASE_URL") or DEFAULT_BASE_URL
    return url.rstrip("/")


class MissingRecord(LookupError):
    """A notification refers to a row that does not exist (it cannot be rendered)."""


def _get(db: Session, model: type, key: object) -> object:
    row = db.get(model, key)
    if row is None:
        raise MissingRecord(f"{model.__name__} {key} not found")
    return row


def _context(db: Session, row: Notification, recipient: User) -> dict:
    """What a template needs: the rows the payload names, the other person's display name, a link."""
    payload = row.payload or {}
    ctx: dict = {"recipient": recipient, "payload": payload, "kind": row.kind}
    request = _get(db, MatchRequest, payload["request_id"]) if payload.get("request_id") else None
    session = _get(db, MentoringSession, payload["session_id"]) if payload.get("session_id") else None
    match = _get(db, Match, payload["match_id"]) if payload.get("match_id") else None
    mentor = _get(db, Mentor, payload["mentor_id"]) if payload.get("mentor_id") else None
    if session is not None and match is None:
        match = session.match
    pair = request or match
    if pair is not None:
        ctx["is_mentor"] = pair.mentor.user_id == recipient.id
        ctx["other_name"] = pair.entrepreneur.name if ctx["is_mentor"] else pair.mentor.name
    if session is not None:
        ctx["when"] = format_datetime(session.starts_at, "EEEE, d MMMM y, HH:mm") + " WIB"
        room = db.get(Room, session.room_id) if session.room_id else None
        ctx["place"] = ", ".join(p for p in (room.name, room.address) if p) if room else None
    ctx.update(request=request, session=session, match=match, mentor=mentor)
    base = base_url(current_app)
    ctx["link"] = base + LINK_PATHS.get(row.kind, DEFAULT_LINK_PATH)
    ctx["site_url"] = base + "/"
    return ctx


def render_notification(db: Session, row: Notification, recipient: User) -> tuple[str, str]:
    """The (subject, plain-text body) of ``row`` in its language. Needs an app context.

    Each template ``email/<kind>.txt`` renders the subject as its first line and the body after it.
    """
    with force_locale(row.locale or "id"):
        text = render_template(f"email/{row.kind}.txt", **_context(db, row, recipient))
    subject, _sep, body = text.strip().partition("\n")
    body = re.sub(r"\n{3,}", "\n\n", body.strip("\n")) + "\n"
    return " ".join(subject.split()), body


def build_message(mail_from: str, to: str, subject: str, body: str) -> EmailMessage:
    """A plain-text UTF-8 e-mail marked as sent automatically."""
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    domain = parseaddr(mail_from)[1].rpartition("@")[2] or None
    message["Message-ID"] = make_msgid(domain=domain)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body)
    return message


# --- transports ------------------------------------------------------------------------------


class Transport(Protocol):
    """Sends one e-mail or raises; ``close`` ends any connection it holds."""

    def send(self, message: EmailMessage) -> None: ...

    def close(self) -> None: ...


class ConsoleTransport:
    """Development: writes each message to stdout instead of sending it."""

    def __init__(self, stream: IO[str] | None = None):
        self.stream = stream

    def send(self, message: EmailMessage) -> None:
        """Print the headers and the text of ``message``."""
        out = self.stream or sys.stdout
        out.write("-" * 72 + "\n")
        for header in ("From", "To", "Subject", "Date"):
            out.write(f"{header}: {message[header]}\n")
        out.write("\n" + message.get_content() + "\n")
        out.flush()

    def close(self) -> None:
        """Nothing to close."""


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to connect, read from an ``smtp://`` or ``smtps://`` URL."""

    host: str
    port: int
    username: str | None
    password: str | None
    implicit_tls: bool
    #: "require" (port 587) or "auto" (upgrade when the server offers it).
    starttls: str


def parse_smtp_url(url: str) -> SmtpSettings:
    """Settings from ``smtp://user:pass@host:587`` (STARTTLS) or ``smtps://user:pass@host[:465]``."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ConfigError(
            "SMTP_URL must look like smtp://user:password@host:587 or smtps://user:password@host:465"
        )
    implicit = parts.scheme == "smtps"
    try:
        port = parts.port or (465 if implicit else 587)
    except ValueError:
        raise ConfigError("SMTP_URL has an invalid port") from None
    return SmtpSettings(
        host=parts.hostname,
        port=port,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        implicit_tls=implicit,
        starttls="require" if (not implicit and port == 587) else "auto",
    )


class SmtpTransport:
    """Sends over SMTP with TLS (implicit or STARTTLS), reusing one connection for a pass."""

    def __init__(self, url: str, timeout: float = SMTP_TIMEOUT):
        self.settings = parse_smtp_url(url)
        self.timeout = timeout
        self._connection: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        context = ssl.create_default_context()
        if s.implicit_tls:
            conn: smtplib.SMTP = smtplib.SMTP_SSL(s.host, s.port, timeout=self.timeout, context=context)
            secure = True
        else:
            conn = smtplib.SMTP(s.host, s.port, timeout=self.timeout)
            conn.ehlo()
            secure = False
            if s.starttls == "require" or conn.has_extn("starttls"):
                conn.starttls(context=context)
                conn.ehlo()
                secure = True
        try:
            if s.username:
                if not secure:
                    raise smtplib.SMTPException("refusing to send credentials without TLS")
                conn.login(s.username, s.password or "")
        except BaseException:
            conn.close()
            raise
        return conn

    def send(self, message: EmailMessage) -> None:
        """Send ``message``; a connection dropped since the last message is reopened once."""
        reused = self._connection is not None
        if self._connection is None:
            self._connection = self._connect()
        try:
            self._connection.send_message(message)
        except smtplib.SMTPServerDisconnected:
            self._drop()
            if not reused:
                raise
            self._connection = self._connect()
            self._connection.send_message(message)
        except (smtplib.SMTPException, OSError):
            self._drop()
            raise

    def _drop(self) -> None:
        conn, self._connection = self._connection, None
        if conn is not None:
            try:
                conn.close()
            except OSError:
                log.debug("smtp: closing a broken connection failed")

    def close(self) -> None:
        """Say goodbye to the server and close the connection, if one is open."""
        conn, self._connection = self._connection, None
        if conn is None:
            return
        try:
            conn.quit()
        except (smtplib.SMTPException, OSError):
            conn.close()


def transport_from_config(config) -> Transport:
    """SMTP when ``SMTP_URL`` is set; the console otherwise, except in production (which refuses)."""
    if config.get("SMTP_URL"):
        return SmtpTransport(config["SMTP_URL"], timeout=float(config.get("SMTP_TIMEOUT", SMTP_TIMEOUT)))
    if config.get("ENV_NAME") == "production":
        raise ConfigError("production needs SMTP_URL to send notifications")
    return ConsoleTransport()


# --- the outbox ------------------------------------------------------------------------------


def _error_text(exc: BaseException, address: str) -> str:
    """The failure as stored in ``last_error``: the exception, without the recipient's address."""
    text = f"{type(exc).__name__}: {exc}"
    if address:
        text = text.replace(address, "<recipient>")
    return text[:500]


def deliver_outbox(app: Flask, db: Session, transport: Transport, batch: int = 100) -> dict[str, int]:
    """Send up to ``batch`` undelivered rows, oldest first, committing each outcome on its own.

    Returns counts: ``sent``, ``failed`` (attempts + 1, ``last_error`` stored), ``skipped`` (the
    recipient's account is gone: the row becomes a dead letter unsent) and ``dead`` (rows now at
    ``MAX_ATTEMPTS`` that no pass will try again).
    """
    counts = {"sent": 0, "failed": 0, "skipped": 0, "dead": 0}
    mail_from = app.config.get("MAIL_FROM") or "JakMentor <no-reply@jakmentor.local>"
    unsent = (Notification.sent_at.is_(None), Notification.attempts < MAX_ATTEMPTS)
    with app.app_context():
        try:
            ids = list(
                db.scalars(
                    select(Notification.id)
                    .where(*unsent)
                    .order_by(Notification.created_at, Notification.id)
                    .limit(batch)
                )
            )
            db.commit()
            for notification_id in ids:
                row = db.scalar(
                    select(Notification)
                    .where(Notification.id == notification_id, *unsent)
                    .with_for_update(skip_locked=True)
                )
                if row is None:  # sent by another pass meanwhile, or locked by it now
                    db.commit()
                    continue
                outcome = _deliver_one(db, row, transport, mail_from)
                counts[outcome] += 1
                db.commit()
            counts["dead"] = (
                db.scalar(
                    select(func.count())
                    .select_from(Notification)
                    .where(Notification.sent_at.is_(None), Notification.attempts >= MAX_ATTEMPTS)
                )
                or 0
            )
            db.commit()
        finally:
            transport.close()
    log.info(
        "outbox pass: %d sent, %d failed, %d skipped, %d dead letters",
        counts["sent"],
        counts["failed"],
        counts["skipped"],
        counts["dead"],
    )
    return counts


def _deliver_one(db: Session, row: Notification, transport: Transport, mail_from: str) -> str:
    """Render and send one claimed row and record the outcome on it (the caller commits)."""
    recipient = db.get(User, row.user_id)
    if recipient is None or not recipient.is_active or recipient.deleted_at is not None:
        row.attempts = MAX_ATTEMPTS
        row.last_error = "recipient inactive or deleted: not sent"
        log.info("notification %s (%s) dropped: recipient inactive", row.id, row.kind)
        return "skipped"
    try:
        subject, body = render_notification(db, row, recipient)
        transport.send(build_message(mail_from, recipient.email, subject, body))
    except Exception as exc:  # any failure of one row must not stop the pass
        row.attempts = (row.attempts or 0) + 1
        row.last_error = _error_text(exc, recipient.email)
        log.warning(
            "notification %s (%s) failed (attempt %d): %s", row.id, row.kind, row.attempts, type(exc).__name__
        )
        return "failed"
    row.sent_at = utcnow()
    row.attempts = (row.attempts or 0) + 1
    row.last_error = None
    log.info("notification %s (%s) sent", row.id, row.kind)
    return "sent"


# --- command line ----------------------------------------------------------------------------

notifications_cli = AppGroup("notifications", help="The notification outbox.")


@notifications_cli.command("send")
@click.option("--batch", default=100, show_default=True, type=click.IntRange(1, 10_000))
def send_command(batch: int) -> None:
    """Send undelivered notifications once (SMTP when SMTP_URL is set, else the console)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        transport = transport_from_config(app.config)
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    counts = deliver_outbox(app, get_db(), transport, batch=batch)
    click.echo(
        f"notifications: {counts['sent']} sent, {counts['failed']} failed, "
        f"{counts['skipped']} skipped, {counts['dead']} dead letters"
    )
