"""Every mentor encoded once (the mentor half of a ``MatchProblem``), and a cache that keeps it current.

Suggestions and pair scores learn their bio text space from the mentor directory (every mentor,
whatever their free places), so the mentor side does not depend on who asks: it is encoded once
and each request encodes one entrepreneur and does one matrix-vector product. The cache checks
one small aggregate per request (highest mentor id and newest ``updated_at``, two index lookups,
read with the page's other figures); when that changes
it re-reads the light columns of the mentors changed lately, re-encodes only when a profile really
changed (a mentor taking a mentee changes free places, not the encoding), and keeps the rankings
the change cannot have touched.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import bindparam, func, select, text
from sqlalchemy.orm import Session

from matching import profiles
from matching.features import ProfileEncoder, SideBlocks, stacked
from matching.profiles import HistoryRecord
from matching.ranking import MatchProblem, signature_compatible
from matching.reference import kota_of
from matching.scoring import MatchScorer
from models import Mentor
from webapp.services.adapters import to_mentor

log = logging.getLogger(__name__)

Version = tuple[int, dt.datetime | None]

ENCODED_KEEP = 2048  # entrepreneurs whose encoding a pool keeps (a few KB each)


@dataclass(frozen=True)
class MentorPool:
    """All mentors, ordered by id, with their encoding and what each request filters on."""

    ids: np.ndarray  # database ids, ascending
    profiles: tuple[profiles.Mentor, ...]
    encoder: ProfileEncoder
    ments: SideBlocks
    M: np.ndarray  # stacked mentor blocks, unweighted
    signatures: tuple[tuple, ...]  # distinct (languages, mode, gender)
    signature_code: np.ndarray  # per mentor, an index into ``signatures``
    free: np.ndarray  # free places per mentor (0 when paused or full)
    online: np.ndarray  # meets online (mode is not offline)
    kota: np.ndarray  # kota code per mentor
    stamps: tuple[dt.datetime | None, ...]  # updated_at per mentor, as read
    version: Version
    #: Entrepreneur profiles encoded against this pool's encoder (shared by the refreshed copies of
    #: the pool, which keep the encoder): someone paging through suggestions is encoded once.
    encoded: dict = dataclasses.field(default_factory=dict, compare=False, repr=False)
    #: Rankings made against this version of the pool (``suggestions.rank_mentors``); a refreshed
    #: pool is another version and starts with none.
    ranked: dict = dataclasses.field(default_factory=dict, compare=False, repr=False)
    #: PostgreSQL: no transaction that was open when this pool read the mentors began before this
    #: (``open_since``); None elsewhere, or when PostgreSQL does not show every session.
    open_since: dt.datetime | None = None
    #: Mentor rows the refresh that made this pool read (all of them for a build).
    reread: int = 0

    def index_of(self, mentor_id: int) -> int | None:
        """The position of a mentor (database id) in the pool, or None."""
        j = int(np.searchsorted(self.ids, mentor_id))
        return j if j < len(self.ids) and self.ids[j] == mentor_id else None

    def _encoded(self, entrepreneur: profiles.Entrepreneur) -> SideBlocks:
        """The entrepreneur side of one entrepreneur, encoded once per profile and encoder.

        The profile is a frozen dataclass of every field the encoding reads, so an edited profile
        is another key. The cache is emptied when full rather than kept in order; its arrays are
        read-only, so no caller can change what the next one gets.
        """
        found = self.encoded.get(entrepreneur)
        if found is None:
            found = self.encoder.encode_entrepreneurs([entrepreneur])
            for array in (*found.blocks.values(), found.bitmaps, found.kec, *found.extra.values()):
                array.flags.writeable = False
            if len(self.encoded) >= ENCODED_KEEP:
                self.encoded.clear()
            self.encoded[entrepreneur] = found
        return found

    def problem(
        self,
        entrepreneur: profiles.Entrepreneur,
        scorer: MatchScorer | None = None,
        *,
        online_only: bool = False,
        same_kota: bool = False,
        only: int | None = None,
    ) -> MatchProblem:
        """The problem of one entrepreneur against the pool, as ``build_problem`` would group it.

        The mentors it may be suggested are those with a free place and a compatible signature
        (language, mode, gender), optionally online ones or those in the entrepreneur's kota;
        ``only`` (a pool index) makes that one mentor the sole candidate, whatever its places.
        """
        scorer = scorer or MatchScorer.from_priors()
        ents = self._encoded(entrepreneur)
        if only is not None:
            cand = np.array([only], dtype=np.int64)
        else:
            esig = (frozenset(entrepreneur.languages), entrepreneur.mode, entrepreneur.prefers_mentor_gender)
            ok = np.array([signature_compatible(esig, s) for s in self.signatures], dtype=bool)
            mask = (self.free > 0) & (ok[self.signature_code] if len(ok) else False)
            if online_only:
                mask &= self.online
            if same_kota:
                mask &= self.kota == kota_of(entrepreneur.kecamatan)
            cand = np.flatnonzero(mask)
        return MatchProblem(
            entrepreneurs=[entrepreneur],
            mentors=self.profiles,
            scorer=scorer,
            ents=ents,
            ments=self.ments,
            E=stacked(ents, np.asarray(scorer.coef_, dtype=np.float64)),
            M=self.M,
            intercept=scorer.intercept_,
            free=self.free,
            e_group=np.zeros(1, dtype=np.int64),
            group_mentors=[cand],
        )


def version_columns() -> tuple:
    """The pool's version as two scalar subqueries (highest mentor id, newest ``updated_at``).

    A new mentor raises the first, any change of a mentor the second (``updated_at`` is indexed, so
    both are index lookups, not a scan). Mentors are never deleted, only anonymised (an update);
    a row deleted by hand anyway stays in the pool until the next change, and its id finds no row
    when the suggestions are read, so it is never shown.

    A page that needs other figures too selects these beside them, so that checking the cache
    costs no round trip of its own (see ``journeys.my_suggestions_page``).
    """
    return (
        select(func.max(Mentor.id)).scalar_subquery(),
        select(func.max(Mentor.updated_at)).scalar_subquery(),
    )


def as_version(top_id, newest) -> Version:
    """The version from the two values ``version_columns`` gave."""
    return int(top_id or 0), newest


def _version(db: Session) -> Version:
    return as_version(*db.execute(select(*version_columns())).one())


def _capacity_view(m: profiles.Mentor) -> profiles.Mentor:
    """The profile without what taking or freeing a place changes."""
    return dataclasses.replace(m, capacity=0, active_mentees=0, paused=False)


def build_pool(
    db: Session, *, history: Sequence[HistoryRecord] = (), version: Version | None = None
) -> MentorPool:
    """Read and encode every mentor (the text space is learned from their bios)."""
    version = version or _version(db)
    open_since = open_since_now(db)
    rows = list(db.scalars(select(Mentor).order_by(Mentor.id)))
    people = tuple(to_mentor(r) for r in rows)
    encoder = ProfileEncoder().fit(people, history=history)
    ments = encoder.encode_mentors(people)
    sigs: dict[tuple, int] = {}
    code = np.array(
        [sigs.setdefault((frozenset(m.languages), m.mode, m.gender), len(sigs)) for m in people],
        dtype=np.int64,
    )
    return MentorPool(
        ids=np.array([r.id for r in rows], dtype=np.int64),
        profiles=people,
        encoder=encoder,
        ments=ments,
        M=stacked(ments),
        signatures=tuple(sigs),
        signature_code=code,
        free=np.array([m.free_capacity for m in people], dtype=np.int64),
        online=np.array([m.mode != "offline" for m in people], dtype=bool),
        kota=np.array([kota_of(m.kecamatan) for m in people], dtype=object),
        stamps=tuple(r.updated_at for r in rows),
        version=version,
        open_since=open_since,
        reread=len(rows),
    )


#: How far before the newest change it has seen a refresh looks again. ``updated_at`` is stamped
#: when a transaction writes the row, not when it commits: a transaction that wrote a mentor before
#: another one but committed after it carries the older stamp, and is caught by the next refresh
#: as long as it committed within this time of its write (requests are cut off after 30 s).
REFRESH_SLACK = dt.timedelta(hours=1)
#: Mentor rows are stamped by the web host's clock, transactions begin by PostgreSQL's.
CLOCK_MARGIN = dt.timedelta(minutes=1)

_OPEN_SINCE = text(
    "SELECT min(xact_start), bool_or(state IS NULL), now() FROM pg_stat_activity WHERE datname = current_database()"
)


def open_since_now(db: Session) -> dt.datetime | None:
    """PostgreSQL: when the oldest transaction open in this database began (now when none is); None
    on other databases, and when a session's state is hidden (another role's, which only
    ``pg_read_all_stats`` may see).

    Read just before the pool reads the mentors: a row committed after that read was written by a
    transaction open at that moment or begun later, so it carries a stamp no older than this. The
    next refresh need not look further back (less ``CLOCK_MARGIN``), instead of ``REFRESH_SLACK``:
    after a bulk change (an import) it re-reads the mentors changed since, not all of them. Inside
    a transaction PostgreSQL may show what it saw at the transaction's first look, which began
    after this transaction did: ``now()`` (the transaction's start) keeps the bound below it.
    """
    if db.get_bind().dialect.name != "postgresql":
        return None
    oldest, hidden, now = db.execute(_OPEN_SINCE).one()
    if hidden:
        return None
    return min(oldest or now, now)


def _refreshed(db: Session, pool: MentorPool, version: Version) -> MentorPool:
    """The pool brought up to date: free places only when no profile changed, else rebuilt.

    Reads only the mentors changed since the pool's newest change (less ``REFRESH_SLACK``), or on
    PostgreSQL since the oldest transaction open at the pool's read began (less ``CLOCK_MARGIN``)
    when that is later: an index range on ``updated_at``, a few rows, not the directory. A row
    stamped before that was committed before the pool's read, which saw it. A new mentor means a
    rebuild.

    The rankings the pool made stay valid when only free places changed, except those that list a
    changed mentor (who may be full now, and whose places the page shows), and all of them when a
    mentor opened up (who may now belong in any of them): scores and reasons do not depend on
    free places, and a mentor who is not in a ranking and did not open up cannot enter it.
    """
    top_id, newest = pool.version
    if version[0] != top_id or newest is None:
        return build_pool(db, version=version)
    since = newest - REFRESH_SLACK
    if pool.open_since is not None:
        since = max(since, pool.open_since - CLOCK_MARGIN)
    open_since = open_since_now(db)
    light = db.execute(_RECENT, {"since": since}).all()
    people = list(pool.profiles)
    stamps = list(pool.stamps)
    free = pool.free.copy()
    changed: set[int] = set()
    reread: dict[int, int] = {}  # mentor id -> position, for the rows whose stamp moved
    for r in light:
        j = pool.index_of(r.id)
        if j is None:  # not in the pool, although the highest id did not move: read everything
            return build_pool(db, version=version)
        if r.updated_at != stamps[j]:
            reread[r.id] = j
        elif (r.capacity, r.active_count, r.paused) == (
            people[j].capacity,
            people[j].active_mentees,
            people[j].paused,
        ):
            continue
        changed.add(j)
        stamps[j] = r.updated_at
        people[j] = dataclasses.replace(
            people[j], capacity=r.capacity, active_mentees=r.active_count, paused=r.paused
        )
        free[j] = people[j].free_capacity
    if reread:
        for row in db.scalars(select(Mentor).where(Mentor.id.in_(reread))):
            fresh = to_mentor(row)
            j = reread.pop(row.id)
            if _capacity_view(fresh) != _capacity_view(people[j]):
                log.info("mentor pool: profile of mentor %s changed, re-encoding", row.id)
                return build_pool(db, version=version)
            people[j] = fresh
            free[j] = fresh.free_capacity
        if reread:  # gone between the two statements
            return build_pool(db, version=version)
    opened = any(pool.free[j] <= 0 < free[j] for j in changed)
    ranked = {} if opened else {key: r for key, r in pool.ranked.items() if changed.isdisjoint(r.positions)}
    return dataclasses.replace(
        pool,
        profiles=tuple(people),
        free=free,
        stamps=tuple(stamps),
        version=version,
        ranked=ranked,
        open_since=open_since,
        reread=len(light),
    )


_RECENT = select(Mentor.id, Mentor.updated_at, Mentor.capacity, Mentor.active_count, Mentor.paused).where(
    Mentor.updated_at >= bindparam("since")
)


class MentorPools:
    """A per-process cache of the encoded mentors of one database (hold one per app).

    ``current(db)`` costs one aggregate query when nothing changed; it is safe to share between
    threads (one refresh at a time; readers keep the pool they got, which is never mutated).
    """

    def __init__(self) -> None:
        self._pool: MentorPool | None = None
        self._lock = threading.Lock()
        self.builds = 0  # full encodings so far (for tests and logs)

    def current(self, db: Session, version: Version | None = None) -> MentorPool:
        """The pool for the mentors as they are now in ``db`` (``version``: already read in this transaction)."""
        version = version or _version(db)
        pool = self._pool
        if pool is not None and pool.version == version:
            return pool
        with self._lock:
            pool = self._pool
            if pool is not None and pool.version == version:
                return pool
            fresh = build_pool(db, version=version) if pool is None else _refreshed(db, pool, version)
            if pool is None or fresh.encoder is not pool.encoder:
                self.builds += 1
                log.info("mentor pool: encoded %d mentors (build %d)", len(fresh.ids), self.builds)
            self._pool = fresh
            return fresh


def pool_for(
    db: Session,
    pools: MentorPools | None,
    history: Sequence[HistoryRecord] = (),
    version: Version | None = None,
) -> MentorPool:
    """The cached pool when a cache is given and no history is asked for, else a freshly built one."""
    if pools is not None and not history:
        return pools.current(db, version)
    return build_pool(db, history=history, version=version)
