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

from ..verdicts import Credit, Failure, Mistake, Part, Scenario, returned
from .common import call, expect, probe
from .trajectories import Trajectories
from .momentum_mistakes import MISTAKES

# ---------------------------------------------------------------- part 1: SGD
SGD_CONTRACT = {
    "defaults": "torch's defaults: lr 1e-3, momentum 0 (plain SGD, no state needed), dampening 0, nesterov False",
    "plain": "momentum = 0 is plain SGD, p -= lr * d_p, whatever dampening is",
    "momentum": "buf = momentum * buf + (1 - dampening) * d_p, p -= lr * buf; on the first step buf = d_p",
    "dampening": "dampening scales the gradient into the buffer from the second step on, never on the first",
    "nesterov": "nesterov=True steps along d_p + momentum * buf, with buf already updated",
    "nesterov_terms": "the Nesterov step's d_p is the one after maximize and weight decay",
    "weight_decay": "weight_decay * p is added to the gradient before it enters the buffer",
    "maximize": "maximize=True negates the gradient before weight decay and the buffer",
    "groups": "several parameter groups with different lr, momentum, dampening and nesterov",
    "lr_change": "a change of group['lr'] during training takes effect at the next step, on the whole buffer",
    "momentum_change": "momentum is read from the group at every step (a momentum schedule changes it)",
    "state_dict": "state_dict() / load_state_dict() round trip into a fresh optimizer",
    "state_key": "the buffer is self.state[p]['momentum_buffer'], so a state_dict saved by torch.optim.SGD loads",
    "float32": "float32 parameters (and float64), kept in their dtype",
    "none_grad": "a parameter whose grad is None is skipped: no update, its buffer unchanged",
    "zero_grad": "an exact zero gradient is a real step: the buffer decays and still moves p",
    "separate_state": "each parameter has its own buffer (parameters of equal shape included)",
    "grads_in_place": "the buffer is a copy: gradients zeroed in place between steps (zero_grad(set_to_none=False)) "
                      "leave it as it was",
    "closure": "step(closure) evaluates the closure and returns its loss",
}
STEPS = 20
F32 = dict(dtype=torch.float32, rtol=1e-5, atol=1e-6)
# The visible test's runs, one scenario each: an answer that fails one of them loses only that option's points.
VISIBLE_COVERS = {"momentum=0.9": ("momentum",), "momentum=0.5, dampening=0.3": ("dampening",),
                  "nesterov=True": ("nesterov",), "weight_decay=0.1 with momentum": ("weight_decay",),
                  "lr changed at step 8": ("lr_change",), "two parameter groups": ("groups",)}
SGD_SCENARIOS = [  # (label, covers, [(kwargs, run), ...])
    *[(f"the visible test's {label}", VISIBLE_COVERS[label], [(kw, {"steps": 15, **run})])
      for label, kw, run in VISIBLE_SETTINGS],
    ("default settings (momentum 0)", ("defaults",), [({}, {}), ({"lr": 0.1}, {})]),
    ("momentum 0 with dampening 0.5 (plain SGD)", ("plain",), [({"lr": 0.1, "dampening": 0.5}, {"steps": 8})]),
    ("momentum=0.9", ("momentum", "separate_state"), [({"lr": 0.05, "momentum": 0.9}, {})]),
    ("momentum with dampening", ("dampening",), [({"lr": 0.05, "momentum": 0.7, "dampening": 0.6}, {})]),
    ("nesterov=True", ("nesterov",), [({"lr": 0.05, "momentum": 0.9, "nesterov": True}, {})]),
    ("nesterov=True with weight_decay, and with maximize=True", ("nesterov_terms",),
     [({"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.3}, {"steps": 10}),
      ({"lr": 0.02, "momentum": 0.8, "nesterov": True, "maximize": True}, {"steps": 10})]),
    ("weight_decay with momentum", ("weight_decay",), [({"lr": 0.1, "momentum": 0.8, "weight_decay": 0.3}, {})]),
    ("maximize=True with momentum and weight_decay", ("maximize",),
     [({"lr": 0.02, "momentum": 0.8, "weight_decay": 0.2, "maximize": True}, {})]),
    ("two parameter groups with different settings", ("groups",),
     [({"lr": 0.05, "momentum": 0.9}, {"groups": [{"params": [0, 1, 2, 3], "lr": 0.1, "dampening": 0.5},
                                                  {"params": [4, 5], "momentum": 0.6, "nesterov": True}]})]),
    ("lr changed during training", ("lr_change",), [({"lr": 0.05, "momentum": 0.9}, {"lr_changes": {10: 0.2}})]),
    ("momentum changed during training (a momentum schedule)", ("momentum_change",),
     [({"lr": 0.05, "momentum": 0.9}, {"group_changes": {8: {"momentum": 0.5}}, "steps": 14}),
      ({"lr": 0.05}, {"group_changes": {6: {"momentum": 0.8}}, "steps": 12})]),
    ("state_dict round trip", ("state_dict",),
     [({"lr": 0.05, "momentum": 0.9, "weight_decay": 0.05}, {"roundtrip_at": 8})]),
    ("float32 parameters", ("float32",), [({"lr": 0.05, "momentum": 0.9, "nesterov": True}, dict(F32))]),
    ("some gradients None for a few steps", ("none_grad",),
     [({"lr": 0.05, "momentum": 0.9, "weight_decay": 0.1}, {"none_grads": {t: [1, 4] for t in range(3, 8)},
                                                            "steps": 10})]),
    ("some gradients exactly zero for a few steps", ("zero_grad",),
     [({"lr": 0.05, "momentum": 0.9}, {"zero_grads": {t: [0, 3] for t in range(2, 7)}, "steps": 10})]),
    ("gradients zeroed in place between steps (zero_grad(set_to_none=False))", ("grads_in_place",),
     [({"lr": 0.05, "momentum": 0.9}, {"set_to_none": False, "steps": 8})]),
    ("step(closure) (the closure computes the loss; step returns it)", ("closure",),
     [({"lr": 0.05, "momentum": 0.9}, {"closure": True, "steps": 6})]),
]
SGD_CREDIT = [
    Credit("the update with momentum (default options)", 2.0,
           ("defaults", "plain", "momentum", "separate_state", "zero_grad")),
    Credit("dampening", 0.5, ("dampening",)),
    Credit("nesterov", 0.5, ("nesterov", "nesterov_terms")),
    Credit("weight_decay and maximize", 0.5, ("weight_decay", "maximize")),
    Credit("parameter groups, lr and momentum changes", 0.25, ("groups", "lr_change", "momentum_change")),
    Credit("None gradients, in-place zeroing, state_dict, closure, float32", 0.25,
           ("none_grad", "grads_in_place", "state_dict", "state_key", "closure", "float32")),
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


@functools.lru_cache(maxsize=None)
def _load_wrong() -> tuple:
    """(trajectory, hint, key) of the known mistakes (an optimizer that looks for its buffer under another key
    among them) that a state_dict saved by torch tells apart from torch's own continuation."""
    want, out = _load_reference(), []
    for cls, hint, key in [(_StateIgnored, MESSAGES["state_key"], "state_key"), *MISTAKES]:
        try:
            traj = _load_reference(cls).double()
        except Exception:
            continue
        if traj.shape != want.shape or not torch.allclose(traj, want, rtol=1e-9, atol=1e-12):
            out.append((traj, hint, key))
    return tuple(out)


def _check_load(values):
    (got,) = returned(values, "SGD")
    SGD.judge(got, _load_reference(), _load_wrong(), "a state_dict saved by torch.optim.SGD", 1e-9, 1e-12)


def _sgd_scenarios():
    return SGD.scenarios() + [
        Scenario("a state_dict saved by torch.optim.SGD, loaded into your optimizer",
                 [probe("coursekit.checks.momentum:torch_state_into", "SGD", LOAD_KWARGS)], _check_load,
                 ("state_key",))]


def _numbers(out, what, names):
    """The returned tuple as floats: a tuple, a list or an array of len(names) numbers is accepted (the text
    says a tuple; the values are what is graded)."""
    if isinstance(out, np.ndarray) and out.ndim == 1:
        out = tuple(out)
    if not (isinstance(out, (tuple, list)) and len(out) == len(names)):
        raise Failure(f"{what}: return a tuple ({', '.join(names)})")
    values = []
    for v in out:
        if isinstance(v, np.ndarray) and v.ndim == 0:
            v = float(v)
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise Failure(f"{what}: return {len(names)} numbers (floats)")
        values.append(v)
    return values


# ---------------------------------------------------------------- part 2: heavy_ball_params
HBP_CONTRACT = {
    "lr": "lr = 4 / (sqrt(L) + sqrt(mu))^2",
    "beta": "beta = ((sqrt(kappa) - 1) / (sqrt(kappa) + 1))^2, kappa = L / mu",
    "rate": "rate = (sqrt(kappa) - 1) / (sqrt(kappa) + 1) = sqrt(beta)",
    "kappa_one": "mu = L (kappa = 1): beta = 0, lr = 1/L, rate = 0",
    "singular": "mu = 0: beta = 1, lr = 4/L, rate = 1 (no division by zero)",
    "ill_conditioned": "a badly conditioned problem (kappa = 1e6)",
    "near_one": "mu close to L (kappa = 1 + 1e-6): small beta and rate, to full relative precision",
    "ints": "mu and L may be Python ints or floats",
    "returns": "three numbers (a tuple; a list or an array of three is accepted too)",
}
HBP_SCENARIOS = [  # (label, covers, [(mu, L), ...])
    ("the visible test's bounds", ("lr", "beta", "rate", "returns"), [(0.5, 50.0)]),
    ("a moderately conditioned problem", ("lr", "beta", "rate"), [(0.2, 7.0), (2.0, 9.0)]),
    ("mu = L", ("kappa_one",), [(3.0, 3.0)]),
    ("mu = 0", ("singular",), [(0.0, 4.0)]),
    ("a badly conditioned problem", ("ill_conditioned",), [(1e-4, 100.0)]),
    ("mu close to L", ("near_one",), [(1.0, 1.000001)]),
    ("integer bounds", ("ints",), [(1, 16)]),
]
HBP_CREDIT = [Credit("lr, beta and rate", 1.5, ("lr", "beta", "rate", "returns", "ints")),
              Credit("mu = L, mu = 0, mu close to L and a badly conditioned problem", 0.5,
                     ("kappa_one", "singular", "near_one", "ill_conditioned"))]


def _hbp_models(mu, L):
    """(key, message, the whole (lr, beta, rate) that mistake gives) for heavy_ball_params."""
    lr, beta, rate = ref.heavy_ball_params(mu, L)
    return [("hb_gd", MESSAGES["hb_gd"], (2 / (mu + L), 0.0, (L - mu) / (L + mu))),
            ("hb_beta_sqrt", MESSAGES["hb_beta_sqrt"], (lr, rate, rate)),
            ("hb_rate_beta", "the rate is sqrt(beta) = (sqrt(k) - 1)/(sqrt(k) + 1), not beta", (lr, beta, beta))]


def _same(a, b):
    return bool(np.allclose(np.asarray(a, float), np.asarray(b, float), rtol=1e-9, atol=1e-12))


def _check_hbp(cases):
    def check(values):
        what = "heavy_ball_params"
        for (mu, L), out in zip(cases, returned(values, what)):
            lr, beta, rate = got = _numbers(out, what, ("lr", "beta", "rate"))
            want = ref.heavy_ball_params(mu, L)
            if not _same(got, want):
                # a mistake is named when its whole answer is this one, and only one mistake gives it here
                hits = [(key, message) for key, message, model in _hbp_models(mu, L)
                        if not _same(model, want) and _same(got, model)]
                if hits:
                    raise Mistake(f"{what}: " + hits[0][1], key=hits[0][0], plain="wrong values",
                                  also=tuple(k for k, _ in hits[1:]))
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
    "inputs": "eigenvalues as a list (of floats or ints), a numpy array or one float",
    "returns": "a float",
}
HBR_SCENARIOS = [  # (label, covers, [(lr, beta, eigenvalues), ...])
    ("the visible test's small beta (real roots)", ("real",), [(0.1, 0.2, [0.5, 2.0, 9.0])]),
    ("the visible test's large beta (complex roots)", ("complex",), [(0.1, 0.9, [0.5, 2.0, 9.0])]),
    ("the visible test's step too large", ("diverge",), [(0.35, 0.5, [0.5, 2.0, 9.0])]),
    ("the visible test's beta = 0", ("gd",), [(0.1, 0.0, [2.0])]),
    ("small beta (real roots), one eigenvalue", ("real",), [(0.05, 0.1, [4.0])]),
    ("large beta (complex roots)", ("complex",), [(0.05, 0.9, [1.0, 4.0, 10.0])]),
    ("a step beyond the stability limit", ("diverge",), [(0.5, 0.3, [1.0, 6.0])]),
    ("beta = 0", ("gd",), [(0.2, 0.0, [1.0, 3.0, 8.0])]),
    ("the slowest direction sets the rate", ("worst",), [(0.02, 0.6, [0.1, 5.0, 30.0])]),
    ("an eigenvalue 0", ("zero_eig",), [(0.1, 0.5, [0.0, 2.0])]),
    ("eigenvalues as one float, a numpy array and a list of ints", ("inputs",),
     [(0.1, 0.5, 3.0), (0.1, 0.5, np.array([1.0, 3.0])), (0.05, 0.3, [1, 4, 9])]),
    ("an optimal pair", ("complex", "returns"), [(*ref.heavy_ball_params(1.0, 25.0)[:2], [1.0, 7.0, 25.0])]),
]
HBR_CREDIT = [Credit("the rate in the real and the complex regime", 1.0, ("real", "complex", "returns")),
              Credit("divergence and beta = 0", 0.5, ("diverge", "gd")),
              Credit("several eigenvalues, a zero eigenvalue, and the input types", 0.5,
                     ("worst", "zero_eig", "inputs"))]


def _roots(lr, beta, lam):
    """|roots| of z^2 - (1 + beta - lr*lam) z + beta per eigenvalue: (larger, smaller), each an array."""
    lams = np.atleast_1d(np.asarray(lam, dtype=float))
    b = 1 + beta - lr * lams
    disc = (b * b - 4 * beta).astype(complex) ** 0.5
    r1, r2 = np.abs((b + disc) / 2), np.abs((b - disc) / 2)
    return np.maximum(r1, r2), np.minimum(r1, r2)


def _hbr_models(lr, beta, lam):
    """(key, message, value) of each named mistake of heavy_ball_rate on these inputs."""
    lams = np.atleast_1d(np.asarray(lam, dtype=float))
    big, small = _roots(lr, beta, lams)
    b = 1 + beta - lr * lams
    disc = np.sqrt(np.maximum(b * b - 4 * beta, 0.0))
    want = float(big.max())
    return [
        ("rate_min", MESSAGES["rate_min"], float(big.min())),
        ("rate_real", MESSAGES["rate_real"], float(np.max(np.maximum(np.abs(b + disc), np.abs(b - disc)) / 2))),
        ("rate_gd", MESSAGES["rate_gd"], float(np.max(np.abs(1 - lr * lams)))),
        ("rate_sqrt_beta", MESSAGES["rate_sqrt_beta"], float(np.sqrt(beta))),
        ("rate_clipped", MESSAGES["rate_clipped"], min(want, 1.0)),
        ("rate_smaller_root", MESSAGES["rate_smaller_root"], float(small.max())),
    ]


def _check_hbr(cases):
    def check(values):
        what = "heavy_ball_rate"
        for (lr, beta, lam), out in zip(cases, returned(values, what)):
            if isinstance(out, np.ndarray) and out.ndim == 0:
                out = float(out)
            if isinstance(out, (list, tuple, np.ndarray)):
                raise Failure(f"{what}: return one number, the largest rate over the eigenvalues")
            if isinstance(out, bool) or not isinstance(out, (int, float)):
                raise Failure(f"{what}: return a float")
            want = ref.heavy_ball_rate(lr, beta, lam)
            if not np.isclose(out, want, rtol=1e-7):
                hits = [(key, message) for key, message, value in _hbr_models(lr, beta, lam)
                        if not np.isclose(value, want, rtol=1e-7) and np.isclose(out, value, rtol=1e-7)]
                if hits:  # two mistakes giving the same value here: the part names the one every scenario shares
                    raise Mistake(f"{what}: " + hits[0][1], key=hits[0][0], plain="wrong rate",
                                  also=tuple(k for k, _ in hits[1:]))
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
    ("the visible test's (0.1, 0.9)", ("exact", "no_dampening", "returns"), [(0.1, 0.9)]),
    ("the visible test's (0.5, 0.5)", ("exact", "no_dampening"), [(0.5, 0.5)]),
    ("the visible test's beta = 0", ("beta_zero",), [(0.2, 0.0)]),
    ("beta = 0.8", ("exact", "no_dampening"), [(0.05, 0.8)]),
    ("beta = 0", ("beta_zero",), [(0.3, 0.0)]),
    ("beta = 0.99", ("beta_high",), [(1.0, 0.99)]),
]
EMA_CREDIT = [Credit("the conversion", 1.5, ("exact", "no_dampening", "returns")),
              Credit("beta = 0 and beta = 0.99", 0.5, ("beta_zero", "beta_high"))]
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
            out = {k: float(v) if isinstance(v, np.ndarray) and v.ndim == 0 else v for k, v in out.items()}
            try:
                got = checks.torch_sgd_steps(out, EMA_GRADS)
            except (TypeError, ValueError, RuntimeError) as exc:
                raise Failure(f"{what}: torch.optim.SGD rejects your keyword arguments ({type(exc).__name__})")
            want = checks.ema_steps(lr, beta, EMA_GRADS)
            if np.allclose(got, want, rtol=1e-9, atol=1e-12):
                continue
            models = [("ema_dampening", {"lr": lr, "momentum": beta, "dampening": beta}),
                      ("ema_inverted", {"lr": lr / (1 - beta), "momentum": beta}),
                      ("ema_unscaled", {"lr": lr, "momentum": beta})]
            for key, kwargs in models:
                if beta and np.allclose(got, checks.torch_sgd_steps(kwargs, EMA_GRADS), rtol=1e-9, atol=1e-12):
                    raise Mistake(f"{what}: " + MESSAGES[key], key=key, plain="torch.optim.SGD(**your dict) "
                                  "does not follow the EMA form")
            raise Failure(f"{what}: torch.optim.SGD(**your dict) does not follow the EMA form")
    return check


PARTS = {
    "test_sgd": Part("sgd", contract=dict(SGD_CONTRACT), scenarios=_sgd_scenarios(), static=SGD.static,
                     credit=SGD_CREDIT),
    "test_heavy_ball_params": Part("heavy_ball_params", contract=dict(HBP_CONTRACT),
                                   scenarios=[Scenario(label, [call("heavy_ball_params", *c) for c in cases],
                                                       _check_hbp(cases), covers)
                                              for label, covers, cases in HBP_SCENARIOS], credit=HBP_CREDIT),
    "test_heavy_ball_rate": Part("heavy_ball_rate", contract=dict(HBR_CONTRACT),
                                 scenarios=[Scenario(label, [call("heavy_ball_rate", *c) for c in cases],
                                                     _check_hbr(cases), covers)
                                            for label, covers, cases in HBR_SCENARIOS], credit=HBR_CREDIT),
    "test_ema_to_torch": Part("ema_to_torch", contract=dict(EMA_CONTRACT),
                              scenarios=[Scenario(label, [call("ema_to_torch", *c) for c in cases],
                                                  _check_ema(cases), covers)
                                         for label, covers, cases in EMA_SCENARIOS], credit=EMA_CREDIT),
}
