"""Notifications through the outbox: ``notify`` adds a row in the recipient's language; delivery is separate.

A notification is written in the same transaction as the change it reports, so it exists exactly
when the change does; ``webapp.notify.deliver_outbox`` sends it later (at least once).

The payload holds ids only, never names or contact details: the message is rendered from the
current rows at delivery time, so an anonymised account shows as anonymised and an export of one
person's notifications carries nobody else's personal data. Payload keys by kind
(every kind also accepts extra keys, which templates may use):

=====================  =============  ==============================================================
kind                   required keys  sent to, and when
=====================  =============  ==============================================================
``request_new``        ``request_id``  the mentor: a request is waiting for their answer
``request_accepted``   ``request_id``  the entrepreneur: the mentor accepted (optional ``match_id``)
``request_declined``   ``request_id``  the entrepreneur: declined (the reason is the request's
                                       ``response_reason``)
``request_expired``    ``request_id``  the entrepreneur: the mentor did not answer in time
``request_closed``     ``request_id``  the mentor: the request is no longer open (another request was
                                       accepted, or the entrepreneur left)
``proposal_approved``  ``request_id``  mentor and entrepreneur: staff approved a cohort proposal
``mentor_paused``      ``mentor_id``   the mentor: their profile was paused (optional ``reason``
                                       code; else the profile's ``paused_reason``)
``session_proposed``   ``session_id``  both participants: a weekly session was proposed
``session_reminder``   ``session_id``  both participants: a session is coming up
``session_feedback``   ``session_id``  both participants: please say how the session went
=====================  =============  ==============================================================
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Notification, User
from webapp.services.errors import InvalidInput

log = logging.getLogger(__name__)

#: Every kind of notification; each has a template ``webapp/templates/email/<kind>.txt``.
KINDS = (
    "request_new",
    "request_accepted",
    "request_declined",
    "request_expired",
    "request_closed",
    "proposal_approved",
    "mentor_paused",
    "session_proposed",
    "session_reminder",
    "session_feedback",
)

#: The payload keys each kind needs (see the module docstring for who receives what).
PAYLOAD_KEYS: dict[str, tuple[str, ...]] = {
    "request_new": ("request_id",),
    "request_accepted": ("request_id",),
    "request_declined": ("request_id",),
    "request_expired": ("request_id",),
    "request_closed": ("request_id",),
    "proposal_approved": ("request_id",),
    "mentor_paused": ("mentor_id",),
    "session_proposed": ("session_id",),
    "session_reminder": ("session_id",),
    "session_feedback": ("session_id",),
}

#: After this many failed attempts a row is a dead letter: delivery skips it and counts it.
MAX_ATTEMPTS = 8


def _plain(value: object) -> object:
    """A JSON-ready form of a payload value (dates and times as ISO 8601 text)."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def notify(db: Session, user: User | int, kind: str, **payload: object) -> Notification | None:
    """Queue a ``kind`` message to ``user`` in their language; None (nothing queued) if the account is gone.

    Raises ``InvalidInput`` for an unknown kind or a missing payload key. Flushes, never commits.
    """
    if kind not in KINDS:
        raise InvalidInput("unknown_notification", f"unknown notification kind: {kind}")
    missing = [key for key in PAYLOAD_KEYS[kind] if payload.get(key) is None]
    if missing:
        raise InvalidInput("bad_notification", f"{kind} needs payload keys: {', '.join(missing)}")
    recipient = user if isinstance(user, User) else db.get(User, user)
    if recipient is None or not recipient.is_active or recipient.deleted_at is not None:
        log.info("notification %s not queued: recipient inactive or gone", kind)
        return None
    row = Notification(
        user_id=recipient.id,
        kind=kind,
        locale=recipient.locale if recipient.locale in ("id", "en") else "id",
        payload={key: _plain(value) for key, value in payload.items()},
    )
    db.add(row)
    db.flush()
    return row


def pending(db: Session, limit: int = 100) -> list[Notification]:
    """Undelivered rows that are not dead letters, oldest first."""
    return list(
        db.scalars(
            select(Notification)
            .where(Notification.sent_at.is_(None), Notification.attempts < MAX_ATTEMPTS)
            .order_by(Notification.created_at, Notification.id)
            .limit(limit)
        )
    )
