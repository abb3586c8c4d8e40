"""What must hold of booked sessions after every step of the state-machine tests (CON-8)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping

Span = tuple[dt.datetime, dt.datetime]


def assert_no_one_booked_twice_at_once(booked: Iterable[tuple[Iterable, Span]]) -> None:
    """``booked``: (the people of a session, its span) per booked session; no person's spans overlap
    (one may end when the next starts)."""
    spans: dict = defaultdict(list)
    for people, span in booked:
        for person in people:
            spans[person].append(span)
    for person in spans.values():
        person.sort()
        for (_a, end), (start, _b) in zip(person, person[1:], strict=False):
            assert end <= start


def assert_no_room_over_capacity(booked: Iterable[tuple[str, Span]], capacity: Mapping[str, int]) -> None:
    """``booked``: (room id, span) per booked session in a room; at no moment does a room hold more
    sessions than its capacity."""
    changes: dict[str, list[tuple[dt.datetime, int]]] = defaultdict(list)
    for room_id, (start, end) in booked:
        changes[room_id] += [(start, 1), (end, -1)]
    for room_id, steps in changes.items():
        held = 0
        for _at, step in sorted(steps):  # at one moment, an end (-1) comes before a start
            held += step
            assert held <= capacity[room_id]
