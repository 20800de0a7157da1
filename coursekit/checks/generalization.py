"""Chapter 1 (generalization): a model family to hand to the exercise's functions, visible checks, and the
drivers the grader runs inside the sandbox (``probe_*``).

A *model* is a pair of functions: ``fit(X, y)`` returns whatever describes the fitted model, and
``predict(model, X)`` returns one prediction per row of ``X``. :func:`polynomial_model` makes such a pair
for least-squares polynomials of a given degree; the probes wrap them in a :class:`Recorder` that notes every
row ``fit`` and ``predict`` receive, which is how a check sees a validation fold reach ``fit``.

The oracles are scikit-learn's: ``KFold`` and ``cross_val_score``. Nothing here solves an exercise part.
"""

from __future__ import annotations

import numpy as np

__all__ = ["polynomial_model", "assert_partition", "assert_kfold", "Recorder", "sklearn_folds",
           "sklearn_cross_val_score", "probe_kfold", "probe_cross_val_score", "probe_bias_variance",
           "probe_learning_curve", "probe_select_degree", "sklearn_learning_curve", "assert_cross_val_score",
           "assert_bias_variance", "assert_learning_curve", "assert_select_degree"]


# ---------------------------------------------------------------- the model family
def polynomial_model(degree: int):
    """``(fit, predict)`` for least-squares polynomials of ``degree`` in one input variable.

    ``fit(x, y)`` returns the coefficients (lowest power first) of the least-squares polynomial through the
    points ``(x_i, y_i)``; ``predict(coef, x)`` evaluates it. ``x`` may be of shape ``(n,)`` or ``(n, 1)``.
    """
    degree = int(degree)
    if degree < 0:
        raise ValueError(f"degree must be >= 0, got {degree}")

    def fit(x, y):
        x = np.asarray(x, dtype=float).reshape(-1)
        y = np.asarray(y, dtype=float)
        if len(x) != len(y):
            raise ValueError(f"fit: x has {len(x)} rows but y has {len(y)}")
        V = np.vander(x, degree + 1, increasing=True)
        return np.linalg.lstsq(V, y, rcond=None)[0]

    def predict(coef, x):
        x = np.asarray(x, dtype=float).reshape(-1)
        return np.vander(x, len(coef), increasing=True) @ coef

    return fit, predict


# ---------------------------------------------------------------- oracles (scikit-learn)
def sklearn_folds(n: int, k: int, seed: int):
    """scikit-learn's ``KFold(k, shuffle=True, random_state=seed)`` as a list of (train, val) index arrays."""
    from sklearn.model_selection import KFold

    return list(KFold(n_splits=int(k), shuffle=True, random_state=int(seed)).split(np.zeros(int(n))))


def sklearn_cross_val_score(fit, predict, X, y, folds):
    """scikit-learn's ``cross_val_score`` for a (fit, predict) pair, as mean squared errors (positive)."""
    from sklearn.base import BaseEstimator, RegressorMixin
    from sklearn.model_selection import cross_val_score

    class _Pair(RegressorMixin, BaseEstimator):
        def fit(self, X, y):
            self.model_ = fit(X, y)
            return self

        def predict(self, X):
            return np.asarray(predict(self.model_, X), dtype=float)

    folds = [(np.asarray(tr, dtype=int), np.asarray(va, dtype=int)) for tr, va in folds]
    return -cross_val_score(_Pair(), np.asarray(X), np.asarray(y), cv=folds, scoring="neg_mean_squared_error")


# ---------------------------------------------------------------- visible checks
def _as_index(a, what):
    arr = np.asarray(a)
    if arr.ndim != 1:
        raise AssertionError(f"{what}: expected a 1-D array of indices, got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise AssertionError(f"{what}: indices must be integers (got dtype {arr.dtype}); "
                             "numpy cannot index with floats")
    return arr


def assert_partition(folds, n: int, k: int) -> None:
    """Raise AssertionError unless ``folds`` is k pairs (train, val) whose validation parts partition range(n),
    with sizes that differ by at most one, and each train part is the rest."""
    if not isinstance(folds, (list, tuple)) or len(folds) != k:
        size = f" of length {len(folds)}" if hasattr(folds, "__len__") else ""
        raise AssertionError(f"kfold_indices({n}, {k}, ...): expected a list of {k} (train_idx, val_idx) pairs, "
                             f"got a {type(folds).__name__}{size}")
    seen = np.zeros(n, dtype=int)
    sizes = []
    for i, pair in enumerate(folds):
        if not (isinstance(pair, (list, tuple)) and len(pair) == 2):
            raise AssertionError(f"fold {i}: expected a pair (train_idx, val_idx)")
        train = _as_index(pair[0], f"fold {i}, train_idx")
        val = _as_index(pair[1], f"fold {i}, val_idx")
        for part in (train, val):
            if part.size and (part.min() < 0 or part.max() >= n):
                raise AssertionError(f"fold {i}: indices must lie in 0..{n - 1}")
        if len(np.unique(val)) != len(val):
            raise AssertionError(f"fold {i}: val_idx repeats an example, so the folds overlap (sampling with "
                                 "replacement?): shuffle once with a permutation and cut it into k pieces")
        np.add.at(seen, val, 1)
        sizes.append(len(val))
        if set(train.tolist()) & set(val.tolist()):
            raise AssertionError(f"fold {i}: an example is in both train_idx and val_idx: the validation fold "
                                 "leaks into training")
        if len(train) + len(val) != n or len(np.unique(train)) != len(train):
            raise AssertionError(f"fold {i}: train_idx must hold every example that is not in val_idx, once")
    if np.any(seen > 1):
        raise AssertionError(f"the folds overlap: {int(np.sum(seen > 1))} examples are in more than one "
                             "validation fold")
    if np.any(seen == 0):
        raise AssertionError(f"the folds miss examples: {int(np.sum(seen == 0))} of the {n} examples are in no "
                             "validation fold (did you drop the remainder of n // k?)")
    if max(sizes) - min(sizes) > 1:
        raise AssertionError(f"fold sizes {sorted(sizes)} differ by more than one: spread the remainder "
                             "n % k over the first folds, as sklearn's KFold does")


def _same(a, b) -> bool:
    return len(a) == len(b) and all(np.array_equal(np.sort(x[1]), np.sort(y[1])) for x, y in zip(a, b))


def assert_kfold(kfold_indices) -> None:
    """The visible test of ``kfold_indices`` (on sizes other than the hidden ones)."""
    for n, k in ((23, 4), (9, 9), (12, 3)):
        assert_partition(kfold_indices(n, k, 0), n, k)
    a, b = kfold_indices(23, 4, 1), kfold_indices(23, 4, 1)
    assert _same(a, b), ("the same seed gives different folds: shuffle with np.random.default_rng(seed), "
                         "not with the global np.random")
    assert not _same(a, kfold_indices(23, 4, 2)), \
        "different seeds give the same folds: shuffle with np.random.default_rng(seed)"
    blocks = [np.arange(i * 6, min(i * 6 + 6, 23)) for i in range(4)]
    assert not all(np.array_equal(np.sort(f[1]), blk) for f, blk in zip(a, blocks)), \
        "the folds are consecutive blocks 0..5, 6..11, ...: shuffle the indices first"
    for n, k in ((5, 6), (5, 1)):
        try:
            kfold_indices(n, k, 0)
        except ValueError:
            continue
        raise AssertionError(f"kfold_indices({n}, {k}, 0) must raise ValueError, as sklearn's KFold does "
                             "(k must be at least 2 and at most n)")


# ---------------------------------------------------------------- recorders
class Recorder:
    """Wraps a ``(fit, predict)`` pair and notes, for each call, which rows of ``X`` it received (by looking
    the rows up in ``X``) and whether the targets passed to ``fit`` belong to those rows."""

    def __init__(self, fit, predict, X, y):
        self._fit, self._predict = fit, predict
        self.X = np.asarray(X, dtype=float).reshape(len(X), -1)
        self.y = np.asarray(y, dtype=float)
        self.index = {row.tobytes(): i for i, row in enumerate(self.X)}
        self.fits, self.predicts, self.paired = [], [], []

    def rows(self, X):
        """The row numbers of ``X``'s rows in the recorder's data (-1 for a row it does not hold)."""
        X = np.asarray(X, dtype=float)
        return [self.index.get(row.tobytes(), -1) for row in X.reshape(len(X), -1)]

    def fit(self, X, y):
        rows = self.rows(X)
        self.fits.append(rows)
        y = np.asarray(y, dtype=float)
        self.paired.append(bool(len(y) == len(rows) and all(r >= 0 for r in rows)
                                and np.array_equal(y, self.y[rows])))
        return self._fit(X, y)

    def predict(self, model, X):
        self.predicts.append(self.rows(X))
        return self._predict(model, X)

    def report(self) -> dict:
        return {"fits": [np.array(r, dtype=float) for r in self.fits],
                "predicts": [np.array(r, dtype=float) for r in self.predicts],
                "paired": np.array(self.paired, dtype=float)}


# ---------------------------------------------------------------- sandbox drivers (the grader's probes)
def _global_random_state():
    """The state of the two global generators (numpy's legacy np.random and Python's random)."""
    import random

    state = np.random.get_state()
    return state[1].tobytes() + repr(state[2:]).encode(), random.getstate()


def _used_global_random(before) -> float:
    """1.0 when the global generators moved (were reseeded or drawn from) since ``before``."""
    return float(_global_random_state() != before)


def probe_kfold(kfold_indices, n, k, seed) -> dict:
    """Call ``kfold_indices(n, k, seed)``; report the folds, whether the indices are integers and numpy arrays,
    and whether the call used the global random generators, or the type of the exception it raised."""
    before = _global_random_state()
    try:
        folds = kfold_indices(int(n), int(k), int(seed))
    except Exception as exc:
        return {"raised": type(exc).__name__}
    out = {"raised": "", "count": len(folds) if hasattr(folds, "__len__") else -1, "val": [], "train": [],
           "integer": 1.0, "arrays": 1.0, "global_random": _used_global_random(before)}
    for pair in list(folds)[:1000]:
        for part in pair:
            if not isinstance(part, np.ndarray):
                out["arrays"] = 0.0
        train, val = (np.asarray(p) for p in pair)
        for part in (train, val):
            if part.size and not np.issubdtype(part.dtype, np.integer):
                out["integer"] = 0.0
        out["train"].append(np.asarray(train, dtype=float).ravel())
        out["val"].append(np.asarray(val, dtype=float).ravel())
    return out


def probe_cross_val_score(cross_val_score, X, y, folds, degree, as_generator=0) -> dict:
    """``cross_val_score`` with a recording polynomial model of ``degree`` on integer folds, handed over as a
    list or, with ``as_generator``, as a generator of pairs (what ``KFold.split`` returns)."""
    folds = [(np.asarray(tr, dtype=int), np.asarray(va, dtype=int)) for tr, va in folds]
    rec = Recorder(*polynomial_model(int(degree)), X, y)
    given = (pair for pair in folds) if as_generator else folds
    scores = cross_val_score(rec.fit, rec.predict, np.asarray(X), np.asarray(y), given)
    return {"scores": scores, **rec.report()}


def probe_bias_variance(bias_variance, degree, x_train, f_train, x_test, f_test, train_noise, test_noise):
    """``bias_variance`` for the polynomial model of ``degree``; returns what it returned."""
    fit, predict = polynomial_model(int(degree))
    return bias_variance(fit, predict, np.asarray(x_train), np.asarray(f_train), np.asarray(x_test),
                         np.asarray(f_test), np.asarray(train_noise), np.asarray(test_noise))


def probe_learning_curve(learning_curve, degree, X_train, y_train, X_val, y_val, sizes, seed) -> dict:
    """``learning_curve`` with a recording polynomial model of ``degree``; also whether it used the global
    random generators."""
    X_all = np.concatenate([np.asarray(X_train), np.asarray(X_val)])
    y_all = np.concatenate([np.asarray(y_train), np.asarray(y_val)])
    rec = Recorder(*polynomial_model(int(degree)), X_all, y_all)
    before = _global_random_state()
    try:
        out = learning_curve(rec.fit, rec.predict, np.asarray(X_train), np.asarray(y_train), np.asarray(X_val),
                             np.asarray(y_val), [int(m) for m in sizes], int(seed))
    except ValueError as exc:
        return {"raised": "ValueError", "message": str(exc)[:200]}
    return {"raised": "", "out": out, "global_random": _used_global_random(before), **rec.report()}


def probe_select_degree(select_degree, x_train, y_train, x_test, y_test, degrees, k, seed):
    """``select_degree`` with the notebook's ``kfold_indices`` and ``cross_val_score`` replaced by
    scikit-learn's, so that a mistake in Part 1 or 2 is not charged again here."""
    ns = getattr(select_degree, "__globals__", {})
    ns["kfold_indices"] = sklearn_folds
    ns["cross_val_score"] = sklearn_cross_val_score
    return select_degree(np.asarray(x_train), np.asarray(y_train), np.asarray(x_test), np.asarray(y_test),
                         [int(d) for d in degrees], int(k), int(seed))


def sklearn_learning_curve(fit, predict, X_train, y_train, X_val, y_val, sizes, seed):
    """scikit-learn's ``learning_curve`` on the nested subsets ``perm[:m]`` of the training set, with
    ``perm = np.random.default_rng(seed).permutation(len(X_train))``, scored on the held-out set:
    ``(train_errors, val_errors)`` as mean squared errors."""
    from sklearn.base import BaseEstimator, RegressorMixin
    from sklearn.model_selection import learning_curve

    class _Pair(RegressorMixin, BaseEstimator):
        def fit(self, X, y):
            self.model_ = fit(X, y)
            return self

        def predict(self, X):
            return np.asarray(predict(self.model_, X), dtype=float)

    X_train, X_val = np.asarray(X_train), np.asarray(X_val)
    n, m = len(X_train), len(X_val)
    perm = np.random.default_rng(seed).permutation(n)
    X_all = np.concatenate([X_train[perm], X_val])
    y_all = np.concatenate([np.asarray(y_train)[perm], np.asarray(y_val)])
    _, tr, va = learning_curve(_Pair(), X_all, y_all, train_sizes=[int(s) for s in sizes],
                               cv=[(np.arange(n), np.arange(n, n + m))], scoring="neg_mean_squared_error",
                               shuffle=False)
    return -tr[:, 0], -va[:, 0]


def _unpack(out, n, what):
    """The ``n`` values a function returned: a tuple, or a list or array of ``n`` (they unpack the same way)."""
    if isinstance(out, (tuple, list)) or (isinstance(out, np.ndarray) and out.ndim >= 1):
        if len(out) == n:
            return tuple(out)
    raise AssertionError(f"return a tuple {what}")


def _mse(pred, y) -> float:
    return float(np.mean((np.asarray(pred, dtype=float) - np.asarray(y, dtype=float)) ** 2))


def _toy(n, seed, noise=0.3):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, n)
    return x, np.sin(np.pi * x) + noise * rng.standard_normal(n)


def assert_cross_val_score(cross_val_score) -> None:
    """The visible test of ``cross_val_score``: a recording quadratic on 20 points, 4 folds.

    The scores' values decide; the recorded calls only explain a wrong answer (an answer that predicts on every
    row and keeps the validation rows is right)."""
    from .common import assert_close

    x, y = _toy(20, 101)
    folds = sklearn_folds(20, 4, 5)
    rec = Recorder(*polynomial_model(2), x, y)
    scores = cross_val_score(rec.fit, rec.predict, x, y, folds)
    fit, predict = polynomial_model(2)
    want = sklearn_cross_val_score(fit, predict, x, y, folds)
    try:
        if np.allclose(np.asarray(scores, dtype=float), want, rtol=1e-9, atol=1e-12):
            return
    except (TypeError, ValueError):
        pass
    assert all(rec.paired), ("the targets fit received do not belong to its inputs: X and y were shuffled (or "
                             "indexed) with different permutations; index both with the same array")
    leak = ("the validation fold leaks into training: fit received examples of the fold it is then scored on; "
            "fit on X[train_idx], y[train_idx] only")
    assert not any(len(seen) == len(x) for seen in rec.fits), leak
    assert len(rec.fits) == 4, f"fit was called {len(rec.fits)} times for 4 folds; fit once per fold"
    for i, (seen, (train, val)) in enumerate(zip(rec.fits, folds)):
        assert not set(seen) & set(val.tolist()), f"fold {i}: {leak}"
        assert sorted(seen) == sorted(train.tolist()), f"fold {i}: fit must receive exactly the rows of train_idx"
    scored = [set(r) for r in rec.predicts]    # the i-th predict call must see fold i's validation rows
    assert len(scored) >= len(folds) and all(set(val.tolist()) <= scored[i] for i, (_, val) in enumerate(folds)), \
        "predict never received some validation folds: the scores are computed on the training data"
    train_scores = [_mse(predict(fit(x[tr], y[tr]), x[tr]), y[tr]) for tr, _ in folds]
    assert_close(scores, want,
                 "the fold scores (compared with sklearn's cross_val_score)", rtol=1e-9, mistakes=[
                     (train_scores, "these are errors on the training folds; score each model on its validation "
                                    "fold")])


def assert_bias_variance(bias_variance) -> None:
    """The visible test of ``bias_variance``: exact values on two mirrored training sets, then the closed form
    of the least-squares variance at a fixed design."""
    from .common import assert_close

    rng = np.random.default_rng(11)
    x = np.sort(rng.uniform(-1.0, 1.0, 12))
    f = np.sin(np.pi * x)
    fit, predict = polynomial_model(2)
    e, d = 0.3 * rng.standard_normal(12), 0.3 * rng.standard_normal((2, 12))
    # Least squares is linear in y: the two fits to f + e and f - e are p0 + h and p0 - h.
    p0, h = predict(fit(x, f), x), predict(fit(x, e), x)
    out = bias_variance(fit, predict, x, f, x, f, np.stack([e, -e]), d)
    bias2, var, noise, err = _unpack(out, 4, "(bias2, variance, noise, error)")
    single = ("bias² computed from single fits (averaged over the fits, or from one fit): bias² is the squared "
              "distance of the MEAN of the T predictions from f")
    assert_close(bias2, np.mean((p0 - f) ** 2), "bias2 with two training sets y = f ± e", rtol=1e-8, mistakes=[
        (np.mean((p0 - f) ** 2) + np.mean(h ** 2), single), (np.mean((p0 + h - f) ** 2), single),
        (np.sum((p0 - f) ** 2), "you summed over the test points; average over them")])
    assert_close(var, np.mean(h ** 2), "variance with two training sets y = f ± e", rtol=1e-8, mistakes=[
        (2 * np.mean(h ** 2), "you divided by T - 1 (np.var(..., ddof=1)); the variance defined in the text "
                              "divides by the number of training sets T, so that bias² + variance is the mean "
                              "squared distance of the predictions from f"),
        (np.sum(h ** 2), "you summed the variance over the test points; average over them")])
    assert_close(noise, np.mean(d ** 2), "noise (the fresh test targets' squared distance from f)", rtol=1e-8)
    want_err = np.mean(((f + d[0]) - (p0 + h)) ** 2 + ((f + d[1]) - (p0 - h)) ** 2) / 2
    assert_close(err, want_err, "error (fresh test targets against the predictions)", rtol=1e-8)
    # Many training sets: the variance approaches sigma² p / n (p = 3 coefficients, n = 12).
    T, sigma = 1500, 0.3
    out = bias_variance(fit, predict, x, f, x, f, sigma * rng.standard_normal((T, 12)),
                        sigma * rng.standard_normal((T, 12)))
    assert abs(out[1] / (sigma ** 2 * 3 / 12) - 1) < 0.1, \
        "with 1500 training sets the variance should be within 10% of sigma² p / n"


def assert_learning_curve(learning_curve) -> None:
    """The visible test of ``learning_curve``: a recording cubic, 30 training and 15 validation points."""
    from .common import assert_close

    x, y = _toy(45, 202)
    X_train, y_train, X_val, y_val = x[:30], y[:30], x[30:], y[30:]
    sizes = [6, 12, 30]
    rec = Recorder(*polynomial_model(3), x, y)
    out = learning_curve(rec.fit, rec.predict, X_train, y_train, X_val, y_val, sizes, 4)
    tr, va = _unpack(out, 2, "(train_errors, val_errors)")
    fit, predict = polynomial_model(3)
    want_tr, want_va = sklearn_learning_curve(fit, predict, X_train, y_train, X_val, y_val, sizes, 4)
    try:   # the errors' values decide; the recorded calls only explain wrong ones
        if np.allclose(np.asarray(va, dtype=float), want_va, rtol=1e-9) and \
                np.allclose(np.asarray(tr, dtype=float), want_tr, rtol=1e-9, atol=1e-12):
            return
    except (TypeError, ValueError):
        pass
    assert all(rec.paired), ("the targets fit received do not belong to its inputs: X_train and y_train were "
                             "shuffled with different permutations; index both with the same permutation")
    assert all(max(f) < 30 for f in rec.fits), "fit received validation examples: train on the training set only"
    assert sorted({len(f) for f in rec.fits}) == sorted(set(sizes)), \
        "fit must receive m training examples for each size m"
    assert_close(va, want_va, "the validation errors (compared with sklearn's learning_curve)", rtol=1e-9,
                 mistakes=[(want_tr, "these are the errors on the training subset: a learning curve's validation "
                                     "errors are measured on the held-out X_val, y_val")])
    full = [_mse(predict(fit(X_train[i], y_train[i]), X_train), y_train)
            for i in (np.random.default_rng(4).permutation(30)[:m] for m in sizes)]
    assert_close(tr, want_tr, "the training errors (compared with sklearn's learning_curve)", rtol=1e-9,
                 mistakes=[(full, "these are errors on the whole training set; measure the training error on the "
                                  "m examples the model was fitted to")])


def assert_select_degree(select_degree) -> None:
    """The visible test of ``select_degree``, with ``kfold_indices`` and ``cross_val_score`` replaced by
    scikit-learn's for the duration (they are checked in their own parts)."""
    from .common import assert_close

    x, y = _toy(30, 303)
    x_test, y_test = _toy(12, 304)
    degrees, k, seed = [1, 3, 5, 12], 5, 0
    fits = {d: polynomial_model(d) for d in degrees}
    folds = sklearn_folds(30, k, seed)
    cv = np.array([np.mean(sklearn_cross_val_score(*fits[d], x, y, folds)) for d in degrees])
    test = np.array([_mse(fits[d][1](fits[d][0](x, y), x_test), y_test) for d in degrees])
    ns = getattr(select_degree, "__globals__", {})
    saved = {name: ns.get(name) for name in ("kfold_indices", "cross_val_score")}
    try:
        ns["kfold_indices"], ns["cross_val_score"] = sklearn_folds, sklearn_cross_val_score
        out = select_degree(x, y, x_test, y_test, degrees, k, seed)
    finally:
        ns.update(saved)
    best, cv_got, test_got = _unpack(out, 3, "(best_degree, cv_errors, test_error)")
    assert_close(cv_got, cv, "cv_errors (the mean of the k fold scores, per degree)", rtol=1e-9, mistakes=[
        (test, "these are the test errors: choose on the k-fold errors of the training data, never on the test "
               "set")])
    assert best == degrees[int(np.argmin(test))] or best == degrees[int(np.argmin(cv))], \
        "best_degree must be the degree with the smallest cv error"
    assert best == degrees[int(np.argmin(cv))], ("you chose the degree with the smallest test error: choosing "
                                                 "on the test set; choose on cv_errors and use the test set once")
    assert_close(test_got, test[int(np.argmin(cv))], "test_error (the chosen degree refitted on all the "
                 "training data, measured on the test set)", rtol=1e-9)
