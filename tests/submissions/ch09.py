"""Chapter 9 (adaptive methods): known-buggy and correct optimizers.

The buggy ones are every known mistake of ``autograder/hidden/mistakes.py`` (one small implementation
per optimizer with a ``bug`` switch), plus answers that lean on the torch class they re-implement.
The correct ones are the same implementations with no bug, the reference package, and an Adam
written out of place.
"""

from __future__ import annotations

import inspect

from autograder.hidden import mistakes
from coursekit.checks.hints import HINTS
from submissions import Variant

# What the visible tests' probes (coursekit.checks.hints) say instead of the hidden tests' hint, and why:
VISIBLE_EXCEPTIONS = {
    # the lagging counter makes the first step uncorrected, which is what the probe sees and says
    ("Adam", "step_off_by_one"): HINTS["no_bias_correction"].format(name="Adam"),
    # needs two parameters of one shape; the hidden tests' network has them, the scalar probe does not
    ("Adam", "shared_state"): None,
}
# Mistakes the visible test cannot see at all, so its message is not checked: it runs Adagrad without lr_decay,
# where starting the decay early changes nothing (the probes above still name it on a laptop).
VISIBLE_TEST_PASSES = {("Adagrad", "lr_decay_early"), ("Adagrad", "lr_decay_ignored"), ("Adagrad", "accumulator_ignored"),
                       ("Adam", "weight_decay_ignored")}


def _mistake(opt: str, bug: str) -> Variant:
    """A self-contained answer cell: the known-wrong optimizer of autograder/hidden/mistakes.py.

    (Its source is pasted in: the sandbox cannot import the grader's packages.)
    """
    family = getattr(mistakes, f"Buggy{opt}")
    bases = [mistakes._Buggy] + [c for c in reversed(family.__mro__) if c.__name__.startswith("Buggy")]
    code = "import torch\nfrom torch.optim import Optimizer\n\n\n" + "\n\n".join(
        inspect.getsource(c) for c in dict.fromkeys(bases))
    code += f"\n\nclass {opt}({family.__name__}):\n    bug = {bug!r}\n"
    if not bug:
        return Variant(f"ok-{opt.lower()}-mistakes-module-correct-path", opt.lower(), code, f"test_{opt.lower()}")
    hint = mistakes.MISTAKES[opt][bug][1]
    return Variant(f"bug-{opt.lower()}-{bug.replace('_', '-')}", opt.lower(), code, f"test_{opt.lower()}",
                   visible=None if (opt, bug) in VISIBLE_TEST_PASSES else VISIBLE_EXCEPTIONS.get((opt, bug), hint),
                   hidden=hint)


def _reference_package(opt: str) -> Variant:
    """Correct alternative: the reference package's implementation, pasted as the answer."""
    from solutions import optimizers

    code = inspect.getsource(optimizers).replace("from __future__ import annotations\n", "")
    return Variant(f"ok-{opt.lower()}-reference-package", opt.lower(), code, f"test_{opt.lower()}")


ADAM_TENSOR_OPS = '''
class Adam(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            b1, b2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                st = self.state[p]
                if len(st) == 0:
                    st["step"] = torch.tensor(0.0)
                    st["m"], st["v"] = torch.zeros_like(p), torch.zeros_like(p)
                st["step"] += 1
                t = st["step"].item()
                g = p.grad + group["weight_decay"] * p if group["weight_decay"] else p.grad
                st["m"] = b1 * st["m"] + (1 - b1) * g
                st["v"] = b2 * st["v"] + (1 - b2) * g * g
                denom = (st["v"] / (1 - b2 ** t)).sqrt() + group["eps"]
                p.sub_(group["lr"] / (1 - b1 ** t) * st["m"] / denom)
        return loss
'''
WRAPS_TORCH = '''
from torch.optim import AdamW as _TorchAdamW


class AdamW(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))
        self._inner = _TorchAdamW(self.param_groups)

    def step(self, closure=None):
        return self._inner.step(closure)
'''

# ---------------------------------------------------------------- gradients a training loop hands over
_ADAM_HEAD = '''
class Adam(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            b1, b2 = group["betas"]
'''
_RETURN = "        return loss\n"
_ADAM_TAIL = '''
                g = p.grad + group["weight_decay"] * p if group["weight_decay"] else p.grad
                st["m"].mul_(b1).add_((1 - b1) * g)
                st["v"].mul_(b2).add_((1 - b2) * g * g)
                denom = (st["v"] / BC2).sqrt() + group["eps"]
                p.sub_(group["lr"] / BC1 * st["m"] / denom)
'''
_STATE = '''
                st = self.state[p]
                if not st:
                    st["step"], st["m"], st["v"] = 0, torch.zeros_like(p), torch.zeros_like(p)
                st["step"] += 1
                t = st["step"]
'''
_PLAIN_BC = _ADAM_TAIL.replace("BC1", "(1 - b1 ** t)").replace("BC2", "(1 - b2 ** t)")
# "a zero gradient changes nothing": but the moments decay and m still moves p
ADAM_SKIPS_ZERO_GRADS = _ADAM_HEAD + '''
            for p in group["params"]:
                if p.grad is None or not p.grad.any():
                    continue
''' + _STATE + _PLAIN_BC + _RETURN
# one counter per group: right while every parameter gets a gradient at every step
ADAM_GROUP_STEP_COUNTER = _ADAM_HEAD + '''
            group["t"] = group.get("t", 0) + 1
            t = group["t"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                st = self.state[p]
                if not st:
                    st["m"], st["v"] = torch.zeros_like(p), torch.zeros_like(p)
''' + _PLAIN_BC + _RETURN
# bias corrections from float32 tensors: torch.tensor(0.999) is float32
ADAM_FLOAT32_BIAS_CORRECTION = _ADAM_HEAD + '''
            for p in group["params"]:
                if p.grad is None:
                    continue
''' + _STATE + _ADAM_TAIL.replace("BC1", "(1 - torch.tensor(b1) ** t)").replace("BC2", "(1 - torch.tensor(b2) ** t)") \
    + _RETURN
RMSPROP_NONE_AS_ZERO = '''
class RMSprop(Optimizer):
    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad if p.grad is not None else torch.zeros_like(p)
                if group["weight_decay"]:
                    g = g + group["weight_decay"] * p
                st = self.state[p]
                if not st:
                    st["step"], st["square_avg"] = 0, torch.zeros_like(p)
                st["step"] += 1
                st["square_avg"].mul_(group["alpha"]).addcmul_(g, g, value=1 - group["alpha"])
                p.addcdiv_(g, st["square_avg"].sqrt().add_(group["eps"]), value=-group["lr"])
        return loss
'''
ADAGRAD_NO_NONE_CHECK = '''
class Adagrad(Optimizer):
    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, eps=eps))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad.clone()
                if group["weight_decay"]:
                    g += group["weight_decay"] * p
                st = self.state[p]
                if not st:
                    st["step"], st["sum"] = 0, torch.full_like(p, group["initial_accumulator_value"])
                st["step"] += 1
                st["sum"].addcmul_(g, g)
                clr = group["lr"] / (1 + (st["step"] - 1) * group["lr_decay"])
                p.addcdiv_(g, st["sum"].sqrt() + group["eps"], value=-clr)
        return loss
'''
# the decay runs before the check for a missing gradient, so a parameter without one still shrinks
ADAMW_DECAYS_WITHOUT_GRAD = '''
class AdamW(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            b1, b2 = group["betas"]
            for p in group["params"]:
                p.mul_(1 - group["lr"] * group["weight_decay"])
                if p.grad is None:
                    continue
                st = self.state[p]
                if not st:
                    st["step"], st["m"], st["v"] = 0, torch.zeros_like(p), torch.zeros_like(p)
                st["step"] += 1
                t = st["step"]
                st["m"].lerp_(p.grad, 1 - b1)
                st["v"].mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
                denom = (st["v"] / (1 - b2 ** t)).sqrt().add_(group["eps"])
                p.addcdiv_(st["m"], denom, value=-group["lr"] / (1 - b1 ** t))
        return loss
'''

# ---------------------------------------------------------------- issue 23: the edges of the contract, by kind
# Types and dtypes: state created with torch.zeros(p.shape), float32 by default, for float64 parameters
ADAM_FLOAT32_STATE = _ADAM_HEAD + '''
            for p in group["params"]:
                if p.grad is None:
                    continue
                st = self.state[p]
                if not st:
                    st["step"], st["m"], st["v"] = 0, torch.zeros(p.shape), torch.zeros(p.shape)
                st["step"] += 1
                t = st["step"]
''' + _PLAIN_BC + _RETURN
# Types and dtypes: the step computed in float64, p.data replaced by a float64 tensor
RMSPROP_UPCASTS = '''
class RMSprop(Optimizer):
    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad.double()  # in double precision, to be safe
                if group["weight_decay"]:
                    g = g + group["weight_decay"] * p.data.double()
                st = self.state[p]
                if not st:
                    st["step"], st["square_avg"] = 0, torch.zeros_like(g)
                st["step"] += 1
                st["square_avg"].mul_(group["alpha"]).addcmul_(g, g, value=1 - group["alpha"])
                p.data = p.data - group["lr"] * g / (st["square_avg"].sqrt() + group["eps"])
        return loss
'''
# State over time: the step counter kept on the optimizer, not in self.state[p] (lost by a state_dict round trip)
ADAM_COUNTER_ON_OPTIMIZER = _ADAM_HEAD + '''
            self.t = getattr(self, "t", 0) + 1
            t = self.t
            for p in group["params"]:
                if p.grad is None:
                    continue
                st = self.state[p]
                if not st:
                    st["m"], st["v"] = torch.zeros_like(p), torch.zeros_like(p)
''' + _PLAIN_BC + _RETURN
# State over time: step(closure) never returns the loss (a step() written from scratch)
ADAGRAD_NO_CLOSURE = '''
class Adagrad(Optimizer):
    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, eps=eps))

    @torch.no_grad()
    def step(self, closure=None):
        if closure is not None:
            with torch.enable_grad():
                closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad + group["weight_decay"] * p if group["weight_decay"] else p.grad
                st = self.state[p]
                if not st:
                    st["step"], st["sum"] = 0, torch.full_like(p, group["initial_accumulator_value"])
                st["step"] += 1
                st["sum"].addcmul_(g, g)
                clr = group["lr"] / (1 + (st["step"] - 1) * group["lr_decay"])
                p.addcdiv_(g, st["sum"].sqrt().add_(group["eps"]), value=-clr)
'''
# Degenerate input: a parameter group with weight_decay 0 falls back to the default (0.0 is falsy)
ADAMW_ZERO_DECAY_FALLS_BACK = '''
class AdamW(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            b1, b2 = group["betas"]
            wd = group.get("weight_decay") or self.defaults["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                st = self.state[p]
                if not st:
                    st["step"], st["m"], st["v"] = 0, torch.zeros_like(p), torch.zeros_like(p)
                st["step"] += 1
                t = st["step"]
                p.mul_(1 - group["lr"] * wd)
                st["m"].lerp_(p.grad, 1 - b1)
                st["v"].mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
                denom = (st["v"] / (1 - b2 ** t)).sqrt().add_(group["eps"])
                p.addcdiv_(st["m"], denom, value=-group["lr"] / (1 - b1 ** t))
        return loss
'''
# Composition, an option lost along one branch: the sum of squares takes the raw gradient, the step the decayed one
ADAGRAD_DECAY_AFTER_SUM = ADAGRAD_NO_CLOSURE.replace('''                g = p.grad + group["weight_decay"] * p if group["weight_decay"] else p.grad
                st = self.state[p]
                if not st:
                    st["step"], st["sum"] = 0, torch.full_like(p, group["initial_accumulator_value"])
                st["step"] += 1
                st["sum"].addcmul_(g, g)''', '''                st = self.state[p]
                if not st:
                    st["step"], st["sum"] = 0, torch.full_like(p, group["initial_accumulator_value"])
                st["step"] += 1
                st["sum"].addcmul_(p.grad, p.grad)
                g = p.grad + group["weight_decay"] * p if group["weight_decay"] else p.grad''').replace(
    "                closure()", "                loss = closure()").replace(
    "        if closure is not None:", "        loss = None\n        if closure is not None:") + "        return loss\n"
# Composition: RMSprop's weight decay is added to the step but not to the average of squares
RMSPROP_DECAY_NOT_IN_AVERAGE = RMSPROP_NONE_AS_ZERO.replace('''                g = p.grad if p.grad is not None else torch.zeros_like(p)
                if group["weight_decay"]:
                    g = g + group["weight_decay"] * p
                st = self.state[p]''', '''                if p.grad is None:
                    continue
                st = self.state[p]''').replace(
    '''                st["square_avg"].mul_(group["alpha"]).addcmul_(g, g, value=1 - group["alpha"])''',
    '''                st["square_avg"].mul_(group["alpha"]).addcmul_(p.grad, p.grad, value=1 - group["alpha"])
                g = p.grad + group["weight_decay"] * p''')

# ---------------------------------------------------------------- correct answers at the edges
# the step counter as a float32 tensor, as torch's own Adam keeps it (exact for whole numbers: no precision issue)
ADAM_TENSOR_STEP_F32 = ADAM_TENSOR_OPS.replace('st["step"] = torch.tensor(0.0)', 'st["step"] = torch.zeros((), dtype=torch.float32)')
# AdamW whose decay is written as p.add_(p, alpha=-lr * wd), and bias corrections folded into the step size
ADAMW_FOLDED = '''
import math


class AdamW(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                state["step"] += 1
                t = state["step"]
                p.add_(p, alpha=-group["lr"] * group["weight_decay"])
                state["exp_avg"].mul_(beta1).add_(p.grad, alpha=1 - beta1)
                state["exp_avg_sq"].mul_(beta2).addcmul_(p.grad, p.grad, value=1 - beta2)
                denom = (state["exp_avg_sq"].sqrt() / math.sqrt(1 - beta2 ** t)).add_(group["eps"])
                p.addcdiv_(state["exp_avg"], denom, value=-group["lr"] / (1 - beta1 ** t))
        return loss
'''
# Adadelta with the state made by torch.zeros_like (keeps float32 parameters float32) and written out of place
ADADELTA_OUT_OF_PLACE = '''
class Adadelta(Optimizer):
    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0):
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            rho, eps, lr, wd = group["rho"], group["eps"], group["lr"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad if wd == 0 else p.grad + wd * p
                state = self.state[p]
                if not state:
                    state.update(step=0, square_avg=torch.zeros_like(p), acc_delta=torch.zeros_like(p))
                state["step"] += 1
                state["square_avg"] = rho * state["square_avg"] + (1 - rho) * g * g
                delta = torch.sqrt(state["acc_delta"] + eps) / torch.sqrt(state["square_avg"] + eps) * g
                state["acc_delta"] = rho * state["acc_delta"] + (1 - rho) * delta * delta
                p.copy_(p - lr * delta)
        return loss
'''

BUGGY = [_mistake(opt, bug) for opt, bugs in mistakes.MISTAKES.items() for bug in bugs] + [
    # torch's own class passes every comparison: only the grader's reading of the code catches these
    Variant("bug-adam-subclasses-torch", "adam", "class Adam(torch.optim.Adam):\n    pass\n", "test_adam",
            hidden="Adam must implement the update itself"),
    Variant("bug-adamw-wraps-torch", "adamw", WRAPS_TORCH, "test_adamw",
            hidden="AdamW must implement the update itself"),
    # contract items the first hidden tests never built (issue 10): None and zero gradients, float32 bias corrections
    Variant("bug-adam-skips-zero-grads", "adam", ADAM_SKIPS_ZERO_GRADS, "test_adam",
            hidden="some gradients exactly zero for a few steps (still a step) (your parameters differ"),
    Variant("bug-adam-group-step-counter", "adam", ADAM_GROUP_STEP_COUNTER, "test_adam",
            hidden="some gradients None for a few steps"),
    Variant("bug-rmsprop-none-as-zero", "rmsprop", RMSPROP_NONE_AS_ZERO, "test_rmsprop",
            hidden="some gradients None for a few steps"),
    Variant("bug-adagrad-no-none-check", "adagrad", ADAGRAD_NO_NONE_CHECK, "test_adagrad",
            hidden="Adagrad raised AttributeError"),
    Variant("bug-adamw-decays-without-grad", "adamw", ADAMW_DECAYS_WITHOUT_GRAD, "test_adamw",
            hidden="some gradients None for a few steps"),
    Variant("bug-adam-float32-bias-correction", "adam", ADAM_FLOAT32_BIAS_CORRECTION, "test_adam",
            hidden="a precision problem, not a wrong formula"),
    # issue 23, by kind. Types and dtypes:
    Variant("bug-adam-float32-state", "adam", ADAM_FLOAT32_STATE, "test_adam",
            hidden="keeps its state as float32 tensors for float64 parameters: a precision problem"),
    Variant("bug-rmsprop-upcasts-parameters", "rmsprop", RMSPROP_UPCASTS, "test_rmsprop",
            hidden="are float64 after your steps"),
    # state over time
    Variant("bug-adam-counter-on-optimizer", "adam", ADAM_COUNTER_ON_OPTIMIZER, "test_adam",
            hidden="state_dict round trip (your parameters differ"),
    Variant("bug-adagrad-closure-loss-dropped", "adagrad", ADAGRAD_NO_CLOSURE, "test_adagrad",
            hidden="step(closure) returns None"),
    # degenerate input the text allows: a group with weight_decay 0
    Variant("bug-adamw-zero-decay-falls-back", "adamw", ADAMW_ZERO_DECAY_FALLS_BACK, "test_adamw",
            hidden="Fails with: two parameter groups with different settings"),
    # composition: an option lost along one branch
    Variant("bug-adagrad-decay-not-in-sum", "adagrad", ADAGRAD_DECAY_AFTER_SUM, "test_adagrad",
            hidden="Fails with: weight_decay > 0"),
    Variant("bug-rmsprop-decay-not-in-average", "rmsprop", RMSPROP_DECAY_NOT_IN_AVERAGE, "test_rmsprop",
            hidden="weight_decay > 0"),
]

CORRECT = [Variant("ok-adam-out-of-place", "adam", ADAM_TENSOR_OPS, "test_adam"),
           Variant("ok-adam-float32-step-counter", "adam", ADAM_TENSOR_STEP_F32, "test_adam"),
           Variant("ok-adamw-folded-bias-correction", "adamw", ADAMW_FOLDED, "test_adamw"),
           Variant("ok-adadelta-out-of-place", "adadelta", ADADELTA_OUT_OF_PLACE, "test_adadelta")] \
    + [_mistake(opt, "") for opt in mistakes.MISTAKES] \
    + [_reference_package(opt) for opt in mistakes.MISTAKES]
