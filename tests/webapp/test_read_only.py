"""The busiest read-only views run without a transaction on PostgreSQL (no BEGIN and ROLLBACK
round trips); everything else, and every write, keeps its transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from models import Role
from tests.factories import PASSWORD, login, make_entrepreneur, make_mentor, make_user

READ_ONLY = {
    "entrepreneur.suggestions",
    "entrepreneur.mentor_profile",
    "cohorts.index",
    "mentors.suggestions_for_me",
    "mentors.get_mentor",
    "requests.list_requests",
}


def test_exactly_the_busiest_read_only_views_are_marked(app):
    # The mark survives the other decorators (the app sees it on the view it calls), and a new
    # mark is a decision to review here: a marked view must not write more than one row together.
    marked = {
        name for name, view in app.view_functions.items() if getattr(view, "_jakmentor_read_only", False)
    }
    assert marked == READ_ONLY


@pytest.fixture
def live(postgres):
    """An app on its own engine (not the test's outer transaction), its rows deleted afterwards."""
    from webapp import create_app

    url = postgres.url.render_as_string(hide_password=False)
    app = create_app(
        {"ENV": "testing", "DATABASE_URL": url, "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}
    )
    with Session(postgres) as db:
        user = make_user(db, Role.ENTREPRENEUR, email="read-only@contoh.id")
        me = make_entrepreneur(db, user, business_name="Kopi Baca Saja")
        mentor = make_mentor(db, name="Bu Hanya Baca")
        db.commit()
        ids = {"user": user.id, "entrepreneur": me.id, "mentor": mentor.id}
    yield app, ids
    app.extensions["jakmentor.engine"].dispose()
    with postgres.begin() as conn:
        for sql in (
            "DELETE FROM audit_log WHERE actor_id = :user",
            "DELETE FROM notification WHERE user_id = :user",
            "DELETE FROM status_change WHERE actor_id = :user OR request_id IN"
            " (SELECT id FROM match_request WHERE entrepreneur_id = :entrepreneur)",
            "DELETE FROM match_request WHERE entrepreneur_id = :entrepreneur",
            "DELETE FROM user_session WHERE user_id = :user",
            "DELETE FROM entrepreneur WHERE id = :entrepreneur",
            "DELETE FROM mentor WHERE id = :mentor",
            "DELETE FROM user_account WHERE id = :user",
        ):
            conn.execute(text(sql), ids)


def test_on_postgresql_a_read_only_page_runs_without_a_transaction_and_a_write_with_one(live):
    app, ids = live
    seen: list[tuple[str, bool]] = []

    def record(conn, _cursor, statement, *_args):
        seen.append((statement.split(None, 1)[0].upper(), conn.connection.dbapi_connection.autocommit))

    engine = app.extensions["jakmentor.engine"]
    client = app.test_client()
    login(client, "read-only@contoh.id", PASSWORD)
    event.listen(engine, "before_cursor_execute", record)
    try:
        page = client.get("/me/mentors")
        read = list(seen)
        seen.clear()
        asked = client.post(f"/me/mentors/{ids['mentor']}/request", data={"message": "Mohon bantu"})
        wrote = list(seen)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert page.status_code == 200 and "Bu Hanya Baca" in page.get_data(as_text=True)
    assert read and all(autocommit for _verb, autocommit in read), read
    assert asked.status_code == 302
    assert any(verb == "INSERT" for verb, _a in wrote) and not any(autocommit for _verb, autocommit in wrote)
    # The connection went back to the pool as the pool hands them out: in a transaction's mode.
    with engine.connect() as conn:
        assert conn.connection.dbapi_connection.autocommit is False
