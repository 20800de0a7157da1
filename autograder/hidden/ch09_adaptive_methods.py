"""Hidden tests for Chapter 9: adaptive optimizers against torch.optim.

Each optimizer's contract is what the exercise's text promises: it replaces its torch.optim namesake in any
training loop. The sandbox runs the student's optimizer through a scenario per contract item (one option at a
time, so that a scenario that fails says which option is wrong) and returns the parameters after every step; they
are compared here with torch.optim's (computed once per grading run) and, on a mismatch, with the known mistakes
of ``mistakes.py`` to name the likely cause. Every scenario is judged and reported, and each group of contract
items earns its share of the part's points (``CREDIT``).
"""

from __future__ import annotations

import torch

from ..verdicts import Credit, Part
from .mistakes import keyed
from .trajectories import Trajectories

# float32 runs accumulate rounding (about 1e-7 per operation); sign-like updates
# (RMSprop early on) can amplify it, so they are kept to 12 steps of a
# nonlinear problem; 1e-4 relative still separates every named mistake.
F32 = dict(dtype=torch.float32, rtol=1e-4, atol=1e-5)

# (label shown to the student, the contract item it covers, constructor kwargs[, run options])
OPTIONS = {
    "Adagrad": [
        ("lr_decay > 0", "lr_decay", dict(lr=0.05, lr_decay=0.05)),
        ("initial_accumulator_value > 0", "initial_accumulator_value",
         dict(lr=0.05, initial_accumulator_value=0.1)),
        ("a large eps", "eps", dict(lr=0.05, eps=1e-2)),
        ("weight_decay > 0", "weight_decay", dict(lr=0.05, weight_decay=0.1)),
        ("two parameter groups with different settings", "groups", dict(lr=0.02),
         dict(groups=[{"params": [0, 1, 2, 3], "lr_decay": 0.05}, {"params": [4, 5], "lr": 0.1}])),
        ("lr changed during training", "lr_change", dict(lr=0.05), dict(lr_changes={6: 0.2})),
        ("state_dict round trip", "state_dict", dict(lr=0.05, initial_accumulator_value=0.05),
         dict(roundtrip_at=5)),
        ("float32 parameters", "float32", dict(lr=0.05), dict(F32)),
    ],
    "RMSprop": [
        ("alpha = 0.8", "alpha", dict(lr=0.003, alpha=0.8)),
        ("a large eps", "eps", dict(lr=0.003, eps=1e-2)),
        ("weight_decay > 0", "weight_decay", dict(lr=0.003, weight_decay=0.2)),
        ("two parameter groups with different settings", "groups", dict(lr=0.002),
         dict(groups=[{"params": [0, 1, 2, 3], "alpha": 0.5}, {"params": [4, 5], "lr": 0.01}])),
        ("lr changed during training", "lr_change", dict(lr=0.003), dict(lr_changes={6: 0.1})),
        ("state_dict round trip", "state_dict", dict(lr=0.003, alpha=0.9), dict(roundtrip_at=5)),
        ("float32 parameters", "float32", dict(lr=0.003), dict(F32)),
    ],
    "Adadelta": [
        ("rho = 0.7", "rho", dict(rho=0.7)),
        ("a large eps", "eps", dict(eps=1e-3)),
        ("weight_decay > 0", "weight_decay", dict(weight_decay=0.1)),
        ("two parameter groups with different settings", "groups", dict(lr=0.8),
         dict(groups=[{"params": [0, 1, 2, 3], "rho": 0.5}, {"params": [4, 5], "lr": 2.0}])),
        ("lr changed during training", "lr_change", {}, dict(lr_changes={6: 0.3})),
        ("state_dict round trip", "state_dict", dict(rho=0.8), dict(roundtrip_at=5)),
        ("float32 parameters", "float32", {}, dict(F32)),
    ],
    "Adam": [
        ("betas = (0.7, 0.95)", "betas", dict(lr=0.02, betas=(0.7, 0.95))),
        ("a large eps", "eps", dict(lr=0.02, eps=1e-3)),
        ("weight_decay > 0 (an L2 term added to the gradient)", "weight_decay", dict(lr=0.01, weight_decay=0.1)),
        ("two parameter groups with different settings", "groups", dict(lr=0.01),
         dict(groups=[{"params": [0, 1, 2, 3], "betas": (0.5, 0.9)}, {"params": [4, 5], "lr": 0.03}])),
        ("lr changed during training", "lr_change", dict(lr=0.01), dict(lr_changes={6: 0.1})),
        ("state_dict round trip", "state_dict", dict(lr=0.01, betas=(0.8, 0.9)), dict(roundtrip_at=5)),
        ("float32 parameters", "float32", dict(lr=0.01), dict(F32)),
    ],
    "AdamW": [
        ("betas = (0.7, 0.95)", "betas", dict(lr=0.02, betas=(0.7, 0.95), weight_decay=0.0)),
        ("a large eps", "eps", dict(lr=0.02, eps=1e-3, weight_decay=0.0)),
        ("a large weight_decay", "weight_decay", dict(lr=0.01, weight_decay=0.5)),
        ("two parameter groups with different settings", "groups", dict(lr=0.01, weight_decay=0.1),
         dict(groups=[{"params": [0, 1, 2, 3], "weight_decay": 0.0}, {"params": [4, 5], "lr": 0.03}])),
        ("lr changed during training", "lr_change", dict(lr=0.01, weight_decay=0.2), dict(lr_changes={6: 0.1})),
        ("state_dict round trip", "state_dict", dict(lr=0.01, weight_decay=0.1), dict(roundtrip_at=5)),
        ("float32 parameters", "float32", dict(lr=0.01, weight_decay=0.1), dict(F32)),
    ],
}
# A non-default lr alone: read from the group, the core of every optimizer.
LR = {"Adagrad": 0.05, "RMSprop": 0.003, "Adadelta": 0.5, "Adam": 0.01, "AdamW": 0.01}
# Gradients a training loop can hand over (the same for every optimizer): parameters 1 and 4 (a bias and a weight)
# get no gradient at steps 3-5 (p.grad is None: torch skips them entirely, state and step counter included);
# parameters 0 and 3 get an exact zero gradient at steps 2-4 (a real step: the state decays, the counter advances,
# and Adam's moment still moves the parameter); gradients zeroed in place between steps (a state tensor that is
# p.grad itself, not a copy, is then wiped); and step(closure), whose loss step() returns.
LOOP = [
    ("some gradients None for a few steps (p.grad is None: skip the parameter)", "none_grad",
     dict(none_grads={t: [1, 4] for t in range(3, 6)}, steps=8)),
    ("some gradients exactly zero for a few steps (still a step)", "zero_grad",
     dict(zero_grads={t: [0, 3] for t in range(2, 5)}, steps=8)),
    ("gradients zeroed in place between steps (zero_grad(set_to_none=False))", "grads_in_place",
     dict(set_to_none=False, steps=6)),
    ("step(closure) (the closure computes the loss; step returns it)", "closure", dict(closure=True, steps=6)),
]
CONTRACT_ITEMS = {
    "defaults": "torch's default hyperparameters",
    "lr": "lr is read from the parameter group",
    "separate_state": "each parameter keeps its own state (parameters of equal shape included)",
    "zero_grad": "an exact zero gradient is a real step: the state decays and the step count advances",
    "weight_decay": "weight_decay as torch applies it (an L2 term in the gradient; decoupled for AdamW)",
    "groups": "several parameter groups with different settings",
    "lr_change": "a change of group['lr'] during training takes effect at the next step",
    "state_dict": "state_dict() / load_state_dict() round trip into a fresh optimizer",
    "float32": "float32 parameters (and float64), kept in their dtype",
    "none_grad": "a parameter whose grad is None is skipped: no update, no state change, its step count stays",
    "grads_in_place": "gradients zeroed in place between steps (zero_grad(set_to_none=False)) do not change the "
                      "state: it holds copies, never p.grad itself",
    "closure": "step(closure) evaluates the closure and returns its loss",
}
OPTION_ITEMS = {
    "lr_decay": "lr_decay: the step uses lr / (1 + (t - 1) * lr_decay)",
    "initial_accumulator_value": "the sum of squared gradients starts at initial_accumulator_value",
    "alpha": "alpha, the weight of the old average",
    "rho": "rho, the weight of the old averages",
    "betas": "betas = (beta1, beta2) of the two moments and their bias corrections",
    "eps": "eps, where torch adds it",
}
# The visible test's settings too, so that passing here implies passing there; they cover the options they set.
# (The core's lr is covered by its own scenario, so that an option wrong here costs only that option's points.)
VISIBLE = {"Adagrad": (dict(lr=0.05, eps=1e-3), ("eps",)),
           "RMSprop": (dict(lr=0.003, alpha=0.9, weight_decay=0.01), ("alpha", "weight_decay")),
           "Adadelta": (dict(lr=0.5, rho=0.8), ("rho",)),
           "Adam": (dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6), ("betas", "eps")),
           "AdamW": (dict(lr=0.01, weight_decay=0.1), ("weight_decay",))}
STEPS = 12  # every named mistake shows within a few steps; 12 leave 7 steps after the lr change and the round trip
NAMES = ("Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW")
TOL = dict(rtol=1e-7, atol=1e-10)


def table(name):
    """(label, covers, [(kwargs, run options with rtol/atol)]) for each hidden scenario of one optimizer."""
    visible, visible_covers = VISIBLE[name]
    rows = [("default settings", ("defaults", "separate_state"), {}, {}),
            (f"lr = {LR[name]} (other settings at their defaults)", ("lr",), dict(lr=LR[name]), {}),
            ("the visible test's settings", visible_covers, visible, {})]
    rows += [(label, (item,), kwargs, run[0] if run else {}) for label, item, kwargs, *run in OPTIONS[name]]
    rows += [(label, (item,), {}, run) for label, item, run in LOOP]
    return [(label, covers, [(kwargs, {**TOL, **run})]) for label, covers, kwargs, run in rows]


def contract(name):
    options = {row[1] for row in OPTIONS[name]} | set(VISIBLE[name][1])
    return {**CONTRACT_ITEMS, **{k: v for k, v in OPTION_ITEMS.items() if k in options}}


def credit(name):
    """Points per group of contract items: the update itself first (at least half of the part's points), then
    each option, then what a training loop relies on. The weights are shown in the exercise text."""
    opts = [i for i in OPTION_ITEMS if i in contract(name)]
    core = ("defaults", "lr", "separate_state", "zero_grad")
    loop = ("none_grad", "grads_in_place", "state_dict", "closure", "float32")
    label = " and ".join(opts) if len(opts) < 3 else ", ".join(opts[:-1]) + " and " + opts[-1]
    if name == "Adam":  # 3 points
        return [Credit("the update with default options", 1.5, core), Credit(label, 0.5, tuple(opts)),
                Credit("weight_decay", 0.25, ("weight_decay",)),
                Credit("parameter groups and lr changes", 0.25, ("groups", "lr_change")),
                Credit("None gradients, in-place zeroing, state_dict, closure, float32", 0.5, loop)]
    return [Credit("the update with default options", 1.0, core), Credit(label, 0.25, tuple(opts)),
            Credit("weight_decay", 0.25, ("weight_decay",)),
            Credit("parameter groups and lr changes", 0.25, ("groups", "lr_change")),
            Credit("None gradients, in-place zeroing, state_dict, closure, float32", 0.25, loop)]


# float64 runs are compared to 1e-7; an answer this far off only through float32 arithmetic is told so, when the
# probe saw float32 in the computation (trajectories.evidence); otherwise the message says what differs.
PRECISION = ("differs from torch.optim.{name} by about {err:.0e} of the parameters' size (float64 rounding "
             "gives far less), and {evidence}: a precision problem, not a wrong formula (torch computes the bias "
             "corrections with Python floats and keeps the state in the parameters' dtype)")


def trajectories(name) -> Trajectories:
    return Trajectories(name, getattr(torch.optim, name), table(name), keyed(name), steps=STEPS,
                        match=(1e-5, 1e-8), precision=PRECISION)


PARTS = {f"test_{name.lower()}": Part(name.lower(), contract=contract(name), scenarios=t.scenarios(),
                                      static=t.static, credit=credit(name))
         for name in NAMES for t in [trajectories(name)]}
