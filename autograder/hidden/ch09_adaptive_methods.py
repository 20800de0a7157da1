"""Hidden tests for Chapter 9: adaptive optimizers against torch.optim.

Each optimizer's contract (``CONTRACT``) is what the exercise's text promises: it replaces its torch.optim
namesake in any training loop. The sandbox runs the student's optimizer through a scenario per contract item
and returns the parameters after every step; they are compared here with torch.optim's (computed once per
grading run) and, on a mismatch, with the known mistakes of ``mistakes.py`` to name the likely cause. Every
scenario is judged and reported.
"""

from __future__ import annotations

import torch

from ..verdicts import Part
from .mistakes import MISTAKES
from .trajectories import Trajectories

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


# float64 runs are compared to 1e-7; an answer this far off only through float32 arithmetic is told so.
PRECISION = ("agrees with torch.optim.{name} to about {err:.0e} relative, but not to the 1e-7 required in float64: "
             "a precision problem, not a wrong formula. Look for float32 in the computation, e.g. "
             "torch.tensor(beta) ** step (a float32 tensor) where torch uses Python floats (float64) for the bias "
             "correction, or state created as float32")


def trajectories(name) -> Trajectories:
    table = [(label, _covers(label), [(kwargs, {**run, "rtol": rtol, "atol": atol})])
             for label, kwargs, run, rtol, atol in scenarios(name)]
    return Trajectories(name, getattr(torch.optim, name), table, MISTAKES[name].values(), steps=STEPS,
                        match=(1e-5, 1e-8), precision=PRECISION)


PARTS = {f"test_{name.lower()}": Part(name.lower(), contract=dict(CONTRACT_ITEMS), scenarios=t.scenarios(),
                                      static=t.static)
         for name in NAMES for t in [trajectories(name)]}
