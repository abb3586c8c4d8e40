"""A person opens JakMentor in Chromium, logs in with a demo account and sees their dashboard."""

from __future__ import annotations

import pytest

from webapp.services.demo import DEMO_ACCOUNTS, DEMO_PASSWORD

pytestmark = pytest.mark.browser


def _login(page, base: str, email: str) -> None:
    page.goto(base + "/")
    page.get_by_role("link", name="Masuk").first.click()
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Kata sandi").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Masuk").click()


@pytest.mark.parametrize(
    ("role", "heading"),
    [("entrepreneur", "Usaha Anda"), ("mentor", "Kapasitas"), ("staff", "Ringkasan program")],
)
def test_a_demo_user_logs_in_and_sees_their_dashboard(page, live_server, role, heading):
    email = next(e for r, e, _n in DEMO_ACCOUNTS if r.value == role)
    _login(page, live_server, email)
    page.wait_for_url("**/dashboard")
    assert page.get_by_role("heading", name=heading).is_visible()


def test_a_wrong_password_keeps_the_person_on_the_login_page(page, live_server):
    page.goto(live_server + "/login")
    page.get_by_label("E-mail").fill("staf@demo.jakmentor.id")
    page.get_by_label("Kata sandi").fill("bukan-kata-sandinya")
    page.get_by_role("button", name="Masuk").click()
    assert page.get_by_text("E-mail atau kata sandi salah.").is_visible()
    assert page.url.endswith("/login")


def test_the_language_switch_turns_the_page_into_english(page, live_server):
    page.goto(live_server + "/login")
    page.get_by_role("link", name="EN", exact=True).click()
    assert page.locator("html").get_attribute("lang") == "en"
