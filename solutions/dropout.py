"""Reference answers for Chapter 4 (dropout).

Conventions (PyTorch's): ``p`` is the probability of *dropping* a unit. Dropout is *inverted*: in training
every kept unit is multiplied by ``1 / (1 - p)``, so that the expected output equals the input, and in
evaluation the layer is the identity (Srivastava et al. 2014 use the equivalent weight-scaling rule).

How the masks are drawn, so that a generator gives reproducible, checkable values:

* numpy: ``mask = rng.random(x.shape) >= p`` with ``rng`` a ``np.random.Generator``;
* torch: ``mask = torch.rand(x.shape, dtype=x.dtype, device=x.device, generator=generator) >= p``.

A unit is kept where its uniform draw is at least ``p``: with probability ``1 - p``.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


def dropout_forward(x, p: float, rng: np.random.Generator):
    """Inverted dropout of a numpy array in training: ``(out, mask)``.

    ``mask`` is the boolean array of kept units, ``rng.random(x.shape) >= p``; ``out`` is
    ``x * mask / (1 - p)`` with ``x``'s shape and dtype, and zeros when ``p == 1`` (nothing is kept).
    """
    x = np.asarray(x)
    mask = rng.random(x.shape) >= p
    if p == 1:
        return np.zeros_like(x), mask
    return (x * mask / (1 - p)).astype(x.dtype, copy=False), mask


def dropout_backward(grad_out, mask, p: float):
    """The gradient with respect to the input of ``dropout_forward``, given the mask it drew."""
    grad_out = np.asarray(grad_out)
    if p == 1:
        return np.zeros_like(grad_out)
    return (grad_out * np.asarray(mask, dtype=bool) / (1 - p)).astype(grad_out.dtype, copy=False)


class Dropout(nn.Module):
    """``torch.nn.Dropout`` with an optional ``generator`` for the masks."""

    def __init__(self, p: float = 0.5, generator: torch.Generator | None = None):
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.generator = generator

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        if self.p == 1:
            return x * 0.0
        mask = torch.rand(x.shape, dtype=x.dtype, device=x.device, generator=self.generator) >= self.p
        return x * mask / (1 - self.p)

    def extra_repr(self) -> str:
        return f"p={self.p}"


def mc_dropout_predict(net: nn.Module, x, num_samples: int = 100):
    """Monte-Carlo dropout: ``(mean, std)`` of ``num_samples`` calls ``net(x)`` with dropout active.

    Only the ``nn.Dropout`` modules are switched to training mode; every other module is in evaluation mode
    while sampling (BatchNorm uses, and does not update, its running statistics). Every module's mode is
    restored afterwards. No gradients are tracked. ``std`` uses torch's default, the unbiased estimate.
    """
    modes = {m: m.training for m in net.modules()}
    try:
        net.eval()
        for m in net.modules():
            if isinstance(m, nn.Dropout):
                m.train()
        with torch.no_grad():
            samples = torch.stack([net(x) for _ in range(num_samples)])
    finally:
        for m, mode in modes.items():
            m.training = mode
    return samples.mean(dim=0), samples.std(dim=0)
