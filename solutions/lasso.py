"""Reference answers for Chapter 3 (L1 regularization and the lasso).

Convention (scikit-learn's): ``Lasso(alpha=alpha)`` minimizes

    J(w, b) = 1/(2n) * ||y - X w - b||^2 + alpha * ||w||_1

with the intercept ``b`` never penalized (Tibshirani 1996). The solver is
cyclic coordinate descent on centred data (Friedman et al. 2010), the
algorithm scikit-learn uses; the path runs from the largest alpha down and
warm-starts each fit from the previous one.

The proximal step on torch parameters follows the optimizer: after
``optimizer.step()``, every parameter of a group with an ``"l1"`` entry is
soft-thresholded in place by ``group["lr"] * group["l1"]``.
"""

from __future__ import annotations

import numpy as np
import torch


def soft_threshold(x, t: float):
    """``sign(x) * max(|x| - t, 0)``, elementwise, for ``t >= 0``; a new float array of the shape of ``x``."""
    x = np.asarray(x, dtype=float)
    return np.sign(x) * np.maximum(np.abs(x) - t, 0.0)


def lasso_loss_and_subgradient(w, b: float, X, y, alpha: float):
    """``(J(w, b), g_w, g_b)``: the objective, the minimum-norm subgradient in ``w`` and the derivative in ``b``.

    Where ``w_j != 0`` the penalty is differentiable and ``g_w[j] = grad_j + alpha * sign(w_j)``. At
    ``w_j = 0`` the subdifferential is the interval ``[grad_j - alpha, grad_j + alpha]``; its element closest
    to zero is ``soft_threshold(grad_j, alpha)``. The minimum-norm subgradient is zero exactly at a minimizer.
    """
    X, y, w = np.asarray(X, float), np.asarray(y, float), np.asarray(w, float)
    n = X.shape[0]
    residual = X @ w + b - y
    loss = residual @ residual / (2 * n) + alpha * np.sum(np.abs(w))
    grad = X.T @ residual / n
    g_w = np.where(w != 0, grad + alpha * np.sign(w), soft_threshold(grad, alpha))
    return float(loss), g_w, float(residual.sum() / n)


def alpha_max(X, y) -> float:
    """The smallest alpha at which the lasso (with an intercept) sets every weight to zero."""
    X, y = np.asarray(X, float), np.asarray(y, float)
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    return float(np.max(np.abs(Xc.T @ yc)) / len(y))


def lasso_fit(X, y, alpha: float, w_init=None, max_iter: int = 100_000, tol: float = 1e-12):
    """``(w, b)`` minimizing J, by cyclic coordinate descent on centred data.

    ``w_init`` warm-starts the weights. A sweep updates every coordinate once; the loop stops when no
    coordinate moved by more than ``tol`` times the largest weight (at least ``tol``).
    """
    X, y = np.asarray(X, float), np.asarray(y, float)
    n, d = X.shape
    x_mean, y_mean = X.mean(axis=0), y.mean()
    Xc, yc = X - x_mean, y - y_mean
    w = np.zeros(d) if w_init is None else np.array(w_init, dtype=float)
    col_sq = np.sum(Xc * Xc, axis=0) / n        # the curvature of J along each coordinate
    residual = yc - Xc @ w
    for _ in range(max_iter):
        largest = 0.0
        for j in range(d):
            if col_sq[j] == 0.0:                 # a constant feature: its weight is 0 at any alpha > 0
                new = 0.0
            else:
                rho = Xc[:, j] @ residual / n + col_sq[j] * w[j]
                new = float(soft_threshold(rho, alpha)) / col_sq[j]
            if new != w[j]:
                residual -= Xc[:, j] * (new - w[j])
                largest = max(largest, abs(new - w[j]))
                w[j] = new
        if largest <= tol * max(1.0, float(np.max(np.abs(w)))):
            break
    return w, float(y_mean - x_mean @ w)


def lasso_path(X, y, alphas, fit=None):
    """``(alphas, coefs)``: alphas sorted in decreasing order (as scikit-learn's ``lasso_path``) and
    ``coefs[:, k]``, the ``w`` of ``lasso_fit(X, y, alphas[k])``, each fit warm-started from the previous one.

    The intercept is fitted (unpenalized) and not returned: the weights equal scikit-learn's
    ``lasso_path(X - X.mean(0), y - y.mean(), alphas=alphas)``.
    """
    fit = lasso_fit if fit is None else fit
    alphas = np.sort(np.asarray(alphas, dtype=float))[::-1]
    coefs = np.empty((np.shape(X)[1], len(alphas)))
    w = None
    for k, alpha in enumerate(alphas):
        w, _ = fit(X, y, alpha, w_init=w)
        coefs[:, k] = w
    return alphas, coefs


def l1_prox_(optimizer: torch.optim.Optimizer) -> None:
    """The proximal step of the L1 penalty, after ``optimizer.step()``.

    For every parameter group with an ``"l1"`` entry ``lam``, each of its parameters is replaced, in place,
    by ``soft_threshold(p, group["lr"] * lam)``; groups without the entry are left alone.
    """
    with torch.no_grad():
        for group in optimizer.param_groups:
            lam = group.get("l1", 0.0)
            if not lam:
                continue
            threshold = group["lr"] * lam
            for p in group["params"]:
                p.copy_(torch.sign(p) * torch.clamp(p.abs() - threshold, min=0.0))
