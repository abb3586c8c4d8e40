"""Logging: one JSON object per line in production (``LOG_FORMAT=json``), plain text in development.

Every record made while a request is handled carries the request id (echoed in the
``X-Request-ID`` response header), the logged-in user's id and the client address. Messages name
people by id only: never passwords, tokens, cookies, e-mail addresses or names.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
import time
import uuid

from flask import Flask, g, has_request_context, request

log = logging.getLogger(__name__)

#: The attribute that marks the handler this module installs (so a second app replaces, not adds).
_HANDLER_MARK = "_jakmentor_handler"
#: An incoming request id is kept only if it is this plain (it ends up in every log line).
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_CONTEXT_FIELDS = ("request_id", "user_id", "ip")
#: Standard ``LogRecord`` attributes; anything else a caller passed in ``extra`` is a field.
_RECORD_ATTRS = frozenset(vars(logging.LogRecord("x", 0, "x", 0, "x", None, None))) | {
    "message",
    "asctime",
    "taskName",
}


def request_id() -> str:
    """This request's id: the proxy's ``X-Request-ID`` when proxies are trusted, else a new one."""
    rid = g.get("request_id")
    if rid is None:
        from flask import current_app

        incoming = request.headers.get("X-Request-ID", "")
        if current_app.config.get("TRUST_PROXY_HOPS") and _REQUEST_ID.match(incoming):
            rid = incoming
        else:
            rid = uuid.uuid4().hex
        g.request_id = rid
    return rid


def _user_id() -> int | None:
    # Only a user already loaded: loading one here could log from inside the loader.
    user = g.get("_login_user")
    if user is not None and getattr(user, "is_authenticated", False):
        return user.id
    return None


class RequestContextFilter(logging.Filter):
    """Adds ``request_id``, ``user_id`` and ``ip`` to each record (``None`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context():
            record.request_id = request_id()
            record.user_id = _user_id()
            record.ip = request.remote_addr
        else:
            for name in _CONTEXT_FIELDS:
                if not hasattr(record, name):
                    setattr(record, name, None)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record: UTC timestamp, level, logger, message, context and extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in _CONTEXT_FIELDS:
            out[name] = getattr(record, name, None)
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRS and key not in out and not key.startswith("_"):
                out[key] = value if isinstance(value, str | int | float | bool | None) else str(value)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """Readable lines for development, with the same context."""

    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s [%(request_id)s user=%(user_id)s ip=%(ip)s] %(message)s"
        )
        self.converter = time.gmtime


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time (as logging's last-resort handler does)."""

    def __init__(self) -> None:
        logging.Handler.__init__(self)

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr


def make_handler(fmt: str, stream=None) -> logging.Handler:
    """A stream handler with the request-context filter and the formatter for ``fmt`` (json|text)."""
    handler = logging.StreamHandler(stream) if stream is not None else _StderrHandler()
    handler.addFilter(RequestContextFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    return handler


def init_app(app: Flask) -> None:
    """Install the root handler and the request hooks.

    The handler goes on the root logger unless something else configured logging already
    (pytest's capture, ``gunicorn --log-config``, an embedding application); a second app in the
    same process replaces the first one's handler instead of adding another.
    """
    fmt = app.config.get("LOG_FORMAT", "text")
    if fmt not in ("json", "text"):
        raise ValueError(f"LOG_FORMAT must be json or text, not {fmt!r}")
    root = logging.getLogger()
    ours = [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]
    if not app.testing and len(ours) == len(root.handlers):
        for old in ours:
            root.removeHandler(old)
        handler = make_handler(fmt)
        setattr(handler, _HANDLER_MARK, True)
        root.addHandler(handler)
        root.setLevel(app.config.get("LOG_LEVEL", "INFO"))

    @app.after_request
    def _echo_request_id(response):
        response.headers["X-Request-ID"] = request_id()
        if response.status_code == 429:
            log.warning(
                "rate limit hit on %s", request.endpoint or request.path, extra={"event": "rate_limited"}
            )
        return response
