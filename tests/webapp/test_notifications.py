"""Notifications: queued in the outbox in the recipient's language, delivered at least once, never lost."""

from __future__ import annotations

import datetime as dt
import logging
import smtplib

import pytest
from sqlalchemy import func, select

from models import Match, MatchRequest, MentoringSession, Notification, Role, utcnow
from tests.factories import make_entrepreneur, make_mentor, make_user
from webapp.config import ConfigError
from webapp.notify import (
    ConsoleTransport,
    SmtpTransport,
    deliver_outbox,
    parse_smtp_url,
    render_notification,
    transport_from_config,
)
from webapp.services.errors import InvalidInput
from webapp.services.notifications import KINDS, MAX_ATTEMPTS, PAYLOAD_KEYS, notify, pending


class RecordingTransport:
    """Accepts every message and keeps it."""

    def __init__(self):
        self.sent = []
        self.closed = 0

    def send(self, message):
        self.sent.append(message)

    def close(self):
        self.closed += 1


class BrokenTransport(RecordingTransport):
    """Refuses every message the way a mail server that is down does."""

    def send(self, message):
        raise smtplib.SMTPServerDisconnected(f"connection lost while sending to {message['To']}")


@pytest.fixture
def pair(db):
    """An entrepreneur and a mentor (both with accounts) and a pending request between them."""
    e_user = make_user(db, Role.ENTREPRENEUR, name="Siti Rahmawati", email="siti@example.id")
    m_user = make_user(db, Role.MENTOR, name="Budi Santoso", email="budi@example.id", locale="en")
    entrepreneur = make_entrepreneur(db, e_user)
    mentor = make_mentor(db, m_user)
    request = MatchRequest(entrepreneur_id=entrepreneur.id, mentor_id=mentor.id, status="pending")
    db.add(request)
    db.flush()
    return e_user, m_user, request


def _session(db, request) -> MentoringSession:
    match = Match(entrepreneur_id=request.entrepreneur_id, mentor_id=request.mentor_id, request_id=request.id)
    db.add(match)
    db.flush()
    starts = dt.datetime(2026, 12, 3, 3, 0, tzinfo=dt.UTC)  # 10:00 in Jakarta
    session = MentoringSession(
        match_id=match.id,
        week_start=dt.date(2026, 11, 30),
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=1),
        mode="online",
        video_url="https://meet.example/abc",
    )
    db.add(session)
    db.flush()
    return session


def test_notify_queues_one_row_in_the_recipients_language(db, pair):
    e_user, m_user, request = pair
    row = notify(db, m_user, "request_new", request_id=request.id)
    assert row is not None and row.sent_at is None and row.attempts == 0
    assert (row.user_id, row.kind, row.locale, row.payload) == (
        m_user.id,
        "request_new",
        "en",
        {"request_id": request.id},
    )
    by_id = notify(db, e_user.id, "request_accepted", request_id=request.id)
    assert by_id.locale == "id"
    assert db.scalar(select(func.count()).select_from(Notification)) == 2


def test_notify_refuses_unknown_kinds_and_missing_payload(db, pair):
    _e, m_user, _request = pair
    with pytest.raises(InvalidInput):
        notify(db, m_user, "birthday_wishes")
    with pytest.raises(InvalidInput):
        notify(db, m_user, "request_new")
    assert db.scalar(select(func.count()).select_from(Notification)) == 0


def test_deleted_and_inactive_users_get_nothing(db, pair):
    e_user, m_user, request = pair
    e_user.deleted_at = utcnow()
    m_user.is_active = False
    assert notify(db, e_user, "request_accepted", request_id=request.id) is None
    assert notify(db, m_user.id, "request_new", request_id=request.id) is None
    assert db.scalar(select(func.count()).select_from(Notification)) == 0


def test_rendering_speaks_the_recipients_language(app, db, pair):
    e_user, m_user, request = pair
    app.config["BASE_URL"] = "https://jakmentor.example.id/"
    to_mentor = notify(db, m_user, "request_new", request_id=request.id)  # English
    to_entrepreneur = notify(db, e_user, "request_accepted", request_id=request.id)  # Indonesian
    with app.app_context():
        subject_en, body_en = render_notification(db, to_mentor, m_user)
        subject_id, body_id = render_notification(db, to_entrepreneur, e_user)
    assert subject_en == "New mentoring request from Siti Rahmawati"
    assert body_en.startswith("Hello Budi Santoso,")
    assert "https://jakmentor.example.id/mentor/requests" in body_en
    assert subject_id == "Budi Santoso menerima permintaan mentoring Anda"
    assert body_id.startswith("Halo Siti Rahmawati,")
    assert "Selamat!" in body_id
    # Nobody's contact details travel in a message about them.
    assert "siti@example.id" not in body_en and "budi@example.id" not in body_id


def test_session_times_are_shown_in_jakarta_time(app, db, pair):
    e_user, _m, request = pair
    session = _session(db, request)
    row = notify(db, e_user, "session_proposed", session_id=session.id)
    with app.app_context():
        subject, body = render_notification(db, row, e_user)
    assert "10:00 WIB" in subject and "Kamis" in subject
    assert "https://meet.example/abc" in body and "Budi Santoso" in body


@pytest.mark.parametrize("locale", ["id", "en"])
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_in_both_languages(app, db, pair, kind, locale):
    e_user, m_user, request = pair
    recipient = m_user if kind in ("request_new", "request_closed", "mentor_paused") else e_user
    recipient.locale = locale
    session = _session(db, request)
    ids = {"request_id": request.id, "session_id": session.id, "mentor_id": request.mentor_id}
    row = notify(db, recipient, kind, **{key: ids[key] for key in PAYLOAD_KEYS[kind]})
    with app.app_context():
        subject, body = render_notification(db, row, recipient)
    assert subject and "\n" not in subject and "{{" not in subject + body
    from webapp.notify import DEFAULT_LINK_PATH, LINK_PATHS

    assert "http://127.0.0.1:5000" + LINK_PATHS.get(kind, DEFAULT_LINK_PATH) in body
    greeting = "Halo" if locale == "id" else "Hello"
    assert body.startswith(f"{greeting} {recipient.name},")


def test_delivery_sends_oldest_first_and_marks_rows_sent(app, db, pair):
    e_user, m_user, request = pair
    first = notify(db, m_user, "request_new", request_id=request.id)
    second = notify(db, e_user, "request_accepted", request_id=request.id)
    transport = RecordingTransport()
    counts = deliver_outbox(app, db, transport)
    assert counts == {"sent": 2, "failed": 0, "skipped": 0, "dead": 0}
    assert [m["To"] for m in transport.sent] == ["budi@example.id", "siti@example.id"]
    assert transport.sent[0]["Subject"] == "New mentoring request from Siti Rahmawati"
    assert transport.sent[0]["Auto-Submitted"] == "auto-generated"
    assert first.sent_at is not None and second.sent_at is not None
    assert pending(db) == []
    assert deliver_outbox(app, db, transport)["sent"] == 0 and len(transport.sent) == 2
    assert transport.closed == 2


def test_a_failed_delivery_is_kept_and_later_delivered_exactly_once(app, db, pair, caplog):
    _e, m_user, request = pair
    row = notify(db, m_user, "request_new", request_id=request.id)
    caplog.set_level(logging.INFO, logger="webapp.notify")
    counts = deliver_outbox(app, db, BrokenTransport())
    assert counts["failed"] == 1 and counts["sent"] == 0
    db.refresh(row)
    assert row.sent_at is None and row.attempts == 1
    assert row.last_error.startswith("SMTPServerDisconnected")
    assert "budi@example.id" not in row.last_error
    assert "budi@example.id" not in caplog.text and "Budi" not in caplog.text

    working = RecordingTransport()
    assert deliver_outbox(app, db, working)["sent"] == 1
    assert deliver_outbox(app, db, working)["sent"] == 0
    assert len(working.sent) == 1
    db.refresh(row)
    assert row.sent_at is not None and row.last_error is None


def test_one_failing_row_does_not_stop_the_others(app, db, pair):
    e_user, m_user, request = pair
    broken = notify(db, m_user, "request_new", request_id=request.id + 1000)  # refers to no request
    fine = notify(db, e_user, "request_accepted", request_id=request.id)
    counts = deliver_outbox(app, db, RecordingTransport())
    assert (counts["failed"], counts["sent"]) == (1, 1)
    assert broken.sent_at is None and "MissingRecord" in broken.last_error
    assert fine.sent_at is not None


def test_dead_letters_are_skipped_and_counted(app, db, pair):
    _e, m_user, request = pair
    row = notify(db, m_user, "request_new", request_id=request.id)
    row.attempts = MAX_ATTEMPTS - 1
    db.flush()
    assert deliver_outbox(app, db, BrokenTransport())["dead"] == 1
    transport = RecordingTransport()
    counts = deliver_outbox(app, db, transport)
    assert counts == {"sent": 0, "failed": 0, "skipped": 0, "dead": 1}
    assert transport.sent == [] and row.attempts == MAX_ATTEMPTS


def test_messages_to_an_account_deleted_after_queueing_are_not_sent(app, db, pair):
    e_user, _m, request = pair
    row = notify(db, e_user, "request_accepted", request_id=request.id)
    e_user.deleted_at = utcnow()
    db.flush()
    transport = RecordingTransport()
    counts = deliver_outbox(app, db, transport)
    assert counts["skipped"] == 1 and transport.sent == []
    assert row.sent_at is None and row.attempts == MAX_ATTEMPTS


def test_the_cli_sends_one_pass_to_the_console(app, db, pair):
    e_user, _m, request = pair
    notify(db, e_user, "request_accepted", request_id=request.id)
    db.commit()
    result = app.test_cli_runner().invoke(args=["notifications", "send", "--batch", "10"])
    assert result.exit_code == 0, result.output
    assert "Subject: Budi Santoso menerima permintaan mentoring Anda" in result.output
    assert "1 sent, 0 failed" in result.output
    db.expire_all()
    assert pending(db) == []


def test_console_transport_prints_the_message(capsys):
    from webapp.notify import build_message

    ConsoleTransport().send(
        build_message("JakMentor <no-reply@jakmentor.id>", "a@b.id", "Subjek", "Isi pesan\n")
    )
    out = capsys.readouterr().out
    assert "Subject: Subjek" in out and "Isi pesan" in out


# --- SMTP ------------------------------------------------------------------------------------


def test_smtp_urls_are_parsed():
    s = parse_smtp_url("smtp://mailer%40jakmentor.id:p%40ss@mail.example.id:587")
    assert (s.host, s.port, s.username, s.password, s.implicit_tls, s.starttls) == (
        "mail.example.id",
        587,
        "mailer@jakmentor.id",
        "p@ss",
        False,
        "require",
    )
    s = parse_smtp_url("smtps://u:p@mail.example.id")
    assert (s.port, s.implicit_tls) == (465, True)
    s = parse_smtp_url("smtp://localhost:1025")
    assert (s.port, s.username, s.starttls) == (1025, None, "auto")
    for bad in ("http://mail.example.id", "smtp://", "smtp://host:notaport"):
        with pytest.raises(ConfigError):
            parse_smtp_url(bad)


def test_the_transport_is_chosen_from_the_configuration():
    assert isinstance(transport_from_config({"SMTP_URL": "smtp://u:p@h:587"}), SmtpTransport)
    assert isinstance(transport_from_config({"ENV_NAME": "development"}), ConsoleTransport)
    with pytest.raises(ConfigError):
        transport_from_config({"ENV_NAME": "production"})


class FakeSMTP:
    """Stands in for smtplib.SMTP / SMTP_SSL and records what the transport does with it."""

    instances: list[FakeSMTP] = []
    extensions = {"starttls"}
    fail_send = False

    def __init__(self, host, port, timeout=None, context=None):
        self.host, self.port, self.timeout, self.context = host, port, timeout, context
        self.calls: list[tuple] = []
        self.messages = []
        FakeSMTP.instances.append(self)

    def ehlo(self):
        self.calls.append(("ehlo",))

    def has_extn(self, name):
        return name in self.extensions

    def starttls(self, context=None):
        self.calls.append(("starttls",))

    def login(self, user, password):
        self.calls.append(("login", user, password))

    def send_message(self, message):
        if FakeSMTP.fail_send:
            raise smtplib.SMTPRecipientsRefused({message["To"]: (550, b"no such user")})
        self.messages.append(message)

    def quit(self):
        self.calls.append(("quit",))

    def close(self):
        self.calls.append(("close",))


@pytest.fixture
def fake_smtp(monkeypatch):
    FakeSMTP.instances = []
    FakeSMTP.extensions = {"starttls"}
    FakeSMTP.fail_send = False
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    monkeypatch.setattr(smtplib, "SMTP_SSL", FakeSMTP)
    return FakeSMTP


def test_smtp_delivery_uses_starttls_logs_in_and_reuses_one_connection(app, db, pair, fake_smtp):
    e_user, m_user, request = pair
    notify(db, m_user, "request_new", request_id=request.id)
    notify(db, e_user, "request_accepted", request_id=request.id)
    app.config["MAIL_FROM"] = "JakMentor <no-reply@jakmentor.id>"
    counts = deliver_outbox(app, db, SmtpTransport("smtp://mailer:rahasia@mail.example.id:587", timeout=5))
    assert counts["sent"] == 2
    [conn] = fake_smtp.instances
    assert (conn.host, conn.port, conn.timeout) == ("mail.example.id", 587, 5)
    assert conn.calls == [("ehlo",), ("starttls",), ("ehlo",), ("login", "mailer", "rahasia"), ("quit",)]
    assert [m["To"] for m in conn.messages] == ["budi@example.id", "siti@example.id"]
    assert conn.messages[0]["From"] == "JakMentor <no-reply@jakmentor.id>"
    assert conn.messages[0]["Message-ID"].endswith("@jakmentor.id>")


def test_smtps_uses_implicit_tls(app, db, pair, fake_smtp):
    e_user, _m, request = pair
    notify(db, e_user, "request_accepted", request_id=request.id)
    assert deliver_outbox(app, db, SmtpTransport("smtps://u:p@mail.example.id"))["sent"] == 1
    [conn] = fake_smtp.instances
    assert conn.port == 465 and conn.context is not None
    assert ("starttls",) not in conn.calls and ("login", "u", "p") in conn.calls


def test_smtp_refuses_to_send_credentials_without_tls(app, db, pair, fake_smtp):
    e_user, _m, request = pair
    row = notify(db, e_user, "request_accepted", request_id=request.id)
    fake_smtp.extensions = set()
    counts = deliver_outbox(app, db, SmtpTransport("smtp://u:p@mail.example.id:25"))
    assert counts["failed"] == 1
    assert "without TLS" in row.last_error and row.sent_at is None
    assert all(call[0] != "login" for call in fake_smtp.instances[0].calls)


def test_a_refused_recipient_is_recorded_without_the_address(app, db, pair, fake_smtp):
    e_user, _m, request = pair
    row = notify(db, e_user, "request_accepted", request_id=request.id)
    fake_smtp.fail_send = True
    counts = deliver_outbox(app, db, SmtpTransport("smtp://mail.example.id:587"))
    assert counts["failed"] == 1 and row.attempts == 1
    assert row.last_error.startswith("SMTPRecipientsRefused") and "siti@example.id" not in row.last_error
