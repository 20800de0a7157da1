"""Hidden tests for Chapter 1: generalization.

Every part runs the student's function inside the sandbox through a driver of
``coursekit.checks.generalization`` (``probe_*``), which hands it the course's polynomial model wrapped in a
recorder: the grader sees which examples ``fit`` and ``predict`` received, not only the numbers returned.
References come from ``solutions.generalization`` (tested against scikit-learn's KFold, cross_val_score and
learning_curve). Messages never contain the hidden inputs or the expected values.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from coursekit.checks.generalization import polynomial_model
from solutions import generalization as ref

from ..verdicts import Part, Scenario
from .common import Failure, Foreign, Mistake, close, expect, forbid, pair, probe, returned

DRIVER = "coursekit.checks.generalization:"


def _toy(n, seed, noise=0.3):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, n)
    return x, np.sin(np.pi * x) + noise * rng.standard_normal(n)


def _dict(value, what, keys):
    if not isinstance(value, dict) or not all(k in value for k in keys):
        raise Failure(f"{what}: your function did not return what the exercise asks for")
    return value


# ================================================================ part 1: kfold_indices
OVERLAP = ("folds that overlap: an example is in more than one validation fold (sampling with replacement, or "
           "overlapping slices?); shuffle once with a permutation and cut it into k consecutive pieces")
MISSING = ("folds that miss examples: some examples are in no validation fold (the remainder of n // k dropped?); "
           "the first n % k folds take one example more")
LEAK = "the validation fold leaks into training: an example is in both train_idx and val_idx of the same fold"


def _kfold_call(n, k, seed):
    return probe(DRIVER + "probe_kfold", "kfold_indices", n, k, seed)


def _folds(value, n, k):
    """The decoded folds as (train, val) lists of int arrays, after the partition checks (Mistakes named)."""
    out = _dict(value, f"kfold_indices({'n'}, {'k'}, seed)", ["raised"])
    if out["raised"]:
        raise Failure(f"kfold_indices raised {out['raised']} for a valid n and k")
    if out.get("count") != k:
        raise Failure(f"kfold_indices: return a list of k (train_idx, val_idx) pairs (got {out.get('count')} items "
                      "for k folds)")
    if not out.get("integer"):
        raise Failure("kfold_indices: the indices must be integer arrays (numpy cannot index with floats)")
    vals = [np.asarray(v, dtype=float).astype(int) for v in out["val"]]
    trains = [np.asarray(t, dtype=float).astype(int) for t in out["train"]]
    allv = np.concatenate(vals) if vals else np.array([], dtype=int)
    if np.any((allv < 0) | (allv >= n)) or any(np.any((t < 0) | (t >= n)) for t in trains):
        raise Failure("kfold_indices: the indices must lie in 0..n-1")
    counts = np.bincount(allv, minlength=n)
    if np.any(counts > 1):
        raise Mistake(OVERLAP)
    if np.any(counts == 0):
        raise Mistake(MISSING)
    for t, v in zip(trains, vals):
        if set(t.tolist()) & set(v.tolist()):
            raise Mistake(LEAK)
        if len(t) + len(v) != n or len(np.unique(t)) != len(t):
            raise Failure("kfold_indices: each train_idx must hold every example outside its val_idx, once")
    sizes = [len(v) for v in vals]
    if max(sizes) - min(sizes) > 1:
        raise Failure("kfold_indices: the fold sizes differ by more than one (spread the remainder n % k over the "
                      "first folds, as sklearn's KFold does)")
    return trains, vals


def _partition_scenario(label, cases, covers):
    def check(values):
        for (n, k, _), v in zip(cases, returned(values, "kfold_indices")):
            _folds(v, n, k)
    return Scenario(label, [_kfold_call(*c) for c in cases], check, covers)


def _as_sets(vals):
    return sorted(tuple(sorted(v.tolist())) for v in vals)


def _same_seed(values):
    (a, b) = returned(values, "kfold_indices")
    _, va = _folds(a, 41, 6)
    _, vb = _folds(b, 41, 6)
    if _as_sets(va) != _as_sets(vb):
        raise Failure("the same seed gives different folds: shuffle with np.random.default_rng(seed), not the global "
                      "np.random")


def _other_seeds(values):
    got = [_as_sets(_folds(v, 40, 4)[1]) for v in returned(values, "kfold_indices")]
    if len({tuple(g) for g in got}) < len(got):
        raise Failure("different seeds give the same folds: shuffle with np.random.default_rng(seed)")


def _shuffled(values):
    (v,) = returned(values, "kfold_indices")
    _, vals = _folds(v, 40, 4)
    if _as_sets(vals) == [tuple(range(i, i + 10)) for i in range(0, 40, 10)]:
        raise Failure("the folds are consecutive blocks of the unshuffled indices: shuffle first")


def _raises(label, n, k, covers):
    def check(values):
        raw = values[0]
        if not raw.get("ok"):
            raise Failure(f"kfold_indices raised {raw.get('error', 'an error')} outside its own code")
        out = returned(values, "kfold_indices")[0]
        if not isinstance(out, dict) or out.get("raised") != "ValueError":
            got = out.get("raised") if isinstance(out, dict) else ""
            raise Failure("kfold_indices must raise ValueError, as sklearn's KFold does"
                          + (f" (it raised {got})" if got else " (it returned folds)"))
    return Scenario(label, [_kfold_call(n, k, 0)], check, covers)


KFOLD = Part(
    "kfold_indices",
    contract={
        "partition": "the k validation folds partition range(n): every example in exactly one fold",
        "train_complement": "each train_idx is every example outside its fold's val_idx",
        "sizes": "fold sizes differ by at most one, also when k does not divide n",
        "integers": "the indices are integer arrays (usable to index numpy arrays)",
        "k_equals_n": "k = n is leave-one-out; k = 2 is allowed",
        "seeded": "the same seed gives the same folds; different seeds give different folds",
        "shuffled": "the indices are shuffled before they are cut into folds",
        "errors": "ValueError unless 2 <= k <= n (k > n, k = 1)",
    },
    scenarios=[
        _partition_scenario("k divides n", [(30, 5, 3), (24, 4, 8)], ("partition", "train_complement", "integers")),
        _partition_scenario("k does not divide n", [(23, 5, 0), (37, 10, 4), (11, 2, 1)], ("sizes", "partition")),
        _partition_scenario("k = n (leave-one-out) and k = 2", [(7, 7, 2), (10, 2, 5)], ("k_equals_n",)),
        _partition_scenario("the visible test's sizes", [(23, 4, 0), (9, 9, 0), (12, 3, 0)], ("partition", "sizes")),
        Scenario("the same seed twice", [_kfold_call(41, 6, 9), _kfold_call(41, 6, 9)], _same_seed, ("seeded",)),
        Scenario("different seeds", [_kfold_call(40, 4, s) for s in (0, 1, 2)], _other_seeds, ("seeded",)),
        Scenario("shuffled folds", [_kfold_call(40, 4, 6)], _shuffled, ("shuffled",)),
        _raises("k > n", 5, 8, ("errors",)),
        _raises("k = 1", 6, 1, ("errors",)),
    ])


# ================================================================ part 2: cross_val_score
SHUFFLED_XY = ("X and y shuffled with different permutations (or indexed differently): the targets fit receives do "
               "not belong to its inputs; index X and y with the same array")
CV_LEAK = ("the validation fold leaks into training: fit received examples of the fold it is then scored on; fit on "
           "X[train_idx], y[train_idx] only")
ON_TRAIN = "the scores are errors on the training folds; score each model on its validation fold"


def _cv_call(X, y, folds, degree):
    return probe(DRIVER + "probe_cross_val_score", "cross_val_score", X, y,
                 [[np.asarray(tr, float), np.asarray(va, float)] for tr, va in folds], degree)


def _check_cv(value, X, y, folds, degree):
    """Judge the scores' values; the recorded calls only name the mistake of a wrong answer. An answer whose
    scores are right passes, however it called fit and predict (e.g. predicting on every row and keeping the
    validation rows)."""
    what = "cross_val_score"
    out = _dict(value, what, ["scores", "fits", "predicts", "paired"])
    fit, predict = polynomial_model(degree)
    want = ref.cross_val_score(fit, predict, X, y, folds)
    scores = out["scores"]
    if close(scores, want, rtol=1e-9):
        return
    fits = [set(np.asarray(f, dtype=float).astype(int).tolist()) for f in out["fits"]]
    predicts = [sorted(np.asarray(p, dtype=float).astype(int).tolist()) for p in out["predicts"]]
    if any(-1 in f for f in fits):
        raise Failure(f"{what}: fit received rows that are not rows of X")
    if fits and not np.all(np.asarray(out["paired"]) == 1):
        raise Mistake(SHUFFLED_XY)
    if len(fits) != len(folds):
        if len(fits) > 0 and all(len(f) == len(X) for f in fits):
            raise Mistake(CV_LEAK)
        raise Failure(f"{what}: fit must be called once per fold (it was called {len(fits)} times)")
    for f, (train, val) in zip(fits, folds):
        if f & set(np.asarray(val).tolist()):
            raise Mistake(CV_LEAK)
        if f != set(np.asarray(train).tolist()):
            raise Failure(f"{what}: fit must receive exactly the training part of each fold")
    on_train = [ref.mse(predict(fit(X[tr], y[tr]), X[tr]), y[tr]) for tr, _ in folds]
    if close(scores, on_train):
        raise Mistake(ON_TRAIN)
    val_rows = [set(np.asarray(va).tolist()) for _, va in folds]     # the i-th predict call sees fold i's rows
    if len(predicts) < len(folds) or not all(rows <= set(predicts[i]) for i, rows in enumerate(val_rows)):
        raise Failure(f"{what}: predict never received a validation fold")
    expect(scores, want, f"{what}: the fold scores", rtol=1e-9)


def _cv_scenario(label, X, y, folds, degree, covers):
    def check(values):
        (v,) = returned(values, "cross_val_score")
        _check_cv(v, X, y, folds, degree)
    return Scenario(label, [_cv_call(X, y, folds, degree)], check, covers)


_x2, _y2 = _toy(30, 21)
_x3, _y3 = _toy(23, 22)
_x4, _y4 = _toy(8, 23)
_x5, _y5 = _toy(26, 24)
_rs = np.random.default_rng(25)
_shuffle_split = []   # random train/validation splits whose validation sets overlap (a ShuffleSplit, not a KFold)
for _ in range(4):
    _p = _rs.permutation(26)
    _shuffle_split.append((_p[:18], _p[18:]))
_xv, _yv = _toy(20, 101)     # the visible test's data and folds
CROSS_VAL = Part(
    "cross_val_score",
    contract={
        "scores": "one validation mean squared error per fold, in the order of folds, as a numpy array",
        "train_only": "fit receives exactly the training part of each fold, with the targets of those rows",
        "uneven": "folds of unequal sizes (k does not divide n), leave-one-out folds of size 1",
        "any_splitter": "any iterable of (train_idx, val_idx) pairs, e.g. random splits whose validation sets "
                        "overlap, indices in any order",
        "shapes": "X of shape (n,) or (n, d)",
        "any_model": "any fit/predict pair (here polynomials of several degrees)",
    },
    scenarios=[
        _cv_scenario("5 folds, a quadratic", _x2, _y2, ref.kfold_indices(30, 5, 1), 2,
                     ("scores", "train_only", "any_model")),
        _cv_scenario("folds of unequal sizes", _x3, _y3, ref.kfold_indices(23, 4, 2), 1, ("uneven",)),
        _cv_scenario("leave-one-out", _x4, _y4, ref.kfold_indices(8, 8, 3), 0, ("uneven",)),
        _cv_scenario("random splits, not a k-fold partition", _x5, _y5, _shuffle_split, 3, ("any_splitter",)),
        _cv_scenario("X of shape (n, 1)", _x2.reshape(-1, 1), _y2, ref.kfold_indices(30, 3, 4), 4, ("shapes",)),
        _cv_scenario("the visible test's data", _xv, _yv, ref.kfold_indices(20, 4, 5), 2, ("scores",)),
    ])


# ================================================================ part 3: bias_variance
SINGLE_FITS = ("bias² computed from single fits instead of the mean prediction: you averaged each fit's squared "
               "distance from f, which is bias² + variance; square the distance of the MEAN prediction from f")
SINGLE_FIT_ONE = ("bias² computed from single fits instead of the mean prediction: your bias² is the squared distance "
                  "of ONE fit from f; average the T predictions first, then square the distance of that mean from f")
DDOF = ("variance with the wrong normalisation: you divided by T - 1 (np.var(..., ddof=1)); the variance defined "
        "here divides by the number of training sets T, so that bias² + variance is exactly the mean squared "
        "distance of the predictions from f")
SUMMED = "summed over the test points instead of averaged over them: every term is a mean over the m test points"


def _bv_case(n, m, T, degree, seed, same_inputs=False, mirrored=False, sigma=0.3):
    rng = np.random.default_rng(seed)
    x_train = np.sort(rng.uniform(-1.0, 1.0, n))
    x_test = x_train.copy() if same_inputs else rng.uniform(-1.0, 1.0, m)
    if mirrored:
        e = sigma * rng.standard_normal(n)
        train_noise = np.stack([e, -e])
    else:
        train_noise = sigma * rng.standard_normal((T, n))
    test_noise = sigma * rng.standard_normal((len(train_noise), len(x_test)))
    return (degree, x_train, np.sin(np.pi * x_train), x_test, np.sin(np.pi * x_test), train_noise, test_noise)


def _visible_bv_case():
    rng = np.random.default_rng(11)
    x = np.sort(rng.uniform(-1.0, 1.0, 12))
    f = np.sin(np.pi * x)
    e, d = 0.3 * rng.standard_normal(12), 0.3 * rng.standard_normal((2, 12))
    return (2, x, f, x, f, np.stack([e, -e]), d)


def _check_bv(value, case, closed_form=False):
    what = "bias_variance"
    got = pair(value, f"{what} should return (bias2, variance, noise, error):", 4)
    degree, x_train, f_train, x_test, f_test, train_noise, test_noise = case
    fit, predict = polynomial_model(degree)
    bias2, var, noise, err = ref.bias_variance(fit, predict, *case[1:])
    T, m = len(train_noise), len(x_test)
    if var > 1e-8 and close(got[0], bias2 + var, 1e-6) and not close(got[0], bias2, 1e-6):
        raise Mistake(SINGLE_FITS)
    first = predict(fit(x_train, f_train + train_noise[0]), x_test)
    if var > 1e-8 and close(got[0], np.mean((first - f_test) ** 2), 1e-6) and not close(got[0], bias2, 1e-6):
        raise Mistake(SINGLE_FIT_ONE)
    if var > 1e-8 and T > 1 and close(got[1], var * T / (T - 1), 1e-6):
        raise Mistake(DDOF)
    if m > 1 and (close(got[1], var * m, 1e-6) or close(got[0], bias2 * m, 1e-6)) and var > 1e-8:
        raise Mistake(SUMMED)
    expect(got[0], bias2, f"{what}: bias2", rtol=1e-8, atol=1e-12)
    expect(got[1], var, f"{what}: variance", rtol=1e-8, atol=1e-12)
    if close(got[2], np.mean(test_noise) ** 2, 1e-6) and not close(got[2], noise, 1e-6):
        raise Failure(f"{what}: noise is the mean of the SQUARED distances of the test targets from f")
    expect(got[2], noise, f"{what}: noise", rtol=1e-8)
    if close(got[3], bias2 + var, 1e-6) and not close(got[3], err, 1e-6):
        raise Failure(f"{what}: the error is measured against f instead of the noisy test targets")
    expect(got[3], err, f"{what}: error", rtol=1e-8)


def _bv_scenario(label, case, covers):
    def check(values):
        (v,) = returned(values, "bias_variance")
        _check_bv(v, case)
    return Scenario(label, [probe(DRIVER + "probe_bias_variance", "bias_variance", *case)], check, covers)


BIAS_VARIANCE = Part(
    "bias_variance",
    contract={
        "bias2": "bias² is the mean over test points of the squared distance of the mean prediction from f",
        "variance": "variance averages over test points the spread of the T predictions, dividing by T",
        "noise": "noise is the mean squared distance of the fresh test targets from f",
        "error": "error is the mean squared distance of the fresh test targets from the predictions",
        "closed_form": "at a fixed design with test = training inputs, variance tends to sigma² p / n",
        "test_inputs": "test inputs other than the training inputs, and m != n",
        "single_set": "T = 1 (variance 0) and T = 2",
        "model": "any model family (polynomials of degree 0 to 5 here)",
    },
    scenarios=[
        _bv_scenario("two mirrored training sets", _bv_case(15, 15, 2, 3, 31, mirrored=True),
                     ("bias2", "variance", "single_set")),
        _bv_scenario("many training sets at a fixed design", _bv_case(14, 14, 300, 2, 32, same_inputs=True),
                     ("closed_form", "noise", "error")),
        _bv_scenario("test inputs other than the training inputs", _bv_case(18, 9, 60, 4, 33),
                     ("test_inputs", "error")),
        _bv_scenario("a single training set (T = 1)", _bv_case(10, 6, 1, 2, 34), ("single_set",)),
        _bv_scenario("a straight line (high bias) and a constant", _bv_case(16, 16, 40, 1, 35, same_inputs=True),
                     ("model", "bias2")),
        _bv_scenario("a degree-5 polynomial (high variance)", _bv_case(12, 20, 50, 5, 36), ("model", "variance")),
        _bv_scenario("the visible test's data", _visible_bv_case(), ("bias2", "variance", "noise", "error")),
    ])


# ================================================================ part 4: learning_curve
LC_ON_TRAIN = ("learning curves evaluated on the training data: your 'validation' errors are the errors on the "
               "training subset; measure them on the held-out X_val, y_val")
LC_FULL_TRAIN = ("the training errors are measured on the whole training set; measure each model's training error "
                 "on the m examples it was fitted to")


def _lc_case(n_train, n_val, sizes, degree, seed, data_seed):
    x, y = _toy(n_train + n_val, data_seed)
    return (degree, x[:n_train], y[:n_train], x[n_train:], y[n_train:], sizes, seed)


def _check_lc(value, case):
    what = "learning_curve"
    degree, X_train, y_train, X_val, y_val, sizes, seed = case
    out = _dict(value, what, ["raised"])
    if out["raised"]:
        raise Failure(f"{what} raised {out['raised']} for valid sizes")
    res = pair(out.get("out"), f"{what} should return (train_errors, val_errors):", 2)
    fits = [np.asarray(f, dtype=float).astype(int) for f in out["fits"]]
    n = len(X_train)
    if any(np.any(f >= n) for f in fits):
        raise Failure(f"{what}: fit received validation examples; fit on the training set only")
    if any(np.any(f < 0) for f in fits):
        raise Failure(f"{what}: fit received rows that are not rows of X_train")
    if fits and not np.all(np.asarray(out["paired"]) == 1):
        raise Mistake("X and y shuffled with different permutations: the targets fit receives do not belong to its "
                      "inputs; index X_train and y_train with the same permutation")
    if len(fits) != len(sizes):
        raise Failure(f"{what}: fit once per size (fit was called {len(fits)} times)")
    perm = np.random.default_rng(seed).permutation(n)
    for f, m in zip(fits, sizes):
        if len(f) != m:
            raise Failure(f"{what}: for size m, fit must receive m training examples")
        if set(f.tolist()) != set(perm[:m].tolist()):
            raise Failure(f"{what}: fit on perm[:m] with perm = np.random.default_rng(seed).permutation(n), "
                          "one permutation for all sizes (nested subsets)")
    fit, predict = polynomial_model(degree)
    want_tr, want_va = ref.learning_curve(fit, predict, X_train, y_train, X_val, y_val, sizes, seed)
    tr, va = res
    if close(va, want_tr) and not close(va, want_va):
        raise Mistake(LC_ON_TRAIN)
    full = [ref.mse(predict(fit(X_train[perm[:m]], y_train[perm[:m]]), X_train), y_train) for m in sizes]
    if close(tr, full) and not close(tr, want_tr):
        raise Failure(f"{what}: {LC_FULL_TRAIN}")
    expect(va, want_va, f"{what}: val_errors", rtol=1e-9)
    expect(tr, want_tr, f"{what}: train_errors", rtol=1e-9, atol=1e-12)


_xl, _yl = _toy(45, 202)
_VISIBLE_LC = (3, _xl[:30], _yl[:30], _xl[30:], _yl[30:], [6, 12, 30], 4)


def _lc_call(case):
    return probe(DRIVER + "probe_learning_curve", "learning_curve", *case)


def _lc_scenario(label, case, covers):
    def check(values):
        (v,) = returned(values, "learning_curve")
        _check_lc(v, case)
    return Scenario(label, [_lc_call(case)], check, covers)


def _lc_raises(label, case, covers):
    def check(values):
        (v,) = returned(values, "learning_curve")
        if not isinstance(v, dict) or v.get("raised") != "ValueError":
            raise Failure("learning_curve must raise ValueError for a size below 1 or above len(X_train)")
    return Scenario(label, [_lc_call(case)], check, covers)


LEARNING_CURVE = Part(
    "learning_curve",
    contract={
        "held_out": "val_errors are measured on X_val, y_val, train_errors on the m examples fitted",
        "nested": "the subsets are perm[:m] of one seeded permutation, so they are nested",
        "paired": "X_train and y_train are indexed with the same permutation",
        "order": "sizes in any order; results in the order of sizes",
        "full_size": "m = len(X_train) uses the whole training set; m may be as small as the model allows",
        "seed": "the seed decides the permutation",
        "errors": "ValueError for a size below 1 or above len(X_train)",
    },
    scenarios=[
        _lc_scenario("increasing sizes", _lc_case(40, 20, [5, 10, 20, 40], 3, 0, 41),
                     ("held_out", "nested", "paired", "full_size")),
        _lc_scenario("unsorted sizes", _lc_case(35, 15, [30, 8, 15], 2, 1, 42), ("order",)),
        _lc_scenario("another seed, a constant model from one example", _lc_case(25, 10, [1, 25], 0, 7, 43),
                     ("seed", "full_size")),
        _lc_raises("a size above len(X_train)", _lc_case(12, 5, [4, 13], 1, 0, 44), ("errors",)),
        _lc_raises("a size of 0", _lc_case(12, 5, [0, 4], 1, 0, 45), ("errors",)),
        _lc_scenario("the visible test's data", _VISIBLE_LC, ("held_out",)),
    ])


# ================================================================ part 5: select_degree
ON_TEST = ("choosing on the test set: you picked the degree with the smallest test error; choose on the "
           "cross-validation errors of the training data and use the test set once, to report")


def _sd_case(n, m, degrees, k, seed, data_seed):
    x, y = _toy(n, data_seed)
    xt, yt = _toy(m, data_seed + 1000)
    return (x, y, xt, yt, degrees, k, seed)


@lru_cache(maxsize=None)
def _sd_reference(index):
    x, y, xt, yt, degrees, k, seed = SELECT_CASES[index]
    best, cv, test = ref.select_degree(x, y, xt, yt, degrees, k, seed)
    tests = np.array([ref.mse(polynomial_model(d)[1](polynomial_model(d)[0](x, y), xt), yt) for d in degrees])
    return best, cv, test, tests


def _sd_scenario(label, index, covers):
    case = SELECT_CASES[index]

    def check(values):
        what = "select_degree"
        (v,) = returned(values, what)
        best, cv, test = pair(v, f"{what} should return (best_degree, cv_errors, test_error):", 3)
        want_best, want_cv, want_test, tests = _sd_reference(index)
        degrees = case[4]
        if close(cv, tests) and not close(cv, want_cv):
            raise Mistake(ON_TEST)
        if close(best, degrees[int(np.argmin(tests))]) and not close(best, want_best):
            raise Mistake(ON_TEST)
        expect(cv, want_cv, f"{what}: cv_errors", rtol=1e-9)
        if close(best, int(np.argmin(want_cv))) and not close(best, want_best):
            raise Failure(f"{what}: return the degree itself, not its position in degrees")
        expect(best, want_best, f"{what}: best_degree")
        expect(test, want_test, f"{what}: test_error (the chosen degree refitted on all the training data)",
               rtol=1e-9)
    return Scenario(label, [probe(DRIVER + "probe_select_degree", "select_degree", *case)], check, covers)


SELECT_CASES = [
    _sd_case(40, 15, [1, 3, 5, 12], 5, 0, 51),
    _sd_case(36, 40, [9, 1, 5, 3], 4, 2, 52),
    _sd_case(27, 30, [0, 2, 4, 6], 3, 7, 53),
    (*_toy(30, 303), *_toy(12, 304), [1, 3, 5, 12], 5, 0),     # the visible test's data
]
SELECT = Part(
    "select_degree",
    contract={
        "choose_cv": "the degree with the smallest mean k-fold error on the training data, never on the test set",
        "cv_errors": "cv_errors: the mean of the k fold errors per degree, one set of folds for all degrees",
        "test_once": "test_error: the chosen degree refitted on all the training data, measured on the test set",
        "order": "degrees in any order; cv_errors in that order; best_degree is a degree, not an index",
        "k_seed": "k and seed are passed on to kfold_indices",
    },
    scenarios=[
        _sd_scenario("the test set disagrees with cross-validation", 3, ("choose_cv", "test_once")),
        _sd_scenario("degrees in increasing order", 0, ("cv_errors", "choose_cv")),
        _sd_scenario("degrees in another order", 1, ("order",)),
        _sd_scenario("another k and seed", 2, ("k_seed", "test_once")),
    ])


# The exercise says: don't use scikit-learn's KFold, cross_val_score or learning_curve (the tests' oracles), nor
# coursekit's wrappers of them. Parts 5 calls the student's own cross_val_score, so it is not checked.
_ORACLES = ("model_selection", "KFold", "RepeatedKFold", "ShuffleSplit", "cross_validate", "sklearn_folds",
            "sklearn_cross_val_score", "sklearn_learning_curve")
KFOLD.static = forbid(_ORACLES, "kfold_indices")
CROSS_VAL.static = forbid(_ORACLES + ("cross_val_score",), "cross_val_score")
LEARNING_CURVE.static = forbid(_ORACLES + ("learning_curve",), "learning_curve")

PARTS = {
    "test_kfold_indices": KFOLD,
    "test_cross_val_score": CROSS_VAL,
    "test_bias_variance": BIAS_VARIANCE,
    "test_learning_curve": LEARNING_CURVE,
    "test_select_degree": SELECT,
}
