"""The scheduler process: never started by the web app, Jakarta time, misfire policy, catch-up, CLI."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from zoneinfo import ZoneInfo

import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED, JobExecutionEvent
from sqlalchemy import func, select

from models import JobRun, MentoringSession, Notification
from tests.webapp.sessions_data import make_match
from webapp import scheduler as sched
from webapp.services import sessions
from webapp.services.sessions import JOB_NAME, WIB

JAKARTA = ZoneInfo("Asia/Jakarta")


@pytest.fixture
def utc_host(monkeypatch):
    """The host clock on UTC, as in many containers."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def app_config():
    return {
        "ENV": "testing",
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "SESSION_PROPOSAL_TIME_LIMIT": 1.0,
    }


def _scheduler_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if "APScheduler" in t.name]


def test_creating_the_app_never_starts_a_scheduler(session_factory):
    from webapp import create_app

    before = _scheduler_threads()
    apps = [create_app({"ENV": "testing"}, session_factory=session_factory) for _ in range(3)]
    assert _scheduler_threads() == before == []
    assert all(a.config["SCHEDULER_ENABLED"] is False for a in apps)
    assert all("scheduler" in a.cli.commands and "sessions" in a.cli.commands for a in apps)


def test_the_scheduler_and_its_triggers_run_on_jakarta_time_on_a_utc_host(app, utc_host):
    scheduler = sched.build_scheduler(app)
    assert scheduler.timezone == JAKARTA
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {
        "propose_sessions",
        "catch_up_proposals",
        "session_reminders",
        "expire_requests",
        "deliver_notifications",
        "check_proposals",
        "purge_expired",
    }
    for job in jobs.values():
        assert job.trigger.timezone == JAKARTA
    weekly = jobs["propose_sessions"].trigger
    fire = weekly.get_next_fire_time(None, dt.datetime(2026, 11, 29, 0, 0, tzinfo=dt.UTC))
    assert fire == dt.datetime(2026, 11, 29, 18, 0, tzinfo=JAKARTA)  # Sunday 18:00 WIB = 11:00 UTC


def test_the_weekly_job_tolerates_a_late_start_and_never_overlaps(app):
    scheduler = sched.build_scheduler(app)
    assert scheduler._job_defaults == {"misfire_grace_time": 21600, "coalesce": True, "max_instances": 1}
    job = scheduler.get_job("propose_sessions")
    assert job.misfire_grace_time == 6 * 3600
    assert job.coalesce is True
    assert job.max_instances == 1


def _start_paused(scheduler) -> threading.Thread:
    """Run the (blocking) scheduler in a thread, paused: no job runs until ``resume()``."""
    thread = threading.Thread(target=scheduler.start, kwargs={"paused": True}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not scheduler.running:
        assert time.monotonic() < deadline, "the scheduler did not start"
        time.sleep(0.01)
    return thread


def _stop(scheduler, thread: threading.Thread) -> None:
    scheduler.shutdown(wait=True)
    thread.join(timeout=10)
    assert not thread.is_alive()


def test_restarting_the_scheduler_keeps_one_job_per_id(app):
    """Started, its jobs added again (as a restart inside the process would), restarted twice:
    always the seven jobs, each once (fixed ids, replace_existing, a memory store per process)."""
    for _start in range(3):
        scheduler = sched.build_scheduler(app)
        thread = _start_paused(scheduler)
        try:
            sched.add_jobs(scheduler, app)
            ids = [job.id for job in scheduler.get_jobs()]
            assert len(ids) == len(set(ids)) == 7
        finally:
            _stop(scheduler, thread)


def test_the_web_and_model_packages_never_import_the_sqlalchemy_job_store():
    """Jobs live in memory; a database job store would pickle jobs into a table the web role can write."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    found = []
    for path in [*root.joinpath("webapp").rglob("*.py"), *root.joinpath("models").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            found += [f"{path.relative_to(root)}: {n}" for n in names if n.startswith("apscheduler.jobstores.sqlalchemy")]
    assert found == []


def test_runs_missed_while_paused_are_coalesced_into_one_and_a_failure_is_logged(app, caplog):
    """The weekly job's own settings on a trigger that fell due six times while the scheduler was
    paused: resumed, it runs once (coalesced), not six times."""
    from apscheduler.triggers.interval import IntervalTrigger

    runs: list[dt.datetime] = []
    done = threading.Event()

    def probe() -> None:
        runs.append(dt.datetime.now(JAKARTA))
        done.set()
        raise RuntimeError("probe failed on purpose")

    scheduler = sched.build_scheduler(app)
    weekly = scheduler.get_job("propose_sessions")
    thread = _start_paused(scheduler)
    try:
        scheduler.add_job(
            probe,
            IntervalTrigger(minutes=1, timezone=JAKARTA),
            id="propose_sessions",
            replace_existing=True,
            next_run_time=dt.datetime.now(JAKARTA) - dt.timedelta(minutes=5, seconds=30),
            misfire_grace_time=weekly.misfire_grace_time,
            coalesce=weekly.coalesce,
            max_instances=weekly.max_instances,
        )
        with caplog.at_level(logging.ERROR, logger="webapp.scheduler"):
            scheduler.resume()
            assert done.wait(10), "the due job did not run after resume"
            time.sleep(0.5)  # room for any further (wrong) runs of the missed times
            next_run = scheduler.get_job("propose_sessions").next_run_time
    finally:
        _stop(scheduler, thread)
    assert len(runs) == 1
    assert next_run > runs[0]  # the missed times are behind it; the next is in the future
    assert any("failed" in r.getMessage() and "probe failed on purpose" in r.getMessage() for r in caplog.records)


def test_the_proposal_time_can_be_configured(app):
    app.config["SESSION_PROPOSAL_CRON"] = "fri 09:30"
    trigger = sched.build_scheduler(app).get_job("propose_sessions").trigger
    fire = trigger.get_next_fire_time(None, dt.datetime(2026, 11, 23, tzinfo=JAKARTA))
    assert fire == dt.datetime(2026, 11, 27, 9, 30, tzinfo=JAKARTA)
    assert sched.proposal_trigger("0 18 * * sun").get_next_fire_time(
        None, dt.datetime(2026, 11, 23, tzinfo=JAKARTA)
    ) == dt.datetime(2026, 11, 29, 18, 0, tzinfo=JAKARTA)


def test_failed_and_missed_jobs_are_logged(app, caplog):
    scheduler = sched.build_scheduler(app)
    when = dt.datetime(2026, 11, 29, 18, tzinfo=JAKARTA)
    with caplog.at_level(logging.ERROR, logger="webapp.scheduler"):
        scheduler._dispatch_event(JobExecutionEvent(EVENT_JOB_MISSED, "propose_sessions", "default", when))
        scheduler._dispatch_event(
            JobExecutionEvent(
                EVENT_JOB_ERROR, "propose_sessions", "default", when, exception=RuntimeError("boom")
            )
        )
    messages = [r.getMessage() for r in caplog.records]
    assert any("missed" in m and "propose_sessions" in m for m in messages)
    assert any("failed" in m and "boom" in m for m in messages)


def test_the_job_at_monday_dawn_jakarta_proposes_that_week(app, db, utc_host):
    match = make_match(db, e_kw={"mode": "online"})
    sunday_night_utc = dt.datetime(2026, 11, 29, 23, 30, tzinfo=dt.UTC)  # Monday 06:30 WIB
    run = sched.run_proposals(app, now=sunday_night_utc)
    assert run.status == "done" and run.week_start == dt.date(2026, 11, 30)
    row = db.scalar(select(MentoringSession).where(MentoringSession.match_id == match.id))
    assert row.week_start == dt.date(2026, 11, 30)
    assert row.starts_at >= sunday_night_utc + sessions.MIN_NOTICE


def test_catch_up_runs_a_missed_week_once(app, db):
    make_match(db, e_kw={"mode": "online"})
    tuesday = dt.datetime(2026, 12, 1, 10, tzinfo=WIB)  # the Sunday run was missed
    runs = sched.catch_up(app, now=tuesday)
    assert [(r.week_start, r.status) for r in runs] == [(dt.date(2026, 11, 30), "done")]
    assert sched.catch_up(app, now=tuesday) == []
    claims = db.scalar(select(func.count()).select_from(JobRun).where(JobRun.job == JOB_NAME))
    assert claims == 1


def test_catch_up_on_sunday_evening_runs_the_coming_week(app, db):
    make_match(db, e_kw={"mode": "online"})
    before = dt.datetime(2026, 11, 29, 17, 0, tzinfo=WIB)
    assert sched.weeks_to_catch_up(db, before, sched.proposal_trigger(None)) == []
    after = dt.datetime(2026, 11, 29, 19, 0, tzinfo=WIB)
    assert sched.weeks_to_catch_up(db, after, sched.proposal_trigger(None)) == [dt.date(2026, 11, 30)]


def test_the_hourly_jobs_queue_reminders_and_deliver_them(app, db):
    match = make_match(db, e_kw={"mode": "online"})
    run = sched.run_proposals(app, now=dt.datetime(2026, 11, 29, 18, tzinfo=WIB))
    row = db.get(MentoringSession, run.session_ids[0])
    assert row.match_id == match.id
    assert sched.run_reminders(app, now=row.starts_at - dt.timedelta(hours=20)) == 2
    assert sched.run_reminders(app, now=row.starts_at - dt.timedelta(hours=19)) == 0
    kinds = db.scalars(select(Notification.kind).where(Notification.user_id == match.mentor.user_id)).all()
    assert sorted(kinds) == ["session_proposed", "session_reminder"]
    assert sched.run_request_expiry(app).expired == 0


def test_cli_propose_dry_run_writes_nothing_then_proposes_once(app, db):
    make_match(db, e_kw={"mode": "online"})
    runner = app.test_cli_runner()
    week = "2031-W11"
    claim = select(func.count()).select_from(JobRun).where(JobRun.period_start == dt.date(2031, 3, 10))
    result = runner.invoke(args=["sessions", "propose", "--week", week, "--dry-run", "--time-limit", "1"])
    assert result.exit_code == 0, result.output
    assert "dry run" in result.output and "1 sessions proposed" in result.output
    assert db.scalar(claim) == 0
    result = runner.invoke(args=["sessions", "propose", "--week", week, "--time-limit", "1"])
    assert result.exit_code == 0 and "1 sessions proposed" in result.output
    assert db.scalar(claim) == 1
    again = runner.invoke(args=["sessions", "propose", "--week", week])
    assert again.exit_code == 0 and "already done" in again.output
    bad = runner.invoke(args=["sessions", "propose", "--week", "2031-W60"])
    assert bad.exit_code == 2 and "no week 60" in bad.output


# --- SCH-9: a job gives its database connection back; SCH-11: a late week raises an alert ----------


@pytest.fixture
def pooled_app(database_url):
    """An app with its own engine and pool (not the test transaction), as the scheduler process has."""
    from webapp import create_app

    application = create_app({"ENV": "testing", "DATABASE_URL": database_url})
    engine = application.extensions["jakmentor.engine"]
    factory, opened = application.extensions["jakmentor.sessions"], []

    def recorded():  # keeps every session alive, so only an explicit close gives a connection back
        opened.append(factory())
        return opened[-1]

    application.extensions["jakmentor.sessions"] = recorded
    yield application, engine
    engine.dispose()


def test_a_job_returns_its_connection_to_the_pool_also_when_it_fails(pooled_app, monkeypatch):
    app, engine = pooled_app
    far_future = dt.datetime(2040, 1, 1, tzinfo=dt.UTC)  # nothing is due then: the jobs write nothing
    assert sched.run_reminders(app, now=far_future) == 0
    assert engine.pool.checkedout() == 0
    assert sched.check_proposals(app, now=far_future) == dt.date(2039, 12, 26)  # never proposed: overdue
    assert engine.pool.checkedout() == 0

    def broken(db, now=None):
        db.execute(select(func.count()).select_from(JobRun))  # holds a connection, then fails
        raise RuntimeError("job failed half-way")

    monkeypatch.setattr(sessions, "queue_reminders", broken)
    with pytest.raises(RuntimeError, match="half-way"):
        sched.run_reminders(app, now=far_future)
    assert engine.pool.checkedout() == 0


def test_a_week_not_proposed_by_monday_10_jakarta_is_reported_as_an_error(app, db, caplog):
    monday = dt.date(2031, 3, 10)
    before = dt.datetime(2031, 3, 10, 9, 59, tzinfo=WIB)
    deadline = dt.datetime(2031, 3, 10, 10, 0, tzinfo=WIB)
    with caplog.at_level(logging.ERROR, logger="webapp.scheduler"):
        assert sched.check_proposals(app, now=before) is None
        assert caplog.records == []
        assert sched.check_proposals(app, now=deadline) == monday
        assert sched.check_proposals(app, now=deadline + dt.timedelta(days=3)) == monday  # Thursday
    alert = caplog.records[0]
    assert alert.levelno == logging.ERROR and alert.event == "proposals_overdue"
    assert "2031-W11" in alert.getMessage()

    sched.run_proposals(app, now=dt.datetime(2031, 3, 9, 18, tzinfo=WIB))
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="webapp.scheduler"):
        assert sched.check_proposals(app, now=deadline) is None
    assert caplog.records == []


def test_the_cli_check_exits_1_while_the_week_is_overdue_on_a_frozen_clock(app, db, monkeypatch):
    frozen = dt.datetime(2031, 3, 10, 10, 30, tzinfo=WIB)
    monkeypatch.setattr(sessions, "utcnow", lambda: frozen.astimezone(dt.UTC))
    runner = app.test_cli_runner()
    late = runner.invoke(args=["sessions", "check"])
    assert late.exit_code == 1 and "2031-W11" in late.output and "overdue" in late.output
    sched.run_proposals(app, now=dt.datetime(2031, 3, 9, 18, tzinfo=WIB))
    fine = runner.invoke(args=["sessions", "check"])
    assert fine.exit_code == 0 and "ok" in fine.output


def _serve(cmd: list[str], tmp_path, env_extra: dict, seconds: float, ready=None):
    """Run a flask command with a hook that writes one file per process that starts a scheduler;
    stop its whole process group after ``ready`` (or ``seconds``); the pids that started one."""
    import os
    import signal
    import subprocess
    import sys
    import urllib.request
    from pathlib import Path

    hook = tmp_path / "hook"
    hook.mkdir(exist_ok=True)
    marks = tmp_path / "started"
    marks.mkdir(exist_ok=True)
    (hook / "sitecustomize.py").write_text(
        "import os\n"
        "from apscheduler.schedulers.base import BaseScheduler\n"
        "_start = BaseScheduler.start\n"
        "def start(self, *a, **k):\n"
        f"    open(os.path.join({str(marks)!r}, str(os.getpid())), 'w').close()\n"
        "    return _start(self, *a, **k)\n"
        "BaseScheduler.start = start\n",
        encoding="utf-8",
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(hook), os.environ.get("PYTHONPATH", "")]),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'dev.db'}",
        "JAKMENTOR_ENV": "development",
        **env_extra,
    }
    env.pop("TEST_DATABASE_URL", None)
    flask = str(Path(sys.executable).parent / "flask")
    subprocess.run(
        [flask, "--app", "webapp", "db", "upgrade"], env=env, check=True, capture_output=True, timeout=120
    )
    proc = subprocess.Popen(  # nosec B603 # our venv's flask, fixed argv
        [flask, "--app", "webapp", *cmd], env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and proc.poll() is None:
            if ready is None and any(marks.iterdir()):
                time.sleep(1.0)  # a second start, if any, would come right after
                break
            if ready is not None:
                try:
                    with urllib.request.urlopen(ready, timeout=1) as r:  # nosec B310 # loopback test server
                        if r.status == 200:
                            time.sleep(1.0)  # the reloader's child is serving; give both a moment more
                            break
                except OSError:
                    pass
            time.sleep(0.3)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(15)
    return sorted(p.name for p in marks.iterdir())


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_debug_server_with_its_reloader_starts_no_scheduler_and_the_scheduler_command_one(tmp_path):
    """SCH-2: `flask run --debug` forks a reloader child; neither process may start a scheduler.
    The scheduler runs only in `flask scheduler run`, and there exactly once."""
    port = _free_port()
    started = _serve(
        ["run", "--debug", "--port", str(port)], tmp_path, {}, 60, ready=f"http://127.0.0.1:{port}/healthz"
    )
    assert started == []
    started = _serve(["scheduler", "run"], tmp_path, {}, 60)
    assert len(started) == 1
