"""CSV import and export of members: the contract's files, all or nothing, updates by id, lossless."""

from __future__ import annotations

import io
import re

from sqlalchemy import func, select

from models import AuditLog, Entrepreneur, Mentor, Role, Room
from tests.conftest import EXAMPLES
from tests.factories import login, make_user
from webapp.services import members_csv


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
    assert (
        "bukan kode kecamatan DKI Jakarta" in text
        and "lebih besar dari kapasitas" not in text
        or bad.status_code == 422
    )
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
