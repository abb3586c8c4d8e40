"""The demo programme, the command line, and the health check."""

from __future__ import annotations

from sqlalchemy import func, select

from models import Entrepreneur, Match, MatchRequest, Mentor, Role, User
from tests.factories import make_user
from webapp.services.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, load_demo


def test_demo_gives_one_working_login_per_role(app, db):
    load_demo(db, entrepreneurs=60, mentors=8, seed=3)
    db.commit()
    expected = {
        Role.ENTREPRENEUR: "Usaha Anda",
        Role.MENTOR: "Kapasitas",
        Role.STAFF: "Ringkasan program",
        Role.ADMIN: "Ringkasan program",
    }
    for role, email, _name in DEMO_ACCOUNTS:
        client = app.test_client()
        response = client.post("/login", data={"email": email, "password": DEMO_PASSWORD})
        assert response.status_code == 302, role
        assert expected[role] in client.get("/dashboard").get_data(as_text=True), role


def test_demo_is_deterministic_by_seed(db):
    load_demo(db, entrepreneurs=40, mentors=6, seed=7)
    first = [
        (e.external_id, e.name, e.kecamatan_code, tuple(e.needs))
        for e in db.scalars(select(Entrepreneur).order_by(Entrepreneur.external_id))
    ]
    assert len(first) == 40
    from matching.synthetic import generate_city

    city = generate_city(40, 6, seed=7)
    assert first == [(e.id, e.name, e.kecamatan, e.needs) for e in city.entrepreneurs]


def test_demo_history_never_overloads_a_mentor(db):
    load_demo(db, entrepreneurs=300, mentors=12, seed=1)
    for mentor in db.scalars(select(Mentor)):
        active = db.scalar(
            select(func.count())
            .select_from(Match)
            .where(Match.mentor_id == mentor.id, Match.status == "active")
        )
        assert active <= mentor.active_count <= mentor.capacity
    assert db.scalar(select(func.count()).select_from(MatchRequest)) > 0


def test_demo_loads_only_into_an_empty_database(app, db):
    make_user(db)
    db.commit()
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["demo", "load", "--entrepreneurs", "10", "--mentors", "2"])
    assert refused.exit_code == 1 and "already holds members" in refused.output
    skipped = runner.invoke(args=["demo", "load", "--if-empty"])
    assert skipped.exit_code == 0 and "nothing loaded" in skipped.output
    assert db.scalar(select(func.count()).select_from(Entrepreneur)) == 0


def test_demo_load_prints_the_logins(app):
    result = app.test_cli_runner().invoke(
        args=["demo", "load", "--entrepreneurs", "30", "--mentors", "4", "--seed", "2"]
    )
    assert result.exit_code == 0, result.output
    assert "demo loaded: 30 entrepreneurs, 4 mentors" in result.output
    for _role, email, _name in DEMO_ACCOUNTS:
        assert email in result.output


def test_staff_accounts_are_created_from_the_cli_with_a_one_time_password(app, db):
    result = app.test_cli_runner().invoke(
        args=["users", "create", "--role", "staff", "--email", "Ani@Dinas.id", "--name", "Ani"]
    )
    assert result.exit_code == 0, result.output
    user = db.scalar(select(User).where(User.email == "ani@dinas.id"))
    assert user.role is Role.STAFF and user.must_change_password
    assert "one-time password" in result.output


def test_cli_refuses_a_duplicate_account(app, db):
    make_user(db, email="ani@dinas.id")
    db.commit()
    result = app.test_cli_runner().invoke(
        args=["users", "create", "--role", "staff", "--email", "ani@dinas.id", "--name", "Ani"]
    )
    assert result.exit_code == 1 and "exists" in result.output


def test_db_upgrade_builds_a_fresh_database(tmp_path):
    from webapp import create_app

    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    app = create_app({"ENV": "testing", "DATABASE_URL": url})
    runner = app.test_cli_runner()
    first = runner.invoke(args=["db", "upgrade"])
    assert first.exit_code == 0, first.output
    assert "361 reference rows" in first.output
    second = runner.invoke(args=["db", "upgrade"])
    assert "(0 reference rows written)" in second.output
    app.extensions["jakmentor.engine"].dispose()


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok", "database": "ok"}


def test_healthz_answers_503_when_the_database_is_gone(tmp_path):
    from webapp import create_app

    app = create_app({"ENV": "testing", "DATABASE_URL": f"sqlite:///{tmp_path}/missing/dir/../../nope/x.db"})
    engine = app.extensions["jakmentor.engine"]
    engine.dispose()

    def broken(*_a, **_k):
        raise __import__("sqlite3").OperationalError("unable to open database file")

    engine.pool._creator = broken
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
