"""gunicorn.conf.py: what a worker does once the app is loaded."""

import gc
import runpy
from pathlib import Path

CONF = Path(__file__).resolve().parents[2] / "gunicorn.conf.py"


def test_a_worker_hides_what_it_loaded_from_the_garbage_collector():
    conf = runpy.run_path(str(CONF))
    gc.unfreeze()
    try:
        conf["post_worker_init"](None)
        frozen = gc.get_freeze_count()
        assert frozen > 10_000  # the libraries and the app: never walked by a full collection again
        assert len(gc.get_objects()) < frozen  # a full collection now walks only what came after
    finally:
        gc.unfreeze()
