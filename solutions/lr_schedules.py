"""Reference solutions for Chapter 10: learning-rate schedules.

Oracles (tests/test_solutions_lr_schedules.py): torch.optim.lr_scheduler.StepLR, CosineAnnealingLR and LinearLR
step for step (several parameter groups, state_dict round trips), SequentialLR of LinearLR and CosineAnnealingLR
for ``WarmupCosineLR``, and a loop written out for ``fit``.

Each scheduler computes the closed form of its schedule from ``self.base_lrs`` and ``self.last_epoch`` in
``get_lr()``; torch's base class ``LRScheduler`` does the rest (the initial step, ``step()``, ``get_last_lr()``,
``state_dict()``).
"""

from __future__ import annotations

import math

import torch.nn.functional as F
from torch.optim.lr_scheduler import LRScheduler


class StepLR(LRScheduler):
    """lr = base_lr * gamma ** (last_epoch // step_size), per parameter group."""

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [base_lr * self.gamma ** (self.last_epoch // self.step_size) for base_lr in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * last_epoch / T_max)) / 2, per parameter group."""

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        c = (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
        return [self.eta_min + (base_lr - self.eta_min) * c for base_lr in self.base_lrs]


class LinearLR(LRScheduler):
    """lr = base_lr * (start_factor + (end_factor - start_factor) * min(last_epoch, total_iters) / total_iters)."""

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5, last_epoch=-1):
        if not 0 < start_factor <= 1:
            raise ValueError("start_factor must be in (0, 1]")
        if not 0 <= end_factor <= 1:
            raise ValueError("end_factor must be in [0, 1]")
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        frac = min(self.last_epoch, self.total_iters) / self.total_iters
        factor = self.start_factor + (self.end_factor - self.start_factor) * frac
        return [base_lr * factor for base_lr in self.base_lrs]


class WarmupCosineLR(LRScheduler):
    """Linear warmup for ``warmup_iters`` steps from ``start_factor * base_lr``, then a cosine from base_lr down to
    eta_min over ``T_max`` steps: SequentialLR([LinearLR(opt, start_factor, 1.0, warmup_iters),
    CosineAnnealingLR(opt, T_max, eta_min)], milestones=[warmup_iters])."""

    def __init__(self, optimizer, warmup_iters, T_max, start_factor=1.0 / 3, eta_min=0.0, last_epoch=-1):
        self.warmup_iters = warmup_iters
        self.T_max = T_max
        self.start_factor = start_factor
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        t, w = self.last_epoch, self.warmup_iters
        if t < w:
            factor = self.start_factor + (1 - self.start_factor) * t / w
            return [base_lr * factor for base_lr in self.base_lrs]
        c = (1 + math.cos(math.pi * (t - w) / self.T_max)) / 2
        return [self.eta_min + (base_lr - self.eta_min) * c for base_lr in self.base_lrs]


def fit(net, optimizer, scheduler, batches, num_epochs, interval="epoch"):
    """Train ``net`` for ``num_epochs`` passes over ``batches`` (a list of (X_batch, y_batch) pairs).

    Per batch: zero_grad, mean cross-entropy, backward, ``optimizer.step()``; then ``scheduler.step()`` after every
    optimizer step (``interval="step"``) or once at the end of each epoch (``interval="epoch"``). Returns the list of
    each epoch's mean batch loss (floats).
    """
    if interval not in ("epoch", "step"):
        raise ValueError("interval must be 'epoch' or 'step'")
    net.train()
    history = []
    for _ in range(num_epochs):
        losses = []
        for X_batch, y_batch in batches:
            optimizer.zero_grad()
            loss = F.cross_entropy(net(X_batch), y_batch)
            loss.backward()
            optimizer.step()
            if interval == "step":
                scheduler.step()
            losses.append(loss.item())
        if interval == "epoch":
            scheduler.step()
        history.append(sum(losses) / len(losses))
    return history
