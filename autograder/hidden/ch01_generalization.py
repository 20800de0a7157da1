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

from coursekit.checks.generalization import polynomial_model, sklearn_cross_val_score
from solutions import generalization as ref

from ..verdicts import Credit, Part, Scenario
from .common import Failure, Foreign, Mistake, close, expect, forbid, probe, returned

DRIVER = "coursekit.checks.generalization:"


def _seq(value, what, n):
    """The ``n`` values an answer returned as a tuple. The text says "a tuple"; a list or an array of ``n``
    unpacks the same way for every caller, so it is accepted too."""
    if isinstance(value, (tuple, list)) and len(value) == n:
        return tuple(value)
    if isinstance(value, np.ndarray) and value.ndim >= 1 and len(value) == n:
        return tuple(value)
    raise Failure(f"{what}: return a tuple of {n} values")


def _numpy_array(value, what):
    """A Failure unless ``value`` was returned as a numpy array, the type the exercise's text names."""
    if not isinstance(value, np.ndarray) or value.ndim == 0:
        kind = type(value).__name__ if not isinstance(value, Foreign) else repr(value)
        raise Failure(f"{what}: return a numpy array (np.array(...)), as the exercise asks; yours is a {kind}")


GLOBAL_RANDOM = ("the global random generator is used (np.random.seed / np.random.permutation / random.shuffle): "
                 "that reseeds or draws from the state every other piece of code shares; draw from your own "
                 "rng = np.random.default_rng(seed), as the exercise says")


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
        raise Mistake(OVERLAP, key="folds_overlap", plain="an example is in two validation folds")
    if np.any(counts == 0):
        raise Mistake(MISSING, key="folds_miss_examples", plain="some examples are in no validation fold")
    for t, v in zip(trains, vals):
        if set(t.tolist()) & set(v.tolist()):
            raise Mistake(LEAK, key="fold_leaks", plain="an example is in train_idx and val_idx of one fold")
        if len(t) + len(v) != n or len(np.unique(t)) != len(t):
            raise Failure("kfold_indices: each train_idx must hold every example outside its val_idx, once")
    return trains, vals


def _partition_scenario(label, cases, covers):
    def check(values):
        for (n, k, _), v in zip(cases, returned(values, "kfold_indices")):
            _folds(v, n, k)
    return Scenario(label, [_kfold_call(*c) for c in cases], check, covers)


def _sizes_scenario(label, cases, covers):
    """Only the fold sizes: the first n % k folds hold one example more (a partition is judged elsewhere)."""
    def check(values):
        for (n, k, _), v in zip(cases, returned(values, "kfold_indices")):
            out = _dict(v, "kfold_indices", ["raised"])
            if out["raised"] or out.get("count") != k:
                raise Failure("kfold_indices: return a list of k (train_idx, val_idx) pairs")
            sizes = [len(np.asarray(v_)) for v_ in out["val"]]
            want = [n // k + 1] * (n % k) + [n // k] * (k - n % k)
            if sizes == want:
                continue
            if max(sizes) - min(sizes) > 1:
                raise Failure("kfold_indices: the fold sizes differ by more than one (spread the remainder n % k "
                              "over the first folds, as sklearn's KFold does)")
            if sum(sizes) < n:
                raise Mistake(MISSING, key="folds_miss_examples", plain="the folds hold fewer than n examples")
            if sum(sizes) > n:
                raise Mistake(OVERLAP, key="folds_overlap", plain="the folds hold more than n examples")
            if sorted(sizes) == sorted(want):
                raise Failure("kfold_indices: when k does not divide n, the FIRST n % k folds hold the extra "
                              "example (as sklearn's KFold and np.array_split do); yours are elsewhere")
            raise Failure("kfold_indices: the validation folds must hold n examples in all, n // k or n // k + 1 "
                          "each")
    return Scenario(label, [_kfold_call(*c) for c in cases], check, covers)


def _as_sets(vals):
    return sorted(tuple(sorted(v.tolist())) for v in vals)


def _val_sets(value):
    """The validation folds as sorted tuples, without judging the partition (other scenarios do)."""
    out = _dict(value, "kfold_indices", ["raised"])
    if out["raised"]:
        raise Failure(f"kfold_indices raised {out['raised']} for a valid n and k")
    return _as_sets([np.asarray(v, dtype=float).astype(int) for v in out.get("val", [])])


def _seed_mistake(outs, message):
    """A seeding failure: named as the global generator when the calls used it (verified by the probe)."""
    if any(isinstance(o, dict) and o.get("global_random") for o in outs):
        raise Mistake(GLOBAL_RANDOM, key="global_random", plain=message)
    raise Failure(message)


def _same_seed(values):
    outs = returned(values, "kfold_indices")
    if _val_sets(outs[0]) != _val_sets(outs[1]):
        _seed_mistake(outs, "the same seed gives different folds: shuffle with np.random.default_rng(seed), not the "
                            "global np.random")


def _other_seeds(values):
    outs = returned(values, "kfold_indices")
    got = [tuple(_val_sets(v)) for v in outs]
    if len(set(got)) < len(got):
        _seed_mistake(outs, "different seeds give the same folds: shuffle with np.random.default_rng(seed)")


def _shuffled(values):
    (v,) = returned(values, "kfold_indices")
    if _val_sets(v) == [tuple(range(i, i + 10)) for i in range(0, 40, 10)]:
        raise Failure("the folds are consecutive blocks of the unshuffled indices: shuffle first")


def _own_generator(values):
    outs = returned(values, "kfold_indices")
    for v in outs:
        if isinstance(v, dict) and v.get("global_random"):
            raise Mistake(GLOBAL_RANDOM, key="global_random", plain="the global random state changed")


def _index_arrays(values):
    for v in returned(values, "kfold_indices"):
        out = _dict(v, "kfold_indices", ["raised"])
        if out["raised"]:
            raise Failure(f"kfold_indices raised {out['raised']} for a valid n and k")
        if not out.get("arrays"):
            raise Failure("kfold_indices: train_idx and val_idx must be numpy arrays of integers, as the exercise "
                          "asks (yours are lists or tuples)")


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
        "uneven": "a partition also when k does not divide n",
        "sizes": "fold sizes differ by at most one; when k does not divide n the first n % k folds are larger",
        "integers": "the indices are integers (usable to index numpy arrays)",
        "arrays": "train_idx and val_idx are numpy arrays, as the text says",
        "k_equals_n": "k = n is leave-one-out; k = 2 is allowed",
        "seeded": "the same seed gives the same folds; different seeds give different folds",
        "own_generator": "the shuffle draws from np.random.default_rng(seed), never from (or reseeding) the global "
                         "np.random or random state",
        "shuffled": "the indices are shuffled before they are cut into folds",
        "errors": "ValueError unless 2 <= k <= n (k > n, k = 1)",
    },
    scenarios=[
        _partition_scenario("k divides n", [(30, 5, 3), (24, 4, 8)], ("partition", "train_complement", "integers")),
        _partition_scenario("k does not divide n", [(23, 5, 0), (37, 10, 4), (11, 2, 1)], ("uneven", "partition")),
        _sizes_scenario("the fold sizes when k does not divide n", [(23, 5, 0), (37, 10, 4), (23, 4, 0)], ("sizes",)),
        _partition_scenario("k = n (leave-one-out) and k = 2", [(7, 7, 2), (10, 2, 5)], ("k_equals_n",)),
        _partition_scenario("the visible test's sizes", [(23, 4, 0), (9, 9, 0), (12, 3, 0)], ("partition", "uneven")),
        Scenario("the same seed twice", [_kfold_call(41, 6, 9), _kfold_call(41, 6, 9)], _same_seed, ("seeded",)),
        Scenario("different seeds", [_kfold_call(40, 4, s) for s in (0, 1, 2)], _other_seeds, ("seeded",)),
        Scenario("the global random state left alone", [_kfold_call(20, 4, 3)], _own_generator, ("own_generator",)),
        Scenario("shuffled folds", [_kfold_call(40, 4, 6)], _shuffled, ("shuffled",)),
        Scenario("index arrays", [_kfold_call(19, 4, 1), _kfold_call(6, 6, 2)], _index_arrays, ("arrays",)),
        _raises("k > n", 5, 8, ("errors",)),
        _raises("k = 1", 6, 1, ("errors",)),
    ],
    credit=[
        Credit("k folds that partition the examples", 1.0,
               ("partition", "train_complement", "uneven", "integers", "k_equals_n", "shuffled")),
        Credit("seeded with your own default_rng(seed)", 0.25, ("seeded", "own_generator")),
        Credit("the first n % k folds larger", 0.25, ("sizes",)),
        Credit("numpy index arrays", 0.25, ("arrays",)),
        Credit("ValueError unless 2 <= k <= n", 0.25, ("errors",)),
    ])


# ================================================================ part 2: cross_val_score
SHUFFLED_XY = ("X and y shuffled with different permutations (or indexed differently): the targets fit receives do "
               "not belong to its inputs; index X and y with the same array")
CV_LEAK = ("the validation fold leaks into training: fit received examples of the fold it is then scored on; fit on "
           "X[train_idx], y[train_idx] only")
ON_TRAIN = "the scores are errors on the training folds; score each model on its validation fold"


def _cv_call(X, y, folds, degree, as_generator=False):
    return probe(DRIVER + "probe_cross_val_score", "cross_val_score", X, y,
                 [[np.asarray(tr, float), np.asarray(va, float)] for tr, va in folds], degree, int(as_generator))


def _cv_models(X, y, folds, degree):
    """The reference scores, and key -> the scores the model of that mistake returns."""
    fit, predict = polynomial_model(degree)
    on_train = [ref.mse(predict(fit(X[tr], y[tr]), X[tr]), y[tr]) for tr, _ in folds]
    return ref.cross_val_score(fit, predict, X, y, folds), {"cv_on_train": on_train}


def _check_cv(value, X, folds, models):
    """Judge the scores' values against ``models`` (:func:`_cv_models`); the recorded calls only name the mistake
    of a wrong answer. An answer whose scores are right passes, however it called fit and predict (e.g. predicting
    on every row and keeping the validation rows)."""
    what = "cross_val_score"
    out = _dict(value, what, ["scores", "fits", "predicts", "paired"])
    want, wrong = models
    scores = out["scores"]
    if close(scores, want, rtol=1e-9):
        return
    fits = [set(np.asarray(f, dtype=float).astype(int).tolist()) for f in out["fits"]]
    if any(-1 in f for f in fits):
        raise Failure(f"{what}: fit received rows that are not rows of X")
    if fits and not np.all(np.asarray(out["paired"]) == 1):
        raise Mistake(SHUFFLED_XY, key="shuffled_xy", plain="fit received targets of other rows")
    if len(fits) != len(folds):
        if len(fits) > 0 and all(len(f) == len(X) for f in fits):
            raise Mistake(CV_LEAK, key="cv_leak", plain="fit received the validation rows")
        raise Failure(f"{what}: fit must be called once per fold (it was called {len(fits)} times)")
    for f, (train, val) in zip(fits, folds):
        if f & set(np.asarray(val).tolist()):
            raise Mistake(CV_LEAK, key="cv_leak", plain="fit received the validation rows")
        if f != set(np.asarray(train).tolist()):
            raise Failure(f"{what}: fit must receive exactly the training part of each fold")
    if close(scores, wrong["cv_on_train"]):
        raise Mistake(ON_TRAIN, key="cv_on_train", plain="the scores are not the validation errors")
    expect(scores, want, f"{what}: the fold scores", rtol=1e-9)


def _cv_scenario(label, X, y, folds, degree, covers, as_generator=False):
    @lru_cache(maxsize=None)
    def models():   # the reference and the mistakes' models: once per grading process
        want, wrong = _cv_models(X, y, folds, degree)
        return want, wrong, frozenset(k for k, m in wrong.items() if not close(m, want, rtol=1e-9))

    def check(values):
        (v,) = returned(values, "cross_val_score")
        _check_cv(v, X, folds, models()[:2])
        return models()[2]   # passed: the mistakes whose models fail here are not the answer's
    return Scenario(label, [_cv_call(X, y, folds, degree, as_generator)], check, covers)


def _cv_array(values):
    (v,) = returned(values, "cross_val_score")
    out = _dict(v, "cross_val_score", ["scores"])
    _numpy_array(out["scores"], "cross_val_score")


_x2, _y2 = _toy(30, 21)
_x3, _y3 = _toy(23, 22)
_x4, _y4 = _toy(8, 23)
_x5, _y5 = _toy(26, 24)
_x6, _y6 = _toy(17, 26)
_rs = np.random.default_rng(25)
_shuffle_split = []   # random train/validation splits whose validation sets overlap (a ShuffleSplit, not a KFold)
for _ in range(4):
    _p = _rs.permutation(26)
    _shuffle_split.append((_p[:18], _p[18:]))
_xv, _yv = _toy(20, 101)     # the visible test's data and folds
CROSS_VAL = Part(
    "cross_val_score",
    contract={
        "scores": "one validation mean squared error per fold, in the order of folds",
        "array": "the scores come back as a numpy array, as the text says",
        "train_only": "fit receives exactly the training part of each fold, with the targets of those rows",
        "uneven": "folds of unequal sizes (k does not divide n), leave-one-out folds of size 1",
        "any_splitter": "any iterable of (train_idx, val_idx) pairs: random splits whose validation sets "
                        "overlap, indices in any order, a generator of pairs such as KFold.split returns",
        "shapes": "X of shape (n,) or (n, d)",
        "any_model": "any fit/predict pair (here polynomials of several degrees)",
    },
    scenarios=[
        _cv_scenario("5 folds, a quadratic", _x2, _y2, ref.kfold_indices(30, 5, 1), 2,
                     ("scores", "train_only", "any_model")),
        _cv_scenario("folds of unequal sizes", _x3, _y3, ref.kfold_indices(23, 4, 2), 1, ("uneven",)),
        _cv_scenario("leave-one-out", _x4, _y4, ref.kfold_indices(8, 8, 3), 0, ("uneven",)),
        _cv_scenario("random splits, not a k-fold partition", _x5, _y5, _shuffle_split, 3, ("any_splitter",)),
        _cv_scenario("folds handed over as a generator (as KFold.split returns them)", _x6, _y6,
                     ref.kfold_indices(17, 3, 6), 2, ("any_splitter",), as_generator=True),
        _cv_scenario("X of shape (n, 1)", _x2.reshape(-1, 1), _y2, ref.kfold_indices(30, 3, 4), 4, ("shapes",)),
        _cv_scenario("the visible test's data", _xv, _yv, ref.kfold_indices(20, 4, 5), 2, ("scores",)),
        Scenario("the scores' type", [_cv_call(_x6, _y6, ref.kfold_indices(17, 4, 7), 1)], _cv_array, ("array",)),
    ],
    credit=[
        Credit("validation errors of models fitted on the training folds", 1.5,
               ("scores", "train_only", "uneven", "shapes", "any_model")),
        Credit("any splitter, a generator of folds included", 0.25, ("any_splitter",)),
        Credit("a numpy array", 0.25, ("array",)),
    ])


# ================================================================ part 3: bias_variance
SINGLE_FITS = ("bias² computed from single fits instead of the mean prediction: you averaged each fit's squared "
               "distance from f, which is bias² + variance; square the distance of the MEAN prediction from f")
SINGLE_FIT_ONE = ("bias² computed from single fits instead of the mean prediction: your bias² is the squared distance "
                  "of ONE fit from f; average the T predictions first, then square the distance of that mean from f")
SINGLE_EITHER = ("bias² computed from single fits instead of the mean prediction: bias² is the squared distance of "
                 "the MEAN of the T predictions from f (not the average of each fit's squared distance, nor one "
                 "fit's)")
DDOF = ("variance with the wrong normalisation: you divided by T - 1 (np.var(..., ddof=1)); the variance defined "
        "here divides by the number of training sets T, so that bias² + variance is exactly the mean squared "
        "distance of the predictions from f")
SUMMED = "summed over the test points instead of averaged over them: every term is a mean over the m test points"


CANCELLED = ("the variance lost its digits to cancellation: E[p²] - (E[p])² subtracts two large, nearly equal "
             "numbers when the predictions have a large mean (here about 1e5) and a small spread; compute it as the "
             "mean of (p - mean p)², e.g. np.var(preds, axis=0).mean()")


def _bv_case(n, m, T, degree, seed, same_inputs=False, mirrored=False, sigma=0.3, offset=0.0):
    rng = np.random.default_rng(seed)
    x_train = np.sort(rng.uniform(-1.0, 1.0, n))
    x_test = x_train.copy() if same_inputs else rng.uniform(-1.0, 1.0, m)
    if mirrored:
        e = sigma * rng.standard_normal(n)
        train_noise = np.stack([e, -e])
    else:
        train_noise = sigma * rng.standard_normal((T, n))
    test_noise = sigma * rng.standard_normal((len(train_noise), len(x_test)))
    return (degree, x_train, offset + np.sin(np.pi * x_train), x_test, offset + np.sin(np.pi * x_test),
            train_noise, test_noise)


def _visible_bv_case():
    rng = np.random.default_rng(11)
    x = np.sort(rng.uniform(-1.0, 1.0, 12))
    f = np.sin(np.pi * x)
    e, d = 0.3 * rng.standard_normal(12), 0.3 * rng.standard_normal((2, 12))
    return (2, x, f, x, f, np.stack([e, -e]), d)


def _bv_mistake(message, key, plain):
    raise Mistake(f"bias_variance: {message}", key=key, plain=plain)


_BV_CASES = {}


@lru_cache(maxsize=None)
def _bv_reference(label):
    """(bias2, variance, noise, error) and the T predictions of a scenario's case, computed once per process."""
    degree, x_train, f_train, x_test, f_test, train_noise, test_noise = _BV_CASES[label]
    fit, predict = polynomial_model(degree)
    preds = np.array([predict(fit(x_train, f_train + eps), x_test) for eps in train_noise])
    return ref.bias_variance(fit, predict, *_BV_CASES[label][1:]), preds


BV_TOL = ((1e-8, 1e-12), (1e-8, 1e-12), (1e-8, 1e-9), (1e-8, 1e-9))   # (rtol, atol) of bias2, variance, noise, error


@lru_cache(maxsize=None)
def _bv_models(label):
    """key -> the (bias2, variance, noise, error) that each form of that mistake returns on a scenario's case, and
    the keys whose every form fails the scenario (a passing answer rules them out); once per process."""
    right, preds = _bv_reference(label)
    bias2, var = right[:2]
    f_test = _BV_CASES[label][4]
    T, m = len(preds), len(f_test)

    def but(i, value):
        return right[:i] + (value,) + right[i + 1:]
    models = {
        "bias_single_fits": [but(0, bias2 + var), but(0, np.mean((preds[0] - f_test) ** 2))],
        # at T = 1 dividing by T - 1 is 0 / 0, or the right 0 when guarded (if T > 1)
        "variance_ddof": [but(1, var * T / (T - 1))] if T > 1 else [but(1, np.nan), right],
        "summed_over_points": [but(1, var * m), but(0, bias2 * m)],
        "error_against_f": [but(3, bias2 + var)],
    }
    fails = [key for key, forms in models.items()
             if not any(all(close(g, w, *tol) for g, w, tol in zip(f, right, BV_TOL)) for f in forms)]
    return models, frozenset(fails)


def _check_bv(value, case, label):
    what = "bias_variance"
    got = _seq(value, f"{what} should return (bias2, variance, noise, error):", 4)
    degree, x_train, f_train, x_test, f_test, train_noise, test_noise = case
    (bias2, var, noise, err), preds = _bv_reference(label)
    models = _bv_models(label)[0]
    T, m = len(train_noise), len(x_test)
    averaged, one = (var > 1e-8 and close(got[0], f[0], 1e-6) and not close(got[0], bias2, 1e-6)
                     for f in models["bias_single_fits"])
    if averaged or one:  # one key: on some inputs (test = training inputs, T = 2) the two give the same number
        _bv_mistake(SINGLE_FITS if not one else SINGLE_FIT_ONE if not averaged else SINGLE_EITHER,
                    "bias_single_fits", "bias2 differs")
    if T > 1 and var > 1e-8 and close(got[1], models["variance_ddof"][0][1], 1e-6):
        _bv_mistake(DDOF, "variance_ddof", "variance differs")
    if T == 1 and not np.isfinite(np.asarray(got[1], dtype=float)).all():   # the T - 1 model at T = 1: 0 / 0
        _bv_mistake(DDOF + " (with T = 1 that divides by zero)", "variance_ddof", "variance is NaN for T = 1")
    summed_var, summed_bias = models["summed_over_points"]
    if m > 1 and (close(got[1], summed_var[1], 1e-6) or close(got[0], summed_bias[0], 1e-6)) and var > 1e-8:
        _bv_mistake(SUMMED, "summed_over_points", "bias2 or variance differs")
    try:
        gv = float(np.asarray(got[1], dtype=float))
    except (TypeError, ValueError):
        gv = np.nan
    second = float(np.mean(preds ** 2))
    if np.isfinite(gv) and abs(gv - var) > 1e-8 * var and abs(gv - var) <= 256 * np.finfo(float).eps * second:
        # wrong by no more than rounding errors of the raw second moment: E[p²] - E[p]², not a formula error
        _bv_mistake(CANCELLED, "variance_cancellation", "variance imprecise when the predictions' mean is large")
    expect(got[0], bias2, f"{what}: bias2", *BV_TOL[0])
    expect(got[1], var, f"{what}: variance", *BV_TOL[1])
    if close(got[2], np.mean(test_noise) ** 2, 1e-6) and not close(got[2], noise, 1e-6):
        raise Failure(f"{what}: noise is the mean of the SQUARED distances of the test targets from f")
    expect(got[2], noise, f"{what}: noise", *BV_TOL[2])
    if close(got[3], models["error_against_f"][0][3], 1e-6) and not close(got[3], err, 1e-6):
        _bv_mistake("the error is measured against f instead of the noisy test targets: it is the mean squared "
                    "distance of the fresh targets f + test_noise from the predictions", "error_against_f",
                    "error differs")
    expect(got[3], err, f"{what}: error", *BV_TOL[3])


def _bv_scenario(label, case, covers):
    _BV_CASES[label] = case

    def check(values):
        (v,) = returned(values, "bias_variance")
        _check_bv(v, case, label)
        return _bv_models(label)[1]   # passed: the mistakes whose models fail here are not the answer's
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
        "stable": "the variance keeps its precision when f is far from 0 (no E[p²] - E[p]² cancellation)",
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
        _bv_scenario("a true function far from 0 (around 1e5)", _bv_case(16, 16, 40, 2, 37, offset=1e5),
                     ("stable",)),
        _bv_scenario("the visible test's data", _visible_bv_case(), ("bias2", "variance", "noise", "error")),
    ],
    credit=[
        Credit("bias², variance, noise and error", 2.0,
               ("bias2", "variance", "noise", "error", "closed_form", "test_inputs", "model")),
        Credit("T = 1 and T = 2 training sets", 0.5, ("single_set",)),
        Credit("a variance that keeps its precision", 0.5, ("stable",)),
    ])


# ================================================================ part 4: learning_curve
LC_ON_TRAIN = ("learning curves evaluated on the training data: your 'validation' errors are the errors on the "
               "training subset; measure them on the held-out X_val, y_val")
LC_FULL_TRAIN = ("the training errors are measured on the whole training set; measure each model's training error "
                 "on the m examples it was fitted to")


def _lc_case(n_train, n_val, sizes, degree, seed, data_seed):
    x, y = _toy(n_train + n_val, data_seed)
    return (degree, x[:n_train], y[:n_train], x[n_train:], y[n_train:], sizes, seed)


LC_SHUFFLED_XY = ("X and y shuffled with different permutations: the targets fit receives do not belong to its "
                  "inputs; index X_train and y_train with the same permutation")
LC_NOT_NESTED = ("fit on perm[:m] with perm = np.random.default_rng(seed).permutation(n), one permutation for all "
                 "sizes (nested subsets)")


def _lc_result(value, what, n_sizes):
    """(train_errors, val_errors) from what learning_curve returned: a tuple or list of two, or a (2, k) array."""
    return _seq(value, f"{what} should return (train_errors, val_errors):", 2)


def _lc_models(case):
    """The reference (train_errors, val_errors), key -> those of the model of that mistake, and the keys whose
    model fails the case (a passing answer rules them out)."""
    degree, X_train, y_train, X_val, y_val, sizes, seed = case
    fit, predict = polynomial_model(degree)
    want_tr, want_va = ref.learning_curve(fit, predict, X_train, y_train, X_val, y_val, sizes, seed)
    perm = np.random.default_rng(seed).permutation(len(X_train))
    full = [ref.mse(predict(fit(X_train[perm[:m]], y_train[perm[:m]]), X_train), y_train) for m in sizes]
    models = {"lc_on_train": (want_tr, want_tr), "lc_full_train": (full, want_va)}
    return (want_tr, want_va), models, frozenset(k for k, m in models.items() if not _lc_right(m, want_tr, want_va))


def _lc_right(errors, want_tr, want_va):
    tr, va = errors
    return close(va, want_va, 1e-9) and close(tr, want_tr, 1e-9, 1e-12)


def _check_lc(value, case, models):
    """The errors' values decide; the recorded calls (which rows fit received) only name the mistake of a wrong
    answer, so that a right answer passes however it calls fit (e.g. fitting each subset twice). ``models``:
    :func:`_lc_models` of the case."""
    what = "learning_curve"
    degree, X_train, y_train, X_val, y_val, sizes, seed = case
    out = _dict(value, what, ["raised"])
    if out["raised"]:
        raise Failure(f"{what} raised {out['raised']} for valid sizes")
    tr, va = _lc_result(out.get("out"), what, len(sizes))
    (want_tr, want_va), wrong, _ = models
    if _lc_right((tr, va), want_tr, want_va):
        return
    fits = [np.asarray(f, dtype=float).astype(int) for f in out["fits"]]
    n = len(X_train)
    if any(np.any(f >= n) for f in fits):
        raise Failure(f"{what}: fit received validation examples; fit on the training set only")
    if any(np.any(f < 0) for f in fits):
        raise Failure(f"{what}: fit received rows that are not rows of X_train")
    if fits and not np.all(np.asarray(out["paired"]) == 1):
        raise Mistake(f"{what}: {LC_SHUFFLED_XY}", key="shuffled_xy", plain="fit received targets of other rows")
    perm = np.random.default_rng(seed).permutation(n)
    if close(va, wrong["lc_on_train"][1]) and not close(va, want_va):
        raise Mistake(LC_ON_TRAIN, key="lc_on_train", plain="val_errors differ")
    if close(tr, wrong["lc_full_train"][0]) and not close(tr, want_tr):
        raise Mistake(f"{what}: {LC_FULL_TRAIN}", key="lc_full_train", plain="train_errors differ")
    subsets = {frozenset(f.tolist()) for f in fits}
    if len(subsets) < len(set(sizes)) or any(len(f) not in sizes for f in fits):
        raise Failure(f"{what}: for each size m, fit a model on m training examples")
    if not all(any(s == frozenset(perm[:m].tolist()) for s in subsets) for m in sizes):
        if out.get("global_random"):
            raise Mistake(GLOBAL_RANDOM, key="global_random", plain="other training subsets")
        raise Mistake(f"{what}: {LC_NOT_NESTED}", key="lc_not_nested", plain="other training subsets")
    expect(va, want_va, f"{what}: val_errors", rtol=1e-9)
    expect(tr, want_tr, f"{what}: train_errors", rtol=1e-9, atol=1e-12)


_xl, _yl = _toy(45, 202)
_VISIBLE_LC = (3, _xl[:30], _yl[:30], _xl[30:], _yl[30:], [6, 12, 30], 4)


def _lc_call(case):
    return probe(DRIVER + "probe_learning_curve", "learning_curve", *case)


def _lc_scenario(label, case, covers):
    @lru_cache(maxsize=None)
    def models():   # the reference and the mistakes' models: once per grading process
        return _lc_models(case)

    def check(values):
        (v,) = returned(values, "learning_curve")
        _check_lc(v, case, models())
        return models()[2]   # passed: the mistakes whose models fail here are not the answer's
    return Scenario(label, [_lc_call(case)], check, covers)


def _lc_raises(label, case, covers):
    def check(values):
        (v,) = returned(values, "learning_curve")
        if not isinstance(v, dict) or v.get("raised") != "ValueError":
            raise Failure("learning_curve must raise ValueError for a size below 1 or above len(X_train)")
    return Scenario(label, [_lc_call(case)], check, covers)


def _lc_arrays(values):
    (v,) = returned(values, "learning_curve")
    out = _dict(v, "learning_curve", ["raised"])
    if out["raised"]:
        raise Failure(f"learning_curve raised {out['raised']} for valid sizes")
    for errors, name in zip(_lc_result(out.get("out"), "learning_curve", 2), ("train_errors", "val_errors")):
        _numpy_array(errors, f"learning_curve: {name}")


_LC_TYPES = _lc_case(14, 6, [3, 14], 1, 2, 46)
LEARNING_CURVE = Part(
    "learning_curve",
    contract={
        "held_out": "val_errors are measured on X_val, y_val, train_errors on the m examples fitted",
        "nested": "the subsets are perm[:m] of one seeded permutation, so they are nested",
        "paired": "X_train and y_train are indexed with the same permutation",
        "order": "sizes in any order, a size given twice; results in the order of sizes",
        "full_size": "m = len(X_train) uses the whole training set; m may be as small as the model allows",
        "seed": "the seed decides the permutation",
        "arrays": "train_errors and val_errors are numpy arrays, as the text says",
        "errors": "ValueError for a size below 1 or above len(X_train)",
    },
    scenarios=[
        _lc_scenario("increasing sizes", _lc_case(40, 20, [5, 10, 20, 40], 3, 0, 41),
                     ("held_out", "nested", "paired", "full_size")),
        _lc_scenario("unsorted sizes", _lc_case(35, 15, [30, 8, 15], 2, 1, 42), ("order",)),
        _lc_scenario("a size given twice", _lc_case(26, 12, [12, 4, 12, 20], 2, 3, 47), ("order",)),
        _lc_scenario("another seed, a constant model from one example", _lc_case(25, 10, [1, 25], 0, 7, 43),
                     ("seed", "full_size")),
        _lc_raises("a size above len(X_train)", _lc_case(12, 5, [4, 13], 1, 0, 44), ("errors",)),
        _lc_raises("a size of 0", _lc_case(12, 5, [0, 4], 1, 0, 45), ("errors",)),
        Scenario("the errors' type", [_lc_call(_LC_TYPES)], _lc_arrays, ("arrays",)),
        _lc_scenario("the visible test's data", _VISIBLE_LC, ("held_out",)),
    ],
    credit=[
        Credit("training and validation errors on nested seeded subsets", 1.25,
               ("held_out", "nested", "paired", "full_size", "seed")),
        Credit("sizes in any order", 0.25, ("order",)),
        Credit("numpy arrays", 0.25, ("arrays",)),
        Credit("ValueError for a size outside 1..len(X_train)", 0.25, ("errors",)),
    ])


# ================================================================ part 5: select_degree
ON_TEST = ("choosing on the test set: you picked the degree with the smallest test error; choose on the "
           "cross-validation errors of the training data and use the test set once, to report")


POOLED = ("cv_errors weighted by fold size: with folds of unequal sizes (k does not divide n) the mean of the k "
          "fold errors is not the pooled squared error over all n examples; average the k scores of "
          "cross_val_score with equal weights (np.mean)")
TIE_LAST = ("on a tie, return the FIRST of the tied degrees in the order of degrees (what np.argmin does); yours "
            "returns another of them")


def _sd_case(n, m, degrees, k, seed, data_seed, zero_targets=False):
    x, y = _toy(n, data_seed)
    xt, yt = _toy(m, data_seed + 1000)
    return (x, np.zeros_like(y) if zero_targets else y, xt, yt, degrees, k, seed)


@lru_cache(maxsize=None)
def _sd_reference(index):
    x, y, xt, yt, degrees, k, seed = SELECT_CASES[index]
    best, cv, test = ref.select_degree(x, y, xt, yt, degrees, k, seed)
    tests = np.array([ref.mse(polynomial_model(d)[1](polynomial_model(d)[0](x, y), xt), yt) for d in degrees])
    return best, cv, test, tests


def _pooled(index):
    """cv_errors as the pooled squared error (each fold's error weighted by its size), on sklearn's folds."""
    from coursekit.checks.generalization import sklearn_folds

    x, y, _, _, degrees, k, seed = SELECT_CASES[index]
    folds = sklearn_folds(len(x), k, seed)
    weights = np.array([len(v) for _, v in folds], dtype=float)
    return np.array([np.average(sklearn_cross_val_score(*polynomial_model(d), x, y, folds), weights=weights)
                     for d in degrees])


@lru_cache(maxsize=None)
def _sd_models(index):
    """key -> the (best_degree, cv_errors, test_error) that each form of that mistake returns on a case, and the keys
    whose every form fails the case (a passing answer rules them out)."""
    want_best, want_cv, want_test, tests = _sd_reference(index)
    degrees = list(SELECT_CASES[index][4])
    right = (want_best, want_cv, want_test)
    on_test, pooled = int(np.argmin(tests)), _pooled(index)
    tied = [d for d, c in zip(degrees, want_cv) if c == np.min(want_cv)]
    models = {
        # cv_errors measured on the test set; or the right cv_errors, but the degree chosen by its test error
        "select_on_test": [(degrees[on_test], tests, tests[on_test]), (degrees[on_test], want_cv, tests[on_test])],
        "pooled_cv": [(degrees[int(np.argmin(pooled))], pooled, tests[int(np.argmin(pooled))])],
        "degree_index": [(int(np.argmin(want_cv)), want_cv, want_test)],
        # another of the tied degrees (none: the mistake shows nothing here)
        "tie_not_first": [(d, want_cv, tests[degrees.index(d)]) for d in tied if d != want_best] or [right],
        "test_is_cv": [(want_best, want_cv, want_cv[degrees.index(want_best)])],
    }
    fails = [key for key, forms in models.items() if not any(_sd_right(f, right) for f in forms)]
    return models, frozenset(fails)


def _sd_right(got, want):
    """(best_degree, cv_errors, test_error) within the check's tolerances of ``want``."""
    return close(got[1], want[1], 1e-9) and close(got[0], want[0]) and close(got[2], want[2], 1e-9)


def _sd_result(v, what):
    best, cv, test = _seq(v, f"{what} should return (best_degree, cv_errors, test_error):", 3)
    return best, cv, test


def _sd_scenario(label, index, covers, check_type=False):
    case = SELECT_CASES[index]

    def check(values):
        what = "select_degree"
        (v,) = returned(values, what)
        best, cv, test = _sd_result(v, what)
        if check_type:
            _numpy_array(cv, "select_degree: cv_errors")
        want_best, want_cv, want_test, tests = _sd_reference(index)
        models, ruled_out = _sd_models(index)
        on_test, chosen_on_test = models["select_on_test"]
        if close(cv, on_test[1]) and not close(cv, want_cv):
            raise Mistake(ON_TEST, key="select_on_test", plain="cv_errors differ")
        if close(best, chosen_on_test[0]) and not close(best, want_best) and close(cv, want_cv, 1e-9):
            raise Mistake(ON_TEST, key="select_on_test", plain="best_degree differs")
        if not close(cv, want_cv, 1e-9):
            pooled = models["pooled_cv"][0][1]
            if close(cv, pooled, 1e-9) and not close(pooled, want_cv, 1e-9):
                raise Mistake(f"{what}: {POOLED}", key="pooled_cv", plain="cv_errors differ when k does not divide n")
        expect(cv, want_cv, f"{what}: cv_errors", rtol=1e-9)
        tie = any(close(best, f[0]) for f in models["tie_not_first"]) and not close(best, want_best)
        if close(best, models["degree_index"][0][0]) and not close(best, want_best) and not tie:
            raise Mistake(f"{what}: return the degree itself, not its position in degrees", key="degree_index",
                          plain="best_degree differs")
        if tie:
            raise Mistake(f"{what}: {TIE_LAST}", key="tie_not_first", plain="best_degree differs on a tie")
        expect(best, want_best, f"{what}: best_degree")
        if close(test, models["test_is_cv"][0][2]) and not close(test, want_test):
            raise Mistake(f"{what}: test_error is the chosen degree's cv error; refit the chosen degree on all the "
                          "training data and measure its error on the test set", key="test_is_cv",
                          plain="test_error differs")
        expect(test, want_test, f"{what}: test_error (the chosen degree refitted on all the training data)",
               rtol=1e-9)
        return ruled_out   # passed: the mistakes whose models fail here are not the answer's
    return Scenario(label, [probe(DRIVER + "probe_select_degree", "select_degree", *case)], check, covers)


SELECT_CASES = [
    _sd_case(40, 15, [1, 3, 5, 12], 5, 0, 51),
    _sd_case(36, 40, [9, 1, 5, 3], 4, 2, 52),
    _sd_case(27, 30, [0, 2, 4, 6], 3, 7, 53),
    (*_toy(30, 303), *_toy(12, 304), [1, 3, 5, 12], 5, 0),     # the visible test's data
    _sd_case(10, 8, [1, 3, 1], 3, 5, 54),                      # k does not divide n, a degree given twice
    _sd_case(8, 6, [2, 1], 2, 1, 55, zero_targets=True),         # every degree fits y = 0 exactly: a tie
]
SELECT = Part(
    "select_degree",
    contract={
        "choose_cv": "the degree with the smallest mean k-fold error on the training data, never on the test set",
        "cv_errors": "cv_errors: the mean of the k fold errors per degree, one set of folds for all degrees",
        "uneven": "the mean of the k fold errors with equal weights, also when k does not divide n",
        "test_once": "test_error: the chosen degree refitted on all the training data, measured on the test set",
        "order": "degrees in any order, a degree given twice; cv_errors in that order; best_degree is a degree, "
                 "not an index",
        "ties": "on a tie, the first of the tied degrees in the order of degrees (as np.argmin)",
        "array": "cv_errors is a numpy array, as the text says",
        "k_seed": "k and seed are passed on to kfold_indices",
    },
    scenarios=[
        _sd_scenario("the test set disagrees with cross-validation", 3, ("choose_cv", "test_once")),
        _sd_scenario("degrees in increasing order", 0, ("cv_errors", "choose_cv")),
        _sd_scenario("degrees in another order", 1, ("order",)),
        _sd_scenario("another k and seed", 2, ("k_seed", "test_once")),
        _sd_scenario("k does not divide n, a degree given twice; the cv_errors' type", 4,
                     ("uneven", "order", "array"), check_type=True),
        _sd_scenario("a tie: every degree fits the training data exactly", 5, ("ties",)),
    ],
    credit=[
        Credit("the degree chosen by cross-validation, and its test error", 1.25,
               ("choose_cv", "cv_errors", "test_once", "k_seed")),
        Credit("degrees in any order, repeated or tied, folds of unequal sizes, a numpy array", 0.75,
               ("order", "ties", "uneven", "array")),
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
