"""Error pages (HTML for people, JSON for the API), database outages as 503, lost-update races and
writes the database aborted for a concurrent one as 409."""

from __future__ import annotations

import logging

from flask import Flask, Response, g, jsonify, render_template, request
from flask.globals import request_ctx
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from models.db import aborted_for_another

log = logging.getLogger(__name__)


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def _titles() -> dict[int, str]:
    return {
        400: _("Permintaan tidak valid"),
        403: _("Akses ditolak"),
        404: _("Halaman tidak ditemukan"),
        405: _("Metode tidak diizinkan"),
        409: _("Terjadi konflik"),
        413: _("Berkas terlalu besar"),
        422: _("Data tidak valid"),
        429: _("Terlalu banyak percobaan"),
        500: _("Terjadi kesalahan"),
        503: _("Layanan sedang tidak tersedia"),
    }


def _discard_transaction() -> None:
    """Roll back the request's failed transaction before an error page is rendered."""
    db = g.get("db")
    if db is not None:
        try:
            db.rollback()
        except SQLAlchemyError:  # the connection itself may be gone (an outage)
            log.warning("rollback after a database error failed")


def register(app: Flask) -> None:
    """Install handlers for HTTP errors, database outages and anything unexpected."""

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        code = exc.code or 500
        headers = {}
        if code == 429:
            headers["Retry-After"] = "60"
        if request_ctx.url_adapter is None:  # a Host not in TRUSTED_HOSTS: no URLs can be built
            return Response(f"{code} {exc.name}\n", code, headers, mimetype="text/plain")
        if _wants_json():
            return jsonify(code=code, status=exc.name, message=exc.description), code, headers
        title = _titles().get(code, exc.name)
        return render_template("error.html", code=code, title=title), code, headers

    @app.errorhandler(OperationalError)
    def _db_down(exc: OperationalError):
        if aborted_for_another(exc):  # not an outage: the database let a concurrent write go first
            return _conflict(exc)
        _discard_transaction()
        log.error("database unavailable: %s", type(exc.orig).__name__ if exc.orig else "OperationalError")
        if _wants_json():
            return (
                jsonify(code=503, status="Service Unavailable", message="database unavailable"),
                503,
                {"Retry-After": "30"},
            )
        return render_template("error.html", code=503, title=_titles()[503]), 503, {"Retry-After": "30"}

    @app.errorhandler(IntegrityError)
    @app.errorhandler(StaleDataError)
    def _conflict(exc: IntegrityError | StaleDataError | OperationalError):
        _discard_transaction()
        # A database constraint refused a write that raced with another one (a place taken, a
        # duplicate), the database aborted it to let a concurrent one go on (a deadlock broken), or
        # a row was saved by someone else after this request read it (its version moved on: a lost
        # update refused): nothing was written, and the person can look again.
        if isinstance(exc, StaleDataError):
            log.warning("edit refused: the row changed since it was read (stale version)")
        elif isinstance(exc, OperationalError):
            log.warning("write aborted by the database for a concurrent one: %s", type(exc.orig).__name__)
        else:
            log.warning(
                "write refused by a database constraint: %s",
                type(exc.orig).__name__ if exc.orig else "IntegrityError",
            )
        if _wants_json():
            return jsonify(
                code=409, status="Conflict", message="the data changed meanwhile; reload and try again"
            ), 409
        return render_template("error.html", code=409, title=_titles()[409]), 409

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        if _wants_json():
            return jsonify(code=500, status="Internal Server Error", message="unexpected error"), 500
        return render_template("error.html", code=500, title=_titles()[500]), 500
