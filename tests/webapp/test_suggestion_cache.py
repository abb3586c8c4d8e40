"""The cache of encoded mentors: the same suggestions and pair scores as without it, kept current
when mentors take mentees or change their profile, and re-encoding only for a profile change."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from matching.ranking import rank
from models import Entrepreneur, Mentor
from webapp.services import mentor_pool
from webapp.services.adapters import to_entrepreneur, to_mentor
from webapp.services.demo import load_demo
from webapp.services.mentor_pool import MentorPools
from webapp.services.suggestions import score_pair, suggest_mentors


def _view(found):
    return [(s.rank, s.mentor.id, round(s.score, 5), s.reasons) for s in found]


@pytest.fixture
def world(db):
    load_demo(db, entrepreneurs=80, mentors=30, seed=11)
    db.flush()
    return list(db.scalars(select(Entrepreneur).order_by(Entrepreneur.id).limit(25)))


@pytest.mark.parametrize("filters", [{}, {"online_only": True}, {"same_kota": True}, {"top": 3}])
def test_cached_suggestions_equal_the_uncached_ones(db, world, filters):
    pools = MentorPools()
    for e in world:
        assert _view(suggest_mentors(db, e, pools=pools, **filters)) == _view(
            suggest_mentors(db, e, **filters)
        )
    assert pools.builds == 1


def test_suggestions_equal_the_matching_core_when_every_mentor_is_open(db, world):
    # With every mentor open and a blank bio, the core's rank learns its text space from the same
    # bios (all the mentors') as the web suggestions do, so the two must agree exactly.
    db.execute(update(Mentor).values(active_count=0, paused=False, capacity=3))
    mentors = list(db.scalars(select(Mentor).order_by(Mentor.id)))
    pools = MentorPools()
    for e in world[:10]:
        e.bio = ""
        db.flush()
        ours = suggest_mentors(db, e, pools=pools)
        core = rank([to_entrepreneur(e)], [to_mentor(m) for m in mentors], top=10)
        assert [s.mentor.external_id for s in ours] == [s.mentor_id for s in core]
        assert [s.score for s in ours] == pytest.approx([s.score for s in core], abs=1e-5)
        assert [s.reasons for s in ours] == [s.reasons for s in core]


def test_a_mentor_who_fills_up_leaves_the_suggestions_without_re_encoding(db, world):
    pools = MentorPools()
    e = world[0]
    first = suggest_mentors(db, e, pools=pools)
    top = db.get(Mentor, first[0].mentor.id)
    top.active_count = top.capacity
    db.flush()
    after = suggest_mentors(db, e, pools=pools)
    assert top.id not in [s.mentor.id for s in after]
    assert _view(after) == _view(suggest_mentors(db, e))
    assert pools.builds == 1


def test_a_changed_profile_is_re_encoded(db, world):
    pools = MentorPools()
    e = world[1]
    first = suggest_mentors(db, e, pools=pools)
    mentor = db.get(Mentor, first[-1].mentor.id)
    mentor.sectors = [e.sector_code]
    mentor.bio = e.bio
    db.flush()
    after = suggest_mentors(db, e, pools=pools)
    assert pools.builds == 2
    assert _view(after) == _view(suggest_mentors(db, e))
    assert mentor.id in [s.mentor.id for s in after]


def test_an_entrepreneur_who_edits_the_profile_is_ranked_by_the_new_profile(db, world):
    pools = MentorPools()
    e = world[3]
    before = suggest_mentors(db, e, pools=pools)
    assert _view(suggest_mentors(db, e, pools=pools)) == _view(before)  # the cached encoding
    e.sector_code = next(s for s in ("A", "C", "G", "I", "J") if s != e.sector_code)
    e.needs = ["legal"] if e.needs != ["legal"] else ["marketing"]
    db.flush()
    after = suggest_mentors(db, e, pools=pools)
    assert _view(after) == _view(suggest_mentors(db, e)) != _view(before)
    # What the cache hands out cannot be changed by one caller for the next.
    encoded = next(iter(pools.current(db).encoded.values()))
    with pytest.raises(ValueError, match="read-only"):
        encoded.blocks["sector"][0, 0] = 5.0


def test_a_ranking_is_made_once_per_profile_filters_and_pool_version(db, world, monkeypatch):
    from webapp.services import suggestions

    calls = []
    real = suggestions.rank_arrays
    monkeypatch.setattr(suggestions, "rank_arrays", lambda *a, **k: calls.append(1) or real(*a, **k))
    pools = MentorPools()
    e = world[4]
    first = suggest_mentors(db, e, pools=pools)
    assert _view(suggest_mentors(db, e, pools=pools)) == _view(first) and len(calls) == 1
    suggest_mentors(db, e, pools=pools, online_only=True)  # other filters: another ranking
    assert len(calls) == 2
    top = db.get(Mentor, first[0].mentor.id)  # a change of any mentor: a new version, ranked anew
    top.active_count = top.capacity
    db.flush()
    after = suggest_mentors(db, e, pools=pools)
    assert len(calls) == 3 and top.id not in [s.mentor.id for s in after]
    assert _view(after) == _view(suggest_mentors(db, e))


def _assert_same_ranking(ours, theirs):
    """The same mentors in the same order with the same reasons; the scores equal to rounding (a
    ranking kept from before another mentor filled up was computed over one more candidate)."""
    assert [(s.mentor.id, s.reasons) for s in ours] == [(s.mentor.id, s.reasons) for s in theirs]
    assert [s.score for s in ours] == pytest.approx([s.score for s in theirs], abs=1e-5)


def _counting_rankings(monkeypatch) -> list:
    from webapp.services import suggestions

    calls: list = []
    real = suggestions.rank_arrays
    monkeypatch.setattr(suggestions, "rank_arrays", lambda *a, **k: calls.append(1) or real(*a, **k))
    return calls


def test_a_mentor_outside_a_ranking_who_fills_up_leaves_the_ranking_as_it_was(db, world, monkeypatch):
    calls = _counting_rankings(monkeypatch)
    pools = MentorPools()
    e = world[5]
    first = suggest_mentors(db, e, pools=pools)
    listed = {s.mentor.id for s in first}
    other = db.scalar(
        select(Mentor).where(Mentor.id.not_in(listed), Mentor.active_count < Mentor.capacity, ~Mentor.paused)
    )
    other.active_count = other.capacity
    db.flush()
    after = suggest_mentors(db, e, pools=pools)
    assert len(calls) == 1  # the same ranking, not made again
    assert _view(after) == _view(first)
    _assert_same_ranking(after, suggest_mentors(db, e))
    assert pools.builds == 1


def test_a_mentor_who_opens_up_again_is_ranked_at_once(db, world, monkeypatch):
    calls = _counting_rankings(monkeypatch)
    pools = MentorPools()
    e, bystander = world[6], world[7]
    first = suggest_mentors(db, e, pools=pools)
    suggest_mentors(db, bystander, pools=pools)
    top = db.get(Mentor, first[0].mentor.id)
    taken = top.active_count
    top.active_count = top.capacity
    db.flush()
    full = suggest_mentors(db, e, pools=pools)
    assert top.id not in [s.mentor.id for s in full] and len(calls) == 3
    top.active_count = taken  # a mentee leaves: the mentor may now belong in any ranking
    db.flush()
    assert _view(suggest_mentors(db, e, pools=pools)) == _view(first)
    _assert_same_ranking(suggest_mentors(db, bystander, pools=pools), suggest_mentors(db, bystander))
    assert len(calls) == 5 + 1  # both ranked anew (the uncached call above made one more)


def test_a_change_stamped_before_the_newest_one_seen_is_still_picked_up(db, world):
    import datetime as dt

    pools = MentorPools()
    e = world[8]
    first = suggest_mentors(db, e, pools=pools)
    listed = [s.mentor.id for s in first]
    elsewhere = db.scalar(select(Mentor).where(Mentor.id.not_in(listed)))
    elsewhere.bio = (elsewhere.bio or "") + " "  # the newest change the pool has seen is someone else's
    db.flush()
    newest = pools.current(db).version[1]
    late, other = db.get(Mentor, listed[0]), db.get(Mentor, listed[-1])
    # A transaction that wrote ``late`` before the newest change the pool saw, committed after it
    # (half a minute before: a transaction begins before it writes, and on PostgreSQL the refresh
    # looks back to the oldest transaction open at the pool's read, this test's own).
    late.active_count = late.capacity
    late.updated_at = newest - dt.timedelta(seconds=30)
    db.flush()
    assert pools.current(db).version[1] == newest  # nothing to see yet: the version did not move
    other.active_count = other.capacity  # the next change moves the version
    db.flush()
    after = suggest_mentors(db, e, pools=pools)
    assert {late.id, other.id}.isdisjoint(s.mentor.id for s in after)
    _assert_same_ranking(after, suggest_mentors(db, e))


def test_a_new_mentor_is_scored_at_once(db, world):
    from tests.factories import make_mentor

    pools = MentorPools()
    e = world[2]
    suggest_mentors(db, e, pools=pools)
    newcomer = make_mentor(db)
    db.flush()
    assert score_pair(db, e, newcomer, pools=pools) == score_pair(db, e, newcomer)


def test_cached_pair_scores_equal_the_uncached_ones(db, world):
    pools = MentorPools()
    mentors = list(db.scalars(select(Mentor).order_by(Mentor.id)))
    for e in world[:5]:
        for m in mentors[::4]:
            assert score_pair(db, e, m, pools=pools) == score_pair(db, e, m)


def test_the_suggestions_page_uses_the_app_cache(client, db, world):
    from tests.factories import login, make_user
    from webapp.suggestion_cache import mentor_pools

    user = make_user(db)
    e = world[3]
    e.user_id = user.id
    db.flush()
    assert login(client, user.email).status_code == 302
    assert client.get("/me/mentors").status_code == 200
    assert client.get("/me/mentors?online=1").status_code == 200
    with client.application.app_context():
        assert mentor_pools().builds == 1


def test_a_gunicorn_worker_encodes_the_mentors_before_its_first_request(client, db, world):
    """post_worker_init builds the pool, so the first suggestions page finds it ready."""
    import runpy
    import types
    from pathlib import Path

    from tests.factories import login, make_user
    from webapp.suggestion_cache import mentor_pools

    db.commit()
    conf = runpy.run_path(str(Path(__file__).resolve().parents[2] / "gunicorn.conf.py"))
    try:
        conf["post_worker_init"](types.SimpleNamespace(wsgi=client.application))
    finally:
        import gc

        gc.unfreeze()
    with client.application.app_context():
        pools = mentor_pools()
        assert pools.builds == 1
    user = make_user(db)
    world[3].user_id = user.id
    db.commit()
    assert login(client, user.email).status_code == 302
    assert client.get("/me/mentors").status_code == 200
    assert pools.builds == 1  # served from the pool made at start, not encoded again


def test_a_warm_up_without_a_database_lets_the_worker_start_and_builds_on_first_use(tmp_path, caplog):
    from webapp import create_app
    from webapp.suggestion_cache import warm_up

    app = create_app({"ENV": "testing", "DATABASE_URL": f"sqlite:///{tmp_path}/not-migrated.db"})
    with caplog.at_level("WARNING", logger="webapp.suggestion_cache"):
        assert warm_up(app) is False
    assert "not encoded at start" in caplog.text
    assert app.extensions["jakmentor.mentor_pools"].builds == 0


def test_postgresql_a_refresh_reads_back_to_the_oldest_open_transaction_not_an_hour(postgres, monkeypatch):
    """After a bulk change (an import half an hour ago) a refresh re-reads only what changed since
    the pool's last read, and a transaction that commits late, stamped before the newest change
    the pool saw, is still picked up at the next change."""
    import datetime as dt

    from sqlalchemy import delete
    from sqlalchemy.orm import Session

    from models import utcnow
    from tests.factories import make_mentor

    with Session(postgres) as setup:
        imported = [
            make_mentor(setup, capacity=3, updated_at=utcnow() - dt.timedelta(minutes=30)) for _ in range(6)
        ]
        setup.commit()
        ids = [m.id for m in imported]
    # One clock here (the margin is for a web host's clock apart from PostgreSQL's): no slack hides a miss.
    monkeypatch.setattr(mentor_pool, "CLOCK_MARGIN", dt.timedelta(0))
    reader, writer = Session(postgres), Session(postgres)
    pools = MentorPools()

    def current():
        reader.rollback()  # each look in a transaction of its own, as each request has
        return pools.current(reader)

    def change(mentor_id: int) -> None:
        with Session(postgres) as other:
            other.get(Mentor, mentor_id).paused = True
            other.commit()

    try:
        first = current()
        assert first.reread >= 6 and first.open_since is not None
        late = writer.get(Mentor, ids[0])
        late.active_count = late.capacity
        writer.flush()  # written and stamped, not committed
        change(ids[1])  # the version moves past the late row's stamp
        seen = current()
        assert seen.reread == 1  # the mentor changed since, not the six of the import
        assert seen.free[seen.index_of(ids[0])] == 3 and seen.free[seen.index_of(ids[1])] == 0
        writer.commit()  # the late row: stamped before the newest change seen, committed after it
        change(ids[2])
        after = current()
        assert after.free[after.index_of(ids[0])] == 0 and after.free[after.index_of(ids[2])] == 0
        assert after.reread < 6
        assert pools.builds == 1
    finally:
        reader.close()
        writer.close()
        with Session(postgres) as cleanup:
            cleanup.execute(delete(Mentor).where(Mentor.id.in_(ids)))
            cleanup.commit()


def test_postgresql_sessions_the_app_may_not_see_make_a_refresh_look_back_the_whole_hour(postgres):
    """Without ``pg_read_all_stats`` a role sees other roles' sessions without their state: the
    oldest open transaction is unknown, so the refresh keeps ``REFRESH_SLACK``."""
    import os

    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import ProgrammingError
    from sqlalchemy.orm import Session

    role = f"jkm_no_stats_{os.getpid()}"
    try:
        with postgres.begin() as admin:
            admin.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
            admin.execute(text(f'CREATE ROLE "{role}" LOGIN'))
    except ProgrammingError:
        pytest.skip("the test database's user may not create roles")
    limited = create_engine(postgres.url.set(username=role))
    try:
        with Session(postgres) as busy:
            busy.execute(text("SELECT 1"))  # a transaction of another role, open meanwhile
            with Session(limited) as app:
                assert mentor_pool.open_since_now(app) is None
            assert mentor_pool.open_since_now(busy) is not None  # its own role sees every session
    finally:
        limited.dispose()
        with postgres.begin() as admin:
            admin.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
