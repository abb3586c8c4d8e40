"""A live JakMentor on a loopback port with a small demo programme, and Chromium driven by Playwright.

Browser tests skip with the reason when Chromium or Playwright is missing, except when
REQUIRE_BROWSER=1 (as in CI), where a missing browser is a failure.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _unavailable(reason: str):
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"browser tests are required here, but {reason}")
    pytest.skip(reason)


@contextmanager
def serve_demo(folder: Path) -> Iterator[str]:
    """The app served by werkzeug in a thread, on its own SQLite file in ``folder`` with a small demo."""
    from sqlalchemy.orm import Session
    from werkzeug.serving import make_server

    from models.migrate import upgrade
    from webapp import create_app
    from webapp.services.demo import load_demo
    from webapp.services.reference_data import sync_reference_data

    url = f"sqlite:///{folder / 'live.db'}"
    upgrade(url)
    app = create_app({"ENV": "testing", "DATABASE_URL": url, "RATELIMIT_ENABLED": False})
    app.instance_path = str(folder / "instance")
    engine = app.extensions["jakmentor.engine"]
    with Session(engine) as db:
        sync_reference_data(db)
        load_demo(db, entrepreneurs=120, mentors=12, seed=5)
        db.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        engine.dispose()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """A live JakMentor with a small demo programme (120 entrepreneurs, 12 mentors, seed 5)."""
    with serve_demo(tmp_path_factory.mktemp("live")) as base:
        yield base


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium from the system's packages."""
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        _unavailable(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright is not installed (pip install playwright)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A fresh browser context (no cookies) with a phone-sized viewport."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="id-ID")
    page = context.new_page()
    yield page
    context.close()
