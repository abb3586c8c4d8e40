"""What a person changes about themselves: the phone number only with the current password (SESS-3),
and every profile or contact change in the audit log with the fields it changed (PDP-3)."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from marshmallow import Schema
from sqlalchemy import select

from models import AuditLog, Role, User, utcnow
from tests.factories import PASSWORD, login, make_entrepreneur, make_mentor, make_user
from tests.webapp.test_mentor_journey import PROFILE as MENTOR_PROFILE
from webapp.api import schemas as api_schemas

OLD_PHONE = "6281200000001"
NEW_PHONE = "0813-4444-5555"


@pytest.fixture
def entrepreneur(db, client):
    """A logged-in entrepreneur with a complete profile and a phone number."""
    user = make_user(db, Role.ENTREPRENEUR)
    user.phone = OLD_PHONE
    row = make_entrepreneur(db, user, business_name="Kopi Gambir", kelurahan_code="31.71.01.1001")
    login(client, user.email)
    return row


def _user(db, user_id: int) -> User:
    db.expire_all()
    return db.get(User, user_id)


def _field_errors(page: str, name: str) -> list[str]:
    """The error messages shown in the form field ``name`` (its own block, not the page)."""
    block = re.search(
        rf'<div class="field[^"]*">(?:(?!</div>).)*name="{name}"(?:(?!</div>).)*</div>', page, re.S
    )
    return re.findall(r'<p class="error">([^<]+)</p>', block.group(0)) if block else []


def _audit(db, action: str) -> list[AuditLog]:
    db.expire_all()
    return list(db.scalars(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)))


# --- SESS-3: a fresh authentication before the phone number changes ---------------------------------


def test_changing_the_phone_without_the_password_is_refused_on_the_password_field(client, db, entrepreneur):
    response = client.post("/me/contact", data={"phone": NEW_PHONE, "share_phone": "y"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert _field_errors(page, "password") == ["Masukkan kata sandi Anda untuk mengganti nomor HP."]
    user = _user(db, entrepreneur.user_id)
    assert (user.phone, user.share_phone) == (OLD_PHONE, False)
    assert _audit(db, "account.contact") == []


def test_changing_the_phone_with_a_wrong_password_is_refused_and_counted(client, db, entrepreneur):
    response = client.post(
        "/me/contact", data={"phone": NEW_PHONE, "share_phone": "y", "password": "bukan-kata-sandinya"}
    )
    assert response.status_code == 422
    assert _field_errors(response.get_data(as_text=True), "password") == ["Kata sandi sekarang salah."]
    user = _user(db, entrepreneur.user_id)
    assert (user.phone, user.share_phone) == (OLD_PHONE, False)
    assert user.failed_logins == 1  # the same per-account floor as the login page
    assert _audit(db, "account.contact") == []


def test_changing_the_phone_with_the_current_password_saves_it(client, db, entrepreneur):
    response = client.post("/me/contact", data={"phone": NEW_PHONE, "share_phone": "y", "password": PASSWORD})
    assert response.status_code == 302
    user = _user(db, entrepreneur.user_id)
    assert (user.phone, user.share_phone) == ("6281344445555", True)
    assert client.get("/dashboard").status_code == 200  # still logged in


def test_removing_the_phone_needs_the_password_too(client, db, entrepreneur):
    assert client.post("/me/contact", data={"phone": ""}).status_code == 422
    assert _user(db, entrepreneur.user_id).phone == OLD_PHONE
    assert client.post("/me/contact", data={"phone": "", "password": PASSWORD}).status_code == 302
    assert _user(db, entrepreneur.user_id).phone is None


def test_sharing_the_same_number_needs_no_password(client, db, entrepreneur):
    response = client.post("/me/contact", data={"phone": "0812-0000-0001", "share_phone": "y"})
    assert response.status_code == 302
    user = _user(db, entrepreneur.user_id)
    assert (user.phone, user.share_phone) == (OLD_PHONE, True)


def test_a_mentor_changing_the_phone_is_asked_for_the_password(client, db):
    user = make_user(db, Role.MENTOR)
    make_mentor(db, user)
    login(client, user.email)
    page = client.get("/me/contact").get_data(as_text=True)
    assert 'name="password"' in page and 'autocomplete="current-password"' in page
    assert client.post("/me/contact", data={"phone": NEW_PHONE}).status_code == 422
    assert _user(db, user.id).phone is None
    assert client.post("/me/contact", data={"phone": NEW_PHONE, "password": PASSWORD}).status_code == 302
    assert _user(db, user.id).phone == "6281344445555"


def test_an_account_that_must_wait_cannot_change_the_phone_even_with_the_password(client, db, entrepreneur):
    user = _user(db, entrepreneur.user_id)
    user.login_blocked_until = utcnow() + dt.timedelta(minutes=3)
    db.flush()
    response = client.post("/me/contact", data={"phone": NEW_PHONE, "password": PASSWORD})
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0
    assert "Terlalu banyak percobaan yang gagal" in response.get_data(as_text=True)
    assert _user(db, entrepreneur.user_id).phone == OLD_PHONE


def test_no_api_body_can_set_an_email_address_or_a_phone_number():
    # The JSON API has no way to change them without the password: such fields are output only.
    loadable = []
    for schema in vars(api_schemas).values():
        if isinstance(schema, type) and issubclass(schema, Schema):
            for name, field in schema().fields.items():
                if name in ("email", "phone") and not field.dump_only:
                    loadable.append(f"{schema.__name__}.{name}")
    assert loadable == []


# --- PDP-3: self-service corrections in the audit log ----------------------------------------------


def test_an_entrepreneurs_profile_edit_is_audited_with_the_changed_fields_only(client, db, entrepreneur):
    response = client.post(
        "/me/business/needs",
        data={"needs": ["licensing", "marketing"], "mode": "online", "languages": ["en"]},
    )
    assert response.status_code == 302
    (row,) = _audit(db, "entrepreneur.profile")
    assert (row.actor_id, row.object_type, row.object_id, row.note) == (
        entrepreneur.user_id, "entrepreneur", str(entrepreneur.id), "needs",
    )  # fmt: skip
    assert row.before == {"languages": ["id"], "mode": "either"}
    assert row.after == {"languages": ["id", "en"], "mode": "online"}


def test_a_bio_correction_is_audited_without_its_text(client, db, entrepreneur):
    bio = "Saya Siti, warung kopi di Jalan Kebon Sirih 12."
    response = client.post("/me/business/about", data={"gender": "", "prefers_mentor_gender": "", "bio": bio})
    assert response.status_code == 302
    (row,) = _audit(db, "entrepreneur.profile")
    assert row.before == {"bio": None} and row.after == {"bio": "***"}
    assert "Kebon Sirih" not in json.dumps([row.before, row.after])


def test_saving_an_unchanged_profile_writes_no_audit_row(client, db, entrepreneur):
    data = {"needs": ["licensing", "marketing"], "mode": "either"}
    assert client.post("/me/business/needs", data=data).status_code == 302
    assert _audit(db, "entrepreneur.profile") == []


def test_a_mentors_profile_edit_is_audited_with_the_changed_fields_only(client, db):
    user = make_user(db, Role.MENTOR)
    mentor = make_mentor(db, user)
    login(client, user.email)
    assert client.post("/mentor/profile", data=MENTOR_PROFILE).status_code == 302
    assert client.post("/mentor/profile", data={**MENTOR_PROFILE, "capacity": "4"}).status_code == 302
    first, second = _audit(db, "mentor.profile")
    assert first.before["capacity"] == 2 and first.after["capacity"] == 3
    assert first.after["bio"] == "***" and "berdagang" not in json.dumps(first.after)
    assert (second.actor_id, second.object_id) == (user.id, str(mentor.id))
    assert (second.before, second.after) == ({"capacity": 3}, {"capacity": 4})


def test_a_phone_change_is_audited_without_the_number(client, db, entrepreneur):
    data = {"phone": NEW_PHONE, "share_phone": "y", "password": PASSWORD}
    assert client.post("/me/contact", data=data).status_code == 302
    (row,) = _audit(db, "account.contact")
    assert (row.actor_id, row.object_type, row.object_id) == (
        entrepreneur.user_id, "user", str(entrepreneur.user_id),
    )  # fmt: skip
    assert row.before == {"phone": "***", "share_phone": False}
    assert row.after == {"phone": "***", "share_phone": True}
    assert "4444" not in json.dumps([row.before, row.after]) and "0000" not in json.dumps(row.before)


def test_a_self_service_correction_shows_on_the_staff_audit_page(app, client, db, entrepreneur):
    client.post("/me/business/needs", data={"needs": ["licensing", "marketing"], "mode": "online"})
    staff = app.test_client()
    login(staff, make_user(db, Role.STAFF).email)
    page = staff.get("/staff/audit?action=entrepreneur.profile").get_data(as_text=True)
    assert "entrepreneur.profile" in page and "online" in page
