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
                   visible=VISIBLE_EXCEPTIONS.get((opt, bug), hint), hidden=hint)


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

BUGGY = [_mistake(opt, bug) for opt, bugs in mistakes.MISTAKES.items() for bug in bugs] + [
    # torch's own class passes every comparison: only the grader's reading of the code catches these
    Variant("bug-adam-subclasses-torch", "adam", "class Adam(torch.optim.Adam):\n    pass\n", "test_adam",
            hidden="Adam must implement the update itself"),
    Variant("bug-adamw-wraps-torch", "adamw", WRAPS_TORCH, "test_adamw",
            hidden="AdamW must implement the update itself"),
]

CORRECT = [Variant("ok-adam-out-of-place", "adam", ADAM_TENSOR_OPS, "test_adam")] \
    + [_mistake(opt, "") for opt in mistakes.MISTAKES] \
    + [_reference_package(opt) for opt in mistakes.MISTAKES]
