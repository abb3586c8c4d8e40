"""PDP-4: members' accounts unused past the retention period are anonymised by the daily retention job,
and a deleted person's values disappear from the audit log's before/after while the rows stay."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from sqlalchemy import select

from models import ApiToken, AuditLog, Match, Role, User, UserSession
from tests.factories import make_entrepreneur, make_mentor, make_user
from webapp import scheduler as sched
from webapp.services import members_csv, retention
from webapp.services.login_sessions import SessionPolicy
from webapp.services.personal_data import AUDIT_REDACTED, delete_account

NOW = dt.datetime(2030, 3, 1, 3, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
PAST = NOW - 1096 * DAY  # just past the default 1095 days


def _member(db, role=Role.ENTREPRENEUR, *, created=NOW - 2000 * DAY, last_login=None) -> User:
    user = make_user(db, role)
    user.created_at, user.last_login_at = created, last_login
    if role is Role.ENTREPRENEUR:
        make_entrepreneur(db, user)
    elif role is Role.MENTOR:
        make_mentor(db, user)
    db.flush()
    return user


def _deleted(db, *users: User) -> list[bool]:
    db.expire_all()
    return [db.get(User, u.id).deleted_at is not None for u in users]


def test_accounts_unused_past_the_retention_are_anonymised_and_every_exception_kept(db):
    gone = [
        _member(db, last_login=PAST),
        _member(db, created=PAST, last_login=None),  # never logged in
        _member(db, Role.MENTOR, last_login=PAST - 100 * DAY),
    ]
    recent_login = _member(db, last_login=NOW - 1094 * DAY)
    young = _member(db, created=NOW - 1094 * DAY)
    seen = _member(db, last_login=PAST)  # a remembered session used last month
    db.add(UserSession(id="a" * 64, user_id=seen.id, created_at=PAST, last_seen_at=NOW - 30 * DAY,
                       expires_at=NOW + DAY, remember=True))  # fmt: skip
    api_user = _member(db, last_login=PAST)
    db.add(ApiToken(user_id=api_user.id, token_hash="b" * 64, created_at=PAST, last_used_at=NOW - 2 * DAY))
    staff = _member(db, Role.STAFF, last_login=PAST - 500 * DAY)
    admin = _member(db, Role.ADMIN)
    mentee = _member(db, last_login=PAST)
    mentor = _member(db, Role.MENTOR, last_login=PAST)
    db.add(Match(entrepreneur_id=mentee.entrepreneur.id, mentor_id=mentor.mentor.id, status="active"))
    mentor.mentor.active_count = 1
    db.flush()
    kept = [recent_login, young, seen, api_user, staff, admin, mentee, mentor]

    result = retention.purge_expired(db, retention.RetentionPolicy(), SessionPolicy(), now=NOW)

    assert result.inactive_accounts == len(gone)
    assert _deleted(db, *gone) == [True] * len(gone)
    assert _deleted(db, *kept) == [False] * len(kept)
    for user in gone:
        row = db.get(User, user.id)
        assert row.email == f"deleted-{user.id}@invalid" and row.name.startswith("Anggota terhapus")
        audit = db.scalar(
            select(AuditLog).where(AuditLog.action == "account.deleted", AuditLog.object_id == str(user.id))
        )
        assert audit.actor_id is None and audit.after["by"] == "retention"
    # A second sweep finds nothing more.
    assert (
        retention.purge_expired(db, retention.RetentionPolicy(), SessionPolicy(), now=NOW).inactive_accounts
        == 0
    )


def test_the_period_comes_from_the_config_and_zero_turns_it_off(db):
    assert retention.RetentionPolicy.from_config({}).inactive_accounts == 1095 * DAY
    assert (
        retention.RetentionPolicy.from_config({"INACTIVE_ACCOUNT_RETENTION_DAYS": "400"}).inactive_accounts
        == 400 * DAY
    )
    off = retention.RetentionPolicy.from_config({"INACTIVE_ACCOUNT_RETENTION_DAYS": "0"})
    assert off.inactive_accounts is None
    old = _member(db, last_login=PAST)
    assert retention.purge_expired(db, off, SessionPolicy(), now=NOW).inactive_accounts == 0
    assert _deleted(db, old) == [False]
    with pytest.raises(ValueError, match="cannot be negative"):
        retention.RetentionPolicy.from_config({"INACTIVE_ACCOUNT_RETENTION_DAYS": "-1"})


def test_the_daily_job_anonymises_and_logs_the_count(app, db, caplog):
    old = _member(db, last_login=PAST)
    with caplog.at_level(logging.INFO, logger="webapp.services.retention"):
        result = sched.run_retention(app, now=NOW)
    assert result.inactive_accounts == 1 and _deleted(db, old) == [True]
    record = next(r for r in caplog.records if getattr(r, "event", None) == "retention_purge")
    assert "anonymised 1 inactive accounts" in record.getMessage()


def test_the_cli_dry_run_counts_and_the_real_run_anonymises(app, db):
    old = _member(db, created=dt.datetime.now(dt.UTC) - 1200 * DAY)
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["retention", "purge", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "1 accounts unused for 1095 days anonymised" in dry.output and _deleted(db, old) == [False]
    real = runner.invoke(args=["retention", "purge"])
    assert real.exit_code == 0 and _deleted(db, old) == [True]
    app.config["INACTIVE_ACCOUNT_RETENTION_DAYS"] = 0
    off = runner.invoke(args=["retention", "purge"])
    assert "inactive accounts kept (INACTIVE_ACCOUNT_RETENTION_DAYS=0)" in off.output


def test_deletion_redacts_the_persons_values_in_audit_rows_but_keeps_the_rows_and_actions(db):
    staff = make_user(db, Role.STAFF)
    user = make_user(db, Role.ENTREPRENEUR, name="Siti Rahmawati")
    siti = make_entrepreneur(db, user, name="Siti Rahmawati", bio="Nasi uduk sejak 2019")
    other = make_entrepreneur(db, name="Ayu Lestari")
    for person, name in ((siti, "Siti R."), (other, "Ayu L.")):
        row = members_csv.member_row(db, "entrepreneurs", person.external_id)
        members_csv.update_member(db, "entrepreneurs", person.external_id,
                                  {**row, "name": name, "bio": "Warung di Gambir", "stage": "growth"},
                                  actor_id=staff.id)  # fmt: skip
    db.add(AuditLog(actor_id=user.id, action="account.contact", object_type="user", object_id=str(user.id),
                    before={"phone": None, "share_phone": False}, after={"phone": "***", "share_phone": True}))  # fmt: skip
    db.flush()
    external_id = siti.external_id

    delete_account(db, user)

    [update] = db.scalars(select(AuditLog).where(AuditLog.action == "member.update.entrepreneurs",
                                                 AuditLog.actor_id == staff.id,
                                                 AuditLog.object_id == f"deleted-E{siti.id}"))  # fmt: skip
    assert update.before == {"bio": AUDIT_REDACTED, "name": AUDIT_REDACTED, "stage": "early"}
    assert update.after == {"bio": AUDIT_REDACTED, "name": AUDIT_REDACTED, "stage": "growth"}
    assert db.scalar(select(AuditLog).where(AuditLog.object_id == external_id)) is None
    contact = db.scalar(select(AuditLog).where(AuditLog.action == "account.contact"))
    assert contact.before == {"phone": None, "share_phone": False}  # empty stays empty, flags stay
    [theirs] = db.scalars(select(AuditLog).where(AuditLog.object_id == other.external_id))
    assert theirs.after["name"] == "Ayu L." and theirs.before["name"] == "Ayu Lestari"
    deleted = db.scalar(select(AuditLog).where(AuditLog.action == "account.deleted"))
    assert deleted.after["audit_rows_redacted"] == 1  # the contact row held nothing in clear
