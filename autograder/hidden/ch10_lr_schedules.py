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
from ..verdicts import Credit, Failure, Mistake, Part, Scenario, decode, returned
from .common import probe


def _plain(value):
    """``value`` as the grader receives it from the sandbox (encoded and decoded), for like-for-like comparisons."""
    return decode(json.loads(json.dumps(encode(value))))


# ---------------------------------------------------------------- known mistakes, as schedulers
class _StepEarly(ref.StepLR):
    def get_lr(self):
        return [b * self.gamma ** ((self.last_epoch + 1) // self.step_size) for b in self.base_lrs]


class _StepFirstDecay(ref.StepLR):
    """torch's chainable form without its last_epoch == 0 guard: decayed already at construction."""
    def get_lr(self):
        return [b * self.gamma ** (self.last_epoch // self.step_size + 1) for b in self.base_lrs]


class _StepNoFloor(ref.StepLR):
    def get_lr(self):
        return [b * self.gamma ** (self.last_epoch / self.step_size) for b in self.base_lrs]


class _CosTmaxMinusOne(ref.CosineAnnealingLR):
    def get_lr(self):
        c = (1 + math.cos(math.pi * self.last_epoch / (self.T_max - 1))) / 2  # divides by zero when T_max = 1
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


class _LinEndIgnored(ref.LinearLR):
    def get_lr(self):
        frac = min(self.last_epoch, self.total_iters) / self.total_iters
        return [b * (self.start_factor + (1 - self.start_factor) * frac) for b in self.base_lrs]


class _WCNoEtaMin(ref.WarmupCosineLR):
    def get_lr(self):
        t, w = self.last_epoch, self.warmup_iters
        if t < w:
            return ref.WarmupCosineLR.get_lr(self)
        return [b * (1 + math.cos(math.pi * (t - w) / self.T_max)) / 2 for b in self.base_lrs]


class _WCClamped(ref.WarmupCosineLR):
    def get_lr(self):
        t, w = self.last_epoch, self.warmup_iters
        if t < w:
            return ref.WarmupCosineLR.get_lr(self)
        c = (1 + math.cos(math.pi * min(t - w, self.T_max) / self.T_max)) / 2
        return [self.eta_min + (b - self.eta_min) * c for b in self.base_lrs]


def _from_current(cls):
    """The named mistake "the closed form applied to the optimizer's current lr": the factors compound."""
    class FromCurrent(cls):
        def get_lr(self):
            saved = self.base_lrs
            self.base_lrs = [g["lr"] for g in self.optimizer.param_groups]
            try:
                return cls.get_lr(self)
            finally:
                self.base_lrs = saved
    return FromCurrent


CURRENT_LR = ("the rates are computed with the closed form from the optimizer's current lr (group['lr']), so the "
              "factors compound from step to step: the closed form starts from each group's base rate, "
              "self.base_lrs[i]")
# name -> [(known-wrong scheduler, key, message)]
SCHED_MISTAKES = {
    "StepLR": [(_StepEarly, "step_early", "the rate decays one step too early: it is multiplied by gamma when "
                                          "last_epoch reaches step_size (last_epoch // step_size), with last_epoch "
                                          "= 0 after construction"),
               (_StepFirstDecay, "step_first_decay", "the rate is already multiplied by gamma right after "
                                                     "construction (last_epoch = 0): the first decay comes at "
                                                     "last_epoch = step_size (in the chainable form, return the "
                                                     "groups' lr unchanged when last_epoch == 0)"),
               (_StepNoFloor, "step_no_floor", "the rate decays at every step (last_epoch / step_size): StepLR keeps "
                                               "it constant for step_size steps (integer division, last_epoch // "
                                               "step_size)"),
               (_from_current(ref.StepLR), "current_lr", CURRENT_LR)],
    "CosineAnnealingLR": [(_CosTmaxMinusOne, "cosine_off_by_one", MESSAGES["cosine_off_by_one"]),
                          (_CosShifted, "cosine_off_by_one", MESSAGES["cosine_off_by_one"]),
                          (_CosNoEtaMin, "eta_min_ignored", "eta_min is ignored: the cosine runs from base_lr down "
                                                            "to eta_min"),
                          (_CosClamped, "cosine_clamped", "after T_max the rate stays at eta_min, but torch's cosine "
                                                          "goes on (it rises again towards base_lr over the next "
                                                          "T_max steps)"),
                          (_from_current(ref.CosineAnnealingLR), "current_lr", CURRENT_LR)],
    "LinearLR": [(_LinZero, "warmup_zero", MESSAGES["warmup_zero"]),
                 (_LinUnclamped, "linear_unclamped", "the factor keeps changing after total_iters: it stays at "
                                                     "end_factor from last_epoch = total_iters on"),
                 (_LinEarly, "linear_early", "the warmup is one step ahead: the factor is start_factor at "
                                             "last_epoch = 0 and reaches end_factor at last_epoch = total_iters"),
                 (_LinEndIgnored, "end_factor_ignored", "end_factor is ignored (the factor always ends at 1): it "
                                                        "moves from start_factor to end_factor"),
                 (_from_current(ref.LinearLR), "current_lr", CURRENT_LR)],
    "WarmupCosineLR": [(_WCZero, "warmup_zero", MESSAGES["warmup_zero"]),
                       (_WCShifted, "warmup_cosine_start", MESSAGES["warmup_cosine_start"]),
                       (_WCFromZero, "warmup_cosine_clock", MESSAGES["warmup_cosine_start"] + " (the cosine's clock "
                                     "starts at the milestone: use last_epoch - warmup_iters)"),
                       (_WCNoEtaMin, "eta_min_ignored", "eta_min is ignored: the cosine runs from base_lr down "
                                                        "to eta_min"),
                       (_WCClamped, "cosine_clamped", "after warmup_iters + T_max the rate stays at eta_min, but "
                                                      "SequentialLR's cosine goes on (it rises again)"),
                       (_from_current(ref.WarmupCosineLR), "current_lr", CURRENT_LR)],
}

# ---------------------------------------------------------------- the scheduler parts
COMMON = {
    "first_step": "right after construction and after the first step() the rates are the schedule's at "
                  "last_epoch = 0 and 1",
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
                 "decay": "end_factor < start_factor (a linear decay), down to end_factor = 0",
                 "total_iters_one": "total_iters = 1", **COMMON},
    "WarmupCosineLR": {"warmup": "for last_epoch < warmup_iters, LinearLR's warmup from start_factor * base_lr",
                       "first_rate": "the first rate is start_factor * base_lr, never 0",
                       "milestone": "at last_epoch = warmup_iters the rate is base_lr (the cosine restarts there)",
                       "cosine": "then CosineAnnealingLR's cosine, reaching eta_min at warmup_iters + T_max",
                       "eta_min": "eta_min > 0",
                       "beyond": "after that the cosine goes on, as SequentialLR's does",
                       "defaults": "start_factor defaults to 1/3 and eta_min to 0",
                       "warmup_one": "warmup_iters = 1", **COMMON},
}
# The partial credit of each scheduler (2 points): the schedule of one group first, then its options, then parameter
# groups, state_dict round trips and other optimizers. The source notebook's "**Points:**" lines say the same.
CREDITS = {
    "StepLR": [Credit("one parameter group", 1.25,
                      ("closed_form", "first_step", "last_epoch", "get_last_lr", "base_lrs", "default_gamma",
                       "step_size_one", "long_run")),
               Credit("several groups and a state_dict round trip", 0.5, ("groups", "state_dict")),
               Credit("Adam and SGD with momentum", 0.25, ("any_optimizer",))],
    "CosineAnnealingLR": [Credit("one parameter group up to T_max", 1.0,
                                 ("closed_form", "first_step", "at_t_max", "last_epoch", "get_last_lr", "base_lrs",
                                  "t_max_one")),
                          Credit("eta_min > 0 and past T_max", 0.5, ("eta_min", "beyond")),
                          Credit("several groups, state_dict, other optimizers", 0.5,
                                 ("groups", "state_dict", "any_optimizer"))],
    "LinearLR": [Credit("a warmup of one parameter group", 1.0,
                        ("closed_form", "first_rate", "first_step", "constant_after", "total_iters_one",
                         "last_epoch", "get_last_lr", "base_lrs")),
                 Credit("the defaults and a linear decay", 0.5, ("defaults", "decay")),
                 Credit("several groups, state_dict, other optimizers", 0.5,
                        ("groups", "state_dict", "any_optimizer"))],
    "WarmupCosineLR": [Credit("warmup and cosine of one group", 1.0,
                              ("warmup", "first_rate", "first_step", "milestone", "cosine", "warmup_one",
                               "last_epoch", "get_last_lr", "base_lrs")),
                       Credit("eta_min > 0, past the cosine's end, the defaults", 0.5,
                              ("eta_min", "beyond", "defaults")),
                       Credit("several groups, state_dict, other optimizers", 0.5,
                              ("groups", "state_dict", "any_optimizer"))],
}
LRS2, LRS3 = (0.3, 0.05), (0.2, 0.08, 0.01)
# (label, covers, [(kwargs, lrs, steps, roundtrip_at, optimizer), ...]). Each scenario changes one thing; the
# visible test's settings cover only the options they exercise, so that an option's mistake costs that option.
SCENARIOS = {
    "StepLR": [
        ("the first rate and one step", ("first_step",), [({"step_size": 2, "gamma": 0.5}, (0.1,), 1, None, "SGD")]),
        ("the visible test's settings", ("groups", "state_dict"),
         [({"step_size": 3, "gamma": 0.5}, (0.1,), 12, None, "SGD"),
          ({"step_size": 2, "gamma": 0.3}, (0.2, 0.05), 12, None, "SGD"),
          ({"step_size": 3, "gamma": 0.5}, (0.1, 0.01), 12, 5, "SGD")]),
        ("one group", ("closed_form", "last_epoch", "get_last_lr", "base_lrs"),
         [({"step_size": 4, "gamma": 0.4}, (0.25,), 14, None, "SGD")]),
        ("the default gamma", ("default_gamma",), [({"step_size": 2}, (0.5,), 7, None, "SGD")]),
        ("step_size = 1", ("step_size_one",), [({"step_size": 1, "gamma": 0.8}, (0.1,), 10, None, "SGD")]),
        ("three parameter groups", ("groups",), [({"step_size": 3, "gamma": 0.6}, LRS3, 10, None, "SGD")]),
        ("a long run", ("long_run",), [({"step_size": 5, "gamma": 0.7}, (0.2,), 40, None, "SGD")]),
        ("a state_dict round trip", ("state_dict",), [({"step_size": 2, "gamma": 0.5}, (0.3,), 9, 3, "SGD")]),
        ("Adam and SGD with momentum", ("any_optimizer",),
         [({"step_size": 2, "gamma": 0.5}, (0.3,), 6, None, "Adam"),
          ({"step_size": 2, "gamma": 0.5}, (0.3,), 6, None, "momentum")]),
    ],
    "CosineAnnealingLR": [
        ("the first rate and one step", ("first_step",), [({"T_max": 4}, (0.1,), 1, None, "SGD")]),
        ("the visible test's settings", ("eta_min", "beyond", "groups", "state_dict"),
         [({"T_max": 4}, (0.1,), 12, None, "SGD"), ({"T_max": 6, "eta_min": 0.001}, (0.2, 0.05), 12, None, "SGD"),
          ({"T_max": 5}, (0.1, 0.01), 12, 3, "SGD")]),
        ("one group up to T_max", ("closed_form", "at_t_max", "last_epoch", "get_last_lr", "base_lrs"),
         [({"T_max": 7}, (0.3,), 7, None, "SGD")]),
        ("eta_min > 0", ("eta_min",), [({"T_max": 5, "eta_min": 0.02}, (0.2,), 5, None, "SGD")]),
        ("past T_max", ("beyond",), [({"T_max": 3, "eta_min": 0.01}, (0.1,), 13, None, "SGD")]),
        ("T_max = 1", ("t_max_one",), [({"T_max": 1}, (0.1,), 1, None, "SGD")]),
        ("three parameter groups", ("groups",), [({"T_max": 8, "eta_min": 0.001}, LRS3, 8, None, "SGD")]),
        ("a state_dict round trip", ("state_dict",), [({"T_max": 6}, (0.3,), 6, 4, "SGD")]),
        ("Adam and SGD with momentum", ("any_optimizer",),
         [({"T_max": 5}, (0.3,), 5, None, "Adam"), ({"T_max": 5}, (0.3,), 5, None, "momentum")]),
    ],
    "LinearLR": [
        ("the first rate and one step", ("first_step", "first_rate"),
         [({"start_factor": 0.5, "total_iters": 4}, (0.2,), 1, None, "SGD")]),
        ("the visible test's settings", ("defaults", "decay", "groups", "state_dict"),
         [({"start_factor": 0.25, "total_iters": 4}, (0.1,), 12, None, "SGD"),
          ({"start_factor": 1.0, "end_factor": 0.5, "total_iters": 3}, (0.2, 0.05), 12, None, "SGD"),
          ({}, (0.1, 0.01), 12, 2, "SGD")]),
        ("a warmup, one group", ("closed_form", "first_rate", "last_epoch", "get_last_lr", "base_lrs"),
         [({"start_factor": 0.1, "total_iters": 6}, (0.4,), 6, None, "SGD")]),
        ("after total_iters", ("constant_after",), [({"start_factor": 0.5, "total_iters": 3}, (0.2,), 10, None, "SGD")]),
        ("torch's defaults", ("defaults",), [({}, (0.3,), 8, None, "SGD")]),
        ("a linear decay (end_factor < start_factor)", ("decay",),
         [({"start_factor": 0.9, "end_factor": 0.2, "total_iters": 5}, (0.1,), 8, None, "SGD")]),
        ("a decay down to end_factor = 0", ("decay",),
         [({"start_factor": 1.0, "end_factor": 0.0, "total_iters": 4}, (0.1,), 6, None, "SGD")]),
        ("total_iters = 1", ("total_iters_one",), [({"start_factor": 0.5, "total_iters": 1}, (0.1,), 4, None, "SGD")]),
        ("three parameter groups", ("groups",), [({"start_factor": 0.2, "total_iters": 4}, LRS3, 6, None, "SGD")]),
        ("a state_dict round trip during the warmup", ("state_dict",),
         [({"start_factor": 0.1, "total_iters": 6}, (0.3,), 7, 3, "SGD")]),
        ("Adam and SGD with momentum", ("any_optimizer",),
         [({"start_factor": 0.2, "total_iters": 3}, (0.3,), 5, None, "Adam"),
          ({"start_factor": 0.2, "total_iters": 3}, (0.3,), 5, None, "momentum")]),
    ],
    "WarmupCosineLR": [
        ("the first rate and one step", ("first_step", "first_rate"),
         [({"warmup_iters": 3, "T_max": 4, "start_factor": 0.2}, (0.1,), 1, None, "SGD")]),
        ("the visible test's settings", ("eta_min", "beyond", "groups", "state_dict"),
         [({"warmup_iters": 3, "T_max": 5, "start_factor": 0.2}, (0.1,), 12, None, "SGD"),
          ({"warmup_iters": 2, "T_max": 6, "start_factor": 0.5, "eta_min": 0.001}, (0.2, 0.05), 12, None, "SGD"),
          ({"warmup_iters": 3, "T_max": 4}, (0.1, 0.01), 12, 4, "SGD")]),
        ("one group through warmup and cosine",
         ("warmup", "first_rate", "milestone", "cosine", "last_epoch", "get_last_lr", "base_lrs"),
         [({"warmup_iters": 4, "T_max": 6, "start_factor": 0.1}, (0.3,), 10, None, "SGD")]),
        ("eta_min > 0", ("eta_min",),
         [({"warmup_iters": 2, "T_max": 4, "start_factor": 0.25, "eta_min": 0.01}, (0.2,), 6, None, "SGD")]),
        ("past the end of the cosine", ("beyond",),
         [({"warmup_iters": 2, "T_max": 3, "start_factor": 0.25}, (0.2,), 11, None, "SGD")]),
        ("the default start_factor and eta_min", ("defaults",), [({"warmup_iters": 3, "T_max": 5}, (0.3,), 8, None, "SGD")]),
        ("warmup_iters = 1", ("warmup_one",), [({"warmup_iters": 1, "T_max": 4, "start_factor": 0.5}, (0.1,), 5, None, "SGD")]),
        ("three parameter groups", ("groups",),
         [({"warmup_iters": 3, "T_max": 5, "start_factor": 0.2}, LRS3, 8, None, "SGD")]),
        ("a state_dict round trip after the milestone", ("state_dict",),
         [({"warmup_iters": 2, "T_max": 6, "start_factor": 0.3}, (0.3,), 8, 4, "SGD")]),
        ("Adam and SGD with momentum", ("any_optimizer",),
         [({"warmup_iters": 2, "T_max": 3, "start_factor": 0.2}, (0.3,), 5, None, "Adam"),
          ({"warmup_iters": 2, "T_max": 3, "start_factor": 0.2}, (0.3,), 5, None, "momentum")]),
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
    """The driver's record of ``cls`` on this case, or {"error": the exception's name} when it raises (a known
    mistake may raise where torch does not, e.g. dividing by T_max - 1 when T_max = 1)."""
    kwargs, lrs, steps, roundtrip_at, optimizer = key
    try:
        return _plain(checks.schedule_run(cls, dict(kwargs), list(lrs), steps, roundtrip_at, optimizer))
    except Exception as exc:  # noqa: BLE001
        return {"error": type(exc).__name__}


def _same(a, b, rtol=1e-9):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=1e-12))


@functools.lru_cache(maxsize=None)
def _sched_ruled_out(name, keys):
    """The keys of SCHED_MISTAKES[name] whose every model fails one of these cases (raises, or gives other rates
    than torch's): a scheduler that passes them did not make that mistake. Once per process."""
    fails = {}
    for cls, key, _ in SCHED_MISTAKES[name]:
        wrong = [_run(cls, k) for k in keys]
        failed = any("lrs" not in w or not _same(w["lrs"], _run(TORCH[name], k)["lrs"]) for w, k in zip(wrong, keys))
        fails[key] = fails.get(key, True) and failed
    return frozenset(key for key, failed in fails.items() if failed)


def _float32_rates(lrs) -> bool:
    """Are all the rates exactly float32 numbers (the evidence of a float32 computation)?"""
    lrs = np.asarray(lrs, dtype=float)
    return bool(np.all(np.isfinite(lrs)) and np.all(lrs.astype(np.float32).astype(float) == lrs))


def _cosine_pi(lrs, case) -> float | None:
    """The pi a CosineAnnealingLR answer's rates were computed with, if every rate strictly inside (0, T_max) gives
    the same one: (1 + cos(P t / T_max)) / 2 is the fraction of the way from eta_min to base_lr, so
    P = arccos(2 c - 1) T_max / t. With no step inside (T_max = 1), the rate at T_max gives |P - pi| = 2 sqrt(c)
    (its sign unknown; pi + that is returned). None when the rates do not fit one P (another mistake)."""
    kwargs, bases = dict(case[0]), case[1]
    T, eta_min = kwargs["T_max"], kwargs.get("eta_min", 0.0)
    lrs = np.asarray(lrs, dtype=float)
    estimates = []
    for t in range(1, min(len(lrs), T)):
        for g, base in enumerate(bases):
            c = (lrs[t, g] - eta_min) / (base - eta_min)
            if not -1e-12 <= c <= 1 + 1e-12:
                return None
            estimates.append(math.acos(float(np.clip(2 * c - 1, -1, 1))) * T / t)
    if not estimates and len(lrs) > T:
        c = [(lrs[T, g] - eta_min) / (base - eta_min) for g, base in enumerate(bases)]
        return math.pi + 2 * math.sqrt(min(c)) if min(c) >= 0 and max(c) - min(c) <= 1e-7 * max(c) else None
    if not estimates or max(estimates) - min(estimates) > 1e-7 * max(estimates):
        return None
    return float(np.mean(estimates))


def _scaled_bases(lrs, ref_lrs) -> bool:
    """Is every group's rate a constant multiple of torch's (not all 1): scaled from another base rate?"""
    nonzero = ref_lrs != 0
    if np.any(lrs[~nonzero] != 0):
        return False
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(nonzero, lrs / np.where(nonzero, ref_lrs, 1.0), np.nan)
    for g in range(ratio.shape[1]):
        col = ratio[:, g][~np.isnan(ratio[:, g])]
        if col.size and not np.allclose(col, col[0], rtol=1e-9):
            return False
    off = np.abs(ratio[~np.isnan(ratio)] - 1.0)
    return bool(off.size) and bool(np.max(off) > 1e-3)


def _where(t, groups, ref_lrs):
    """Where the rates first differ, in the student's terms (never the expected values)."""
    when = "right after construction (last_epoch = 0)" if t == 0 else \
        f"from last_epoch = {t} on ({t} call{'s' if t > 1 else ''} of scheduler.step())"
    if ref_lrs.shape[1] > 1 and len(groups) < ref_lrs.shape[1]:
        which = ", ".join(["the first", "the second", "the third"][g] if g < 3 else f"group {g}" for g in groups)
        return f"{when}, in {which} parameter group{'s' if len(groups) > 1 else ''} only"
    return when


def _raised(name, case, value):
    """A scheduler that raised: named when exactly one known mistake raises the same exception here."""
    error = str(value.get("error", "unknown error"))
    if error.startswith("NotImplementedError"):
        returned([value], name)  # "... is not implemented yet"
    hits = {key: hint for cls, key, hint in SCHED_MISTAKES[name]
            if _run(cls, _key(case)).get("error") == error.split(":", 1)[0]}
    if hits:  # several known mistakes raise here too: the scenario is consistent with each (``also``)
        (key, hint), *others = hits.items()
        raise Mistake(f"{name}: {hint} (your scheduler raised {error[:120]})", key=key,
                      also=tuple(k for k, _ in others), plain=f"raised {error[:120]}")
    raise Failure(f"{name} raised {error}")


def _check_sched(name, cases):
    def check(values):
        for case, value in zip(cases, values):
            if not value.get("ok"):
                _raised(name, case, value)
            (got,) = returned([value], name)
            if not isinstance(got, dict) or "lrs" not in got:
                raise Failure(f"{name}: the scheduler did not run")
            want = _run(TORCH[name], _key(case))
            lrs = np.asarray(got["lrs"], dtype=float)
            ref_lrs = np.asarray(want["lrs"], dtype=float)
            if lrs.shape != ref_lrs.shape:
                raise Failure(f"{name}: set a learning rate for every parameter group")
            changed = not _same(got["base_lrs"], got["initial"], rtol=1e-12)
            if not _same(lrs, ref_lrs):
                bad = ~np.isclose(lrs, ref_lrs, rtol=1e-9, atol=1e-12)
                t = int(np.argmax(np.any(bad, axis=1)))
                where = _where(t, [g for g in range(bad.shape[1]) if bad[:, g].any()], ref_lrs)
                plain = f"the learning rates differ from torch's {where}"
                if changed:
                    raise Mistake(f"{name}: {MESSAGES['base_lrs']}", key="base_lrs", plain=plain)
                # a named mistake only when its scheduler gives these rates here and torch's do not; when two
                # mistakes coincide on this scenario, neither is named
                hits = {}
                for cls, key, hint in SCHED_MISTAKES[name]:
                    wrong = _run(cls, _key(case))
                    if "lrs" in wrong and not _same(wrong["lrs"], ref_lrs) and _same(lrs, wrong["lrs"]):
                        hits.setdefault(key, hint)
                if hits:  # several models that coincide here: consistent with each, named by the part only if
                    (key, hint), *others = hits.items()  # one of them explains every failing scenario
                    raise Mistake(f"{name}: {hint}", key=key, also=tuple(k for k, _ in others), plain=plain)
                # what the rates show by themselves: every group on one schedule, or each group's rates a
                # constant multiple of torch's (scaled from another base rate)
                same_everywhere = lrs.shape[1] > 1 and np.allclose(lrs[:, :1], lrs, rtol=1e-9) \
                    and not np.allclose(ref_lrs[:, :1], ref_lrs, rtol=1e-9)
                if not hits and (same_everywhere or _scaled_bases(lrs, ref_lrs)):
                    raise Mistake(f"{name}: {MESSAGES['one_base' if same_everywhere else 'wrong_base']}",
                                  key="wrong_base", plain=plain)
                if case[3] is not None:
                    upto = case[3] + 1
                    if _same(lrs[:upto], ref_lrs[:upto]):
                        raise Mistake(f"{name}: {MESSAGES['roundtrip']}", key="roundtrip", plain=plain)
                close_ = np.allclose(lrs, ref_lrs, rtol=1e-4, atol=1e-9)
                if close_ and _float32_rates(lrs) and not _float32_rates(ref_lrs):
                    raise Mistake(f"{name}: every rate is a float32 number, right only to float32 precision: "
                                  "compute the rates as Python floats (no float32 tensors or arrays)",
                                  key="precision", plain=plain + " (close, to about float32 precision)")
                pi = _cosine_pi(lrs, case) if name == "CosineAnnealingLR" else None
                if pi is not None and 1e-9 < abs(pi - math.pi) < 1e-2:
                    raise Mistake(f"{name}: {MESSAGES['pi_approx'].format(pi=pi)}", key="pi_approx",
                                  plain=plain + " (a cosine with pi rounded)")
                if close_:
                    raise Failure(f"{name}: {plain}, by a small amount (a term of the formula differs slightly)")
                raise Failure(f"{name}: {plain}")
            if changed:
                raise Mistake(f"{name}: {MESSAGES['base_lrs']}", key="base_lrs",
                              plain="self.base_lrs changed during training")
            if not _same(got["last_lr"], lrs, rtol=1e-12):
                raise Mistake(f"{name}: {MESSAGES['get_last_lr']}", key="get_last_lr",
                              plain="get_last_lr() differs from the groups' rates")
            if list(got["last_epoch"]) != list(want["last_epoch"]):
                raise Mistake(f"{name}: last_epoch must be 0 after construction and grow by one per step()",
                              key="last_epoch", plain="last_epoch differs from torch's")
        keys = tuple(_key(c) for c in cases)
        return lambda: _sched_ruled_out(name, keys)  # passed: not the mistakes whose models fail here
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
    "train_mode": "puts the net in training mode (a net with dropout handed over in eval mode trains with dropout)",
    "history": "returns a list of num_epochs Python floats, each epoch's mean batch loss",
    "unequal": "the epoch's loss is the plain mean of its batch losses, also when the last batch is smaller",
    "any_schedule": "works with any torch scheduler (StepLR, LinearLR warmup, CosineAnnealingLR)",
    "one_batch": "one batch per epoch",
}
FIT_CREDITS = [
    Credit("the loop and the order of the steps", 1.25,
           ("order", "epoch", "step", "rates", "training", "any_schedule", "one_batch")),
    Credit("the returned epoch means", 0.5, ("history", "unequal")),
    Credit("training mode", 0.25, ("train_mode",)),
]
# (label, covers, [args of run_fit: (num_batches, num_epochs, interval, schedule, lr, seed, sizes, dropout), ...])
FIT_SCENARIOS = [
    ("the visible test's settings", ("history",),
     [(3, 3, "epoch", "step", 0.2, 0, None, False), (2, 2, "step", "step", 0.2, 0, None, False),
      (3, 1, "epoch", "step", 0.0, 0, None, False), (2, 1, "epoch", "step", 0.2, 0, None, False),
      (2, 3, "epoch", "warmup", 0.2, 0, None, False)]),
    ("the first epoch alone", ("training", "rates"), [(3, 1, "epoch", "step", 0.3, 0, None, False)]),
    ("interval='epoch'", ("epoch", "order", "rates", "training"), [(4, 3, "epoch", "step", 0.3, 0, None, False)]),
    ("interval='step'", ("step", "order", "rates", "training"), [(3, 2, "step", "step", 0.3, 0, None, False)]),
    ("a warmup stepped per step", ("rates", "any_schedule"), [(3, 2, "step", "warmup", 0.4, 0, None, False)]),
    ("a cosine stepped per epoch", ("any_schedule", "history"), [(2, 5, "epoch", "cosine", 0.3, 0, None, False)]),
    ("one batch per epoch", ("one_batch",), [(1, 4, "epoch", "step", 0.3, 0, None, False),
                                             (1, 3, "step", "warmup", 0.3, 0, None, False)]),
    ("batches of 4, 4, 4 and 1 examples", ("unequal",), [(4, 2, "epoch", "step", 0.3, 0, (4, 4, 4, 1), False)]),
    ("a net with dropout handed over in eval mode", ("train_mode",),
     [(3, 2, "epoch", "step", 0.3, 0, None, True)]),
]


def _loop(net, optimizer, scheduler, batches, num_epochs, interval, *, zero_grad="before", train_mode=True,
          mean="batches", reset=True):
    """The loop of the text, and the named mistakes as switches: gradients never zeroed (zero_grad=None) or zeroed
    between backward and step ("late"); net.train() never called; the epoch's loss weighted by batch size, or
    summed; the list of losses never reset between epochs."""
    if train_mode:
        net.train()
    history, losses = [], []
    for _ in range(num_epochs):
        if reset:
            losses = []
        sizes = []
        for X_batch, y_batch in batches:
            if zero_grad == "before":
                optimizer.zero_grad()
            loss = F.cross_entropy(net(X_batch), y_batch)
            loss.backward()
            if zero_grad == "late":
                optimizer.zero_grad()
            optimizer.step()
            if interval == "step":
                scheduler.step()
            losses.append(loss.item())
            sizes.append(len(y_batch))
        if interval == "epoch":
            scheduler.step()
        if mean == "weighted":
            history.append(sum(v * n for v, n in zip(losses, sizes)) / sum(sizes))
        elif mean == "sum":
            history.append(sum(losses))
        else:
            history.append(sum(losses) / len(losses))
    return history


# (key, message, switches of _loop): mistakes seen in the parameters, then in the returned history
FIT_PARAM_MISTAKES = [
    ("no_zero_grad", "gradients accumulate: call optimizer.zero_grad() before every backward pass",
     {"zero_grad": None}),
    ("zero_grad_late", "the gradients are zeroed between backward() and optimizer.step(), so the optimizer steps on "
                       "zero gradients: call optimizer.zero_grad() before the backward pass", {"zero_grad": "late"}),
    ("no_train_mode", "the net is never put in training mode: a net with dropout handed over in eval mode trained "
                      "without dropout. Call net.train() at the start of fit", {"train_mode": False}),
]
FIT_HISTORY_MISTAKES = [
    ("weighted_mean", "each batch's loss is weighted by its size: the epoch's loss is the plain mean of the batch "
                      "losses (the mean of loss.item() over the epoch's batches)", {"mean": "weighted"}),
    ("summed", "the epoch's loss is the sum of the batch losses, not their mean", {"mean": "sum"}),
    ("not_reset", "the list of batch losses is never reset, so each epoch's number is the mean over all epochs so "
                  "far: start an empty list at the start of every epoch", {"reset": False}),
]


@functools.lru_cache(maxsize=None)
def _fit_model(args, switches=()):
    nb, ne, interval, schedule, lr, seed, sizes, dropout = args
    options = dict(switches)

    def fit(net, optimizer, scheduler, batches, num_epochs, interval="epoch"):
        return _loop(net, optimizer, scheduler, batches, num_epochs, interval, **options)
    fit = fit if options else ref.fit  # the reference answer is the oracle; the switches make the known mistakes
    return _plain(checks.run_fit(fit, nb, ne, interval, schedule, lr, seed, list(sizes) if sizes else None,
                                 dropout))


def _fit_differs(wrong, want) -> bool:
    """Does a loop's record differ from the text's loop's where the check looks (calls, rates, parameters, losses)?"""
    return wrong["order"] != want["order"] or not all(_same(wrong[f], want[f]) for f in ("lrs", "params", "history"))


@functools.lru_cache(maxsize=None)
def _fit_ruled_out(cases):
    """The keys of FIT_PARAM_MISTAKES and FIT_HISTORY_MISTAKES whose loop differs from the text's on one of these
    cases: a fit that passes them did not make that mistake. Once per process."""
    return frozenset(key for key, _, switches in FIT_PARAM_MISTAKES + FIT_HISTORY_MISTAKES
                     if any(_fit_differs(_fit_model(args, tuple(sorted(switches.items()))), _fit_model(args))
                            for args in cases))


def _named(got, want, args, field, mistakes, what, plain):
    """The one mistake of ``mistakes`` whose model gives ``got[field]`` here (and torch's loop does not)."""
    hits = {}
    for key, message, switches in mistakes:
        wrong = _fit_model(args, tuple(sorted(switches.items())))
        if not _same(wrong[field], want[field]) and _same(got[field], wrong[field]):
            hits.setdefault(key, message)
    if hits:
        (key, message), *others = hits.items()
        raise Mistake(f"{what}: {message}", key=key, also=tuple(k for k, _ in others), plain=plain)


def _check_fit(cases):
    def check(values):
        what = "fit"
        for args, got in zip(cases, returned(values, what)):
            args = tuple(tuple(a) if isinstance(a, list) else a for a in args)
            if not isinstance(got, dict) or "order" not in got:
                raise Failure(f"{what}: the training did not run")
            nb, ne, interval, _, _, _, sizes, _ = args
            n_batches = len(sizes) if sizes else nb
            want = _fit_model(args)
            order = got["order"]
            if order != want["order"]:
                plain = f"the calls of optimizer.step() and scheduler.step() are not in the order interval=" \
                        f"{interval!r} asks for"
                if got["warned"] or ("S" in order and "O" in order and order.index("S") < order.index("O")):
                    raise Mistake(f"{what}: {MESSAGES['sched_first']}", key="sched_first", plain=plain)
                if interval == "epoch" and order.count("S") == n_batches * ne and order.count("O") == n_batches * ne:
                    raise Mistake(f"{what}: {MESSAGES['per_step']}", key="per_step", plain=plain)
                if interval == "step" and order.count("S") == ne and order.count("O") == n_batches * ne:
                    raise Mistake(f"{what}: {MESSAGES['per_epoch']}", key="per_epoch", plain=plain)
                if order.count("O") != n_batches * ne:
                    raise Failure(f"{what}: call optimizer.step() once per batch, every epoch")
                raise Failure(f"{what}: {plain}")
            if not _same(got["lrs"], want["lrs"]):
                raise Failure(f"{what}: the optimizer steps did not use the schedule's rates")
            hist = got["history"]
            if not isinstance(hist, list):
                raise Mistake(f"{what}: return a list of num_epochs floats; yours returned {got.get('returned', '?')}",
                              key="history_type", plain="the history is not a list")
            if len(hist) != ne:
                raise Failure(f"{what}: return a list with one loss per epoch")
            if not _same(got["params"], want["params"]):
                plain = "the parameters after training differ from the loop's of the text"
                _named(got, want, args, "params", FIT_PARAM_MISTAKES, what, plain)
                raise Failure(f"{what}: {plain} (zero_grad, mean cross-entropy, backward, optimizer.step() for each "
                              "batch, the net in training mode)")
            if not got["floats"]:
                kinds = " and ".join(got.get("types") or []) or "something else"
                raise Mistake(f"{what}: return Python floats (loss.item()), not {kinds}", key="floats",
                              plain=f"the list holds {kinds}, not Python floats")
            if not _same(hist, want["history"]):
                plain = "the training is right but the returned losses are not each epoch's mean batch loss"
                _named(got, want, args, "history", FIT_HISTORY_MISTAKES, what, plain)
                raise Failure(f"{what}: {plain} (the mean of loss.item() over the epoch's batches)")
        return lambda: _fit_ruled_out(tuple(cases))  # passed: not the mistakes whose loops differ here (1.7 s once)
    return check


PARTS = {
    "test_step_lr": Part("step_lr", contract=dict(CONTRACTS["StepLR"]), scenarios=_sched_scenarios("StepLR"),
                         static=_static("StepLR"), credit=CREDITS["StepLR"]),
    "test_cosine_lr": Part("cosine_lr", contract=dict(CONTRACTS["CosineAnnealingLR"]),
                           scenarios=_sched_scenarios("CosineAnnealingLR"), static=_static("CosineAnnealingLR"),
                           credit=CREDITS["CosineAnnealingLR"]),
    "test_linear_lr": Part("linear_lr", contract=dict(CONTRACTS["LinearLR"]), scenarios=_sched_scenarios("LinearLR"),
                           static=_static("LinearLR"), credit=CREDITS["LinearLR"]),
    "test_warmup_cosine": Part("warmup_cosine", contract=dict(CONTRACTS["WarmupCosineLR"]),
                               scenarios=_sched_scenarios("WarmupCosineLR"), static=_static("WarmupCosineLR"),
                               credit=CREDITS["WarmupCosineLR"]),
    "test_fit": Part("fit", contract=dict(FIT_CONTRACT), credit=FIT_CREDITS,
                     scenarios=[Scenario(label, [probe("coursekit.checks.lr_schedules:run_fit", "fit", *a)
                                                 for a in cases], _check_fit(cases), covers)
                                for label, covers, cases in FIT_SCENARIOS]),
}
