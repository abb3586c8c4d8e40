"""The schema: migrations equal the models, and the database itself guards the invariants."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from models import Base, Match, MatchRequest, Mentor, utcnow
from tests.factories import make_entrepreneur, make_mentor


def test_migrations_match_the_models(connection):
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    assert compare_metadata(context, Base.metadata) == []


def test_reference_data_is_loaded(db):
    from models import Kecamatan, Kelurahan, Sector, SupportArea

    assert db.scalar(select(Kecamatan).where(Kecamatan.code == "31.71.01")).name == "Gambir"
    assert len(db.scalars(select(Kecamatan)).all()) == 44
    assert len(db.scalars(select(Kelurahan)).all()) == 267
    assert {s.code for s in db.scalars(select(Sector))} >= {"C", "G", "I"}
    assert db.get(SupportArea, "licensing").pas_step == "P4"


def test_mentor_can_never_hold_more_mentees_than_capacity(db):
    mentor = make_mentor(db, capacity=1, active_count=1)
    with pytest.raises(IntegrityError), db.begin_nested():
        db.execute(update(Mentor).where(Mentor.id == mentor.id).values(active_count=2))


def test_mentee_count_never_drops_below_zero(db):
    mentor = make_mentor(db)
    with pytest.raises(IntegrityError), db.begin_nested():
        db.execute(update(Mentor).where(Mentor.id == mentor.id).values(active_count=-1))


def test_an_entrepreneur_has_at_most_one_active_mentorship(db):
    e = make_entrepreneur(db)
    m1, m2 = make_mentor(db), make_mentor(db)
    db.add(Match(entrepreneur_id=e.id, mentor_id=m1.id, status="active"))
    db.flush()
    db.add(Match(entrepreneur_id=e.id, mentor_id=m2.id, status="ended"))
    db.flush()  # past mentorships do not count
    with pytest.raises(IntegrityError), db.begin_nested():
        db.add(Match(entrepreneur_id=e.id, mentor_id=m2.id, status="active"))
        db.flush()


def test_one_open_request_per_pair(db):
    e, m = make_entrepreneur(db), make_mentor(db)
    db.add(MatchRequest(entrepreneur_id=e.id, mentor_id=m.id, status="declined"))
    db.add(MatchRequest(entrepreneur_id=e.id, mentor_id=m.id, status="pending"))
    db.flush()
    with pytest.raises(IntegrityError), db.begin_nested():
        db.add(MatchRequest(entrepreneur_id=e.id, mentor_id=m.id, status="pending"))
        db.flush()


def test_unknown_request_status_is_refused(db):
    e, m = make_entrepreneur(db), make_mentor(db)
    with pytest.raises(IntegrityError), db.begin_nested():
        db.add(MatchRequest(entrepreneur_id=e.id, mentor_id=m.id, status="maybe"))
        db.flush()


def test_timestamps_come_back_as_aware_utc(db):
    e = make_entrepreneur(db)
    db.expire_all()
    fresh = db.get(type(e), e.id)
    assert fresh.created_at.tzinfo is not None
    assert fresh.created_at.utcoffset() == dt.timedelta(0)
    assert abs(utcnow() - fresh.created_at) < dt.timedelta(minutes=5)


def test_naive_datetimes_are_refused(db):
    e = make_entrepreneur(db)
    e.created_at = dt.datetime(2026, 1, 1)
    with pytest.raises(Exception, match="naive datetime"), db.begin_nested():
        db.flush()


def test_migrations_downgrade_and_upgrade_cleanly(tmp_path):
    from sqlalchemy import inspect

    from models.db import make_engine
    from models.migrate import downgrade, upgrade

    url = f"sqlite:///{tmp_path / 'roundtrip.db'}"
    upgrade(url)
    downgrade(url, revision="base")
    engine = make_engine(url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    upgrade(url)
    engine = make_engine(url)
    assert {"user_account", "mentor", "api_token", "mentoring_session"} <= set(inspect(engine).get_table_names())
    engine.dispose()
