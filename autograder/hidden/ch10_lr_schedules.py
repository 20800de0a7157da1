"""Hidden tests for Chapter 10: learning-rate schedules.

Each scheduler runs in the sandbox through ``coursekit.checks.lr_schedules:schedule_run``, on an optimizer with
one or several parameter groups, and its learning rates (group["lr"] after construction and after every step,
get_last_lr(), last_epoch, base_lrs) are compared with torch's class (SequentialLR of LinearLR and
CosineAnnealingLR for the warmup-cosine part) driven the same way here. When the rates match a named mistake,
the message names it. The training loop runs through ``run_fit``, which records the order of the calls and the
rate each optimizer step used. Messages never contain the hidden inputs or the expected values.
"""

from __future__ import annotations

import ast
import functools
import json
import math

import numpy as np
import torch.nn.functional as F

from coursekit.checks import lr_schedules as checks
from coursekit.checks.lr_schedules import MESSAGES, TORCH
from solutions import lr_schedules as ref

from ..harness import encode
from ..verdicts import Failure, Mistake, Part, Scenario, decode, returned
from .common import probe


def _plain(value):
    """``value`` as the grader receives it from the sandbox (encoded and decoded), for like-for-like comparisons."""
    return decode(json.loads(json.dumps(encode(value))))


# ---------------------------------------------------------------- known mistakes, as schedulers
class _StepOneBase(ref.StepLR):
    def get_lr(self):
        return [self.base_lrs[0] * self.gamma ** (self.last_epoch // self.step_size) for _ in self.base_lrs]


class _StepEarly(ref.StepLR):
    def get_lr(self):
        return [b * self.gamma ** ((self.last_epoch + 1) // self.step_size) for b in self.base_lrs]


class _StepNoFloor(ref.StepLR):
    def get_lr(self):
        return [b * self.gamma ** (self.last_epoch / self.step_size) for b in self.base_lrs]


class _CosOneBase(ref.CosineAnnealingLR):
    def get_lr(self):
        c = (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
        return [self.eta_min + (self.base_lrs[0] - self.eta_min) * c for _ in self.base_lrs]


class _CosTmaxMinusOne(ref.CosineAnnealingLR):
    def get_lr(self):
        c = (1 + math.cos(math.pi * self.last_epoch / (self.T_max - 1 if self.T_max > 1 else 1))) / 2
        return [self.eta_min + (b - self.eta_min) * c for b in self.base_lrs]


class _CosShifted(ref.CosineAnnealingLR):
    def get_lr(self):
        c = (1 + math.cos(math.pi * (self.last_epoch + 1) / self.T_max)) / 2
        return [self.eta_min + (b - self.eta_min) * c for b in self.base_lrs]


class _CosNoEtaMin(ref.CosineAnnealingLR):
    def get_lr(self):
        return [b * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2 for b in self.base_lrs]


class _CosClamped(ref.CosineAnnealingLR):
    def get_lr(self):
        c = (1 + math.cos(math.pi * min(self.last_epoch, self.T_max) / self.T_max)) / 2
        return [self.eta_min + (b - self.eta_min) * c for b in self.base_lrs]


class _LinZero(ref.LinearLR):
    def get_lr(self):
        frac = min(self.last_epoch, self.total_iters) / self.total_iters
        return [b * self.end_factor * frac for b in self.base_lrs]


class _LinOneBase(ref.LinearLR):
    def get_lr(self):
        return [ref.LinearLR.get_lr(self)[0] for _ in self.base_lrs]


class _LinUnclamped(ref.LinearLR):
    def get_lr(self):
        f = self.start_factor + (self.end_factor - self.start_factor) * self.last_epoch / self.total_iters
        return [b * f for b in self.base_lrs]


class _LinEarly(ref.LinearLR):
    def get_lr(self):
        frac = min(self.last_epoch + 1, self.total_iters) / self.total_iters
        return [b * (self.start_factor + (self.end_factor - self.start_factor) * frac) for b in self.base_lrs]


class _WCZero(ref.WarmupCosineLR):
    def get_lr(self):
        t, w = self.last_epoch, self.warmup_iters
        if t < w:
            return [b * t / w for b in self.base_lrs]
        return ref.WarmupCosineLR.get_lr(self)


class _WCShifted(ref.WarmupCosineLR):
    def get_lr(self):
        t, w = self.last_epoch, self.warmup_iters
        if t < w:
            return ref.WarmupCosineLR.get_lr(self)
        c = (1 + math.cos(math.pi * (t - w + 1) / self.T_max)) / 2
        return [self.eta_min + (b - self.eta_min) * c for b in self.base_lrs]


class _WCFromZero(ref.WarmupCosineLR):
    def get_lr(self):
        t, w = self.last_epoch, self.warmup_iters
        if t < w:
            return ref.WarmupCosineLR.get_lr(self)
        c = (1 + math.cos(math.pi * t / (self.T_max + w))) / 2
        return [self.eta_min + (b - self.eta_min) * c for b in self.base_lrs]


class _WCOneBase(ref.WarmupCosineLR):
    def get_lr(self):
        v = ref.WarmupCosineLR.get_lr(self)[0]
        return [v for _ in self.base_lrs]


SCHED_MISTAKES = {
    "StepLR": [(_StepOneBase, MESSAGES["one_base"]),
               (_StepEarly, "the rate decays one step too early: it is multiplied by gamma when last_epoch "
                            "reaches step_size (last_epoch // step_size), with last_epoch = 0 after construction"),
               (_StepNoFloor, "the rate decays at every step (last_epoch / step_size): StepLR keeps it constant for "
                              "step_size steps (integer division, last_epoch // step_size)")],
    "CosineAnnealingLR": [(_CosOneBase, MESSAGES["one_base"]), (_CosTmaxMinusOne, MESSAGES["cosine_off_by_one"]),
                          (_CosShifted, MESSAGES["cosine_off_by_one"]),
                          (_CosNoEtaMin, "eta_min is ignored: the cosine runs from base_lr down to eta_min"),
                          (_CosClamped, "after T_max the rate stays at eta_min, but torch's cosine goes on (it "
                                        "rises again towards base_lr over the next T_max steps)")],
    "LinearLR": [(_LinZero, MESSAGES["warmup_zero"]), (_LinOneBase, MESSAGES["one_base"]),
                 (_LinUnclamped, "the factor keeps changing after total_iters: it stays at end_factor from "
                                 "last_epoch = total_iters on"),
                 (_LinEarly, "the warmup is one step ahead: the factor is start_factor at last_epoch = 0 and "
                             "reaches end_factor at last_epoch = total_iters")],
    "WarmupCosineLR": [(_WCZero, MESSAGES["warmup_zero"]), (_WCShifted, MESSAGES["warmup_cosine_start"]),
                       (_WCFromZero, MESSAGES["warmup_cosine_start"] + " (the cosine's clock starts at the "
                                     "milestone: use last_epoch - warmup_iters)"),
                       (_WCOneBase, MESSAGES["one_base"])],
}

# ---------------------------------------------------------------- the scheduler parts
COMMON = {
    "groups": "several parameter groups with different base rates, each scheduled from its own base rate",
    "last_epoch": "last_epoch is 0 after construction (the first rate) and grows by one per step()",
    "state_dict": "a state_dict() / load_state_dict() round trip into a fresh scheduler continues the schedule",
    "get_last_lr": "get_last_lr() returns the rates set in the optimizer's groups",
    "base_lrs": "base_lrs (the initial rates) are never changed",
    "any_optimizer": "works with any torch optimizer (Adam, SGD with momentum)",
}
CONTRACTS = {
    "StepLR": {"closed_form": "lr = base_lr * gamma ** (last_epoch // step_size)",
               "default_gamma": "gamma defaults to 0.1",
               "step_size_one": "step_size = 1 decays at every step (exponential decay)",
               "long_run": "many decays over a long run", **COMMON},
    "CosineAnnealingLR": {"closed_form": "lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * last_epoch / T_max)) / 2",
                          "eta_min": "eta_min > 0 (and its default 0)",
                          "at_t_max": "the rate is eta_min exactly at last_epoch = T_max",
                          "beyond": "after T_max the cosine goes on (the rate rises again), as torch's does",
                          "t_max_one": "T_max = 1", **COMMON},
    "LinearLR": {"closed_form": "factor = start_factor + (end_factor - start_factor) * min(last_epoch, total_iters) "
                                "/ total_iters",
                 "first_rate": "the first rate (after construction) is start_factor * base_lr, never 0",
                 "defaults": "torch's defaults start_factor = 1/3, end_factor = 1, total_iters = 5",
                 "constant_after": "from last_epoch = total_iters on, the factor stays at end_factor",
                 "decay": "end_factor < start_factor (a linear decay)",
                 "total_iters_one": "total_iters = 1", **COMMON},
    "WarmupCosineLR": {"warmup": "for last_epoch < warmup_iters, LinearLR's warmup from start_factor * base_lr",
                       "first_rate": "the first rate is start_factor * base_lr, never 0",
                       "milestone": "at last_epoch = warmup_iters the rate is base_lr (the cosine restarts there)",
                       "cosine": "then CosineAnnealingLR's cosine, reaching eta_min at warmup_iters + T_max",
                       "beyond": "after that the cosine goes on, as SequentialLR's does",
                       "defaults": "start_factor defaults to 1/3 and eta_min to 0",
                       "warmup_one": "warmup_iters = 1", **COMMON},
}
LRS2, LRS3 = (0.3, 0.05), (0.2, 0.08, 0.01)
# (label, covers, [(kwargs, lrs, steps, roundtrip_at, optimizer), ...])
SCENARIOS = {
    "StepLR": [
        ("the visible test's settings", ("closed_form", "groups", "state_dict"),
         [({"step_size": 3, "gamma": 0.5}, (0.1,), 12, None, "SGD"),
          ({"step_size": 2, "gamma": 0.3}, (0.2, 0.05), 12, None, "SGD"),
          ({"step_size": 3, "gamma": 0.5}, (0.1, 0.01), 12, 5, "SGD")]),
        ("one group", ("closed_form", "last_epoch", "get_last_lr", "base_lrs"),
         [({"step_size": 4, "gamma": 0.4}, (0.25,), 14, None, "SGD")]),
        ("the default gamma", ("default_gamma",), [({"step_size": 2}, (0.5,), 7, None, "SGD")]),
        ("step_size = 1", ("step_size_one",), [({"step_size": 1, "gamma": 0.8}, (0.1,), 10, None, "SGD")]),
        ("three parameter groups", ("groups",), [({"step_size": 3, "gamma": 0.6}, LRS3, 10, None, "SGD")]),
        ("a long run", ("long_run",), [({"step_size": 5, "gamma": 0.7}, (0.2,), 40, None, "SGD")]),
        ("a state_dict round trip", ("state_dict",), [({"step_size": 2, "gamma": 0.5}, LRS2, 9, 3, "SGD")]),
        ("Adam and SGD with momentum", ("any_optimizer",),
         [({"step_size": 2, "gamma": 0.5}, LRS2, 6, None, "Adam"),
          ({"step_size": 2, "gamma": 0.5}, LRS2, 6, None, "momentum")]),
    ],
    "CosineAnnealingLR": [
        ("the visible test's settings", ("closed_form", "groups", "eta_min", "state_dict"),
         [({"T_max": 4}, (0.1,), 12, None, "SGD"), ({"T_max": 6, "eta_min": 0.001}, (0.2, 0.05), 12, None, "SGD"),
          ({"T_max": 5}, (0.1, 0.01), 12, 3, "SGD")]),
        ("one group up to T_max", ("closed_form", "at_t_max", "last_epoch", "get_last_lr", "base_lrs"),
         [({"T_max": 7}, (0.3,), 7, None, "SGD")]),
        ("eta_min > 0", ("eta_min", "at_t_max"), [({"T_max": 5, "eta_min": 0.02}, (0.2,), 5, None, "SGD")]),
        ("past T_max", ("beyond",), [({"T_max": 3, "eta_min": 0.01}, (0.1,), 13, None, "SGD")]),
        ("T_max = 1", ("t_max_one",), [({"T_max": 1}, (0.1,), 4, None, "SGD")]),
        ("three parameter groups", ("groups",), [({"T_max": 8, "eta_min": 0.001}, LRS3, 8, None, "SGD")]),
        ("a state_dict round trip", ("state_dict",), [({"T_max": 6}, LRS2, 9, 4, "SGD")]),
        ("Adam and SGD with momentum", ("any_optimizer",),
         [({"T_max": 5}, LRS2, 5, None, "Adam"), ({"T_max": 5}, LRS2, 5, None, "momentum")]),
    ],
    "LinearLR": [
        ("the visible test's settings", ("closed_form", "groups", "defaults", "decay", "state_dict"),
         [({"start_factor": 0.25, "total_iters": 4}, (0.1,), 12, None, "SGD"),
          ({"start_factor": 1.0, "end_factor": 0.5, "total_iters": 3}, (0.2, 0.05), 12, None, "SGD"),
          ({}, (0.1, 0.01), 12, 2, "SGD")]),
        ("a warmup, one group", ("closed_form", "first_rate", "last_epoch", "get_last_lr", "base_lrs"),
         [({"start_factor": 0.1, "total_iters": 6}, (0.4,), 6, None, "SGD")]),
        ("after total_iters", ("constant_after",), [({"start_factor": 0.5, "total_iters": 3}, (0.2,), 10, None, "SGD")]),
        ("torch's defaults", ("defaults",), [({}, (0.3,), 8, None, "SGD")]),
        ("a linear decay (end_factor < start_factor)", ("decay",),
         [({"start_factor": 0.9, "end_factor": 0.2, "total_iters": 5}, (0.1,), 8, None, "SGD")]),
        ("total_iters = 1", ("total_iters_one",), [({"start_factor": 0.5, "total_iters": 1}, (0.1,), 4, None, "SGD")]),
        ("three parameter groups", ("groups",), [({"start_factor": 0.2, "total_iters": 4}, LRS3, 6, None, "SGD")]),
        ("a state_dict round trip during the warmup", ("state_dict",),
         [({"start_factor": 0.1, "total_iters": 6}, LRS2, 9, 3, "SGD")]),
        ("Adam and SGD with momentum", ("any_optimizer",),
         [({"start_factor": 0.2, "total_iters": 3}, LRS2, 5, None, "Adam"),
          ({"start_factor": 0.2, "total_iters": 3}, LRS2, 5, None, "momentum")]),
    ],
    "WarmupCosineLR": [
        ("the visible test's settings", ("warmup", "cosine", "groups", "state_dict"),
         [({"warmup_iters": 3, "T_max": 5, "start_factor": 0.2}, (0.1,), 12, None, "SGD"),
          ({"warmup_iters": 2, "T_max": 6, "start_factor": 0.5, "eta_min": 0.001}, (0.2, 0.05), 12, None, "SGD"),
          ({"warmup_iters": 3, "T_max": 4}, (0.1, 0.01), 12, 4, "SGD")]),
        ("one group through warmup and cosine",
         ("warmup", "first_rate", "milestone", "cosine", "last_epoch", "get_last_lr", "base_lrs"),
         [({"warmup_iters": 4, "T_max": 6, "start_factor": 0.1}, (0.3,), 10, None, "SGD")]),
        ("eta_min > 0, past the end of the cosine", ("cosine", "beyond"),
         [({"warmup_iters": 2, "T_max": 4, "start_factor": 0.25, "eta_min": 0.01}, (0.2,), 12, None, "SGD")]),
        ("the default start_factor and eta_min", ("defaults",), [({"warmup_iters": 3, "T_max": 5}, (0.3,), 8, None, "SGD")]),
        ("warmup_iters = 1", ("warmup_one",), [({"warmup_iters": 1, "T_max": 4, "start_factor": 0.5}, (0.1,), 6, None, "SGD")]),
        ("three parameter groups", ("groups",),
         [({"warmup_iters": 3, "T_max": 5, "start_factor": 0.2}, LRS3, 8, None, "SGD")]),
        ("a state_dict round trip after the milestone", ("state_dict",),
         [({"warmup_iters": 2, "T_max": 6, "start_factor": 0.3}, LRS2, 8, 4, "SGD")]),
        ("Adam and SGD with momentum", ("any_optimizer",),
         [({"warmup_iters": 2, "T_max": 3, "start_factor": 0.2}, LRS2, 5, None, "Adam"),
          ({"warmup_iters": 2, "T_max": 3, "start_factor": 0.2}, LRS2, 5, None, "momentum")]),
    ],
}


def _args(case):
    kwargs, lrs, steps, roundtrip_at, optimizer = case
    return (dict(kwargs), list(lrs), steps, roundtrip_at, optimizer)


def _key(case):
    kwargs, lrs, steps, roundtrip_at, optimizer = case
    return (tuple(sorted(kwargs.items())), tuple(lrs), steps, roundtrip_at, optimizer)


@functools.lru_cache(maxsize=None)
def _run(cls, key):
    kwargs, lrs, steps, roundtrip_at, optimizer = key
    return _plain(checks.schedule_run(cls, dict(kwargs), list(lrs), steps, roundtrip_at, optimizer))


def _same(a, b, rtol=1e-9):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=1e-12))


def _check_sched(name, cases):
    def check(values):
        for case, got in zip(cases, returned(values, name)):
            if not isinstance(got, dict) or "lrs" not in got:
                raise Failure(f"{name}: the scheduler did not run")
            want = _run(TORCH[name], _key(case))
            lrs = np.asarray(got["lrs"], dtype=float)
            if lrs.shape != np.asarray(want["lrs"]).shape:
                raise Failure(f"{name}: set a learning rate for every parameter group")
            changed = not _same(got["base_lrs"], got["initial"], rtol=1e-12)
            if not _same(lrs, want["lrs"]):
                ref_lrs = np.asarray(want["lrs"], dtype=float)
                if lrs.shape[1] > 1 and np.allclose(lrs[:, :1], lrs, rtol=1e-9) \
                        and not np.allclose(ref_lrs[:, :1], ref_lrs, rtol=1e-9):
                    raise Mistake(f"{name}: {MESSAGES['one_base']}")
                for cls, hint in SCHED_MISTAKES[name]:
                    wrong = _run(cls, _key(case))
                    if not _same(wrong["lrs"], want["lrs"]) and _same(lrs, wrong["lrs"]):
                        raise Mistake(f"{name}: {hint}")
                if changed:
                    raise Mistake(f"{name}: {MESSAGES['base_lrs']}")
                if case[3] is not None:
                    upto = case[3] + 1
                    if _same(lrs[:upto], np.asarray(want["lrs"])[:upto]):
                        raise Failure(f"{name}: {MESSAGES['roundtrip']}")
                if np.allclose(lrs, want["lrs"], rtol=1e-4, atol=1e-9):
                    raise Mistake(f"{name}: agrees with torch only to about float32 precision: compute the rates "
                                  "as Python floats")
                t = int(np.argmax(np.any(~np.isclose(lrs, want["lrs"], rtol=1e-9, atol=1e-12), axis=1)))
                where = "right after construction" if t == 0 else "after some calls of scheduler.step()"
                raise Failure(f"{name}: the learning rates differ from torch's {where}")
            if changed:
                raise Mistake(f"{name}: {MESSAGES['base_lrs']}")
            if not _same(got["last_lr"], lrs, rtol=1e-12):
                raise Failure(f"{name}: {MESSAGES['get_last_lr']}")
            if list(got["last_epoch"]) != list(want["last_epoch"]):
                raise Failure(f"{name}: last_epoch must be 0 after construction and grow by one per step()")
    return check


def _sched_scenarios(name):
    return [Scenario(label, [probe("coursekit.checks.lr_schedules:schedule_run", name, *_args(c)) for c in cases],
                     _check_sched(name, cases), covers)
            for label, covers, cases in SCENARIOS[name]]


_FORBIDDEN = {"StepLR", "CosineAnnealingLR", "LinearLR", "SequentialLR", "ChainedScheduler", "LambdaLR",
              "MultiplicativeLR", "ExponentialLR", "MultiStepLR", "OneCycleLR", "CosineAnnealingWarmRestarts",
              "PolynomialLR", "ConstantLR"}


def _static(name):
    def check(source):
        try:
            tree = ast.parse(source)
        except SyntaxError:
            return
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in _FORBIDDEN and "lr_scheduler" in ast.unparse(node):
                raise Failure(f"{name} must be written by you (compute the rates in get_lr): your answer uses "
                              f"torch's lr_scheduler.{node.attr}")
            if isinstance(node, ast.ImportFrom) and "lr_scheduler" in (node.module or "") and \
                    {a.name for a in node.names} & _FORBIDDEN:
                raise Failure(f"{name} must be written by you (compute the rates in get_lr): your answer imports "
                              "one of torch's schedulers")
    return check


# ---------------------------------------------------------------- part 5: fit
FIT_CONTRACT = {
    "order": "optimizer.step() comes before scheduler.step() (no warning from torch)",
    "epoch": "interval='epoch': one scheduler.step() at the end of each epoch",
    "step": "interval='step': one scheduler.step() after every optimizer.step()",
    "rates": "each optimizer step uses the rate the schedule gives it (the first step uses the first rate)",
    "training": "per batch: zero_grad, mean cross-entropy, backward, optimizer.step()",
    "history": "returns a list of num_epochs floats, each epoch's mean batch loss",
    "any_schedule": "works with any torch scheduler (StepLR, LinearLR warmup, CosineAnnealingLR)",
    "one_batch": "one batch per epoch",
}
# (label, covers, [(num_batches, num_epochs, interval, schedule, lr), ...])
FIT_SCENARIOS = [
    ("the visible test's settings", ("order", "epoch", "step", "history", "rates"),
     [(3, 3, "epoch", "step", 0.2), (2, 2, "step", "step", 0.2), (3, 1, "epoch", "step", 0.0),
      (2, 1, "epoch", "step", 0.2), (2, 3, "epoch", "warmup", 0.2)]),
    ("interval='epoch'", ("epoch", "order", "rates", "training"), [(4, 3, "epoch", "step", 0.3)]),
    ("interval='step'", ("step", "order", "rates", "training"), [(3, 2, "step", "step", 0.3)]),
    ("a warmup stepped per step", ("rates", "any_schedule"), [(3, 2, "step", "warmup", 0.4)]),
    ("a cosine stepped per epoch", ("any_schedule", "history"), [(2, 5, "epoch", "cosine", 0.3)]),
    ("one batch per epoch", ("one_batch",), [(1, 4, "epoch", "step", 0.3), (1, 3, "step", "warmup", 0.3)]),
]


def _fit_no_zero_grad(net, optimizer, scheduler, batches, num_epochs, interval="epoch"):
    """The named mistake: gradients never zeroed (they accumulate over the batches)."""
    net.train()
    history = []
    for _ in range(num_epochs):
        losses = []
        for X_batch, y_batch in batches:
            loss = F.cross_entropy(net(X_batch), y_batch)
            loss.backward()
            optimizer.step()
            if interval == "step":
                scheduler.step()
            losses.append(loss.item())
        if interval == "epoch":
            scheduler.step()
        history.append(sum(losses) / len(losses))
    return history


@functools.lru_cache(maxsize=None)
def _fit_reference(args):
    return _plain(checks.run_fit(ref.fit, *args))


@functools.lru_cache(maxsize=None)
def _fit_accumulating(args):
    return _plain(checks.run_fit(_fit_no_zero_grad, *args))


def _check_fit(cases):
    def check(values):
        what = "fit"
        for args, got in zip(cases, returned(values, what)):
            if not isinstance(got, dict) or "order" not in got:
                raise Failure(f"{what}: the training did not run")
            nb, ne, interval, _, _ = args
            want = _fit_reference(args)
            order = got["order"]
            if order != want["order"]:
                if got["warned"] or ("S" in order and "O" in order and order.index("S") < order.index("O")):
                    raise Mistake(f"{what}: {MESSAGES['sched_first']}")
                if interval == "epoch" and order.count("S") == nb * ne and order.count("O") == nb * ne:
                    raise Mistake(f"{what}: {MESSAGES['per_step']}")
                if interval == "step" and order.count("S") == ne and order.count("O") == nb * ne:
                    raise Mistake(f"{what}: {MESSAGES['per_epoch']}")
                if order.count("O") != nb * ne:
                    raise Failure(f"{what}: call optimizer.step() once per batch, every epoch")
                raise Failure(f"{what}: the calls of optimizer.step() and scheduler.step() are not in the order "
                              f"interval={interval!r} asks for")
            if not _same(got["lrs"], want["lrs"]):
                raise Failure(f"{what}: the optimizer steps did not use the schedule's rates")
            hist = got["history"]
            if not (isinstance(hist, list) and len(hist) == ne):
                raise Failure(f"{what}: return a list with one loss per epoch")
            if not got["floats"]:
                raise Mistake(f"{what}: return Python floats (loss.item()), not tensors")
            if not _same(got["params"], want["params"]):
                wrong = _fit_accumulating(args)
                if not _same(wrong["params"], want["params"]) and _same(got["params"], wrong["params"]):
                    raise Mistake(f"{what}: gradients accumulate: call optimizer.zero_grad() before every "
                                  "backward pass")
                raise Failure(f"{what}: the parameters after training differ from a plain loop's (zero_grad, "
                              "mean cross-entropy, backward, optimizer.step() for each batch)")
            if not _same(hist, want["history"]):
                raise Failure(f"{what}: the training is right but the returned losses are not each epoch's mean "
                              "batch loss")
    return check


PARTS = {
    "test_step_lr": Part("step_lr", contract=dict(CONTRACTS["StepLR"]), scenarios=_sched_scenarios("StepLR"),
                         static=_static("StepLR")),
    "test_cosine_lr": Part("cosine_lr", contract=dict(CONTRACTS["CosineAnnealingLR"]),
                           scenarios=_sched_scenarios("CosineAnnealingLR"), static=_static("CosineAnnealingLR")),
    "test_linear_lr": Part("linear_lr", contract=dict(CONTRACTS["LinearLR"]), scenarios=_sched_scenarios("LinearLR"),
                           static=_static("LinearLR")),
    "test_warmup_cosine": Part("warmup_cosine", contract=dict(CONTRACTS["WarmupCosineLR"]),
                               scenarios=_sched_scenarios("WarmupCosineLR"), static=_static("WarmupCosineLR")),
    "test_fit": Part("fit", contract=dict(FIT_CONTRACT),
                     scenarios=[Scenario(label, [probe("coursekit.checks.lr_schedules:run_fit", "fit", *a)
                                                 for a in cases], _check_fit(cases), covers)
                                for label, covers, cases in FIT_SCENARIOS]),
}
