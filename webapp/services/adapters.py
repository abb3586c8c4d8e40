"""The one place where database rows become the matching core's plain inputs (and back)."""

from __future__ import annotations

from collections.abc import Iterable

from matching import profiles
from matching.csvio import parse_availability
from models import Entrepreneur, Mentor, Room


def to_entrepreneur(row: Entrepreneur) -> profiles.Entrepreneur:
    """An entrepreneur profile as the matching core's frozen input."""
    return profiles.Entrepreneur(
        id=row.external_id,
        name=row.name,
        sector=row.sector_code,
        stage=row.stage_code,
        kecamatan=row.kecamatan_code,
        needs=tuple(row.needs or ()),
        kbli=row.kbli or None,
        languages=tuple(row.languages or ("id",)),
        mode=row.mode,
        availability=parse_availability(row.availability or ""),
        gender=row.gender,
        prefers_mentor_gender=row.prefers_mentor_gender,
        bio=row.bio or "",
    )


def to_mentor(row: Mentor) -> profiles.Mentor:
    """A mentor profile as the matching core's frozen input (mentees held = ``active_count``)."""
    return profiles.Mentor(
        id=row.external_id,
        name=row.name,
        sectors=tuple(row.sectors or ()),
        stages=tuple(row.stages or ()),
        kecamatan=row.kecamatan_code,
        expertise=tuple(row.expertise or ()),
        capacity=row.capacity,
        active_mentees=row.active_count,
        languages=tuple(row.languages or ("id",)),
        mode=row.mode,
        availability=parse_availability(row.availability or ""),
        gender=row.gender,
        bio=row.bio or "",
        paused=row.paused,
    )


def to_room(row: Room) -> profiles.Room:
    """A room as the scheduler's input."""
    return profiles.Room(
        id=row.id,
        kecamatan=row.kecamatan_code,
        name=row.name,
        capacity=row.capacity,
        availability=parse_availability(row.availability or "") or (),
    )


def entrepreneur_values(e: profiles.Entrepreneur) -> dict:
    """Column values of an entrepreneur row from a validated contract record."""
    return {
        "name": e.name,
        "sector_code": e.sector,
        "kbli": e.kbli,
        "stage_code": e.stage,
        "kecamatan_code": e.kecamatan,
        "needs": list(e.needs),
        "languages": list(e.languages),
        "mode": e.mode,
        "availability": profiles.format_availability(e.availability) or None,
        "gender": e.gender,
        "prefers_mentor_gender": e.prefers_mentor_gender,
        "bio": e.bio,
    }


def mentor_values(m: profiles.Mentor) -> dict:
    """Column values of a mentor row from a validated contract record."""
    return {
        "name": m.name,
        "sectors": list(m.sectors),
        "stages": list(m.stages),
        "kecamatan_code": m.kecamatan,
        "expertise": list(m.expertise),
        "capacity": m.capacity,
        "active_count": m.active_mentees,
        "languages": list(m.languages),
        "mode": m.mode,
        "availability": profiles.format_availability(m.availability) or None,
        "gender": m.gender,
        "bio": m.bio,
    }


def room_values(r: profiles.Room) -> dict:
    """Column values of a room row from a validated contract record."""
    return {
        "kecamatan_code": r.kecamatan,
        "name": r.name,
        "capacity": r.capacity,
        "availability": profiles.format_availability(r.availability),
    }


def to_entrepreneurs(rows: Iterable[Entrepreneur]) -> list[profiles.Entrepreneur]:
    """Many entrepreneurs at once."""
    return [to_entrepreneur(r) for r in rows]


def to_mentors(rows: Iterable[Mentor]) -> list[profiles.Mentor]:
    """Many mentors at once."""
    return [to_mentor(r) for r in rows]
