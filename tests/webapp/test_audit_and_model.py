"""The audit log page, and retraining the match model from the programme's history (service, page, CLI)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from matching.scoring import MatchScorer, load_model, save_model
from models import AuditLog, Role
from tests.factories import login, make_user
from webapp.model_store import current_scorer, model_dir
from webapp.services import audit, model_training
from webapp.services.demo import load_demo

# --- audit --------------------------------------------------------------------------------------


@pytest.fixture
def logged(db):
    """Audit rows by two staff members and the system, on known dates."""
    ani = make_user(db, Role.STAFF, email="ani@staf.jakmentor.id")
    budi = make_user(db, Role.ADMIN, email="budi@staf.jakmentor.id")
    at = dt.datetime(2026, 3, 1, 18, 30, tzinfo=dt.UTC)  # 2 March 01:30 in Jakarta
    audit.record(db, actor_id=ani.id, action="proposal.approve", object_type="match_request", object_id=11,
                 before={"status": "draft"}, after={"status": "pending"}, at=at)  # fmt: skip
    audit.record(db, actor_id=budi.id, action="proposal.reject", object_type="match_request", object_id=12,
                 before={"status": "draft"}, after={"status": "rejected", "reason": "poor_fit"}, at=at - dt.timedelta(days=3))  # fmt: skip
    audit.record(db, actor_id=None, action="mentor.pause", object_type="mentor", object_id=7,
                 before={"paused": False}, after={"paused": True}, at=at + dt.timedelta(days=10))  # fmt: skip
    db.flush()
    return ani, budi


def test_audit_search_by_action_actor_object_and_jakarta_dates(db, logged):
    def actions(**kw):
        return [e.log.action for e in audit.search(db, **kw).entries]

    assert actions() == ["mentor.pause", "proposal.approve", "proposal.reject"]
    assert actions(action="proposal") == ["proposal.approve", "proposal.reject"]
    assert actions(actor_email="BUDI@") == ["proposal.reject"]
    assert actions(object_id="11") == ["proposal.approve"]
    assert actions(date_from=dt.date(2026, 3, 2), date_to=dt.date(2026, 3, 2)) == ["proposal.approve"]
    assert actions(date_to=dt.date(2026, 3, 1)) == ["proposal.reject"]  # 1 March in Jakarta ends 16:59 UTC
    assert actions(action="100%_") == []


def test_the_audit_page_shows_who_when_what_before_and_after(client, db, logged):
    ani, _ = logged
    login(client, ani.email)
    html = client.get("/staff/audit?action=proposal.approve").get_data(as_text=True)
    assert "ani@staf.jakmentor.id" in html and "proposal.approve" in html
    assert "draft" in html and "pending" in html
    assert "01.30" in html or "01:30" in html  # shown in Jakarta time
    assert "proposal.reject" not in html.split('id="audit"')[1]
    system = client.get("/staff/audit?object_id=7").get_data(as_text=True)
    assert "sistem" in system
    assert client.get("/staff/audit?date_from=kemarin").status_code == 422


def test_the_audit_page_is_paginated(client, db):
    staff = make_user(db, Role.STAFF)
    for i in range(60):
        audit.record(db, actor_id=staff.id, action="test.entry", object_id=i)
    db.flush()
    login(client, staff.email)
    first = client.get("/staff/audit?action=test").get_data(as_text=True)
    assert "Halaman 1 dari 2" in first and "page=2" in first
    second = client.get("/staff/audit?action=test&page=2").get_data(as_text=True)
    assert second.split('id="audit"')[1].count("test.entry") == 10


# --- the match model ----------------------------------------------------------------------------


@pytest.fixture
def city(db):
    """The synthetic programme (300 entrepreneurs, 30 mentors, seed 1) with its history."""
    load_demo(db, entrepreneurs=300, mentors=30, seed=1)
    db.flush()


def _anti_model(auc: float | None = None) -> MatchScorer:
    """A scorer that ranks backwards: worse than any sensible model."""
    scorer = MatchScorer.from_priors()
    scorer.coef_ = -scorer.coef_
    scorer.metadata_ = {"source": "fitted", "rows": 10, "heldout_auc": auc, "prior_auc": None}
    return scorer


def test_training_saves_a_model_that_is_not_worse(db, city, tmp_path):
    folder = tmp_path / "models"
    result = model_training.train_model(db, model_dir=folder)
    assert result.saved and result.path == folder / "current.joblib" and result.previous_path is None
    assert result.rows > 30 and result.new_auc is not None
    assert result.new_auc >= result.current_auc and result.current_source == "prior"
    saved = load_model(folder / "current.joblib")
    assert saved.metadata_["rows"] == result.rows and saved.metadata_["current_auc"] == result.current_auc
    entry = db.scalar(select(AuditLog).where(AuditLog.action == "model.train"))
    assert entry.after["saved"] is True and entry.after["new_auc"] == result.new_auc
    assert current_scorer(folder).metadata_["trained_at"] == saved.metadata_["trained_at"]


def test_training_keeps_the_current_model_when_the_new_one_is_worse(db, city, tmp_path, monkeypatch):
    folder = tmp_path / "models"
    model_training.train_model(db, model_dir=folder)
    before = (folder / "current.joblib").read_bytes()
    monkeypatch.setattr(model_training, "fit_from_history", lambda *a, **k: _anti_model(auc=0.2))
    result = model_training.train_model(db, model_dir=folder)
    assert not result.saved and result.new_auc == 0.2 and result.current_auc > 0.5
    assert (folder / "current.joblib").read_bytes() == before
    assert model_training.previous_models(folder) == []
    entries = db.scalars(select(AuditLog).where(AuditLog.action == "model.train").order_by(AuditLog.id)).all()
    assert [e.after["saved"] for e in entries] == [True, False]


def test_training_replaces_a_worse_current_model_and_keeps_it_as_previous(db, city, tmp_path):
    folder = tmp_path / "models"
    folder.mkdir()
    save_model(_anti_model(), folder / "current.joblib")
    assert current_scorer(folder).coef_[0] < 0  # sector counts against
    result = model_training.train_model(db, model_dir=folder)
    assert result.saved and result.current_source == "model" and result.current_auc < 0.5
    assert [p.name for p in model_training.previous_models(folder)] == [result.previous_path.name]
    assert load_model(result.previous_path).coef_[0] < 0
    assert current_scorer(folder).coef_[0] > 0  # the cache notices the new file


def test_training_with_too_little_history_saves_nothing(db, tmp_path):
    result = model_training.train_model(db, model_dir=tmp_path / "models")
    assert not result.saved and result.new_auc is None
    assert not (tmp_path / "models" / "current.joblib").exists()


def test_an_unreadable_model_falls_back_to_the_priors(tmp_path):
    (tmp_path / "current.joblib").write_bytes(b"not a model")
    assert current_scorer(tmp_path) is None


def test_the_model_page_retrains_and_shows_the_metrics(app, client, db, city):
    staff = make_user(db, Role.STAFF)
    login(client, staff.email)
    assert "Belum ada model terlatih" in client.get("/staff/model").get_data(as_text=True)
    response = client.post("/staff/model/train")
    assert response.status_code == 302
    with app.app_context():
        folder = model_dir()
    meta = load_model(Path(folder) / "current.joblib").metadata_
    html = client.get("/staff/model").get_data(as_text=True)
    assert "Model baru dilatih dan dipakai." in html
    assert f"{meta['prior_auc']:.3f}" in html and str(meta["rows"]) in html
    assert f"{meta['current_auc']:.3f}" in html
    assert "Latih ulang" in html


def test_the_cli_trains_the_model(app, db, city):
    result = app.test_cli_runner().invoke(args=["model", "train"])
    assert result.exit_code == 0, result.output
    assert "held-out AUC" in result.output and "saved" in result.output
    assert (Path(app.instance_path) / "models" / "current.joblib").exists()
    shown = app.test_cli_runner().invoke(args=["model", "show"])
    assert "trained_at:" in shown.output and "rows:" in shown.output
    again = app.test_cli_runner().invoke(args=["model", "train"])
    assert again.exit_code == 0, again.output
