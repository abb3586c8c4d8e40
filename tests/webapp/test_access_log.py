"""PDP-5 breach readiness: staff reads of people's records are audited (who, which record, when), and
``flask privacy affected`` turns "endpoint X leaked between t1 and t2" into the people to notify."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from sqlalchemy import select

from models import AuditLog, MatchRequest, MentoringSession, Role, utcnow
from tests.factories import login, make_entrepreneur, make_mentor, make_user
from webapp.services import access_log, sessions

T1 = dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.UTC)  # 08:00 WIB
T2 = dt.datetime(2026, 12, 1, 5, 0, tzinfo=dt.UTC)  # 12:00 WIB
HOUR = dt.timedelta(hours=1)


def _reads(db) -> list[AuditLog]:
    db.expire_all()
    return list(
        db.scalars(select(AuditLog).where(AuditLog.action == access_log.READ_ACTION).order_by(AuditLog.id))
    )


@pytest.fixture
def staff(db, client):
    user = make_user(db, Role.STAFF)
    login(client, user.email)
    return user


def test_opening_a_members_edit_page_records_who_read_which_record_and_when(client, db, staff):
    siti = make_entrepreneur(db, name="Siti Rahmawati")
    before = dt.datetime.now(dt.UTC)
    assert client.get(f"/staff/members/entrepreneurs/{siti.external_id}/edit").status_code == 200
    [row] = _reads(db)
    assert (row.actor_id, row.object_type, row.object_id) == (staff.id, "entrepreneur", str(siti.id))
    assert row.note == "staff.member_edit" and row.after == {"entrepreneur": [siti.id]}
    assert before - dt.timedelta(seconds=1) <= row.at <= dt.datetime.now(dt.UTC)
    # The audit search finds it by the record's id.
    page = client.get(f"/staff/audit?object_id={siti.id}&action=personal_data")
    assert page.status_code == 200 and b"personal_data.read" in page.data


def test_member_lists_csv_exports_and_the_staff_api_record_every_person_they_show(client, db, staff):
    people = [make_entrepreneur(db) for _ in range(3)]
    mentor = make_mentor(db)
    ids = {p.id for p in people}
    assert client.get("/staff/members/entrepreneurs").status_code == 200
    assert client.get("/staff/export/entrepreneurs.csv").status_code == 200
    assert client.get("/api/v1/staff/entrepreneurs?per_page=100").status_code == 200
    assert client.get("/api/v1/staff/mentors?per_page=100").status_code == 200
    assert client.get("/staff/export/rooms.csv").status_code == 200  # rooms are nobody's data
    rows = {row.note: row for row in _reads(db)}
    assert set(rows) == {"staff.members", "staff.export", "staff_api.entrepreneurs", "staff_api.mentors"}
    for endpoint in ("staff.members", "staff.export", "staff_api.entrepreneurs"):
        assert ids <= set(rows[endpoint].after["entrepreneur"]), endpoint
        assert rows[endpoint].actor_id == staff.id
    assert mentor.id in rows["staff_api.mentors"].after["mentor"]


def test_the_cli_export_records_its_read_without_an_actor(app, db, tmp_path):
    person = make_entrepreneur(db)
    result = app.test_cli_runner().invoke(args=["export", "entrepreneurs", str(tmp_path / "e.csv")])
    assert result.exit_code == 0, result.output
    [row] = _reads(db)
    assert row.actor_id is None and row.note == "cli.export" and person.id in row.after["entrepreneur"]


def test_a_person_opening_their_own_pages_writes_no_access_row(client, db):
    user = make_user(db, Role.ENTREPRENEUR)
    make_entrepreneur(db, user)
    login(client, user.email)
    assert client.get("/me/data").status_code == 200
    assert _reads(db) == []


@pytest.fixture
def clock(monkeypatch):
    """The time access rows are stamped with, set by the test."""
    now = {"at": T1}
    monkeypatch.setattr(access_log, "utcnow", lambda: now["at"])
    return now


def test_tabletop_endpoint_leaked_between_t1_and_t2_lists_exactly_the_people_it_showed(
    app, client, db, staff, clock
):
    """Tabletop: "/api/v1/staff/entrepreneurs leaked between 08:00 and 12:00 WIB on 1 December"."""
    users = {n: make_user(db, Role.ENTREPRENEUR, name=n, locale="en" if n == "Budi" else "id") for n in
             ("Ayu", "Budi", "Citra")}  # fmt: skip
    profiles = {n: make_entrepreneur(db, u) for n, u in users.items()}
    imported = make_entrepreneur(db, name="Dedi (no account)")
    mentor = make_mentor(db, make_user(db, Role.MENTOR, name="Eko"))

    def read(url: str, at: dt.datetime) -> None:
        clock["at"] = at
        assert client.get(url).status_code == 200, url

    api = "/api/v1/staff/entrepreneurs?q="
    read(api + profiles["Ayu"].external_id, T1 - HOUR)  # before the window
    read(api + profiles["Budi"].external_id, T1)  # the window's first moment
    read(api + imported.external_id, T1 + HOUR)
    read(api + profiles["Budi"].external_id, T1 + 2 * HOUR)
    read(f"/staff/members/entrepreneurs/{profiles['Citra'].external_id}/edit", T1 + HOUR)  # another endpoint
    read("/api/v1/staff/mentors?q=" + mentor.external_id, T1 + HOUR)  # another endpoint
    read(api + profiles["Citra"].external_id, T2 + dt.timedelta(seconds=1))  # after the window

    runner = app.test_cli_runner()
    window = ["--since", "2026-12-01T08:00", "--until", "2026-12-01T12:00"]  # WIB
    listed = runner.invoke(args=["privacy", "affected", *window, "--endpoint", "staff_api.entrepreneurs"])
    assert listed.exit_code == 0, listed.output
    assert listed.output.startswith("2 people read through staff_api.entrepreneurs")
    assert "1 of them have no account e-mail" in listed.output

    exported = runner.invoke(
        args=["privacy", "affected", *window, "--endpoint", "staff_api.entrepreneurs", "--contacts"]
    )
    assert exported.exit_code == 0, exported.output
    contacts = list(csv.DictReader(io.StringIO(exported.output)))
    assert [(c["person"], c["email"], c["language"], c["reachable"], c["reads"]) for c in contacts] == [
        (f"entrepreneur:{imported.id}", "", "id", "no", "1"),
        (f"user:{users['Budi'].id}", users["Budi"].email, "en", "yes", "2"),
    ]

    anywhere = access_log.affected_people(db, T1, T2)
    assert {p.key for p in anywhere} == {
        f"user:{users['Budi'].id}",
        f"user:{users['Citra'].id}",
        f"user:{mentor.user_id}",
        f"entrepreneur:{imported.id}",
    }


def test_signed_in_adds_the_people_whose_login_was_used_in_the_window(db):
    from models import UserSession

    inside, outside = make_user(db), make_user(db)
    for user, seen in ((inside, T1 + HOUR), (outside, T1 - 2 * HOUR)):
        db.add(UserSession(id=f"{user.id:064d}", user_id=user.id, created_at=seen - HOUR, last_seen_at=seen,
                           expires_at=seen + 12 * HOUR))  # fmt: skip
    db.flush()
    keys = {p.key for p in access_log.affected_people(db, T1, T2, signed_in=True)}
    assert f"user:{inside.id}" in keys and f"user:{outside.id}" not in keys
    assert access_log.affected_people(db, T1, T2) == []


def test_a_window_that_ends_before_it_starts_is_refused(app):
    result = app.test_cli_runner().invoke(
        args=["privacy", "affected", "--since", "2026-12-02", "--until", "2026-12-01"]
    )
    assert result.exit_code == 2 and "before --since" in result.output


def test_contact_csv_cells_never_start_a_spreadsheet_formula():
    person = access_log.AffectedPerson(key="user:1", name="=HYPERLINK(1)", email="a@b.id", language="id",
                                       reachable=True)  # fmt: skip
    assert "'=HYPERLINK(1)" in access_log.contacts_csv([person])


# --- cohort review, staff sessions and insights (PDP-5) -------------------------------------------


def _one_read(db, endpoint: str) -> AuditLog:
    [row] = [r for r in _reads(db) if r.note == endpoint]
    return row


def _shown(row: AuditLog) -> tuple[set[int], set[int]]:
    return set(row.after.get("entrepreneur", ())), set(row.after.get("mentor", ()))


@pytest.fixture
def cohort(db):
    """A run over Gambir: five waiting entrepreneurs, three places (two mentors), so two stay unmatched.

    Outside it: an entrepreneur of another kecamatan and a paused mentor, never shown.
    """
    from webapp.services import cohorts

    people = [make_entrepreneur(db, make_user(db, Role.ENTREPRENEUR)) for _ in range(5)]
    big = make_mentor(db, make_user(db, Role.MENTOR), capacity=3, active_count=1)
    small = make_mentor(db, make_user(db, Role.MENTOR), capacity=1)
    outsider = make_entrepreneur(db, kecamatan_code="31.74.01")
    unsuited = make_mentor(db, paused=True)
    run = cohorts.run_cohort(db, staff_id=None, kecamatan="31.71.01")
    drafts = list(db.scalars(select(MatchRequest).where(MatchRequest.cohort_run_id == run.id)))
    unmatched = {u["entrepreneur_id"] for u in run.report["unmatched"]}
    assert len(drafts) == 3 and len(unmatched) == 2
    return {"run": run, "people": people, "mentors": (big, small), "drafts": drafts, "unmatched": unmatched,
            "outsider": outsider, "unsuited": unsuited}  # fmt: skip


def test_the_cohort_review_page_records_the_proposals_and_the_unmatched_people_it_showed(
    client, db, staff, cohort
):
    from webapp.services import cohorts

    run, drafts = cohort["run"], cohort["drafts"]
    assert client.get(f"/staff/cohorts/{run.id}").status_code == 200
    row = _one_read(db, "cohorts.review")
    assert row.actor_id == staff.id
    assert _shown(row) == ({p.id for p in cohort["people"]}, {m.id for m in cohort["mentors"]})
    assert cohort["outsider"].id not in _shown(row)[0] and cohort["unsuited"].id not in _shown(row)[1]

    # A filtered page names only its rows (and the unmatched list, which every page shows).
    rejected = drafts[0]
    cohorts.reject(db, staff.id, rejected.id, "poor_fit")
    db.commit()
    assert client.get(f"/staff/cohorts/{run.id}?status=rejected").status_code == 200
    latest = _reads(db)[-1]
    assert latest.note == "cohorts.review"
    assert _shown(latest) == ({rejected.entrepreneur_id} | cohort["unmatched"], {rejected.mentor_id})


def test_the_swap_page_records_the_entrepreneur_the_mentor_and_the_alternatives_it_offered(
    client, db, staff, cohort
):
    spare = make_mentor(db, capacity=1, name="Mentor Cadangan")
    draft = cohort["drafts"][0]
    page = client.get(f"/staff/cohorts/{cohort['run'].id}/proposals/{draft.id}/swap")
    assert page.status_code == 200 and "Mentor Cadangan" in page.get_data(as_text=True)
    row = _one_read(db, "cohorts.swap")
    assert _shown(row) == ({draft.entrepreneur_id}, {draft.mentor_id, spare.id})


def test_pages_of_counts_only_write_no_access_row(client, db, staff, cohort):
    """The cohort runs list and the insights figures show counts, never people: nothing to log."""
    from webapp.services import insights

    assert client.get("/staff/cohorts").status_code == 200
    assert client.get("/staff/insights").status_code == 200
    for figure in insights.FIGURES:
        assert client.get(f"/staff/insights/{figure}.csv").status_code == 200, figure
    assert _reads(db) == []


def _session(db, match, monday: dt.date, status: str, day: int = 1) -> MentoringSession:
    start = dt.datetime.combine(monday + dt.timedelta(days=day), dt.time(10), tzinfo=sessions.WIB)
    row = MentoringSession(match_id=match.id, week_start=monday, starts_at=start,
                           ends_at=start + HOUR, mode="online", status=status)  # fmt: skip
    db.add(row)
    db.flush()
    return row


@pytest.fixture
def week(db):
    """A week as staff see it: two sessions, an unplaced pair, a flagged pair; and a cancelled session,
    which the page does not list."""
    from tests.webapp.sessions_data import make_match, make_room

    monday = sessions.upcoming_monday(utcnow() + dt.timedelta(days=14))
    make_room(db)
    listed = [make_match(db, e_kw={"mode": "online"}), make_match(db, e_kw={"mode": "offline"})]
    unplaced = make_match(db, e_kw={"mode": "offline"}, m_kw={"mode": "online"})
    evening = dt.datetime.combine(monday - dt.timedelta(days=1), dt.time(18), tzinfo=sessions.WIB)
    sessions.propose_sessions_for_week(db, monday, now=evening, time_limit=1.0)
    cancelled = make_match(db)
    _session(db, cancelled, monday, "cancelled")
    flagged = make_match(db)
    for weeks_before in (3, 2):
        earlier = monday - dt.timedelta(days=7 * weeks_before)
        held = _session(db, flagged, earlier, "confirmed")
        sessions.record_feedback(db, flagged.entrepreneur.user, held.id, True, 2, now=held.ends_at)
    assert [f.match_id for f in sessions.flagged_pairs(db)] == [flagged.id]
    return {"monday": monday, "shown": [*listed, unplaced, flagged], "cancelled": cancelled}


def test_the_staff_week_records_the_people_of_its_sessions_unplaced_and_flagged_pairs(
    client, db, staff, week
):
    label = sessions.week_label(week["monday"])
    page = client.get(f"/staff/sessions?week={label}").get_data(as_text=True)
    assert all(m.entrepreneur.name in page for m in week["shown"])
    assert week["cancelled"].entrepreneur.name not in page
    row = _one_read(db, "sessions.staff_week")
    assert row.actor_id == staff.id
    assert _shown(row) == ({m.entrepreneur_id for m in week["shown"]}, {m.mentor_id for m in week["shown"]})


def test_the_preview_and_the_move_page_record_the_pairs_they_show(client, db, staff, week):
    from tests.webapp.sessions_data import make_match

    later = week["monday"] + dt.timedelta(days=7)
    newcomer = make_match(db, started=utcnow(), e_kw={"mode": "online"})
    page = client.post(
        "/staff/sessions/propose", data={"week": sessions.week_label(later), "action": "preview"}
    )
    assert page.status_code == 200 and newcomer.entrepreneur.name in page.get_data(as_text=True)
    preview = _one_read(db, "sessions.staff_propose")
    assert newcomer.entrepreneur_id in _shown(preview)[0] and newcomer.mentor_id in _shown(preview)[1]

    moved = db.scalar(select(MentoringSession).where(MentoringSession.week_start == week["monday"],
                                                     MentoringSession.status == "proposed"))  # fmt: skip
    assert client.get(f"/staff/sessions/{moved.id}/move").status_code == 200
    row = _one_read(db, "sessions.staff_move")
    assert row.after == {"entrepreneur": [moved.match.entrepreneur_id], "mentor": [moved.match.mentor_id]}


def test_tabletop_the_review_and_week_pages_leaked_lists_exactly_the_people_they_showed(
    app, client, db, staff, clock, cohort, week
):
    """Tabletop: "the cohort review and the staff week pages leaked between 08:00 and 12:00 WIB"."""
    clock["at"] = T1 + HOUR
    assert client.get(f"/staff/cohorts/{cohort['run'].id}").status_code == 200
    assert client.get(f"/staff/sessions?week={sessions.week_label(week['monday'])}").status_code == 200
    clock["at"] = T2 + HOUR  # after the window: not listed
    assert client.get(f"/staff/cohorts/{cohort['run'].id}?status=draft").status_code == 200

    def listed(endpoint: str) -> set[str]:
        args = ["privacy", "affected", "--since", "2026-12-01T08:00", "--until", "2026-12-01T12:00",
                "--endpoint", endpoint, "--contacts"]  # fmt: skip
        result = app.test_cli_runner().invoke(args=args)
        assert result.exit_code == 0, result.output
        return {c["person"] for c in csv.DictReader(io.StringIO(result.output))}

    review = {*cohort["people"], *cohort["mentors"]}
    assert listed("cohorts.review") == {f"user:{p.user_id}" for p in review}
    pairs = [p for m in week["shown"] for p in (m.entrepreneur, m.mentor)]
    assert listed("sessions.staff_week") == {f"user:{p.user_id}" for p in pairs}
