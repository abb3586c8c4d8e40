"""Staff run a cohort in Chromium, reject one proposal with a reason, approve the rest, and see the figures move."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import serve_demo
from webapp.services.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def staff_server(tmp_path_factory):
    """The demo of ``live_server`` (120 entrepreneurs, 12 mentors, seed 5) on its own database.

    A cohort run changes many people's requests; its own copy keeps the journeys tests, which share
    ``live_server`` in any order, unaffected.
    """
    with serve_demo(tmp_path_factory.mktemp("staff-live")) as base:
        yield base


def _pending_figure(page, base: str) -> int:
    page.goto(base + "/dashboard")
    stat = page.locator("#figures .stat", has_text="permintaan menunggu jawaban")
    return int(stat.locator(".num").inner_text())


def test_staff_review_a_cohort_and_the_dashboard_counts_the_approved_proposals(page, staff_server):
    page.goto(staff_server + "/login")
    page.get_by_label("E-mail").fill("staf@demo.jakmentor.id")
    page.get_by_label("Kata sandi").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_url("**/dashboard")
    before = _pending_figure(page, staff_server)

    page.get_by_role("navigation").get_by_role("link", name="Kohort").click()
    page.get_by_role("button", name="Jalankan").click()
    page.wait_for_url(re.compile(r".*/staff/cohorts/\d+$"))
    assert page.get_by_text("Pencocokan kohort selesai").is_visible()
    drafts = page.locator("#proposals tr[data-status=draft]")
    n = drafts.count()
    assert n >= 2
    assert drafts.first.locator(".reasons").inner_text().strip() != ""

    first = drafts.first
    first_id = first.get_attribute("id")
    first.get_by_text("Tolak", exact=True).click()
    first.get_by_label("Alasan").select_option(label="ada konflik kepentingan")
    first.get_by_label("Catatan").fill("Masih satu keluarga")
    first.get_by_role("button", name="Tolak usulan").click()
    assert page.get_by_text("Usulan ditolak.").is_visible()
    rejected = page.locator(f"#{first_id}")
    assert rejected.get_attribute("data-status") == "rejected"
    assert "Masih satu keluarga" in rejected.inner_text()

    page.get_by_role("button", name=f"Setujui semua draf ({n - 1})").click()
    assert page.get_by_text(f"{n - 1} usulan disetujui dan dikirim ke mentor.").is_visible()
    assert page.locator("#proposals tr[data-status=draft]").count() == 0
    assert page.locator("#proposals tr[data-status=pending]").count() == n - 1

    assert _pending_figure(page, staff_server) == before + n - 1
