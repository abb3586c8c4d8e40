"""The version of a request a form's user saw: lost-update protection for the pages (CON-5).

A page that changes a request puts the request's ``version`` in its form as a hidden field
(``version``; ``version-<id>`` for each row of a bulk form); the POST hands it to the service,
which writes nothing and raises ``StaleVersion`` when the request has changed since the page was
made. A post without the field (a page opened before the field existed, a script) is not refused
for that: the service's guarded UPDATE still refuses what is no longer possible (a request
already answered, a proposal already decided).
"""

from __future__ import annotations

from flask import abort, request

BULK_PREFIX = "version-"


def _parse(raw: str) -> int:
    if not raw.isdigit() or len(raw) > 9:
        abort(400)
    return int(raw)


def form_version(field: str = "version") -> int | None:
    """The version posted in ``field``; None when the form has none (400 when it is not a number)."""
    raw = request.form.get(field, "").strip()
    return _parse(raw) if raw else None


def form_versions() -> dict[int, int]:
    """The versions a bulk form posted, by request id (``version-<id>`` fields; 400 when malformed)."""
    out: dict[int, int] = {}
    for key, raw in request.form.items():
        if key.startswith(BULK_PREFIX) and raw.strip():
            out[_parse(key.removeprefix(BULK_PREFIX))] = _parse(raw.strip())
    return out
