"""The numpy text space computes scikit-learn's TF-IDF + randomized SVD to the last bit, and the batch
path does not import scikit-learn."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.decomposition import TruncatedSVD
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

from matching.features import BioText, Encoder, ProfileEncoder
from matching.synthetic import generate_city
from matching.text import ENGLISH_STOP_WORDS as OUR_ENGLISH
from matching.text import STOP_WORDS, TextSpace

ODD = ["Ünïcödé café — naïve résumé, 東京 ok", "", "   ", "a b c", "the and of", "x\x1fy z", "Kopi KOPI kopi_susu 12 45a"]


def _sklearn(docs: list[str], k: int = 24):
    vec = TfidfVectorizer(stop_words=list(STOP_WORDS), sublinear_tf=True, min_df=1)
    X = vec.fit_transform(docs)
    k = min(k, X.shape[1] - 1, X.shape[0] - 1)
    svd = TruncatedSVD(n_components=k, random_state=0, algorithm="randomized", n_iter=3).fit(X)
    return vec, svd


def test_english_stop_words_are_scikit_learns():
    assert OUR_ENGLISH == ENGLISH_STOP_WORDS


@pytest.mark.parametrize("n", [40, 400, 5000])
def test_text_space_equals_tfidf_and_truncated_svd(n):
    city = generate_city(n_entrepreneurs=n, n_mentors=max(n // 20, 5), seed=3)
    bios = [p.bio for p in (*city.entrepreneurs, *city.mentors)]
    space = TextSpace().fit(bios)
    docs = [d for d in dict.fromkeys(bios) if d and d.strip()]
    if len(docs) > 3000:
        docs = [docs[i] for i in np.random.default_rng(0).choice(len(docs), 3000, replace=False)]
    vec, svd = _sklearn(docs)
    assert space.vocabulary_ == vec.vocabulary_
    assert np.array_equal(space.idf_, vec.idf_)
    assert np.array_equal(space.components_, svd.components_)  # transposed and plain SVD paths
    # ASCII (bytes tokens), non-ASCII (str tokens), a separator inside a bio (regular expression)
    for q in (bios, bios + [d for d in ODD if "\x1f" not in d], bios + ODD):
        tfidf = space.tfidf(list(q))
        assert not (tfidf != vec.transform(q)).nnz and np.array_equal(tfidf.data, vec.transform(q).data)
        want = svd.transform(vec.transform(q))
        norms = np.linalg.norm(want, axis=1, keepdims=True)
        want = np.divide(want, norms, out=np.zeros_like(want), where=norms > 0).astype(np.float32)
        assert np.array_equal(space.transform(q), want)
    assert np.array_equal(BioText().fit(bios).transform(q), want)


def test_text_space_without_words():
    for docs in ([], ["", "  "], ["the and of", "yang dan"]):
        space = TextSpace().fit(docs)
        assert space.n_components_ == 0
        assert space.transform(["kopi susu", ""]).shape == (2, 0)
    one = TextSpace().fit(["kopi"])  # one term: the raw TF-IDF column
    assert one.n_components_ == 1 and one.transform(["kopi kopi", "teh"]).tolist() == [[1.0], [0.0]]


def test_estimators_keep_the_scikit_learn_contract():
    with pytest.raises(NotFittedError):
        ProfileEncoder().encode_mentors([])
    with pytest.raises(NotFittedError):
        BioText().transform(["x"])
    with pytest.raises(ValueError, match="not fitted"):
        Encoder().encode_mentors([])
    enc = clone(ProfileEncoder(n_text_components=8))
    assert enc.get_params()["n_text_components"] == 8
    city = generate_city(n_entrepreneurs=60, n_mentors=10, seed=1)
    a = ProfileEncoder().fit([*city.entrepreneurs, *city.mentors]).encode_mentors(city.mentors)
    b = Encoder().fit([*city.entrepreneurs, *city.mentors]).encode_mentors(city.mentors)
    assert all(np.array_equal(a.blocks[k], b.blocks[k]) for k in a.blocks)


def test_batch_path_does_not_import_scikit_learn():
    code = (
        "import sys, matching.batch, matching.cli, matching.ranking, matching.assignment, matching.features\n"
        "print(any(m == 'sklearn' or m.startswith('sklearn.') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
