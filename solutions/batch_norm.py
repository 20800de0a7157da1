"""Reference solutions for Chapter 6 (batch normalization), tested against torch in
tests/test_solutions_batch_norm.py.

The conventions are torch's (``torch.nn.BatchNorm1d``):

* the statistics are per channel, over the batch axis 0 of an (N, C) input and over the axes 0 and 2 of an
  (N, C, L) input;
* normalization uses the *biased* batch variance (divided by m, the number of values per channel), the running
  variance is updated with the *unbiased* one (divided by m - 1);
* ``momentum`` weights the new batch: ``running = (1 - momentum) * running + momentum * batch``;
  ``momentum=None`` gives the cumulative average ``running += (batch - running) / num_batches_tracked``;
* eps is added to the variance inside the square root.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


def _axes(ndim: int) -> tuple[int, ...]:
    if ndim == 2:
        return (0,)
    if ndim == 3:
        return (0, 2)
    raise ValueError(f"expected 2D or 3D input (got {ndim}D input)")


def _per_channel(v: np.ndarray, ndim: int) -> np.ndarray:
    """A (C,) array shaped to broadcast against an (N, C) or (N, C, L) input."""
    return v if ndim == 2 else v[:, None]


def batch_norm_forward(x, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5):
    """Batch normalization of an (N, C) or (N, C, L) array, as torch.nn.functional.batch_norm.

    Returns ``(out, new_running_mean, new_running_var)``. In training mode the batch statistics normalize and
    the running statistics are updated (unbiased variance); in eval mode the running statistics normalize and
    are returned unchanged. The arrays passed in are not modified.
    """
    x = np.asarray(x, dtype=float)
    axes = _axes(x.ndim)
    running_mean = np.array(running_mean, dtype=float)
    running_var = np.array(running_var, dtype=float)
    if training:
        m = x.size // x.shape[1]
        if m < 2:
            raise ValueError("Expected more than 1 value per channel when training")
        mean = x.mean(axis=axes)
        var = x.var(axis=axes)
        running_mean = (1 - momentum) * running_mean + momentum * mean
        running_var = (1 - momentum) * running_var + momentum * var * m / (m - 1)
    else:
        mean, var = running_mean, running_var
    x_hat = (x - _per_channel(mean, x.ndim)) / np.sqrt(_per_channel(var, x.ndim) + eps)
    out = _per_channel(np.asarray(gamma, float), x.ndim) * x_hat + _per_channel(np.asarray(beta, float), x.ndim)
    return out, running_mean, running_var


def batch_norm_backward(grad_out, x, gamma, eps=1e-5):
    """Gradients of training-mode batch normalization of an (N, C) array: ``(grad_x, grad_gamma, grad_beta)``.

    The compact form: with x_hat the normalized input and sigma = sqrt(var + eps),
    ``grad_x = gamma / (N sigma) * (N g - sum(g) - x_hat * sum(g * x_hat))``, sums over the batch.
    """
    grad_out, x = np.asarray(grad_out, float), np.asarray(x, float)
    n = x.shape[0]
    mean, var = x.mean(axis=0), x.var(axis=0)
    sigma = np.sqrt(var + eps)
    x_hat = (x - mean) / sigma
    grad_beta = grad_out.sum(axis=0)
    grad_gamma = (grad_out * x_hat).sum(axis=0)
    grad_x = np.asarray(gamma, float) / (n * sigma) * (n * grad_out - grad_beta - x_hat * grad_gamma)
    return grad_x, grad_gamma, grad_beta


class BatchNorm1d(nn.Module):
    """torch.nn.BatchNorm1d, written with torch operations (autograd gives the backward pass)."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True):
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = nn.Parameter(torch.ones(num_features))
            self.bias = nn.Parameter(torch.zeros(num_features))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", torch.zeros(num_features))
            self.register_buffer("running_var", torch.ones(num_features))
            self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def forward(self, x):
        if x.dim() not in (2, 3):
            raise ValueError(f"expected 2D or 3D input (got {x.dim()}D input)")
        axes = (0,) if x.dim() == 2 else (0, 2)
        shape = (1, -1) if x.dim() == 2 else (1, -1, 1)
        use_batch = self.training or not self.track_running_stats
        if use_batch:
            m = x.numel() // x.shape[1]
            if m < 2:
                raise ValueError("Expected more than 1 value per channel when training")
            mean = x.mean(dim=axes)
            var = x.var(dim=axes, unbiased=False)
            if self.training and self.track_running_stats:
                with torch.no_grad():
                    self.num_batches_tracked += 1
                    factor = 1.0 / float(self.num_batches_tracked) if self.momentum is None else self.momentum
                    self.running_mean.mul_(1 - factor).add_(factor * mean.detach())
                    self.running_var.mul_(1 - factor).add_(factor * var.detach() * m / (m - 1))
        else:
            mean, var = self.running_mean, self.running_var
        out = (x - mean.reshape(shape)) / torch.sqrt(var.reshape(shape) + self.eps)
        if self.affine:
            out = out * self.weight.reshape(shape) + self.bias.reshape(shape)
        return out


@torch.no_grad()
def update_bn(batches, net):
    """torch.optim.swa_utils.update_bn: recompute every BatchNorm layer's running statistics in one pass.

    Each batch is a tensor, or a list/tuple whose first item is the input. The running statistics become the
    cumulative average over the batches (momentum=None); momenta and the network's mode are restored.
    """
    momenta = {}
    for module in net.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = net.training
    net.train()
    for module in momenta:
        module.momentum = None
    for batch in batches:
        if isinstance(batch, (list, tuple)):
            batch = batch[0]
        net(batch)
    for module, momentum in momenta.items():
        module.momentum = momentum
    net.train(was_training)
