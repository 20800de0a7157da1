"""Reference answers for Chapter 1 (generalization).

A *model* is a pair ``fit(X, y) -> model`` and ``predict(model, X) -> predictions`` (see
``coursekit.checks.generalization.polynomial_model``). Errors are mean squared errors.

* ``kfold_indices`` reproduces scikit-learn's ``KFold(k, shuffle=True, random_state=seed)`` exactly (the
  exercise only asks for its properties: a seeded partition into folds whose sizes differ by at most one).
* ``cross_val_score`` is scikit-learn's ``cross_val_score(..., cv=folds)`` with the squared error.
* ``bias_variance`` is the Monte Carlo decomposition of the expected squared error at fixed test inputs:
  over T training sets, bias² = mean_j (mean_t f̂_t(x_j) − f(x_j))², variance = mean_j mean_t
  (f̂_t(x_j) − mean_t f̂_t(x_j))² (dividing by T), noise = mean (y_new − f)², and the error
  mean (y_new − f̂)².
"""

from __future__ import annotations

import numpy as np


def kfold_indices(n: int, k: int, seed: int):
    """``k`` pairs ``(train_idx, val_idx)``: the validation parts partition ``range(n)`` after one seeded
    shuffle; the first ``n % k`` folds hold one example more. ``ValueError`` unless ``2 <= k <= n``."""
    n, k = int(n), int(k)
    if k < 2 or k > n:
        raise ValueError(f"k must satisfy 2 <= k <= n, got k={k}, n={n}")
    indices = np.arange(n)
    np.random.RandomState(seed).shuffle(indices)      # what sklearn's check_random_state(seed) does
    sizes = np.full(k, n // k)
    sizes[: n % k] += 1
    folds, start = [], 0
    for size in sizes:
        val = np.sort(indices[start:start + size])
        mask = np.ones(n, dtype=bool)
        mask[val] = False
        folds.append((np.arange(n)[mask], val))
        start += size
    return folds


def mse(pred, y) -> float:
    return float(np.mean((np.asarray(pred, dtype=float) - np.asarray(y, dtype=float)) ** 2))


def cross_val_score(fit, predict, X, y, folds):
    """The validation mean squared error of each fold: fit on ``X[train], y[train]``, score on the fold."""
    scores = []
    for train, val in folds:
        model = fit(X[train], y[train])
        scores.append(mse(predict(model, X[val]), y[val]))
    return np.array(scores)


def bias_variance(fit, predict, x_train, f_train, x_test, f_test, train_noise, test_noise):
    """Monte Carlo ``(bias2, variance, noise, error)`` from ``T = len(train_noise)`` training sets
    ``y = f_train + train_noise[t]`` and fresh test targets ``f_test + test_noise[t]``."""
    preds = np.array([predict(fit(x_train, f_train + eps), x_test) for eps in train_noise])   # (T, m)
    mean_pred = preds.mean(axis=0)
    bias2 = float(np.mean((mean_pred - f_test) ** 2))
    variance = float(np.mean((preds - mean_pred) ** 2))
    y_new = f_test + test_noise
    noise = float(np.mean((y_new - f_test) ** 2))
    error = float(np.mean((y_new - preds) ** 2))
    return bias2, variance, noise, error


def learning_curve(fit, predict, X_train, y_train, X_val, y_val, sizes, seed):
    """``(train_errors, val_errors)``: for each m in ``sizes``, fit on the first m examples of one seeded
    permutation of the training set (nested subsets), and measure the error on those m and on the
    validation set."""
    n = len(X_train)
    if any(int(m) < 1 or int(m) > n for m in sizes):
        raise ValueError(f"every size must lie in 1..{n}")
    perm = np.random.default_rng(seed).permutation(n)
    train_errors, val_errors = [], []
    for m in sizes:
        idx = perm[: int(m)]
        model = fit(X_train[idx], y_train[idx])
        train_errors.append(mse(predict(model, X_train[idx]), y_train[idx]))
        val_errors.append(mse(predict(model, X_val), y_val))
    return np.array(train_errors), np.array(val_errors)


def select_degree(x_train, y_train, x_test, y_test, degrees, k, seed, polynomial_model=None,
                  kfold=kfold_indices, cv_score=cross_val_score):
    """``(best_degree, cv_errors, test_error)``: the degree with the smallest mean k-fold error on the
    training data, and the test error of that degree refitted on all of the training data (the test set is
    used once)."""
    if polynomial_model is None:
        from coursekit.checks.generalization import polynomial_model
    folds = kfold(len(x_train), k, seed)
    cv_errors = np.array([np.mean(cv_score(*polynomial_model(d), x_train, y_train, folds)) for d in degrees])
    best = degrees[int(np.argmin(cv_errors))]
    fit, predict = polynomial_model(best)
    return best, cv_errors, mse(predict(fit(x_train, y_train), x_test), y_test)
