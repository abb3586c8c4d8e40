"""Programme insights: the figures are right on small hand-built data, every figure downloads as CSV
with its documented columns, the map shades every kecamatan, and only staff may look."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest

from models import Match, MatchRequest, MentoringSession, PasProgress, Role
from tests.factories import login, make_entrepreneur, make_mentor, make_user
from webapp.services import insights

NOW = dt.datetime(2026, 3, 12, 5, 0, tzinfo=dt.UTC)  # Thursday 12 March 2026, 12:00 in Jakarta
GAMBIR, MENTENG, KEMAYORAN, CILANDAK = "31.71.01", "31.71.06", "31.71.03", "31.74.06"


def days_ago(n: int, hours: int = 0) -> dt.datetime:
    return NOW - dt.timedelta(days=n, hours=hours)


def _match(db, entrepreneur, mentor, *, status="active", started=None, ended=None) -> Match:
    row = Match(
        entrepreneur_id=entrepreneur.id,
        mentor_id=mentor.id,
        status=status,
        started_at=started or days_ago(3),
        ended_at=ended,
    )
    db.add(row)
    db.flush()
    return row


def _request(db, entrepreneur, mentor, *, status, created, responded=None) -> MatchRequest:
    row = MatchRequest(
        entrepreneur_id=entrepreneur.id,
        mentor_id=mentor.id,
        status=status,
        created_at=created,
        sent_at=created,
        responded_at=responded,
    )
    db.add(row)
    db.flush()
    return row


@pytest.fixture
def gambir(db):
    """Three entrepreneurs in Gambir (one matched) and one in Cilandak, with a mentor in Menteng."""
    mentor = make_mentor(db, kecamatan_code=MENTENG, capacity=2, active_count=1)
    waiting_long = make_entrepreneur(db, kecamatan_code=GAMBIR, created_at=days_ago(30))
    waiting_short = make_entrepreneur(db, kecamatan_code=GAMBIR, created_at=days_ago(10))
    matched = make_entrepreneur(db, kecamatan_code=GAMBIR, created_at=days_ago(50))
    south = make_entrepreneur(db, kecamatan_code=CILANDAK, created_at=days_ago(7))
    _match(db, matched, mentor, started=days_ago(20))
    _request(db, waiting_short, mentor, status="pending", created=days_ago(4))
    return dict(mentor=mentor, long=waiting_long, short=waiting_short, matched=matched, south=south)


def _kecamatan(figures, code):
    return next(r for r in figures.kecamatan if r.code == code)


def test_waiting_counts_entrepreneurs_without_an_active_match_and_their_median_wait(db, gambir):
    figures = insights.waiting_by_kecamatan(db, now=NOW)
    row = _kecamatan(figures, GAMBIR)
    assert (row.name, row.kota) == ("Gambir", "Jakarta Pusat")
    assert row.entrepreneurs == 3
    assert row.waiting == 2
    assert row.waiting_with_open_request == 1
    assert row.median_wait_days == 20.0  # waits of 30 and 10 days
    assert _kecamatan(figures, CILANDAK).median_wait_days == 7.0
    assert _kecamatan(figures, MENTENG).waiting == 0
    assert _kecamatan(figures, MENTENG).median_wait_days is None
    assert len(figures.kecamatan) == 44
    assert figures.waiting == 3
    assert figures.median_wait_days == 10.0  # 30, 10, 7


def test_wait_starts_at_the_earlier_first_request_or_at_the_end_of_the_last_mentorship(db):
    mentor = make_mentor(db)
    imported = make_entrepreneur(db, kecamatan_code=GAMBIR, created_at=days_ago(2))
    _request(db, imported, mentor, status="declined", created=days_ago(40), responded=days_ago(38))
    returning = make_entrepreneur(db, kecamatan_code=GAMBIR, created_at=days_ago(200))
    _match(db, returning, mentor, status="completed", started=days_ago(150), ended=days_ago(6))
    assert _kecamatan(insights.waiting_by_kecamatan(db, now=NOW), GAMBIR).median_wait_days == 23.0  # 40, 6


def test_wait_days_count_jakarta_calendar_days(db):
    # 17:30 UTC on 11 March is 00:30 on 12 March in Jakarta: joined "today", so 0 days.
    make_entrepreneur(db, kecamatan_code=GAMBIR, created_at=dt.datetime(2026, 3, 11, 17, 30, tzinfo=dt.UTC))
    assert _kecamatan(insights.waiting_by_kecamatan(db, now=NOW), GAMBIR).median_wait_days == 0.0


def test_kota_filter_keeps_only_that_kotas_kecamatan(db, gambir):
    figures = insights.waiting_by_kecamatan(db, kota="31.74", now=NOW)
    assert {r.kota_code for r in figures.kecamatan} == {"31.74"}
    assert len(figures.kecamatan) == 10
    assert figures.waiting == 1


def test_mentor_load_counts_full_available_and_paused_by_kota(db):
    make_mentor(db, kecamatan_code=MENTENG, capacity=2, active_count=2)
    make_mentor(db, kecamatan_code=MENTENG, capacity=3, active_count=1)
    make_mentor(db, kecamatan_code=GAMBIR, capacity=2, active_count=0, paused=True)
    make_mentor(db, kecamatan_code=CILANDAK, capacity=1, active_count=0)
    rows = {r.kota_code: r for r in insights.mentor_load_by_kota(db)}
    assert len(rows) == 6
    pusat = rows["31.71"]
    assert (pusat.mentors, pusat.available, pusat.full, pusat.paused) == (3, 1, 1, 1)
    assert (pusat.capacity, pusat.active_mentees, pusat.free_places) == (7, 3, 2)
    assert (rows["31.74"].mentors, rows["31.74"].available) == (1, 1)
    assert rows["31.01"].mentors == 0


def test_acceptance_rate_counts_requests_answered_in_the_last_90_days(db):
    pusat, selatan = make_mentor(db, kecamatan_code=MENTENG), make_mentor(db, kecamatan_code=CILANDAK)
    for status, mentor, age in [
        ("accepted", pusat, 10),
        ("accepted", pusat, 80),
        ("declined", pusat, 5),
        ("accepted", pusat, 120),  # outside the window
        ("expired", pusat, 5),  # never answered
        ("pending", pusat, 1),
        ("declined", selatan, 3),
    ]:
        _request(
            db,
            make_entrepreneur(db),
            mentor,
            status=status,
            created=days_ago(age + 2),
            responded=None if status == "pending" else days_ago(age),
        )
    rows = {r.kota_code: r for r in insights.acceptance_by_kota(db, now=NOW)}
    assert (rows["31.71"].answered, rows["31.71"].accepted, rows["31.71"].declined) == (3, 2, 1)
    assert rows["31.71"].rate == pytest.approx(2 / 3)
    assert rows["31.74"].rate == 0
    assert rows["31.72"].rate is None


def test_matches_and_sessions_are_counted_per_iso_week(db):
    mentor = make_mentor(db, capacity=5)
    this_week = _match(db, make_entrepreneur(db), mentor, started=days_ago(1))  # Wed 11 March
    _match(db, make_entrepreneur(db), mentor, status="completed", started=days_ago(8), ended=days_ago(2))
    _match(db, make_entrepreneur(db), mentor, status="ended", started=days_ago(8, 2), ended=days_ago(2))
    _match(db, make_entrepreneur(db), mentor, status="ended", started=days_ago(120), ended=days_ago(90))
    # Sunday 8 March 17:30 UTC is Monday 9 March 00:30 in Jakarta: this week, not last.
    _match(db, make_entrepreneur(db), mentor, started=dt.datetime(2026, 3, 8, 17, 30, tzinfo=dt.UTC))
    for week, status in [
        (dt.date(2026, 3, 9), "held"),
        (dt.date(2026, 3, 2), "held"),
        (dt.date(2026, 2, 23), "missed"),
    ]:
        start = dt.datetime.combine(week, dt.time(3), tzinfo=dt.UTC)
        db.add(
            MentoringSession(
                match_id=this_week.id,
                week_start=week,
                starts_at=start,
                ends_at=start + dt.timedelta(hours=1),
                mode="online",
                status=status,
            )
        )
    db.flush()
    matches = insights.matches_per_week(db, now=NOW)
    assert len(matches) == 12
    assert matches[-1].week_start == dt.date(2026, 3, 9)
    assert matches[-1].iso_week == "2026-W11"
    assert matches[0].week_start == dt.date(2025, 12, 22)
    assert [w.count for w in matches[-2:]] == [2, 2]
    assert sum(w.count for w in matches) == 4
    sessions = insights.sessions_held_per_week(db, now=NOW)
    assert [w.count for w in sessions[-3:]] == [0, 1, 1]


def test_pas_progress_by_kota_and_by_cohort(db):
    q4 = make_entrepreneur(db, kecamatan_code=GAMBIR, created_at=dt.datetime(2025, 11, 5, tzinfo=dt.UTC))
    q1 = make_entrepreneur(db, kecamatan_code=GAMBIR, created_at=dt.datetime(2026, 2, 1, tzinfo=dt.UTC))
    # 31 December 20:00 UTC is 1 January 03:00 in Jakarta: the 2026-Q1 cohort.
    new_year = make_entrepreneur(
        db, kecamatan_code=CILANDAK, created_at=dt.datetime(2025, 12, 31, 20, tzinfo=dt.UTC)
    )
    for e, steps in [(q4, ("P1", "P2", "P3")), (q1, ("P1",)), (new_year, ("P1", "P2"))]:
        for step in steps:
            db.add(PasProgress(entrepreneur_id=e.id, step_code=step, achieved_on=dt.date(2026, 2, 10)))
    db.flush()
    by_kota = {r.key: r for r in insights.pas_by_kota(db)}
    assert by_kota["31.71"].entrepreneurs == 2
    assert by_kota["31.71"].reached == (2, 1, 1, 0, 0, 0, 0)
    assert by_kota["31.74"].reached == (1, 1, 0, 0, 0, 0, 0)
    by_cohort = {r.key: r for r in insights.pas_by_cohort(db)}
    assert list(by_cohort) == ["2025-Q4", "2026-Q1"]
    assert by_cohort["2025-Q4"].entrepreneurs == 1
    assert by_cohort["2026-Q1"].entrepreneurs == 2
    assert by_cohort["2026-Q1"].reached == (2, 1, 0, 0, 0, 0, 0)
    assert [r.key for r in insights.pas_by_cohort(db, kota="31.74")] == ["2026-Q1"]


# --------------------------------------------------------------------------- pages and downloads


@pytest.fixture
def staff(client, db):
    user = make_user(db, Role.STAFF)
    login(client, user.email)
    return user


def _csv(response) -> list[dict[str, str]]:
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_every_figure_downloads_with_its_documented_columns(client, db, staff, gambir):
    for figure, (columns, _rows) in insights.FIGURES.items():
        response = client.get(f"/staff/insights/{figure}.csv")
        header = response.get_data(as_text=True).splitlines()[0]
        assert header == ",".join(columns), figure
        assert f"filename={figure}.csv" in response.headers["Content-Disposition"]


def test_waiting_csv_holds_the_figures(client, db, staff, gambir):
    rows = {r["kecamatan_code"]: r for r in _csv(client.get("/staff/insights/waiting_by_kecamatan.csv"))}
    assert len(rows) == 44
    assert rows[GAMBIR]["kecamatan"] == "Gambir"
    assert rows[GAMBIR]["kota_code"] == "31.71"
    assert rows[GAMBIR]["entrepreneurs"] == "3"
    assert rows[GAMBIR]["waiting"] == "2"
    assert rows[GAMBIR]["waiting_with_open_request"] == "1"
    assert rows[MENTENG]["median_wait_days"] == ""
    assert rows[GAMBIR]["median_wait_days"].isdigit()  # days counted from the real today


def test_csv_downloads_follow_the_kota_filter(client, db, staff, gambir):
    rows = _csv(client.get("/staff/insights/mentor_load_by_kota.csv?kota=31.71"))
    assert [(r["kota_code"], r["mentors"], r["available"], r["full"], r["paused"]) for r in rows] == [
        ("31.71", "1", "1", "0", "0")
    ]
    assert (
        "filename=mentor_load_by_kota-31.71.csv"
        in client.get("/staff/insights/mentor_load_by_kota.csv?kota=31.71").headers["Content-Disposition"]
    )
    weeks = _csv(client.get("/staff/insights/matches_per_week.csv?kota=31.71"))
    assert len(weeks) == 12 and list(weeks[0]) == ["week_start", "iso_week", "matches_started"]
    pas = _csv(client.get("/staff/insights/pas_by_kota.csv"))
    assert [r["kota_code"] for r in pas] == ["31.01", "31.71", "31.72", "31.73", "31.74", "31.75"]
    assert pas[1]["entrepreneurs"] == "3" and pas[1]["reached_p7"] == "0"


def test_unknown_figure_is_not_found(client, db, staff):
    assert client.get("/staff/insights/salaries.csv").status_code == 404


def test_page_shows_the_figures_map_and_charts_to_staff(client, db, staff, gambir):
    response = client.get("/staff/insights")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'id="waiting-table"' in page
    assert "Menunggu mentor per kecamatan" in page
    map_svg = re.search(r'<svg class="map".*?</svg>', page, re.S).group(0)
    paths = re.findall(r'<path class="kec"[^>]*data-code="([\d.]+)"[^>]*><title>([^<]*)</title>', map_svg)
    assert 42 <= len(paths) <= 44
    titles = dict(paths)
    assert titles[GAMBIR].startswith("Gambir (Jakarta Pusat): 2 menunggu")
    assert titles[MENTENG].startswith("Menteng (Jakarta Pusat): 0 menunggu")
    assert page.count('<svg class="chart"') == 3  # waiting bars, matches per week, sessions per week
    assert "style=" not in page and "<script" not in page  # the CSP allows neither


def test_table_sorts_by_query_argument(client, db, staff, gambir):
    page = client.get("/staff/insights?sort=waiting&dir=desc").get_data(as_text=True)
    table = page[page.index('id="waiting-table"') :]
    assert table.index("<td>Gambir<") < table.index("<td>Cilandak<") < table.index("<td>Menteng<")
    page = client.get("/staff/insights?sort=kecamatan&dir=asc").get_data(as_text=True)
    table = page[page.index('id="waiting-table"') :]
    assert table.index("<td>Cakung<") < table.index("<td>Gambir<") < table.index("<td>Tebet<")


def test_kota_filter_greys_out_other_kecamatan_on_the_map(client, db, staff, gambir):
    page = client.get("/staff/insights?kota=31.74").get_data(as_text=True)
    assert "Cilandak (Jakarta Selatan): 1 menunggu" in page
    assert "Gambir: di luar filter" in page
    assert "<td>Gambir<" not in page


def test_page_is_in_english_when_asked(client, db, staff, gambir):
    page = client.get("/staff/insights?lang=en").get_data(as_text=True)
    assert "Gambir (Jakarta Pusat): 2 waiting" in page


def test_empty_programme_renders(client, db, staff):
    response = client.get("/staff/insights")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert page.count('<path class="kec"') == 44
    for figure in insights.FIGURES:
        assert client.get(f"/staff/insights/{figure}.csv").status_code == 200


@pytest.mark.parametrize("role", [Role.ENTREPRENEUR, Role.MENTOR])
@pytest.mark.parametrize("url", ["/staff/insights", "/staff/insights/waiting_by_kecamatan.csv"])
def test_members_cannot_see_insights(client, db, role, url):
    user = make_user(db, role)
    login(client, user.email)
    assert client.get(url).status_code == 403


def test_admins_see_insights(client, db):
    login(client, make_user(db, Role.ADMIN).email)
    assert client.get("/staff/insights").status_code == 200


def test_staff_dashboard_and_menu_link_to_insights(client, db, staff):
    page = client.get("/dashboard").get_data(as_text=True)
    assert page.count('href="/staff/insights"') == 2


def test_map_outlines_are_projected_once():
    assert insights.kecamatan_map() is insights.kecamatan_map()
    shapes = insights.kecamatan_map().shapes
    assert len(shapes) == 44 and sum(s.inset for s in shapes) == 2
