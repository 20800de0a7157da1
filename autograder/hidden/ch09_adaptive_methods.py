"""Hidden tests for Chapter 9: adaptive optimizers against torch.optim."""

from __future__ import annotations

import contextlib

import torch

from coursekit.checks import assert_same_trajectory, optimizer_trajectory

from .mistakes import MISTAKES

# float32 runs accumulate rounding (about 1e-7 per operation); sign-like updates
# (RMSprop early on) can amplify it, so they are kept to 20 steps of a
# nonlinear problem; 1e-4 relative still separates every named mistake.
F32 = dict(dtype=torch.float32, steps=20, rtol=1e-4, atol=1e-5)

# (label shown to the student, constructor kwargs, run options)
SCENARIOS = {
    "Adagrad": [
        ("default settings", {}, {}),
        ("non-default lr, lr_decay, initial_accumulator_value and eps",
         dict(lr=0.05, lr_decay=0.01, initial_accumulator_value=0.1, eps=1e-3), {}),
        ("weight_decay > 0", dict(lr=0.05, weight_decay=0.1), {}),
        ("two parameter groups with different settings", dict(lr=0.02),
         dict(groups=[{"params": [0, 1, 2, 3], "lr": 0.1, "lr_decay": 0.05}, {"params": [4, 5]}])),
        ("lr changed during training", dict(lr=0.05), dict(lr_changes={30: 0.2})),
        ("state_dict round trip", dict(lr=0.05, initial_accumulator_value=0.05), dict(roundtrip_at=25)),
        ("float32 parameters", dict(lr=0.05), dict(F32)),
    ],
    "RMSprop": [
        ("default settings", {}, {}),
        ("non-default lr, alpha and eps", dict(lr=0.003, alpha=0.8, eps=1e-3), {}),
        ("weight_decay > 0", dict(lr=0.003, weight_decay=0.2), {}),
        ("two parameter groups with different settings", dict(lr=0.002),
         dict(groups=[{"params": [0, 1, 2, 3], "alpha": 0.5}, {"params": [4, 5], "lr": 0.01}])),
        ("lr changed during training", dict(lr=0.003), dict(lr_changes={30: 0.1})),
        ("state_dict round trip", dict(lr=0.003, alpha=0.9), dict(roundtrip_at=25)),
        ("float32 parameters", dict(lr=0.003), dict(F32)),
    ],
    "Adadelta": [
        ("default settings", {}, {}),
        ("non-default lr, rho and eps", dict(lr=0.5, rho=0.7, eps=1e-4), {}),
        ("weight_decay > 0", dict(weight_decay=0.1), {}),
        ("two parameter groups with different settings", dict(lr=0.8),
         dict(groups=[{"params": [0, 1, 2, 3], "rho": 0.5}, {"params": [4, 5], "lr": 2.0}])),
        ("lr changed during training", {}, dict(lr_changes={30: 0.3})),
        ("state_dict round trip", dict(rho=0.8), dict(roundtrip_at=25)),
        ("float32 parameters", {}, dict(F32)),
    ],
    "Adam": [
        ("default settings", {}, {}),
        ("non-default lr, betas and eps", dict(lr=0.02, betas=(0.7, 0.95), eps=1e-3), {}),
        ("weight_decay > 0 (an L2 term added to the gradient)", dict(lr=0.01, weight_decay=0.1), {}),
        ("two parameter groups with different settings", dict(lr=0.01),
         dict(groups=[{"params": [0, 1, 2, 3], "betas": (0.5, 0.9)}, {"params": [4, 5], "lr": 0.03}])),
        ("lr changed during training", dict(lr=0.01), dict(lr_changes={30: 0.1})),
        ("state_dict round trip", dict(lr=0.01, betas=(0.8, 0.9)), dict(roundtrip_at=25)),
        ("float32 parameters", dict(lr=0.01), dict(F32)),
    ],
    "AdamW": [
        ("default settings", {}, {}),
        ("non-default lr, betas, eps and weight_decay",
         dict(lr=0.02, betas=(0.7, 0.95), eps=1e-3, weight_decay=0.05), {}),
        ("large weight_decay", dict(lr=0.01, weight_decay=0.5), {}),
        ("two parameter groups with different settings", dict(lr=0.01, weight_decay=0.1),
         dict(groups=[{"params": [0, 1, 2, 3], "weight_decay": 0.0}, {"params": [4, 5], "lr": 0.03}])),
        ("lr changed during training", dict(lr=0.01, weight_decay=0.2), dict(lr_changes={30: 0.1})),
        ("state_dict round trip", dict(lr=0.01, weight_decay=0.1), dict(roundtrip_at=25)),
        ("float32 parameters", dict(lr=0.01, weight_decay=0.1), dict(F32)),
    ],
}
STEPS = 60


@contextlib.contextmanager
def _torch_optimizers_disabled(name: str):
    """While the student's class runs, constructing torch.optim.<name> raises."""
    cls = getattr(torch.optim, name)
    original = cls.__init__

    def trap(self, *args, **kwargs):
        raise AssertionError(f"your {name} must implement the update itself, "
                             f"not create a torch.optim.{name}")
    cls.__init__ = trap
    try:
        yield
    finally:
        cls.__init__ = original


def _diagnose(name, student_traj, kwargs, run) -> str | None:
    """The hint of the first known mistake whose trajectory the student's follows."""
    tol = dict(rtol=1e-5, atol=1e-8)
    for bug_cls, hint in MISTAKES[name].values():
        try:
            traj = optimizer_trajectory(bug_cls, kwargs, **run)
        except Exception:
            continue
        if traj.shape == student_traj.shape and torch.allclose(traj, student_traj, **tol):
            return hint
    return None


def check_optimizer(name: str, student_cls) -> None:
    torch_cls = getattr(torch.optim, name)
    if isinstance(student_cls, type) and issubclass(student_cls, torch_cls):
        raise AssertionError(f"{name} must subclass torch.optim.Optimizer directly and implement "
                             f"step() itself, not inherit from torch.optim.{name}")
    for label, kwargs, run in SCENARIOS[name]:
        run = {"steps": STEPS, **run}
        tol = {k: run.pop(k) for k in ("rtol", "atol") if k in run}
        want = optimizer_trajectory(torch_cls, kwargs, **run)
        try:
            with _torch_optimizers_disabled(name):
                got = optimizer_trajectory(student_cls, kwargs, **run)
        except AssertionError:
            raise
        except NotImplementedError:
            raise AssertionError(f"{name} is not implemented yet") from None
        except Exception as exc:
            raise AssertionError(f"{name} ({label}): your optimizer raised "
                                 f"{type(exc).__name__}: {exc}") from None
        try:
            assert_same_trajectory(got, want, name, label, **tol)
        except AssertionError as exc:
            hint = _diagnose(name, got, kwargs, run)
            raise AssertionError(f"{exc}. Likely cause: {hint}." if hint else str(exc)) from None
