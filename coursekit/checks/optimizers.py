"""Run an optimizer class on a small fixed problem and compare it with torch.optim.

The problem is a seeded three-layer tanh network on random data, so the
gradients change from step to step and every coordinate of the state matters.
The same machinery serves the visible tests (settings shown to the student)
and the hidden ones (more settings, parameter groups, a learning-rate change
and a ``state_dict`` round trip).
"""

from __future__ import annotations

import contextlib
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
                         lr_changes=None, roundtrip_at=None, none_grads=None, zero_grads=None,
                         group_changes=None, set_to_none: bool = True, closure: bool = False,
                         around_step=None, returned=None) -> torch.Tensor:
    """All parameters, flattened, after each step: a tensor (steps, n_params).

    ``groups``: optional list of dicts whose ``"params"`` are indices into the
    six parameters (W1, b1, W2, b2, W3, b3); other keys are per-group options.
    ``lr_changes``: ``{step: factor}``; before that step every group's lr is
    multiplied by ``factor``.
    ``group_changes``: ``{step: {key: value}}``; before that step every group's
    ``key`` is set to ``value`` (a momentum schedule, as OneCycleLR's, sets
    ``group["momentum"]``).
    ``roundtrip_at``: after this step, save ``state_dict()``, build a fresh
    optimizer on copies of the parameters, ``load_state_dict`` and go on.
    ``none_grads`` / ``zero_grads``: ``{step: [parameter indices]}``; at that step
    those parameters get no gradient (``p.grad is None``: torch skips them) or an
    exact zero gradient (a real step: the state decays and the counter advances).
    ``set_to_none=False``: gradients are zeroed in place between steps
    (``zero_grad(set_to_none=False)``), so a buffer that aliases ``p.grad`` changes.
    ``closure``: each step is ``opt.step(closure)``, the closure computing the
    loss and its gradients; ``returned`` (a list) then receives, per step,
    (what ``step`` returned, the loss the closure computed).
    ``around_step``: a context manager factory wrapped around every ``opt.step``.
    """
    kwargs = dict(kwargs or {})
    lr_changes, none_grads, zero_grads, group_changes = (
        {int(k): v for k, v in (m or {}).items()} for m in (lr_changes, none_grads, zero_grads, group_changes))
    params, X, y = _make_params(seed, dtype)
    opt = opt_cls(_param_spec(params, groups), **kwargs)
    rows = []
    for step in range(1, steps + 1):
        if lr_changes and step in lr_changes:
            for group in opt.param_groups:
                group["lr"] = group["lr"] * lr_changes[step]
        for key, value in group_changes.get(step, {}).items():
            for group in opt.param_groups:
                group[key] = value

        def grads(params=params):
            opt.zero_grad(set_to_none=set_to_none)
            loss = _loss(params, X, y)
            loss.backward()
            for i in none_grads.get(step, ()):
                params[i].grad = None
            for i in zero_grads.get(step, ()):
                params[i].grad.zero_()
            return loss

        with (around_step() if around_step else contextlib.nullcontext()):
            if closure:
                seen = []

                def closure_fn():
                    seen.append(grads())
                    return seen[-1]

                out = opt.step(closure_fn)
                if returned is not None:
                    returned.append((out, seen[0] if seen else None))
            else:
                grads()
                opt.step()
        rows.append(torch.cat([p.detach().reshape(-1) for p in params]).clone())
        if roundtrip_at is not None and step == roundtrip_at:
            saved = copy.deepcopy(opt.state_dict())
            params = [p.detach().clone().requires_grad_() for p in params]
            opt = opt_cls(_param_spec(params, groups), **kwargs)
            opt.load_state_dict(saved)
    return torch.stack(rows)


LOW_PRECISION = (torch.float32, torch.float16, torch.bfloat16)


def _rounds(t) -> bool:
    """Is ``t`` a low-precision float tensor holding values that are not whole numbers (a step counter kept as
    torch.tensor(0.0), as torch's own Adam does, loses nothing)?"""
    return (isinstance(t, torch.Tensor) and t.dtype in LOW_PRECISION and t.numel() > 0
            and bool((t != t.round()).any()))


class _LowPrecisionOps:
    """Records the low-precision floating dtypes (float32, float16, bfloat16) of the tensors with fractional
    values that operations produce inside ``with`` (on the first ``steps`` steps only: it slows them down):
    the evidence that a float64 computation went through float32 somewhere."""

    def __init__(self, steps=1):
        self.seen, self.left = set(), steps

    def __call__(self):
        if self.left <= 0:
            return contextlib.nullcontext()
        self.left -= 1
        from torch.utils._python_dispatch import TorchDispatchMode

        seen = self.seen

        class Mode(TorchDispatchMode):
            def __torch_dispatch__(self, func, types, args=(), kwargs=None):
                out = func(*args, **(kwargs or {}))
                for o in out if isinstance(out, (tuple, list)) else (out,):
                    if _rounds(o):
                        seen.add(str(o.dtype).replace("torch.", ""))
                return out
        return Mode()


def _dtype_name(t) -> str:
    return str(t.dtype).replace("torch.", "") if isinstance(t, torch.Tensor) else type(t).__name__


def trajectory_report(opt_cls, kwargs=None, run=None):
    """Driver for the grader: :func:`optimizer_trajectory` with the options ``run`` (``dtype`` as a name:
    "float32"), plus what the run shows about dtypes and ``step(closure)``.

    Returns {"params": the trajectory (float64), "param_dtypes": the dtypes of the parameters after the run,
    "state_dtypes": the low-precision dtypes of the optimizer's state tensors with fractional values,
    "low_precision": the low-precision dtypes that operations inside ``step()`` produced in a float64 run,
    "returned": (what step(closure) returned, the closure's loss) per step when ``run["closure"]``}.
    Observations only: it never computes an update."""
    if not (isinstance(opt_cls, type) and issubclass(opt_cls, torch.optim.Optimizer)):
        raise TypeError(f"{getattr(opt_cls, '__name__', opt_cls)} must be a class that subclasses "
                        "torch.optim.Optimizer")
    run = dict(run or {})
    run["dtype"] = getattr(torch, str(run.get("dtype", "float64")).replace("torch.", ""))
    watch = _LowPrecisionOps(steps=1) if run["dtype"] == torch.float64 else None
    returned, made = [], []

    def make(*args, **kw):  # the student's optimizer, remembered so that its state can be read after the run
        made.append(opt_cls(*args, **kw))
        return made[-1]
    try:
        traj = optimizer_trajectory(make, kwargs, around_step=watch, returned=returned, **run)
    except RuntimeError:
        # the driver's own loss fails when a step turned the parameters into another dtype than the data's:
        # report what the parameters became instead of the driver's error
        params = [p for g in made[-1].param_groups for p in g["params"]] if made else []
        if any(p.dtype != run["dtype"] for p in params):
            return {"params": None, "param_dtypes": sorted({_dtype_name(p) for p in params}),
                    "state_dtypes": [], "low_precision": []}
        raise
    opt = made[-1]
    params = [p for g in opt.param_groups for p in g["params"]]
    states = [v for st in opt.state.values() if isinstance(st, dict) for v in st.values()]
    out = {"params": traj.detach().double().numpy(),
           "param_dtypes": sorted({_dtype_name(p) for p in params}),
           "state_dtypes": sorted({_dtype_name(v) for v in states if _rounds(v)}),
           "low_precision": sorted(watch.seen) if watch else []}
    if run.get("closure"):
        out["returned"] = [(_scalar(r), _scalar(c)) for r, c in returned]
    return out


def _scalar(value):
    """A step's return value as the grader can read it: a float, None, or the name of its type."""
    if value is None or isinstance(value, (int, float)):
        return value
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return float(value.detach())
    return type(value).__name__


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
