"""Programme insights for staff: waiting lists, mentor load, acceptance, weekly activity and 7 PAS progress.

Every figure is a plain function taking a ``Session`` and an optional kota filter (``"31.71"``), built
from SQL aggregates; only the median wait is computed in Python, over per-kecamatan lists of days.

Definitions (shown on the page as well):

- *waiting*: an entrepreneur with no active mentorship (the same count as the dashboard's headline).
- *wait (days)*: whole days, in Jakarta time, from the start of waiting to today. Waiting starts when
  the entrepreneur's last mentorship ended; for someone who never had one it starts at the earlier of
  the day they joined and the day of their first request (imported members keep their older history).
- *acceptance rate*: accepted / (accepted + declined) over requests answered in the last 90 days,
  by the mentor's kota.
- *matches per week*: mentorships started in each ISO week (Monday to Sunday, Jakarta time), by the
  entrepreneur's kota; *sessions held*: sessions with status ``held`` by their ``week_start``.
- *7 PAS*: entrepreneurs who have reached each step P1..P7; *cohort* is the year and quarter in which
  the entrepreneur joined (``2026-Q1``), in Jakarta time.

The CSV downloads (``FIGURES``) use stable English snake_case column names meant for machines.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import statistics
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, exists, extract, func, select
from sqlalchemy.orm import Session

from models import (
    Entrepreneur,
    Kecamatan,
    Kota,
    Match,
    MatchRequest,
    Mentor,
    MentoringSession,
    PasProgress,
    PasStep,
    utcnow,
)

JAKARTA = ZoneInfo("Asia/Jakarta")
ACCEPTANCE_DAYS = 90
WEEKS = 12
PAS_STEPS = ("P1", "P2", "P3", "P4", "P5", "P6", "P7")
GEOJSON = Path(__file__).resolve().parent.parent / "static" / "jakarta_kecamatan.geojson"
#: Kepulauan Seribu, far out in the bay: drawn in an inset beside the mainland map.
ISLANDS_KOTA = "31.01"


# --------------------------------------------------------------------------- figures


@dataclass(frozen=True)
class KecamatanWaiting:
    """Entrepreneurs waiting for a mentor in one kecamatan, and how long they have waited."""

    code: str
    name: str
    kota_code: str
    kota: str
    entrepreneurs: int
    waiting: int
    waiting_with_open_request: int
    median_wait_days: float | None


@dataclass(frozen=True)
class MentorLoad:
    """Mentors of one kota by load: available (a free place), full, or paused."""

    kota_code: str
    kota: str
    mentors: int
    available: int
    full: int
    paused: int
    capacity: int
    active_mentees: int
    free_places: int


@dataclass(frozen=True)
class Acceptance:
    """Requests answered by the mentors of one kota in the window, and how many were accepted."""

    kota_code: str
    kota: str
    answered: int
    accepted: int
    declined: int

    @property
    def rate(self) -> float | None:
        """accepted / answered, or None when nothing was answered."""
        return self.accepted / self.answered if self.answered else None


@dataclass(frozen=True)
class WeekCount:
    """A count for one ISO week, keyed by its Monday."""

    week_start: dt.date
    count: int

    @property
    def iso_week(self) -> str:
        """The ISO week as ``2026-W05``."""
        year, week, _ = self.week_start.isocalendar()
        return f"{year}-W{week:02d}"


@dataclass(frozen=True)
class PasRow:
    """Entrepreneurs of a group (a kota or a cohort) and how many reached each 7 PAS step."""

    key: str
    label: str
    entrepreneurs: int
    reached: tuple[int, ...]


def _kota_filter(column: ColumnElement[str], kota: str | None) -> ColumnElement[bool]:
    """A condition keeping kecamatan codes of ``kota`` (all when None)."""
    if not kota:
        return column.is_not(None)
    return column.startswith(f"{kota}.", autoescape=True)


def _today(now: dt.datetime | None) -> dt.date:
    return (now or utcnow()).astimezone(JAKARTA).date()


def kota_options(db: Session) -> list[tuple[str, str]]:
    """The kota of DKI Jakarta as (code, name), by code."""
    return [(r.code, r.name) for r in db.execute(select(Kota.code, Kota.name).order_by(Kota.code))]


def pas_step_names(db: Session) -> list[tuple[str, str, str]]:
    """The 7 PAS steps as (code, Indonesian name, English name)."""
    return [
        tuple(r)
        for r in db.execute(select(PasStep.code, PasStep.name_id, PasStep.name_en).order_by(PasStep.code))
    ]


@dataclass(frozen=True)
class WaitingFigures:
    """The waiting list: per kecamatan, and the programme-wide count and median wait."""

    kecamatan: list[KecamatanWaiting]
    waiting: int
    median_wait_days: float | None


def _median(days: list[int]) -> float | None:
    return float(statistics.median(days)) if days else None


def _wait_days(
    today: dt.date, joined: dt.datetime, first: dt.datetime | None, ended: dt.datetime | None
) -> int:
    """Whole days waited: since the last mentorship ended, else since joining or the first request."""
    start = ended or (min(joined, first) if first else joined)
    return max(0, (today - start.astimezone(JAKARTA).date()).days)


def waiting_by_kecamatan(
    db: Session, *, kota: str | None = None, now: dt.datetime | None = None
) -> WaitingFigures:
    """Every kecamatan (of ``kota``) with its entrepreneurs, those waiting, and their median wait."""
    today = _today(now)
    active = select(Match.entrepreneur_id).where(Match.status == "active")
    first_request = (
        select(MatchRequest.entrepreneur_id, func.min(MatchRequest.created_at).label("at"))
        .where(MatchRequest.status.not_in(("draft", "rejected")))
        .group_by(MatchRequest.entrepreneur_id)
        .subquery()
    )
    last_end = (
        select(Match.entrepreneur_id, func.max(func.coalesce(Match.ended_at, Match.started_at)).label("at"))
        .where(Match.status != "active")
        .group_by(Match.entrepreneur_id)
        .subquery()
    )
    open_request = (
        exists()
        .where(MatchRequest.entrepreneur_id == Entrepreneur.id, MatchRequest.status.in_(("draft", "pending")))
        .correlate(Entrepreneur)
    )
    rows = db.execute(
        select(
            Entrepreneur.kecamatan_code,
            Entrepreneur.created_at,
            first_request.c.at,
            last_end.c.at,
            open_request,
        )
        .outerjoin(first_request, first_request.c.entrepreneur_id == Entrepreneur.id)
        .outerjoin(last_end, last_end.c.entrepreneur_id == Entrepreneur.id)
        .where(Entrepreneur.id.not_in(active), _kota_filter(Entrepreneur.kecamatan_code, kota))
    )
    # One pass over the waiting entrepreneurs only: the medians need their day counts.
    waits: dict[str, list[int]] = defaultdict(list)
    with_request: dict[str, int] = defaultdict(int)
    for code, joined, first, ended, has_open in rows:
        waits[code].append(_wait_days(today, joined, first, ended))
        with_request[code] += bool(has_open)

    totals = dict(
        db.execute(
            select(Entrepreneur.kecamatan_code, func.count())
            .where(_kota_filter(Entrepreneur.kecamatan_code, kota))
            .group_by(Entrepreneur.kecamatan_code)
        ).all()
    )
    areas = db.execute(
        select(Kecamatan.code, Kecamatan.name, Kota.code, Kota.name)
        .join(Kota, Kota.code == Kecamatan.kota_code)
        .where(_kota_filter(Kecamatan.code, kota))
        .order_by(Kecamatan.code)
    )
    kecamatan = [
        KecamatanWaiting(
            code=code,
            name=name,
            kota_code=kota_code,
            kota=kota_name,
            entrepreneurs=totals.get(code, 0),
            waiting=len(waits.get(code, ())),
            waiting_with_open_request=with_request.get(code, 0),
            median_wait_days=_median(waits.get(code, [])),
        )
        for code, name, kota_code, kota_name in areas
    ]
    everyone = [d for days in waits.values() for d in days]
    return WaitingFigures(kecamatan=kecamatan, waiting=len(everyone), median_wait_days=_median(everyone))


def mentor_load_by_kota(db: Session, *, kota: str | None = None) -> list[MentorLoad]:
    """Every kota (or ``kota``) with its mentors by load, their places and mentees."""
    paused = case((Mentor.paused, 1), else_=0)
    full = case((and_(Mentor.paused.is_(False), Mentor.active_count >= Mentor.capacity), 1), else_=0)
    free = case((Mentor.paused, 0), else_=Mentor.capacity - Mentor.active_count)
    stmt = (
        select(
            Kota.code,
            Kota.name,
            func.count(Mentor.id),
            func.sum(full),
            func.sum(paused),
            func.sum(Mentor.capacity),
            func.sum(Mentor.active_count),
            func.sum(free),
        )
        .select_from(Kota)
        .join(Kecamatan, Kecamatan.kota_code == Kota.code)
        .outerjoin(Mentor, Mentor.kecamatan_code == Kecamatan.code)
        .group_by(Kota.code, Kota.name)
        .order_by(Kota.code)
    )
    if kota:
        stmt = stmt.where(Kota.code == kota)
    result = []
    for code, name, mentors, n_full, n_paused, capacity, active, free_places in db.execute(stmt):
        n_full, n_paused = int(n_full or 0), int(n_paused or 0)
        result.append(
            MentorLoad(
                kota_code=code,
                kota=name,
                mentors=mentors,
                available=mentors - n_full - n_paused,
                full=n_full,
                paused=n_paused,
                capacity=int(capacity or 0),
                active_mentees=int(active or 0),
                free_places=int(free_places or 0),
            )
        )
    return result


def acceptance_by_kota(
    db: Session, *, kota: str | None = None, now: dt.datetime | None = None, days: int = ACCEPTANCE_DAYS
) -> list[Acceptance]:
    """Requests answered (accepted or declined) in the last ``days`` days, by the mentor's kota."""
    since = (now or utcnow()) - dt.timedelta(days=days)
    answered = (
        select(
            Kecamatan.kota_code.label("kota_code"),
            func.count().label("answered"),
            func.sum(case((MatchRequest.status == "accepted", 1), else_=0)).label("accepted"),
        )
        .select_from(MatchRequest)
        .join(Mentor, Mentor.id == MatchRequest.mentor_id)
        .join(Kecamatan, Kecamatan.code == Mentor.kecamatan_code)
        .where(MatchRequest.status.in_(("accepted", "declined")), MatchRequest.responded_at >= since)
        .group_by(Kecamatan.kota_code)
        .subquery()
    )
    stmt = (
        select(Kota.code, Kota.name, answered.c.answered, answered.c.accepted)
        .outerjoin(answered, answered.c.kota_code == Kota.code)
        .order_by(Kota.code)
    )
    if kota:
        stmt = stmt.where(Kota.code == kota)
    result = []
    for code, name, n_answered, n_accepted in db.execute(stmt):
        n_answered, n_accepted = int(n_answered or 0), int(n_accepted or 0)
        result.append(Acceptance(code, name, n_answered, n_accepted, n_answered - n_accepted))
    return result


def _week_starts(now: dt.datetime | None, weeks: int) -> list[dt.date]:
    """The Mondays of the last ``weeks`` ISO weeks in Jakarta time, oldest first (this week last)."""
    today = _today(now)
    monday = today - dt.timedelta(days=today.weekday())
    return [monday - dt.timedelta(weeks=k) for k in range(weeks - 1, -1, -1)]


def _jakarta_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=JAKARTA).astimezone(dt.UTC)


def matches_per_week(
    db: Session, *, kota: str | None = None, now: dt.datetime | None = None, weeks: int = WEEKS
) -> list[WeekCount]:
    """Mentorships started in each of the last ``weeks`` ISO weeks, by the entrepreneur's kota."""
    mondays = _week_starts(now, weeks)
    bounds = [_jakarta_midnight(d) for d in [*mondays, mondays[-1] + dt.timedelta(weeks=1)]]
    counts = [
        func.sum(case((and_(Match.started_at >= lo, Match.started_at < hi), 1), else_=0))
        for lo, hi in zip(bounds, bounds[1:], strict=False)
    ]
    row = db.execute(
        select(*counts)
        .select_from(Match)
        .join(Entrepreneur, Entrepreneur.id == Match.entrepreneur_id)
        .where(
            Match.started_at >= bounds[0],
            Match.started_at < bounds[-1],
            _kota_filter(Entrepreneur.kecamatan_code, kota),
        )
    ).one()
    return [WeekCount(day, int(n or 0)) for day, n in zip(mondays, row, strict=True)]


def sessions_held_per_week(
    db: Session, *, kota: str | None = None, now: dt.datetime | None = None, weeks: int = WEEKS
) -> list[WeekCount]:
    """Mentoring sessions held in each of the last ``weeks`` ISO weeks, by the entrepreneur's kota."""
    mondays = _week_starts(now, weeks)
    held = dict(
        db.execute(
            select(MentoringSession.week_start, func.count())
            .join(Match, Match.id == MentoringSession.match_id)
            .join(Entrepreneur, Entrepreneur.id == Match.entrepreneur_id)
            .where(
                MentoringSession.status == "held",
                MentoringSession.week_start >= mondays[0],
                MentoringSession.week_start <= mondays[-1],
                _kota_filter(Entrepreneur.kecamatan_code, kota),
            )
            .group_by(MentoringSession.week_start)
        ).all()
    )
    return [WeekCount(day, held.get(day, 0)) for day in mondays]


def pas_by_kota(db: Session, *, kota: str | None = None) -> list[PasRow]:
    """Every kota (or ``kota``): its entrepreneurs and how many reached each 7 PAS step."""
    totals = dict(
        db.execute(
            select(Kecamatan.kota_code, func.count())
            .select_from(Entrepreneur)
            .join(Kecamatan, Kecamatan.code == Entrepreneur.kecamatan_code)
            .group_by(Kecamatan.kota_code)
        ).all()
    )
    reached: dict[tuple[str, str], int] = {
        (k, step): n
        for k, step, n in db.execute(
            select(
                Kecamatan.kota_code,
                PasProgress.step_code,
                func.count(func.distinct(PasProgress.entrepreneur_id)),
            )
            .select_from(PasProgress)
            .join(Entrepreneur, Entrepreneur.id == PasProgress.entrepreneur_id)
            .join(Kecamatan, Kecamatan.code == Entrepreneur.kecamatan_code)
            .group_by(Kecamatan.kota_code, PasProgress.step_code)
        )
    }
    return [
        PasRow(code, name, totals.get(code, 0), tuple(reached.get((code, s), 0) for s in PAS_STEPS))
        for code, name in kota_options(db)
        if not kota or code == kota
    ]


def _jakarta_local(db: Session, column: ColumnElement) -> ColumnElement:
    """A UTC timestamp column as Jakarta wall-clock time, in this database's dialect."""
    if db.get_bind().dialect.name == "postgresql":
        return func.timezone("Asia/Jakarta", column)
    return func.datetime(column, "+7 hours")


def _cohort(year: int | float, month: int | float) -> str:
    return f"{int(year)}-Q{(int(month) - 1) // 3 + 1}"


def pas_by_cohort(db: Session, *, kota: str | None = None) -> list[PasRow]:
    """Cohorts (year-quarter of joining, oldest first) with how many reached each 7 PAS step."""
    local = _jakarta_local(db, Entrepreneur.created_at)
    year, month = extract("year", local), extract("month", local)
    where = _kota_filter(Entrepreneur.kecamatan_code, kota)
    totals: dict[str, int] = defaultdict(int)
    for y, m, n in db.execute(select(year, month, func.count()).where(where).group_by(year, month)):
        totals[_cohort(y, m)] += n
    reached: dict[tuple[str, str], int] = defaultdict(int)
    for y, m, step, n in db.execute(
        select(year, month, PasProgress.step_code, func.count())
        .select_from(PasProgress)
        .join(Entrepreneur, Entrepreneur.id == PasProgress.entrepreneur_id)
        .where(where)
        .group_by(year, month, PasProgress.step_code)
    ):
        reached[(_cohort(y, m), step)] += n
    return [
        PasRow(cohort, cohort, totals[cohort], tuple(reached.get((cohort, s), 0) for s in PAS_STEPS))
        for cohort in sorted(totals)
    ]


# --------------------------------------------------------------------------- CSV downloads


def _number(value: float | None) -> str:
    """A number for CSV: integers without a decimal point, blanks for None."""
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _waiting_csv(db: Session, kota: str | None, now: dt.datetime | None) -> list[list]:
    return [
        [
            r.code,
            r.name,
            r.kota_code,
            r.kota,
            r.entrepreneurs,
            r.waiting,
            r.waiting_with_open_request,
            _number(r.median_wait_days),
        ]
        for r in waiting_by_kecamatan(db, kota=kota, now=now).kecamatan
    ]


def _mentor_csv(db: Session, kota: str | None, now: dt.datetime | None) -> list[list]:
    return [
        [
            r.kota_code,
            r.kota,
            r.mentors,
            r.available,
            r.full,
            r.paused,
            r.capacity,
            r.active_mentees,
            r.free_places,
        ]
        for r in mentor_load_by_kota(db, kota=kota)
    ]


def _acceptance_csv(db: Session, kota: str | None, now: dt.datetime | None) -> list[list]:
    return [
        [r.kota_code, r.kota, r.answered, r.accepted, r.declined, "" if r.rate is None else f"{r.rate:.3f}"]
        for r in acceptance_by_kota(db, kota=kota, now=now)
    ]


def _weeks_csv(figure: Callable[..., list[WeekCount]]) -> Callable[..., list[list]]:
    def rows(db: Session, kota: str | None, now: dt.datetime | None) -> list[list]:
        return [[w.week_start.isoformat(), w.iso_week, w.count] for w in figure(db, kota=kota, now=now)]

    return rows


def _pas_csv(figure: Callable[..., list[PasRow]], with_label: bool) -> Callable[..., list[list]]:
    def rows(db: Session, kota: str | None, now: dt.datetime | None) -> list[list]:
        return [
            [r.key, *([r.label] if with_label else []), r.entrepreneurs, *r.reached]
            for r in figure(db, kota=kota)
        ]

    return rows


_PAS_COLUMNS = ("entrepreneurs", *(f"reached_{s.lower()}" for s in PAS_STEPS))

#: Each downloadable figure: its CSV columns (stable, English snake_case) and how its rows are made.
FIGURES: dict[
    str, tuple[tuple[str, ...], Callable[[Session, str | None, dt.datetime | None], list[list]]]
] = {
    "waiting_by_kecamatan": (
        (
            "kecamatan_code",
            "kecamatan",
            "kota_code",
            "kota",
            "entrepreneurs",
            "waiting",
            "waiting_with_open_request",
            "median_wait_days",
        ),
        _waiting_csv,
    ),
    "mentor_load_by_kota": (
        (
            "kota_code",
            "kota",
            "mentors",
            "available",
            "full",
            "paused",
            "capacity",
            "active_mentees",
            "free_places",
        ),
        _mentor_csv,
    ),
    "acceptance_by_kota": (
        ("kota_code", "kota", "answered", "accepted", "declined", "acceptance_rate"),
        _acceptance_csv,
    ),
    "matches_per_week": (("week_start", "iso_week", "matches_started"), _weeks_csv(matches_per_week)),
    "sessions_per_week": (("week_start", "iso_week", "sessions_held"), _weeks_csv(sessions_held_per_week)),
    "pas_by_kota": (("kota_code", "kota", *_PAS_COLUMNS), _pas_csv(pas_by_kota, with_label=True)),
    "pas_by_cohort": (("cohort", *_PAS_COLUMNS), _pas_csv(pas_by_cohort, with_label=False)),
}


def figure_csv(db: Session, figure: str, *, kota: str | None = None, now: dt.datetime | None = None) -> str:
    """One figure as CSV text with its documented header; ``KeyError`` for an unknown figure."""
    columns, make_rows = FIGURES[figure]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(make_rows(db, kota, now))
    return out.getvalue()


# --------------------------------------------------------------------------- map geometry


@dataclass(frozen=True)
class MapShape:
    """One kecamatan outline projected to SVG user units, as a path ``d`` attribute."""

    code: str
    name: str
    d: str
    inset: bool


@dataclass(frozen=True)
class KecamatanMap:
    """The projected outlines of Jakarta's kecamatan: the mainland, and Kepulauan Seribu in an inset."""

    width: float
    height: float
    shapes: tuple[MapShape, ...]
    #: The inset frame (x, y, width, height) holding Kepulauan Seribu.
    inset_box: tuple[float, float, float, float]


def _projector(features: list[dict], box: tuple[float, float, float, float]) -> Callable[[float, float], str]:
    """An equirectangular projection (longitudes scaled by cos of the mean latitude) fitting ``box``."""
    points = [p for f in features for poly in f["geometry"]["coordinates"] for ring in poly for p in ring]
    lon0, lon1 = min(p[0] for p in points), max(p[0] for p in points)
    lat0, lat1 = min(p[1] for p in points), max(p[1] for p in points)
    k = math.cos(math.radians((lat0 + lat1) / 2))
    x, y, w, h = box
    scale = min(w / ((lon1 - lon0) * k), h / (lat1 - lat0))
    dx = x + (w - (lon1 - lon0) * k * scale) / 2
    dy = y + (h - (lat1 - lat0) * scale) / 2

    def project(lon: float, lat: float) -> str:
        return f"{dx + (lon - lon0) * k * scale:.1f},{dy + (lat1 - lat) * scale:.1f}"

    return project


def _path(feature: dict, project: Callable[[float, float], str]) -> str:
    parts = []
    for polygon in feature["geometry"]["coordinates"]:
        for ring in polygon:
            parts.append("M" + "L".join(project(lon, lat) for lon, lat in ring[:-1]) + "Z")
    return "".join(parts)


@cache
def kecamatan_map(width: float = 490, height: float = 420) -> KecamatanMap:
    """Jakarta's kecamatan projected once per process (the outlines are static)."""
    features = json.loads(GEOJSON.read_text(encoding="utf-8"))["features"]
    islands = [f for f in features if f["properties"]["code"].startswith(ISLANDS_KOTA + ".")]
    mainland = [f for f in features if f not in islands]
    inset_box = (2.0, 2.0, 80.0, 170.0)
    main_project = _projector(mainland, (inset_box[2] + 10, 4.0, width - inset_box[2] - 14, height - 8.0))
    island_project = _projector(
        islands, (inset_box[0] + 6, inset_box[1] + 22, inset_box[2] - 12, inset_box[3] - 28)
    )
    shapes = [
        MapShape(f["properties"]["code"], f["properties"]["name"], _path(f, island_project), True)
        for f in islands
    ] + [
        MapShape(f["properties"]["code"], f["properties"]["name"], _path(f, main_project), False)
        for f in mainland
    ]
    return KecamatanMap(width, height, tuple(shapes), inset_box)
