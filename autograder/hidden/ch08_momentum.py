"""Hidden tests for Chapter 8: momentum and Nesterov.

Each part states the contract the exercise's text gives and tries every item in a scenario. The optimizer runs
through the ``trajectory`` call (and a driver that loads a state_dict saved by torch) and is compared with
torch.optim.SGD; on a mismatch the known-wrong optimizers of ``momentum_mistakes.py`` name the likely cause. The
quadratic parts are compared with ``solutions.momentum`` and the conversion by running torch.optim.SGD beside the
EMA form. Messages never contain the hidden inputs or the expected values.
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from coursekit.checks import momentum as checks
from coursekit.checks.momentum import MESSAGES, VISIBLE_SETTINGS
from solutions import momentum as ref

from ..verdicts import Failure, Mistake, Part, Scenario, returned
from .common import call, expect, probe
from .trajectories import Trajectories
from .momentum_mistakes import MISTAKES

# ---------------------------------------------------------------- part 1: SGD
SGD_CONTRACT = {
    "defaults": "torch's defaults: lr 1e-3, momentum 0 (plain SGD, no state needed), dampening 0, nesterov False",
    "momentum": "buf = momentum * buf + (1 - dampening) * d_p, p -= lr * buf; on the first step buf = d_p",
    "dampening": "dampening scales the gradient into the buffer from the second step on, never on the first",
    "nesterov": "nesterov=True steps along d_p + momentum * buf, with buf already updated",
    "weight_decay": "weight_decay * p is added to the gradient before it enters the buffer",
    "maximize": "maximize=True negates the gradient before weight decay and the buffer",
    "groups": "several parameter groups with different lr, momentum, dampening and nesterov",
    "lr_change": "a change of group['lr'] during training takes effect at the next step, on the whole buffer",
    "state_dict": "state_dict() / load_state_dict() round trip into a fresh optimizer",
    "state_key": "the buffer is self.state[p]['momentum_buffer'], so a state_dict saved by torch.optim.SGD loads",
    "float32": "float32 parameters (and float64)",
    "none_grad": "a parameter whose grad is None is skipped: no update, its buffer unchanged",
    "zero_grad": "an exact zero gradient is a real step: the buffer decays and still moves p",
    "separate_state": "each parameter has its own buffer (parameters of equal shape included)",
}
STEPS = 20
F32 = dict(dtype=torch.float32, rtol=1e-5, atol=1e-6)
SGD_SCENARIOS = [  # (label, covers, [(kwargs, run), ...])
    ("the visible test's settings", ("momentum", "dampening", "nesterov", "weight_decay", "lr_change", "groups"),
     [(kw, {"steps": 15, **run}) for _, kw, run in VISIBLE_SETTINGS]),
    ("default settings (momentum 0)", ("defaults",), [({}, {}), ({"lr": 0.1}, {})]),
    ("momentum=0.9", ("momentum", "separate_state"), [({"lr": 0.05, "momentum": 0.9}, {})]),
    ("momentum with dampening", ("dampening",), [({"lr": 0.05, "momentum": 0.7, "dampening": 0.6}, {})]),
    ("nesterov=True", ("nesterov",), [({"lr": 0.05, "momentum": 0.9, "nesterov": True}, {})]),
    ("weight_decay with momentum", ("weight_decay",), [({"lr": 0.1, "momentum": 0.8, "weight_decay": 0.3}, {})]),
    ("maximize=True with momentum and weight_decay", ("maximize",),
     [({"lr": 0.02, "momentum": 0.8, "weight_decay": 0.2, "maximize": True}, {})]),
    ("two parameter groups with different settings", ("groups",),
     [({"lr": 0.05, "momentum": 0.9}, {"groups": [{"params": [0, 1, 2, 3], "lr": 0.1, "dampening": 0.5},
                                                  {"params": [4, 5], "momentum": 0.6, "nesterov": True}]})]),
    ("lr changed during training", ("lr_change",), [({"lr": 0.05, "momentum": 0.9}, {"lr_changes": {10: 0.2}})]),
    ("state_dict round trip", ("state_dict",),
     [({"lr": 0.05, "momentum": 0.9, "weight_decay": 0.05}, {"roundtrip_at": 8})]),
    ("float32 parameters", ("float32",), [({"lr": 0.05, "momentum": 0.9, "nesterov": True}, dict(F32))]),
    ("some gradients None for a few steps", ("none_grad",),
     [({"lr": 0.05, "momentum": 0.9, "weight_decay": 0.1}, {"none_grads": {t: [1, 4] for t in range(3, 8)}})]),
    ("some gradients exactly zero for a few steps", ("zero_grad",),
     [({"lr": 0.05, "momentum": 0.9}, {"zero_grads": {t: [0, 3] for t in range(2, 7)}})]),
]
LOAD_KWARGS = {"lr": 0.05, "momentum": 0.9}


class _StateIgnored(torch.optim.SGD):
    """torch.optim.SGD that drops the loaded state: what an optimizer that looks for its buffer under another key
    does after load_state_dict (it starts a new buffer)."""

    def load_state_dict(self, state_dict):
        pass


SGD = Trajectories("SGD", torch.optim.SGD, SGD_SCENARIOS, MISTAKES, steps=STEPS)


@functools.lru_cache(maxsize=None)
def _load_reference(cls=torch.optim.SGD):
    return torch.from_numpy(checks.torch_state_into(cls, LOAD_KWARGS))


def _check_load(values):
    (got,) = returned(values, "SGD")
    fresh = ((_load_reference(_StateIgnored).double(), MESSAGES["state_key"]),)
    SGD.judge(got, _load_reference(), fresh, "a state_dict saved by torch.optim.SGD", 1e-9, 1e-12)


def _sgd_scenarios():
    return SGD.scenarios() + [
        Scenario("a state_dict saved by torch.optim.SGD, loaded into your optimizer",
                 [probe("coursekit.checks.momentum:torch_state_into", "SGD", LOAD_KWARGS)], _check_load,
                 ("state_key",))]


# ---------------------------------------------------------------- part 2: heavy_ball_params
HBP_CONTRACT = {
    "lr": "lr = 4 / (sqrt(L) + sqrt(mu))^2",
    "beta": "beta = ((sqrt(kappa) - 1) / (sqrt(kappa) + 1))^2, kappa = L / mu",
    "rate": "rate = (sqrt(kappa) - 1) / (sqrt(kappa) + 1) = sqrt(beta)",
    "kappa_one": "mu = L (kappa = 1): beta = 0, lr = 1/L, rate = 0",
    "singular": "mu = 0: beta = 1, lr = 4/L, rate = 1 (no division by zero)",
    "ill_conditioned": "a badly conditioned problem (kappa = 1e6)",
    "ints": "mu and L may be Python ints or floats",
    "returns": "a tuple of three floats",
}
HBP_SCENARIOS = [  # (label, covers, [(mu, L), ...])
    ("the visible test's bounds", ("lr", "beta", "rate", "returns"), [(0.5, 50.0)]),
    ("a moderately conditioned problem", ("lr", "beta", "rate"), [(0.2, 7.0), (2.0, 9.0)]),
    ("mu = L", ("kappa_one",), [(3.0, 3.0)]),
    ("mu = 0", ("singular",), [(0.0, 4.0)]),
    ("a badly conditioned problem", ("ill_conditioned",), [(1e-4, 100.0)]),
    ("integer bounds", ("ints",), [(1, 16)]),
]


def _check_hbp(cases):
    def check(values):
        what = "heavy_ball_params"
        for (mu, L), out in zip(cases, returned(values, what)):
            if not (isinstance(out, tuple) and len(out) == 3):
                raise Failure(f"{what}: return a tuple (lr, beta, rate)")
            if not all(isinstance(v, (int, float)) for v in out):
                raise Failure(f"{what}: return three numbers (floats)")
            lr, beta, rate = (float(v) for v in out)
            want = ref.heavy_ball_params(mu, L)
            if mu < L and np.isclose(lr, 2 / (mu + L), rtol=1e-9):
                raise Mistake(f"{what}: " + MESSAGES["hb_gd"])
            if 0 < mu < L and np.isclose(beta, want[2], rtol=1e-9):
                raise Mistake(f"{what}: " + MESSAGES["hb_beta_sqrt"])
            if 0 < mu < L and np.isclose(rate, want[1], rtol=1e-9):
                raise Mistake(f"{what}: the rate is sqrt(beta) = (sqrt(k) - 1)/(sqrt(k) + 1), not beta")
            expect(lr, want[0], f"{what}: lr", rtol=1e-9)
            expect(beta, want[1], f"{what}: beta", rtol=1e-9, atol=1e-12)
            expect(rate, want[2], f"{what}: rate", rtol=1e-9, atol=1e-12)
    return check


# ---------------------------------------------------------------- part 3: heavy_ball_rate
HBR_CONTRACT = {
    "real": "small beta: real roots, rate = the larger |root| of z^2 - (1 + beta - lr*lam) z + beta",
    "complex": "large beta: complex roots, rate = sqrt(beta) (oscillation)",
    "diverge": "a step beyond the stability limit lr*lam < 2(1 + beta): rate > 1",
    "gd": "beta = 0: gradient descent, rate = max |1 - lr*lam|",
    "worst": "several eigenvalues: the largest rate over them (the slowest direction)",
    "zero_eig": "an eigenvalue 0 gives rate 1",
    "inputs": "eigenvalues as a list, a numpy array or one float",
    "returns": "a float",
}
HBR_SCENARIOS = [  # (label, covers, [(lr, beta, eigenvalues), ...])
    ("the visible test's settings", ("real", "complex", "diverge", "gd"),
     [(0.1, 0.2, [0.5, 2.0, 9.0]), (0.1, 0.9, [0.5, 2.0, 9.0]), (0.35, 0.5, [0.5, 2.0, 9.0]), (0.1, 0.0, [2.0])]),
    ("small beta (real roots)", ("real",), [(0.05, 0.1, [1.0, 4.0])]),
    ("large beta (complex roots)", ("complex",), [(0.05, 0.95, [1.0, 4.0, 10.0])]),
    ("a step beyond the stability limit", ("diverge",), [(0.5, 0.3, [1.0, 6.0])]),
    ("beta = 0", ("gd",), [(0.2, 0.0, [1.0, 3.0, 8.0])]),
    ("the slowest direction sets the rate", ("worst",), [(0.02, 0.6, [0.1, 5.0, 30.0])]),
    ("an eigenvalue 0", ("zero_eig",), [(0.1, 0.5, [0.0, 2.0])]),
    ("eigenvalues as one float and as a numpy array", ("inputs",), [(0.1, 0.5, 3.0), (0.1, 0.5, np.array([1.0, 3.0]))]),
    ("an optimal pair", ("complex", "returns"), [(*ref.heavy_ball_params(1.0, 25.0)[:2], [1.0, 7.0, 25.0])]),
]


def _check_hbr(cases):
    def check(values):
        what = "heavy_ball_rate"
        for (lr, beta, lam), out in zip(cases, returned(values, what)):
            if isinstance(out, (list, tuple, np.ndarray)):
                raise Failure(f"{what}: return one number, the largest rate over the eigenvalues")
            if not isinstance(out, (int, float)):
                raise Failure(f"{what}: return a float")
            want = ref.heavy_ball_rate(lr, beta, lam)
            per = [ref.heavy_ball_rate(lr, beta, [x]) for x in np.atleast_1d(lam)]
            if len(per) > 1 and not np.isclose(want, min(per)) and np.isclose(out, min(per), rtol=1e-7):
                raise Mistake(f"{what}: " + MESSAGES["rate_min"])
            if not np.isclose(out, want, rtol=1e-7):
                lams = np.atleast_1d(np.asarray(lam, dtype=float))
                b = 1 + beta - lr * lams
                disc = np.sqrt(np.maximum(b * b - 4 * beta, 0.0))
                real_only = float(np.max(np.maximum(np.abs(b + disc), np.abs(b - disc)) / 2))
                if beta > 0 and np.isclose(out, real_only, rtol=1e-7):
                    raise Mistake(f"{what}: " + MESSAGES["rate_real"])
                if beta > 0 and np.isclose(out, float(np.max(np.abs(1 - lr * lams))), rtol=1e-7):
                    raise Mistake(f"{what}: " + MESSAGES["rate_gd"])
            expect(float(out), want, what, rtol=1e-7, atol=1e-10)
    return check


# ---------------------------------------------------------------- part 4: ema_to_torch
EMA_CONTRACT = {
    "exact": "torch.optim.SGD(**result) follows the EMA form step for step from the first step at a constant lr",
    "no_dampening": "the first step matches too (dampening = beta does not: torch's first buffer is undamped)",
    "beta_zero": "beta = 0: plain SGD with the same lr",
    "beta_high": "beta close to 1 (0.99)",
    "returns": "a dict of keyword arguments of torch.optim.SGD",
}
EMA_SCENARIOS = [  # (label, covers, [(lr, beta), ...])
    ("the visible test's settings", ("exact", "no_dampening", "beta_zero", "returns"),
     [(0.1, 0.9), (0.5, 0.5), (0.2, 0.0)]),
    ("beta = 0.8", ("exact", "no_dampening"), [(0.05, 0.8)]),
    ("beta = 0", ("beta_zero",), [(0.3, 0.0)]),
    ("beta = 0.99", ("beta_high",), [(1.0, 0.99)]),
]
EMA_GRADS = list(np.cos(0.7 * np.arange(25)) + 0.2)
ALLOWED = {"lr", "momentum", "dampening", "nesterov", "weight_decay", "maximize"}


def _check_ema(cases):
    def check(values):
        what = "ema_to_torch"
        for (lr, beta), out in zip(cases, returned(values, what)):
            if not isinstance(out, dict):
                raise Failure(f"{what}: return a dict of torch.optim.SGD keyword arguments")
            if not set(out) <= ALLOWED or "lr" not in out:
                raise Failure(f"{what}: the dict must hold torch.optim.SGD keyword arguments, lr among them")
            try:
                got = checks.torch_sgd_steps(out, EMA_GRADS)
            except (TypeError, ValueError) as exc:
                raise Failure(f"{what}: torch.optim.SGD rejects your keyword arguments ({type(exc).__name__})")
            want = checks.ema_steps(lr, beta, EMA_GRADS)
            if np.allclose(got, want, rtol=1e-9, atol=1e-12):
                continue
            if beta and np.isclose(got[0], -lr * EMA_GRADS[0]) and out.get("dampening"):
                raise Mistake(f"{what}: " + MESSAGES["ema_dampening"])
            if beta and np.isclose(float(out.get("lr", 0)), lr / (1 - beta)):
                raise Mistake(f"{what}: " + MESSAGES["ema_inverted"])
            if beta and np.isclose(float(out.get("lr", 0)), lr):
                raise Mistake(f"{what}: " + MESSAGES["ema_unscaled"])
            raise Failure(f"{what}: torch.optim.SGD(**your dict) does not follow the EMA form")
    return check


PARTS = {
    "test_sgd": Part("sgd", contract=dict(SGD_CONTRACT), scenarios=_sgd_scenarios(), static=SGD.static),
    "test_heavy_ball_params": Part("heavy_ball_params", contract=dict(HBP_CONTRACT),
                                   scenarios=[Scenario(label, [call("heavy_ball_params", *c) for c in cases],
                                                       _check_hbp(cases), covers)
                                              for label, covers, cases in HBP_SCENARIOS]),
    "test_heavy_ball_rate": Part("heavy_ball_rate", contract=dict(HBR_CONTRACT),
                                 scenarios=[Scenario(label, [call("heavy_ball_rate", *c) for c in cases],
                                                     _check_hbr(cases), covers)
                                            for label, covers, cases in HBR_SCENARIOS]),
    "test_ema_to_torch": Part("ema_to_torch", contract=dict(EMA_CONTRACT),
                              scenarios=[Scenario(label, [call("ema_to_torch", *c) for c in cases],
                                                  _check_ema(cases), covers)
                                         for label, covers, cases in EMA_SCENARIOS]),
}
