"""Access to personal data (PDP-5): who read whose record, when, and who a leak would have exposed.

Each staff page, API call or command that shows people's records adds one ``personal_data.read``
row to the audit log: the actor, the time, the endpoint (in ``note``) and the ids of the people
shown (in ``after``, by kind). A read of a single record also names it in ``object_type`` and
``object_id``, so the audit search finds it. People downloading their own data are logged as
``personal_data.exported`` (``personal_data.download_personal_data``); both count here.

``affected_people`` answers the breach question "endpoint X leaked between t1 and t2: whom did it
expose?" from those rows, and optionally from the login tables (everyone signed in during the
window, for pages that show a person only their own data and are not access-logged).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from models import ApiToken, AuditLog, Entrepreneur, Mentor, User, UserSession, utcnow

READ_ACTION = "personal_data.read"
#: The self-service download is audited under its own action; its endpoint, for ``--endpoint``.
EXPORT_ACTION = "personal_data.exported"
EXPORT_ENDPOINT = "account.personal_data_download"
#: Kinds of record a read can show, as they appear in ``after``.
SUBJECT_KINDS = ("user", "entrepreneur", "mentor")
#: The endpoint recorded for the ``flask export`` command.
CLI_EXPORT_ENDPOINT = "cli.export"
CONTACT_COLUMNS = ("person", "name", "email", "language", "reachable", "reads", "first_read", "last_read")


def record_read(
    db: Session,
    *,
    actor_id: int | None,
    endpoint: str,
    entrepreneurs: Iterable[int] = (),
    mentors: Iterable[int] = (),
    users: Iterable[int] = (),
    at: dt.datetime | None = None,
) -> AuditLog | None:
    """Add one ``personal_data.read`` row for the people shown (none shown: no row); flushes nothing.

    Parameters
    ----------
    actor_id : int or None
        The account that read (None for a command run on the server).
    endpoint : str
        The Flask endpoint (``staff.member_edit``) or command (``cli.export``) that showed them.
    entrepreneurs, mentors, users : iterable of int
        Primary keys of the profiles and accounts shown.
    """
    subjects = {
        kind: sorted({int(i) for i in ids})
        for kind, ids in (("user", users), ("entrepreneur", entrepreneurs), ("mentor", mentors))
    }
    subjects = {kind: ids for kind, ids in subjects.items() if ids}
    if not subjects:
        return None
    single = next(iter(subjects.items())) if len(subjects) == 1 else None
    one = single is not None and len(single[1]) == 1
    row = AuditLog(
        actor_id=actor_id,
        action=READ_ACTION,
        object_type=single[0] if one else None,
        object_id=str(single[1][0]) if one else None,
        after=subjects,
        note=endpoint,
        at=at or utcnow(),
    )
    db.add(row)
    return row


def all_ids(db: Session, kind: str) -> list[int]:
    """Primary keys of every entrepreneur or mentor (what a full export shows); [] for other kinds."""
    model = {"entrepreneurs": Entrepreneur, "mentors": Mentor}.get(kind)
    return list(db.scalars(select(model.id))) if model is not None else []


@dataclass
class AffectedPerson:
    """One data subject a leak would have exposed, with how to reach them."""

    #: ``user:12`` for someone with an account, ``entrepreneur:7``/``mentor:3`` for a profile without.
    key: str
    name: str
    email: str | None
    language: str
    reachable: bool
    first_read: dt.datetime | None = None
    last_read: dt.datetime | None = None
    reads: int = 0
    endpoints: set[str] = field(default_factory=set)


@dataclass
class _Subjects:
    """Reads per (kind, id), accumulated from the audit rows."""

    seen: dict[tuple[str, int], list[tuple[dt.datetime, str]]] = field(default_factory=dict)

    def add(self, kind: str, ids: Iterable, at: dt.datetime, endpoint: str) -> None:
        for i in ids:
            self.seen.setdefault((kind, int(i)), []).append((at, endpoint))


def affected_people(
    db: Session,
    since: dt.datetime,
    until: dt.datetime,
    *,
    endpoint: str | None = None,
    signed_in: bool = False,
) -> list[AffectedPerson]:
    """The people whose records were read (by ``endpoint``, or any) in ``[since, until]``.

    Parameters
    ----------
    since, until : datetime
        Aware datetimes, both included.
    endpoint : str, optional
        Only reads through this endpoint (``staff_api.entrepreneurs``, ``staff.export``, ...).
    signed_in : bool
        Also everyone whose login session or API token was used in the window (for leaks of pages
        that show a person their own data, which are not access-logged).

    A profile with an account is reported once, as its account. Sorted by key.
    """
    if until < since:
        raise ValueError("the window ends before it starts")
    subjects = _Subjects()
    stmt = select(AuditLog).where(
        AuditLog.action.in_((READ_ACTION, EXPORT_ACTION)), AuditLog.at >= since, AuditLog.at <= until
    )
    for row in db.scalars(stmt.order_by(AuditLog.at, AuditLog.id)):
        row_endpoint = row.note if row.action == READ_ACTION else EXPORT_ENDPOINT
        if endpoint is not None and row_endpoint != endpoint:
            continue
        if row.action == EXPORT_ACTION:
            subjects.add("user", [row.object_id], row.at, row_endpoint)
            continue
        for kind in SUBJECT_KINDS:
            subjects.add(kind, (row.after or {}).get(kind, ()), row.at, row_endpoint or "")
    if signed_in:
        for user_id, at in _signed_in(db, since, until):
            subjects.add("user", [user_id], at, "login")
    return _people(db, subjects)


def _signed_in(db: Session, since: dt.datetime, until: dt.datetime) -> list[tuple[int, dt.datetime]]:
    """(user id, a moment of use) for every login session or API token used in the window."""
    sessions = db.execute(
        select(UserSession.user_id, UserSession.last_seen_at).where(
            UserSession.created_at <= until,
            UserSession.last_seen_at >= since,
            or_(UserSession.revoked_at.is_(None), UserSession.revoked_at >= since),
        )
    ).all()
    tokens = db.execute(
        select(ApiToken.user_id, ApiToken.last_used_at).where(
            ApiToken.created_at <= until, ApiToken.last_used_at >= since
        )
    ).all()
    logins = db.execute(
        select(User.id, User.last_login_at).where(User.last_login_at >= since, User.last_login_at <= until)
    ).all()
    return [(user_id, min(at, until)) for user_id, at in [*sessions, *tokens, *logins]]


def _people(db: Session, subjects: _Subjects) -> list[AffectedPerson]:
    def ids(kind: str) -> list[int]:
        return [i for k, i in subjects.seen if k == kind]

    profiles: dict[tuple[str, int], Entrepreneur | Mentor] = {}
    for kind, model in (("entrepreneur", Entrepreneur), ("mentor", Mentor)):
        wanted = ids(kind)
        for start in range(0, len(wanted), 500):
            for row in db.scalars(select(model).where(model.id.in_(wanted[start : start + 500]))):
                profiles[(kind, row.id)] = row
    user_ids = set(ids("user")) | {p.user_id for p in profiles.values() if p.user_id is not None}
    users: dict[int, User] = {}
    ordered = sorted(user_ids)
    for start in range(0, len(ordered), 500):
        for user in db.scalars(select(User).where(User.id.in_(ordered[start : start + 500]))):
            users[user.id] = user

    people: dict[str, AffectedPerson] = {}
    for (kind, subject_id), reads in subjects.seen.items():
        profile = profiles.get((kind, subject_id))
        user_id = subject_id if kind == "user" else (profile.user_id if profile is not None else None)
        user = users.get(user_id) if user_id is not None else None
        if user is not None:
            key = f"user:{user.id}"
            person = people.get(key) or AffectedPerson(
                key=key,
                name=user.name,
                email=None if user.deleted_at else user.email,
                language=user.locale or "id",
                reachable=user.deleted_at is None,
            )
        else:
            key = f"{kind}:{subject_id}"
            person = people.get(key) or AffectedPerson(
                key=key,
                name=profile.name if profile is not None else "",
                email=None,
                language=((profile.languages or ["id"])[0] if profile is not None else "id"),
                reachable=False,
            )
        people[key] = person
        for at, endpoint in reads:
            person.reads += 1
            person.endpoints.add(endpoint)
            person.first_read = at if person.first_read is None else min(person.first_read, at)
            person.last_read = at if person.last_read is None else max(person.last_read, at)
    return sorted(people.values(), key=lambda p: (p.key.split(":")[0], int(p.key.split(":")[1])))


def _cell(text: str) -> str:
    """Text a spreadsheet will not run as a formula (a leading ``= + - @`` gets a quote)."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") else text


def contacts_csv(people: Iterable[AffectedPerson]) -> str:
    """The notification contacts of ``people`` as CSV (UTF-8 text, header first)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CONTACT_COLUMNS)
    for p in people:
        writer.writerow(
            [
                p.key,
                _cell(p.name),
                p.email or "",
                p.language,
                "yes" if p.reachable else "no",
                p.reads,
                p.first_read.isoformat() if p.first_read else "",
                p.last_read.isoformat() if p.last_read else "",
            ]
        )
    return out.getvalue()
