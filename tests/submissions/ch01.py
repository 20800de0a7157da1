"""Chapter 1 (generalization): known-buggy and correct answers.

Each buggy answer reproduces one mistake of the chapter's list (X and y shuffled with different permutations;
folds that overlap or miss examples; the validation fold leaking into training; bias² from single fits; variance
with the wrong normalisation; learning curves on training data; choosing on the test set) or breaks one item of a
part's contract. The correct ones are other valid ways of writing each answer.
"""

from __future__ import annotations

from submissions import Variant

P1, P2, P3, P4, P5 = ("test_kfold_indices", "test_cross_val_score", "test_bias_variance", "test_learning_curve",
                      "test_select_degree")

# ---------------------------------------------------------------- part 1: kfold_indices
KFOLD_WITH_REPLACEMENT = '''
def kfold_indices(n, k, seed):
    if k < 2 or k > n:
        raise ValueError("need 2 <= k <= n")
    rng = np.random.default_rng(seed)
    folds = []
    for i in range(k):
        size = n // k + (1 if i < n % k else 0)
        val_idx = rng.choice(n, size=size, replace=True)
        train_idx = np.setdiff1d(np.arange(n), val_idx)
        folds.append((train_idx, val_idx))
    return folds
'''
KFOLD_DROP_REMAINDER = '''
def kfold_indices(n, k, seed):
    if k < 2 or k > n:
        raise ValueError("need 2 <= k <= n")
    perm = np.random.default_rng(seed).permutation(n)
    size = n // k
    folds = []
    for i in range(k):
        val_idx = perm[i * size:(i + 1) * size]
        folds.append((np.setdiff1d(perm, val_idx), val_idx))
    return folds
'''
KFOLD_GLOBAL_RNG = '''
def kfold_indices(n, k, seed):
    if k < 2 or k > n:
        raise ValueError("need 2 <= k <= n")
    perm = np.random.permutation(n)
    return [(np.setdiff1d(perm, v), v) for v in np.array_split(perm, k)]
'''
KFOLD_NO_SHUFFLE = '''
def kfold_indices(n, k, seed):
    if k < 2 or k > n:
        raise ValueError("need 2 <= k <= n")
    idx = np.arange(n)
    return [(np.setdiff1d(idx, v), v) for v in np.array_split(idx, k)]
'''
KFOLD_NO_ERROR = '''
def kfold_indices(n, k, seed):
    perm = np.random.default_rng(seed).permutation(n)
    return [(np.setdiff1d(perm, v), v) for v in np.array_split(perm, k)]
'''
KFOLD_TRAIN_HAS_VAL = '''
def kfold_indices(n, k, seed):
    if k < 2 or k > n:
        raise ValueError("need 2 <= k <= n")
    perm = np.random.default_rng(seed).permutation(n)
    return [(perm, v) for v in np.array_split(perm, k)]
'''
KFOLD_REMAINDER_IN_LAST = '''
def kfold_indices(n, k, seed):
    if k < 2 or k > n:
        raise ValueError("need 2 <= k <= n")
    perm = np.random.default_rng(seed).permutation(n)
    size = n // k
    pieces = [perm[i * size:(i + 1) * size] for i in range(k - 1)] + [perm[(k - 1) * size:]]
    return [(np.setdiff1d(perm, v), v) for v in pieces]
'''
KFOLD_ARRAY_SPLIT = '''
def kfold_indices(n, k, seed):
    if not 2 <= k <= n:
        raise ValueError(f"k={k} must lie between 2 and n={n}")
    perm = np.random.default_rng(seed).permutation(n)
    return [(np.setdiff1d(perm, val_idx), val_idx) for val_idx in np.array_split(perm, k)]
'''
KFOLD_LABELS = '''
def kfold_indices(n, k, seed):
    """Deal fold labels 0, 1, ..., k-1, 0, 1, ... and shuffle the labels."""
    if k > n or k < 2:
        raise ValueError("k must be between 2 and n")
    labels = np.random.default_rng(seed).permutation(np.arange(n) % k)
    return [(np.flatnonzero(labels != i), np.flatnonzero(labels == i)) for i in range(k)]
'''
KFOLD_MASKS = '''
def kfold_indices(n, k, seed):
    if k < 2 or k > n:
        raise ValueError("need 2 <= k <= n")
    idx = np.arange(n)
    np.random.default_rng(seed).shuffle(idx)
    folds, start = [], 0
    for i in range(k):
        stop = start + n // k + (i < n % k)
        mask = np.zeros(n, dtype=bool)
        mask[idx[start:stop]] = True
        folds.append((np.where(~mask)[0], np.where(mask)[0]))
        start = stop
    return folds
'''

# ---------------------------------------------------------------- part 2: cross_val_score
CV_FIT_ALL = '''
def cross_val_score(fit, predict, X, y, folds):
    model = fit(X, y)
    return np.array([np.mean((predict(model, X[v]) - y[v]) ** 2) for _, v in folds])
'''
CV_ON_TRAIN = '''
def cross_val_score(fit, predict, X, y, folds):
    scores = []
    for t, v in folds:
        model = fit(X[t], y[t])
        scores.append(np.mean((predict(model, X[t]) - y[t]) ** 2))
    return np.array(scores)
'''
CV_SHUFFLED_XY = '''
def cross_val_score(fit, predict, X, y, folds):
    rng = np.random.default_rng(0)
    X, y = X[rng.permutation(len(X))], y[rng.permutation(len(y))]   # "shuffle the data first"
    scores = []
    for t, v in folds:
        model = fit(X[t], y[t])
        scores.append(np.mean((predict(model, X[v]) - y[v]) ** 2))
    return np.array(scores)
'''
CV_COMPREHENSION = '''
def cross_val_score(fit, predict, X, y, folds):
    def score(train_idx, val_idx):
        model = fit(X[train_idx], y[train_idx])
        return ((predict(model, X[val_idx]) - y[val_idx]) ** 2).mean()
    return np.array([score(t, v) for t, v in folds])
'''
CV_PREALLOCATED = '''
def cross_val_score(fit, predict, X, y, folds):
    folds = list(folds)
    scores = np.empty(len(folds))
    for i, (train_idx, val_idx) in enumerate(folds):
        residual = predict(fit(X[train_idx], y[train_idx]), X[val_idx]) - y[val_idx]
        scores[i] = residual @ residual / len(val_idx)
    return scores
'''

CV_PREDICT_ALL_ROWS = '''
def cross_val_score(fit, predict, X, y, folds):
    scores = []
    for train_idx, val_idx in folds:
        predictions = predict(fit(X[train_idx], y[train_idx]), X)     # every row, then keep the fold's
        scores.append(np.mean((predictions[val_idx] - y[val_idx]) ** 2))
    return np.array(scores)
'''

# ---------------------------------------------------------------- part 3: bias_variance
BV_SINGLE_FITS = '''
def bias_variance(fit, predict, x_train, f_train, x_test, f_test, train_noise, test_noise):
    preds = np.array([predict(fit(x_train, f_train + e), x_test) for e in train_noise])
    bias2 = np.mean([np.mean((p - f_test) ** 2) for p in preds])      # each fit's own squared bias
    variance = np.mean(np.var(preds, axis=0))
    y_new = f_test + test_noise
    return bias2, variance, np.mean((y_new - f_test) ** 2), np.mean((y_new - preds) ** 2)
'''
BV_FIRST_FIT = '''
def bias_variance(fit, predict, x_train, f_train, x_test, f_test, train_noise, test_noise):
    preds = np.array([predict(fit(x_train, f_train + e), x_test) for e in train_noise])
    bias2 = np.mean((preds[0] - f_test) ** 2)                        # the bias of one fit
    variance = np.mean(np.var(preds, axis=0))
    y_new = f_test + test_noise
    return bias2, variance, np.mean((y_new - f_test) ** 2), np.mean((y_new - preds) ** 2)
'''
BV_DDOF1 = '''
def bias_variance(fit, predict, x_train, f_train, x_test, f_test, train_noise, test_noise):
    preds = np.array([predict(fit(x_train, f_train + e), x_test) for e in train_noise])
    bias2 = np.mean((preds.mean(axis=0) - f_test) ** 2)
    variance = np.mean(np.var(preds, axis=0, ddof=1))
    y_new = f_test + test_noise
    return bias2, variance, np.mean((y_new - f_test) ** 2), np.mean((y_new - preds) ** 2)
'''
BV_SUMMED = '''
def bias_variance(fit, predict, x_train, f_train, x_test, f_test, train_noise, test_noise):
    preds = np.array([predict(fit(x_train, f_train + e), x_test) for e in train_noise])
    bias2 = np.mean((preds.mean(axis=0) - f_test) ** 2)
    variance = np.sum(np.var(preds, axis=0))
    y_new = f_test + test_noise
    return bias2, variance, np.mean((y_new - f_test) ** 2), np.mean((y_new - preds) ** 2)
'''
BV_ERROR_AGAINST_F = '''
def bias_variance(fit, predict, x_train, f_train, x_test, f_test, train_noise, test_noise):
    preds = np.array([predict(fit(x_train, f_train + e), x_test) for e in train_noise])
    bias2 = np.mean((preds.mean(axis=0) - f_test) ** 2)
    variance = np.mean(np.var(preds, axis=0))
    y_new = f_test + test_noise
    return bias2, variance, np.mean((y_new - f_test) ** 2), np.mean((f_test - preds) ** 2)
'''
BV_NP_VAR = '''
def bias_variance(fit, predict, x_train, f_train, x_test, f_test, train_noise, test_noise):
    preds = np.stack([predict(fit(x_train, f_train + eps), x_test) for eps in train_noise])
    y_new = f_test + test_noise
    return (float(np.mean((preds.mean(axis=0) - f_test) ** 2)), float(np.var(preds, axis=0).mean()),
            float(np.var(test_noise + 0.0, axis=None) + np.mean(test_noise) ** 2), float(np.mean((y_new - preds) ** 2)))
'''
BV_LOOPS = '''
def bias_variance(fit, predict, x_train, f_train, x_test, f_test, train_noise, test_noise):
    T, m = len(train_noise), len(x_test)
    total = np.zeros(m)
    preds = []
    for t in range(T):
        p = np.asarray(predict(fit(x_train, f_train + train_noise[t]), x_test))
        preds.append(p)
        total += p
    mean = total / T
    bias2 = sum((mean[j] - f_test[j]) ** 2 for j in range(m)) / m
    variance = sum(((p - mean) ** 2).sum() for p in preds) / (T * m)
    noise = sum((test_noise[t] ** 2).sum() for t in range(T)) / (T * m)
    error = sum(((f_test + test_noise[t] - preds[t]) ** 2).sum() for t in range(T)) / (T * m)
    return bias2, variance, noise, error
'''

# ---------------------------------------------------------------- part 4: learning_curve
LC_ON_TRAIN = '''
def learning_curve(fit, predict, X_train, y_train, X_val, y_val, sizes, seed):
    n = len(X_train)
    if any(m < 1 or m > n for m in sizes):
        raise ValueError("bad size")
    perm = np.random.default_rng(seed).permutation(n)
    tr = []
    for m in sizes:
        Xs, ys = X_train[perm[:m]], y_train[perm[:m]]
        tr.append(np.mean((predict(fit(Xs, ys), Xs) - ys) ** 2))
    return np.array(tr), np.array(tr)
'''
LC_SHUFFLED_XY = '''
def learning_curve(fit, predict, X_train, y_train, X_val, y_val, sizes, seed):
    n = len(X_train)
    if any(m < 1 or m > n for m in sizes):
        raise ValueError("bad size")
    rng = np.random.default_rng(seed)
    X_shuf, y_shuf = X_train[rng.permutation(n)], y_train[rng.permutation(n)]
    tr, va = [], []
    for m in sizes:
        model = fit(X_shuf[:m], y_shuf[:m])
        tr.append(np.mean((predict(model, X_shuf[:m]) - y_shuf[:m]) ** 2))
        va.append(np.mean((predict(model, X_val) - y_val) ** 2))
    return np.array(tr), np.array(va)
'''
LC_FULL_TRAIN = '''
def learning_curve(fit, predict, X_train, y_train, X_val, y_val, sizes, seed):
    n = len(X_train)
    if any(m < 1 or m > n for m in sizes):
        raise ValueError("bad size")
    perm = np.random.default_rng(seed).permutation(n)
    tr, va = [], []
    for m in sizes:
        model = fit(X_train[perm[:m]], y_train[perm[:m]])
        tr.append(np.mean((predict(model, X_train) - y_train) ** 2))
        va.append(np.mean((predict(model, X_val) - y_val) ** 2))
    return np.array(tr), np.array(va)
'''
LC_NOT_NESTED = '''
def learning_curve(fit, predict, X_train, y_train, X_val, y_val, sizes, seed):
    n = len(X_train)
    if any(m < 1 or m > n for m in sizes):
        raise ValueError("bad size")
    rng = np.random.default_rng(seed)
    tr, va = [], []
    for m in sizes:
        idx = rng.permutation(n)[:m]          # a fresh subset for every size
        model = fit(X_train[idx], y_train[idx])
        tr.append(np.mean((predict(model, X_train[idx]) - y_train[idx]) ** 2))
        va.append(np.mean((predict(model, X_val) - y_val) ** 2))
    return np.array(tr), np.array(va)
'''
LC_NO_ERROR = '''
def learning_curve(fit, predict, X_train, y_train, X_val, y_val, sizes, seed):
    perm = np.random.default_rng(seed).permutation(len(X_train))
    tr, va = [], []
    for m in sizes:
        idx = perm[:m]
        model = fit(X_train[idx], y_train[idx])
        tr.append(np.mean((predict(model, X_train[idx]) - y_train[idx]) ** 2))
        va.append(np.mean((predict(model, X_val) - y_val) ** 2))
    return np.array(tr), np.array(va)
'''
LC_PREALLOCATED = '''
def learning_curve(fit, predict, X_train, y_train, X_val, y_val, sizes, seed):
    n = len(X_train)
    if min(sizes) < 1 or max(sizes) > n:
        raise ValueError(f"sizes must be in 1..{n}")
    order = np.random.default_rng(seed).permutation(n)
    X_sh, y_sh = X_train[order], y_train[order]
    train_errors, val_errors = np.zeros(len(sizes)), np.zeros(len(sizes))
    for i, m in enumerate(sizes):
        model = fit(X_sh[:m], y_sh[:m])
        train_errors[i] = np.mean((predict(model, X_sh[:m]) - y_sh[:m]) ** 2)
        val_errors[i] = np.mean((predict(model, X_val) - y_val) ** 2)
    return train_errors, val_errors
'''
LC_HELPER = '''
def _mse(model, predict, X, y):
    r = np.asarray(predict(model, X)) - y
    return float(r @ r) / len(y)


def learning_curve(fit, predict, X_train, y_train, X_val, y_val, sizes, seed):
    for m in sizes:
        if not 1 <= m <= len(X_train):
            raise ValueError(m)
    perm = np.random.default_rng(seed).permutation(len(X_train))
    models = [(fit(X_train[perm[:m]], y_train[perm[:m]]), perm[:m]) for m in sizes]
    return (np.array([_mse(mod, predict, X_train[i], y_train[i]) for mod, i in models]),
            np.array([_mse(mod, predict, X_val, y_val) for mod, _ in models]))
'''

# ---------------------------------------------------------------- part 5: select_degree
SELECT_ON_TEST = '''
def select_degree(x_train, y_train, x_test, y_test, degrees, k, seed):
    folds = kfold_indices(len(x_train), k, seed)
    cv_errors = np.array([np.mean(cross_val_score(*polynomial_model(d), x_train, y_train, folds))
                          for d in degrees])
    test_errors = []
    for d in degrees:
        fit, predict = polynomial_model(d)
        test_errors.append(np.mean((predict(fit(x_train, y_train), x_test) - y_test) ** 2))
    i = int(np.argmin(test_errors))
    return degrees[i], cv_errors, test_errors[i]
'''
SELECT_INDEX = '''
def select_degree(x_train, y_train, x_test, y_test, degrees, k, seed):
    folds = kfold_indices(len(x_train), k, seed)
    cv_errors = np.array([np.mean(cross_val_score(*polynomial_model(d), x_train, y_train, folds))
                          for d in degrees])
    i = int(np.argmin(cv_errors))
    fit, predict = polynomial_model(degrees[i])
    return i, cv_errors, np.mean((predict(fit(x_train, y_train), x_test) - y_test) ** 2)
'''
SELECT_CV_AS_TEST = '''
def select_degree(x_train, y_train, x_test, y_test, degrees, k, seed):
    folds = kfold_indices(len(x_train), k, seed)
    cv_errors = np.array([np.mean(cross_val_score(*polynomial_model(d), x_train, y_train, folds))
                          for d in degrees])
    i = int(np.argmin(cv_errors))
    return degrees[i], cv_errors, cv_errors[i]
'''
SELECT_LOOP = '''
def select_degree(x_train, y_train, x_test, y_test, degrees, k, seed):
    folds = kfold_indices(len(x_train), k, seed)
    best, best_err, cv_errors = None, np.inf, []
    for d in degrees:
        fit, predict = polynomial_model(d)
        err = cross_val_score(fit, predict, x_train, y_train, folds).mean()
        cv_errors.append(err)
        if err < best_err:
            best, best_err = d, err
    fit, predict = polynomial_model(best)
    residual = predict(fit(x_train, y_train), x_test) - y_test
    return best, np.array(cv_errors), float(np.mean(residual ** 2))
'''
SELECT_DICT = '''
def select_degree(x_train, y_train, x_test, y_test, degrees, k, seed):
    folds = kfold_indices(len(x_train), k, seed)
    cv = {d: float(np.mean(cross_val_score(*polynomial_model(d), x_train, y_train, folds))) for d in degrees}
    best = min(degrees, key=cv.get)
    fit, predict = polynomial_model(best)
    model = fit(x_train, y_train)
    return best, np.array([cv[d] for d in degrees]), float(((predict(model, x_test) - y_test) ** 2).mean())
'''

KFOLD_SKLEARN = '''
from sklearn.model_selection import KFold


def kfold_indices(n, k, seed):
    return list(KFold(n_splits=k, shuffle=True, random_state=seed).split(np.zeros(n)))
'''
CV_ORACLE = '''
def cross_val_score(fit, predict, X, y, folds):
    from coursekit.checks.generalization import sklearn_cross_val_score
    return sklearn_cross_val_score(fit, predict, X, y, folds)
'''
LC_SKLEARN = '''
def learning_curve(fit, predict, X_train, y_train, X_val, y_val, sizes, seed):
    import coursekit.checks.generalization as g
    return g.sklearn_learning_curve(fit, predict, X_train, y_train, X_val, y_val, sizes, seed)
'''

# The order matters to tests that grade a slice of BUGGY: add new variants at the end.
BUGGY = [
    Variant("bug-kfold-with-replacement", "kfold_indices", KFOLD_WITH_REPLACEMENT, P1,
            visible="the folds overlap", hidden="folds that overlap"),
    Variant("bug-kfold-drop-remainder", "kfold_indices", KFOLD_DROP_REMAINDER, P1,
            visible="the folds miss examples", hidden="folds that miss examples"),
    Variant("bug-kfold-global-rng", "kfold_indices", KFOLD_GLOBAL_RNG, P1,
            visible="the same seed gives different folds", hidden="different seeds give the same folds"),
    Variant("bug-kfold-no-shuffle", "kfold_indices", KFOLD_NO_SHUFFLE, P1,
            visible="different seeds give the same folds", hidden="consecutive blocks"),
    Variant("bug-kfold-no-valueerror", "kfold_indices", KFOLD_NO_ERROR, P1,
            visible="must raise ValueError", hidden="must raise ValueError"),
    Variant("bug-kfold-train-has-val", "kfold_indices", KFOLD_TRAIN_HAS_VAL, P1,
            visible="leaks into training", hidden="the validation fold leaks into training"),
    Variant("bug-kfold-remainder-in-last", "kfold_indices", KFOLD_REMAINDER_IN_LAST, P1,
            visible="differ by more than one", hidden="differ by more than one"),
    Variant("bug-cv-fit-on-everything", "cross_val_score", CV_FIT_ALL, P2,
            visible="fold leaks into training", hidden="the validation fold leaks into training"),
    Variant("bug-cv-scored-on-train", "cross_val_score", CV_ON_TRAIN, P2,
            visible="the scores are computed on the training data", hidden="errors on the training folds"),
    Variant("bug-cv-shuffled-xy", "cross_val_score", CV_SHUFFLED_XY, P2,
            visible="shuffled (or indexed) with different permutations",
            hidden="X and y shuffled with different permutations"),
    Variant("bug-bv-single-fits", "bias_variance", BV_SINGLE_FITS, P3,
            visible="bias² computed from single fits",
            hidden="bias² computed from single fits instead of the mean prediction"),
    Variant("bug-bv-ddof1", "bias_variance", BV_DDOF1, P3,
            visible="you divided by T - 1", hidden="variance with the wrong normalisation"),
    Variant("bug-bv-summed-variance", "bias_variance", BV_SUMMED, P3,
            visible="you summed the variance over the test points", hidden="summed over the test points"),
    Variant("bug-bv-error-against-f", "bias_variance", BV_ERROR_AGAINST_F, P3,
            visible="error (fresh test targets against the predictions)",
            hidden="measured against f instead of the noisy test targets"),
    Variant("bug-lc-on-train", "learning_curve", LC_ON_TRAIN, P4,
            visible="these are the errors on the training subset",
            hidden="learning curves evaluated on the training data"),
    Variant("bug-lc-shuffled-xy", "learning_curve", LC_SHUFFLED_XY, P4,
            visible="shuffled with different permutations", hidden="X and y shuffled with different permutations"),
    Variant("bug-lc-full-train", "learning_curve", LC_FULL_TRAIN, P4,
            visible="these are errors on the whole training set",
            hidden="the training errors are measured on the whole training set"),
    Variant("bug-lc-not-nested", "learning_curve", LC_NOT_NESTED, P4, visible="compared with sklearn",
            hidden="nested subsets"),
    Variant("bug-lc-no-valueerror", "learning_curve", LC_NO_ERROR, P4, visible=None,
            hidden="must raise ValueError"),
    Variant("bug-select-on-test", "select_degree", SELECT_ON_TEST, P5,
            visible="choosing on the test set", hidden="choosing on the test set"),
    Variant("bug-select-returns-index", "select_degree", SELECT_INDEX, P5,
            visible="best_degree must be the degree", hidden="return the degree itself, not its position"),
    Variant("bug-select-cv-as-test-error", "select_degree", SELECT_CV_AS_TEST, P5,
            visible="test_error", hidden="test_error"),
    Variant("bug-bv-first-fit-bias", "bias_variance", BV_FIRST_FIT, P3,
            visible="bias² computed from single fits",
            hidden="bias² computed from single fits instead of the mean prediction"),
    # the oracles the exercise forbids: scikit-learn itself, or coursekit's wrappers of it (right numbers, no work)
    Variant("bug-kfold-sklearn", "kfold_indices", KFOLD_SKLEARN, P1, visible=None,
            hidden="kfold_indices must be written by you"),
    Variant("bug-cv-coursekit-oracle", "cross_val_score", CV_ORACLE, P2, visible=None,
            hidden="cross_val_score must be written by you"),
    Variant("bug-lc-sklearn", "learning_curve", LC_SKLEARN, P4, visible=None,
            hidden="learning_curve must be written by you"),
]

CORRECT = [
    Variant("ok-kfold-array-split", "kfold_indices", KFOLD_ARRAY_SPLIT, P1),
    Variant("ok-kfold-labels", "kfold_indices", KFOLD_LABELS, P1),
    Variant("ok-kfold-masks", "kfold_indices", KFOLD_MASKS, P1),
    Variant("ok-cv-comprehension", "cross_val_score", CV_COMPREHENSION, P2),
    Variant("ok-cv-preallocated", "cross_val_score", CV_PREALLOCATED, P2),
    Variant("ok-cv-predict-all-rows", "cross_val_score", CV_PREDICT_ALL_ROWS, P2),
    Variant("ok-bv-np-var", "bias_variance", BV_NP_VAR, P3),
    Variant("ok-bv-loops", "bias_variance", BV_LOOPS, P3),
    Variant("ok-lc-preallocated", "learning_curve", LC_PREALLOCATED, P4),
    Variant("ok-lc-helper", "learning_curve", LC_HELPER, P4),
    Variant("ok-select-loop", "select_degree", SELECT_LOOP, P5),
    Variant("ok-select-dict", "select_degree", SELECT_DICT, P5),
]
