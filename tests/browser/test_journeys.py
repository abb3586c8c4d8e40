"""On a phone: an entrepreneur edits the profile, reads why mentors fit, asks two of them; the demo mentor
accepts in another browser and the entrepreneur's other request closes.

Set JAKMENTOR_SCREENSHOTS=<folder> to keep phone-width screenshots of the suggestions and the inbox.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from webapp.services.demo import DEMO_ACCOUNTS, DEMO_PASSWORD

pytestmark = pytest.mark.browser

#: The demo mentor login is linked to the first mentor row of the demo programme.
DEMO_MENTOR_ID = 1


def _email(role: str) -> str:
    return next(e for r, e, _n in DEMO_ACCOUNTS if r.value == role)


def _login(page, base: str, role: str) -> str:
    page.goto(base + "/login")
    page.get_by_label("E-mail").fill(_email(role))
    page.get_by_label("Kata sandi").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_url("**/dashboard")
    return page.locator("h1").inner_text().removeprefix("Halo, ").strip()


def _shot(page, name: str) -> None:
    folder = os.environ.get("JAKMENTOR_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"))  # the first phone screen
        page.screenshot(path=str(Path(folder) / f"{name}-full.png"), full_page=True)


def test_an_entrepreneur_asks_two_mentors_and_one_accepts(page, browser, live_server):
    me = _login(page, live_server, "entrepreneur")

    # Edit the profile: free any time (all days blank), so the demo mentor's evenings fit too.
    page.get_by_role("link", name="Lihat dan ubah profil").click()
    page.get_by_role("link", name="Ubah waktu").click()
    for select in page.locator("table.week select").all():
        select.select_option("")
    page.get_by_role("button", name="Simpan").click()
    page.wait_for_url("**/me/business")
    assert page.get_by_text("Profil usaha tersimpan.").is_visible()
    assert page.get_by_text("Kapan saja, Senin-Sabtu 08.00-21.00").is_visible()

    # Mentor untuk saya: ranked mentors, each with visible reasons.
    page.get_by_role("navigation").get_by_role("link", name="Mentor", exact=True).click()
    page.wait_for_url("**/me/mentors")
    cards = page.locator(".mentor-card")
    assert cards.count() >= 2
    assert cards.first.locator(".reasons li").count() >= 1
    _shot(page, "suggestions")

    # Ask one suggested mentor (not the demo mentor) with a message...
    other = next(c for c in cards.all() if f'/me/mentors/{DEMO_MENTOR_ID}"' not in c.inner_html())
    other_name = other.locator("h2").inner_text()
    other.get_by_role("link", name="Lihat profil dan minta").click()
    assert page.get_by_role("heading", name="Mengapa mentor ini untuk Anda").is_visible()
    page.get_by_label("Pesan singkat untuk mentor").fill("Saya ingin belajar pemasaran online.")
    page.get_by_role("button", name="Kirim permintaan").click()
    page.wait_for_url("**/me/requests")

    # ...and the demo mentor, from their profile page.
    page.goto(f"{live_server}/me/mentors/{DEMO_MENTOR_ID}")
    mentor_name = page.locator("h1").inner_text()
    page.get_by_role("button", name="Kirim permintaan").click()
    page.wait_for_url("**/me/requests")
    assert page.locator(".status-pending").count() == 2
    assert page.get_by_text("menunggu kurang dari sehari").first.is_visible()

    # The demo mentor, on another phone, accepts from the inbox.
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="id-ID")
    try:
        mentor_page = context.new_page()
        assert _login(mentor_page, live_server, "mentor") == mentor_name
        mentor_page.get_by_role("navigation").get_by_role("link", name="Permintaan").click()
        mentor_page.wait_for_url("**/mentor/requests")
        card = mentor_page.locator(".request-list > li", has_text=me)
        assert card.locator(".reasons li").count() >= 1
        _shot(mentor_page, "inbox")
        card.get_by_role("button", name="Terima").click()
        mentor_page.wait_for_url(re.compile(r".*/mentor/mentees/\d+$"))
        assert mentor_page.get_by_role("heading", name="Catat langkah yang tercapai").is_visible()
    finally:
        context.close()

    page.reload()
    accepted = page.locator(".request-list > li", has_text=mentor_name)
    closed = page.locator(".request-list > li", has_text=other_name)
    assert accepted.get_by_text("diterima").is_visible()
    assert closed.get_by_text("ditutup: Anda sudah mendapat mentor").is_visible()
    page.get_by_role("link", name="Buka pendampingan").click()
    assert page.get_by_role("heading", name=f"Kontak {mentor_name}").is_visible()
