"""Bios as unit vectors in a small LSA space, in numpy and scipy only (no scikit-learn import).

:class:`TextSpace` computes what scikit-learn's ``TfidfVectorizer(stop_words=STOP_WORDS,
sublinear_tf=True)`` followed by ``TruncatedSVD(algorithm="randomized", n_iter=3)`` compute, with
the same operations in the same order (the same vocabulary, the same sparse matrices entry for
entry, the same random draws and LAPACK calls), so the numbers are identical to the last bit; a
test checks it against scikit-learn. The batch commands use it directly, which keeps the ~1 s
import of scikit-learn off their path; :class:`matching.features.BioText` is the scikit-learn
estimator around it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import chain, repeat

import numpy as np

#: scikit-learn's English stop word list (``sklearn.feature_extraction.text.ENGLISH_STOP_WORDS``,
#: copied so that it is available without importing scikit-learn; a test checks that they agree).
ENGLISH_STOP_WORDS: frozenset[str] = frozenset(
    """a about above across after afterwards again against all almost alone along already also although
    always am among amongst amoungst amount an and another any anyhow anyone anything anyway anywhere
    are around as at back be became because become becomes becoming been before beforehand behind being
    below beside besides between beyond bill both bottom but by call can cannot cant co con could
    couldnt cry de describe detail do done down due during each eg eight either eleven else elsewhere
    empty enough etc even ever every everyone everything everywhere except few fifteen fifty fill find
    fire first five for former formerly forty found four from front full further get give go had has
    hasnt have he hence her here hereafter hereby herein hereupon hers herself him himself his how
    however hundred i ie if in inc indeed interest into is it its itself keep last latter latterly
    least less ltd made many may me meanwhile might mill mine more moreover most mostly move much must
    my myself name namely neither never nevertheless next nine no nobody none noone nor not nothing now
    nowhere of off often on once one only onto or other others otherwise our ours ourselves out over
    own part per perhaps please put rather re same see seem seemed seeming seems serious several she
    should show side since sincere six sixty so some somehow someone something sometime sometimes
    somewhere still such system take ten than that the their them themselves then thence there
    thereafter thereby therefore therein thereupon these they thick thin third this those though three
    through throughout thru thus to together too top toward towards twelve twenty two un under until up
    upon us very via was we well were what whatever when whence whenever where whereafter whereas
    whereby wherein whereupon wherever whether which while whither who whoever whole whom whose why
    will with within without would yet you your yours yourself yourselves""".split()  # noqa: SIM905 - a word list reads best as text
)

#: Common Indonesian function words (TF-IDF drops them with the English list).
INDONESIAN_STOP_WORDS: frozenset[str] = frozenset(
    """ada adalah agar akan aku anda antara apa apakah atau bagaimana bagi bahwa banyak belum
    berbagai bisa bila boleh dalam dan dapat dari daripada dengan di dia harus hanya hingga ia ini
    itu jadi jika juga kalau kami kamu karena ke kepada ketika kita lagi lah lebih maka mana masih
    mereka namun nya oleh pada para pernah pun saat saja sama sambil sampai sangat saya sebagai
    sebuah secara sedang sejak selalu semua seperti serta setelah setiap sudah supaya tanpa telah
    tentang tersebut tetapi tidak untuk yang sekitar kini juga kah pula punya sendiri tiap""".split()  # noqa: SIM905 - a word list reads best as text
)
STOP_WORDS: tuple[str, ...] = tuple(sorted(INDONESIAN_STOP_WORDS | ENGLISH_STOP_WORDS))

TOKEN_PATTERN = r"(?u)\b\w\w+\b"  # nosec B105 # a word regex, not a password; scikit-learn's default: runs of two or more word characters
_TOKEN = re.compile(TOKEN_PATTERN)
_WORD = re.compile(r"\w")
_ASCII_NON_WORD = bytes(c if c == 0x1F or _WORD.match(chr(c)) else 0x20 for c in range(256))


def word_runs(docs: Sequence[str]) -> list[list[str]] | list[list[bytes]] | None:
    """The maximal runs of word characters of every lowercased document (what ``\\b\\w\\w+\\b`` finds,
    plus the one-character runs, which no vocabulary holds), by translating every other character
    to a space and splitting: several times faster than a regular expression per document.

    ASCII text gives the tokens as bytes; None when the separator occurs in a document."""
    text = "\x1f".join(docs).lower()
    if text.count("\x1f") != len(docs) - 1:
        return None  # the separator occurs in a bio: take the regular expression path
    if text.isascii():  # bytes: a 256-entry table and no per-character dictionary lookups
        data = text.encode("ascii").translate(_ASCII_NON_WORD)
        return list(map(bytes.split, data.split(b"\x1f")))  # tokens as ASCII bytes
    points = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    present = np.flatnonzero(np.bincount(points)) if len(points) else np.zeros(0, dtype=np.int64)
    table = {int(c): " " for c in present if c != 0x1F and not _WORD.match(chr(c))}
    return list(map(str.split, text.translate(table).split("\x1f")))


def _tokens(docs: Sequence[str]) -> list[list[str]]:
    """scikit-learn's analyzer: lowercase, ``TOKEN_PATTERN``, stop words removed (as str)."""
    runs = word_runs(list(docs))
    if runs is None:
        runs = [_TOKEN.findall(d.lower()) for d in docs]
    stop = frozenset(STOP_WORDS)
    out = []
    for toks in runs:
        if toks and isinstance(toks[0], bytes):
            toks = [t.decode("ascii") for t in toks]
        out.append([t for t in toks if len(t) > 1 and t not in stop])
    return out


def _random_state(seed: int | np.random.RandomState | None) -> np.random.RandomState:
    """``sklearn.utils.check_random_state``."""
    if seed is None:
        return np.random.mtrand._rand
    if isinstance(seed, np.random.RandomState):
        return seed
    return np.random.RandomState(seed)


def randomized_svd(X, n_components: int, *, n_iter: int, n_oversamples: int = 10, random_state=None):
    """``TruncatedSVD(algorithm="randomized")``'s components: sklearn's ``_randomized_svd`` with an
    LU power-iteration normaliser (``n_iter`` > 2), no sign flip, then the V-based sign flip."""
    from scipy import linalg

    rs = _random_state(random_state)
    size = n_components + n_oversamples
    n_samples, n_features = X.shape
    transpose = n_samples < n_features
    M = X.T if transpose else X
    # randomized range finder
    Q = rs.normal(size=(M.shape[1], size))
    if M.dtype == np.float32:  # pragma: no cover - the TF-IDF matrix is float64
        Q = Q.astype(np.float32, copy=False)
    Q = np.asarray(Q)
    if n_iter <= 2:  # pragma: no cover - the text space uses 3 iterations

        def normalizer(x):
            return x, None
    else:

        def normalizer(x):
            return linalg.lu(x, permute_l=True, check_finite=False)

    for _ in range(n_iter):
        Q, _ = normalizer(M @ Q)
        Q, _ = normalizer(M.T @ Q)
    Q, _ = linalg.qr(M @ Q, mode="economic", check_finite=False)
    B = Q.T @ M
    Uhat, s, Vt = linalg.svd(B, full_matrices=False, lapack_driver="gesdd")
    del B
    U = Q @ Uhat
    if transpose:
        U, Vt = Vt[:n_components, :].T, U[:, :n_components].T
    else:
        U, Vt = U[:, :n_components], Vt[:n_components, :]
    # svd_flip(U, Vt, u_based_decision=False)
    max_abs_rows = np.argmax(np.abs(Vt), axis=1)
    shift = np.arange(Vt.shape[0])
    signs = np.sign(np.take(np.reshape(Vt, (-1,)), max_abs_rows + shift * Vt.shape[1], axis=0))
    U *= signs[np.newaxis, :]
    Vt *= signs[:, np.newaxis]
    return Vt


class TextSpace:
    """Bios as unit vectors in a small LSA space: TF-IDF (Indonesian + English stop words), SVD, L2.

    After ``fit``: ``vocabulary_`` (term to column, alphabetical), ``idf_``, ``components_`` (the
    SVD's, or None when the raw TF-IDF columns are kept) and ``n_components_`` (0 without text).
    """

    def __init__(self, n_components: int = 24, max_fit_docs: int = 3000, random_state: int | None = 0):
        self.n_components = n_components
        self.max_fit_docs = max_fit_docs
        self.random_state = random_state

    def fit(self, X: Sequence[str], y: object = None) -> TextSpace:
        """Learn the vocabulary and the SVD from (a sample of) the distinct bios."""
        docs = [d for d in dict.fromkeys(X) if d and d.strip()]
        if len(docs) > self.max_fit_docs:
            rng = np.random.default_rng(self.random_state)
            docs = [docs[i] for i in rng.choice(len(docs), self.max_fit_docs, replace=False)]
        self.vocabulary_: dict[str, int] = {}
        self.idf_ = np.zeros(0)
        self.components_ = None
        self.n_components_ = 0
        tfidf = self._fit_tfidf(docs) if docs else None
        if tfidf is None:  # no bios, or only stop words: no vocabulary
            return self
        k = min(self.n_components, tfidf.shape[1] - 1, tfidf.shape[0] - 1)
        if k >= 1:
            self.components_ = randomized_svd(tfidf, k, n_iter=3, random_state=self.random_state)
            self.n_components_ = k
        else:
            self.n_components_ = tfidf.shape[1]
        return self

    def _fit_tfidf(self, docs: list[str]):
        """``TfidfVectorizer(stop_words=STOP_WORDS, sublinear_tf=True).fit_transform(docs)``, entry for
        entry: within a row the entries are in order of the terms' first appearance in the corpus
        (what the vectorizer's ``sort_indices`` before the alphabetical renumbering leaves)."""
        from scipy import sparse

        tokens = _tokens(docs)
        flat = list(chain.from_iterable(tokens))
        if not flat:
            return None
        first = {t: i for i, t in enumerate(dict.fromkeys(flat))}  # term -> order of first appearance
        terms = sorted(first)
        self.vocabulary_ = {t: j for j, t in enumerate(terms)}
        alpha = np.empty(len(terms), dtype=np.int64)
        alpha[np.fromiter((first[t] for t in terms), dtype=np.int64, count=len(terms))] = np.arange(len(terms))
        n_docs, n_terms = len(docs), len(terms)
        ids = np.fromiter(map(first.__getitem__, flat), dtype=np.int64, count=len(flat))
        lengths = np.fromiter(map(len, tokens), dtype=np.int64, count=n_docs)
        doc = np.repeat(np.arange(n_docs, dtype=np.int64), lengths)
        keys, counts = np.unique(doc * n_terms + ids, return_counts=True)
        rows, cols = keys // n_terms, alpha[keys % n_terms]
        df = np.bincount(cols, minlength=n_terms).astype(np.float64)
        df += 1.0
        idf = np.full_like(df, fill_value=n_docs + 1, dtype=np.float64)
        idf /= df
        np.log(idf, out=idf)
        idf += 1.0
        self.idf_ = idf
        w = counts.astype(np.float64)
        np.log(w, w)
        w += 1.0
        w *= idf[cols]
        self._normalize(w, rows, n_docs)
        indptr = np.r_[0, np.cumsum(np.bincount(rows, minlength=n_docs))]
        return sparse.csr_matrix((w, cols, indptr), shape=(n_docs, n_terms))

    @staticmethod
    def _normalize(w: np.ndarray, rows: np.ndarray, n_rows: int) -> None:
        """Rows to unit L2 norm in place, summing squares in stored order (as scikit-learn's ``normalize``)."""
        norms = np.sqrt(np.bincount(rows, weights=w * w, minlength=n_rows))
        w /= norms[rows]

    def transform(self, X: Sequence[str]) -> np.ndarray:
        """Unit-length float32 vectors (zero for an empty bio), computed once per distinct text."""
        X = list(X)
        out = np.zeros((len(X), self.n_components_), dtype=np.float32)
        if not self.vocabulary_ or not X:
            return out
        uniq: dict[str, int] = {}
        codes = np.fromiter((uniq.setdefault(d, len(uniq)) for d in X), dtype=np.int64, count=len(X))
        tfidf = self.tfidf(list(uniq))
        dense = tfidf @ self.components_.T if self.components_ is not None else tfidf.toarray()
        norms = np.linalg.norm(dense, axis=1, keepdims=True)
        dense = np.divide(dense, norms, out=np.zeros_like(dense), where=norms > 0)
        return dense[codes].astype(np.float32)

    def tfidf(self, docs: list[str]):
        """The TF-IDF rows of ``docs`` in the fitted vocabulary (what the vectorizer's ``transform``
        gives: entries in column order, sublinear tf, smooth idf, L2), tokenising in bulk.

        All tokens go into one flat list with a separator token between documents (no list per
        document, so the garbage collector has nothing to walk), and scipy sums the duplicate
        (document, term) entries into counts."""
        from scipy import sparse

        flat, sep = _flat_tokens(docs)
        vocab = self.vocabulary_
        if isinstance(sep, bytes):
            if getattr(self, "_ascii_vocab", (None,))[0] is not vocab:
                self._ascii_vocab = (vocab, {t.encode(): j for t, j in vocab.items() if t.isascii()})
            vocab = self._ascii_vocab[1]
        vocab = {**vocab, sep: -2}
        terms = np.fromiter(map(vocab.get, flat, repeat(-1)), dtype=np.int64, count=len(flat))
        del flat
        doc = np.cumsum(terms == -2)  # a token's document: the separators before it
        known = terms >= 0
        rows, cols = doc[known], terms[known]
        n_docs, n_terms = len(docs), len(self.idf_)
        indptr = np.r_[0, np.cumsum(np.bincount(rows, minlength=n_docs))]
        X = sparse.csr_matrix((np.ones(len(cols)), cols, indptr), shape=(n_docs, n_terms))
        X.sum_duplicates()  # sorted columns within each row, data = counts
        w = np.log(X.data) + 1.0
        w *= self.idf_[X.indices]
        self._normalize(w, np.repeat(np.arange(n_docs), np.diff(X.indptr)), n_docs)
        X.data = w
        return X


def _flat_tokens(docs: Sequence[str]) -> tuple[list[str] | list[bytes], str | bytes]:
    """Every document's runs of word characters (lowercased), in one list, each document followed
    by a separator token (``"\x1f"``, which is no word character and so never part of a token)."""
    text = "\x1f".join(docs).lower()
    if text.count("\x1f") == len(docs) - 1 and text.isascii():
        # bytes: one translate, and the separator (no ASCII whitespace for bytes.split) as a token
        data = text.encode("ascii").translate(_ASCII_NON_WORD).replace(b"\x1f", b" \x1f ")
        return [*data.split(), b"\x1f"], b"\x1f"
    runs = word_runs(docs)
    if runs is None:
        runs = (_TOKEN.findall(d.lower()) for d in docs)
    flat: list[str] = []
    for toks in runs:
        flat += toks
        flat.append("\x1f")
    return flat, "\x1f"
