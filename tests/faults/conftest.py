"""Real servers for the fault tests: a database of our own on the throwaway PostgreSQL cluster, gunicorn
on a free loopback port, a small HTTP client, and process control with a bound on every wait.

The fault tests need ``FAULT_PG_URL`` (a throwaway cluster's server URL), ``FAULT_PG_CLUSTER`` (its
data directory, for ``pg_ctl restart``) and ``FAULT_REDIS_PORT`` (a redis-server of their own),
as printed by ``scripts/fault_env.sh up``. Without them they skip; with ``REQUIRE_FAULTS=1`` they fail.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
FAULT_VARS = ("FAULT_PG_URL", "FAULT_PG_CLUSTER", "FAULT_REDIS_PORT")


@pytest.fixture(scope="session")
def fault_env() -> dict[str, str]:
    """The fault environment's variables; skip (or fail under REQUIRE_FAULTS=1) when they are missing."""
    missing = [name for name in FAULT_VARS if not os.environ.get(name)]
    if missing:
        reason = (
            f"fault tests need their own servers: {', '.join(missing)} not set "
            '(run `eval "$(scripts/fault_env.sh up)"` first)'
        )
        if os.environ.get("REQUIRE_FAULTS") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return {name: os.environ[name] for name in FAULT_VARS}


def _server_url(url: str, database: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(database=database).render_as_string(hide_password=False)


@pytest.fixture
def fault_db(fault_env):
    """A fresh database on the fault cluster, migrated with reference data; dropped afterwards."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from models.db import make_engine
    from models.migrate import upgrade
    from webapp.services.reference_data import sync_reference_data

    name = f"jm_fault_{uuid.uuid4().hex[:10]}"
    admin = create_engine(fault_env["FAULT_PG_URL"], isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        url = _server_url(fault_env["FAULT_PG_URL"], name)
        upgrade(url)
        engine = make_engine(url)
        with Session(engine) as s:
            sync_reference_data(s)
            s.commit()
        engine.dispose()
        yield url
    finally:
        with contextlib.suppress(Exception), admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float, interval: float = 0.1, what: str = "condition"):
    """Poll ``predicate`` until it returns something true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


def children(pid: int) -> set[int]:
    """The process ids whose parent is ``pid`` (from /proc)."""
    out = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                out.add(int(stat.parent.name))
    return out


def app_env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a server or command on ``database_url`` (development settings, explicit key)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FAULT_", "REDIS_", "RATELIMIT_"))}
    env.update(
        JAKMENTOR_ENV="development",
        DATABASE_URL=database_url,
        SECRET_KEY="fault-tests-" + "k" * 40,
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


#: gunicorn hook: a worker says so once the app is loaded (its pids are there before that).
_READY_HOOK = """
import sys


def post_worker_init(worker):
    sys.stderr.write(f"worker ready {worker.pid}\\n")
    sys.stderr.flush()
"""


class Gunicorn:
    """``gunicorn 'webapp:create_app()'`` with sync workers on a free loopback port; its log in a file."""

    def __init__(self, env: dict[str, str], log_path: Path, workers: int = 2):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        hooks = log_path.with_suffix(".conf.py")
        hooks.write_text(_READY_HOOK, encoding="utf-8")
        self.proc = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "--workers",
                str(workers),
                "--worker-class",
                "sync",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--timeout",
                "60",
                "--graceful-timeout",
                "5",
                "--config",
                str(hooks),
                "webapp:create_app()",
            ],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.workers = workers
        try:
            wait_for(self._ready, 60, 0.2, "gunicorn to answer /healthz")
        except BaseException:
            self.stop()
            raise

    def _ready(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"gunicorn exited early:\n{self.log()}")
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                pass
        except OSError:
            return False
        return self.ready_workers() == self.worker_pids() and len(self.worker_pids()) == self.workers

    def ready_workers(self) -> set[int]:
        """Workers that have loaded the app (their post_worker_init hook has run)."""
        return {int(pid) for pid in re.findall(r"worker ready (\d+)", self.log())} & self.worker_pids()

    def worker_pids(self) -> set[int]:
        """The worker processes alive now."""
        return children(self.proc.pid)

    def log(self) -> str:
        """What the server has written so far."""
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, pattern: str, timeout: float) -> re.Match:
        """The first match of ``pattern`` in the log, waiting at most ``timeout`` seconds."""
        return wait_for(lambda: re.search(pattern, self.log()), timeout, 0.05, f"{pattern!r} in the log")

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 15 s; the log file is closed."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._log.close()


@pytest.fixture
def gunicorn(tmp_path):
    """Start servers with ``gunicorn(env)``; every one is stopped when the test ends."""
    started: list[Gunicorn] = []

    def start(env: dict[str, str], workers: int = 2) -> Gunicorn:
        server = Gunicorn(env, tmp_path / f"gunicorn-{len(started)}.log", workers)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def as_cluster_owner(args: list[str]) -> list[str]:
    """``args`` run as the owner of the fault cluster (postgres, when we are root)."""
    if os.geteuid() == 0:
        import shlex

        return ["su", "postgres", "-s", "/bin/sh", "-c", shlex.join(args)]
    return args


def pg_ctl(fault_env: dict[str, str], *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run ``pg_ctl -D <cluster> ...`` on the fault cluster (bounded)."""
    pg_bin = os.environ.get("FAULT_PG_BIN") or "/usr/lib/postgresql/15/bin"
    cluster = Path(fault_env["FAULT_PG_CLUSTER"])
    # -l: the server's output goes to its log, not to our pipe (which would never reach EOF).
    log = ["-l", str(cluster.parent / "server.log")] if args and args[0] in ("start", "restart") else []
    cmd = as_cluster_owner([f"{pg_bin}/pg_ctl", "-D", str(cluster), *log, *args])
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=True)


def redis_cli(port: str, *args: str, timeout: float = 10) -> subprocess.CompletedProcess:
    """``redis-cli -h 127.0.0.1 -p <port> ...`` (bounded; not checked)."""
    return subprocess.run(
        ["redis-cli", "-h", "127.0.0.1", "-p", str(port), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
