"""The scorer keeps scikit-learn's contract and learns a known rule better than the priors."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks

from matching.evaluation import known_rule_history, known_rule_relevance, mean_ndcg, score_matrix
from matching.features import FEATURES, PairFeaturizer
from matching.scoring import PRIOR_WEIGHTS, MatchScorer, fit_from_history, load_model, save_model
from matching.synthetic import generate_city


@parametrize_with_checks([MatchScorer()])
def test_sklearn_contract(estimator, check):
    check(estimator)


def test_unfitted_scorer_raises_and_priors_are_ready():
    with pytest.raises(NotFittedError):
        MatchScorer().decision_function(np.zeros((1, len(FEATURES))))
    prior = MatchScorer.from_priors()
    assert prior.weights == PRIOR_WEIGHTS


def test_clone_round_trip_and_fit_returns_self():
    scorer = MatchScorer(C=0.5)
    assert clone(scorer).get_params() == scorer.get_params()
    rng = np.random.default_rng(0)
    X = rng.random((60, len(FEATURES)))
    y = (X[:, 0] > 0.5).astype(int)
    assert scorer.fit(X, y) is scorer


@pytest.fixture(scope="module")
def world():
    city = generate_city(500, 60, seed=7, n_history=0)
    history = known_rule_history(city.entrepreneurs, city.mentors, 2500, seed=8)
    return city, history


def test_fitting_known_rule_history_beats_priors_on_heldout_auc_and_ndcg(world):
    city, history = world
    fitted = fit_from_history(city.entrepreneurs, city.mentors, history)
    meta = fitted.metadata_
    assert meta["source"] == "fitted"
    assert meta["heldout_auc"] > meta["prior_auc"]
    relevance = known_rule_relevance(city.entrepreneurs, city.mentors)
    prior = MatchScorer.from_priors()
    ndcg_prior = mean_ndcg(score_matrix(prior.coef_, prior.intercept_, city.entrepreneurs, city.mentors), relevance)
    ndcg_fit = mean_ndcg(score_matrix(fitted.coef_, fitted.intercept_, city.entrepreneurs, city.mentors), relevance)
    assert ndcg_fit > ndcg_prior


def test_too_little_history_keeps_the_priors(world):
    city, history = world
    scorer = fit_from_history(city.entrepreneurs, city.mentors, history[:10])
    assert scorer.metadata_["source"] == "prior"
    np.testing.assert_allclose(scorer.coef_, MatchScorer.from_priors().coef_)


def test_saved_model_loads_with_its_metadata(world, tmp_path):
    city, history = world
    fitted = fit_from_history(city.entrepreneurs, city.mentors, history)
    save_model(fitted, tmp_path / "model.joblib")
    loaded = load_model(tmp_path / "model.joblib")
    np.testing.assert_allclose(loaded.coef_, fitted.coef_)
    for key in ("trained_at", "rows", "heldout_auc", "prior_auc", "versions"):
        assert key in loaded.metadata_
    assert loaded.metadata_["versions"]["scikit-learn"]


def test_pair_featurizer_is_a_pipeline_step():
    from sklearn.pipeline import make_pipeline

    city = generate_city(40, 10, seed=1, n_history=0)
    pairs = [(e, city.mentors[i % 10]) for i, e in enumerate(city.entrepreneurs)]
    y = np.array([i % 2 for i in range(40)])
    pipe = make_pipeline(PairFeaturizer(), MatchScorer()).fit(pairs, y)
    assert pipe.decision_function(pairs).shape == (40,)
    X = PairFeaturizer().fit_transform(pairs)
    assert X.shape == (40, len(FEATURES))
    assert ((X[:, FEATURES.index("sector")] >= 0) & (X[:, FEATURES.index("sector")] <= 1)).all()
