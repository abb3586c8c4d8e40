"""PDP-4 retention: ended logins, old notifications and old login throttles go after their period,
in one transaction, from the daily scheduler job or ``flask retention purge``."""

from __future__ import annotations

import datetime as dt
import logging
import secrets

import pytest
from sqlalchemy import select

from models import MentoringSession, Notification, User, UserSession
from tests.factories import make_user
from tests.webapp.sessions_data import at, make_match
from webapp import scheduler as sched
from webapp.services import retention, sessions
from webapp.services.login_sessions import SessionPolicy
from webapp.services.notifications import MAX_ATTEMPTS

NOW = dt.datetime(2027, 3, 1, 3, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
KEEP = retention.RetentionPolicy()  # 30 days for logins, 90 for notifications


def _login(db, user: User, *, seen: dt.datetime, expires: dt.datetime, remember=False, revoked=None) -> str:
    row = UserSession(
        id=secrets.token_hex(32),
        user_id=user.id,
        created_at=min(seen, expires) - DAY,
        last_seen_at=seen,
        expires_at=expires,
        remember=remember,
        revoked_at=revoked,
        ip="203.0.113.7",
    )
    db.add(row)
    db.flush()
    return row.id


def _left(db, user: User) -> set[str]:
    return set(db.scalars(select(UserSession.id).where(UserSession.user_id == user.id)))


def test_login_sessions_ended_longer_than_the_retention_are_deleted_and_the_rest_kept(db):
    user = make_user(db)
    later = NOW + 300 * DAY
    gone = {
        _login(db, user, seen=NOW - 40 * DAY, expires=later, revoked=NOW - 31 * DAY),
        _login(db, user, seen=NOW - 32 * DAY, expires=NOW - 31 * DAY),
        # idle: a plain login 2 h, a remembered one 7 days after it was last seen
        _login(db, user, seen=NOW - 30 * DAY - dt.timedelta(hours=2, minutes=1), expires=later),
        _login(db, user, seen=NOW - 37 * DAY - dt.timedelta(minutes=1), expires=later, remember=True),
    }
    kept = {
        _login(
            db, user, seen=NOW - 29 * DAY - dt.timedelta(minutes=1), expires=later, revoked=NOW - 29 * DAY
        ),
        _login(db, user, seen=NOW - 30 * DAY, expires=NOW - 29 * DAY),
        _login(db, user, seen=NOW - 30 * DAY - dt.timedelta(hours=1), expires=later),
        _login(db, user, seen=NOW - 36 * DAY, expires=later, remember=True),
        _login(db, user, seen=NOW - dt.timedelta(minutes=5), expires=NOW + DAY),  # in use
    }
    deleted = retention.purge_user_sessions(db, SessionPolicy(), KEEP.sessions, NOW)
    assert deleted == len(gone)
    assert _left(db, user) == kept


def _notification(db, user: User, *, created, sent=None, attempts=0) -> int:
    row = Notification(
        user_id=user.id, kind="request_new", payload={"request_id": 1}, created_at=created, sent_at=sent
    )
    row.attempts = attempts
    db.add(row)
    db.flush()
    return row.id


def test_delivered_and_dead_notifications_past_the_retention_are_deleted_pending_ones_kept(db):
    user = make_user(db)
    old = NOW - 91 * DAY
    gone = {
        _notification(db, user, created=old, sent=old),
        _notification(db, user, created=old, attempts=MAX_ATTEMPTS),  # a dead letter
    }
    kept = {
        _notification(db, user, created=old, sent=NOW - 89 * DAY),
        _notification(db, user, created=old),  # still to be sent
        _notification(db, user, created=NOW - 89 * DAY, attempts=MAX_ATTEMPTS),
    }
    assert retention.purge_notifications(db, KEEP.notifications, NOW) == len(gone)
    left = set(db.scalars(select(Notification.id).where(Notification.user_id == user.id)))
    assert left == kept


def test_purging_notifications_as_early_as_allowed_never_sends_a_reminder_again(db):
    match = make_match(db, e_kw={"mode": "online"})
    start = at(1, 19)
    db.add(
        MentoringSession(
            match_id=match.id, week_start=start.date() - dt.timedelta(days=1), starts_at=start,
            ends_at=start + dt.timedelta(hours=1), mode="online", status="confirmed",
        )
    )  # fmt: skip
    db.flush()
    moments = [start - dt.timedelta(hours=20), at(2, 8, 1)]  # the reminder, then the feedback request
    for moment in moments:
        assert sessions.queue_reminders(db, now=moment) == 2
        for row in db.scalars(select(Notification).where(Notification.sent_at.is_(None))):
            row.sent_at = moment
        db.flush()
    earliest_purge = moments[-1] + retention.MIN_NOTIFICATION_RETENTION + dt.timedelta(seconds=1)
    assert retention.purge_notifications(db, retention.MIN_NOTIFICATION_RETENTION, earliest_purge) >= 2
    assert sessions.queue_reminders(db, now=earliest_purge) == 0


def test_notification_retention_shorter_than_the_reminder_windows_is_refused():
    with pytest.raises(ValueError, match="at least 7 days"):
        retention.RetentionPolicy(notifications=3 * DAY)
    policy = retention.RetentionPolicy.from_config({"SESSION_RETENTION_DAYS": "10"})
    assert (policy.sessions, policy.notifications) == (10 * DAY, 90 * DAY)


def test_a_login_throttle_is_cleared_only_when_its_wait_ended_longer_than_the_retention_ago(db):
    old, recent = make_user(db), make_user(db)
    old.failed_logins, old.login_blocked_until = 9, NOW - 31 * DAY
    recent.failed_logins, recent.login_blocked_until = 9, NOW - 29 * DAY
    db.flush()
    assert retention.clear_login_throttles(db, KEEP.sessions, NOW) >= 1
    db.refresh(old)
    db.refresh(recent)
    assert (old.failed_logins, old.login_blocked_until) == (0, None)
    assert (recent.failed_logins, recent.login_blocked_until) == (9, NOW - 29 * DAY)


def test_the_daily_job_purges_in_one_transaction_and_logs_the_counts(app, db, caplog):
    user = make_user(db)
    _login(db, user, seen=NOW - 40 * DAY, expires=NOW - 39 * DAY)
    _notification(db, user, created=NOW - 100 * DAY, sent=NOW - 100 * DAY)
    with caplog.at_level(logging.INFO, logger="webapp.services.retention"):
        result = sched.run_retention(app, now=NOW)
    assert (result.user_sessions, result.notifications) >= (1, 1)
    assert _left(db, user) == set()
    record = next(r for r in caplog.records if getattr(r, "event", None) == "retention_purge")
    assert f"deleted {result.user_sessions} ended login sessions" in record.getMessage()
    job = sched.build_scheduler(app).get_job("purge_expired")
    assert job.trigger.get_next_fire_time(None, dt.datetime(2027, 3, 1, tzinfo=sessions.WIB)) == dt.datetime(
        2027, 3, 1, 3, 40, tzinfo=sessions.WIB
    )


def test_a_failing_purge_deletes_nothing(app, db, monkeypatch):
    user = make_user(db)
    doomed = _login(db, user, seen=NOW - 40 * DAY, expires=NOW - 39 * DAY)

    def broken(*_a, **_k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(retention, "purge_notifications", broken)
    with pytest.raises(RuntimeError):
        sched.run_retention(app, now=NOW)
    assert _left(db, user) == {doomed}  # the sessions deleted before the failure were rolled back


def test_the_cli_purge_reports_counts_and_a_dry_run_deletes_nothing(app, db):
    user = make_user(db)
    _login(db, user, seen=NOW - 400 * DAY, expires=NOW - 399 * DAY)
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["retention", "purge", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "dry run (nothing deleted)" in dry.output and "older than 30 days" in dry.output
    assert len(_left(db, user)) == 1
    real = runner.invoke(args=["retention", "purge"])
    assert real.exit_code == 0, real.output
    assert _left(db, user) == set()
    app.config["NOTIFICATION_RETENTION_DAYS"] = 2
    refused = runner.invoke(args=["retention", "purge"])
    assert refused.exit_code == 2 and "at least 7 days" in refused.output
