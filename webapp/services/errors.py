"""Errors the use cases raise; callers turn them into messages, HTTP statuses or exit codes."""

from __future__ import annotations


class ServiceError(Exception):
    """A use case refused: ``code`` names why (for translation), ``message`` says it in English."""

    status = 400

    def __init__(self, code: str, message: str, **params: object):
        super().__init__(message)
        self.code, self.message, self.params = code, message, params


class NotFound(ServiceError):
    """The object does not exist, or is not the caller's to see."""

    status = 404


class Conflict(ServiceError):
    """The object changed under the caller (capacity full, already answered...)."""

    status = 409


class InvalidInput(ServiceError):
    """The input breaks a rule; ``errors`` lists every problem (file, row, column, reason)."""

    status = 422

    def __init__(self, code: str, message: str, errors: list | None = None, **params: object):
        super().__init__(code, message, **params)
        self.errors = errors or []


class StaleVersion(Conflict):
    """The caller saw another version of the object than the one stored (a lost update refused).

    Its change was based on what someone else has changed since, so nothing is written;
    ``params["version"]`` is the stored version.
    """
