"""Reference answers for Chapter 2 (L2 regularization / weight decay).

Convention (matches torch's ``weight_decay``): the penalty is
``lam / 2 * ||w||^2`` and its gradient is ``lam * w``. The ridge objective is

    J(w, b) = 1/(2n) * ||X w + b - y||^2 + lam/2 * ||w||^2

with the intercept ``b`` never penalized (Hoerl & Kennard 1970).
"""

from __future__ import annotations

import numpy as np
from torch import nn

# Modules whose parameters are scales and shifts, not weights to shrink.
NORM_TYPES = (nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm,
              nn.LocalResponseNorm, nn.RMSNorm)


def l2_penalty(w, lam: float) -> float:
    """``lam / 2 * sum(w ** 2)``."""
    w = np.asarray(w, dtype=float)
    return 0.5 * lam * float(np.sum(w * w))


def ridge_loss_and_grad(w, b: float, X, y, lam: float):
    """Ridge objective J(w, b) and its gradients ``(loss, grad_w, grad_b)``."""
    n = X.shape[0]
    residual = X @ w + b - y
    loss = residual @ residual / (2 * n) + l2_penalty(w, lam)
    grad_w = X.T @ residual / n + lam * w
    grad_b = residual.sum() / n
    return float(loss), grad_w, float(grad_b)


def ridge_fit(X, y, lam: float):
    """Minimizer ``(w, b)`` of J: centre, then solve (Xc'Xc + n lam I) w = Xc'yc."""
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    n, d = X.shape
    x_mean, y_mean = X.mean(axis=0), y.mean()
    Xc, yc = X - x_mean, y - y_mean
    w = np.linalg.solve(Xc.T @ Xc + n * lam * np.eye(d), Xc.T @ yc)
    return w, float(y_mean - x_mean @ w)


def decay_param_groups(net: nn.Module, weight_decay: float):
    """Two torch parameter groups: weights decayed, biases and norm parameters not."""
    decay, no_decay, seen = [], [], set()
    for module in net.modules():
        for name, p in module.named_parameters(recurse=False):
            if not p.requires_grad or id(p) in seen:  # frozen, or shared and already placed
                continue
            seen.add(id(p))
            if isinstance(module, NORM_TYPES) or name.endswith("bias"):
                no_decay.append(p)
            else:
                decay.append(p)
    return [{"params": decay, "weight_decay": weight_decay},
            {"params": no_decay, "weight_decay": 0.0}]


def select_lambda(X_train, y_train, X_val, y_val, lams):
    """Fit ridge for each lam; return (best lam, validation MSE per lam)."""
    errors = []
    for lam in lams:
        w, b = ridge_fit(X_train, y_train, lam)
        errors.append(float(np.mean((X_val @ w + b - y_val) ** 2)))
    errors = np.array(errors)
    return float(lams[int(np.argmin(errors))]), errors
