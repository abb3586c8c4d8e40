"""Personal data (UU 27/2022): a person downloads what is held about them and can delete their account."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select

from models import (
    AuditLog,
    Match,
    MatchRequest,
    Mentor,
    MentoringSession,
    Notification,
    Role,
    SessionFeedback,
    StatusChange,
    User,
)
from tests.factories import PASSWORD, login, make_entrepreneur, make_mentor, make_user
from webapp.services.notifications import notify
from webapp.services.personal_data import delete_account, export_personal_data


@pytest.fixture
def people(db):
    """Siti (entrepreneur) mentored by Budi, a pending request of Siti's to Dewi, one held session."""
    siti = make_user(
        db,
        Role.ENTREPRENEUR,
        name="Siti Rahmawati",
        email="siti@example.id",
        consent=True,
        notice_version="2026-11",
    )
    budi = make_user(db, Role.MENTOR, name="Budi Santoso", email="budi@example.id")
    dewi = make_user(db, Role.MENTOR, name="Dewi Lestari", email="dewi@example.id")
    budi.phone, dewi.phone = "+62811000001", "+62811000002"
    siti.phone = "+62812999999"
    e = make_entrepreneur(db, siti, business_name="Warung Siti", bio="Nasi uduk sejak 2019")
    m_budi = make_mentor(db, budi, active_count=1, bio="Mantan manajer ritel")
    m_dewi = make_mentor(db, dewi)
    accepted = MatchRequest(
        entrepreneur_id=e.id, mentor_id=m_budi.id, status="accepted", message="Mohon bimbingan perizinan"
    )
    waiting = MatchRequest(
        entrepreneur_id=e.id, mentor_id=m_dewi.id, status="pending", message="Halo Bu Dewi"
    )
    db.add_all([accepted, waiting])
    db.flush()
    match = Match(entrepreneur_id=e.id, mentor_id=m_budi.id, request_id=accepted.id)
    db.add(match)
    db.flush()
    starts = dt.datetime(2026, 11, 2, 3, 0, tzinfo=dt.UTC)
    held = MentoringSession(
        match_id=match.id,
        week_start=dt.date(2026, 11, 2),
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=1),
        mode="online",
        status="held",
    )
    db.add(held)
    db.flush()
    db.add(
        SessionFeedback(
            session_id=held.id, author_id=siti.id, happened=True, rating=5, note="Sangat membantu"
        )
    )
    notify(db, siti, "request_accepted", request_id=accepted.id)
    db.flush()
    return {"siti": siti, "budi": budi, "dewi": dewi, "e": e, "m_budi": m_budi, "m_dewi": m_dewi,
            "match": match, "waiting": waiting, "accepted": accepted}  # fmt: skip


def _count(db, model, *where) -> int:
    return db.scalar(select(func.count()).select_from(model).where(*where))


def test_export_holds_the_persons_own_data_and_no_one_elses_contacts(db, people):
    data = export_personal_data(db, people["siti"])
    assert data["account"]["email"] == "siti@example.id"
    assert data["account"]["phone"] == "+62812999999"
    assert "password_hash" not in data["account"] and "session_version" not in data["account"]
    assert data["consent"]["privacy_notice_version"] == "2026-11" and data["consent"]["privacy_consent_at"]
    assert data["entrepreneur_profile"]["business_name"] == "Warung Siti"
    assert {r["other_person"] for r in data["requests"]} == {"Budi Santoso", "Dewi Lestari"}
    assert {r["your_message"] for r in data["requests"]} == {"Mohon bimbingan perizinan", "Halo Bu Dewi"}
    assert [m["other_person"] for m in data["matches"]] == ["Budi Santoso"]
    assert [s["status"] for s in data["sessions"]] == ["held"]
    assert [(f["rating"], f["note"]) for f in data["feedback_written"]] == [(5, "Sangat membantu")]
    assert [n["kind"] for n in data["notifications"]] == ["request_accepted"]
    text = json.dumps(data)
    for other in ("budi@example.id", "dewi@example.id", "+62811000001", "+62811000002", "Mantan manajer"):
        assert other not in text


def test_a_mentors_export_does_not_carry_the_entrepreneurs_message(db, people):
    data = export_personal_data(db, people["dewi"])
    assert data["mentor_profile"]["id"] == people["m_dewi"].id
    assert [r["other_person"] for r in data["requests"]] == ["Siti Rahmawati"]
    text = json.dumps(data)
    assert "Halo Bu Dewi" not in text and "siti@example.id" not in text and "+62812999999" not in text


def test_the_download_is_json_for_its_owner_only(client, db, people):
    anonymous = client.get("/me/data.json")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    login(client, "siti@example.id")
    response = client.get("/me/data.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    data = response.get_json()
    assert data["account"]["email"] == "siti@example.id"
    assert "budi@example.id" not in response.get_data(as_text=True)
    assert _count(db, AuditLog, AuditLog.action == "personal_data.exported") == 1


def test_the_page_shows_what_is_held_and_the_way_out(client, db, people):
    login(client, "budi@example.id")
    page = client.get("/me/data").get_data(as_text=True)
    assert "Data pribadi saya" in page and "budi@example.id" in page
    assert "/me/data.json" in page and 'action="/me/delete"' in page
    assert "siti@example.id" not in page
    assert "My personal data" in client.get("/me/data?lang=en").get_data(as_text=True)


def test_staff_cannot_delete_themselves_by_self_service(client, db):
    staff = make_user(db, Role.STAFF)
    login(client, staff.email)
    assert "ditutup oleh admin" in client.get("/me/data").get_data(as_text=True)
    assert client.post("/me/delete", data={"password": PASSWORD, "confirm": "HAPUS"}).status_code == 403
    assert db.get(User, staff.id).deleted_at is None


@pytest.mark.parametrize(
    ("password", "confirm", "message"),
    [("salah-sekali-123", "HAPUS", "Kata sandi sekarang salah"), (PASSWORD, "hapus saja", "Ketik HAPUS")],
)
def test_delete_with_a_wrong_password_or_word_changes_nothing(client, db, people, password, confirm, message):
    login(client, "siti@example.id")
    response = client.post("/me/delete", data={"password": password, "confirm": confirm})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    db.expire_all()
    siti = db.get(User, people["siti"].id)
    assert siti.deleted_at is None and siti.email == "siti@example.id" and siti.is_active
    assert db.get(Match, people["match"].id).status == "active"
    assert client.get("/me/data").status_code == 200  # still logged in


def test_deleting_an_entrepreneur_anonymises_logs_out_and_frees_the_mentor(app, client, db, people):
    login(client, "siti@example.id")
    old_cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    response = client.post("/me/delete", data={"password": PASSWORD, "confirm": "HAPUS"})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "Akun Anda telah dihapus" in client.get("/").get_data(as_text=True)

    db.expire_all()
    siti = db.get(User, people["siti"].id)
    assert siti.name == f"Anggota terhapus #{siti.id}"
    assert siti.email == f"deleted-{siti.id}@invalid"
    assert siti.phone is None and not siti.is_active and siti.deleted_at is not None
    e = people["e"]
    assert (e.name, e.business_name, e.bio) == (siti.name, None, "")
    assert (e.sector_code, e.stage_code, e.kecamatan_code) == ("I", "early", "31.71.01")

    # The mentor's place is free again and the mentorship ended for a recorded reason.
    match = db.get(Match, people["match"].id)
    assert (match.status, match.end_reason) == ("ended", "account_deleted")
    assert db.get(Mentor, people["m_budi"].id).active_count == 0
    # The request still waiting on Dewi is withdrawn, and Dewi is told.
    assert db.get(MatchRequest, people["waiting"].id).status == "withdrawn"
    assert _count(
        db, Notification, Notification.user_id == people["dewi"].id, Notification.kind == "request_closed"
    )
    # What Siti wrote in free text is gone; the facts stay.
    assert db.get(MatchRequest, people["accepted"].id).message is None
    feedback = db.scalar(select(SessionFeedback).where(SessionFeedback.author_id == siti.id))
    assert feedback.note is None and feedback.rating == 5

    # The old session cookie no longer works, and neither does the old password.
    other = app.test_client()
    other.set_cookie(app.config["SESSION_COOKIE_NAME"], old_cookie)
    stale = other.get("/me/data")
    assert stale.status_code == 302 and "/login" in stale.headers["Location"]
    assert login(app.test_client(), "siti@example.id").status_code == 401
    assert login(app.test_client(), siti.email).status_code == 401

    # One audit row says what happened, without the person's data.
    [audit] = db.scalars(select(AuditLog).where(AuditLog.action == "account.deleted")).all()
    assert (audit.object_type, audit.object_id, audit.actor_id) == ("user", str(siti.id), siti.id)
    logged = json.dumps([audit.before, audit.after, audit.note])
    for personal in ("Siti", "siti@example.id", "+62812999999", "Warung"):
        assert personal not in logged


def test_deleting_an_entrepreneur_keeps_the_programme_statistics(db, people):
    e_id = people["e"].id
    before = (
        _count(db, MatchRequest, MatchRequest.entrepreneur_id == e_id),
        _count(db, Match, Match.entrepreneur_id == e_id),
        _count(db, MentoringSession),
        _count(db, SessionFeedback),
    )
    delete_account(db, people["siti"])
    db.flush()
    after = (
        _count(db, MatchRequest, MatchRequest.entrepreneur_id == e_id),
        _count(db, Match, Match.entrepreneur_id == e_id),
        _count(db, MentoringSession),
        _count(db, SessionFeedback),
    )
    assert after == before == (2, 1, 1, 1)
    assert _count(db, StatusChange, StatusChange.note == "account_deleted") == 2  # one request, one match


def test_deleting_a_mentor_pauses_them_and_declines_what_waits_on_them(db, people):
    dewi = people["dewi"]
    delete_account(db, dewi, actor=None)
    m_dewi = people["m_dewi"]
    assert m_dewi.paused and m_dewi.free_places == 0 and m_dewi.capacity == 0
    assert m_dewi.name == f"Anggota terhapus #{dewi.id}" and m_dewi.bio == ""
    waiting = people["waiting"]
    assert (waiting.status, waiting.response_reason) == ("declined", "account_deleted")
    assert _count(
        db, Notification, Notification.user_id == people["siti"].id, Notification.kind == "request_declined"
    )


def test_deleting_a_mentor_with_a_mentee_frees_the_mentee(db, people):
    delete_account(db, people["budi"])
    assert people["match"].status == "ended"
    assert people["m_budi"].active_count == 0 and people["m_budi"].capacity == 0


def test_a_mentorship_ended_while_the_account_is_deleted_keeps_its_end_and_frees_one_place(db, people):
    """The mentor completes the mentorship (rating 5) after the deletion read it as active and
    before it ends it: the mentor's end stands, and the place is freed once, not twice."""
    from sqlalchemy import event, update

    from models import Mentor

    match, m_budi = people["match"], people["m_budi"]
    m_budi.active_count = 2  # another mentee stays
    db.flush()
    done: list[int] = []

    def mentor_ends_it_meanwhile(state):
        if (
            done
            or not state.is_select
            or Match not in [d.get("entity") for d in state.statement.column_descriptions]
        ):
            return None
        frozen = state.invoke_statement().freeze()  # the deletion has read the match as active
        done.append(1)
        conn = db.connection()
        conn.execute(
            update(Match.__table__)
            .where(Match.__table__.c.id == match.id)
            .values(status="completed", end_reason="completed", rating=5, ended_at=dt.datetime.now(dt.UTC))
        )
        conn.execute(
            update(Mentor.__table__)
            .where(Mentor.__table__.c.id == m_budi.id)
            .values(active_count=Mentor.__table__.c.active_count - 1)
        )
        return frozen()

    event.listen(db, "do_orm_execute", mentor_ends_it_meanwhile)
    try:
        delete_account(db, people["siti"])
    finally:
        event.remove(db, "do_orm_execute", mentor_ends_it_meanwhile)
    assert done
    db.expire_all()
    assert (match.status, match.end_reason, match.rating) == ("completed", "completed", 5)
    assert m_budi.active_count == 1  # the other mentee's place is still taken
    assert (
        _count(db, StatusChange, StatusChange.match_id == match.id, StatusChange.note == "account_deleted")
        == 0
    )


def test_undelivered_messages_to_a_deleted_person_are_dropped(db, people):
    siti = people["siti"]
    assert _count(db, Notification, Notification.user_id == siti.id) == 1
    delete_account(db, siti)
    assert _count(db, Notification, Notification.user_id == siti.id) == 0
    assert notify(db, siti, "request_accepted", request_id=people["accepted"].id) is None


def test_deleting_twice_changes_nothing_more(db, people):
    siti = people["siti"]
    delete_account(db, siti)
    version = siti.session_version
    delete_account(db, siti)
    assert siti.session_version == version
    assert _count(db, AuditLog, AuditLog.action == "account.deleted") == 1


def test_the_delete_form_needs_its_csrf_token(session_factory, db, people, tmp_path):
    from webapp import create_app

    app = create_app({"ENV": "testing", "RATELIMIT_ENABLED": False}, session_factory=session_factory)
    app.instance_path = str(tmp_path)
    client = app.test_client()
    siti = people["siti"]
    from webapp.services.login_sessions import SessionPolicy, start_session

    secret = start_session(db, siti, SessionPolicy())
    with client.session_transaction() as s:
        s["_user_id"], s["_fresh"] = f"{siti.id}:{siti.session_version}:{secret}", True
    page = client.get("/me/data")
    assert page.status_code == 200 and 'name="csrf_token"' in page.get_data(as_text=True)
    response = client.post("/me/delete", data={"password": PASSWORD, "confirm": "HAPUS"})
    assert response.status_code == 400
    db.expire_all()
    assert db.get(User, siti.id).deleted_at is None


def test_guessing_the_password_on_the_delete_form_meets_the_login_floor(client, db, people):
    login(client, "siti@example.id")
    statuses = [
        client.post("/me/delete", data={"password": f"tebakan-{i}-salah", "confirm": "HAPUS"}).status_code
        for i in range(8)
    ]
    assert statuses[0] == 422 and statuses[-1] == 429
    response = client.post("/me/delete", data={"password": PASSWORD, "confirm": "HAPUS"})
    assert response.status_code == 429 and "Retry-After" in response.headers
    db.expire_all()
    assert db.get(User, people["siti"].id).deleted_at is None


def test_tokens_are_listed_without_secrets_and_revoked_at_deletion(db, people):
    from models import ApiToken

    siti = people["siti"]
    siti.calendar_token_hash = "c" * 64
    token = ApiToken(user_id=siti.id, token_hash="a" * 64, name="laptop")
    db.add(token)
    db.flush()
    data = export_personal_data(db, siti)
    assert [t["name"] for t in data["api_tokens"]] == ["laptop"]
    assert data["account"]["calendar_feed_enabled"] is True
    assert "a" * 64 not in json.dumps(data) and "c" * 64 not in json.dumps(data)
    delete_account(db, siti)
    db.refresh(token)
    assert token.revoked_at is not None and siti.calendar_token_hash is None
