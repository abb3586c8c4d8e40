"""Locust users for ``scripts/load_test.py`` (read the accounts from ``LOAD_ACCOUNTS``).

Each virtual user is one entrepreneur (a session cookie from a login through the form for the
pages, a Bearer token for the API), borrows one of the few "hot" mentors' tokens to accept requests (so mentors race for few
places and three mentors may accept the same entrepreneur at once), and one staff login.
The mix, by requests: suggestions page 70 %, a request to a hot mentor 15 %, accepting 10 %
(listing the pending requests, then accepting one), a staff cohort page 5 %.
Expected refusals (409: already asked, three waiting, already matched, mentor full, already
answered) are successes; anything else that is not 2xx/3xx is an error.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import time
from pathlib import Path

from locust import FastHttpUser, task

ACCOUNTS = json.loads(Path(os.environ["LOAD_ACCOUNTS"]).read_text(encoding="utf-8"))
RATE_PER_USER = float(os.environ.get("LOAD_RATE_PER_USER", "2"))
#: Of the staff hits, the share that opens a run's review page (about 150 M instructions each at
#: 20,000 x 1,500, ten times the list's); the rest open the list of runs.
REVIEW_SHARE = float(os.environ.get("LOAD_REVIEW_SHARE", "0.1"))
_next_user = itertools.count()
#: Answers of the API that are the business saying no, not the service failing.
EXPECTED_REFUSALS = {409}


def poisson_throughput(rate: float):
    """A ``wait_time`` that starts each user's tasks as a Poisson process of ``rate`` per second.

    Independent people do not click in step. Locust's ``constant_throughput`` keeps every user on
    the phase it started with, so users spawned together fire together: 50 users at 2 per second
    sent bursts of about 16 requests at once every half second, and the run measured how long the
    last of a burst waited for a worker rather than how the service answers a steady 100 per
    second. Exponential gaps, counted from the planned start (not from the end of the last task),
    keep the rate exact and make the arrivals of all users together a Poisson stream.
    """

    def wait_time(user) -> float:
        now = time.monotonic()
        planned = getattr(user, "_next_start", now) + user.rng.expovariate(rate)
        user._next_start = planned
        return max(0.0, planned - now)

    return wait_time


class Visitor(FastHttpUser):
    """One entrepreneur, a share of the hot mentors and one staff member, through a whole run."""

    wait_time = poisson_throughput(RATE_PER_USER)

    def on_start(self) -> None:
        """Take this user's identity (logged in by the driver before the run: no logins are measured)."""
        n = next(_next_user)
        me = ACCOUNTS["entrepreneurs"][n % len(ACCOUNTS["entrepreneurs"])]
        self.entrepreneur_token = me["token"]
        self.entrepreneur_cookie = me["cookie"]
        self.staff_cookie = ACCOUNTS["staff"][n % len(ACCOUNTS["staff"])]["cookie"]
        self.rng = random.Random(n)  # nosec B311 # picks load-test requests and gaps, not secrets
        self._next_start = time.monotonic()

    def _api(self, method: str, path: str, token: str, name: str, **kw):
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        with self.client.request(
            method, path, headers=headers, name=name, catch_response=True, **kw
        ) as response:
            if response.status_code in EXPECTED_REFUSALS or 200 <= response.status_code < 300:
                response.success()
            else:
                response.failure(f"{response.status_code}: {(response.text or '')[:200]}")
            return response

    @task(70)
    def browse_suggestions(self) -> None:
        """The entrepreneur opens "Mentor untuk saya" (sometimes filtered to online mentors)."""
        path = "/me/mentors?online=1" if self.rng.random() < 0.2 else "/me/mentors"
        with self.client.get(
            path, headers={"Cookie": self.entrepreneur_cookie}, name="GET /me/mentors (suggestions page)",
            allow_redirects=False, catch_response=True,
        ) as response:  # fmt: skip
            if response.status_code == 200 and "mentor" in (response.text or ""):
                response.success()
            else:
                response.failure(f"suggestions page answered {response.status_code}")

    @task(15)
    def request_hot_mentor(self) -> None:
        """The entrepreneur asks one of the hot mentors (via the API)."""
        mentor = self.rng.choice(ACCOUNTS["mentors"])
        self._api(
            "POST", "/api/v1/requests", self.entrepreneur_token, "POST /api/v1/requests (request a mentor)",
            json={"mentor_id": mentor["mentor_id"], "message": "Mohon bimbingannya (load test)"},
        )  # fmt: skip

    @task(10)
    def accept_under_contention(self) -> None:
        """A hot mentor lists the pending requests and accepts the oldest (others race for the same)."""
        mentor = self.rng.choice(ACCOUNTS["mentors"])
        listing = self._api(
            "GET",
            "/api/v1/requests?status=pending",
            mentor["token"],
            "GET /api/v1/requests (mentor's pending)",
        )
        if listing.status_code != 200:
            return
        pending = listing.json() or []
        if not pending:
            return
        pick = pending[-1] if self.rng.random() < 0.7 else self.rng.choice(pending)
        self._api(
            "POST",
            f"/api/v1/requests/{pick['id']}/accept",
            mentor["token"],
            "POST /api/v1/requests/{id}/accept",
        )

    @task(5)
    def staff_cohort_pages(self) -> None:
        """A staff member looks at the cohort runs, or reviews the run's proposals."""
        if self.rng.random() >= REVIEW_SHARE or not ACCOUNTS.get("run_id"):
            path, name = "/staff/cohorts", "GET /staff/cohorts (runs)"
        else:
            path, name = f"/staff/cohorts/{ACCOUNTS['run_id']}", "GET /staff/cohorts/{id} (review)"
        with self.client.get(
            path, headers={"Cookie": self.staff_cookie}, name=name, allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code == 200:
                response.success()
            else:
                response.failure(f"staff page answered {response.status_code}")
