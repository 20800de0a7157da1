"""Optimizer parts judged by their trajectory (chapters 7, 8 and 9).

The student's optimizer and torch.optim's run the same steps from the same start on the same gradients
(``coursekit.checks.optimizer_trajectory``, called in the sandbox through the harness's ``trajectory`` kind), and
the parameters after every step are compared. When they differ, known-wrong optimizers run beside torch's name
the likely cause; a trajectory that agrees only to about float32 precision is called a precision problem, not a
wrong formula. Messages never contain the hidden inputs or the expected values.
"""

from __future__ import annotations

import ast
import functools

import numpy as np
import torch

from coursekit.checks import assert_same_trajectory, optimizer_trajectory

from ..verdicts import Failure, Foreign, Mistake, Scenario, returned

# A trajectory this close to torch's, but not within the scenario's tolerance, is rounding, not a wrong formula.
PRECISION_RTOL = 1e-4
PRECISION = ("agrees with torch.optim.{name} only to about float32 precision: look for a float32 tensor in the "
             "computation")


class Trajectories:
    """The scenarios of one optimizer part.

    ``table`` lists ``(label, covers, [(kwargs, run), ...])``: the optimizer's keyword arguments and the
    options of ``optimizer_trajectory`` (steps, dtype, groups, lr_changes, none_grads, ...; ``rtol``/``atol``
    set the scenario's tolerance). ``mistakes`` are ``(optimizer class, hint)`` pairs; only those that a scenario
    can tell apart from torch's are tried on it. ``match`` is the tolerance within which an answer is taken to be
    a known mistake.
    """

    def __init__(self, name, reference, table, mistakes, *, steps=20, rtol=1e-9, atol=1e-12,
                 match=(1e-6, 1e-9), precision=PRECISION):
        self.name, self.reference, self.table = name, reference, table
        self.mistakes, self.steps, self.tol, self.match = tuple(mistakes), steps, (rtol, atol), match
        self.precision = precision

    def run(self, run) -> tuple[dict, tuple[float, float]]:
        """``optimizer_trajectory``'s options and the (rtol, atol) of one run."""
        run = {"steps": self.steps, **run}
        return run, (run.pop("rtol", self.tol[0]), run.pop("atol", self.tol[1]))

    @functools.lru_cache(maxsize=None)
    def want(self, index, k) -> torch.Tensor:
        """torch.optim's trajectory for run ``k`` of scenario ``index``: computed once per grading process."""
        kwargs, run = self.table[index][2][k]
        return optimizer_trajectory(self.reference, kwargs, **self.run(run)[0])

    @functools.lru_cache(maxsize=None)
    def wrong(self, index, k) -> tuple:
        """(trajectory, hint) of each known mistake that this run tells apart from torch's."""
        kwargs, run = self.table[index][2][k]
        run = self.run(run)[0]
        want = self.want(index, k).double()
        out = []
        for cls, hint in self.mistakes:
            try:
                traj = optimizer_trajectory(cls, kwargs, **run).double()
            except Exception:  # a mistake that cannot run this scenario shows nothing here
                continue
            if traj.shape != want.shape or not torch.allclose(traj, want, rtol=1e-5, atol=1e-8):
                out.append((traj, hint))
        return tuple(out)

    def judge(self, got, want, wrong, label, rtol, atol) -> None:
        """Raise a Mistake naming a known cause, or a Failure saying what differs, unless ``got`` is ``want``."""
        name = self.name
        if isinstance(got, Foreign) or not isinstance(got, np.ndarray):
            raise Failure(f"{name}: the optimizer did not produce parameters")
        got = torch.from_numpy(got).to(torch.float64)
        want = want.to(torch.float64)
        try:
            assert_same_trajectory(got, want, name, label, rtol=rtol, atol=atol)
        except AssertionError as exc:
            for traj, hint in wrong:
                if traj.shape == got.shape and torch.allclose(traj.double(), got, rtol=self.match[0],
                                                              atol=self.match[1]):
                    raise Mistake(f"{name}: {hint}") from None
            if got.shape == want.shape and rtol < PRECISION_RTOL and torch.allclose(got, want, rtol=PRECISION_RTOL,
                                                                                    atol=1e-8):
                err = float(((got - want).abs() / want.abs().clamp_min(1e-12)).max())
                raise Mistake(f"{name}: " + self.precision.format(name=name, err=err)) from None
            # the label is in the report already: keep what differs
            raise Failure(str(exc).replace(f"{name} ({label}): ", "")) from None

    def check(self, index):
        label = self.table[index][0]

        def check(values):
            for k, got in enumerate(returned(values, self.name)):
                rtol, atol = self.run(self.table[index][2][k][1])[1]
                self.judge(got, self.want(index, k), self.wrong(index, k), label, rtol, atol)
        return check

    def call(self, kwargs, run) -> dict:
        run = self.run(run)[0]
        if "dtype" in run:
            run["dtype"] = str(run["dtype"]).replace("torch.", "")
        return {"kind": "trajectory", "name": self.name, "kwargs": kwargs, "run": run}

    def scenarios(self) -> list[Scenario]:
        return [Scenario(label, [self.call(kw, run) for kw, run in runs], self.check(i), covers)
                for i, (label, covers, runs) in enumerate(self.table)]

    def static(self, source: str) -> None:
        """A Failure when the answer hands the work to torch.optim's own optimizer."""
        if uses_torch_optimizer(source, self.reference.__name__):
            raise Failure(f"{self.name} must implement the update itself: your answer uses "
                          f"torch.optim.{self.reference.__name__} (or its functional form)")


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
