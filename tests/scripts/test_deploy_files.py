"""deploy/: the example production settings start the app, and nginx and systemd run what exists."""

from __future__ import annotations

import re
import runpy
import secrets
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def _settings() -> dict[str, str]:
    out = {}
    for line in (DEPLOY / "jakmentor.env.example").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            out[name.strip()] = value.strip()
    return out


def _production_app(monkeypatch, session_factory, **changes: str):
    from webapp import create_app

    for name, value in {**_settings(), **changes}.items():
        monkeypatch.setenv(name, value)
    return create_app({"ENV": "production"}, session_factory=session_factory)


def test_the_example_settings_run_production_once_the_secret_key_is_filled_in(monkeypatch, session_factory):
    app = _production_app(monkeypatch, session_factory, SECRET_KEY=secrets.token_hex(32))
    client = app.test_client()
    as_nginx_sends = {  # deploy/nginx/jakmentor.conf's proxy_set_header lines
        "Host": "jakmentor.jakarta.go.id",
        "X-Forwarded-Host": "jakmentor.jakarta.go.id",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-For": "203.0.113.9",
    }
    ready = client.get("/readyz", headers=as_nginx_sends)
    assert ready.status_code == 200, ready.get_json()
    assert ready.headers["Strict-Transport-Security"].startswith("max-age=")
    forged = client.get("/readyz", headers={**as_nginx_sends, "X-Forwarded-Host": "evil.example"})
    assert forged.status_code == 400


def test_the_example_secret_key_left_as_it_is_refuses_to_start(monkeypatch, session_factory):
    from webapp.config import ConfigError

    with pytest.raises(ConfigError, match="SECRET_KEY"):
        _production_app(monkeypatch, session_factory)


def test_nginx_sets_every_forwarded_header_the_app_believes_and_proxies_to_gunicorns_address():
    conf = (DEPLOY / "nginx" / "jakmentor.conf").read_text(encoding="utf-8")
    headers = dict(re.findall(r"^\s*proxy_set_header\s+(\S+)\s+(.+?);", conf, re.MULTILINE))
    # ProxyFix(x_for, x_proto, x_host): each overwritten or appended to by nginx, never passed on as sent.
    assert headers["X-Forwarded-For"] == "$proxy_add_x_forwarded_for"
    assert headers["X-Forwarded-Proto"] == "$scheme"
    assert headers["X-Forwarded-Host"] == "$host"
    assert headers["Host"] == "$host"
    upstream = re.search(r"upstream jakmentor_web \{\s*server (\S+);", conf).group(1)
    gunicorn_conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert upstream == _settings()["GUNICORN_BIND"] == gunicorn_conf["bind"]


def _exec_start(unit: str) -> list[str]:
    text = (DEPLOY / "systemd" / unit).read_text(encoding="utf-8")
    assert "EnvironmentFile=/etc/jakmentor/jakmentor.env" in text
    return re.search(r"^ExecStart=(.+)$", text, re.MULTILINE).group(1).split()


def test_the_systemd_units_start_gunicorn_with_its_config_and_the_one_scheduler(app):
    web = _exec_start("jakmentor-web.service")
    assert Path(web[0]).name == "gunicorn" and web[1:] == ["-c", "/srv/jakmentor/gunicorn.conf.py", "webapp:create_app()"]
    scheduler = _exec_start("jakmentor-scheduler.service")
    assert Path(scheduler[0]).name == "flask" and scheduler[1:3] == ["--app", "webapp"]
    group, command = scheduler[3:]
    assert command in app.cli.commands[group].commands  # flask --app webapp scheduler run
