"""Name the likely mistake when an optimizer does not follow torch.optim.

Each probe feeds a single scalar parameter a scripted sequence of gradients
and reads the steps it takes. The expected steps come from torch.optim itself
or from short closed forms (for example, Adam's first step is lr * sign(g)
with bias correction, and (1 - beta1) / sqrt(1 - beta2) times that without).
No probe contains an implementation of the optimizer.
"""

from __future__ import annotations

import math

import torch

# One wording per mistake, shared with the grader's hidden tests.
HINTS = {
    "no_bias_correction": "your update matches {name} without bias correction (divide m by 1 - beta1**t and v by "
                          "1 - beta2**t, with t = 1 on the first step)",
    "bias_correction_m_only": "your update matches {name} with bias correction on m only; v needs 1 - beta2**t too",
    "bias_correction_v_only": "your update matches {name} with bias correction on v only; m needs 1 - beta1**t too",
    "t_starts_at_0": "the first step is not finite: the step counter t must be 1 on the first step "
                     "(1 - beta**0 = 0)",
    "step_off_by_one": "your step counter is off by one: t must be 1 on the first step",
    "step_ahead": "your step counter is off by one: t must be 1 on the first step (yours is 2: a counter that "
                  "starts at 1 and is incremented before use)",
    "eps_before_correction": "eps is added to sqrt(v) before the bias correction (the paper's 'efficient' form, "
                             "and torch 1.x's): torch adds it after, m_hat / (sqrt(v_hat) + eps) with "
                             "v_hat = v / (1 - beta2**t)",
    "weight_decay_ignored": "weight_decay is ignored: torch's {name} adds weight_decay * p to the gradient before "
                            "the moments",
    "decay_after": "the decoupled decay is applied after the Adam step: torch shrinks p first, "
                   "p *= 1 - lr * weight_decay, and then takes the Adam step",
    "eps_inside_sqrt": "eps is inside the square root; torch adds it after the square root: "
                       "m_hat / (sqrt(v_hat) + eps)",
    "eps_precedence": "operator precedence: you computed m_hat / sqrt(v_hat) + eps instead of "
                      "m_hat / (sqrt(v_hat) + eps)",
    "hardcoded_defaults": "your optimizer ignores the hyperparameters it is given (lr, betas, eps look hard-coded)",
    "shared_state": "state is shared between parameters; keep separate state for every parameter (self.state[p])",
    "state_reset": "the state is re-initialised on every step; create it once, the first time a parameter is seen",
    "decay_without_lr": "the decoupled decay is not multiplied by lr: use p *= 1 - lr * weight_decay",
    "decay_through_moments": "your weight decay goes through the moments (that is Adam + L2, not AdamW); "
                             "decay p directly",
    "no_decay": "there is no weight decay at all",
    "moving_average": "Adagrad accumulates the full sum of squared gradients, not a moving average",
    "lr_decay_early": "lr_decay starts too early: torch uses lr / (1 + (t - 1) * lr_decay), so step 1 is undecayed",
    "lr_decay_ignored": "lr_decay is ignored: torch's Adagrad steps with lr / (1 + (t - 1) * lr_decay)",
    "accumulator_ignored": "initial_accumulator_value is ignored: the sum of squared gradients starts at it "
                           "(torch.full_like(p, initial_accumulator_value)), not at 0",
    "alpha_swapped": "alpha and 1 - alpha are swapped: the running average keeps alpha of its old value",
    "rms_eps_inside_sqrt": "eps is inside the square root; torch's RMSprop adds it after the sqrt",
    "rms_no_sqrt": "the step divides by the average of squared gradients itself: divide by its square root, "
                   "g / (sqrt(square_avg) + eps)",
    "wrong_order": "the accumulators are updated in the wrong order: first fold g**2 into square_avg, then compute "
                   "delta from it and the old acc_delta, then fold delta**2 into acc_delta",
    "lr_ignored": "lr is ignored; torch's Adadelta multiplies the step by lr",
}


def steps(opt_cls, kwargs, grads, start=1.0):
    """The parameter after each step when the gradients are ``grads`` (float64 scalars)."""
    p = torch.tensor([start], dtype=torch.float64, requires_grad=True)
    opt = opt_cls([p], **kwargs)
    out = []
    for g in grads:
        p.grad = torch.tensor([float(g)], dtype=torch.float64)
        opt.step()
        out.append(float(p.detach()[0]))
    return out


def _near(a, b, rel=1e-3):
    return all(math.isfinite(x) and abs(x - y) <= rel * max(abs(y), 1e-12) for x, y in zip(a, b))


def _first_step(opt_cls, kwargs, g=1.0):
    (p,) = steps(opt_cls, kwargs, [g])
    return 1.0 - p


def _adam_like(name, cls):
    torch_cls = getattr(torch.optim, name)
    extra = {"weight_decay": 0.0}
    custom = dict(lr=0.2, betas=(0.5, 0.6), eps=1e-3, **extra)
    grads = [1.0, -2.0, 0.5, 3.0]
    got = steps(cls, custom, grads)
    if not _near(got, steps(torch_cls, custom, grads)) and _near(got, steps(torch_cls, extra, grads)):
        return HINTS["hardcoded_defaults"]
    lr, b1, b2 = 0.1, 0.9, 0.999
    s = _first_step(cls, dict(lr=lr, eps=0.0, **extra))
    if not math.isfinite(s):
        return HINTS["t_starts_at_0"]
    ratio = s / lr
    for value, key in [((1 - b1) / math.sqrt(1 - b2), "no_bias_correction"),
                       (1 / math.sqrt(1 - b2), "bias_correction_m_only"), (1 - b1, "bias_correction_v_only")]:
        if abs(ratio - value) < 1e-3 * value:
            return HINTS[key].format(name=name)
    g, eps = 1e-4, 1e-3
    s = _first_step(cls, dict(lr=1.0, eps=eps, **extra), g)
    if abs(s - g / math.sqrt(g * g + eps)) < 1e-6:
        return HINTS["eps_inside_sqrt"]
    if abs(s - (1 + eps)) < 1e-6:
        return HINTS["eps_precedence"]
    if abs(s - g / (g + eps / math.sqrt(1 - b2))) < 1e-9:
        return HINTS["eps_before_correction"]
    got = steps(cls, {"lr": 0.1, **extra}, grads)
    shifted = steps(torch_cls, {"lr": 0.1, **extra}, [0.0] + grads)[1:]  # a first step that changes nothing
    if _near(got, shifted, 1e-6) and not _near(got, steps(torch_cls, {"lr": 0.1, **extra}, grads), 1e-6):
        return HINTS["step_ahead"]
    p2 = steps(cls, {"lr": 0.1, **extra}, grads[:2])[1]
    fresh = steps(torch_cls, {"lr": 0.1, **extra}, grads[1:2], start=steps(cls, {"lr": 0.1, **extra}, grads[:1])[0])
    if abs(p2 - fresh[0]) < 1e-9 and abs(p2 - steps(torch_cls, {"lr": 0.1, **extra}, grads[:2])[1]) > 1e-6:
        return HINTS["state_reset"]
    if name == "Adam":  # from p = 1 with a zero gradient, the whole first gradient is weight_decay * p
        (p,) = steps(cls, dict(lr=0.1, weight_decay=0.5), [0.0])
        if abs(p - 1.0) < 1e-12:
            return HINTS["weight_decay_ignored"].format(name=name)
    return None


def _adamw(cls):
    (p,) = steps(cls, dict(lr=0.1, weight_decay=0.5), [0.0])
    for value, key in [(0.5, "decay_without_lr"), (0.9, "decay_through_moments"), (1.0, "no_decay")]:
        if abs(p - value) < 1e-6:
            return HINTS[key]
    (p,) = steps(cls, dict(lr=0.1, weight_decay=0.5), [1.0])  # the first Adam step is lr * sign(g)
    if abs(p - (1.0 - 0.1 / (1 + 1e-8)) * (1 - 0.05)) < 1e-9:
        return HINTS["decay_after"]
    return _adam_like("AdamW", cls)


def _adagrad(cls):
    got = steps(cls, dict(lr=0.1), [1.0, 1.0])
    if abs(got[0] - 0.9) < 1e-6 and abs((got[0] - got[1]) - 0.1 / math.sqrt(2)) > 1e-6:
        return HINTS["moving_average"]
    if abs(got[0] - 0.9) > 1e-6 and got[0] < 0.9 - 1e-6:
        return HINTS["moving_average"]
    (p,) = steps(cls, dict(lr=0.1, lr_decay=0.5), [1.0])
    if abs(p - (1 - 0.1 / 1.5)) < 1e-6:
        return HINTS["lr_decay_early"]
    got = steps(cls, dict(lr=0.1, lr_decay=0.5), [1.0, 1.0])
    if abs((got[0] - got[1]) - 0.1 / math.sqrt(2)) < 1e-9:  # the second step undecayed
        return HINTS["lr_decay_ignored"]
    (p,) = steps(cls, dict(lr=0.1, initial_accumulator_value=3.0), [1.0])
    if abs(p - 0.9) < 1e-9:  # as if the sum started at 0
        return HINTS["accumulator_ignored"]
    return None


def _rmsprop(cls):
    s = _first_step(cls, dict(lr=0.1, alpha=0.99, eps=0.0))
    if abs(s - 0.1 / math.sqrt(0.99)) < 1e-6:
        return HINTS["alpha_swapped"]
    g, eps = 1e-4, 1e-3
    s = _first_step(cls, dict(lr=1.0, alpha=0.99, eps=eps), g)
    if abs(s - g / math.sqrt(0.01 * g * g + eps)) < 1e-6:
        return HINTS["rms_eps_inside_sqrt"]
    s = _first_step(cls, dict(lr=0.1, alpha=0.99, eps=0.0))
    if abs(s - 0.1 / 0.01) < 1e-6:
        return HINTS["rms_no_sqrt"]
    return None


def _adadelta(cls):
    s = _first_step(cls, dict(lr=0.5))
    if abs(s - 0.5) < 1e-6:
        return HINTS["wrong_order"]
    if abs(s - _first_step(torch.optim.Adadelta, dict(lr=1.0))) < 1e-9:
        return HINTS["lr_ignored"]
    return None


PROBES = {"Adam": lambda cls: _adam_like("Adam", cls), "AdamW": _adamw, "Adagrad": _adagrad,
          "RMSprop": _rmsprop, "Adadelta": _adadelta}


def diagnose(name: str, student_cls) -> str | None:
    """A hint naming the likely mistake of ``student_cls`` (a torch.optim.<name> look-alike), or None."""
    probe = PROBES.get(name)
    if probe is None:
        return None
    try:
        return probe(student_cls)
    except Exception:  # a class that cannot even be probed gets the plain comparison message
        return None
