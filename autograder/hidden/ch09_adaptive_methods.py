"""Hidden tests for Chapter 9: adaptive optimizers against torch.optim.

Each optimizer's contract (``CONTRACT``) is what the exercise's text promises: it replaces its torch.optim
namesake in any training loop. The sandbox runs the student's optimizer through a scenario per contract item
and returns the parameters after every step; they are compared here with torch.optim's (computed once per
grading run) and, on a mismatch, with the known mistakes of ``mistakes.py`` to name the likely cause. Every
scenario is judged and reported.
"""

from __future__ import annotations

import ast
import functools

import numpy as np
import torch

from coursekit.checks import assert_same_trajectory, optimizer_trajectory

from ..verdicts import Failure, Foreign, Mistake, Part, Scenario, returned
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
        ("lr changed during training", dict(lr=0.05), dict(lr_changes={10: 0.2})),
        ("state_dict round trip", dict(lr=0.05, initial_accumulator_value=0.05), dict(roundtrip_at=8)),
        ("float32 parameters", dict(lr=0.05), dict(F32)),
    ],
    "RMSprop": [
        ("default settings", {}, {}),
        ("non-default lr, alpha and eps", dict(lr=0.003, alpha=0.8, eps=1e-3), {}),
        ("weight_decay > 0", dict(lr=0.003, weight_decay=0.2), {}),
        ("two parameter groups with different settings", dict(lr=0.002),
         dict(groups=[{"params": [0, 1, 2, 3], "alpha": 0.5}, {"params": [4, 5], "lr": 0.01}])),
        ("lr changed during training", dict(lr=0.003), dict(lr_changes={10: 0.1})),
        ("state_dict round trip", dict(lr=0.003, alpha=0.9), dict(roundtrip_at=8)),
        ("float32 parameters", dict(lr=0.003), dict(F32)),
    ],
    "Adadelta": [
        ("default settings", {}, {}),
        ("non-default lr, rho and eps", dict(lr=0.5, rho=0.7, eps=1e-4), {}),
        ("weight_decay > 0", dict(weight_decay=0.1), {}),
        ("two parameter groups with different settings", dict(lr=0.8),
         dict(groups=[{"params": [0, 1, 2, 3], "rho": 0.5}, {"params": [4, 5], "lr": 2.0}])),
        ("lr changed during training", {}, dict(lr_changes={10: 0.3})),
        ("state_dict round trip", dict(rho=0.8), dict(roundtrip_at=8)),
        ("float32 parameters", {}, dict(F32)),
    ],
    "Adam": [
        ("default settings", {}, {}),
        ("non-default lr, betas and eps", dict(lr=0.02, betas=(0.7, 0.95), eps=1e-3), {}),
        ("weight_decay > 0 (an L2 term added to the gradient)", dict(lr=0.01, weight_decay=0.1), {}),
        ("two parameter groups with different settings", dict(lr=0.01),
         dict(groups=[{"params": [0, 1, 2, 3], "betas": (0.5, 0.9)}, {"params": [4, 5], "lr": 0.03}])),
        ("lr changed during training", dict(lr=0.01), dict(lr_changes={10: 0.1})),
        ("state_dict round trip", dict(lr=0.01, betas=(0.8, 0.9)), dict(roundtrip_at=8)),
        ("float32 parameters", dict(lr=0.01), dict(F32)),
    ],
    "AdamW": [
        ("default settings", {}, {}),
        ("non-default lr, betas, eps and weight_decay",
         dict(lr=0.02, betas=(0.7, 0.95), eps=1e-3, weight_decay=0.05), {}),
        ("large weight_decay", dict(lr=0.01, weight_decay=0.5), {}),
        ("two parameter groups with different settings", dict(lr=0.01, weight_decay=0.1),
         dict(groups=[{"params": [0, 1, 2, 3], "weight_decay": 0.0}, {"params": [4, 5], "lr": 0.03}])),
        ("lr changed during training", dict(lr=0.01, weight_decay=0.2), dict(lr_changes={10: 0.1})),
        ("state_dict round trip", dict(lr=0.01, weight_decay=0.1), dict(roundtrip_at=8)),
        ("float32 parameters", dict(lr=0.01, weight_decay=0.1), dict(F32)),
    ],
}
# Gradients a training loop can hand over (the same for every optimizer): parameters 1 and 4 (a bias and a weight)
# get no gradient at steps 3-7 (p.grad is None: torch skips them entirely, state and step counter included);
# parameters 0 and 3 get an exact zero gradient at steps 2-6 (a real step: the state decays, the counter advances,
# and Adam's moment still moves the parameter).
GRADIENT_SCENARIOS = [
    ("some gradients None for a few steps (p.grad is None: skip the parameter)", {},
     dict(none_grads={t: [1, 4] for t in range(3, 8)})),
    ("some gradients exactly zero for a few steps (still a step)", {}, dict(zero_grads={t: [0, 3] for t in range(2, 7)})),
]
CONTRACT_ITEMS = {
    "defaults": "torch's default hyperparameters",
    "hyperparameters": "every hyperparameter is read from the parameter group (non-default values)",
    "weight_decay": "weight_decay as torch applies it (an L2 term in the gradient; decoupled for AdamW)",
    "groups": "several parameter groups with different settings",
    "lr_change": "a change of group['lr'] during training takes effect at the next step",
    "state_dict": "state_dict() / load_state_dict() round trip into a fresh optimizer",
    "float32": "float32 parameters (and float64)",
    "none_grad": "a parameter whose grad is None is skipped: no update, no state change, its step count stays",
    "zero_grad": "an exact zero gradient is a real step: the state decays and the step count advances",
    "separate_state": "each parameter keeps its own state (parameters of equal shape included)",
}


def _covers(label: str) -> tuple[str, ...]:
    """The contract items a scenario exercises, from its label."""
    if label.startswith("the visible test"):
        return ("hyperparameters", "separate_state")
    if label.startswith("default settings"):
        return ("defaults", "separate_state")
    for start, item in [("non-default", "hyperparameters"), ("weight_decay", "weight_decay"),
                        ("large weight_decay", "weight_decay"), ("two parameter groups", "groups"),
                        ("lr changed", "lr_change"), ("state_dict", "state_dict"), ("float32", "float32"),
                        ("some gradients None", "none_grad"), ("some gradients exactly zero", "zero_grad")]:
        if label.startswith(start):
            return (item,)
    raise ValueError(f"scenario {label!r} covers no contract item")


STEPS = 20  # every named mistake shows within a few steps; 20 leave 10 steps after the lr change and 12 after the round trip
NAMES = ("Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW")
# The visible test's settings too, so that passing here implies passing there.
VISIBLE = {"Adagrad": dict(lr=0.05, eps=1e-3), "RMSprop": dict(lr=0.003, alpha=0.9, weight_decay=0.01),
           "Adadelta": dict(lr=0.5, rho=0.8), "Adam": dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6),
           "AdamW": dict(lr=0.01, weight_decay=0.1)}


def scenarios(name):
    """(label, kwargs, run options, rtol, atol) for each hidden scenario of one optimizer."""
    out = [("the visible test's settings", VISIBLE[name], {"steps": STEPS}, 1e-7, 1e-10)]
    for label, kwargs, run in SCENARIOS[name] + GRADIENT_SCENARIOS:
        run = {"steps": STEPS, **run}
        rtol, atol = run.pop("rtol", 1e-7), run.pop("atol", 1e-10)
        out.append((label, kwargs, run, rtol, atol))
    return out


def _jsonable_run(run):
    run = dict(run)
    if "dtype" in run:
        run["dtype"] = str(run["dtype"]).replace("torch.", "")
    return run


@functools.lru_cache(maxsize=None)
def _reference(name, index):
    """torch.optim's trajectory for one scenario: computed once per grading process."""
    _, kwargs, run, _, _ = scenarios(name)[index]
    return optimizer_trajectory(getattr(torch.optim, name), kwargs, **run)


@functools.lru_cache(maxsize=None)
def _mistake_trajectories(name, index):
    _, kwargs, run, _, _ = scenarios(name)[index]
    out = []
    for bug_cls, hint in MISTAKES[name].values():
        try:
            out.append((optimizer_trajectory(bug_cls, kwargs, **run), hint))
        except Exception:
            continue
    return tuple(out)


def _diagnose(name, index, got) -> str | None:
    """The hint of the first known mistake whose trajectory the student's follows."""
    for traj, hint in _mistake_trajectories(name, index):
        if traj.shape == got.shape and torch.allclose(traj.double(), got.double(), rtol=1e-5, atol=1e-8):
            return hint
    return None


# A trajectory this close to torch's, but not within the scenario's tolerance, is rounding, not a wrong formula.
PRECISION_RTOL = 1e-4


def _precision_only(got, want, rtol) -> bool:
    return rtol < PRECISION_RTOL and bool(torch.allclose(got, want, rtol=PRECISION_RTOL, atol=1e-8))


PRECISION = ("agrees with torch.optim.{name} to about {err:.0e} relative, but not to the 1e-7 required in float64: "
             "a precision problem, not a wrong formula. Look for float32 in the computation, e.g. "
             "torch.tensor(beta) ** step (a float32 tensor) where torch uses Python floats (float64) for the bias "
             "correction, or state created as float32")


def _dotted(node) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def uses_torch_optimizer(source: str, name: str) -> bool:
    """Does the code reach torch.optim.<name>, its module or its functional form?"""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    targets = {name, name.lower(), "_functional"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in targets and "optim" in _dotted(node.value).split("."):
            return True
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("torch.optim"):
            module_tail = (node.module or "").split(".")[2:]
            if set(module_tail) & targets or {a.name for a in node.names} & targets:
                return True
        if isinstance(node, ast.Import) and any(
                set(a.name.split(".")[2:]) & targets for a in node.names if a.name.startswith("torch.optim")):
            return True
    return False


def _static(name):
    def check(source):
        if uses_torch_optimizer(source, name):
            raise Failure(f"{name} must implement the update itself: your answer uses torch.optim.{name} "
                          "(or its functional form)")
    return check


def _check(name, index):
    label, _, _, rtol, atol = scenarios(name)[index]

    def check(values):
        (got,) = returned(values, name)
        if isinstance(got, Foreign) or not isinstance(got, np.ndarray):
            raise Failure(f"{name}: the optimizer did not produce parameters")
        got = torch.from_numpy(got).to(torch.float64)
        want = _reference(name, index).to(torch.float64)
        try:
            assert_same_trajectory(got, want, name, label, rtol=rtol, atol=atol)
        except AssertionError as exc:
            hint = _diagnose(name, index, got)
            if hint:
                raise Mistake(f"{name}: {hint}") from None
            if got.shape == want.shape and _precision_only(got, want, rtol):
                err = float(((got - want).abs() / want.abs().clamp_min(1e-12)).max())
                raise Mistake(f"{name}: " + PRECISION.format(name=name, err=err)) from None
            # the label is in the report already: keep what differs
            raise Failure(str(exc).replace(f"{name} ({label}): ", "")) from None
    return check


def _scenarios(name):
    return [Scenario(label, [{"kind": "trajectory", "name": name, "kwargs": kwargs, "run": _jsonable_run(run)}],
                     _check(name, index), _covers(label))
            for index, (label, kwargs, run, _, _) in enumerate(scenarios(name))]


PARTS = {f"test_{name.lower()}": Part(name.lower(), contract=dict(CONTRACT_ITEMS), scenarios=_scenarios(name),
                                      static=_static(name))
         for name in NAMES}
