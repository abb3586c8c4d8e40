"""The plain, frozen inputs of the matching core: entrepreneurs, mentors, history, rooms and pairs."""

from __future__ import annotations

from dataclasses import dataclass, field

DAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
STAGES: tuple[str, ...] = ("idea", "early", "growth", "established")
MODES: tuple[str, ...] = ("offline", "online", "either")
GENDERS: tuple[str, ...] = ("f", "m")
OUTCOMES: tuple[str, ...] = ("accepted", "declined", "completed")


@dataclass(frozen=True, slots=True, order=True)
class Window:
    """A weekly time window in Jakarta local time: ``day`` 0=Monday, minutes since midnight."""

    day: int
    start: int
    end: int

    def __str__(self) -> str:
        return f"{DAYS[self.day]} {self.start // 60:02d}:{self.start % 60:02d}-{self.end // 60:02d}:{self.end % 60:02d}"

    @property
    def minutes(self) -> int:
        """Length of the window in minutes."""
        return self.end - self.start


#: What a blank availability cell means: any time 08:00-21:00, Monday to Saturday.
DEFAULT_AVAILABILITY: tuple[Window, ...] = tuple(Window(d, 8 * 60, 21 * 60) for d in range(6))


def effective_availability(windows: tuple[Window, ...] | None) -> tuple[Window, ...]:
    """The windows a person is free in; ``None`` (a blank cell) means the default week."""
    return DEFAULT_AVAILABILITY if windows is None else windows


def format_availability(windows: tuple[Window, ...] | None) -> str:
    """The contract's text form (``tue 19:00-21:00;sat 09:00-12:00``); blank for ``None``."""
    return "" if windows is None else ";".join(str(w) for w in windows)


@dataclass(frozen=True, slots=True)
class Entrepreneur:
    """An entrepreneur (UMKM owner) looking for a mentor."""

    id: str
    name: str
    sector: str
    stage: str
    kecamatan: str
    needs: tuple[str, ...]
    kbli: str | None = None
    languages: tuple[str, ...] = ("id",)
    mode: str = "either"
    availability: tuple[Window, ...] | None = None
    gender: str | None = None
    prefers_mentor_gender: str | None = None
    bio: str = ""

    @property
    def windows(self) -> tuple[Window, ...]:
        """Effective weekly availability (blank means the default week)."""
        return effective_availability(self.availability)


@dataclass(frozen=True, slots=True)
class Mentor:
    """A business leader who mentors up to ``capacity`` entrepreneurs at once."""

    id: str
    name: str
    sectors: tuple[str, ...]
    stages: tuple[str, ...]
    kecamatan: str
    expertise: tuple[str, ...]
    capacity: int
    active_mentees: int = 0
    languages: tuple[str, ...] = ("id",)
    mode: str = "either"
    availability: tuple[Window, ...] | None = None
    gender: str | None = None
    bio: str = ""
    paused: bool = False

    @property
    def free_capacity(self) -> int:
        """Places still open: capacity minus mentees already held, never negative; 0 when paused."""
        return 0 if self.paused else max(0, self.capacity - self.active_mentees)

    @property
    def windows(self) -> tuple[Window, ...]:
        """Effective weekly availability (blank means the default week)."""
        return effective_availability(self.availability)


@dataclass(frozen=True, slots=True)
class HistoryRecord:
    """An earlier proposal and what came of it: accepted, declined, or completed with a rating."""

    entrepreneur_id: str
    mentor_id: str
    outcome: str
    rating: int | None = None


@dataclass(frozen=True, slots=True)
class Room:
    """A meeting room at a kecamatan entrepreneurship centre; ``capacity`` sessions at once."""

    id: str
    kecamatan: str
    name: str
    capacity: int
    availability: tuple[Window, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class Pair:
    """An active mentor-entrepreneur pair to be scheduled."""

    entrepreneur_id: str
    mentor_id: str
