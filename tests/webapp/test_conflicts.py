"""Writes that race with others end in a clear refusal, never a server error."""

from __future__ import annotations

import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from models import Mentor, Role
from tests.factories import login, make_mentor, make_user
from webapp.services import profiles
from webapp.services.errors import InvalidInput


def _mentor_form(mentor, **changes):
    data = {
        "company": "Katering Bu Sri", "sectors": mentor.sectors, "stages": mentor.stages, "kecamatan": mentor.kecamatan_code,
        "expertise": mentor.expertise, "capacity": str(mentor.capacity), "languages": mentor.languages, "mode": mentor.mode,
        "availability": "", "gender": "", "bio": "",
    }  # fmt: skip
    data.update(changes)
    return data


def test_lowering_capacity_below_mentees_taken_meanwhile_is_refused(db):
    user = make_user(db, Role.MENTOR)
    mentor = make_mentor(db, user, capacity=3, active_count=0)
    # An accept commits after this request read the mentor (simulated: the row object is stale).
    db.execute(
        update(Mentor)
        .where(Mentor.id == mentor.id)
        .values(active_count=2)
        .execution_options(synchronize_session=False)
    )
    assert mentor.active_count == 0
    with pytest.raises(InvalidInput) as exc:
        profiles.save_mentor_profile(db, user, _mentor_form(mentor, capacity="1"))
    assert [e.code for e in exc.value.errors] == ["below_active"]
    db.expire_all()
    fresh = db.get(Mentor, mentor.id)
    assert (fresh.capacity, fresh.active_count) == (3, 2)


def test_a_write_refused_by_a_constraint_answers_409_not_500(client, db, monkeypatch):
    from webapp.services import members_csv

    staff = make_user(db, Role.STAFF)
    make_mentor(db, external_id="TMRACE")
    login(client, staff.email)

    def refused(*_a, **_k):
        raise IntegrityError("UPDATE mentor ...", {}, Exception("ck_mentor_active_within_capacity"))

    monkeypatch.setattr(members_csv, "update_member", refused)
    response = client.post("/staff/members/mentors/TMRACE/edit", data={"capacity": "1"})
    assert response.status_code == 409
    assert "Data berubah" in response.get_data(as_text=True)
