"""CSV import and export of members: the contract's files, all or nothing, updates by id, lossless."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy import text as sa_text
from sqlalchemy.exc import OperationalError

from models import AuditLog, Entrepreneur, Mentor, MentoringSession, Role, Room
from tests.conftest import EXAMPLES
from tests.factories import login, make_user
from tests.webapp.sessions_data import cleanup_committed, make_match, make_room
from webapp.services import members_csv
from webapp.services.sessions import WIB, week_monday


def _count(db, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


def _text(name: str) -> str:
    return (EXAMPLES / name).read_text(encoding="utf-8")


def test_the_contract_examples_import_cleanly_from_the_cli(app, db):
    runner = app.test_cli_runner()
    for kind in ("entrepreneurs", "mentors", "rooms"):
        result = runner.invoke(args=["import", kind, str(EXAMPLES / f"{kind}.csv")])
        assert result.exit_code == 0, result.output
        assert "new" in result.output
    assert _count(db, Entrepreneur) >= 40
    assert db.scalar(select(Mentor).where(Mentor.external_id == "M00002")).active_count == 1
    assert db.get(Room, "R-31.71.01").capacity == 1


def test_a_file_with_a_bad_row_imports_nothing_and_names_every_problem(app, db, tmp_path):
    lines = _text("entrepreneurs.csv").splitlines()
    lines[3] = lines[3].replace(",31.74.05,", ",31.99.99,")  # spreadsheet row 4
    lines[6] = lines[6].replace(",I,,established,", ",Q9,,established,")  # row 7, sector
    bad = tmp_path / "entrepreneurs.csv"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = _count(db, Entrepreneur)
    result = app.test_cli_runner().invoke(args=["import", "entrepreneurs", str(bad)])
    assert result.exit_code == 2
    assert "entrepreneurs.csv row 4, column kecamatan: '31.99.99': is not a kecamatan code" in result.output
    assert re.search(r"row 7, column sector: 'Q9'", result.output)
    assert "nothing imported" in result.output
    assert _count(db, Entrepreneur) == before


def test_capacity_not_a_number_is_reported(db):
    text = "id,name,sectors,stages,kecamatan,expertise,capacity\nM1,Budi,G,early,31.71.01,marketing,dua\n"
    try:
        members_csv.plan_import(db, "mentors", text, "mentors.csv")
    except members_csv.InvalidInput as exc:
        (error,) = exc.errors
        assert (error.row, error.column, error.value, error.reason) == (
            2,
            "capacity",
            "dua",
            "is not a whole number",
        )
    else:
        raise AssertionError("a bad capacity was accepted")


def test_reimporting_updates_the_same_people_by_id(db):
    members_csv.import_csv(db, "entrepreneurs", _text("entrepreneurs.csv"), "entrepreneurs.csv")
    n = _count(db, Entrepreneur)
    changed = _text("entrepreneurs.csv").replace("Usaha Batik 0", "Batik Tulis Bu Sari", 1)
    counts = members_csv.import_csv(db, "entrepreneurs", changed, "entrepreneurs.csv")
    assert counts == {"total": 40, "new": 0, "updated": 1, "unchanged": 39}
    assert _count(db, Entrepreneur) == n
    assert (
        db.scalar(select(Entrepreneur).where(Entrepreneur.external_id == "E000000")).name
        == "Batik Tulis Bu Sari"
    )


def test_export_reimports_to_the_same_data(db):
    for kind in ("entrepreneurs", "mentors", "rooms"):
        members_csv.import_csv(db, kind, _text(f"{kind}.csv"), f"{kind}.csv")
        exported = members_csv.export_csv(db, kind)
        counts = members_csv.plan_import(db, kind, exported, f"{kind}.csv").counts
        assert counts["updated"] == counts["new"] == 0, kind
        assert members_csv.export_csv(db, kind) == exported


def test_export_keeps_every_field_of_the_example_files(db):
    members_csv.import_csv(db, "entrepreneurs", _text("entrepreneurs.csv"), "entrepreneurs.csv")
    import csv

    original = {r["id"]: r for r in csv.DictReader(io.StringIO(_text("entrepreneurs.csv")))}
    exported = {r["id"]: r for r in csv.DictReader(io.StringIO(members_csv.export_csv(db, "entrepreneurs")))}
    assert set(original) <= set(exported)
    for key, row in original.items():
        assert {k: exported[key][k] for k in row} == row


def test_mentor_ids_cannot_reuse_entrepreneur_ids(db):
    members_csv.import_csv(db, "entrepreneurs", _text("entrepreneurs.csv"), "entrepreneurs.csv")
    text = "id,name,sectors,stages,kecamatan,expertise,capacity\nE000001,Budi,G,early,31.71.01,marketing,2\n"
    try:
        members_csv.plan_import(db, "mentors", text, "mentors.csv")
    except members_csv.InvalidInput as exc:
        assert exc.errors[0].code == "id_taken"
    else:
        raise AssertionError("a colliding id was accepted")


def _staff_client(client, db):
    staff = make_user(db, Role.STAFF)
    login(client, staff.email)
    return staff


def test_staff_upload_shows_a_preview_and_writes_only_on_confirm(client, db):
    staff = _staff_client(client, db)
    data = {"kind": "mentors", "file": (io.BytesIO(_text("mentors.csv").encode()), "mentors.csv")}
    preview = client.post("/staff/import", data=data, content_type="multipart/form-data")
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "Pratinjau impor" in page
    assert _count(db, Mentor) == 0
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', page).group(1)
    done = client.post("/staff/import/confirm", data={"kind": "mentors", "token": token})
    assert done.status_code == 302
    assert _count(db, Mentor) == 12
    assert "12 baru" in client.get("/staff/import").get_data(as_text=True)
    audit = db.scalar(select(AuditLog).where(AuditLog.action == "import.mentors"))
    assert audit.actor_id == staff.id and audit.after["new"] == 12
    # The same preview cannot be applied twice.
    again = client.post("/staff/import/confirm", data={"kind": "mentors", "token": token})
    assert again.status_code == 302 and _count(db, Mentor) == 12


def test_staff_upload_of_a_bad_file_lists_rows_in_indonesian(client, db):
    _staff_client(client, db)
    text = "id,name,sectors,stages,kecamatan,expertise,capacity\nM1,Budi,G,early,31.71.01,marketing,-1\nM2,Ani,Z,early,31.71.01,marketing,2\n"
    response = client.post(
        "/staff/import",
        data={"kind": "mentors", "file": (io.BytesIO(text.encode()), "mentors.csv")},
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "harus 0 atau lebih" in page and "bukan huruf seksi KBLI 2020" in page
    assert _count(db, Mentor) == 0


def test_a_file_that_is_not_utf8_is_refused(client, db):
    _staff_client(client, db)
    response = client.post(
        "/staff/import",
        data={"kind": "mentors", "file": (io.BytesIO("id,name\n1,Bu Tèh\n".encode("latin-1")), "m.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422 and "UTF-8" in response.get_data(as_text=True)


def test_staff_download_is_the_import_format(client, db):
    _staff_client(client, db)
    members_csv.import_csv(db, "mentors", _text("mentors.csv"), "mentors.csv")
    response = client.get("/staff/export/mentors.csv")
    assert response.mimetype == "text/csv"
    assert (
        response.get_data(as_text=True)
        .splitlines()[0]
        .startswith("id,name,sectors,stages,kecamatan,expertise,capacity")
    )


def test_member_search_finds_by_name(client, db):
    _staff_client(client, db)
    members_csv.import_csv(db, "entrepreneurs", _text("entrepreneurs.csv"), "entrepreneurs.csv")
    page = client.get("/staff/members/entrepreneurs?q=batik").get_data(as_text=True)
    assert "Usaha Batik 0" in page and "Usaha Kue Basah 1" not in page


def test_staff_edit_a_member_with_the_import_rules_and_an_audit_trail(client, db):
    staff = _staff_client(client, db)
    members_csv.import_csv(db, "mentors", _text("mentors.csv"), "mentors.csv")
    page = client.get("/staff/members/mentors/M00002/edit").get_data(as_text=True)
    assert 'value="3"' in page  # capacity
    bad = client.post("/staff/members/mentors/M00002/edit", data={"capacity": "0", "kecamatan": "31.99.99"})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert 'class="error">bukan kode kecamatan DKI Jakarta' in text  # next to the field, in Indonesian
    assert db.scalar(select(Mentor).where(Mentor.external_id == "M00002")).capacity == 3
    ok = client.post("/staff/members/mentors/M00002/edit", data={"capacity": "4", "name": "Mentor Dua"})
    assert ok.status_code == 302
    mentor = db.scalar(select(Mentor).where(Mentor.external_id == "M00002"))
    assert (mentor.capacity, mentor.name) == (4, "Mentor Dua")
    audit = db.scalar(select(AuditLog).where(AuditLog.action == "member.update.mentors"))
    assert audit.actor_id == staff.id
    assert audit.before == {"capacity": "3", "name": "Mentor 2"} and audit.after == {
        "capacity": "4",
        "name": "Mentor Dua",
    }


def test_editing_an_unknown_member_is_not_found(client, db):
    _staff_client(client, db)
    assert client.get("/staff/members/mentors/NOPE/edit").status_code == 404
    assert client.get("/staff/members/planets/X/edit").status_code == 404


def test_mentor_list_shows_response_times(client, db):
    import datetime as dt

    from models import MatchRequest, utcnow
    from tests.factories import make_entrepreneur, make_mentor

    _staff_client(client, db)
    mentor = make_mentor(db, name="Mentor Cepat")
    sent = utcnow() - dt.timedelta(days=3)
    for hours, status in ((2, "accepted"), (6, "declined"), (None, "expired")):
        db.add(
            MatchRequest(
                entrepreneur_id=make_entrepreneur(db).id,
                mentor_id=mentor.id,
                status=status,
                sent_at=sent,
                responded_at=sent + dt.timedelta(hours=hours) if hours else sent + dt.timedelta(days=7),
            )
        )
    db.flush()
    page = client.get(f"/staff/members/mentors?q={mentor.external_id}").get_data(as_text=True)
    assert "4.0 jam (2)" in page


# --- a room keeps the sessions booked in it -----------------------------------------------------------


def _ahead(weekday: int, hour: int, minute: int = 0) -> dt.datetime:
    """The first ``weekday`` (0 = Monday) at least a week from today, at ``hour``, Jakarta time."""
    day = dt.datetime.now(WIB).date() + dt.timedelta(days=7)
    day += dt.timedelta(days=(weekday - day.weekday()) % 7)
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=WIB)


def _book(db, room, start: dt.datetime, minutes: int = 60, status: str = "proposed") -> MentoringSession:
    match = make_match(db, e_kw={"mode": "either"}, m_kw={"mode": "either"})
    row = MentoringSession(
        match_id=match.id, week_start=week_monday(start), starts_at=start,
        ends_at=start + dt.timedelta(minutes=minutes), mode="offline", room_id=room.id, status=status,
    )  # fmt: skip
    db.add(row)
    db.flush()
    return row


def _room_file(room, **changes) -> str:
    values = {"id": room.id, "kecamatan": room.kecamatan_code, "name": room.name,
              "capacity": str(room.capacity), "availability": room.availability, **changes}  # fmt: skip
    return "id,kecamatan,name,capacity,availability\n" + ",".join(values.values()) + "\n"


def _refusals(db, text: str) -> list[tuple]:
    try:
        members_csv.import_csv(db, "rooms", text, "rooms.csv")
    except members_csv.InvalidInput as exc:
        return [(e.row, e.column, e.code, dict(e.params)) for e in exc.errors]
    return []


def test_a_room_cannot_be_given_fewer_places_than_sessions_booked_in_it_at_once(db):
    room = make_room(db, capacity=3)
    tuesday = _ahead(1, 10)
    _book(db, room, tuesday)
    later = _book(db, room, tuesday + dt.timedelta(minutes=30))
    _book(db, room, tuesday + dt.timedelta(hours=3))  # alone at 13:00
    _book(db, room, _ahead(1, 10) - dt.timedelta(days=21))  # past: it holds no place any more
    _book(db, room, tuesday + dt.timedelta(minutes=15), status="declined")
    assert _refusals(db, _room_file(room, capacity="1")) == [
        (2, "capacity", "below_booked", {"booked": "2", "when": tuesday.strftime("%Y-%m-%d") + " 10:30"})
    ]
    db.expire_all()
    assert db.get(Room, room.id).capacity == 3  # nothing written
    assert _refusals(db, _room_file(room, capacity="2")) == []
    assert db.get(Room, room.id).capacity == 2
    later.status = "cancelled"
    db.flush()
    assert _refusals(db, _room_file(room, capacity="1")) == []
    assert db.get(Room, room.id).capacity == 1


def test_a_room_cannot_close_hours_that_hold_sessions_booked_in_it(db):
    room = make_room(db, capacity=2)
    tuesday = _ahead(1, 10)
    _book(db, room, tuesday)
    _book(db, room, tuesday + dt.timedelta(days=1, hours=5))  # Wednesday 15:00-16:00
    refused = _refusals(db, _room_file(room, availability="mon 08:00-17:00;wed 08:00-15:30"))
    assert refused == [
        (2, "availability", "booked_outside", {"count": "2", "when": tuesday.strftime("%Y-%m-%d") + " 10:00"})
    ]
    db.expire_all()
    assert db.get(Room, room.id).availability.startswith("mon 08:00-17:00;tue 08:00-17:00")
    assert _refusals(db, _room_file(room, availability="tue 09:00-12:00;wed 15:00-16:00")) == []
    assert db.get(Room, room.id).availability == "tue 09:00-12:00;wed 15:00-16:00"


def test_a_room_already_over_its_places_can_still_be_renamed(db):
    """Only a change of places or hours is held to the bookings: a rename of a room that was made
    smaller before this rule existed goes through."""
    room = make_room(db, capacity=2)
    tuesday = _ahead(1, 10)
    _book(db, room, tuesday)
    _book(db, room, tuesday)
    db.execute(update(Room).where(Room.id == room.id).values(capacity=1))
    db.expire_all()
    assert _refusals(db, _room_file(db.get(Room, room.id), name="Ruang Baru")) == []
    assert db.get(Room, room.id).name == "Ruang Baru"


def test_staff_editing_a_room_below_its_bookings_see_why_in_indonesian(client, db):
    _staff_client(client, db)
    room = make_room(db, capacity=2)
    tuesday = _ahead(1, 10)
    _book(db, room, tuesday)
    _book(db, room, tuesday)
    response = client.post(f"/staff/members/rooms/{room.id}/edit", data={"capacity": "1"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "lebih kecil dari 2 sesi yang sudah dipesan bersamaan di ruang ini" in page
    assert tuesday.strftime("%Y-%m-%d") + " 10:00" in page
    db.expire_all()
    assert db.get(Room, room.id).capacity == 2


def test_on_postgresql_a_room_being_changed_holds_off_new_bookings_until_the_change_commits(postgres):
    """The check locks the room as a booking's trigger does: a booking waits (here: gives up at its
    lock timeout) instead of landing between the check and the commit."""
    from sqlalchemy.orm import Session

    with Session(postgres) as setup:
        room = make_room(setup, capacity=2)
        match = make_match(setup, users=False, e_kw={"mode": "either"}, m_kw={"mode": "either"})
        setup.commit()
        room_id, match_id, text = room.id, match.id, _room_file(room, capacity="1")
    start = _ahead(1, 10)
    try:
        with Session(postgres) as staff, Session(postgres) as booking:
            members_csv.plan_import(staff, "rooms", text, "rooms.csv")
            booking.execute(sa_text("SET LOCAL lock_timeout = '300ms'"))
            booking.add(
                MentoringSession(
                    match_id=match_id,
                    week_start=week_monday(start),
                    starts_at=start,
                    ends_at=start + dt.timedelta(hours=1),
                    mode="offline",
                    room_id=room_id,
                )  # fmt: skip
            )
            with pytest.raises(OperationalError, match="lock timeout"):
                booking.flush()
            booking.rollback()
            staff.rollback()
    finally:
        with Session(postgres) as cleanup:
            cleanup_committed(cleanup, week_monday(start), [match_id])
            cleanup.execute(delete(Room).where(Room.id == room_id))
            cleanup.commit()

