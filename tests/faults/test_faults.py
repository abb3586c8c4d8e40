"""Faults against real servers (TST-5): a worker killed mid-transaction, PostgreSQL restarted under load,
the scheduler killed mid-run, Redis gone, and login throttling shared by gunicorn workers.

Each test prints a ``FAULT-REPORT`` line with its figures (``pytest -s`` shows them; docs/reliability.md
records them).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from models import JobRun, Match, MatchRequest, Mentor, MentoringSession, Role, User, utcnow
from models.db import make_engine
from tests.factories import PASSWORD, make_entrepreneur, make_mentor, make_user
from tests.faults.conftest import BIN, ROOT, app_env, redis_cli, wait_for
from webapp.services import api_tokens, sessions

pytestmark = [pytest.mark.faults, pytest.mark.slow]
HTTP_TIMEOUT = 20


def report(name: str, **figures) -> None:
    """One line of figures for the record."""
    print(f"\nFAULT-REPORT {name}: " + ", ".join(f"{k}={v}" for k, v in figures.items()))


@pytest.fixture
def engine(fault_db):
    """An engine on this test's own database (shadows the suite's engine)."""
    engine = make_engine(fault_db)
    yield engine
    engine.dispose()


def _mentor_with_requests(engine, n: int = 1) -> tuple[int, list[int], str]:
    """A mentor with one place, ``n`` pending requests to them, and the mentor's API token."""
    with Session(engine) as s:
        mentor = make_mentor(s, make_user(s, Role.MENTOR), capacity=1)
        req_ids = []
        for _ in range(n):
            entrepreneur = make_entrepreneur(s)
            req = MatchRequest(
                entrepreneur_id=entrepreneur.id, mentor_id=mentor.id, status="pending", sent_at=utcnow()
            )
            s.add(req)
            s.flush()
            req_ids.append(req.id)
        token = api_tokens.create_token(s, s.get(User, mentor.user_id), "faults").plain
        s.commit()
        return mentor.id, req_ids, token


def _state(engine, mentor_id: int, request_id: int) -> tuple[int, int, str]:
    """(active_count, matches, request status), read fresh."""
    with Session(engine) as s:
        matches = s.scalar(select(func.count()).select_from(Match).where(Match.mentor_id == mentor_id))
        return (
            s.get(Mentor, mentor_id).active_count,
            matches,
            s.get(MatchRequest, request_id).status,
        )


def _mentor_row_locked(engine, mentor_id: int) -> bool:
    with engine.connect() as conn:
        try:
            conn.execute(text("SELECT id FROM mentor WHERE id = :id FOR UPDATE NOWAIT"), {"id": mentor_id})
        except OperationalError:
            return True
        finally:
            conn.rollback()
    return False


# --- (a) a worker killed between UPDATE and COMMIT ---------------------------------------------------


def test_a_worker_killed_between_update_and_commit_leaves_nothing_half_written(
    fault_db, engine, gunicorn, tmp_path
):
    mentor_id, (req_id,), token = _mentor_with_requests(engine)
    server = gunicorn(
        app_env(
            fault_db,
            FAULT_INJECTION="1",
            FAULT_SLEEP_BEFORE_COMMIT="30",
            FAULT_ONCE=str(tmp_path / "paused-once"),
        )
    )
    url = f"{server.base}/api/v1/requests/{req_id}/accept"
    auth = {"Authorization": f"Bearer {token}"}
    outcome: dict[str, object] = {}

    def accept() -> None:
        try:
            outcome["status"] = requests.post(url, headers=auth, timeout=45).status_code
        except requests.RequestException as exc:
            outcome["error"] = type(exc).__name__

    client = threading.Thread(target=accept)
    client.start()
    pid = int(server.wait_for_log(r"fault: sleeping \S+ s before COMMIT \(pid (\d+)\)", 30).group(1))
    assert pid in server.worker_pids()
    # The guarded UPDATE has run: the mentor's row is locked by the uncommitted transaction.
    assert _mentor_row_locked(engine, mentor_id)
    assert _state(engine, mentor_id, req_id) == (0, 0, "pending")
    os.kill(pid, signal.SIGKILL)
    killed = time.monotonic()
    wait_for(lambda: not _mentor_row_locked(engine, mentor_id), 30, 0.002, "the row lock to go")
    unlocked = time.monotonic() - killed
    client.join(timeout=60)
    assert not client.is_alive()
    assert "status" not in outcome, outcome  # the client saw the connection drop, not an answer
    assert _state(engine, mentor_id, req_id) == (0, 0, "pending")

    wait_for(lambda: len(server.ready_workers() - {pid}) == 2, 60, 0.1, "gunicorn to respawn the worker")
    respawned = time.monotonic() - killed
    again = requests.post(url, headers=auth, timeout=HTTP_TIMEOUT)
    assert again.status_code == 200, again.text
    assert _state(engine, mentor_id, req_id) == (1, 1, "accepted")
    report(
        "worker-killed",
        client=outcome.get("error"),
        lock_released_s=f"{unlocked:.3f}",
        worker_respawned_s=f"{respawned:.2f}",
        retry_status=again.status_code,
    )


# --- (b) PostgreSQL restarted under load -------------------------------------------------------------


def test_postgresql_restarted_under_load_answers_503_never_500_and_recovers(
    fault_env, fault_db, engine, gunicorn
):
    from tests.faults.conftest import pg_ctl

    _mentor_id, _reqs, token = _mentor_with_requests(engine)
    server = gunicorn(app_env(fault_db))
    paths = ["/healthz", "/api/v1/me"]
    auth = {"Authorization": f"Bearer {token}"}
    log: list[tuple[float, str, object, str | None]] = []
    stop = threading.Event()

    def load() -> None:
        i = 0
        with requests.Session() as http:
            while not stop.is_set():
                path = paths[i % len(paths)]
                i += 1
                try:
                    r = http.get(server.base + path, headers=auth, timeout=HTTP_TIMEOUT)
                    log.append((time.monotonic(), path, r.status_code, r.headers.get("Retry-After")))
                except requests.RequestException as exc:
                    log.append((time.monotonic(), path, type(exc).__name__, str(exc)[:300]))
                time.sleep(0.01)

    client = threading.Thread(target=load)
    client.start()
    try:
        time.sleep(2)
        began = time.monotonic()
        pg_ctl(fault_env, "restart", "-m", "fast", "-w", "-t", "60")
        restarted = time.monotonic()
        time.sleep(3)
    finally:
        stop.set()
        client.join(timeout=HTTP_TIMEOUT + 5)
    assert not client.is_alive()
    statuses = [status for _t, _p, status, _ra in log]
    assert 500 not in statuses, [entry for entry in log if entry[2] == 500][:5]
    assert set(statuses) <= {200, 503}, sorted({str(s) for s in statuses})
    assert all(ra for _t, _p, status, ra in log if status == 503)  # every 503 says when to retry
    after = [entry for entry in log if entry[0] > restarted + 1]
    assert after and all(status == 200 for _t, _p, status, _ra in after)
    failing = [t for t, _p, status, _ra in log if status != 200]
    first_ok = min((t for t, _p, status, _ra in log if t > began and status == 200), default=None)
    report(
        "postgres-restart",
        requests=len(log),
        ok=statuses.count(200),
        status_503=statuses.count(503),
        status_500=statuses.count(500),
        restart_s=f"{restarted - began:.2f}",
        unavailable_s=f"{(max(failing) - min(failing)) if failing else 0:.2f}",
        first_200_after_restart_began_s=f"{(first_ok - began) if first_ok else float('nan'):.2f}",
    )


# --- (c) the scheduler killed mid-run ----------------------------------------------------------------


def _propose_command(week: str, database_url: str, log_path: Path, **env) -> subprocess.Popen:
    with log_path.open("wb") as err:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [
                str(BIN / "flask"),
                "--app",
                "webapp",
                "sessions",
                "propose",
                "--week",
                week,
                "--time-limit",
                "2",
            ],
            cwd=ROOT,
            env=app_env(database_url, **env),
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        )


def test_the_scheduler_killed_mid_run_leaves_nothing_and_a_rerun_completes(fault_db, engine, tmp_path):
    from tests.webapp.sessions_data import make_match

    with Session(engine) as setup:
        match_ids = [make_match(setup, users=False, e_kw={"mode": "online"}).id for _ in range(6)]
        setup.commit()
    monday = sessions.week_monday(utcnow()) + dt.timedelta(weeks=2)
    week = sessions.week_label(monday)
    mine = MentoringSession.match_id.in_(match_ids)

    def counts() -> tuple[int, int]:
        with Session(engine) as s:
            return (
                s.scalar(select(func.count()).select_from(MentoringSession).where(mine)),
                s.scalar(select(func.count()).select_from(JobRun).where(JobRun.period_start == monday)),
            )

    err = tmp_path / "propose-killed.err"
    proc = _propose_command(week, fault_db, err, FAULT_INJECTION="1", FAULT_SLEEP_AFTER_SESSIONS="3:60")
    try:
        wait_for(lambda: re.search(r"fault: sleeping .* after 3 proposed sessions", err.read_text()), 60)
        # Three sessions and the claim are written, uncommitted: nobody else sees them.
        assert counts() == (0, 0)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        killed = time.monotonic()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
        proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    assert counts() == (0, 0)

    attempts = 0
    while True:  # the killed run's backend may hold the week's advisory lock for a moment
        attempts += 1
        rerun = _propose_command(week, fault_db, tmp_path / f"propose-{attempts}.err")
        out, _ = rerun.communicate(timeout=120)
        assert rerun.returncode == 0, (tmp_path / f"propose-{attempts}.err").read_text()
        if "busy" not in out or attempts >= 10:
            break
        time.sleep(0.5)
    assert f"{week}: 6 sessions proposed for 6 due pairs" in out, out
    assert counts() == (6, 1)
    report(
        "scheduler-killed",
        sessions_before_kill=3,
        rerun_attempts=attempts,
        rerun_done_s=f"{time.monotonic() - killed:.2f}",
    )


# --- (d) Redis down, (e) throttling shared by workers ---------------------------------------------------


class Browser:
    """A cookie session with the login form's CSRF token."""

    def __init__(self, base: str):
        self.base = base
        self.http = requests.Session()
        page = self.http.get(f"{base}/login", timeout=HTTP_TIMEOUT)
        assert page.status_code == 200, page.status_code
        self.csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)

    def login(self, email: str, password: str) -> int:
        r = self.http.post(
            f"{self.base}/login",
            data={"email": email, "password": password, "csrf_token": self.csrf},
            allow_redirects=False,
            timeout=HTTP_TIMEOUT,
        )
        return r.status_code

    def close(self) -> None:
        self.http.close()


def _user(engine) -> str:
    with Session(engine) as s:
        email = make_user(s, Role.ENTREPRENEUR).email
        s.commit()
        return email


def _start_redis(port: str, directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "redis-server",
            "--daemonize",
            "yes",
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(directory),
            "--pidfile",
            str(directory / "redis.pid"),
            "--logfile",
            str(directory / "redis.log"),
        ],
        check=True,
        timeout=30,
        capture_output=True,
    )
    wait_for(lambda: redis_cli(port, "ping").stdout.strip() == "PONG", 20, 0.1, "redis to answer")


def test_with_redis_down_login_still_works_and_wrong_passwords_hit_the_database_floor(
    fault_env, fault_db, engine, gunicorn, tmp_path
):
    port = fault_env["FAULT_REDIS_PORT"]
    redis_dir = Path(os.environ.get("FAULT_ENV_DIR") or tmp_path) / "redis"
    redis_cli(port, "-n", "3", "flushdb")
    good, victim = _user(engine), _user(engine)
    server = gunicorn(app_env(fault_db, REDIS_URL=f"redis://127.0.0.1:{port}/3"))
    browser = Browser(server.base)
    statuses: list[int] = []
    try:
        statuses.append(browser.login(good, PASSWORD))
        assert statuses[-1] == 302
        assert redis_cli(port, "shutdown", "nosave").returncode in (0, 1)
        wait_for(lambda: redis_cli(port, "ping").returncode != 0, 20, 0.1, "redis to stop")

        ready = requests.get(f"{server.base}/readyz", timeout=HTTP_TIMEOUT)
        assert (ready.status_code, ready.json()) == (200, {"status": "degraded", "database": "ok", "redis": "unreachable"})
        fresh = Browser(server.base)  # a new visitor while Redis is down
        statuses.append(fresh.login(good, PASSWORD))
        fresh.close()
        assert statuses[-1] == 302  # the right password still gets in
        guesser = Browser(server.base)
        wrong = [guesser.login(victim, "salah-salah-salah") for _ in range(5)]
        statuses += wrong
        assert wrong == [401] * 5
        after = [guesser.login(victim, "salah-salah-salah"), guesser.login(victim, PASSWORD)]
        statuses += after
        guesser.close()
        assert after == [429, 429]  # the database floor: this account waits, whatever the password
        with Session(engine) as s:
            user = s.scalar(select(User).where(User.email == victim))
            assert user.failed_logins == 5 and user.login_blocked_until > utcnow()
    finally:
        browser.close()
        if redis_cli(port, "ping").returncode != 0:
            _start_redis(port, redis_dir)
    assert 500 not in statuses
    again = Browser(server.base)
    try:
        assert again.login(good, PASSWORD) == 302  # Redis back: business as usual
    finally:
        again.close()
    report("redis-down", logins=len(statuses) + 2, statuses=statuses, status_500=statuses.count(500))


def _hammer_login(base: str, attempts: int, first: int = 0) -> list[int]:
    """``attempts`` failed logins from one address (a different unknown account each time)."""
    browser = Browser(base)
    try:
        return [
            browser.login(f"nobody{i}@faults.jakmentor.id", "salah-salah-salah") for i in range(first, first + attempts)
        ]
    finally:
        browser.close()


def _alternate(a: str, b: str) -> list[int]:
    """Six failed logins on ``a``, four on ``b`` (ten: the limit), then one more on each."""
    return _hammer_login(a, 6) + _hammer_login(b, 4, first=6) + _hammer_login(a, 1, first=10) + _hammer_login(b, 1, first=11)


@pytest.mark.parametrize(
    ("storage", "expected"),
    [("redis", [401] * 10 + [429] * 2), ("memory", [401] * 12)],
    ids=["shared-in-redis", "per-process-memory-control"],
)
def test_two_servers_that_share_only_redis_count_one_address_together(
    fault_env, fault_db, gunicorn, storage, expected
):
    """Two single-worker gunicorns: whatever process takes the attempt, the address's count is one.
    The control keeps each process's count in its own memory: neither reaches the limit."""
    port = fault_env["FAULT_REDIS_PORT"]
    redis_cli(port, "-n", "5", "flushdb")
    if storage == "redis":
        env = app_env(fault_db, REDIS_URL=f"redis://127.0.0.1:{port}/5")
    else:
        env = app_env(fault_db, RATELIMIT_STORAGE_URI="memory://")
    first, second = gunicorn(env, workers=1), gunicorn(env, workers=1)
    statuses = _alternate(first.base, second.base)
    report(f"throttle-two-servers-{storage}", statuses=statuses)
    assert statuses == expected


def test_login_throttling_per_address_holds_across_gunicorn_workers_with_redis(fault_env, fault_db, gunicorn):
    port = fault_env["FAULT_REDIS_PORT"]
    redis_cli(port, "-n", "4", "flushdb")
    server = gunicorn(app_env(fault_db, REDIS_URL=f"redis://127.0.0.1:{port}/4"))
    statuses = _hammer_login(server.base, 12)
    report("throttle-redis", statuses=statuses)
    assert statuses == [401] * 10 + [429] * 2
