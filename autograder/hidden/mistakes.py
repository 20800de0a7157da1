"""Known-wrong optimizers: each reproduces one named mistake from COURSE.md.

The hidden tests run these beside the student's class; when the student's
parameters follow one of them, the hint names the mistake. The project's own
tests submit them as buggy answers and require each to lose points.

Each family is one small implementation with a ``bug`` switch, so every
variant differs from the correct update in exactly one place.
"""

from __future__ import annotations

import torch
from torch.optim import Optimizer

from coursekit.checks.hints import HINTS


class _Buggy(Optimizer):
    bug = ""
    defaults: dict = {}

    def __init__(self, params, **kwargs):
        super().__init__(params, {**self.defaults_, **kwargs})

    def _state(self, p, names):
        state = self.state[p]
        if not state or self.bug == "state_reset":
            state["step"] = 0
            for n in names:
                state[n] = torch.zeros_like(p)
        return state

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    self._update(p, p.grad.clone(), group)
        return loss


class BuggyAdam(_Buggy):
    defaults_ = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    decoupled = False

    def _update(self, p, g, group):
        lr, (b1, b2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        if self.bug == "hardcoded_defaults":
            lr, b1, b2, eps = 1e-3, 0.9, 0.999, 1e-8
        if self.decoupled:
            if self.bug == "decay_without_lr":
                p.mul_(1 - wd)
            elif self.bug == "decay_through_moments":
                g = g + wd * p
            elif self.bug != "decay_after":
                p.mul_(1 - lr * wd)
        elif wd and self.bug != "weight_decay_ignored":
            g = g + wd * p
        if self.bug == "shared_state":
            shared = self.__dict__.setdefault("_shared_by_shape", {})
            key = tuple(p.shape)
            if key not in shared:
                shared[key] = {"step": 0, "m": torch.zeros_like(p), "v": torch.zeros_like(p)}
            state = shared[key]
        else:
            state = self._state(p, ["m", "v"])
        state["step"] += 1
        t = state["step"] - 1 if self.bug == "step_off_by_one" else state["step"]
        if self.bug == "step_ahead":  # the counter starts at 1 and is incremented before use: t = 2 first
            t = state["step"] + 1
        state["m"].mul_(b1).add_((1 - b1) * g)
        state["v"].mul_(b2).add_((1 - b2) * g * g)
        c1 = 1 - b1 ** t if self.bug not in ("no_bias_correction",) else 1.0
        c2 = 1 - b2 ** t if self.bug not in ("no_bias_correction", "bias_correction_m_only") else 1.0
        if self.bug == "step_off_by_one" and t == 0:
            c1 = c2 = 1.0  # avoid 0/0 on the very first step
        m_hat, v_hat = state["m"] / c1, state["v"] / c2
        if self.bug == "eps_inside_sqrt":
            update = m_hat / torch.sqrt(v_hat + eps)
        elif self.bug == "eps_precedence":
            update = m_hat / torch.sqrt(v_hat) + eps
        elif self.bug == "eps_before_correction":  # the paper's "efficient" form, torch 1.x's Adam
            update = (c2 ** 0.5 / c1) * state["m"] / (state["v"].sqrt() + eps)
        else:
            update = m_hat / (torch.sqrt(v_hat) + eps)
        p.sub_(lr * update)
        if self.decoupled and self.bug == "decay_after":
            p.mul_(1 - lr * wd)


class BuggyAdamW(BuggyAdam):
    defaults_ = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2)
    decoupled = True


class BuggyAdagrad(_Buggy):
    defaults_ = dict(lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10)

    def _update(self, p, g, group):
        state = self.state[p]
        if not state:
            state["step"] = 0
            state["sum"] = torch.full_like(p, 0.0 if self.bug == "accumulator_ignored"
                                           else group["initial_accumulator_value"])
        state["step"] += 1
        if group["weight_decay"]:
            g = g + group["weight_decay"] * p
        decays = state["step"] if self.bug == "lr_decay_early" else state["step"] - 1
        clr = group["lr"] / (1 + decays * (0.0 if self.bug == "lr_decay_ignored" else group["lr_decay"]))
        if self.bug == "moving_average":
            state["sum"].mul_(0.99).add_(0.01 * g * g)
        else:
            state["sum"].add_(g * g)
        p.sub_(clr * g / (state["sum"].sqrt() + group["eps"]))


class BuggyRMSprop(_Buggy):
    defaults_ = dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0)

    def _update(self, p, g, group):
        state = self._state(p, ["square_avg"])
        state["step"] += 1
        if group["weight_decay"]:
            g = g + group["weight_decay"] * p
        a = group["alpha"]
        if self.bug == "alpha_swapped":
            state["square_avg"].mul_(1 - a).add_(a * g * g)
        else:
            state["square_avg"].mul_(a).add_((1 - a) * g * g)
        if self.bug == "eps_inside_sqrt":
            p.sub_(group["lr"] * g / (state["square_avg"] + group["eps"]).sqrt())
        elif self.bug == "no_sqrt":
            p.sub_(group["lr"] * g / (state["square_avg"] + group["eps"]))
        else:
            p.sub_(group["lr"] * g / (state["square_avg"].sqrt() + group["eps"]))


class BuggyAdadelta(_Buggy):
    defaults_ = dict(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0)

    def _update(self, p, g, group):
        state = self._state(p, ["square_avg", "acc_delta"])
        state["step"] += 1
        rho, eps = group["rho"], group["eps"]
        if group["weight_decay"]:
            g = g + group["weight_decay"] * p
        if self.bug != "wrong_order":
            state["square_avg"].mul_(rho).add_((1 - rho) * g * g)
        delta = (state["acc_delta"] + eps).sqrt() / (state["square_avg"] + eps).sqrt() * g
        if self.bug == "wrong_order":  # the gradient average is updated after it was used
            state["square_avg"].mul_(rho).add_((1 - rho) * g * g)
        state["acc_delta"].mul_(rho).add_((1 - rho) * delta * delta)
        lr = 1.0 if self.bug == "lr_ignored" else group["lr"]
        p.sub_(lr * delta)


def _variant(base, bug, name):
    return type(name, (base,), {"bug": bug, "__doc__": f"{base.__name__[5:]} with the mistake '{bug}'."})


# The hints are worded once, in coursekit.checks.hints (the visible tests give the same ones).
ADAM = {bug: HINTS[bug].format(name="Adam") for bug in (
    "no_bias_correction", "bias_correction_m_only", "step_off_by_one", "step_ahead", "eps_inside_sqrt",
    "eps_precedence", "eps_before_correction", "weight_decay_ignored", "hardcoded_defaults", "shared_state",
    "state_reset")}
ADAMW = {bug: HINTS[bug].format(name="AdamW") for bug in (
    "decay_without_lr", "decay_through_moments", "decay_after", "no_bias_correction", "step_ahead",
    "eps_inside_sqrt", "eps_before_correction")}
ADAGRAD = {bug: HINTS[bug] for bug in ("moving_average", "lr_decay_early", "lr_decay_ignored",
                                       "accumulator_ignored")}
RMSPROP = {"alpha_swapped": HINTS["alpha_swapped"], "eps_inside_sqrt": HINTS["rms_eps_inside_sqrt"],
           "no_sqrt": HINTS["rms_no_sqrt"]}
ADADELTA = {"wrong_order": HINTS["wrong_order"], "lr_ignored": HINTS["lr_ignored"]}

MISTAKES = {
    "Adam": {bug: (_variant(BuggyAdam, bug, f"Adam_{bug}"), hint) for bug, hint in ADAM.items()},
    "AdamW": {bug: (_variant(BuggyAdamW, bug, f"AdamW_{bug}"), hint) for bug, hint in ADAMW.items()},
    "Adagrad": {bug: (_variant(BuggyAdagrad, bug, f"Adagrad_{bug}"), hint) for bug, hint in ADAGRAD.items()},
    "RMSprop": {bug: (_variant(BuggyRMSprop, bug, f"RMSprop_{bug}"), hint) for bug, hint in RMSPROP.items()},
    "Adadelta": {bug: (_variant(BuggyAdadelta, bug, f"Adadelta_{bug}"), hint) for bug, hint in ADADELTA.items()},
}
# The key that identifies a mistake across scenarios (autograder.verdicts.Mistake): the HINTS key, so that two
# models of one mistake (a counter one step behind or one ahead) are one mistake.
KEYS = {"step_ahead": "step_off_by_one"}


def keyed(name: str) -> list[tuple]:
    """(class, hint, key) of every known mistake of optimizer ``name``, for autograder.hidden.trajectories."""
    return [(cls, hint, KEYS.get(bug, bug)) for bug, (cls, hint) in MISTAKES[name].items()]
