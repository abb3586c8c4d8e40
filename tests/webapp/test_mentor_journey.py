"""A mentor keeps a profile, answers requests from an inbox, pauses and resumes, and follows their mentees."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from models import AuditLog, Match, MatchRequest, Mentor, PasProgress, Role
from tests.factories import login, make_entrepreneur, make_mentor, make_user
from webapp.services import mentorship, progress
from webapp.services.errors import NotFound

PROFILE = {
    "company": "Katering Ratna",
    "sectors": ["I", "C"],
    "stages": ["early", "growth"],
    "expertise": ["marketing", "financing"],
    "kecamatan": "31.74.01",
    "capacity": "3",
    "languages": ["en"],
    "mode": "either",
    "from_tue": "19",
    "to_tue": "21",
    "gender": "f",
    "bio": "Tiga puluh tahun berdagang.",
}


@pytest.fixture
def mentor(db, client):
    """A logged-in mentor with two places."""
    user = make_user(db, Role.MENTOR, name="Bu Ratna")
    row = make_mentor(db, user, capacity=2)
    login(client, user.email)
    return row


def _asked_by(db, mentor, n=1, **kw):
    out = []
    for _ in range(n):
        e_user = make_user(db, Role.ENTREPRENEUR)
        e = make_entrepreneur(db, e_user, business_name=f"Warung {e_user.id}", **kw)
        out.append(mentorship.request_mentor(db, e, mentor.id, message="Mohon bimbingan"))
    return out


def test_a_new_mentor_fills_in_the_profile(client, db):
    user = make_user(db, Role.MENTOR)
    login(client, user.email)
    page = client.get("/dashboard").get_data(as_text=True)
    assert "Isi profil mentor" in page and "/mentor/profile" in page
    response = client.post("/mentor/profile", data=PROFILE)
    assert response.status_code == 302
    row = db.scalar(select(Mentor).where(Mentor.user_id == user.id))
    assert row.external_id == f"WM{user.id}" and row.capacity == 3 and row.sectors == ["I", "C"]
    assert row.languages == ["id", "en"] and row.availability == "tue 19:00-21:00"


def test_capacity_may_not_go_below_the_mentees_held(client, db, mentor):
    for req in _asked_by(db, mentor, 2):
        mentorship.accept_request(db, mentor, req.id)
    response = client.post("/mentor/profile", data={**PROFILE, "capacity": "1"})
    assert response.status_code == 422
    assert "tidak boleh kurang dari jumlah wirausaha yang sedang Anda dampingi (2)" in response.get_data(
        as_text=True
    )
    db.expire_all()
    assert db.get(Mentor, mentor.id).capacity == 2 and db.get(Mentor, mentor.id).company is None


def test_the_inbox_shows_profile_summary_and_stored_reasons(client, db, mentor):
    (req,) = _asked_by(db, mentor)
    page = client.get("/mentor/requests").get_data(as_text=True)
    assert req.entrepreneur.business_name in page and "Mohon bimbingan" in page
    assert "sektor sama" in page and "menunggu kurang dari sehari" in page
    assert "Tidak ada waktu/tempat lagi" in page  # decline reasons, translated
    english = client.get("/mentor/requests?lang=en").get_data(as_text=True)
    assert "same sector" in english and "Schedule does not fit" in english


def test_accepting_starts_the_mentorship_and_closes_the_other_requests(client, db, mentor):
    (req,) = _asked_by(db, mentor)
    other_mentor = make_mentor(db)
    other = mentorship.request_mentor(db, req.entrepreneur, other_mentor.id)
    response = client.post(f"/mentor/requests/{req.id}/accept")
    match = db.scalar(select(Match).where(Match.request_id == req.id))
    assert response.headers["Location"].endswith(f"/mentor/mentees/{match.id}")
    db.expire_all()
    assert db.get(MatchRequest, req.id).status == "accepted"
    assert db.get(MatchRequest, other.id).status == "closed"
    assert db.get(Mentor, mentor.id).active_count == 1
    page = client.get(f"/mentor/mentees/{match.id}").get_data(as_text=True)
    assert req.entrepreneur.business_name in page and "Catat langkah" in page


def test_decline_with_a_reason_and_a_note(client, db, mentor):
    (req,) = _asked_by(db, mentor)
    response = client.post(
        f"/mentor/requests/{req.id}/decline", data={"reason": "schedule", "note": "Coba Pak Budi"}
    )
    assert response.status_code == 302
    db.expire_all()
    row = db.get(MatchRequest, req.id)
    assert (row.status, row.response_reason, row.response_note) == ("declined", "schedule", "Coba Pak Budi")
    # The entrepreneur reads the reason in words.
    client.post("/logout")
    login(client, req.entrepreneur.user.email)
    page = client.get("/me/requests").get_data(as_text=True)
    assert "ditolak" in page and "Jadwal tidak cocok" in page


def test_a_full_mentor_sees_a_capacity_message(client, db, mentor):
    reqs = _asked_by(db, mentor, 3)
    client.post(f"/mentor/requests/{reqs[0].id}/accept")
    client.post(f"/mentor/requests/{reqs[1].id}/accept")
    response = client.post(f"/mentor/requests/{reqs[2].id}/accept", follow_redirects=True)
    assert "Semua tempat Anda sudah terisi" in response.get_data(as_text=True)
    db.expire_all()
    assert db.get(MatchRequest, reqs[2].id).status == "pending"
    assert db.get(Mentor, mentor.id).active_count == 2


def test_an_answered_request_says_so(client, db, mentor):
    (req,) = _asked_by(db, mentor)
    mentorship.withdraw_request(db, req.entrepreneur, req.id)
    response = client.post(f"/mentor/requests/{req.id}/accept", follow_redirects=True)
    assert "sudah tidak menunggu jawaban (status: ditarik)" in response.get_data(as_text=True)


def test_another_mentors_request_or_mentee_answers_404(client, db, mentor):
    stranger = make_mentor(db)
    (req,) = _asked_by(db, stranger)
    assert client.post(f"/mentor/requests/{req.id}/accept").status_code == 404
    assert client.post(f"/mentor/requests/{req.id}/decline", data={"reason": "other"}).status_code == 404
    match = mentorship.accept_request(db, stranger, req.id)
    assert client.get(f"/mentor/mentees/{match.id}").status_code == 404
    assert client.post(f"/mentor/mentees/{match.id}/progress", data={"step": "P3"}).status_code == 404
    assert client.post(f"/mentor/mentees/{match.id}/end", data={"reason": "other"}).status_code == 404


def test_pause_and_one_click_resume_after_an_automatic_pause(client, db, mentor):
    client.post("/mentor/pause")
    db.expire_all()
    assert db.get(Mentor, mentor.id).paused is True
    mentorship.set_paused(db, db.get(Mentor, mentor.id), True, reason="unanswered_requests")
    page = client.get("/dashboard").get_data(as_text=True)
    assert "Profil dijeda otomatis" in page and "Aktifkan lagi" in page
    client.post("/mentor/resume")
    db.expire_all()
    assert db.get(Mentor, mentor.id).paused is False
    assert db.scalar(select(AuditLog).where(AuditLog.action == "mentor.resume")) is not None


def test_the_mentor_records_a_pas_step_and_a_stranger_may_not(client, db, mentor):
    (req,) = _asked_by(db, mentor)
    match = mentorship.accept_request(db, mentor, req.id)
    response = client.post(
        f"/mentor/mentees/{match.id}/progress",
        data={"step": "P4", "achieved_on": "2026-01-15", "note": "NIB terbit"},
    )
    assert response.status_code == 302
    row = db.scalar(select(PasProgress).where(PasProgress.entrepreneur_id == req.entrepreneur_id))
    assert (row.step_code, row.achieved_on, row.recorded_by_id) == (
        "P4",
        dt.date(2026, 1, 15),
        mentor.user_id,
    )
    page = client.get(f"/mentor/mentees/{match.id}").get_data(as_text=True)
    assert "15 Jan 2026" in page and "NIB terbit" in page

    future = client.post(
        f"/mentor/mentees/{match.id}/progress", data={"step": "P5", "achieved_on": "2099-01-01"}
    )
    assert future.status_code == 422 and "Tanggal tidak boleh di masa depan." in future.get_data(as_text=True)

    stranger = make_user(db, Role.MENTOR)
    make_mentor(db, stranger)
    with pytest.raises(NotFound):
        progress.record_step(db, req.entrepreneur, "P5", None, stranger)
    staff = make_user(db, Role.STAFF)
    assert progress.record_step(db, req.entrepreneur, "P5", None, staff).step_code == "P5"


def test_the_mentor_ends_a_mentorship_and_the_place_frees(client, db, mentor):
    (req,) = _asked_by(db, mentor)
    match = mentorship.accept_request(db, mentor, req.id)
    response = client.post(
        f"/mentor/mentees/{match.id}/end", data={"reason": "no_time", "note": "Pindah kota"}
    )
    assert response.headers["Location"].endswith("/mentor/mentees")
    db.expire_all()
    assert db.get(Match, match.id).status == "ended" and db.get(Mentor, mentor.id).active_count == 0
    page = client.get("/mentor/mentees").get_data(as_text=True)
    assert "Pendampingan sebelumnya" in page and "Tidak ada waktu" in page
