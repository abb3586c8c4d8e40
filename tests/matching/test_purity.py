"""The matching core is a pure library: importing it never loads the web stack."""

import subprocess
import sys


def test_importing_matching_loads_no_web_or_database_library():
    code = (
        "import sys, matching.ranking, matching.assignment, matching.batch, matching.scoring, "
        "matching.explain, matching.evaluation, matching.features\n"
        "bad = [m for m in ('flask', 'sqlalchemy', 'marshmallow', 'apscheduler', 'webapp', 'models') if m in sys.modules]\n"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
