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

# ---------------------------------------------------------------- issue 23: the edges of each contract
# Randomness: the global generator reseeded with the seed (same seed, same folds; different seeds, different folds)
KFOLD_GLOBAL_SEEDED = '''
def kfold_indices(n, k, seed):
    if k < 2 or k > n:
        raise ValueError("need 2 <= k <= n")
    np.random.seed(seed)
    perm = np.random.permutation(n)
    return [(np.setdiff1d(perm, v), v) for v in np.array_split(perm, k)]
'''
# Types: lists of indices where the text names integer numpy arrays
KFOLD_LISTS = '''
def kfold_indices(n, k, seed):
    if k < 2 or k > n:
        raise ValueError("need 2 <= k <= n")
    perm = np.random.default_rng(seed).permutation(n).tolist()
    folds, start = [], 0
    for i in range(k):
        size = n // k + (1 if i < n % k else 0)
        val_idx = perm[start:start + size]
        folds.append(([j for j in perm if j not in val_idx], val_idx))
        start += size
    return folds
'''
# k that does not divide n: the larger folds at the end (np.linspace boundaries), not the first n % k
KFOLD_LINSPACE = '''
def kfold_indices(n, k, seed):
    if k < 2 or k > n:
        raise ValueError("need 2 <= k <= n")
    perm = np.random.default_rng(seed).permutation(n)
    edges = np.linspace(0, n, k + 1).astype(int)
    return [(np.concatenate([perm[:a], perm[b:]]), perm[a:b]) for a, b in zip(edges[:-1], edges[1:])]
'''
# Degenerate k: k = 1 or k > n slips through when only k == 0 is refused
KFOLD_ONLY_K0 = '''
def kfold_indices(n, k, seed):
    if k == 0:
        raise ValueError("k must be positive")
    perm = np.random.default_rng(seed).permutation(n)
    return [(np.setdiff1d(perm, v), v) for v in np.array_split(perm, min(k, n))]
'''
# Composition: len(folds) on a generator of folds (KFold.split returns one)
CV_LEN_FOLDS = '''
def cross_val_score(fit, predict, X, y, folds):
    scores = np.zeros(len(folds))
    for i, (train_idx, val_idx) in enumerate(folds):
        model = fit(X[train_idx], y[train_idx])
        scores[i] = np.mean((predict(model, X[val_idx]) - y[val_idx]) ** 2)
    return scores
'''
# Types: a list where the text names a numpy array
CV_LIST = '''
def cross_val_score(fit, predict, X, y, folds):
    return [float(np.mean((predict(fit(X[t], y[t]), X[v]) - y[v]) ** 2)) for t, v in folds]
'''
# Structural: fit once per fold, predict on the training rows too (value-correct)
CV_PREDICT_TRAIN_TOO = '''
def cross_val_score(fit, predict, X, y, folds):
    scores = []
    for train_idx, val_idx in folds:
        model = fit(X[train_idx], y[train_idx])
        _train_error = np.mean((predict(model, X[train_idx]) - y[train_idx]) ** 2)   # for a plot
        scores.append(np.mean((predict(model, X[val_idx]) - y[val_idx]) ** 2))
    return np.array(scores)
'''
# Numerics: the variance as E[p²] - E[p]², which cancels when f is far from 0
BV_CANCELLING = '''
def bias_variance(fit, predict, x_train, f_train, x_test, f_test, train_noise, test_noise):
    preds = np.array([predict(fit(x_train, f_train + e), x_test) for e in train_noise])
    mean_pred = preds.mean(axis=0)
    bias2 = np.mean((mean_pred - f_test) ** 2)
    variance = np.mean(np.mean(preds ** 2, axis=0) - mean_pred ** 2)
    y_new = f_test + test_noise
    return float(bias2), float(variance), float(np.mean((y_new - f_test) ** 2)), float(np.mean((y_new - preds) ** 2))
'''
# Text that does not decide: an array of the four numbers where the text says a tuple (accepted)
BV_ARRAY = '''
def bias_variance(fit, predict, x_train, f_train, x_test, f_test, train_noise, test_noise):
    preds = np.array([predict(fit(x_train, f_train + e), x_test) for e in train_noise])
    y_new = f_test + test_noise
    return np.array([np.mean((preds.mean(axis=0) - f_test) ** 2), np.mean(np.var(preds, axis=0)),
                     np.mean((y_new - f_test) ** 2), np.mean((y_new - preds) ** 2)])
'''
# Degenerate T = 1: the "sample" variance, with a guard that hides the T - 1 (np.var ddof=1 when T > 1)
BV_DDOF_GUARDED = '''
def bias_variance(fit, predict, x_train, f_train, x_test, f_test, train_noise, test_noise):
    preds = np.array([predict(fit(x_train, f_train + e), x_test) for e in train_noise])
    T = len(preds)
    variance = np.mean(np.var(preds, axis=0, ddof=1)) if T > 1 else 0.0
    y_new = f_test + test_noise
    return (float(np.mean((preds.mean(axis=0) - f_test) ** 2)), float(variance),
            float(np.mean((y_new - f_test) ** 2)), float(np.mean((y_new - preds) ** 2)))
'''
# Structural: fit twice per size (once per error), value-correct
LC_TWO_FITS = '''
def learning_curve(fit, predict, X_train, y_train, X_val, y_val, sizes, seed):
    n = len(X_train)
    if any(m < 1 or m > n for m in sizes):
        raise ValueError("bad size")
    perm = np.random.default_rng(seed).permutation(n)

    def error(m, X, y):
        model = fit(X_train[perm[:m]], y_train[perm[:m]])
        return np.mean((predict(model, X) - y) ** 2)

    return (np.array([error(m, X_train[perm[:m]], y_train[perm[:m]]) for m in sizes]),
            np.array([error(m, X_val, y_val) for m in sizes]))
'''
# Repeated values in a grid: a dict keyed by size drops a size given twice
LC_DICT = '''
def learning_curve(fit, predict, X_train, y_train, X_val, y_val, sizes, seed):
    n = len(X_train)
    if any(m < 1 or m > n for m in sizes):
        raise ValueError("bad size")
    perm = np.random.default_rng(seed).permutation(n)
    results = {}
    for m in sizes:
        model = fit(X_train[perm[:m]], y_train[perm[:m]])
        results[m] = (np.mean((predict(model, X_train[perm[:m]]) - y_train[perm[:m]]) ** 2),
                      np.mean((predict(model, X_val) - y_val) ** 2))
    return np.array([r[0] for r in results.values()]), np.array([r[1] for r in results.values()])
'''
# Types: lists where the text names two numpy arrays
LC_LISTS = '''
def learning_curve(fit, predict, X_train, y_train, X_val, y_val, sizes, seed):
    n = len(X_train)
    if any(m < 1 or m > n for m in sizes):
        raise ValueError("bad size")
    perm = np.random.default_rng(seed).permutation(n)
    train_errors, val_errors = [], []
    for m in sizes:
        model = fit(X_train[perm[:m]], y_train[perm[:m]])
        train_errors.append(float(np.mean((predict(model, X_train[perm[:m]]) - y_train[perm[:m]]) ** 2)))
        val_errors.append(float(np.mean((predict(model, X_val) - y_val) ** 2)))
    return train_errors, val_errors
'''
# Randomness: the global generator reseeded, then permuted
LC_GLOBAL_SEEDED = '''
def learning_curve(fit, predict, X_train, y_train, X_val, y_val, sizes, seed):
    n = len(X_train)
    if any(m < 1 or m > n for m in sizes):
        raise ValueError("bad size")
    np.random.seed(seed)
    perm = np.random.permutation(n)
    tr, va = [], []
    for m in sizes:
        model = fit(X_train[perm[:m]], y_train[perm[:m]])
        tr.append(np.mean((predict(model, X_train[perm[:m]]) - y_train[perm[:m]]) ** 2))
        va.append(np.mean((predict(model, X_val) - y_val) ** 2))
    return np.array(tr), np.array(va)
'''
# Text that does not decide: one (2, k) array where the text says a tuple of two arrays (accepted)
LC_STACKED = '''
def learning_curve(fit, predict, X_train, y_train, X_val, y_val, sizes, seed):
    n = len(X_train)
    if min(sizes) < 1 or max(sizes) > n:
        raise ValueError("sizes must lie in 1..n")
    perm = np.random.default_rng(seed).permutation(n)
    rows = []
    for m in sizes:
        idx = perm[:m]
        model = fit(X_train[idx], y_train[idx])
        rows.append([np.mean((predict(model, X_train[idx]) - y_train[idx]) ** 2),
                     np.mean((predict(model, X_val) - y_val) ** 2)])
    return np.array(rows).T
'''
# k that does not divide n: each fold's error weighted by its size (the pooled error), not the mean of k scores
SELECT_POOLED = '''
def select_degree(x_train, y_train, x_test, y_test, degrees, k, seed):
    folds = kfold_indices(len(x_train), k, seed)
    sizes = np.array([len(v) for _, v in folds])
    cv_errors = np.array([np.sum(cross_val_score(*polynomial_model(d), x_train, y_train, folds) * sizes) / sizes.sum()
                          for d in degrees])
    best = degrees[int(np.argmin(cv_errors))]
    fit, predict = polynomial_model(best)
    return best, cv_errors, float(np.mean((predict(fit(x_train, y_train), x_test) - y_test) ** 2))
'''
# Ties between configurations: sorting (error, degree) pairs breaks a tie by the smaller degree
SELECT_SORTED_PAIRS = '''
def select_degree(x_train, y_train, x_test, y_test, degrees, k, seed):
    folds = kfold_indices(len(x_train), k, seed)
    cv_errors = np.array([np.mean(cross_val_score(*polynomial_model(d), x_train, y_train, folds)) for d in degrees])
    best = sorted(zip(cv_errors, degrees))[0][1]
    fit, predict = polynomial_model(best)
    return best, cv_errors, float(np.mean((predict(fit(x_train, y_train), x_test) - y_test) ** 2))
'''
# Repeated values in a grid: the degrees deduplicated (and sorted) with np.unique
SELECT_UNIQUE = '''
def select_degree(x_train, y_train, x_test, y_test, degrees, k, seed):
    folds = kfold_indices(len(x_train), k, seed)
    degrees = list(np.unique(degrees)) if len(set(degrees)) < len(degrees) else degrees
    cv_errors = np.array([np.mean(cross_val_score(*polynomial_model(d), x_train, y_train, folds)) for d in degrees])
    best = degrees[int(np.argmin(cv_errors))]
    fit, predict = polynomial_model(best)
    return best, cv_errors, float(np.mean((predict(fit(x_train, y_train), x_test) - y_test) ** 2))
'''
# Types: cv_errors as a list
SELECT_LIST = '''
def select_degree(x_train, y_train, x_test, y_test, degrees, k, seed):
    folds = kfold_indices(len(x_train), k, seed)
    cv_errors = [float(np.mean(cross_val_score(*polynomial_model(d), x_train, y_train, folds))) for d in degrees]
    best = degrees[cv_errors.index(min(cv_errors))]
    fit, predict = polynomial_model(best)
    return best, cv_errors, float(np.mean((predict(fit(x_train, y_train), x_test) - y_test) ** 2))
'''
# Ties: the last of the tied degrees (">=" in a running minimum)
SELECT_TIE_LAST = '''
def select_degree(x_train, y_train, x_test, y_test, degrees, k, seed):
    folds = kfold_indices(len(x_train), k, seed)
    best, best_err, cv_errors = None, np.inf, []
    for d in degrees:
        err = np.mean(cross_val_score(*polynomial_model(d), x_train, y_train, folds))
        cv_errors.append(err)
        if err <= best_err:
            best, best_err = d, err
    fit, predict = polynomial_model(best)
    return best, np.array(cv_errors), float(np.mean((predict(fit(x_train, y_train), x_test) - y_test) ** 2))
'''
# Correct on the edges: a list of the three values where the text says a tuple; np.argmin on a list
SELECT_AS_LIST = '''
def select_degree(x_train, y_train, x_test, y_test, degrees, k, seed):
    folds = kfold_indices(len(x_train), k, seed)
    cv_errors = np.array([cross_val_score(*polynomial_model(d), x_train, y_train, folds).mean() for d in degrees])
    best = degrees[np.argmin(cv_errors)]
    fit, predict = polynomial_model(best)
    return [best, cv_errors, np.mean((predict(fit(x_train, y_train), x_test) - y_test) ** 2)]
'''

# Resembles a named mistake on one scenario only: a hand-written argmin whose loop stops one degree early. On the
# unsorted degrees it picks the degree that happens to have the smallest test error, the model of "choosing on the test
# set"; the scenario where the test set disagrees with cross-validation, which that model fails, it passes.
SELECT_ARGMIN_LOOP_SHORT = '''
def select_degree(x_train, y_train, x_test, y_test, degrees, k, seed):
    folds = kfold_indices(len(x_train), k, seed)
    cv_errors = np.array([np.mean(cross_val_score(*polynomial_model(d), x_train, y_train, folds))
                          for d in degrees])
    best_i = 0
    for i in range(1, len(degrees) - 1):
        if cv_errors[i] < cv_errors[best_i]:
            best_i = i
    best = degrees[best_i]
    fit, predict = polynomial_model(best)
    test_error = np.mean((predict(fit(x_train, y_train), x_test) - y_test) ** 2)
    return best, cv_errors, float(test_error)
'''


# The order matters to tests that grade a slice of BUGGY: add new variants at the end.
BUGGY = [
    Variant("bug-kfold-with-replacement", "kfold_indices", KFOLD_WITH_REPLACEMENT, P1,
            visible="the folds overlap", hidden="folds that overlap"),
    Variant("bug-kfold-drop-remainder", "kfold_indices", KFOLD_DROP_REMAINDER, P1,
            visible="the folds miss examples", hidden="folds that miss examples"),
    Variant("bug-kfold-global-rng", "kfold_indices", KFOLD_GLOBAL_RNG, P1,
            visible="the same seed gives different folds", hidden="the global random generator is used"),
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
    # issue 23: the edges of each contract, one kind at a time
    Variant("bug-kfold-global-seeded", "kfold_indices", KFOLD_GLOBAL_SEEDED, P1, visible=None,
            hidden="the global random generator is used"),
    Variant("bug-kfold-lists", "kfold_indices", KFOLD_LISTS, P1, visible=None,
            hidden="must be numpy arrays of integers"),
    Variant("bug-kfold-linspace-sizes", "kfold_indices", KFOLD_LINSPACE, P1, visible=None,
            hidden="the FIRST n % k folds hold the extra example"),
    Variant("bug-kfold-only-k0", "kfold_indices", KFOLD_ONLY_K0, P1, visible="must raise ValueError",
            hidden="must raise ValueError"),
    Variant("bug-cv-len-of-folds", "cross_val_score", CV_LEN_FOLDS, P2, visible=None,
            hidden="folds handed over as a generator"),
    Variant("bug-cv-list", "cross_val_score", CV_LIST, P2, visible=None, hidden="return a numpy array"),
    Variant("bug-bv-cancelling-variance", "bias_variance", BV_CANCELLING, P3, visible=None,
            hidden="cancellation"),
    Variant("bug-bv-ddof1-guarded", "bias_variance", BV_DDOF_GUARDED, P3, visible="you divided by T - 1",
            hidden="variance with the wrong normalisation"),
    Variant("bug-lc-dict-by-size", "learning_curve", LC_DICT, P4, visible=None, hidden="a size given twice"),
    Variant("bug-lc-lists", "learning_curve", LC_LISTS, P4, visible=None, hidden="return a numpy array"),
    Variant("bug-lc-global-seeded", "learning_curve", LC_GLOBAL_SEEDED, P4, visible="compared with sklearn",
            hidden="the global random generator is used"),
    Variant("bug-select-pooled-error", "select_degree", SELECT_POOLED, P5, visible=None,
            hidden="weighted by fold size"),
    Variant("bug-select-tie-smallest-degree", "select_degree", SELECT_SORTED_PAIRS, P5, visible=None,
            hidden="on a tie, return the FIRST of the tied degrees"),
    Variant("bug-select-unique-degrees", "select_degree", SELECT_UNIQUE, P5, visible=None,
            hidden="a degree given twice"),
    Variant("bug-select-list", "select_degree", SELECT_LIST, P5, visible=None, hidden="return a numpy array"),
    Variant("bug-select-tie-last", "select_degree", SELECT_TIE_LAST, P5, visible=None,
            hidden="on a tie, return the FIRST of the tied degrees"),
    # not named: a passing scenario rules out the mistake its one failing scenario resembles
    Variant("bug-select-argmin-loop-short", "select_degree", SELECT_ARGMIN_LOOP_SHORT, P5, visible=None,
            hidden="Fails with: degrees in another order", not_named="choosing on the test set"),
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
    # issue 23: correct answers on the edges
    Variant("ok-cv-predict-train-too", "cross_val_score", CV_PREDICT_TRAIN_TOO, P2),
    Variant("ok-bv-array", "bias_variance", BV_ARRAY, P3),
    Variant("ok-lc-two-fits-per-size", "learning_curve", LC_TWO_FITS, P4),
    Variant("ok-lc-stacked", "learning_curve", LC_STACKED, P4),
    Variant("ok-select-as-list", "select_degree", SELECT_AS_LIST, P5),
]
