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


def test_the_access_log_is_json_like_the_apps_records_and_hides_the_calendar_key(monkeypatch, capsys):
    import datetime as dt
    import json
    from types import SimpleNamespace

    from gunicorn.config import Config

    monkeypatch.setenv("LOG_FORMAT", "json")
    conf = runpy.run_path(str(CONF))
    cfg = Config()
    cfg.set("accesslog", "-")
    logger = conf["RedactingLogger"](cfg)
    response = SimpleNamespace(status="200 OK", response_length=512, sent=512, headers=(("X-Request-ID", "req-1234"),))
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/calendar/s3cr3t-feed-key.ics?token=abc",
        "PATH_INFO": "/calendar/s3cr3t-feed-key.ics",
        "QUERY_STRING": "token=abc",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.9",
    }
    logger.access(response, SimpleNamespace(headers=()), environ, dt.timedelta(milliseconds=12))
    line = capsys.readouterr().out.strip()
    assert "s3cr3t" not in line and "token" not in line
    record = json.loads(line)
    assert record["logger"] == "gunicorn.access" and record["level"] == "INFO"
    assert (record["method"], record["path"], record["status"]) == ("GET", "/calendar/[key].ics", 200)
    assert (record["request_id"], record["ip"], record["bytes"], record["duration_us"]) == ("req-1234", "203.0.113.9", 512, 12000)


def test_the_access_log_stays_text_where_the_app_logs_text(monkeypatch):
    monkeypatch.setenv("LOG_FORMAT", "text")
    assert runpy.run_path(str(CONF))["JSON_ACCESS_LOG"] is False
    monkeypatch.delenv("LOG_FORMAT")
    monkeypatch.setenv("JAKMENTOR_ENV", "production")
    assert runpy.run_path(str(CONF))["JSON_ACCESS_LOG"] is True
