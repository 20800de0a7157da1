"""Two-dimensional test functions for watching optimizers move.

Each function takes a tensor of shape (..., 2) and returns a tensor of shape
(...), so it works both for a single point (autograd) and for a grid (contours).
"""

from __future__ import annotations

import math

import torch


def rosenbrock(xy: torch.Tensor, a: float = 1.0, b: float = 100.0) -> torch.Tensor:
    """Rosenbrock's banana valley; minimum 0 at (a, a**2)."""
    x, y = xy[..., 0], xy[..., 1]
    return (a - x) ** 2 + b * (y - x ** 2) ** 2


def ill_conditioned_quadratic(xy: torch.Tensor, kappa: float = 25.0) -> torch.Tensor:
    """0.5 * (x**2 + kappa * y**2): condition number ``kappa``, minimum 0 at the origin."""
    x, y = xy[..., 0], xy[..., 1]
    return 0.5 * (x ** 2 + kappa * y ** 2)


def rotated_quadratic(xy: torch.Tensor, kappa: float = 25.0, angle: float = 45.0) -> torch.Tensor:
    """:func:`ill_conditioned_quadratic` turned by ``angle`` degrees about the origin.

    The curvatures are still 1 and ``kappa``, but along the directions
    (cos a, sin a) and (-sin a, cos a) instead of along the axes: the value at
    ``R @ p`` equals the unrotated value at ``p``, where ``R`` rotates by ``angle``.
    """
    a = math.radians(angle)
    c, s = math.cos(a), math.sin(a)
    x, y = xy[..., 0], xy[..., 1]
    return ill_conditioned_quadratic(torch.stack([c * x + s * y, -s * x + c * y], dim=-1), kappa)


def beale(xy: torch.Tensor) -> torch.Tensor:
    """Beale's function; minimum 0 at (3, 0.5), with flat plateaus and steep walls."""
    x, y = xy[..., 0], xy[..., 1]
    return ((1.5 - x + x * y) ** 2 + (2.25 - x + x * y ** 2) ** 2
            + (2.625 - x + x * y ** 3) ** 2)


def trajectory(fn, optimizer_factory, start, num_steps: int = 200) -> torch.Tensor:
    """Run an optimizer on a 2-D function and return the visited points.

    ``optimizer_factory`` takes a list of parameters and returns a
    ``torch.optim.Optimizer`` (any class following that interface).
    Returns a tensor of shape (num_steps + 1, 2) in float64.
    """
    point = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = optimizer_factory([point])
    path = [point.detach().clone()]
    for _ in range(num_steps):
        opt.zero_grad()
        fn(point).backward()
        opt.step()
        path.append(point.detach().clone())
    return torch.stack(path)
