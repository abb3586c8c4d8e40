"""Load test (locust, headless, loopback only): gunicorn with 4 workers on PostgreSQL against the
single-process development server, on the same seeded database, then the database invariants.

    .venv/bin/python scripts/load_test.py            # 20,000 x 1,500 seed, 100 requests/s, 60 s per server
    .venv/bin/python scripts/load_test.py --short    # CI: 2,000 x 150, 15 s per server

Needs the ``load`` extra (``pip install -e '.[load]'``), PostgreSQL (``--admin-dsn``) and Redis.
Prints throughput, p50/p95/p99 per endpoint and errors for both servers; exits 1 on any error or
broken invariant (never on timing: the machine is shared).
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import os
import re
import resource
import secrets
import shutil
import signal
import subprocess  # nosec B404 # starts our own venv binaries (flask, gunicorn, locust) with argument lists
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from contextlib import suppress
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PASSWORD = "load-test-" + secrets.token_hex(8)
SUGGESTIONS = "GET /me/mentors (suggestions page)"
TARGET_P95_MS = 150


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--short", action="store_true", help="CI size: 2,000 x 150 seed, 15 s per server, 20 users"
    )
    p.add_argument("--entrepreneurs", type=int, help="seeded entrepreneurs (default 20,000; short 2,000)")
    p.add_argument("--mentors", type=int, help="seeded mentors (default 1,500; short 150)")
    p.add_argument("--seconds", type=int, help="run time per server (default 60; short 15)")
    p.add_argument("--rate", type=float, default=100.0, help="target requests/s in total (default 100)")
    p.add_argument("--users", type=int, help="virtual users (default 50; short 20)")
    p.add_argument("--review-share", type=float, default=0.1, help="share of staff hits on the review page")
    p.add_argument("--hot-mentors", type=int, default=12, help="mentors all users request and accept as")
    p.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    p.add_argument("--threads", type=int, default=1, help="threads per gunicorn worker (more than 1: gthread)")
    p.add_argument("--port", type=int, default=0, help="first loopback port used (0: a free port for each server)")
    p.add_argument("--admin-dsn", default="host=127.0.0.1 port=5432 user=postgres dbname=test")
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/9")
    p.add_argument("--name", help="database name (default load_jkm_PID; the runs add _gunicorn and _dev)")
    p.add_argument("--skip-baseline", action="store_true", help="only the gunicorn run")
    p.add_argument("--keep", action="store_true", help="keep the databases and the locust CSV files")
    args = p.parse_args(argv)
    short = args.short
    args.entrepreneurs = args.entrepreneurs or (2000 if short else 20000)
    args.mentors = args.mentors or (150 if short else 1500)
    args.seconds = max(5, min(args.seconds or (15 if short else 60), 120))
    args.users = args.users or (20 if short else 50)
    return args


# --- databases ----------------------------------------------------------------------------------------


def _admin(dsn: str, *statements: str) -> None:
    import psycopg

    with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
        for sql in statements:
            conn.execute(sql)


def _dsn_of(dsn: str, name: str) -> str:
    """``dsn`` with its database replaced by ``name``."""
    parts = dict(kv.split("=", 1) for kv in dsn.split())
    parts["dbname"] = name
    return " ".join(f"{k}={v}" for k, v in parts.items())


def _url(dsn: str, name: str) -> str:
    """The app's URL for database ``name`` on the server of ``dsn`` (a host, or a socket folder)."""
    parts = dict(kv.split("=", 1) for kv in dsn.split())
    user, host = parts.get("user", "postgres"), parts.get("host", "127.0.0.1")
    if host.startswith("/"):  # a Unix socket: no TCP stack on each round trip
        return f"postgresql+psycopg://{user}@/{name}?host={host}&port={parts.get('port', '5432')}"
    return f"postgresql+psycopg://{user}@{host}:{parts.get('port', '5432')}/{name}"


def _flask(env: dict, *args: str, timeout: int = 600) -> None:
    subprocess.run([str(BIN / "flask"), "--app", "webapp", *args], env=env, cwd=ROOT, check=True, timeout=timeout,  # nosec B603 # our venv's flask, no shell
                   stdout=subprocess.DEVNULL)  # fmt: skip


def _free_port() -> int:
    """A loopback port nobody listens on now (so two runs on one machine never talk to each other's servers)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def seed(args, env: dict, name: str) -> dict:
    """Create and seed the template database; accounts, tokens and a cohort run for the users."""
    _admin(args.admin_dsn, f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"')
    url = _url(args.admin_dsn, name)
    dev = {**env, "DATABASE_URL": url, "JAKMENTOR_ENV": "development"}
    t0 = time.perf_counter()
    _flask(dev, "db", "upgrade")
    _flask(dev, "demo", "load", "--entrepreneurs", str(args.entrepreneurs), "--mentors", str(args.mentors))
    accounts = make_accounts(url, args)
    # Planner statistics, as a database in service has them (autovacuum would gather them later).
    _admin(_dsn_of(args.admin_dsn, name), "ANALYZE")
    print(
        f"seeded {args.entrepreneurs:,} entrepreneurs x {args.mentors:,} mentors in {time.perf_counter() - t0:.0f} s"
    )
    return accounts


def make_accounts(url: str, args) -> dict:
    """Logins and API tokens for the virtual users: entrepreneurs, a few hot mentors, staff; one cohort run."""
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from models import Entrepreneur, Match, Mentor, Role
    from models.db import make_engine
    from webapp.services import accounts, api_tokens, cohorts

    accounts.use_fast_hashing(True)  # load-test accounts only: logins must not dominate the start
    engine = make_engine(url)
    out: dict = {"password": PASSWORD, "entrepreneurs": [], "mentors": [], "staff": []}
    with Session(engine) as db:
        matched = select(Match.entrepreneur_id).where(Match.status == "active")
        people = db.scalars(
            select(Entrepreneur)
            .where(Entrepreneur.user_id.is_(None), Entrepreneur.profile_complete.is_(True), Entrepreneur.id.not_in(matched))
            .order_by(Entrepreneur.id)
            .limit(args.users)
        ).all()  # fmt: skip
        for n, e in enumerate(people):
            user = accounts.create_user(db, email=f"load-e{n}@load.jakmentor.test", name=e.name, password=PASSWORD,
                                        role=Role.ENTREPRENEUR, check_password=False)  # fmt: skip
            e.user_id = user.id
            out["entrepreneurs"].append(
                {
                    "email": user.email,
                    "token": api_tokens.create_token(db, user, "load").plain,
                    "entrepreneur_id": e.id,
                }
            )
        hot = db.scalars(
            select(Mentor)
            .where(Mentor.user_id.is_(None), Mentor.paused.is_(False), Mentor.active_count < Mentor.capacity)
            .order_by(func.random())
            .limit(args.hot_mentors)
        ).all()  # fmt: skip
        for n, m in enumerate(hot):
            user = accounts.create_user(db, email=f"load-m{n}@load.jakmentor.test", name=m.name, password=PASSWORD,
                                        role=Role.MENTOR, check_password=False)  # fmt: skip
            m.user_id = user.id
            out["mentors"].append(
                {"token": api_tokens.create_token(db, user, "load").plain, "mentor_id": m.id}
            )
        staff_ids = []
        for n in range(max(1, args.users // 10)):  # users share these sessions
            user = accounts.create_user(db, email=f"load-s{n}@load.jakmentor.test", name=f"Staf {n}",
                                        password=PASSWORD, role=Role.STAFF, check_password=False)  # fmt: skip
            out["staff"].append({"email": user.email})
            staff_ids.append(user.id)
        db.flush()
        kec = db.execute(
            select(Entrepreneur.kecamatan_code, func.count()).group_by(Entrepreneur.kecamatan_code).order_by(func.count().desc())
        ).first()  # fmt: skip
        run = cohorts.run_cohort(db, staff_id=staff_ids[0], kecamatan=kec[0])
        out["run_id"] = run.id
        db.commit()
    engine.dispose()
    return out


#: Per mentor: active_count minus the active matches. The demo seed sets some mentors' mentees held
#: without match rows, so the run must leave every mentor's difference as the seed had it.
OFFSETS = """
    SELECT m.id, m.active_count - (SELECT count(*) FROM mentor_match x WHERE x.mentor_id = m.id AND x.status = 'active')
    FROM mentor m"""
INVARIANTS = {
    "mentor over capacity": "SELECT count(*) FROM mentor WHERE active_count > capacity",
    "entrepreneur with two active matches": """
        SELECT count(*) FROM (SELECT entrepreneur_id FROM mentor_match WHERE status = 'active'
                              GROUP BY entrepreneur_id HAVING count(*) > 1) AS twice""",
}


def check_invariants(dsn: str, name: str) -> dict[str, int]:
    """Rows breaking each invariant (all should be 0), and the matches made."""
    import psycopg

    parts = dict(kv.split("=", 1) for kv in dsn.split())
    parts["dbname"] = name
    with psycopg.connect(" ".join(f"{k}={v}" for k, v in parts.items()), connect_timeout=10) as conn:
        out = {label: conn.execute(sql).fetchone()[0] for label, sql in INVARIANTS.items()}
        out["offsets"] = dict(conn.execute(OFFSETS).fetchall())
        for table in ("match_request", "mentor_match"):
            out[f"({table} rows)"] = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # nosec B608 # table from the literal tuple above
    return out


# --- servers and locust -----------------------------------------------------------------------------


class Server:
    """A web server in its own process group, stopped (TERM, then KILL) however the run ends."""

    def __init__(self, kind: str, env: dict, port: int, workers: int, log: Path, threads: int = 1):
        if kind == "gunicorn":
            cmd = [str(BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), "--workers", str(workers),
                   "--threads", str(threads), "--bind", f"127.0.0.1:{port}", "--access-logfile", "/dev/null", "webapp:create_app()"]  # fmt: skip
        else:
            cmd = [str(BIN / "flask"), "--app", "webapp", "run", "--no-reload", "--no-debugger",
                   "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
        self.kind, self.url, self.log = kind, f"http://127.0.0.1:{port}", log
        self.proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=log.open("wb"), stderr=subprocess.STDOUT,  # nosec B603 # fixed argv, no shell
                                     start_new_session=True)  # fmt: skip

    def wait_ready(self, seconds: float = 60) -> None:
        """Until /readyz answers 200 (bounded)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.kind} exited: {self.log.read_text()[-2000:]}")
            with suppress(OSError), urllib.request.urlopen(self.url + "/readyz", timeout=2) as r:  # nosec B310 # self.url is http://127.0.0.1:PORT built above
                if r.status == 200:
                    return
            time.sleep(0.5)
        raise RuntimeError(f"{self.kind} not ready after {seconds:.0f} s: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        """TERM the process group, KILL it after 15 s."""
        if self.proc.poll() is not None:
            return
        with suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)


class CpuMeter:
    """CPU seconds used during a run by the web server's processes and the database's backends.

    CPU time, unlike latency, hardly depends on what else the machine runs, so these figures
    compare runs on a busy machine. A sampler thread reads ``/proc`` every half second and keeps
    each process's last reading, so backends and workers that end during the run still count (up
    to their last half second). Children's times are not added: a recycled worker would count twice.
    """

    TICK = os.sysconf("SC_CLK_TCK")

    def __init__(self, group: int, database: str):
        self.group, self.database = group, database
        self.base: dict[tuple[str, int], float] = {}
        self.last: dict[tuple[str, int], float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _read(self) -> dict[tuple[str, int], float]:
        seen: dict[tuple[str, int], float] = {}
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            with suppress(OSError):
                stat = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()
                used = (int(stat[11]) + int(stat[12])) / self.TICK  # utime + stime of the process itself
                if int(stat[2]) == self.group:
                    seen["web", int(entry.name)] = used
                elif f" {self.database} " in Path(entry.path, "cmdline").read_bytes().decode(errors="replace"):
                    seen["database", int(entry.name)] = used
        return seen

    def start(self) -> None:
        self.base = self._read()
        self.last = dict(self.base)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            self.last.update(self._read())

    def stop(self) -> dict[str, float]:
        """Seconds per side since ``start``."""
        self._stop.set()
        self._thread.join()
        self.last.update(self._read())
        out = {"web": 0.0, "database": 0.0}
        for key, used in self.last.items():
            out[key[0]] += used - self.base.get(key, 0.0)
        return out


_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _session_cookie(response: http.client.HTTPResponse) -> str | None:
    for header in response.headers.get_all("Set-Cookie") or []:
        name, _, rest = header.partition("=")
        if "session" in name:
            return f"{name}={rest.split(';', 1)[0]}"
    return None


def login(url: str, email: str, password: str) -> str:
    """Log in through the form (CSRF token and all); the session cookie (Secure, so kept by hand)."""
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.request("GET", "/login")
        page = conn.getresponse()
        cookie, body = _session_cookie(page) or "", page.read().decode()
        token = _CSRF.search(body)
        form = urllib.parse.urlencode(
            {"email": email, "password": password, "csrf_token": token.group(1) if token else ""}
        )
        headers = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}
        conn.request("POST", "/login", body=form, headers=headers)
        answer = conn.getresponse()
        answer.read()
        fresh = _session_cookie(answer)
        if answer.status != 302 or not fresh:
            raise RuntimeError(f"login of {email} answered {answer.status}")
        return fresh
    finally:
        conn.close()


def login_everyone(url: str, accounts: dict, path: Path) -> None:
    """Session cookies for every entrepreneur and staff account (4 at a time), written to ``path``."""
    from concurrent.futures import ThreadPoolExecutor

    people = accounts["entrepreneurs"] + accounts["staff"]
    with ThreadPoolExecutor(4) as pool:
        cookies = list(pool.map(lambda a: login(url, a["email"], accounts["password"]), people, timeout=300))
    for person, cookie in zip(people, cookies, strict=True):
        person["cookie"] = cookie
    path.write_text(json.dumps(accounts), encoding="utf-8")
    path.chmod(0o600)


def run_locust(url: str, args, accounts_file: Path, out_prefix: Path) -> tuple[list[dict], float]:
    """A headless locust run against ``url``; its per-endpoint rows from the CSV and its CPU seconds."""
    env = {
        **os.environ,
        "LOAD_ACCOUNTS": str(accounts_file),
        "LOAD_RATE_PER_USER": str(args.rate / args.users),
        "LOAD_REVIEW_SHARE": str(args.review_share),
    }
    spawn = max(1, args.users // 3)
    cmd = [str(BIN / "locust"), "-f", str(ROOT / "scripts" / "load_locustfile.py"), "--headless",
           "-u", str(args.users), "-r", str(spawn), "-t", f"{args.seconds}s", "--host", url,
           "--csv", str(out_prefix), "--only-summary", "--stop-timeout", "10", "--loglevel", "WARNING"]  # fmt: skip
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, env=env, cwd=ROOT, timeout=args.seconds + 120, check=False,  # nosec B603 # our venv's locust, no shell
                   stdout=subprocess.DEVNULL, stderr=(out_prefix.parent / f"{out_prefix.name}-locust.log").open("wb"))  # fmt: skip
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    with open(f"{out_prefix}_stats.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    failures = Path(f"{out_prefix}_failures.csv")
    if failures.exists():
        with failures.open(encoding="utf-8") as f:
            for row in csv.DictReader(f):
                print(f"  failure x{row['Occurrences']}: {row['Name']}: {row['Error'][:200]}")
    return rows, cpu


def measure(
    kind: str, args, env: dict, template: str, accounts: dict, work: Path, port: int
) -> tuple[list, dict]:
    """One server on a fresh copy of the seeded database: the locust rows and the invariants."""
    name = f"{template}_{kind}"
    _admin(
        args.admin_dsn, f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}" TEMPLATE "{template}"'
    )
    server_env = {**env, "DATABASE_URL": _url(args.admin_dsn, name)}
    server = Server(kind, server_env, port, args.workers, work / f"{kind}.log", args.threads)
    try:
        server.wait_ready()
        t0 = time.perf_counter()
        accounts_file = work / f"{kind}-accounts.json"
        login_everyone(server.url, accounts, accounts_file)
        print(f"{kind}: ready on {server.url}, {len(accounts['entrepreneurs']) + len(accounts['staff'])} logins "
              f"in {time.perf_counter() - t0:.1f} s; {args.users} users at {args.rate:.0f} requests/s for {args.seconds} s")  # fmt: skip
        meter = CpuMeter(server.proc.pid, name)
        meter.start()
        rows, locust_cpu = run_locust(server.url, args, accounts_file, work / kind)
        cpu = {**meter.stop(), "load generator": locust_cpu}
        done = int(_num(next((r for r in rows if r["Name"] == "Aggregated"), {}), "Request Count")) or 1
        print(f"  {kind}: CPU during the run: "
              + ", ".join(f"{side} {sec:.1f} s ({1000 * sec / done:.1f} ms per request)" for side, sec in cpu.items()))  # fmt: skip
    finally:
        server.stop()
    invariants = check_invariants(args.admin_dsn, name)
    if not args.keep:
        _admin(args.admin_dsn, f'DROP DATABASE IF EXISTS "{name}"')
    return rows, invariants


# --- report -----------------------------------------------------------------------------------------


def _num(row: dict, key: str) -> float:
    value = row.get(key) or "0"
    return float(value) if value not in ("N/A", "") else 0.0


def print_table(results: dict[str, list[dict]], seconds: int) -> int:
    """Per server and endpoint: requests, throughput, p50/p95/p99 (ms), errors; returns the errors."""
    print(f"\n| server | endpoint | requests | req/s | p50 ms | p95 ms | p99 ms | errors |\n|{'---|' * 8}")
    errors = 0
    for kind, rows in results.items():
        for row in rows:
            name = row["Name"] if row["Name"] != "Aggregated" else "**all**"
            fails = int(_num(row, "Failure Count"))
            if row["Name"] == "Aggregated":
                errors += fails
            print(f"| {kind} | {name} | {int(_num(row, 'Request Count')):,} | {_num(row, 'Requests/s'):.1f} | "
                  f"{_num(row, '50%'):.0f} | {_num(row, '95%'):.0f} | {_num(row, '99%'):.0f} | {fails} |")  # fmt: skip
    return errors


def too_few_requests(results: dict[str, list[dict]], asked: int) -> dict[str, int]:
    """The servers that answered fewer than half the requests asked for (a run that hardly ran
    proves nothing, however clean), with how many they answered."""
    out = {}
    for kind, rows in results.items():
        made = sum(int(_num(row, "Request Count")) for row in rows if row["Name"] == "Aggregated")
        if made < asked / 2:
            out[kind] = made
    return out


def gunicorn_label(args) -> str:
    """How the gunicorn server ran: workers, and threads when more than one each."""
    threads = f" x {args.threads} threads" if args.threads > 1 else ""
    return f"gunicorn {args.workers} workers{threads}"


def _terminate(signum, _frame) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    """Seed, run both servers, report; 1 on any error or broken invariant."""
    args = parse_args(argv)
    template = args.name or f"load_jkm_{os.getpid()}"
    signal.signal(signal.SIGTERM, _terminate)  # so that the servers are stopped and databases dropped
    env = {
        **os.environ,
        "JAKMENTOR_ENV": "production",
        "SECRET_KEY": secrets.token_hex(32),
        "TRUSTED_HOSTS": "127.0.0.1,localhost",  # the servers listen on loopback only
        "REDIS_URL": args.redis_url,
        "SMTP_URL": "smtp://127.0.0.1:2525",  # never reached: the web process only writes the outbox
        "LOGIN_RATE_LIMIT": "100000 per minute",  # every virtual user logs in from 127.0.0.1
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.pop("TEST_DATABASE_URL", None)
    work = Path(tempfile.mkdtemp(prefix="jkm-load-"))
    results: dict[str, list[dict]] = {}
    broken = 0
    try:
        accounts = seed(args, env, template)
        before = check_invariants(args.admin_dsn, template)
        seeded = sum(1 for off in before["offsets"].values() if off)
        print(
            f"seed: {seeded} mentors hold mentees without match rows (demo data; the run must not change it)"
        )
        kinds = ["gunicorn"] if args.skip_baseline else ["gunicorn", "development server"]
        for n, kind in enumerate(kinds):
            print(f"load before the {kind} run: {os.getloadavg()[0]:.2f} (1 min)")
            key = "gunicorn" if kind == "gunicorn" else "dev"
            port = args.port + n if args.port else _free_port()
            rows, invariants = measure(key, args, env, template, accounts, work, port)
            results[kind if kind != "gunicorn" else gunicorn_label(args)] = rows
            offsets = invariants.pop("offsets")
            moved = sum(1 for m, off in offsets.items() if off != before["offsets"].get(m, 0))
            broken += bool(moved)
            print(f"  {kind}: mentors whose active_count moved apart from their active matches: {moved}"
                  f"{'  <-- BROKEN' if moved else ''}")  # fmt: skip
            for label, count in invariants.items():
                if label.startswith("("):
                    print(f"  {kind}: new {label[1:-1]}: {count - before[label]}")
                    continue
                broken += bool(count)
                print(f"  {kind}: {label}: {count}{'  <-- BROKEN' if count else ''}")
    finally:
        if not args.keep:
            with suppress(Exception):
                _admin(args.admin_dsn, f'DROP DATABASE IF EXISTS "{template}"')
        if args.keep:
            print(f"(work files, with the test accounts' cookies and tokens, in {work})")
        else:
            shutil.rmtree(work, ignore_errors=True)
    errors = print_table(results, args.seconds)
    short = too_few_requests(results, args.rate * args.seconds)
    for kind, made in short.items():
        print(f"{kind}: only {made:,} requests of the {args.rate * args.seconds:,} asked for  <-- TOO FEW")
    first = next(iter(results.values()), [])
    p95 = next((_num(r, "95%") for r in first if r["Name"] == SUGGESTIONS), None)
    if p95 is not None:
        verdict = "met" if p95 < TARGET_P95_MS else "NOT met"
        print(
            f"\nsuggestions page p95 on gunicorn: {p95:.0f} ms (target {TARGET_P95_MS} ms: {verdict}; not a failure)"
        )
    print(f"errors: {errors}; broken invariants: {broken}")
    return 1 if errors or broken or short or not results else 0


if __name__ == "__main__":
    sys.exit(main())
