"""The match model in use: ``<instance>/models/current.joblib``, loaded once per process and file version."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from matching.scoring import MatchScorer, load_model

log = logging.getLogger(__name__)

CURRENT = "current.joblib"
_lock = threading.Lock()
_cache: dict[Path, tuple[int, MatchScorer]] = {}


def model_dir(app=None) -> Path:
    """The folder of the saved models: ``<instance_path>/models`` of ``app`` (default: the current app)."""
    if app is None:
        from flask import current_app

        app = current_app
    return Path(app.instance_path) / "models"


def current_scorer(directory: Path) -> MatchScorer | None:
    """The scorer saved as ``directory/current.joblib``, or None when there is none (use the priors).

    Loaded again only when the file's modification time changes; a file that cannot be loaded is
    logged and ignored (None), so a bad model never takes the matching down.
    """
    path = (Path(directory) / CURRENT).resolve()
    try:
        mtime = path.stat().st_mtime_ns
    except FileNotFoundError:
        _cache.pop(path, None)
        return None
    with _lock:
        cached = _cache.get(path)
        if cached is not None and cached[0] == mtime:
            return cached[1]
        try:
            scorer = load_model(path)
        except Exception:  # noqa: BLE001 - any unreadable model falls back to the priors
            log.exception("cannot load the match model %s; using the prior weights", path)
            return None
        _cache[path] = (mtime, scorer)
        return scorer


def forget(directory: Path | None = None) -> None:
    """Drop the cached scorer(s) (for tests, or after replacing the file within one mtime tick)."""
    with _lock:
        if directory is None:
            _cache.clear()
        else:
            _cache.pop((Path(directory) / CURRENT).resolve(), None)
