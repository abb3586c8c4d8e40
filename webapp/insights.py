"""Programme insights for staff: the waiting list by kecamatan (table, chart, map), mentor load, weekly
activity and 7 PAS progress, each figure downloadable as CSV. Charts are server-rendered SVG."""

from __future__ import annotations

import math
from dataclasses import dataclass

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _

from models import Role
from webapp.access import roles
from webapp.database import get_db
from webapp.services import insights

bp = Blueprint("insights", __name__, url_prefix="/staff/insights")

#: Map shades from few to many waiting; zero waiting and kecamatan outside the filter have their own.
SHADES = ("#fdd49e", "#fdbb84", "#fc8d59", "#d7301f")
SHADE_ZERO = "#d9efe6"
SHADE_OUTSIDE = "#f1f2f4"
TOP_BARS = 15
SORT_KEYS = {
    "kecamatan": lambda r: r.name,
    "kota": lambda r: (r.kota, r.name),
    "entrepreneurs": lambda r: r.entrepreneurs,
    "waiting": lambda r: r.waiting,
    "open": lambda r: r.waiting_with_open_request,
    "median": lambda r: -1 if r.median_wait_days is None else r.median_wait_days,
}


@dataclass(frozen=True)
class Shade:
    """One legend class of the map: waiting counts ``lo``..``hi`` drawn in ``color``."""

    lo: int
    hi: int
    color: str


def shade_scale(most: int) -> list[Shade]:
    """Legend classes: zero, then up to four equal steps up to ``most``."""
    scale = [Shade(0, 0, SHADE_ZERO)]
    if most <= 0:
        return scale
    step = max(1, math.ceil(most / len(SHADES)))
    lo = 1
    for color in SHADES:
        if lo > most:
            break
        hi = min(most, lo + step - 1)
        scale.append(Shade(lo, hi, color))
        lo = hi + 1
    return scale


def shade_of(value: int, scale: list[Shade]) -> str:
    """The map colour of a waiting count."""
    for shade in scale:
        if shade.lo <= value <= shade.hi:
            return shade.color
    return scale[-1].color


def days_text(days: float | None) -> str:
    """A median in days for people: ``12``, ``12.5`` or a dash."""
    if days is None:
        return "–"
    return str(int(days)) if float(days).is_integer() else f"{days:.1f}"


def _kota_arg(options: list[tuple[str, str]]) -> str | None:
    kota = request.args.get("kota") or None
    return kota if kota in {code for code, _name in options} else None


def _map_titles(rows: list[insights.KecamatanWaiting]) -> dict[str, str]:
    titles = {}
    for r in rows:
        if r.median_wait_days is None:
            titles[r.code] = _("%(name)s (%(kota)s): %(n)d menunggu", name=r.name, kota=r.kota, n=r.waiting)
        else:
            titles[r.code] = _(
                "%(name)s (%(kota)s): %(n)d menunggu, median %(days)s hari",
                name=r.name,
                kota=r.kota,
                n=r.waiting,
                days=days_text(r.median_wait_days),
            )
    return titles


@bp.get("")
@roles(Role.STAFF)
def index():
    """The dashboard a programme manager reads at a glance, filtered by kota."""
    db = get_db()
    options = insights.kota_options(db)
    kota = _kota_arg(options)
    sort = request.args.get("sort") if request.args.get("sort") in SORT_KEYS else "waiting"
    descending = request.args.get(
        "dir", "desc" if sort in ("waiting", "median", "entrepreneurs", "open") else "asc"
    )
    descending = descending == "desc"

    waiting = insights.waiting_by_kecamatan(db, kota=kota)
    table = sorted(waiting.kecamatan, key=lambda r: r.name)
    table.sort(key=SORT_KEYS[sort], reverse=descending)
    bars = sorted(waiting.kecamatan, key=lambda r: (-r.waiting, r.name))[:TOP_BARS]
    scale = shade_scale(max((r.waiting for r in waiting.kecamatan), default=0))
    by_code = {r.code: r for r in waiting.kecamatan}
    fills = {code: shade_of(r.waiting, scale) for code, r in by_code.items()}

    mentors = insights.mentor_load_by_kota(db, kota=kota)
    acceptance = insights.acceptance_by_kota(db, kota=kota)
    answered = sum(a.answered for a in acceptance)
    accepted = sum(a.accepted for a in acceptance)
    matches = insights.matches_per_week(db, kota=kota)
    sessions = insights.sessions_held_per_week(db, kota=kota)
    lang = str(get_locale() or "id")
    steps = [
        (code, name_id if lang == "id" else name_en) for code, name_id, name_en in insights.pas_step_names(db)
    ]
    return render_template(
        "insights/index.html",
        options=options,
        kota=kota,
        kota_name=dict(options).get(kota or ""),
        sort=sort,
        descending=descending,
        waiting=waiting,
        table=table,
        bars=bars,
        bar_max=max((r.waiting for r in bars), default=0),
        kmap=insights.kecamatan_map(),
        fills=fills,
        outside=SHADE_OUTSIDE,
        titles=_map_titles(waiting.kecamatan),
        scale=scale,
        mentors=mentors,
        mentor_total={
            f: sum(getattr(m, f) for m in mentors)
            for f in ("mentors", "available", "full", "paused", "capacity", "active_mentees", "free_places")
        },
        acceptance=acceptance,
        acceptance_rate=accepted / answered if answered else None,
        answered=answered,
        accepted=accepted,
        matches=matches,
        sessions=sessions,
        pas_kota=insights.pas_by_kota(db, kota=kota),
        pas_cohort=insights.pas_by_cohort(db, kota=kota),
        steps=steps,
        figures=insights.FIGURES,
        days_text=days_text,
        acceptance_days=insights.ACCEPTANCE_DAYS,
    )


@bp.get("/<figure>.csv")
@roles(Role.STAFF)
def download(figure: str):
    """One figure as CSV (columns documented on the page), filtered by ``?kota=`` like the page."""
    if figure not in insights.FIGURES:
        abort(404)
    db = get_db()
    kota = _kota_arg(insights.kota_options(db))
    text = insights.figure_csv(db, figure, kota=kota)
    name = f"{figure}-{kota}.csv" if kota else f"{figure}.csv"
    return Response(
        text, mimetype="text/csv", headers={"Content-Disposition": f"attachment; filename={name}"}
    )
