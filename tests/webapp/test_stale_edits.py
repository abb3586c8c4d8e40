"""Lost updates (CON-5): an edit of a row saved by someone else since it was read answers 409, writes nothing."""

from __future__ import annotations

from sqlalchemy import event, select, text
from sqlalchemy.orm.exc import StaleDataError

from models import MatchRequest, Role, User
from tests.factories import PASSWORD, login, make_entrepreneur, make_mentor, make_user
from webapp.services import mentorship


def test_deleting_an_account_while_the_mentor_answers_its_request_answers_409_and_deletes_nothing(client, db):
    user = make_user(db, Role.ENTREPRENEUR)
    entrepreneur = make_entrepreneur(db, user)
    mentor = make_mentor(db, make_user(db, Role.MENTOR))
    request = mentorship.request_mentor(db, entrepreneur, mentor.id)
    db.commit()
    login(client, user.email)
    answered = []

    def mentor_answers_meanwhile(_mapper, conn, target):
        # The deletion read the request (version 1) and changed it in memory; the mentor's answer
        # is saved just before the deletion's write reaches the database (the version moves on).
        if target.id == request.id and not answered:
            answered.append(True)
            conn.execute(
                text("UPDATE match_request SET version = version + 1 WHERE id = :id"), {"id": request.id}
            )

    event.listen(MatchRequest, "before_update", mentor_answers_meanwhile)
    try:
        response = client.post("/me/delete", data={"password": PASSWORD, "confirm": "HAPUS"})
    finally:
        event.remove(MatchRequest, "before_update", mentor_answers_meanwhile)
    assert answered and response.status_code == 409
    assert "Data berubah sementara Anda mengisinya" in response.get_data(as_text=True)
    db.expire_all()
    kept = db.get(User, user.id)
    assert kept.deleted_at is None and kept.email == user.email  # nothing half-written
    assert db.get(MatchRequest, request.id).status == "pending"


def test_a_stale_edit_through_the_api_answers_409_with_the_conflict_envelope(client, db, monkeypatch):
    user = make_user(db, Role.ENTREPRENEUR)
    entrepreneur = make_entrepreneur(db, user)
    mentor = make_mentor(db, make_user(db, Role.MENTOR))
    request = mentorship.request_mentor(db, entrepreneur, mentor.id)
    db.commit()
    login(client, user.email)
    real_withdraw = mentorship.withdraw_request

    def withdraw_then_find_it_changed(session, *args, **kwargs):
        real_withdraw(session, *args, **kwargs)  # written in this request's transaction only
        raise StaleDataError(
            "UPDATE statement on table 'match_request' expected to update 1 row(s); 0 were matched."
        )

    monkeypatch.setattr(mentorship, "withdraw_request", withdraw_then_find_it_changed)
    response = client.post(f"/api/v1/requests/{request.id}/withdraw")
    assert response.status_code == 409
    body = response.get_json()
    assert (body["code"], body["status"], body["reason"]) == (409, "Conflict", "conflict")
    db.expire_all()
    assert db.scalar(select(MatchRequest.status).where(MatchRequest.id == request.id)) == "pending"
