"""scripts/load_test.py: what makes a run fail besides errors and broken invariants."""

import runpy
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "load_test.py"


def _rows(made: int) -> list[dict]:
    return [
        {"Name": "GET /me/mentors (suggestions page)", "Request Count": str(made)},
        {"Name": "Aggregated", "Request Count": str(made)},
    ]


def test_a_server_that_answered_fewer_than_half_the_requests_asked_for_fails_the_run():
    too_few = runpy.run_path(str(SCRIPT))["too_few_requests"]
    results = {"gunicorn 4 workers": _rows(3_001), "development server": _rows(2_999)}
    assert too_few(results, asked=6_000) == {"development server": 2_999}
    assert too_few({"gunicorn 4 workers": _rows(0)}, asked=1_500) == {"gunicorn 4 workers": 0}
    assert too_few({"gunicorn 4 workers": _rows(1_480)}, asked=1_500) == {}
