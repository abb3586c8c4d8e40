"""gunicorn settings for JakMentor's web process: ``gunicorn -c gunicorn.conf.py 'webapp:create_app()'``.

Every value can be set from the environment; the defaults suit one host behind a reverse proxy.
"""

import multiprocessing
import os

from gunicorn.glogging import Logger

#: Where to listen: the proxy (nginx, Caddy) forwards to this address.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
#: Sync workers (one request at a time each): 2 x cores + 1 unless set. Each worker holds its own
#: database pool (SQLAlchemy's default 5 + 10 overflow), so workers x hosts x 15 must stay below
#: PostgreSQL's max_connections (or put PgBouncer in between). On a small host that also runs
#: PostgreSQL, fewer help no more than they hurt: at 100 requests/s on 2 cores (README, "Load
#: test") 3 and 4 sync workers gave the same p95, and 2 gthread workers x 4 threads a worse one
#: (pages are CPU-bound, so threads wait on each other's interpreter lock).
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count() + 1))
worker_class = "sync"
#: A request that takes longer than this is killed (its transaction rolls back) and the worker respawned.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
#: Time a worker gets to finish its requests on SIGTERM / reload before it is killed.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = 5
#: Recycle workers after this many requests (jitter so they do not all restart together): a cap on
#: slow leaks. A new worker imports the libraries, builds the app and encodes every mentor again
#: (about 3.4 s of CPU at 1,500 mentors), so at 2,000 a host serving 100 requests/s restarted a
#: worker every 20 s and spent about a sixth of a core on it.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "20000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "2000"))
#: Addresses of the proxies whose X-Forwarded-* headers gunicorn trusts (the app also needs
#: TRUST_PROXY_HOPS=1 for ProxyFix).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


#: The access log in the app's format: one JSON object per line where the app logs JSON
#: (LOG_FORMAT, which production defaults to), so that one parser reads both.
JSON_ACCESS_LOG = (
    os.environ.get("LOG_FORMAT") or ("json" if os.environ.get("JAKMENTOR_ENV") == "production" else "text")
) == "json"


class RedactingLogger(Logger):
    """The access log without secrets: the private calendar feed's key is in its path (/calendar/KEY.ics)."""

    def atoms(self, resp, req, environ, request_time):
        """gunicorn's atoms, with the calendar key replaced."""
        atoms = super().atoms(resp, req, environ, request_time)
        if atoms.get("U", "").startswith("/calendar/"):
            atoms["U"] = "/calendar/[key].ics"
        return atoms

    def access(self, resp, req, environ, request_time):
        """As gunicorn's, or as a JSON object with the fields of the app's records and the request's id."""
        if not JSON_ACCESS_LOG:
            return super().access(resp, req, environ, request_time)
        if not (self.cfg.accesslog or self.cfg.logconfig or self.cfg.logconfig_dict or self.cfg.syslog):
            return None
        import datetime as dt
        import json

        atoms = self.atoms(resp, req, environ, request_time)
        record = {
            "ts": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
            "level": "INFO",
            "logger": "gunicorn.access",
            "message": f"{atoms['m']} {atoms['U']} {atoms['s']}",
            "request_id": atoms.get("{x-request-id}o") if atoms.get("{x-request-id}o") != "-" else None,
            "ip": atoms["h"],
            "method": atoms["m"],
            "path": atoms["U"],
            "status": int(atoms["s"]) if str(atoms["s"]).isdigit() else atoms["s"],
            "bytes": atoms["B"] if isinstance(atoms["B"], int) else 0,
            "duration_us": atoms["D"],
        }
        self.access_log.info(json.dumps(record, ensure_ascii=False))
        return None


logger_class = RedactingLogger
#: Access log on stdout, without the query string (a token could travel in it): %(U)s is the path
#: only. Remote address, time, method, path, status, bytes, duration in microseconds (the same
#: fields as JSON when JSON_ACCESS_LOG).
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
access_log_format = '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(B)s %(D)sus'
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
#: The app is built by the factory in each worker after the fork (no shared database connections).
preload_app = False
#: One BLAS thread per worker: a request's products are small, and workers x cores BLAS threads
#: would only fight over the cores (the matching batch sets its own threads).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")


def post_worker_init(worker):
    """Encode the mentors, then move what the worker has loaded out of the garbage collector's sight.

    The mentor pool is built before the worker takes its first request (``suggestion_cache.warm_up``),
    so a new or recycled worker does not make the people it serves first wait for it.

    About 250,000 objects are alive once the app is built, and a full collection walks them all:
    a few hundred milliseconds during which the worker's request waits, every thousand or so
    requests. Frozen, they are never walked again (they live as long as the worker anyway), and a
    full collection only sees what requests made since: about 20 ms.
    """
    import gc

    app = getattr(worker, "wsgi", None)
    if getattr(app, "extensions", None) is not None:
        from webapp.suggestion_cache import warm_up

        warm_up(app)
    gc.collect()
    gc.freeze()
