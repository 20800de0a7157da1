"""Reference answers for Chapter 5 (early stopping and data augmentation).

``EarlyStopping`` follows the semantics of Keras' ``keras.callbacks.EarlyStopping``
(keras/src/callbacks/early_stopping.py) for the three settings it shares with it:

* ``min_delta`` is used as its absolute value; in mode ``"min"`` a value improves on ``best`` iff
  ``value + min_delta < best`` (strictly: a tie is no improvement), in mode ``"max"`` iff
  ``value - min_delta > best`` (the same as ``value < best - min_delta`` up to rounding; the hidden tests
  never put two values exactly min_delta apart); ``best`` starts at +inf (``"min"``) or -inf (``"max"``), so a NaN is
  never an improvement;
* every ``step`` adds one to ``wait``; an improvement resets it to 0; training stops when
  ``wait >= patience`` after a step without improvement (``patience=0`` stops at the first one);
* the state kept for ``restore`` is a deep copy of ``net.state_dict()`` (buffers included), taken at
  each improvement.

The augmentation functions draw from a ``numpy.random.Generator`` in a fixed order, so that a result
can be compared exactly: ``random_shift`` draws ``rng.integers(-max_shift, max_shift, size=(n, 2),
endpoint=True)``; ``mixup`` draws ``lam = rng.beta(alpha, alpha)`` (no draw when ``alpha == 0``:
``lam = 1``) and then ``rng.permutation(n)``, as in Zhang et al. (2018)'s reference code.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import torch
from torch import nn


class EarlyStopping:
    """Stop when a monitored value has not improved for ``patience`` steps; keep the best state."""

    def __init__(self, patience: int = 0, min_delta: float = 0.0, mode: str = "min"):
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        self.patience = patience
        self.min_delta = abs(min_delta)
        self.mode = mode
        self.best = math.inf if mode == "min" else -math.inf
        self.best_epoch = None
        self.wait = 0
        self.epoch = -1
        self.best_state = None

    def is_improvement(self, value: float) -> bool:
        # Keras' arithmetic (monitor_value - min_delta compared with best, min_delta negated in mode "min"),
        # so that values exactly min_delta apart round as they do in Keras.
        if self.mode == "min":
            return value + self.min_delta < self.best
        return value - self.min_delta > self.best

    def step(self, value: float, net: nn.Module) -> bool:
        value = float(value)
        self.epoch += 1
        self.wait += 1
        if self.is_improvement(value):
            self.best, self.best_epoch, self.wait = value, self.epoch, 0
            self.best_state = copy.deepcopy(net.state_dict())
            return False
        return self.wait >= self.patience

    def restore(self, net: nn.Module) -> None:
        if self.best_state is not None:
            net.load_state_dict(self.best_state)


def train_with_early_stopping(net, data, stopper, lr=0.1, num_epochs=100, augment=None):
    """Full-batch gradient descent with ``torch.optim.SGD(net.parameters(), lr=lr)`` on the mean
    cross-entropy; early stopping on the validation loss; the test loss measured once, after restoring.

    Each epoch: ``net.train()``; ``X, y = augment(X_train, y_train)`` if ``augment`` is given (training
    data only); one forward pass, backward and ``opt.step()``; then ``net.eval()`` and the validation
    loss under ``torch.no_grad()``; ``stopper.step(val_loss, net)`` and stop when it says so. Then
    ``stopper.restore(net)``, ``net.eval()`` and the test loss.

    Returns ``(history, test_loss)``; ``history`` has lists ``"train_loss"`` (the loss of each epoch's
    forward pass, before its step) and ``"val_loss"``.
    """
    opt = torch.optim.SGD(net.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    history = {"train_loss": [], "val_loss": []}
    for _ in range(num_epochs):
        net.train()
        X, y = data["X_train"], data["y_train"]
        if augment is not None:
            X, y = augment(X, y)
        opt.zero_grad()
        loss = loss_fn(net(X), y)
        loss.backward()
        opt.step()
        net.eval()
        with torch.no_grad():
            val_loss = loss_fn(net(data["X_val"]), data["y_val"]).item()
        history["train_loss"].append(loss.item())
        history["val_loss"].append(val_loss)
        if stopper.step(val_loss, net):
            break
    stopper.restore(net)
    net.eval()
    with torch.no_grad():
        test_loss = loss_fn(net(data["X_test"]), data["y_test"]).item()
    return history, test_loss


def shift_images(images, shifts):
    """Shift each 8x8 image by whole pixels, filling with zeros: pixel (r, c) of image i moves to
    (r + shifts[i, 0], c + shifts[i, 1]); pixels moved out of the frame are lost."""
    images = np.asarray(images, dtype=float)
    out = np.zeros_like(images)
    for i, (dr, dc) in enumerate(np.asarray(shifts, dtype=int)):
        if abs(dr) >= 8 or abs(dc) >= 8:
            continue
        src_r, dst_r = slice(max(-dr, 0), 8 - max(dr, 0)), slice(max(dr, 0), 8 - max(-dr, 0))
        src_c, dst_c = slice(max(-dc, 0), 8 - max(dc, 0)), slice(max(dc, 0), 8 - max(-dc, 0))
        out[i, dst_r, dst_c] = images[i, src_r, src_c]
    return out


def random_shift(X, y, max_shift, rng):
    """Shift every digit image of ``X`` ((n, 64) or (n, 8, 8)) by a random whole number of pixels in
    each direction, from -max_shift to max_shift, filling with zeros; the labels are unchanged."""
    X = np.asarray(X)
    n = X.shape[0]
    shifts = rng.integers(-max_shift, max_shift, size=(n, 2), endpoint=True)
    out = shift_images(X.reshape(n, 8, 8), shifts)
    return out.reshape(X.shape).astype(X.dtype, copy=False), np.asarray(y).copy()


def mixup(X, y, num_classes, alpha, rng):
    """mixup (Zhang et al. 2018): one ``lam ~ Beta(alpha, alpha)`` for the batch, one permutation for
    inputs and one-hot targets. Returns ``(X_mix, Y_mix)``."""
    X = np.asarray(X, dtype=float)
    y = np.asarray(y).astype(int)
    lam = rng.beta(alpha, alpha) if alpha > 0 else 1.0
    perm = rng.permutation(len(X))
    Y = np.eye(num_classes)[y]
    return lam * X + (1 - lam) * X[perm], lam * Y + (1 - lam) * Y[perm]
