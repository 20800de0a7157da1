"""Reference solutions for Chapter 7: gradient descent, SGD and mini-batch SGD.

Oracles (tests/test_solutions_sgd.py): torch.utils.data.DataLoader's batching rules for ``minibatches``,
numpy's eigenvalues and a gradient-descent run for ``quadratic_step_sizes``, torch.optim.SGD (momentum 0)
for ``SGD``, and a hand-written loop with torch's mean-reduced cross-entropy for ``train_epoch``.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch.optim import Optimizer


def minibatches(X, y, batch_size, shuffle=True, drop_last=False, rng=None):
    """One epoch of mini-batches ``(X_batch, y_batch)``, with torch DataLoader's rules.

    With ``shuffle=True`` the order is ``rng.permutation(n)`` (one call per epoch; ``rng=None`` makes a fresh
    ``np.random.default_rng()``); X and y are indexed by the same order. Batches take consecutive slices of that
    order; the last, smaller batch is kept unless ``drop_last``. X and y are numpy arrays or torch tensors and
    are never modified.
    """
    n = len(X)
    if shuffle:
        if rng is None:
            rng = np.random.default_rng()
        order = rng.permutation(n)
    else:
        order = np.arange(n)
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        idx = order[start:start + batch_size]
        yield X[idx], y[idx]


def quadratic_step_sizes(A):
    """For f(w) = 1/2 w^T A w - b^T w with A symmetric positive semi-definite:
    (the stability limit 2/L, the optimal constant step 2/(mu + L), its rate (L - mu)/(L + mu))."""
    eig = np.linalg.eigvalsh(np.asarray(A, dtype=float))
    mu, L = float(eig[0]), float(eig[-1])
    return 2.0 / L, 2.0 / (mu + L), (L - mu) / (L + mu)


class SGD(Optimizer):
    """Plain (mini-batch) SGD with torch.optim.SGD's conventions and momentum 0."""

    def __init__(self, params, lr=1e-3, weight_decay=0, *, maximize=False):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay, maximize=maximize))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = -p.grad if group["maximize"] else p.grad
                if group["weight_decay"] != 0:
                    grad = grad.add(p, alpha=group["weight_decay"])
                p.add_(grad, alpha=-group["lr"])
        return loss


def train_epoch(net, optimizer, batches):
    """One pass over ``batches`` (an iterable of (X_batch, y_batch) tensors): per batch, zero the gradients,
    the mean cross-entropy of the batch, backward, one optimizer step. Returns the mean of the per-example losses
    over the epoch (each batch weighted by its size, each loss measured before that batch's step) as a float."""
    net.train()
    total, count = 0.0, 0
    for Xb, yb in batches:
        optimizer.zero_grad()
        loss = F.cross_entropy(net(Xb), yb)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(yb)
        count += len(yb)
    return total / count
