"""Small, seeded synthetic data sets. Nothing is downloaded."""

from __future__ import annotations

import numpy as np


def make_regression(n_samples: int = 60, n_features: int = 10, noise: float = 0.5,
                    correlation: float = 0.0, n_informative: int | None = None,
                    intercept: float = 3.0, seed: int = 0):
    """Linear data ``y = X @ w_true + intercept + noise``.

    ``correlation`` in [0, 1) makes every pair of features correlated with
    that coefficient, which makes ``X.T @ X`` ill-conditioned (the setting
    in which ridge regression helps most). Only the first ``n_informative``
    features carry signal (all of them by default).

    Returns ``X`` (n_samples, n_features), ``y`` (n_samples,) and ``w_true``.
    """
    if not 0.0 <= correlation < 1.0:
        raise ValueError(f"correlation must be in [0, 1), got {correlation}")
    rng = np.random.default_rng(seed)
    cov = np.full((n_features, n_features), correlation) + (1.0 - correlation) * np.eye(n_features)
    X = rng.standard_normal((n_samples, n_features)) @ np.linalg.cholesky(cov).T
    k = n_features if n_informative is None else n_informative
    w_true = np.zeros(n_features)
    w_true[:k] = rng.uniform(-2.0, 2.0, size=k)
    y = X @ w_true + intercept + noise * rng.standard_normal(n_samples)
    return X, y, w_true


def make_polynomial_regression(n_samples: int = 30, degree: int = 12, noise: float = 0.3,
                               seed: int = 0):
    """1-D inputs on [-1, 1], a smooth target and polynomial features.

    Returns ``x`` (n_samples,), ``y`` (n_samples,) and the feature matrix
    ``Phi`` (n_samples, degree) with columns x, x**2, ..., x**degree (no
    constant column: the intercept is fitted separately and never penalized).
    """
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(-1.0, 1.0, n_samples))
    y = np.sin(np.pi * x) + noise * rng.standard_normal(n_samples)
    return x, y, polynomial_features(x, degree)


def polynomial_features(x, degree: int):
    """Columns x, x**2, ..., x**degree of a 1-D array."""
    x = np.asarray(x, dtype=float)
    return np.stack([x ** k for k in range(1, degree + 1)], axis=1)


def train_val_test_split(X, y, fractions=(0.6, 0.2, 0.2), seed: int = 0):
    """Shuffle ``X`` and ``y`` together and split them three ways.

    Returns ``(X_train, y_train), (X_val, y_val), (X_test, y_test)``.
    """
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)}")
    if not np.isclose(sum(fractions), 1.0):
        raise ValueError(f"fractions must sum to 1, got {fractions}")
    idx = np.random.default_rng(seed).permutation(len(X))
    n_train = int(round(fractions[0] * len(X)))
    n_val = int(round(fractions[1] * len(X)))
    parts = np.split(idx, [n_train, n_train + n_val])
    return tuple((X[p], y[p]) for p in parts)


def make_classification(n_samples: int = 200, n_features: int = 20, n_classes: int = 3,
                        seed: int = 0):
    """Gaussian blobs for a small torch classifier, as float32 tensors.

    Returns ``X`` (n_samples, n_features) float32 and ``y`` (n_samples,) int64.
    """
    import torch

    g = torch.Generator().manual_seed(seed)
    centers = 2.0 * torch.randn(n_classes, n_features, generator=g)
    y = torch.randint(0, n_classes, (n_samples,), generator=g)
    X = centers[y] + torch.randn(n_samples, n_features, generator=g)
    return X, y
