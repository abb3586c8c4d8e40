"""Weekly session proposals: one session per mentor pair, as many pairs as possible, exact via CP-SAT.

The model
---------
Every pair gets *options*: a start time on a 30-minute grid (plus the start of each common window
when it is off the grid) that lies inside one window of each person, on no holiday or cuti bersama
day and clear of Friday prayer, combined with a place: online (when both modes allow it) or one of
the rooms in the entrepreneur's or the mentor's kecamatan (when both modes allow meeting in person
and the room is open). The solver picks at most one option per pair such that nobody is in two
sessions at once and no room holds more sessions than its capacity at any moment, maximising first
the number of pairs placed and then the preference score (in person in the entrepreneur's
kecamatan, then in the mentor's, then online; the pair's usual start time).

Pairs are split into independent components (shared people, shared rooms whose demand can exceed
their capacity). A component whose greedy solution reaches its trivial upper bound (every pair
placed at its best option) is optimal as it stands; any other component is solved with CP-SAT
(one worker, fixed seed, deterministic time limit, greedy hint), so the same input always gives the
same output, and the objective bound of every component is logged.
"""

from __future__ import annotations

import argparse
import bisect
import csv
import datetime as dt
import io
import logging
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import holidays
import numpy as np
from ortools.sat.python import cp_model
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_flow

from matching.csvio import (
    PAIR,
    InputFileError,
    RowError,
    read_entrepreneurs,
    read_file,
    read_mentors,
    read_rooms,
    write_csv_atomic,
)
from matching.profiles import Entrepreneur, Mentor, Pair, Room, Window

log = logging.getLogger(__name__)

#: Jakarta local time (WIB), UTC+7 all year.
WIB = dt.timezone(dt.timedelta(hours=7), "WIB")
#: Spacing of candidate start times in minutes.
GRID_MINUTES = 30
#: Friday prayer, minutes since midnight: no session may overlap it.
FRIDAY_PRAYER = (11 * 60 + 30, 13 * 60)
FRIDAY = 4
DAY_MINUTES = 24 * 60
WEEK_MINUTES = 7 * DAY_MINUTES

#: Preference scores (secondary to the number of pairs placed).
SCORE_ROOM_ENTREPRENEUR = 4
SCORE_ROOM_MENTOR = 2
SCORE_ONLINE = 0
SCORE_USUAL_TIME = 3
SCORE_NEAR_USUAL_TIME = 2
SCORE_SAME_DAY = 1
MAX_SCORE = SCORE_ROOM_ENTREPRENEUR + SCORE_USUAL_TIME

SCHEDULE_COLUMNS = ("entrepreneur_id", "mentor_id", "start", "end", "mode", "room_id", "reason")

_WEEK_RE = re.compile(r"^\s*(\d{4})-?W(\d{1,2})\s*$", re.IGNORECASE)

#: Reason codes of unplaced pairs with their English phrasing (``{}`` fields from ``Unplaced.params``).
REASONS: dict[str, str] = {
    "unknown_entrepreneur": "entrepreneur {entrepreneur_id} is not known",
    "unknown_mentor": "mentor {mentor_id} is not known",
    "duplicate_pair": "the pair is listed more than once; its one session is proposed on its first row",
    "incompatible_modes": "one of them meets only in person and the other only online",
    "no_common_time": "they have no common free time of {minutes} minutes in their weekly availability",
    "holiday_week": "all their common free time falls on holidays ({holidays})",
    "friday_prayer": "their only common free time overlaps Friday prayer (11:30-13:00)",
    "no_time_left": "all their common free times are already booked or were declined",
    "no_room_nearby": "they meet only in person and there is no room in either of their kecamatan",
    "room_closed": "they meet only in person and no room in their kecamatan is open at their common times",
    "rooms_full": "every room in their kecamatan is full at all their common times",
    "person_busy": "at all their common times one of them is in another session",
    "no_free_slot": "at all their common times a room is full or one of them is in another session",
}


@dataclass(frozen=True, slots=True)
class ProposedSession:
    """One proposed session: ``start``/``end`` aware (+07:00); ``room_id`` is None online."""

    entrepreneur_id: str
    mentor_id: str
    start: dt.datetime
    end: dt.datetime
    mode: str
    room_id: str | None = None


@dataclass(frozen=True, slots=True)
class Unplaced:
    """A pair that got no session, with a stable ``code`` (for translation) and an English ``reason``."""

    entrepreneur_id: str
    mentor_id: str
    code: str
    reason: str
    params: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class ComponentResult:
    """How one independent component was solved: sizes, method, status, objective and bound."""

    pairs: int
    options: int
    method: str
    status: str
    placed: int
    placed_bound: int
    objective: int
    objective_bound: int


@dataclass(frozen=True, slots=True)
class ScheduleStats:
    """Totals of one run; ``upper_bound`` is a proven upper bound on the pairs any schedule can place."""

    pairs: int
    placed: int
    online: int
    offline: int
    upper_bound: int
    components: int
    components_by_method: dict[str, int]
    components_by_status: dict[str, int]
    largest_component: int
    seconds: float

    @property
    def gap(self) -> int:
        """Pairs that an optimal schedule could place at most beyond this one (0 = proven optimal)."""
        return self.upper_bound - self.placed


@dataclass(frozen=True, slots=True)
class WeekSchedule:
    """The proposal for one ISO week: sessions, unplaced pairs with reasons, and run statistics."""

    monday: dt.date
    sessions: list[ProposedSession]
    unplaced: list[Unplaced]
    stats: ScheduleStats
    blocked: dict[dt.date, str] = field(default_factory=dict)


# --- the calendar ---------------------------------------------------------------------------------


def parse_iso_week(text: str) -> dt.date:
    """The Monday of an ISO week written like ``2026-W49``; ``ValueError`` when it is not one."""
    m = _WEEK_RE.match(text or "")
    if not m:
        raise ValueError(f"{text!r} is not an ISO week like 2026-W49")
    year, week = int(m.group(1)), int(m.group(2))
    try:
        return dt.date.fromisocalendar(year, week, 1)
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO week: {year} has no week {week}") from None


@lru_cache(maxsize=64)
def _holidays(years: tuple[int, ...]) -> holidays.HolidayBase:
    return holidays.country_holidays("ID", years=years, categories=("public", "government"))


def blocked_days(monday: dt.date) -> dict[dt.date, str]:
    """Indonesian public holidays and cuti bersama days in the week starting ``monday``, with names."""
    days = [monday + dt.timedelta(days=i) for i in range(7)]
    cal = _holidays(tuple(sorted({d.year for d in days})))
    return {d: str(cal.get(d)) for d in days if d in cal}


def _to_monday(week: str | dt.date) -> dt.date:
    if isinstance(week, dt.datetime):
        week = week.date()
    if isinstance(week, dt.date):
        return week - dt.timedelta(days=week.weekday())
    return parse_iso_week(week)


def _week_minute(moment: dt.datetime, monday: dt.date) -> int:
    """Minutes since Monday 00:00 WIB of ``moment`` (naive datetimes are taken as WIB)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=WIB)
    local = moment.astimezone(WIB)
    delta = local.replace(tzinfo=None) - dt.datetime.combine(monday, dt.time())
    return int(delta.total_seconds() // 60)


def _moment(monday: dt.date, week_minute: int) -> dt.datetime:
    return dt.datetime.combine(monday, dt.time(), tzinfo=WIB) + dt.timedelta(minutes=week_minute)


# --- options ----------------------------------------------------------------------------------------


def _by_day(windows: Iterable[Window]) -> dict[int, list[tuple[int, int]]]:
    out: dict[int, list[tuple[int, int]]] = {}
    for w in windows:
        out.setdefault(w.day, []).append((w.start, w.end))
    return {d: sorted(set(v)) for d, v in out.items()}


def _overlaps_any(start: int, end: int, intervals: Sequence[tuple[int, int]]) -> bool:
    return any(a < end and start < b for a, b in intervals)


def _common_starts(e_days: dict, m_days: dict, minutes: int) -> list[int]:
    """Week minutes where a session fits inside one window of each person (grid + window starts)."""
    starts: set[int] = set()
    for day, e_wins in e_days.items():
        m_wins = m_days.get(day)
        if not m_wins:
            continue
        base = day * DAY_MINUTES
        for a1, b1 in e_wins:
            for a2, b2 in m_wins:
                a, b = max(a1, a2), min(b1, b2)
                if b - a < minutes:
                    continue
                starts.add(base + a)
                g = -(-a // GRID_MINUTES) * GRID_MINUTES
                while g + minutes <= b:
                    starts.add(base + g)
                    g += GRID_MINUTES
    return sorted(starts)


@dataclass
class _RoomInfo:
    index: int
    room: Room
    days: dict[int, list[tuple[int, int]]]
    busy_load: np.ndarray | None  # external bookings per week minute, or None


class _Problem:
    """Options of every schedulable pair, the people and rooms they use, in flat lists."""

    def __init__(self, minutes: int) -> None:
        self.minutes = minutes
        self.tasks: list[int] = []  # output slot of each schedulable pair
        self.task_people: list[tuple[int, int]] = []
        self.task_options: list[list[int]] = []
        self.task_offline_only: list[bool] = []
        self.opt_task: list[int] = []
        self.opt_start: list[int] = []
        self.opt_room: list[int] = []  # -1 = online
        self.opt_score: list[int] = []


def _time_score(start: int, preferred: tuple[int, int] | None) -> int:
    if preferred is None:
        return 0
    day, minute = start // DAY_MINUTES, start % DAY_MINUTES
    if day != preferred[0]:
        return 0
    gap = abs(minute - preferred[1])
    if gap == 0:
        return SCORE_USUAL_TIME
    return SCORE_NEAR_USUAL_TIME if gap <= 60 else SCORE_SAME_DAY


def _room_fits(info: _RoomInfo, start: int, minutes: int) -> bool:
    day, a = divmod(start, DAY_MINUTES)
    if not any(s <= a and a + minutes <= e for s, e in info.days.get(day, ())):
        return False
    if info.busy_load is not None:
        return bool((info.busy_load[start : start + minutes] < info.room.capacity).all())
    return True


# --- solving ------------------------------------------------------------------------------------------


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        parent = self.parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(self, i: int, j: int) -> None:
        ri, rj = self.find(i), self.find(j)
        if ri != rj:
            if ri < rj:
                self.parent[rj] = ri
            else:
                self.parent[ri] = rj


def _cliques(items: list[tuple[int, int]], minutes: int) -> list[list[int]]:
    """Maximal groups of equal-length (start, option) intervals that share a moment (sorts ``items``)."""
    items.sort()
    starts = [s for s, _ in items]
    groups: list[list[int]] = []
    last_hi = -1
    for point in sorted(set(starts)):
        lo = bisect.bisect_right(starts, point - minutes)  # intervals covering ``point``: (point-m, point]
        hi = bisect.bisect_right(starts, point)
        if hi - lo >= 2 and hi > last_hi:
            groups.append([o for _, o in items[lo:hi]])
            last_hi = hi
    return groups


#: Components with more options than this are solved in two steps: the number of pairs placed first
#: (online-capable pairs online, so rooms only link pairs that must meet in person), then a greedy
#: pass that moves sessions to better places (rooms near the entrepreneur) without losing any.
FULL_MODEL_OPTIONS = 40_000
#: In that count step, an in-person-only pair keeps at most this many options (its best, spread
#: over the week); the bound reported still holds for all of its options.
COUNT_MODEL_OPTIONS = 16

_Groups = list[tuple[list[int], int]]


class _Solver:
    """Solves the components of a ``_Problem`` (greedy certificate first, CP-SAT where needed)."""

    def __init__(self, problem: _Problem, rooms: list[_RoomInfo], time_limit: float, method: str) -> None:
        self.p = problem
        self.rooms = rooms
        self.time_limit = time_limit
        self.method = method
        self.chosen: dict[int, int] = {}  # task -> option
        self.results: list[ComponentResult] = []
        self.total_options = max(1, len(problem.opt_task))

    # components ---------------------------------------------------------------------------------
    def components(self, tasks: list[int], opts: dict[int, list[int]]) -> list[tuple[list[int], _Groups]]:
        """Independent groups of ``tasks`` (linked by a person or a room that can be overfilled).

        Each comes with the room constraints it needs: (options sharing a moment, free capacity).
        """
        p = self.p
        index = {t: i for i, t in enumerate(tasks)}
        uf = _UnionFind(len(tasks))
        first_of_person: dict[int, int] = {}
        for i, t in enumerate(tasks):
            for who in p.task_people[t]:
                other = first_of_person.setdefault(who, i)
                if other != i:
                    uf.union(other, i)
        by_room: dict[int, list[tuple[int, int]]] = {}
        for t in tasks:
            for o in opts[t]:
                r = p.opt_room[o]
                if r >= 0:
                    by_room.setdefault(r, []).append((p.opt_start[o], o))
        room_groups: list[_Groups] = []
        for r in sorted(by_room):
            items = by_room[r]
            groups = self._room_binding_groups(r, items)
            if groups:
                local = sorted({index[p.opt_task[o]] for _, o in items})
                for i in local[1:]:
                    uf.union(local[0], i)
                room_groups.append(groups)
        comps: dict[int, list[int]] = {}
        for i, t in enumerate(tasks):
            comps.setdefault(uf.find(i), []).append(t)
        comp_groups: dict[int, _Groups] = {}
        for groups in room_groups:
            root = uf.find(index[p.opt_task[groups[0][0][0]]])
            comp_groups.setdefault(root, []).extend(groups)
        return [(comps[root], comp_groups.get(root, [])) for root in sorted(comps, key=lambda k: comps[k][0])]

    def _room_binding_groups(self, r: int, items: list[tuple[int, int]]) -> _Groups:
        """Groups of a room's options sharing a moment where they could exceed its free capacity there."""
        info = self.rooms[r]
        cap = info.room.capacity
        m = self.p.minutes
        items.sort()
        starts = [s for s, _ in items]
        points = sorted(set(starts) | set(self._busy_starts(info)))
        groups: _Groups = []
        last_hi = -1
        for point in points:
            lo = bisect.bisect_right(starts, point - m)
            hi = bisect.bisect_right(starts, point)
            if hi <= lo:
                continue
            free = cap - (int(info.busy_load[point]) if info.busy_load is not None else 0)
            if info.busy_load is None and hi <= last_hi:
                continue  # a subset of the previous group, with the same capacity
            if len({self.p.opt_task[o] for _, o in items[lo:hi]}) > free:
                groups.append(([o for _, o in items[lo:hi]], free))
                last_hi = hi
        return groups

    @staticmethod
    def _busy_starts(info: _RoomInfo) -> list[int]:
        if info.busy_load is None:
            return []
        rises = np.flatnonzero(np.diff(info.busy_load, prepend=0) > 0)
        return [int(x) for x in rises]

    def _room_load(self, r: int) -> np.ndarray:
        info = self.rooms[r]
        if info.busy_load is not None:
            return info.busy_load.astype(np.int32)
        return np.zeros(WEEK_MINUTES + DAY_MINUTES, np.int32)

    # greedy ---------------------------------------------------------------------------------------
    def greedy(self, comp: list[int], opts: dict[int, list[int]]) -> dict[int, int]:
        """Most-constrained pair first, each at its best free option; deterministic."""
        p = self.p
        m = p.minutes
        order = sorted(comp, key=lambda t: (len(opts[t]), t))
        person_busy: dict[int, list[int]] = {}
        room_load: dict[int, np.ndarray] = {}
        chosen: dict[int, int] = {}
        for t in order:
            e, mm = p.task_people[t]
            be, bm = person_busy.get(e, ()), person_busy.get(mm, ())
            for o in sorted(opts[t], key=lambda o: (-p.opt_score[o], p.opt_start[o], o)):
                s = p.opt_start[o]
                if any(abs(s - x) < m for x in be) or any(abs(s - x) < m for x in bm):
                    continue
                r = p.opt_room[o]
                if r >= 0:
                    load = room_load.get(r)
                    if load is None:
                        load = room_load[r] = self._room_load(r)
                    if load[s : s + m].max() >= self.rooms[r].room.capacity:
                        continue
                    load[s : s + m] += 1
                chosen[t] = o
                person_busy.setdefault(e, []).append(s)
                person_busy.setdefault(mm, []).append(s)
                break
        return chosen

    def upgrade(self, comp: list[int]) -> int:
        """Move sessions of ``comp`` to better-scored options that are still free; returns the moves."""
        p = self.p
        m = p.minutes
        person_busy: dict[int, list[int]] = {}
        room_load: dict[int, np.ndarray] = {}
        for t in comp:
            o = self.chosen.get(t)
            if o is None:
                continue
            for who in p.task_people[t]:
                person_busy.setdefault(who, []).append(p.opt_start[o])
            r = p.opt_room[o]
            if r >= 0:
                if r not in room_load:
                    room_load[r] = self._room_load(r)
                room_load[r][p.opt_start[o] : p.opt_start[o] + m] += 1
        moves = 0
        for t in comp:
            cur = self.chosen.get(t)
            if cur is None:
                continue
            better = [o for o in p.task_options[t] if p.opt_score[o] > p.opt_score[cur]]
            if not better:
                continue
            s0, r0 = p.opt_start[cur], p.opt_room[cur]
            e, mm = p.task_people[t]
            person_busy[e].remove(s0)
            person_busy[mm].remove(s0)
            if r0 >= 0:
                room_load[r0][s0 : s0 + m] -= 1
            new = cur
            for o in sorted(better, key=lambda o: (-p.opt_score[o], p.opt_start[o], o)):
                s, r = p.opt_start[o], p.opt_room[o]
                if any(abs(s - x) < m for x in person_busy[e]) or any(
                    abs(s - x) < m for x in person_busy[mm]
                ):
                    continue
                if r >= 0:
                    if r not in room_load:
                        room_load[r] = self._room_load(r)
                    if room_load[r][s : s + m].max() >= self.rooms[r].room.capacity:
                        continue
                new = o
                break
            s, r = p.opt_start[new], p.opt_room[new]
            person_busy[e].append(s)
            person_busy[mm].append(s)
            if r >= 0:
                room_load[r][s : s + m] += 1
            if new != cur:
                self.chosen[t] = new
                moves += 1
        return moves

    # exact ----------------------------------------------------------------------------------------
    def solve(self) -> None:
        """Solve every component and fill ``chosen`` and ``results``."""
        p = self.p
        tasks = list(range(len(p.tasks)))
        opts = {t: p.task_options[t] for t in tasks}
        for comp, groups in self.components(tasks, opts):
            n_opts = sum(len(opts[t]) for t in comp)
            if n_opts <= FULL_MODEL_OPTIONS or self.method == "greedy":
                self._solve_component(comp, opts, groups, "")
                continue
            # count first: online-capable pairs online, so that rooms link only in-person-only pairs
            count_opts = {
                t: self._sample(opts[t])
                if p.task_offline_only[t]
                else [o for o in opts[t] if p.opt_room[o] < 0]
                for t in comp
            }
            log.info(
                "component of %d pairs, %d options: solving the count on a reduced model", len(comp), n_opts
            )
            count_total = max(1, sum(len(x) for x in count_opts.values()))
            for sub, sub_groups in self.components(comp, count_opts):
                share = self.time_limit * sum(len(count_opts[t]) for t in sub) / count_total
                self._solve_component(sub, count_opts, sub_groups, " (count), greedy places", share)
                res = self.results[-1]
                if res.placed < res.placed_bound and sub_groups:
                    bound = min(res.placed_bound, self.flow_bound(sub, opts))
                    log.info("flow bound of %d pairs: %d placed, at most %d", len(sub), res.placed, bound)
                    self.results[-1] = ComponentResult(res.pairs, res.options, res.method, res.status, res.placed,
                                                       bound, res.objective, res.objective_bound)  # fmt: skip
            moves = self.upgrade(comp)
            log.info("moved %d sessions to better places", moves)

    def _sample(self, options: list[int]) -> list[int]:
        """At most ``COUNT_MODEL_OPTIONS`` of a pair's options: the best-scored, spread over the week."""
        if len(options) <= COUNT_MODEL_OPTIONS:
            return options
        p = self.p

        def key(o: int) -> tuple[int, int]:
            return -p.opt_score[o], (p.opt_start[o] * 2654435761 + o * 40503) % 4294967296

        return sorted(sorted(options, key=key)[:COUNT_MODEL_OPTIONS])

    def flow_bound(self, comp: list[int], opts: dict[int, list[int]]) -> int:
        """An upper bound on the pairs of ``comp`` placed (people's clashes relaxed).

        Every pair that can meet online, plus a maximum flow of in-person-only pairs into the
        sessions that each room can hold on each day.
        """
        p = self.p
        m = p.minutes
        online = [t for t in comp if not p.task_offline_only[t]]
        offline = [t for t in comp if p.task_offline_only[t]]
        if not offline:
            return len(online)
        room_day: dict[tuple[int, int], int] = {}
        edges: set[tuple[int, int]] = set()
        for i, t in enumerate(offline):
            for o in opts[t]:
                key = (p.opt_room[o], p.opt_start[o] // DAY_MINUTES)
                edges.add((i, room_day.setdefault(key, len(room_day))))
        n, k = len(offline), len(room_day)
        source, sink = 0, 1 + n + k
        rows, cols, caps = [], [], []
        for i in range(n):
            rows.append(source)
            cols.append(1 + i)
            caps.append(1)
        for i, j in sorted(edges):
            rows.append(1 + i)
            cols.append(1 + n + j)
            caps.append(1)
        for (r, day), j in room_day.items():
            info = self.rooms[r]
            lanes = sum((e - a) // m for a, e in info.days.get(day, ()))
            rows.append(1 + n + j)
            cols.append(sink)
            caps.append(info.room.capacity * lanes)
        graph = csr_matrix((np.array(caps, np.int32), (rows, cols)), shape=(sink + 1, sink + 1))
        return len(online) + int(maximum_flow(graph, source, sink).flow_value)

    def _solve_component(
        self,
        comp: list[int],
        opts: dict[int, list[int]],
        groups: _Groups,
        tag: str,
        budget: float | None = None,
    ) -> None:
        p = self.p
        n_opts = sum(len(opts[t]) for t in comp)
        best = sum(max(p.opt_score[o] for o in opts[t]) for t in comp)
        chosen = self.greedy(comp, opts)
        score = sum(p.opt_score[o] for o in chosen.values())
        big = MAX_SCORE * len(comp) + 1
        if len(chosen) == len(comp) and score == best:
            n = len(comp)
            res = ComponentResult(n, n_opts, "greedy" + tag, "optimal", n, n, big * n + score, big * n + best)
        elif self.method == "greedy":
            res = ComponentResult(
                len(comp), n_opts, "greedy" + tag, "feasible", len(chosen), len(comp),
                big * len(chosen) + score, big * len(comp) + best,
            )  # fmt: skip
        else:
            if budget is None:
                budget = self.time_limit * n_opts / self.total_options
            budget = max(0.2, budget)
            chosen, res = self._cpsat(comp, opts, groups, chosen, big, budget)
            res = ComponentResult(res.pairs, res.options, res.method + tag, res.status, res.placed,
                                  res.placed_bound, res.objective, res.objective_bound)  # fmt: skip
            log.info(
                "component of %d pairs, %d options: %s, placed %d (bound %d), objective %d (bound %d)",
                res.pairs, res.options, res.status, res.placed, res.placed_bound, res.objective,
                res.objective_bound,
            )  # fmt: skip
        self.chosen.update(chosen)
        self.results.append(res)

    def _cpsat(
        self, comp: list[int], opts: dict[int, list[int]], groups: _Groups, hint: dict[int, int], big: int,
        budget: float,
    ) -> tuple[dict[int, int], ComponentResult]:  # fmt: skip
        p = self.p
        m = p.minutes
        model = cp_model.CpModel()
        flat = [o for t in comp for o in opts[t]]
        var = {o: model.new_bool_var(f"o{o}") for o in flat}
        for t in comp:
            if len(opts[t]) > 1:
                model.add_at_most_one(var[o] for o in opts[t])
        person_tasks: dict[int, list[int]] = {}
        for t in comp:
            for who in p.task_people[t]:
                person_tasks.setdefault(who, []).append(t)
        for tasks in person_tasks.values():
            if len(tasks) < 2:
                continue
            items = [(p.opt_start[o], o) for t in tasks for o in opts[t]]
            for group in _cliques(items, m):
                if len({p.opt_task[o] for o in group}) >= 2:
                    model.add_at_most_one(var[o] for o in group)
        for group, free in groups:
            model.add(sum(var[o] for o in group) <= free)
        weights = [big + p.opt_score[o] for o in flat]
        model.maximize(cp_model.LinearExpr.weighted_sum([var[o] for o in flat], weights))
        for o in hint.values():
            model.add_hint(var[o], True)
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        solver.parameters.random_seed = 0
        solver.parameters.max_deterministic_time = budget
        clock = time.perf_counter()
        status = solver.solve(model)
        if len(flat) > 10_000:
            log.info("CP-SAT on %d options took %.1f s (deterministic %.1f)", len(flat),
                     time.perf_counter() - clock, solver.deterministic_time)  # fmt: skip
        hint_obj = sum(big + p.opt_score[o] for o in hint.values())
        trivial = big * len(comp) + sum(max(p.opt_score[o] for o in opts[t]) for t in comp)
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            chosen = {p.opt_task[o]: o for o in flat if solver.boolean_value(var[o])}
            obj = int(round(solver.objective_value))
            bound = min(trivial, int(solver.best_objective_bound))
        else:  # no solution within the limit: keep the greedy one
            chosen, obj, bound = hint, hint_obj, trivial
        if hint_obj > obj:  # never worse than the hint
            chosen, obj = hint, hint_obj
        placed_bound = min(len(comp), bound // big)
        name = "optimal" if obj >= bound else "feasible"
        return chosen, ComponentResult(
            len(comp), len(flat), "cp-sat", name, len(chosen), placed_bound, obj, bound
        )


# --- the public entry point ---------------------------------------------------------------------------


def _as_mapping(items: Mapping[str, object] | Iterable[object]) -> dict[str, object]:
    if isinstance(items, Mapping):
        return dict(items)
    return {x.id: x for x in items}  # type: ignore[attr-defined]


def _reason(code: str, **params: object) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    text = REASONS[code].format(**{k: str(v) for k, v in params.items()})
    return code, text, tuple((k, str(v)) for k, v in params.items())


def propose_week(
    pairs: Iterable[Pair],
    entrepreneurs: Mapping[str, Entrepreneur] | Iterable[Entrepreneur],
    mentors: Mapping[str, Mentor] | Iterable[Mentor],
    rooms: Iterable[Room],
    week: str | dt.date,
    *,
    minutes: int = 60,
    preferred: Mapping[tuple[str, str], tuple[int, int]] | None = None,
    busy: Mapping[str, Iterable[tuple[dt.datetime, dt.datetime]]] | None = None,
    room_busy: Mapping[str, Iterable[tuple[dt.datetime, dt.datetime]]] | None = None,
    exclude: Mapping[tuple[str, str], Iterable[dt.datetime]] | None = None,
    time_limit: float = 8.0,
    method: str = "exact",
) -> WeekSchedule:
    """Propose one session in ``week`` for as many ``pairs`` as possible (see the module docstring).

    Parameters
    ----------
    week
        An ISO week (``2026-W49``) or a date in it (normally its Monday).
    preferred
        The pair's usual start as (weekday 0=Monday, minutes since midnight), e.g. last week's.
    busy, room_busy
        Times already booked per person id / room id, to propose around them.
    exclude
        Start times a pair asked not to have ("ask for another time").
    time_limit
        Deterministic-time budget of CP-SAT over the whole run (about seconds).
    method
        ``"exact"`` (CP-SAT where the greedy solution is not provably optimal) or ``"greedy"``.
    """
    if minutes < 1 or minutes > DAY_MINUTES:
        raise ValueError(f"minutes must lie between 1 and {DAY_MINUTES}, not {minutes}")
    if method not in ("exact", "greedy"):
        raise ValueError(f"method must be 'exact' or 'greedy', not {method!r}")
    clock = time.perf_counter()
    monday = _to_monday(week)
    blocked = blocked_days(monday)
    blocked_idx = {(d - monday).days for d in blocked}
    ents = _as_mapping(entrepreneurs)
    ments = _as_mapping(mentors)
    preferred = preferred or {}
    exclude = exclude or {}

    busy_iv: dict[str, list[tuple[int, int]]] = {}
    for who, spans in (busy or {}).items():
        busy_iv[who] = [(_week_minute(a, monday), _week_minute(b, monday)) for a, b in spans]

    room_list = sorted(rooms, key=lambda r: r.id)
    infos: list[_RoomInfo] = []
    rooms_by_kec: dict[str, list[int]] = {}
    for room in room_list:
        load = None
        spans = (room_busy or {}).get(room.id)
        if spans:
            load = np.zeros(WEEK_MINUTES + DAY_MINUTES, np.int32)
            for a, b in spans:
                lo, hi = max(0, _week_minute(a, monday)), min(WEEK_MINUTES, _week_minute(b, monday))
                if hi > lo:
                    load[lo:hi] += 1
        info = _RoomInfo(len(infos), room, _by_day(room.availability), load)
        infos.append(info)
        if room.capacity > 0:
            rooms_by_kec.setdefault(room.kecamatan, []).append(info.index)

    problem = _Problem(minutes)
    pair_list = list(pairs)
    outcome: list[tuple[str, str, tuple[tuple[str, str], ...]] | None] = [None] * len(pair_list)
    people: dict[str, int] = {}
    seen: set[tuple[str, str]] = set()
    day_cache: dict[str, dict[int, list[tuple[int, int]]]] = {}
    blocked_names = ", ".join(f"{d:%a %d %b} {n}" for d, n in sorted(blocked.items()))

    for i, pair in enumerate(pair_list):
        eid, mid = pair.entrepreneur_id, pair.mentor_id
        e, mt = ents.get(eid), ments.get(mid)
        if e is None:
            outcome[i] = _reason("unknown_entrepreneur", entrepreneur_id=eid)
            continue
        if mt is None:
            outcome[i] = _reason("unknown_mentor", mentor_id=mid)
            continue
        if (eid, mid) in seen:
            outcome[i] = _reason("duplicate_pair")
            continue
        seen.add((eid, mid))
        modes = {e.mode, mt.mode}
        if modes == {"offline", "online"}:
            outcome[i] = _reason("incompatible_modes")
            continue
        online_ok = "offline" not in modes
        offline_ok = "online" not in modes
        e_days = day_cache.get(eid) or day_cache.setdefault(eid, _by_day(e.windows))
        m_days = day_cache.get(mid) or day_cache.setdefault(mid, _by_day(mt.windows))
        starts = _common_starts(e_days, m_days, minutes)
        if not starts:
            outcome[i] = _reason("no_common_time", minutes=minutes)
            continue
        starts = [s for s in starts if s // DAY_MINUTES not in blocked_idx]
        if not starts:
            outcome[i] = _reason("holiday_week", holidays=blocked_names)
            continue
        starts = [
            s for s in starts
            if not (s // DAY_MINUTES == FRIDAY and s % DAY_MINUTES < FRIDAY_PRAYER[1]
                    and s % DAY_MINUTES + minutes > FRIDAY_PRAYER[0])
        ]  # fmt: skip
        if not starts:
            outcome[i] = _reason("friday_prayer")
            continue
        taken = busy_iv.get(eid, []) + busy_iv.get(mid, [])
        declined = {_week_minute(x, monday) for x in exclude.get((eid, mid), ())}
        if taken or declined:
            starts = [s for s in starts if s not in declined and not _overlaps_any(s, s + minutes, taken)]
            if not starts:
                outcome[i] = _reason("no_time_left")
                continue
        room_choices: list[tuple[int, int]] = []
        if offline_ok:
            for r in rooms_by_kec.get(e.kecamatan, []):
                room_choices.append((r, SCORE_ROOM_ENTREPRENEUR))
            if mt.kecamatan != e.kecamatan:
                for r in rooms_by_kec.get(mt.kecamatan, []):
                    room_choices.append((r, SCORE_ROOM_MENTOR))
        pref = preferred.get((eid, mid))
        task = len(problem.tasks)
        options: list[int] = []
        for s in starts:
            ts = _time_score(s, pref)
            for r, rs in room_choices:
                if _room_fits(infos[r], s, minutes):
                    options.append(len(problem.opt_task))
                    problem.opt_task.append(task)
                    problem.opt_start.append(s)
                    problem.opt_room.append(r)
                    problem.opt_score.append(rs + ts)
            if online_ok:
                options.append(len(problem.opt_task))
                problem.opt_task.append(task)
                problem.opt_start.append(s)
                problem.opt_room.append(-1)
                problem.opt_score.append(SCORE_ONLINE + ts)
        if not options:
            if not room_choices:
                outcome[i] = _reason("no_room_nearby")
            elif any(
                room_busy and _room_fits(_RoomInfo(0, infos[r].room, infos[r].days, None), s, minutes)
                for r, _ in room_choices
                for s in starts
            ):
                outcome[i] = _reason("rooms_full")
            else:
                outcome[i] = _reason("room_closed")
            continue
        problem.tasks.append(i)
        problem.task_people.append(
            (people.setdefault("e:" + eid, len(people)), people.setdefault("m:" + mid, len(people)))
        )
        problem.task_options.append(options)
        problem.task_offline_only.append(not online_ok)

    log.info("%d pairs to schedule with %d options, built in %.1f s", len(problem.tasks),
             len(problem.opt_task), time.perf_counter() - clock)  # fmt: skip
    solver = _Solver(problem, infos, time_limit, method)
    solver.solve()
    log.info("solved in %.1f s", time.perf_counter() - clock)

    # diagnose unplaced tasks and build the output
    sessions: list[ProposedSession] = []
    unplaced: list[Unplaced] = []
    placed_by_slot: dict[int, ProposedSession] = {}
    busy_at: dict[int, list[int]] = {}
    for task, o in solver.chosen.items():
        for who in problem.task_people[task]:
            busy_at.setdefault(who, []).append(problem.opt_start[o])
    for t, i in enumerate(problem.tasks):
        o = solver.chosen.get(t)
        if o is None:
            outcome[i] = _diagnose(problem, busy_at, t)
            continue
        s = problem.opt_start[o]
        r = problem.opt_room[o]
        pair = pair_list[i]
        placed_by_slot[i] = ProposedSession(
            pair.entrepreneur_id,
            pair.mentor_id,
            _moment(monday, s),
            _moment(monday, s + minutes),
            "online" if r < 0 else "offline",
            None if r < 0 else infos[r].room.id,
        )
    for i, pair in enumerate(pair_list):
        if i in placed_by_slot:
            sessions.append(placed_by_slot[i])
        else:
            code, reason, params = outcome[i]  # type: ignore[misc]
            unplaced.append(Unplaced(pair.entrepreneur_id, pair.mentor_id, code, reason, params))

    results = solver.results
    by_method: dict[str, int] = {}
    by_status: dict[str, int] = {}
    for res in results:
        by_method[res.method] = by_method.get(res.method, 0) + 1
        by_status[res.status] = by_status.get(res.status, 0) + 1
    online = sum(1 for s in sessions if s.mode == "online")
    stats = ScheduleStats(
        pairs=len(pair_list),
        placed=len(sessions),
        online=online,
        offline=len(sessions) - online,
        upper_bound=sum(r.placed_bound for r in results),
        components=len(results),
        components_by_method=by_method,
        components_by_status=by_status,
        largest_component=max((r.pairs for r in results), default=0),
        seconds=time.perf_counter() - clock,
    )
    log.info(
        "week of %s: placed %d of %d pairs (%d online, %d in person), upper bound %d, "
        "%d components %s, %.2f s",
        monday,
        stats.placed,
        stats.pairs,
        stats.online,
        stats.offline,
        stats.upper_bound,
        stats.components,
        by_status,
        stats.seconds,
    )
    return WeekSchedule(monday, sessions, unplaced, stats, blocked)


def _diagnose(problem: _Problem, busy_at: dict[int, list[int]], t: int) -> tuple:
    """Why task ``t`` got no session: its people are busy, its rooms are full, or both."""
    p = problem
    m = p.minutes
    people_block = room_block = False
    for o in p.task_options[t]:
        s = p.opt_start[o]
        if any(abs(s - x) < m for who in p.task_people[t] for x in busy_at.get(who, ())):
            people_block = True
        elif p.opt_room[o] >= 0:
            room_block = True
    if people_block and not room_block:
        return _reason("person_busy")
    if room_block and not people_block:
        return _reason("rooms_full")
    return _reason("no_free_slot")


# --- the command line ----------------------------------------------------------------------------------


def _pair_rows(path: str) -> list[tuple[int, Pair]]:
    """Pairs with their spreadsheet row numbers (as csvio counts them); empty mentors skipped."""
    records = read_file(PAIR, path)  # validates; raises InputFileError on a bad file
    text = Path(path).read_bytes().decode("utf-8")
    if text.startswith("\ufeff"):
        text = text[1:]
    rows = []
    reader = csv.DictReader(io.StringIO(text, newline=""))
    for rowno, raw in enumerate(reader, start=2):
        if all(not (v or "").strip() for k, v in raw.items() if k is not None and isinstance(v, str)):
            continue
        rows.append(rowno)
    return [(row, rec) for row, rec in zip(rows, records, strict=True) if rec.mentor_id]


def schedule_rows(pairs: Sequence[Pair], result: WeekSchedule) -> list[dict[str, str]]:
    """The S.csv rows of ``result``, one per pair in the order of ``pairs``."""
    sessions = iter(result.sessions)
    unplaced = iter(result.unplaced)
    next_session = next(sessions, None)
    out = []
    for pair in pairs:
        s = next_session
        if s is not None and (s.entrepreneur_id, s.mentor_id) == (pair.entrepreneur_id, pair.mentor_id):
            out.append({
                "entrepreneur_id": s.entrepreneur_id, "mentor_id": s.mentor_id,
                "start": s.start.isoformat(), "end": s.end.isoformat(), "mode": s.mode,
                "room_id": s.room_id or "", "reason": "",
            })  # fmt: skip
            next_session = next(sessions, None)
        else:
            u = next(unplaced)
            out.append({
                "entrepreneur_id": u.entrepreneur_id, "mentor_id": u.mentor_id, "start": "", "end": "",
                "mode": "", "room_id": "", "reason": u.reason,
            })  # fmt: skip
    return out


def schedule_command(args: argparse.Namespace) -> int:
    """``python -m matching schedule``: read the files, propose the week, write S.csv atomically."""
    try:
        monday = parse_iso_week(args.week)
    except ValueError as exc:
        raise InputFileError([RowError("--week", 0, "", "", str(exc), "bad_week")]) from None
    entrepreneurs = {e.id: e for e in read_entrepreneurs(args.entrepreneurs)}
    mentors = {m.id: m for m in read_mentors(args.mentors)}
    rooms = read_rooms(args.rooms)
    rows = _pair_rows(args.pairs)
    name = Path(args.pairs).name
    errors = []
    for rowno, pair in rows:
        if pair.entrepreneur_id not in entrepreneurs:
            errors.append(
                RowError(
                    name,
                    rowno,
                    "entrepreneur_id",
                    pair.entrepreneur_id,
                    f"is not in {Path(args.entrepreneurs).name}",
                    "unknown_id",
                )
            )
        if pair.mentor_id not in mentors:
            errors.append(
                RowError(
                    name,
                    rowno,
                    "mentor_id",
                    pair.mentor_id,
                    f"is not in {Path(args.mentors).name}",
                    "unknown_id",
                )
            )
    if errors:
        raise InputFileError(errors)
    result = propose_week([p for _, p in rows], entrepreneurs, mentors, rooms, monday, minutes=args.minutes)
    out_rows = schedule_rows([p for _, p in rows], result)
    write_csv_atomic(args.out, SCHEDULE_COLUMNS, out_rows)
    log.info("wrote %d rows to %s", len(out_rows), args.out)
    return 0
