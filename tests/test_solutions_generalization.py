"""The Chapter 1 reference answers against independent oracles: scikit-learn's KFold, cross_val_score and
learning_curve, and the closed-form variance of least squares at a fixed design."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import KFold
from sklearn.model_selection import cross_val_score as sk_cross_val_score

from coursekit.checks.generalization import (assert_kfold, assert_partition, polynomial_model,
                                             sklearn_cross_val_score, sklearn_folds)
from solutions import generalization as ref


@pytest.mark.parametrize("n, k, seed", [(10, 2, 0), (23, 4, 1), (17, 17, 3), (100, 7, 42)])
def test_kfold_is_sklearns_kfold(n, k, seed):
    ours = ref.kfold_indices(n, k, seed)
    theirs = list(KFold(n_splits=k, shuffle=True, random_state=seed).split(np.zeros(n)))
    assert len(ours) == len(theirs) == k
    for (tr, va), (tr2, va2) in zip(ours, theirs):
        np.testing.assert_array_equal(tr, tr2)
        np.testing.assert_array_equal(va, va2)
    assert_partition(ours, n, k)


@pytest.mark.parametrize("n, k", [(5, 6), (5, 1), (5, 0)])
def test_kfold_rejects_what_sklearn_rejects(n, k):
    with pytest.raises(ValueError):
        ref.kfold_indices(n, k, 0)
    with pytest.raises(ValueError):
        list(KFold(n_splits=max(k, 2) if k > n else k, shuffle=True, random_state=0).split(np.zeros(n)))


def test_visible_kfold_check_passes_the_reference():
    assert_kfold(ref.kfold_indices)


def test_cross_val_score_matches_sklearn():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((31, 3)), rng.standard_normal(31)
    folds = ref.kfold_indices(31, 5, 0)

    def fit(X, y):
        return LinearRegression().fit(X, y)

    def predict(model, X):
        return model.predict(X)

    ours = ref.cross_val_score(fit, predict, X, y, folds)
    theirs = -sk_cross_val_score(LinearRegression(), X, y, cv=folds, scoring="neg_mean_squared_error")
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    np.testing.assert_allclose(sklearn_cross_val_score(fit, predict, X, y, folds), theirs, rtol=1e-12)


def test_bias_variance_identities_and_the_closed_form_variance():
    # Least squares with p coefficients at a fixed design, tested at the training inputs:
    # E[variance] = sigma^2 * tr(H) / n = sigma^2 * p / n, and the bias is that of the projection.
    rng = np.random.default_rng(1)
    n, degree, sigma, T = 25, 3, 0.5, 4000
    x = np.sort(rng.uniform(-1, 1, n))
    f = np.sin(np.pi * x)
    eps, eps_new = sigma * rng.standard_normal((T, n)), sigma * rng.standard_normal((T, n))
    fit, predict = polynomial_model(degree)
    bias2, var, noise, err = ref.bias_variance(fit, predict, x, f, x, f, eps, eps_new)
    p = degree + 1
    assert var == pytest.approx(sigma ** 2 * p / n, rel=0.05)
    V = np.vander(x, p, increasing=True)
    proj = V @ np.linalg.lstsq(V, f, rcond=None)[0]
    # the Monte Carlo bias² is high by about variance / T (the mean prediction is itself an average of T fits)
    assert abs(bias2 - np.mean((proj - f) ** 2) - var / T) < 3 * var / T
    assert noise == pytest.approx(sigma ** 2, rel=0.03)
    assert err == pytest.approx(bias2 + var + noise, rel=0.02)
    # exactly: mean squared deviation from f = bias2 + variance (the variance divides by T)
    preds = np.array([predict(fit(x, f + e), x) for e in eps])
    assert np.mean((preds - f) ** 2) == pytest.approx(bias2 + var, rel=1e-12)


def test_learning_curve_matches_sklearn_learning_curve_with_a_held_out_set():
    from sklearn.model_selection import learning_curve as sk_learning_curve

    rng = np.random.default_rng(2)
    X_train, y_train = rng.standard_normal((40, 3)), rng.standard_normal(40)
    X_val, y_val = rng.standard_normal((15, 3)), rng.standard_normal(15)
    sizes = [5, 12, 40]
    perm = np.random.default_rng(7).permutation(40)
    X_all, y_all = np.vstack([X_train[perm], X_val]), np.concatenate([y_train[perm], y_val])
    cv = [(np.arange(40), np.arange(40, 55))]
    _, tr, va = sk_learning_curve(LinearRegression(), X_all, y_all, train_sizes=sizes, cv=cv,
                                  scoring="neg_mean_squared_error", shuffle=False)
    ours_tr, ours_va = ref.learning_curve(lambda X, y: LinearRegression().fit(X, y), lambda m, X: m.predict(X),
                                          X_train, y_train, X_val, y_val, sizes, 7)
    np.testing.assert_allclose(ours_tr, -tr[:, 0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours_va, -va[:, 0], rtol=1e-10)
    with pytest.raises(ValueError):
        ref.learning_curve(None, None, X_train, y_train, X_val, y_val, [41], 0)


def test_select_degree_uses_sklearns_folds_and_scores_interchangeably():
    rng = np.random.default_rng(3)
    x, x_test = rng.uniform(-1, 1, 40), rng.uniform(-1, 1, 200)
    y, y_test = np.sin(3 * x) + 0.2 * rng.standard_normal(40), np.sin(3 * x_test) + 0.2 * rng.standard_normal(200)
    a = ref.select_degree(x, y, x_test, y_test, [1, 3, 5, 9], 5, 0)
    b = ref.select_degree(x, y, x_test, y_test, [1, 3, 5, 9], 5, 0, kfold=sklearn_folds,
                          cv_score=sklearn_cross_val_score)
    assert a[0] == b[0] and a[2] == pytest.approx(b[2])
    np.testing.assert_allclose(a[1], b[1], rtol=1e-10)
    assert a[0] in (3, 5)
