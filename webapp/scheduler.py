"""The scheduler process: weekly session proposals and the hourly jobs, run by ``flask scheduler run``.

It runs only in its own process (``flask --app webapp scheduler run``, a ``BlockingScheduler``);
``create_app`` never starts it and web workers keep ``SCHEDULER_ENABLED`` False. Jobs are defined
in code, in a ``MemoryJobStore``, with explicit ids and ``replace_existing=True``; every time is
Jakarta time whatever the host's zone. The weekly job (``SESSION_PROPOSAL_CRON``, default
``sun 18:00``) proposes the coming week; its exactly-once guard lives in the database
(``webapp.services.sessions.propose_sessions_for_week``), so a second scheduler, a restart or a
manual ``flask sessions propose`` never duplicates a week. Missed runs are not replayed by an
in-memory store, so at start (and every hour) ``catch_up`` runs the week whose fire time has
passed and whose claim row is missing; ``check_proposals`` logs an ERROR (event
``proposals_overdue``) when the current week is still not proposed at Monday 10:00 WIB. The daily
``purge_expired`` job applies the retention periods (``webapp.services.retention``).

Each job runs inside ``app.app_context()``, opens its own session, commits once and closes it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import sys
from collections.abc import Callable

import click
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from matching.schedule import parse_iso_week
from models import utcnow
from models.db import write_intent
from webapp.services import mentorship, retention, sessions

log = logging.getLogger(__name__)

TIMEZONE = sessions.WIB
DEFAULT_PROPOSAL_CRON = "sun 18:00"
JOB_DEFAULTS = {"misfire_grace_time": 6 * 3600, "coalesce": True, "max_instances": 1}
#: The current week is still caught up until this weekday (0 = Monday); later only the next one.
CATCH_UP_CURRENT_UNTIL = 3
PROPOSAL_TIME_LIMIT = 8.0


def proposal_trigger(spec: str | None) -> CronTrigger:
    """A Jakarta-time trigger from ``sun 18:00`` (day of week and time) or a 5-field crontab line."""
    spec = (spec or DEFAULT_PROPOSAL_CRON).strip()
    parts = spec.split()
    if len(parts) == 2 and ":" in parts[1]:
        hour, minute = parts[1].split(":", 1)
        return CronTrigger(day_of_week=parts[0], hour=int(hour), minute=int(minute), timezone=TIMEZONE)
    return CronTrigger.from_crontab(spec, timezone=TIMEZONE)


def _session(app: Flask) -> Session:
    return app.extensions["jakmentor.sessions"]()


def _in_transaction(app: Flask, work: Callable[[Session], object]) -> object:
    """Run ``work`` in one transaction of a fresh session (SQLite: taking the write lock at BEGIN)."""
    with app.app_context(), write_intent():
        db = _session(app)
        try:
            result = work(db)
            db.commit()
            return result
        except BaseException:
            db.rollback()
            raise
        finally:
            db.close()


def run_proposals(app: Flask, now: dt.datetime | None = None, week: dt.date | None = None):
    """The weekly job: propose the week starting on the Monday on or after ``now`` (Jakarta time)."""
    now = now or utcnow()
    monday = week or sessions.upcoming_monday(now)
    limit = float(app.config.get("SESSION_PROPOSAL_TIME_LIMIT", PROPOSAL_TIME_LIMIT))
    run = _in_transaction(
        app, lambda db: sessions.propose_sessions_for_week(db, monday, now=now, time_limit=limit)
    )
    log.info(
        "propose_sessions %s: %s, %d sessions, %d unplaced",
        sessions.week_label(monday),
        run.status,
        run.proposed,
        len(run.unplaced),
    )
    return run


def weeks_to_catch_up(db: Session, now: dt.datetime, trigger: CronTrigger) -> list[dt.date]:
    """Weeks whose proposal time has passed at ``now`` without a claim row: the current week (until
    Thursday) and the coming one."""
    local = sessions.wib(now)
    candidates = []
    if local.weekday() <= CATCH_UP_CURRENT_UNTIL:
        candidates.append(sessions.week_monday(local))
    candidates.append(sessions.upcoming_monday(local))
    out = []
    for monday in dict.fromkeys(candidates):
        week_start = dt.datetime.combine(monday, dt.time(), tzinfo=TIMEZONE)
        fire = trigger.get_next_fire_time(None, week_start - dt.timedelta(days=7))
        if fire is not None and fire <= local and sessions.claim_of(db, monday) is None:
            out.append(monday)
    return out


def catch_up(app: Flask, now: dt.datetime | None = None, trigger: CronTrigger | None = None) -> list:
    """Run the proposal job for every week it missed (still guarded by the claim row)."""
    now = now or utcnow()
    trigger = trigger or proposal_trigger(app.config.get("SESSION_PROPOSAL_CRON"))
    with app.app_context():
        db = _session(app)
        try:
            weeks = weeks_to_catch_up(db, now, trigger)
        finally:
            db.close()
    runs = []
    for monday in weeks:
        log.warning("catching up the missed proposal run for %s", sessions.week_label(monday))
        runs.append(run_proposals(app, now, week=monday))
    return runs


def run_reminders(app: Flask, now: dt.datetime | None = None) -> int:
    """Hourly: queue the session reminders that are due (24 h before, the morning after)."""
    queued = _in_transaction(app, lambda db: sessions.queue_reminders(db, now))
    if queued:
        log.info("queued %d session reminders", queued)
    return queued


def run_request_expiry(app: Flask, now: dt.datetime | None = None):
    """Hourly: expire unanswered mentor requests."""
    return _in_transaction(app, lambda db: mentorship.expire_requests(db, now=now))


def run_retention(app: Flask, now: dt.datetime | None = None) -> retention.PurgeResult:
    """Daily: delete ended login sessions and old notifications, clear old login throttles (PDP-4)."""
    from webapp.auth import session_policy

    policy = retention.RetentionPolicy.from_config(app.config)
    return _in_transaction(app, lambda db: retention.purge_expired(db, policy, session_policy(), now=now))


def check_proposals(app: Flask, now: dt.datetime | None = None) -> dt.date | None:
    """Hourly: an ERROR (event ``proposals_overdue``) when the current week is still not proposed at
    Monday 10:00 WIB or later; the overdue week's Monday, or None."""
    with app.app_context():
        db = _session(app)
        try:
            monday = sessions.overdue_proposal_week(db, now)
        finally:
            db.close()
    if monday is not None:
        log.error(
            "weekly session proposals for %s are overdue: no finished run by Monday %s WIB",
            sessions.week_label(monday),
            sessions.PROPOSAL_DEADLINE.strftime("%H:%M"),
            extra={"event": "proposals_overdue"},
        )
    return monday


def run_delivery(app: Flask) -> dict:
    """Hourly: send the notification outbox (it commits per message)."""
    from webapp.notify import deliver_outbox, transport_from_config

    with app.app_context():
        db = _session(app)
        try:
            return deliver_outbox(app, db, transport_from_config(app.config))
        finally:
            db.close()


def _log_problem(event: JobExecutionEvent) -> None:
    if event.code == EVENT_JOB_MISSED:
        log.error("scheduler: job %s missed its run at %s", event.job_id, event.scheduled_run_time)
    else:
        log.error(
            "scheduler: job %s failed at %s: %r",
            event.job_id,
            event.scheduled_run_time,
            event.exception,
            exc_info=(type(event.exception), event.exception, event.exception.__traceback__)
            if event.exception
            else None,
        )


def build_scheduler(app: Flask) -> BlockingScheduler:
    """The process's scheduler with its jobs added (not started)."""
    scheduler = BlockingScheduler(
        timezone=TIMEZONE,
        jobstores={"default": MemoryJobStore()},
        job_defaults=dict(JOB_DEFAULTS),
    )
    scheduler.add_listener(_log_problem, EVENT_JOB_ERROR | EVENT_JOB_MISSED)
    add_jobs(scheduler, app)
    return scheduler


def add_jobs(scheduler: BaseScheduler, app: Flask) -> None:
    """Add the process's jobs, each under its fixed id: adding them again (a restart inside one
    process) replaces them rather than doubling them."""
    trigger = proposal_trigger(app.config.get("SESSION_PROPOSAL_CRON"))
    scheduler.add_job(
        run_proposals,
        trigger,
        args=[app],
        id="propose_sessions",
        name="propose_sessions",
        replace_existing=True,
        **JOB_DEFAULTS,  # explicit on the job too, so it is visible before the scheduler starts
    )
    jobs = [
        ("catch_up_proposals", catch_up, CronTrigger(minute=2, timezone=TIMEZONE)),
        ("session_reminders", run_reminders, CronTrigger(minute=5, timezone=TIMEZONE)),
        ("expire_requests", run_request_expiry, CronTrigger(minute=10, timezone=TIMEZONE)),
        ("deliver_notifications", run_delivery, CronTrigger(minute=15, timezone=TIMEZONE)),
        ("check_proposals", check_proposals, CronTrigger(minute=30, timezone=TIMEZONE)),
        ("purge_expired", run_retention, CronTrigger(hour=3, minute=40, timezone=TIMEZONE)),
    ]
    for job_id, func, trigger in jobs:
        scheduler.add_job(
            func,
            trigger,
            args=[app],
            id=job_id,
            name=job_id,
            replace_existing=True,
            **JOB_DEFAULTS,
        )


# --- command line -----------------------------------------------------------------------------------

scheduler_cli = AppGroup("scheduler", help="The scheduler process (weekly proposals, reminders).")
sessions_cli = AppGroup("sessions", help="Weekly mentoring sessions.")


@scheduler_cli.command("run")
def scheduler_run() -> None:
    """Run the scheduler in this process until stopped (catches up missed weeks first)."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    scheduler = build_scheduler(app)
    try:
        catch_up(app)
    except Exception:
        log.exception("catch-up at start failed; the hourly catch-up will retry")
    click.echo("scheduler running (Asia/Jakarta); Ctrl+C to stop")
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        scheduler.start()
    click.echo("scheduler stopped")


@sessions_cli.command("propose")
@click.option("--week", required=True, help="ISO week, e.g. 2026-W49")
@click.option("--dry-run", is_flag=True, help="show what would be proposed, write nothing")
@click.option("--time-limit", default=PROPOSAL_TIME_LIMIT, show_default=True, type=click.FloatRange(0.1, 600))
def sessions_propose(week: str, dry_run: bool, time_limit: float) -> None:
    """Propose the week's sessions now (once per week, however often it is run)."""
    try:
        monday = parse_iso_week(week)
    except ValueError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with write_intent():
        db = _session(app)
        try:
            run = sessions.propose_sessions_for_week(db, monday, time_limit=time_limit)
            if dry_run:
                db.rollback()
            else:
                db.commit()
        except BaseException:
            db.rollback()
            raise
        finally:
            db.close()
    label = sessions.week_label(monday)
    if run.status != "done":
        click.echo(f"{label}: {run.status.replace('_', ' ')}; nothing proposed")
        return
    prefix = "dry run (nothing written): " if dry_run else ""
    click.echo(f"{prefix}{label}: {run.proposed} sessions proposed for {run.due} due pairs")
    for item in run.unplaced:
        click.echo(
            f"  unplaced {item['entrepreneur_id']} / {item['mentor_id']}: "
            f"{sessions.reason_text(item['code'], item['params'])}"
        )


@sessions_cli.command("check")
def sessions_check() -> None:
    """Exit 1 (and log an ERROR) when this week's sessions are still not proposed at Monday 10:00 WIB."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    monday = check_proposals(app)
    if monday is not None:
        click.echo(f"{sessions.week_label(monday)}: sessions not proposed yet (overdue)", err=True)
        sys.exit(1)
    click.echo("weekly proposals: ok")
