"""Run an optimizer class on a small fixed problem and compare it with torch.optim.

The problem is a seeded three-layer tanh network on random data, so the
gradients change from step to step and every coordinate of the state matters.
The same machinery serves the visible tests (settings shown to the student)
and the hidden ones (more settings, parameter groups, a learning-rate change
and a ``state_dict`` round trip).
"""

from __future__ import annotations

import copy

import torch


def _make_params(seed: int, dtype: torch.dtype):
    g = torch.Generator().manual_seed(seed)
    # Two hidden layers, so two biases share a shape: state mixed up between
    # parameters of equal shape shows, instead of hiding behind a shape error.
    shapes = [(5, 8), (8,), (8, 8), (8,), (8, 1), (1,)]
    params = [(0.5 * torch.randn(s, generator=g, dtype=dtype)).requires_grad_() for s in shapes]
    X = torch.randn(32, 5, generator=g, dtype=dtype)
    y = torch.randn(32, 1, generator=g, dtype=dtype)
    return params, X, y


def _loss(params, X, y):
    W1, b1, W2, b2, W3, b3 = params
    hidden = torch.tanh(torch.tanh(X @ W1 + b1) @ W2 + b2)
    return ((hidden @ W3 + b3 - y) ** 2).mean()


def _param_spec(params, groups):
    if groups is None:
        return params
    return [{**{k: v for k, v in g.items() if k != "params"},
             "params": [params[i] for i in g["params"]]} for g in groups]


def optimizer_trajectory(opt_cls, kwargs=None, *, steps: int = 50, seed: int = 0,
                         dtype: torch.dtype = torch.float64, groups=None,
                         lr_changes=None, roundtrip_at=None, none_grads=None, zero_grads=None) -> torch.Tensor:
    """All parameters, flattened, after each step: a tensor (steps, n_params).

    ``groups``: optional list of dicts whose ``"params"`` are indices into the
    six parameters (W1, b1, W2, b2, W3, b3); other keys are per-group options.
    ``lr_changes``: ``{step: factor}``; before that step every group's lr is
    multiplied by ``factor``.
    ``roundtrip_at``: after this step, save ``state_dict()``, build a fresh
    optimizer on copies of the parameters, ``load_state_dict`` and go on.
    ``none_grads`` / ``zero_grads``: ``{step: [parameter indices]}``; at that step
    those parameters get no gradient (``p.grad is None``: torch skips them) or an
    exact zero gradient (a real step: the state decays and the counter advances).
    """
    kwargs = dict(kwargs or {})
    lr_changes, none_grads, zero_grads = ({int(k): v for k, v in (m or {}).items()}
                                          for m in (lr_changes, none_grads, zero_grads))
    params, X, y = _make_params(seed, dtype)
    opt = opt_cls(_param_spec(params, groups), **kwargs)
    rows = []
    for step in range(1, steps + 1):
        if lr_changes and step in lr_changes:
            for group in opt.param_groups:
                group["lr"] = group["lr"] * lr_changes[step]
        opt.zero_grad()
        _loss(params, X, y).backward()
        for i in none_grads.get(step, ()):
            params[i].grad = None
        for i in zero_grads.get(step, ()):
            params[i].grad.zero_()
        opt.step()
        rows.append(torch.cat([p.detach().reshape(-1) for p in params]).clone())
        if roundtrip_at is not None and step == roundtrip_at:
            saved = copy.deepcopy(opt.state_dict())
            params = [p.detach().clone().requires_grad_() for p in params]
            opt = opt_cls(_param_spec(params, groups), **kwargs)
            opt.load_state_dict(saved)
    return torch.stack(rows)


def compare_with_torch(student_cls, torch_cls, kwargs=None, *, label: str | None = None,
                       rtol: float = 1e-7, atol: float = 1e-10, **run) -> float:
    """Raise AssertionError unless ``student_cls`` follows ``torch_cls`` step for step.

    ``run`` is passed to :func:`optimizer_trajectory` (steps, groups, ...).
    Returns the largest absolute deviation. The message names the first step
    that differs and the scenario ``label`` (default: the keyword arguments).
    """
    name = torch_cls.__name__
    label = label or ", ".join(f"{k}={v}" for k, v in (kwargs or {}).items()) or "default settings"
    if not (isinstance(student_cls, type) and issubclass(student_cls, torch.optim.Optimizer)):
        raise AssertionError(f"{name} must be a class that subclasses torch.optim.Optimizer")
    want = optimizer_trajectory(torch_cls, kwargs, **run)
    try:
        got = optimizer_trajectory(student_cls, kwargs, **run)
    except NotImplementedError:
        raise AssertionError(f"{name} is not implemented yet") from None
    try:
        return assert_same_trajectory(got, want, name, label, rtol=rtol, atol=atol)
    except AssertionError as exc:
        from .hints import diagnose

        hint = diagnose(name, student_cls)
        raise AssertionError(f"{exc}. Likely cause: {hint}." if hint else str(exc)) from None


def assert_same_trajectory(got, want, name: str, label: str,
                           rtol: float = 1e-7, atol: float = 1e-10) -> float:
    """Raise AssertionError naming the first step where ``got`` leaves ``want``."""
    if got.shape != want.shape or not torch.isfinite(got).all():
        raise AssertionError(f"{name} ({label}): parameters became NaN/inf or changed shape")
    bad = ~torch.isclose(got, want, rtol=rtol, atol=atol)
    if bad.any():
        first = int(bad.any(dim=1).nonzero()[0]) + 1
        dev = float((got - want).abs().max())
        raise AssertionError(
            f"{name} ({label}): your parameters differ from torch.optim.{name} "
            f"from step {first} on (largest absolute difference {dev:.3g})")
    return float((got - want).abs().max())
