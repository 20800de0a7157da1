"""Known-wrong SGD-with-momentum optimizers for Chapter 8: each reproduces one named mistake.

The hidden tests run these beside the student's class; when the student's parameters follow one of them on a
scenario that tells it apart from torch's update, the hint names the mistake. One small implementation with a
``bug`` switch, so every variant differs from torch's update in exactly one place.
"""

from __future__ import annotations

import torch
from torch.optim import Optimizer

from coursekit.checks.momentum import MESSAGES


class BuggySGD(Optimizer):
    bug = ""

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        bug = self.bug
        for group in self.param_groups:
            mu, damp, wd, lr = group["momentum"], group["dampening"], group["weight_decay"], group["lr"]
            if bug == "momentum_fixed":
                mu = self.defaults["momentum"]
            if bug == "lr_fixed":
                lr = self.defaults["lr"]
            for p in group["params"]:
                if p.grad is None:
                    if bug != "none_as_zero":
                        continue
                    g = torch.zeros_like(p)
                else:
                    g = p.grad if bug == "aliased" else p.grad.clone()
                raw = g.clone()
                if group["maximize"] and bug != "no_maximize":
                    g = -g
                if wd and bug not in ("decay_after", "no_decay"):
                    g = g + wd * p
                if bug == "zero_skipped" and p.grad is not None and not p.grad.any():
                    continue
                if mu == 0:
                    if bug == "dampened_without_momentum":  # the buffer path, run with momentum 0
                        state = self.state[p]
                        if "momentum_buffer" in state:
                            g = (1 - damp) * g
                        state["momentum_buffer"] = g.clone()
                    p.sub_(lr * g)
                    continue
                if bug == "shared":
                    state = self.__dict__.setdefault("_shared_by_shape", {}).setdefault(tuple(p.shape), {})
                else:
                    state = self.state[p]
                buf = state.get("momentum_buffer")
                if buf is None or bug == "recreated":
                    if bug == "ema":
                        buf = (1 - mu) * g
                    elif bug == "first_dampening":
                        buf = (1 - damp) * g
                    elif bug == "velocity":
                        buf = lr * g
                    elif bug == "aliased":
                        buf = g  # p.grad itself when there is no weight decay and no maximize
                    else:
                        buf = g.clone()
                    state["momentum_buffer"] = buf
                else:
                    if bug in ("ema", "ema_copy"):
                        buf.mul_(mu).add_((1 - mu) * g)
                    elif bug == "velocity":
                        buf.mul_(mu).add_(lr * (1 - damp) * g)
                    else:
                        buf.mul_(mu).add_((1 - damp) * g)
                if group["nesterov"] and bug != "nesterov_ignored":
                    d = (mu * g + buf) if bug == "nesterov" else (g + mu * buf)
                    if bug == "velocity":
                        d = lr * g + mu * buf
                    if bug == "nesterov_raw_grad":
                        d = raw + mu * buf
                else:
                    d = buf
                if bug == "decay_after" and wd:
                    d = d + wd * p
                if bug == "velocity":
                    p.sub_(d)
                else:
                    p.sub_(lr * d)
        return loss


def _variant(bug):
    return type(f"SGD_{bug}", (BuggySGD,), {"bug": bug, "__doc__": f"SGD with the mistake '{bug}'."})


MOMENTUM_MISTAKES = {
    "ema": MESSAGES["ema"],
    "ema_copy": MESSAGES["ema_copy"],
    "velocity": MESSAGES["velocity"],
    "first_dampening": MESSAGES["first_dampening"],
    "nesterov": MESSAGES["nesterov"],
    "nesterov_ignored": MESSAGES["nesterov_ignored"],
    "nesterov_raw_grad": MESSAGES["nesterov_raw_grad"],
    "dampened_without_momentum": MESSAGES["dampened_without_momentum"],
    "aliased": MESSAGES["aliased"],
    "momentum_fixed": MESSAGES["momentum_fixed"],
    "lr_fixed": MESSAGES["lr_fixed"],
    "recreated": MESSAGES["recreated"],
    "shared": MESSAGES["shared"],
    "decay_after": MESSAGES["decay_after"],
    "no_maximize": "maximize is ignored: with maximize=True use -grad (before weight decay and the buffer)",
    "no_decay": "weight_decay is ignored: add weight_decay * p to the gradient before the buffer",
    "none_as_zero": "a parameter whose grad is None must be skipped entirely (no decay, no buffer update); you "
                    "treat it as a zero gradient",
    "zero_skipped": "an exact zero gradient is still a step (the buffer decays and keeps moving p); skip only "
                    "when p.grad is None",
}
# Two models of one mistake would share its key (autograder.verdicts.Mistake). (A look-ahead with the buffer before
# its update, d_p + momentum * old_buf, is the step of nesterov=False, since nesterov needs dampening 0: it is the
# mistake "nesterov_ignored".)
KEYS: dict = {}
MISTAKES = [(_variant(bug), hint, KEYS.get(bug, bug)) for bug, hint in MOMENTUM_MISTAKES.items()]
