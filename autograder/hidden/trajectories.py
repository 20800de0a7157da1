"""Optimizer parts judged by their trajectory (chapters 7, 8 and 9).

The student's optimizer and torch.optim's run the same steps from the same start on the same gradients
(``coursekit.checks.optimizers.trajectory_report``, a probe run in the sandbox), and the parameters after every
step are compared. When they differ, known-wrong optimizers run beside torch's name the likely cause, but only
when the answer follows that mistake on the scenario (a mistake that the scenario cannot tell apart from torch's
update is not tried there). A trajectory that agrees only to about float32 precision is called a precision
problem only with evidence that the computation went through float32 (the probe reports the dtypes of the state,
of the parameters and of what the first step computed); otherwise the message says what differs without naming a
cause. Messages never contain the hidden inputs or the expected values.
"""

from __future__ import annotations

import ast
import functools

import numpy as np
import torch

from coursekit.checks import assert_same_trajectory, optimizer_trajectory

from ..verdicts import Failure, Foreign, Mistake, Scenario, returned

# A trajectory this close to torch's, but not within the scenario's tolerance, may be rounding.
PRECISION_RTOL = 1e-4
PRECISION = ("differs from torch.optim.{name} by about {err:.0e} of the parameters' size (float64 rounding gives "
             "far less), and {evidence}: a precision problem, not a wrong formula (keep the computation in the "
             "parameters' dtype)")
PROBE = "coursekit.checks.optimizers:trajectory_report"
LOW = ("float32", "float16", "bfloat16")


def evidence(report: dict, dtype: str) -> str:
    """Why a float64 run lost precision, from what the probe saw, or "" when it saw nothing."""
    if dtype != "float64":
        return ""
    low = [d for d in report.get("param_dtypes", []) if d in LOW]
    if low:
        return f"your step turned the float64 parameters into {low[0]}"
    low = [d for d in report.get("state_dtypes", []) if d in LOW]
    if low:
        return f"your optimizer keeps its state as {low[0]} tensors for float64 parameters"
    low = [d for d in report.get("low_precision", []) if d in LOW]
    if low:
        return (f"your step computes {low[0]} tensors for float64 parameters (e.g. torch.tensor(beta) ** step or "
                ".float(), where torch uses Python floats)")
    return ""


class Trajectories:
    """The scenarios of one optimizer part.

    ``table`` lists ``(label, covers, [(kwargs, run), ...])``: the optimizer's keyword arguments and the
    options of ``optimizer_trajectory`` (steps, dtype, groups, lr_changes, group_changes, none_grads,
    set_to_none, closure, ...; ``rtol``/``atol`` set the scenario's tolerance). ``mistakes`` are
    ``(optimizer class, hint, key)`` triples (or ``(class, hint)``, keyed by the class name); only those that a
    scenario tells apart from torch's are tried on it. ``match`` is the tolerance within which an answer is taken
    to follow a known mistake.
    """

    def __init__(self, name, reference, table, mistakes, *, steps=20, rtol=1e-9, atol=1e-12,
                 match=(1e-6, 1e-9), precision=PRECISION):
        self.name, self.reference, self.table = name, reference, table
        self.mistakes = tuple((m[0], m[1], m[2] if len(m) > 2 else m[0].__name__) for m in mistakes)
        self.steps, self.tol, self.match = steps, (rtol, atol), match
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
        """(trajectory, hint, key) of each known mistake that this run tells apart from torch's: one that fails
        the run's own tolerance."""
        kwargs, run = self.table[index][2][k]
        run, (rtol, atol) = self.run(run)
        want = self.want(index, k).double()
        out = []
        for cls, hint, key in self.mistakes:
            try:
                traj = optimizer_trajectory(cls, kwargs, **run).double()
            except Exception:  # a mistake that cannot run this scenario shows nothing here
                continue
            if traj.shape != want.shape or not torch.allclose(traj, want, rtol=rtol, atol=atol):
                out.append((traj, hint, key))
        return tuple(out)

    def follows(self, got, traj, want, rtol=0.0, atol=0.0) -> bool:
        """Does ``got`` follow the mistake's trajectory ``traj``: equal to it up to rounding (``match``, or the
        scenario's tolerance ``rtol``/``atol`` when looser, as in float32), and far closer to it than the mistake is
        to torch's ``want``?"""
        rtol, atol = max(rtol, self.match[0]), max(atol, self.match[1])
        if traj.shape != got.shape or not torch.allclose(traj, got, rtol=rtol, atol=atol):
            return False
        if traj.shape != want.shape:
            return True
        return float((got - traj).abs().max()) <= 1e-2 * float((traj - want).abs().max())

    def judge(self, got, want, wrong, label, rtol, atol, run=None) -> set:
        """Raise a Mistake naming a known cause, or a Failure saying what differs, unless ``got`` is ``want``;
        then return the keys of the known mistakes the run rules out."""
        name, run = self.name, run or {}
        dtype = str(run.get("dtype", "float64")).replace("torch.", "")
        report = got if isinstance(got, dict) else {"params": got}
        got = report.get("params")
        dtypes = [d for d in report.get("param_dtypes", []) if isinstance(d, str)]
        if dtypes and dtypes != [dtype]:
            raise Failure(f"{name}: the parameters were {dtype} and are {', '.join(dtypes)} after your steps"
                          + (" (so the training loop's loss could not be computed on the data, which are "
                             f"{dtype})" if got is None else "")
                          + ": update them in place and keep their dtype, as torch does")
        if isinstance(got, Foreign) or not isinstance(got, np.ndarray):
            raise Failure(f"{name}: the optimizer did not produce parameters")
        got = torch.from_numpy(np.asarray(got, dtype=float)).to(torch.float64)
        want = want.to(torch.float64)
        try:
            assert_same_trajectory(got, want, name, label, rtol=rtol, atol=atol)
        except AssertionError as exc:
            plain = str(exc).replace(f"{name} ({label}): ", "") + which_group(got, want, run.get("groups"), rtol, atol)
            if run.get("closure") and got.shape == want.shape and torch.equal(got[0], got[-1]) \
                    and not torch.equal(want[0], want[-1]):
                raise Failure(f"{name}: step(closure) must call the closure (it computes the loss and the "
                              "gradients) before updating: with a closure your parameters never moved") from None
            hits = [(hint, key) for traj, hint, key in wrong if self.follows(got, traj.double(), want, rtol, atol)]
            if hits:  # several mistakes this scenario cannot tell apart: the part names the one all scenarios share
                raise Mistake(f"{name}: {hits[0][0]}", key=hits[0][1], plain=plain,
                              also=tuple(k for _, k in hits[1:])) from None
            why = evidence(report, dtype)
            # rounding errors scale with the parameters, not with each coordinate (a near-zero one included)
            scale = PRECISION_RTOL * float(want.abs().max())
            if why and got.shape == want.shape and rtol < PRECISION_RTOL \
                    and torch.allclose(got, want, rtol=PRECISION_RTOL, atol=scale):
                err = float((got - want).abs().max()) / max(float(want.abs().max()), 1e-12)
                raise Mistake(f"{name}: " + self.precision.format(name=name, err=err, evidence=why),
                              key="precision", plain=plain) from None
            # the label is in the report already: keep what differs
            raise Failure(plain) from None
        if run.get("closure"):
            self.judge_closure(report.get("returned"))
            return set()  # the models of mistakes ignore a closure: this run tells nothing about them
        # passed: every known mistake that this run tells apart from torch's is one the answer did not make
        return {key for _, _, key in wrong}

    def judge_closure(self, pairs) -> None:
        name = self.name
        if not isinstance(pairs, list) or not pairs:
            raise Failure(f"{name}: step(closure) could not be observed")
        for out, loss in pairs:
            if out is None:
                raise Failure(f"{name}: step(closure) returns None: return the loss the closure computed, as "
                              "torch's optimizers do (loss = closure() inside torch.enable_grad(); ... return loss)")
            if not isinstance(out, (int, float)) or not isinstance(loss, (int, float)) \
                    or not np.isclose(out, loss, rtol=1e-12, atol=0):
                raise Failure(f"{name}: step(closure) must return the loss the closure computed (the value of "
                              "closure(), evaluated once before the update)")

    def check(self, index):
        label = self.table[index][0]

        def check(values):
            ruled_out = set()
            for k, got in enumerate(returned(values, self.name)):
                run, (rtol, atol) = self.run(self.table[index][2][k][1])
                ruled_out |= self.judge(got, self.want(index, k), self.wrong(index, k), label, rtol, atol, run)
            return ruled_out
        return check

    def call(self, kwargs, run) -> dict:
        run = self.run(run)[0]
        if "dtype" in run:
            run["dtype"] = str(run["dtype"]).replace("torch.", "")
        return {"kind": "probe", "probe": PROBE, "name": self.name, "args": [kwargs, run]}

    def scenarios(self) -> list[Scenario]:
        return [Scenario(label, [self.call(kw, run) for kw, run in runs], self.check(i), covers)
                for i, (label, covers, runs) in enumerate(self.table)]

    def static(self, source: str) -> None:
        """A Failure when the answer hands the work to torch.optim's own optimizer."""
        if uses_torch_optimizer(source, self.reference.__name__):
            raise Failure(f"{self.name} must implement the update itself: your answer uses "
                          f"torch.optim.{self.reference.__name__} (or its functional form)")


SIZES = (40, 8, 64, 8, 8, 1)  # the probe's parameters W1, b1, W2, b2, W3, b3, flattened in this order


def which_group(got, want, groups, rtol, atol) -> str:
    """For a run with parameter groups: which group's parameters differ first (the other group's follow only
    through the shared loss), so that a scenario that sets several options says which one is wrong."""
    if not groups or got.shape != want.shape or got.shape[1] != sum(SIZES):
        return ""
    bad = ~torch.isclose(got, want, rtol=rtol, atol=atol)
    if not bad.any():
        return ""
    first = bad[int(bad.any(dim=1).nonzero()[0])]
    bounds = np.cumsum((0,) + SIZES)
    differ = [k for k, g in enumerate(groups)
              if any(bool(first[bounds[i]:bounds[i + 1]].any()) for i in g["params"])]
    if len(differ) != 1:
        return ""
    settings = " and ".join(k for k in groups[differ[0]] if k != "params")
    return (f"; at that step only the parameters of group {differ[0] + 1} of {len(groups)} differ (the group that "
            f"sets {settings or 'nothing of its own'})")


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
