"""An entrepreneur builds a profile, sees mentors with reasons, asks up to three, and works with the one who accepts."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import unquote

import pytest
from sqlalchemy import Engine, event, select

from models import Entrepreneur, Match, MatchRequest, MentoringSession, Role, utcnow
from tests.factories import PASSWORD, login, make_entrepreneur, make_mentor, make_user
from webapp.services import mentorship, profiles
from webapp.services.errors import InvalidInput

BUSINESS = {
    "business_name": "Warung Soto Bu Sri",
    "sector": "I",
    "kbli": "56101",
    "stage": "early",
    "kecamatan": "31.71.01",
}


@pytest.fixture
def new_user(db, client):
    user = make_user(db, Role.ENTREPRENEUR, name="Sri Wahyuni")
    login(client, user.email)
    return user


@pytest.fixture
def me(db, client):
    """A logged-in entrepreneur with a complete profile (food stall in Gambir, free any time)."""
    user = make_user(db, Role.ENTREPRENEUR)
    entrepreneur = make_entrepreneur(db, user, business_name="Kopi Gambir", kelurahan_code="31.71.01.1001")
    login(client, user.email)
    return entrepreneur


def _profile(db, user):
    db.expire_all()
    return db.scalar(select(Entrepreneur).where(Entrepreneur.user_id == user.id))


def test_a_new_entrepreneur_lands_on_the_wizard_from_the_dashboard(client, new_user):
    response = client.get("/dashboard")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/me/business/business")
    page = client.get("/me/business/business").get_data(as_text=True)
    assert "Nama usaha" in page and "langkah 1 dari 5" in page


def test_the_wizard_saves_half_way_and_completes_later(client, db, new_user):
    response = client.post("/me/business/business", data=BUSINESS)
    assert response.status_code == 302 and response.headers["Location"].endswith("/me/business/kelurahan")
    row = _profile(db, new_user)
    assert row.external_id == f"W{new_user.id}" and row.name == "Sri Wahyuni"
    assert (row.business_name, row.sector_code, row.kbli, row.stage_code) == (
        "Warung Soto Bu Sri",
        "I",
        "56101",
        "early",
    )
    assert row.profile_complete is False

    # Half-way: the dashboard offers to continue where the profile stopped.
    page = client.get("/dashboard").get_data(as_text=True)
    assert "Lanjutkan profil" in page and "/me/business/kelurahan" in page
    # Suggestions wait for a complete profile.
    assert client.get("/me/mentors").headers["Location"].endswith("/me/business/kelurahan")

    kelurahan = client.get("/me/business/kelurahan").get_data(as_text=True)
    assert "Gambir" in kelurahan and "Kebon Kelapa" in kelurahan and "Menteng Atas" not in kelurahan
    client.post("/me/business/kelurahan", data={"kelurahan": "31.71.01.1001"})
    client.post(
        "/me/business/needs",
        data={"needs": ["licensing", "marketing"], "languages": ["jv"], "mode": "offline"},
    )
    client.post("/me/business/time", data={"from_tue": "19", "to_tue": "21", "from_sat": "9", "to_sat": "12"})
    row = _profile(db, new_user)
    assert row.availability == "tue 19:00-21:00;sat 09:00-12:00" and row.profile_complete is False
    assert row.languages == ["id", "jv"] and row.mode == "offline"

    response = client.post(
        "/me/business/about", data={"gender": "f", "prefers_mentor_gender": "", "bio": "Soto ayam."}
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/me/mentors")
    row = _profile(db, new_user)
    assert row.profile_complete is True and row.kelurahan_code == "31.71.01.1001" and row.gender == "f"

    # Edited later: a saved step returns to the business page and the profile stays complete.
    response = client.post("/me/business/time", data={})
    assert response.headers["Location"].endswith("/me/business")
    row = _profile(db, new_user)
    assert row.availability is None and row.profile_complete is True
    page = client.get("/me/business").get_data(as_text=True)
    assert "Kapan saja, Senin-Sabtu 08.00-21.00" in page


@pytest.mark.parametrize(
    ("data", "field_message"),
    [
        ({**BUSINESS, "business_name": ""}, "Wajib diisi."),
        ({**BUSINESS, "kbli": "47111"}, "Kode KBLI ini termasuk kategori G, bukan I."),
        ({**BUSINESS, "kbli": "5a"}, "Kode KBLI terdiri dari 2 sampai 5 angka"),
        ({**BUSINESS, "kecamatan": "99.99.99"}, "Pilih kecamatan dari daftar."),
    ],
)
def test_bad_input_shows_field_errors_in_indonesian_and_changes_nothing(
    client, db, new_user, data, field_message
):
    response = client.post("/me/business/business", data=data)
    assert response.status_code == 422
    assert field_message in response.get_data(as_text=True)
    assert _profile(db, new_user) is None


def test_a_bad_later_step_leaves_the_saved_profile_as_it_was(client, db, me):
    before = (list(me.needs), me.availability)
    response = client.post("/me/business/needs", data={"needs": [], "mode": "either"})
    assert response.status_code == 422 and "Wajib diisi." in response.get_data(as_text=True)
    response = client.post("/me/business/time", data={"from_mon": "12", "to_mon": "10"})
    assert response.status_code == 422 and "Jam selesai harus setelah jam mulai" in response.get_data(
        as_text=True
    )
    response = client.post("/me/business/kelurahan", data={"kelurahan": "31.74.01.1001"})
    assert "tidak berada di kecamatan" in response.get_data(as_text=True)
    db.expire_all()
    assert (db.get(Entrepreneur, me.id).needs, db.get(Entrepreneur, me.id).availability) == before


def test_the_service_validates_a_whole_profile_for_the_api(db):
    user = make_user(db, Role.ENTREPRENEUR)
    with pytest.raises(InvalidInput) as exc:
        profiles.save_entrepreneur_profile(db, user, {"sector": "Z", "needs": ["nope"]}, step=None)
    fields = {e.field: e.code for e in exc.value.errors}
    assert fields["sector"] == "unknown_sector" and fields["needs"] == "unknown_support_area"
    assert fields["business_name"] == "required" and fields["kelurahan"] == "required"
    row = profiles.save_entrepreneur_profile(
        db, user, {**BUSINESS, "kelurahan": "31.71.01.1002", "needs": "marketing;licensing"}, step=None
    )
    assert row.profile_complete and row.needs == ["marketing", "licensing"] and row.languages == ["id"]


def test_suggestions_list_mentors_with_their_reasons_and_filters(client, db, me):
    near = make_mentor(db, name="Bu Ratna", company="Katering Ratna")
    online = make_mentor(db, name="Pak Online", mode="online", kecamatan_code="31.74.01")
    page = client.get("/me/mentors").get_data(as_text=True)
    assert "Bu Ratna" in page and "Katering Ratna" in page and "Pak Online" in page
    assert "sektor sama" in page and "menawarkan perizinan" in page
    assert f"/me/mentors/{near.id}" in page
    only_online = client.get("/me/mentors?online=1").get_data(as_text=True)
    assert "Pak Online" in only_online and "Bu Ratna" in only_online  # "either" meets online too
    same_kota = client.get("/me/mentors?kota=1").get_data(as_text=True)
    assert "Bu Ratna" in same_kota and "Pak Online" not in same_kota
    english = client.get("/me/mentors?lang=en").get_data(as_text=True)
    assert "same sector" in english
    assert online.id


def test_suggestions_show_where_the_entrepreneur_stands_in_three_statements(client, db, me):
    asked = [make_mentor(db, name=f"Mentor Diminta {n}") for n in range(2)]
    figures = make_mentor(db, name="Bu Angka", capacity=5)
    other = make_entrepreneur(db)
    for status in ("accepted", "declined", "expired", "accepted"):
        db.add(MatchRequest(entrepreneur_id=other.id, mentor_id=figures.id, status=status))
    db.add(MatchRequest(entrepreneur_id=other.id, mentor_id=figures.id, status="pending"))
    db.flush()
    for m in asked:
        client.post(f"/me/mentors/{m.id}/request")

    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", record)  # every engine: the app has its own
    try:
        page = client.get("/me/mentors").get_data(as_text=True)
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    # The login; the profile with where the entrepreneur stands; the ranked mentors: nothing more.
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 3
    assert "Anda menunggu jawaban 2 dari maksimal 3 mentor." in page
    cards = {
        re.search(r">([^<>]+)</a></h2>", card).group(1): card
        for card in page.split('class="card mentor-card"')[1:]
    }
    assert set(cards) >= {"Mentor Diminta 0", "Mentor Diminta 1", "Bu Angka"}
    assert all("Sudah diminta" in cards[f"Mentor Diminta {n}"] for n in range(2))
    # Another entrepreneur's pending request is theirs; 2 accepted of 4 answered (expired counts as not accepted).
    assert "Sudah diminta" not in cards["Bu Angka"] and "menerima 50% permintaan" in cards["Bu Angka"]


def _cards_of(page: str) -> dict[str, str]:
    return {
        re.search(r">([^<>]+)</a></h2>", card).group(1): card
        for card in page.split('class="card mentor-card"')[1:]
    }


@pytest.fixture
def card_renders(client):
    """How many times the mentor cards' template was rendered so far (a callable)."""
    from flask import template_rendered

    rendered: list[str] = []

    def record(_app, template, **_extra):
        rendered.append(template.name)

    template_rendered.connect(record, client.application)
    yield lambda: rendered.count("entrepreneur/_mentor_cards.html")
    template_rendered.disconnect(record, client.application)


def test_mentor_cards_are_rendered_once_per_ranking_and_again_when_what_they_show_changes(
    client, db, me, card_renders
):
    ratna = make_mentor(db, name="Bu Ratna", capacity=5)
    make_mentor(db, name="Pak Budi")
    other = make_entrepreneur(db)
    first = client.get("/me/mentors").get_data(as_text=True)
    again = client.get("/me/mentors").get_data(as_text=True)
    assert card_renders() == 1
    assert again == first and "menerima" not in _cards_of(first)["Bu Ratna"]

    # Answers to another entrepreneur change what the card shows, not the mentor's row.
    db.add_all(
        MatchRequest(entrepreneur_id=other.id, mentor_id=ratna.id, status=status)
        for status in ("accepted", "declined", "declined", "declined")
    )
    db.flush()
    page = client.get("/me/mentors").get_data(as_text=True)
    assert card_renders() == 2
    assert "menerima 25% permintaan" in _cards_of(page)["Bu Ratna"]

    # Asking a mentor marks the card; the other language has its own cards.
    assert client.post(f"/me/mentors/{ratna.id}/request").status_code == 302
    page = client.get("/me/mentors").get_data(as_text=True)
    assert "Sudah diminta" in _cards_of(page)["Bu Ratna"]
    assert "Sudah diminta" not in _cards_of(page)["Pak Budi"]
    english = client.get("/me/mentors?lang=en").get_data(as_text=True)
    assert "accepts 25% of requests" in _cards_of(english)["Bu Ratna"]
    assert "Sudah diminta" not in english and "free place" in english and "tempat kosong" not in english
    back = client.get("/me/mentors?lang=id").get_data(as_text=True)
    assert "Sudah diminta" in _cards_of(back)["Bu Ratna"]
    assert card_renders() == 4


def test_only_the_rankings_shown_last_keep_their_cards(client, db, me, card_renders):
    from webapp.suggestion_cache import kept_cards

    make_mentor(db, name="Bu Ratna")
    make_mentor(db, name="Pak Online", mode="online")
    with client.application.app_context():
        kept_cards().keep = 1
    everyone = client.get("/me/mentors").get_data(as_text=True)
    assert client.get("/me/mentors").get_data(as_text=True) == everyone
    assert card_renders() == 1
    client.get("/me/mentors?online=1")  # another ranking: the first one's cards are dropped
    assert card_renders() == 2
    assert client.get("/me/mentors").get_data(as_text=True) == everyone  # made again, the same
    assert card_renders() == 3


def test_a_mentor_profile_shows_public_facts_and_every_reason_but_no_contact(client, db, me):
    m_user = make_user(db, Role.MENTOR, email="ratna@contoh.id")
    m_user.phone, m_user.share_phone = "6281234567890", True
    mentor = make_mentor(db, m_user, name="Bu Ratna", bio="Tiga puluh tahun berdagang.")
    page = client.get(f"/me/mentors/{mentor.id}").get_data(as_text=True)
    assert "Bu Ratna" in page and "Tiga puluh tahun berdagang." in page and "2 dari 2" in page
    assert "mentor baru, belum ada riwayat" in page
    assert "sektor sama" in page and "membimbing tahap rintisan" in page
    assert "ratna@contoh.id" not in page and "6281234567890" not in page
    assert client.get("/me/mentors/999999").status_code == 404


def test_request_withdraw_and_see_how_long_it_waits(client, db, me):
    mentor = make_mentor(db, name="Bu Ratna")
    response = client.post(f"/me/mentors/{mentor.id}/request", data={"message": "Mohon bantu izin PIRT"})
    assert response.headers["Location"].endswith("/me/requests")
    req = db.scalar(select(MatchRequest).where(MatchRequest.entrepreneur_id == me.id))
    assert req.status == "pending" and req.message == "Mohon bantu izin PIRT"
    req.sent_at = utcnow() - dt.timedelta(days=3, hours=2)
    db.flush()
    page = client.get("/me/requests").get_data(as_text=True)
    assert "Bu Ratna" in page and "menunggu jawaban" in page and "menunggu 3 hari" in page
    again = client.post(f"/me/mentors/{mentor.id}/request", follow_redirects=True).get_data(as_text=True)
    assert "Anda sudah mengirim permintaan ke mentor ini." in again
    response = client.post(f"/me/requests/{req.id}/withdraw", follow_redirects=True)
    assert "Permintaan ditarik." in response.get_data(as_text=True)
    db.expire_all()
    assert db.get(MatchRequest, req.id).status == "withdrawn"


def test_at_most_three_mentors_at_once_with_a_clear_message(client, db, me):
    mentors = [make_mentor(db) for _ in range(4)]
    for m in mentors[:3]:
        client.post(f"/me/mentors/{m.id}/request")
    response = client.post(f"/me/mentors/{mentors[3].id}/request", follow_redirects=True)
    text = response.get_data(as_text=True)
    assert "Anda sudah menunggu jawaban 3 mentor" in text
    count = len(db.scalars(select(MatchRequest).where(MatchRequest.entrepreneur_id == me.id)).all())
    assert count == 3


def test_another_entrepreneurs_request_or_match_answers_404(client, db, me):
    other = make_entrepreneur(db)
    mentor = make_mentor(db)
    req = mentorship.request_mentor(db, other, mentor.id)
    assert client.post(f"/me/requests/{req.id}/withdraw").status_code == 404
    match = mentorship.accept_request(db, mentor, req.id)
    assert client.post(f"/me/mentorship/{match.id}/end", data={"reason": "other"}).status_code == 404
    db.expire_all()
    assert db.get(Match, match.id).status == "active"


def _matched(db, me, *, mentor_phone=None, mentor_shares=False):
    m_user = make_user(db, Role.MENTOR, name="Bu Ratna", email="ratna@contoh.id")
    m_user.phone, m_user.share_phone = mentor_phone, mentor_shares
    mentor = make_mentor(db, m_user)
    req = mentorship.request_mentor(db, me, mentor.id)
    return mentorship.accept_request(db, mentor, req.id)


def test_once_matched_the_mentor_contact_and_sessions_show(client, db, me):
    match = _matched(db, me)
    start = dt.datetime(2026, 3, 3, 12, 0, tzinfo=dt.UTC)
    db.add(
        MentoringSession(
            match_id=match.id, week_start=dt.date(2026, 3, 2), starts_at=start,
            ends_at=start + dt.timedelta(hours=1), mode="online", status="confirmed",
        )
    )  # fmt: skip
    db.flush()
    page = client.get("/me/mentorship").get_data(as_text=True)
    assert "ratna@contoh.id" in page and "wa.me" not in page
    assert "dikonfirmasi" in page and "19.00" in page  # 12:00 UTC is 19.00 in Jakarta
    assert "Akhiri pendampingan" in page


def test_a_matched_entrepreneurs_suggestions_name_the_mentor_in_the_same_three_statements(client, db, me):
    _matched(db, me)
    make_mentor(db, name="Pak Lain")
    client.get("/me/mentors")  # the worker's first page reads and encodes the mentors
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        page = client.get("/me/mentors").get_data(as_text=True)
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    assert "Anda sudah didampingi Bu Ratna." in page and "/me/mentorship" in page
    assert "Pak Lain" in page  # the others are still listed
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 3
    english = client.get("/me/mentors?lang=en").get_data(as_text=True)
    assert "Bu Ratna" in english and "Anda sudah didampingi" not in english


def test_whatsapp_link_only_when_both_share_their_phones(client, db, me):
    _matched(db, me, mentor_phone="6281234567890", mentor_shares=True)
    page = client.get("/me/mentorship").get_data(as_text=True)
    assert "wa.me" not in page and "6281234567890" not in page  # the entrepreneur does not share yet

    response = client.post(
        "/me/contact", data={"phone": "0812-1111-2222", "share_phone": "y", "password": PASSWORD}
    )
    assert response.status_code == 302
    db.expire_all()
    assert me.user.phone == "6281211112222" and me.user.share_phone is True
    page = client.get("/me/mentorship").get_data(as_text=True)
    link = re.search(r'href="(https://wa\.me/[^"]+)"', page).group(1)
    assert link.startswith("https://wa.me/6281234567890?text=")
    assert "Halo Bu Ratna" in unquote(link.split("text=", 1)[1].replace("&amp;", "&"))


def test_a_bad_phone_is_refused_in_indonesian(client, db, me):
    response = client.post("/me/contact", data={"phone": "12345", "share_phone": "y"})
    assert response.status_code == 422
    assert "Nomor HP Indonesia tidak valid" in response.get_data(as_text=True)
    db.expire_all()
    assert me.user.phone is None


def test_end_the_match_with_a_reason_and_rating_then_ask_again(client, db, me):
    match = _matched(db, me)
    response = client.post(f"/me/mentorship/{match.id}/end", data={"reason": "completed", "rating": "5"})
    assert response.headers["Location"].endswith("/me/mentors")
    db.expire_all()
    ended = db.get(Match, match.id)
    assert (ended.status, ended.rating, ended.end_reason) == ("completed", 5, "completed")
    assert ended.mentor.active_count == 0
    assert "Anda belum memiliki mentor." in client.get("/me/mentorship").get_data(as_text=True)


def test_progress_shows_on_the_entrepreneurs_page(client, db, me):
    from webapp.services import progress

    match = _matched(db, me)
    progress.record_step(db, me, "P4", dt.date(2026, 1, 15), match.mentor.user, "NIB terbit")
    page = client.get("/me/business").get_data(as_text=True)
    assert "P4" in page and "15 Jan 2026" in page and "NIB terbit" in page
