"""Reference solutions for Chapter 8: momentum and Nesterov.

Oracles (tests/test_solutions_momentum.py): torch.optim.SGD for ``SGD`` (momentum, dampening, nesterov,
weight_decay, maximize, parameter groups, lr changes, None gradients, state_dict round trips, a state_dict
saved by torch), a heavy-ball run on a quadratic and a grid search for ``heavy_ball_params``, the powers of the
heavy ball's iteration matrix for ``heavy_ball_rate``, and an EMA-momentum loop for ``ema_to_torch``.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.optim import Optimizer


class SGD(Optimizer):
    """SGD with momentum, dampening, Nesterov momentum, weight decay and maximize: torch.optim.SGD's update."""

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            mu, damp, wd = group["momentum"], group["dampening"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                d_p = -p.grad if group["maximize"] else p.grad
                if wd != 0:
                    d_p = d_p.add(p, alpha=wd)
                if mu != 0:
                    state = self.state[p]
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = state["momentum_buffer"] = d_p.clone().detach()
                    else:
                        buf.mul_(mu).add_(d_p, alpha=1 - damp)
                    d_p = d_p.add(buf, alpha=mu) if group["nesterov"] else buf
                p.add_(d_p, alpha=-group["lr"])
        return loss


def heavy_ball_params(mu, L):
    """The heavy ball's optimal constant (lr, beta) on a quadratic whose Hessian has eigenvalues in [mu, L], and
    the rate they give: lr = 4/(sqrt(L) + sqrt(mu))^2, beta = ((sqrt(k) - 1)/(sqrt(k) + 1))^2,
    rate = (sqrt(k) - 1)/(sqrt(k) + 1) = sqrt(beta), with k = L/mu (and mu = 0: beta = rate = 1)."""
    mu, L = float(mu), float(L)
    sm, sL = np.sqrt(mu), np.sqrt(L)
    rate = (sL - sm) / (sL + sm)
    return 4.0 / (sL + sm) ** 2, rate ** 2, rate


def heavy_ball_rate(lr, beta, eigenvalues):
    """The asymptotic contraction per step of the heavy ball w <- w - lr * grad + beta * (w - w_prev) on a
    quadratic with these Hessian eigenvalues: the largest spectral radius of [[1 + beta - lr*lam, -beta], [1, 0]]."""
    rates = []
    for lam in np.atleast_1d(np.asarray(eigenvalues, dtype=float)):
        M = np.array([[1.0 + beta - lr * lam, -beta], [1.0, 0.0]])
        rates.append(np.max(np.abs(np.linalg.eigvals(M))))
    return float(max(rates))


def ema_to_torch(lr, beta):
    """torch.optim.SGD keyword arguments that reproduce the EMA form m <- beta*m + (1 - beta)*g (m starts at 0),
    p <- p - lr*m, step for step at a constant lr: torch's buffer is m/(1 - beta), so torch's lr is lr*(1 - beta)
    with momentum beta and no dampening."""
    return {"lr": lr * (1.0 - beta), "momentum": beta, "dampening": 0.0}
