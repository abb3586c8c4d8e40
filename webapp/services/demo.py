"""The demo programme: a realistic Jakarta programme, deterministic by seed, with one login per role."""

from __future__ import annotations

import datetime as dt
import logging
import random
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from matching.synthetic import generate_city
from models import (
    Entrepreneur,
    Match,
    MatchRequest,
    Mentor,
    Role,
    Room,
    StatusChange,
    User,
    utcnow,
)
from webapp.services.accounts import create_user
from webapp.services.adapters import entrepreneur_values, mentor_values, room_values
from webapp.services.errors import Conflict

log = logging.getLogger(__name__)

#: The demo logins, printed by ``make run``. They exist only in a demo database.
DEMO_PASSWORD = "jakarta-demo-2026"  # nosec B105 # published demo login; `flask demo load` refuses production
DEMO_ACCOUNTS: tuple[tuple[Role, str, str], ...] = (
    (Role.ENTREPRENEUR, "wirausaha@demo.jakmentor.id", "Wirausaha Demo"),
    (Role.MENTOR, "mentor@demo.jakmentor.id", "Mentor Demo"),
    (Role.STAFF, "staf@demo.jakmentor.id", "Staf Program Demo"),
    (Role.ADMIN, "admin@demo.jakmentor.id", "Admin Demo"),
)


@dataclass(frozen=True)
class DemoSummary:
    """What the demo load created."""

    entrepreneurs: int
    mentors: int
    rooms: int
    requests: int
    active_matches: int
    logins: tuple[tuple[str, str, str], ...]


def database_is_empty(db: Session) -> bool:
    """True when no member or account exists yet (reference tables do not count)."""
    return not any(db.scalar(select(func.count()).select_from(m)) for m in (User, Entrepreneur, Mentor))


def load_demo(db: Session, *, entrepreneurs: int = 2000, mentors: int = 150, seed: int = 0) -> DemoSummary:
    """Fill an empty database with a demo programme; refuses (``Conflict``) when members exist."""
    if not database_is_empty(db):
        raise Conflict(
            "not_empty", "the database already holds members; the demo loads only into an empty one"
        )
    city = generate_city(entrepreneurs, mentors, seed=seed)
    rng = random.Random(seed)  # nosec B311 # reproducible demo data, not secrets
    now = utcnow()

    for room in city.rooms:
        db.add(Room(id=room.id, address=f"Kantor Kecamatan, {room.name}", **room_values(room)))
    e_rows = [Entrepreneur(external_id=e.id, **entrepreneur_values(e)) for e in city.entrepreneurs]
    m_rows = [Mentor(external_id=m.id, **mentor_values(m)) for m in city.mentors]
    for m_row in m_rows:
        m_row.company = _company_of(m_row.bio)
    db.add_all(e_rows)
    db.add_all(m_rows)
    db.flush()
    by_e = {r.external_id: r for r in e_rows}
    by_m = {r.external_id: r for r in m_rows}

    logins = []
    for role, email, name in DEMO_ACCOUNTS:
        user = create_user(
            db,
            email=email,
            name=name,
            password=DEMO_PASSWORD,
            role=role,
            check_password=False,
            consent=True,
            notice_version="demo",
            consent_channel="demo",
        )
        logins.append((role.value, email, DEMO_PASSWORD))
        if role is Role.ENTREPRENEUR:
            e_rows[0].user_id = user.id
            user.name = e_rows[0].name
        elif role is Role.MENTOR:
            m_rows[0].user_id = user.id
            user.name = m_rows[0].name

    requests = active = 0
    has_active: set[int] = set()
    for i, h in enumerate(city.history):
        e, m = by_e.get(h.entrepreneur_id), by_m.get(h.mentor_id)
        if e is None or m is None:
            continue
        created = now - dt.timedelta(days=rng.randint(14, 300), minutes=i)
        responded = created + dt.timedelta(days=rng.randint(0, 6), hours=rng.randint(1, 20))
        status = "declined" if h.outcome == "declined" else "accepted"
        req = MatchRequest(
            entrepreneur_id=e.id,
            mentor_id=m.id,
            origin=rng.choice(("entrepreneur", "cohort")),
            status=status,
            created_at=created,
            sent_at=created,
            responded_at=responded,
            response_reason="no_capacity" if status == "declined" else None,
        )
        db.add(req)
        db.flush()
        db.add_all(
            [
                StatusChange(request_id=req.id, from_status=None, to_status="pending", at=created),
                StatusChange(request_id=req.id, from_status="pending", to_status=status, at=responded),
            ]
        )
        requests += 1
        if status != "accepted":
            continue
        if h.outcome == "completed":
            ended = min(now, responded + dt.timedelta(days=rng.randint(60, 120)))
            db.add(
                Match(
                    entrepreneur_id=e.id,
                    mentor_id=m.id,
                    request_id=req.id,
                    status="completed",
                    started_at=responded,
                    ended_at=ended,
                    rating=h.rating,
                    end_reason="completed",
                )
            )
        elif e.id not in has_active and m.active_count < m.capacity and not m.paused:
            # A mentorship still running: it holds one of the mentor's places.
            m.active_count += 1
            has_active.add(e.id)
            db.add(
                Match(
                    entrepreneur_id=e.id,
                    mentor_id=m.id,
                    request_id=req.id,
                    status="active",
                    started_at=responded,
                )
            )
            active += 1
        else:
            db.add(
                Match(
                    entrepreneur_id=e.id,
                    mentor_id=m.id,
                    request_id=req.id,
                    status="ended",
                    started_at=responded,
                    ended_at=min(now, responded + dt.timedelta(days=30)),
                    end_reason="other",
                )
            )
    db.flush()
    log.info("demo loaded: %d entrepreneurs, %d mentors, %d requests", len(e_rows), len(m_rows), requests)
    return DemoSummary(len(e_rows), len(m_rows), len(city.rooms), requests, active, tuple(logins))


def _company_of(bio: str) -> str | None:
    """A short company line taken from a mentor's generated bio (its first clause)."""
    first = bio.split(";")[0].split(".")[0].strip()
    return first[:160] or None
