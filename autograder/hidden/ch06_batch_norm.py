"""Hidden tests for Chapter 6: batch normalization.

Every part states the contract the exercise's text gives and tries each item in a scenario. The numpy functions
are called directly and judged against ``solutions.batch_norm`` (itself tested against torch); the module and
``update_bn`` are driven by the probes of ``coursekit.checks.batch_norm`` in the sandbox (train/eval switching,
several batches, state_dict round trips), and the same probes run here on ``torch.nn.BatchNorm1d`` and
``torch.optim.swa_utils.update_bn`` give the expected values. A known mistake is named with the wording of
``coursekit.checks.batch_norm.HINTS``. Messages never contain the hidden inputs or the expected values.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from torch import nn
from torch.optim.swa_utils import update_bn as torch_update_bn

from coursekit.checks.batch_norm import (HINTS, diagnose_module, diagnose_update_bn, make_batch, module_run,
                                         state_dict_run, update_bn_run)
from solutions import batch_norm as ref

from ..verdicts import Part, Scenario
from .common import Failure, Foreign, Mistake, call, close, expect, forbid, probe, returned

PROBES = "coursekit.checks.batch_norm"


def _named(message):
    if message:
        raise (Mistake if any(h in message for h in HINTS.values()) else Failure)(message)


def _arrays(out, what, n, names):
    if not (isinstance(out, tuple) and len(out) == n):
        raise Failure(f"{what} should return a tuple ({', '.join(names)})")
    if any(isinstance(v, Foreign) or v is None for v in out):
        raise Failure(f"{what}: return numpy arrays ({', '.join(names)})")
    try:
        return [np.asarray(v, dtype=float) for v in out]
    except (TypeError, ValueError):
        raise Failure(f"{what}: return numpy arrays ({', '.join(names)})") from None


# ================================================================ Part 1: batch_norm_forward
FORWARD_CONTRACT = {
    "train_out": "in training mode out normalizes each channel with the batch mean and the biased batch variance, "
                 "then scales by gamma and shifts by beta",
    "running_update": "in training mode the running statistics become (1 - momentum) * running + momentum * the "
                      "batch's, with the unbiased batch variance for running_var",
    "eval": "in eval mode out normalizes with running_mean and running_var, which come back unchanged",
    "three_d": "an (N, C, L) input: one mean and variance per channel, over the axes 0 and 2",
    "eps": "eps is added to the variance inside the square root, with the value given",
    "momentum": "any momentum in [0, 1]: 0 keeps the running statistics, 1 replaces them by the batch's",
    "small_batch": "a batch of two examples (m - 1 = 1 in the unbiased variance)",
    "returns": "returns (out, new_running_mean, new_running_var), of shapes x.shape, (C,) and (C,)",
}


def _fcase(shape, seed, training, momentum=0.1, eps=1e-5, gamma=None, beta=None, rm=None, rv=None):
    c = shape[1]
    rng = np.random.default_rng(seed + 5)
    x = make_batch(shape, seed)
    gamma = rng.uniform(0.5, 2.0, c) if gamma is None else np.asarray(gamma, float)
    beta = rng.normal(0.0, 1.0, c) if beta is None else np.asarray(beta, float)
    rm = rng.normal(0.0, 2.0, c) if rm is None else np.asarray(rm, float)
    rv = rng.uniform(0.3, 3.0, c) if rv is None else np.asarray(rv, float)
    return (x, gamma, beta, rm, rv, training, momentum, eps)


_VIS_G, _VIS_B = np.array([1.5, 0.5, 2.0]), np.array([0.1, -1.0, 0.3])
_VIS_RM, _VIS_RV = np.array([0.5, -1.0, 0.0]), np.array([2.0, 0.5, 1.5])
FORWARD_SCENARIOS = [  # (label, covers, cases)
    ("training mode on an (N, C) batch", ("train_out", "running_update", "returns"),
     [_fcase((9, 4), 11_000, True), _fcase((16, 2), 12_000, True)]),
    ("eval mode", ("eval",), [_fcase((9, 4), 13_000, False)]),
    ("an (N, C, L) input in training mode", ("three_d",), [_fcase((5, 3, 7), 14_000, True)]),
    ("an (N, C, L) input in eval mode", ("three_d", "eval"), [_fcase((5, 3, 7), 15_000, False)]),
    ("a large eps", ("eps",), [_fcase((6, 3), 16_000, True, eps=0.7), _fcase((6, 3), 16_000, False, eps=0.7)]),
    ("momentum 0.3", ("momentum",), [_fcase((8, 3), 17_000, True, momentum=0.3)]),
    ("momentum 0 and momentum 1", ("momentum",),
     [_fcase((8, 3), 18_000, True, momentum=0.0), _fcase((8, 3), 18_000, True, momentum=1.0)]),
    ("a batch of two examples", ("small_batch",), [_fcase((2, 5), 19_000, True)]),
    ("the visible test's inputs", ("train_out", "running_update", "eval", "three_d"),
     [_fcase((8, 3), 61_000, True, 0.1, 1e-5, _VIS_G, _VIS_B, _VIS_RM, _VIS_RV),
      _fcase((8, 3), 61_000, False, 0.1, 1e-5, _VIS_G, _VIS_B, _VIS_RM, _VIS_RV),
      _fcase((4, 3, 5), 62_000, True, 0.2, 0.5, _VIS_G, _VIS_B, _VIS_RM, _VIS_RV)]),
]


def _shaped(v, ndim):
    return v if ndim == 2 else v[:, None]


def _forward_mistake(case, out, rm_new, rv_new):
    """The named mistake an answer's values match, or None."""
    x, gamma, beta, rm, rv, training, momentum, eps = case
    nd = x.ndim
    axes = (0,) if nd == 2 else (0, 2)
    aff = lambda z: _shaped(gamma, nd) * z + _shaped(beta, nd)  # noqa: E731
    mean, var, varu = x.mean(axis=axes), x.var(axis=axes), x.var(axis=axes, ddof=1)
    want_out, want_rm, want_rv = ref.batch_norm_forward(x, gamma, beta, rm, rv, training, momentum, eps)
    m = x.size // x.shape[1]
    if training:
        if not close(out, want_out):
            if close(out, aff((x - _shaped(mean, nd)) / (np.sqrt(_shaped(var, nd)) + eps))):
                return "eps_outside"
            if close(out, aff((x - _shaped(mean, nd)) / np.sqrt(_shaped(varu, nd) + eps))):
                return "unbiased_normalization"
            if close(out, aff((x - _shaped(rm, nd)) / np.sqrt(_shaped(rv, nd) + eps))):
                return "running_in_training"
            wrong = [(1,)] if nd == 2 else [(0,), (0, 1), (2,)]
            for ax in wrong:
                mu, va = x.mean(axis=ax, keepdims=True), x.var(axis=ax, keepdims=True)
                if close(out, aff((x - mu) / np.sqrt(va + eps))):
                    return "wrong_axis"
        if 0 < momentum < 1:
            if close(rm_new, rm) and close(rv_new, rv):
                return "never_updated"
            if close(rm_new, momentum * rm + (1 - momentum) * mean):
                return "reversed_momentum"
        if momentum != 0.1 and close(rm_new, 0.9 * rm + 0.1 * mean) and not close(rm_new, want_rm):
            return "momentum_ignored"
        if momentum > 0 and close(rv_new, (1 - momentum) * rv + momentum * var) and not close(rv_new, want_rv):
            return "biased_running_var"
        if rm_new.shape != want_rm.shape and rm_new.size != want_rm.size:
            return "wrong_axis"
        del m
    else:
        if not (close(rm_new, rm) and close(rv_new, rv)):
            return "updated_in_eval"
        if not close(out, want_out):
            if close(out, aff((x - _shaped(mean, nd)) / np.sqrt(_shaped(var, nd) + eps))):
                return "batch_at_eval"
            if close(out, aff((x - _shaped(rm, nd)) / (np.sqrt(_shaped(rv, nd)) + eps))):
                return "eps_outside"
    return None


def _check_forward(cases):
    def check(values):
        for case, got in zip(cases, returned(values, "batch_norm_forward")):
            x, training = case[0], case[5]
            what = f"batch_norm_forward in {'training' if training else 'eval'} mode"
            out, rm_new, rv_new = _arrays(got, what, 3, ("out", "new_running_mean", "new_running_var"))
            want_out, want_rm, want_rv = ref.batch_norm_forward(*case)
            bug = _forward_mistake(case, out, rm_new, rv_new)
            if bug:
                raise Mistake(f"{what}: {HINTS[bug]}")
            expect(out, want_out, f"{what}: out")
            expect(rm_new, want_rm, f"{what}: new_running_mean")
            expect(rv_new, want_rv, f"{what}: new_running_var")
    return check


# ================================================================ Part 2: batch_norm_backward
BACKWARD_CONTRACT = {
    "grad_x": "grad_x of training-mode batch normalization, with the paths through the batch mean and variance",
    "grad_gamma": "grad_gamma is the sum over the batch of grad_out * x_hat",
    "grad_beta": "grad_beta is the sum over the batch of grad_out",
    "gamma": "any gamma, with negative or zero entries too",
    "eps": "eps as given, inside the square root",
    "small_batch": "a batch of two examples",
    "returns": "returns (grad_x, grad_gamma, grad_beta) of shapes (N, C), (C,) and (C,)",
}


def _bcase(shape, seed, gamma=None, eps=1e-5, grad=None):
    rng = np.random.default_rng(seed + 3)
    x = make_batch(shape, seed)
    gamma = rng.uniform(0.5, 2.0, shape[1]) if gamma is None else np.asarray(gamma, float)
    grad = rng.standard_normal(shape) if grad is None else np.asarray(grad, float)
    return (grad, x, gamma, eps)


def _vis_backward():
    from coursekit.checks.batch_norm import output_weights
    return _bcase((6, 4), 71_000, np.array([1.0, 0.5, 2.0, -1.0]), 1e-5, output_weights((6, 4), 71))


BACKWARD_SCENARIOS = [
    ("a random batch", ("grad_x", "grad_gamma", "grad_beta", "returns"), [_bcase((10, 4), 21_000)]),
    ("gamma with negative and zero entries", ("gamma",), [_bcase((7, 3), 22_000, gamma=[-1.5, 0.0, 0.8])]),
    ("a large eps", ("eps",), [_bcase((6, 3), 23_000, eps=0.6)]),
    ("a batch of two examples", ("small_batch",), [_bcase((2, 4), 24_000)]),
    ("the visible test's inputs", ("grad_x", "grad_gamma", "grad_beta"), [_vis_backward()]),
]


def _check_backward(cases):
    def check(values):
        what = "batch_norm_backward"
        for (g, x, gamma, eps), got in zip(cases, returned(values, what)):
            dx, dg, db = _arrays(got, what, 3, ("grad_x", "grad_gamma", "grad_beta"))
            want_dx, want_dg, want_db = ref.batch_norm_backward(g, x, gamma, eps)
            sigma = np.sqrt(x.var(0) + eps)
            xh = (x - x.mean(0)) / sigma
            if not close(dx, want_dx):
                if close(dx, gamma * g / sigma):
                    raise Mistake(f"{what}: {HINTS['backward_no_paths']}")
                if close(dx, gamma / sigma * (g - g.mean(0))):
                    raise Mistake(f"{what}: {HINTS['backward_no_var_path']}")
                if close(dx, gamma / sigma * (g - xh * (g * xh).mean(0))):
                    raise Mistake(f"{what}: {HINTS['backward_no_mean_path']}")
                s2 = np.sqrt(x.var(0)) + eps
                xh2 = (x - x.mean(0)) / s2
                if close(dx, gamma / s2 * (g - g.mean(0) - xh2 * (g * xh2).mean(0)), rtol=1e-6):
                    raise Mistake(f"{what}: {HINTS['eps_outside']}")
            if close(dg, (g * xh).mean(0)) or close(db, g.mean(0)):
                raise Mistake(f"{what}: grad_gamma and grad_beta are sums over the batch, not means")
            expect(db, want_db, f"{what}: grad_beta")
            expect(dg, want_dg, f"{what}: grad_gamma")
            expect(dx, want_dx, f"{what}: grad_x")
    return check


# ================================================================ Part 3: BatchNorm1d
MODULE_CONTRACT = {
    "train_out": "in training mode the output is that of torch.nn.BatchNorm1d (batch statistics, biased variance)",
    "grads": "autograd gives the gradients of torch's layer for the input, weight and bias",
    "running": "training batches update running_mean and running_var as torch does (momentum 0.1 weights the new "
               "batch; unbiased variance)",
    "eval": "eval mode normalizes with the running statistics and leaves them unchanged",
    "momentum": "another momentum",
    "momentum_none": "momentum=None: the running statistics are the cumulative average, through num_batches_tracked",
    "nbt": "num_batches_tracked counts the training batches",
    "affine_false": "affine=False: no parameters, no scale or shift",
    "no_tracking": "track_running_stats=False: running_mean and running_var are None and eval mode uses batch "
                   "statistics",
    "three_d": "(N, C, L) inputs: statistics per channel over the axes 0 and 2",
    "eps": "eps as given",
    "float32": "a float32 layer on float32 inputs agrees with torch's to float32 precision",
    "state_dict": "state_dict has torch's keys and loads into torch's layer and back; num_batches_tracked travels "
                  "with it, so momentum=None continues the cumulative average after loading",
    "batch_of_one": "a (1, C) batch in training mode raises ValueError; (1, C, L) with L > 1 and (1, C) in eval "
                    "mode work, as in torch",
    "bad_dim": "1-D and 4-D inputs raise ValueError",
}
M = "BatchNorm1d"
MODULE_RUNS = [  # (label, covers, [(kwargs, plan, shape, dtype, seed), ...])
    ("three training batches on (N, C) inputs", ("train_out", "grads", "running", "nbt"),
     [({}, "ttt", (9, 4), "float64", 31)]),
    ("eval mode after training, then training again", ("eval", "running"), [({}, "tteet", (9, 4), "float64", 32)]),
    ("momentum 0.4", ("momentum",), [({"momentum": 0.4}, "tttet", (8, 3), "float64", 33)]),
    ("momentum=None", ("momentum_none", "nbt"), [({"momentum": None}, "tttte", (8, 3), "float64", 34)]),
    ("affine=False", ("affine_false",), [({"affine": False}, "ttet", (8, 3), "float64", 35)]),
    ("track_running_stats=False", ("no_tracking",),
     [({"track_running_stats": False}, "tete", (8, 3), "float64", 36)]),
    ("(N, C, L) inputs", ("three_d",), [({}, "ttet", (4, 3, 6), "float64", 37),
                                        ({"momentum": None}, "tte", (3, 2, 5), "float64", 38)]),
    ("a large eps", ("eps",), [({"eps": 0.5}, "tte", (6, 3), "float64", 39)]),
    ("a float32 layer", ("float32",), [({}, "ttet", (8, 3), "float32", 40)]),
    ("the visible test's settings", ("running", "eval", "momentum_none", "affine_false", "no_tracking"),
     [({}, "ttte", (10, 3), "float64", 3), ({"momentum": None}, "ttte", (10, 3), "float64", 3),
      ({"affine": False}, "tte", (6, 2, 4), "float64", 3), ({"track_running_stats": False}, "te", (7, 3), "float64", 3)]),
]


@lru_cache(maxsize=None)
def _torch_run(kwargs_items, plan, shape, dtype, seed):
    return module_run(nn.BatchNorm1d, dict(kwargs_items), plan, shape, dtype, seed)


def _check_module_runs(cases):
    def check(values):
        for (kwargs, plan, shape, dtype, seed), got in zip(cases, returned(values, M)):
            if not isinstance(got, dict) or "steps" not in got:
                raise Failure(f"{M} could not be run")
            want = _torch_run(tuple(sorted(kwargs.items())), plan, tuple(shape), dtype, seed)
            msg = diagnose_module(got, want, kwargs, plan, shape, seed, *((1e-9, 1e-9) if dtype == "float64"
                                                                            else (1e-4, 1e-5)))
            if msg and dtype == "float32":
                msg = f"in float32: {msg}"
            _named(msg)
    return check


STATE_CASES = [({}, (8, 3), 41), ({"momentum": None}, (6, 3), 42)]


@lru_cache(maxsize=None)
def _torch_state(kwargs_items, shape, seed):
    return state_dict_run(nn.BatchNorm1d, dict(kwargs_items), shape, seed)


def _check_state(cases):
    def check(values):
        for (kwargs, shape, seed), got in zip(cases, returned(values, M)):
            want = _torch_state(tuple(sorted(kwargs.items())), tuple(shape), seed)
            if got["keys"] != want["keys"]:
                raise Failure(f"{M}.state_dict() keys differ from torch's {want['keys']}: register weight and bias "
                              "as parameters, running_mean, running_var and num_batches_tracked as buffers")
            if got["nbt_dtype"] != "int64":
                raise Failure(f"{M}: num_batches_tracked must be an integer (torch.long) tensor buffer, "
                              f"not {got['nbt_dtype']}")
            if got["to_torch_error"] or got["from_torch_error"]:
                raise Failure(f"{M}: loading your state_dict into torch.nn.BatchNorm1d, or torch's into your layer, "
                              f"raised {got['to_torch_error'] or got['from_torch_error']} (names, shapes and dtypes "
                              "of the entries must be torch's)")
            if not close(got["torch_out"], want["torch_out"]) or not close(got["answer_out"], want["answer_out"]):
                raise Failure(f"{M}: after a state_dict round trip the eval-mode outputs differ from torch's")
            if not (close(got["continued_mean"], want["continued_mean"])
                    and close(got["continued_var"], want["continued_var"])):
                if kwargs.get("momentum", 0.1) is None:
                    raise Mistake(f"{M}: after loading a state_dict and training on: {HINTS['nbt_ignored']} "
                                  "(num_batches_tracked comes with the state_dict)")
                raise Failure(f"{M}: training on after loading a state_dict gives running statistics that differ "
                              "from torch's")
    return check


RAISE_CASES = [  # (kwargs, shape, training), torch's answer computed from torch
    ({}, (1, 3), True), ({}, (1, 3, 4), True), ({}, (1, 3), False), ({}, (3,), True), ({}, (2, 3, 4, 5), True),
]


@lru_cache(maxsize=None)
def _torch_raises(kwargs_items, shape, training):
    from coursekit.checks.batch_norm import raises_run
    return raises_run(nn.BatchNorm1d, dict(kwargs_items), shape, training)


def _check_raises(cases):
    def check(values):
        for (kwargs, shape, training), got in zip(cases, returned(values, M)):
            want = _torch_raises(tuple(sorted(kwargs.items())), tuple(shape), training)
            if got == want:
                continue
            mode = "training" if training else "eval"
            if len(shape) in (2, 3) and shape[0] * (shape[2] if len(shape) == 3 else 1) == 1:
                raise Mistake(f"{M} on a batch of one in {mode} mode: {HINTS['batch_of_one']} (got {got})")
            if len(shape) not in (2, 3):
                raise Mistake(f"{M} on a {len(shape)}-D input: {HINTS['bad_dim']} (got {got})")
            raise Failure(f"{M} on a {shape[0]}-example {len(shape)}-D batch in {mode} mode raised {got}; torch "
                          f"{'raises ' + want if want != 'no error' else 'accepts it'}")
    return check


def _module_scenarios():
    out = [Scenario(label, [probe(f"{PROBES}:module_run", M, kw, plan, list(shape), dtype, seed)
                            for kw, plan, shape, dtype, seed in cases],
                    _check_module_runs(cases), covers) for label, covers, cases in MODULE_RUNS]
    out.append(Scenario("a state_dict round trip", [probe(f"{PROBES}:state_dict_run", M, kw, list(shape), seed)
                                                     for kw, shape, seed in STATE_CASES],
                        _check_state(STATE_CASES), ("state_dict",)))
    out.append(Scenario("a batch of one", [probe(f"{PROBES}:raises_run", M, kw, list(shape), tr)
                                           for kw, shape, tr in RAISE_CASES[:3]],
                        _check_raises(RAISE_CASES[:3]), ("batch_of_one",)))
    out.append(Scenario("1-D and 4-D inputs", [probe(f"{PROBES}:raises_run", M, kw, list(shape), tr)
                                               for kw, shape, tr in RAISE_CASES[3:]],
                        _check_raises(RAISE_CASES[3:]), ("bad_dim",)))
    return out


# ================================================================ Part 4: update_bn
UPDATE_CONTRACT = {
    "stats": "every BatchNorm layer ends with the cumulative average of its batch statistics over the batches, as "
             "torch.optim.swa_utils.update_bn",
    "reset": "the old running statistics are discarded first",
    "momentum": "each layer's momentum is restored afterwards",
    "mode": "the network ends in the mode (train or eval) it started in",
    "batches": "a batch is a tensor, or a tuple or list whose first item is the input",
    "all_bn": "every BatchNorm layer counts: BatchNorm1d and BatchNorm2d, with different momenta",
    "no_bn": "a network without BatchNorm layers is left as it is",
}
UPDATE_CASES = [  # (label, covers, [(net, kind, mode, seed)])
    ("an MLP in eval mode, batches as tensors", ("stats", "reset", "momentum", "mode"), [("mlp", "tensor", "eval", 5)]),
    ("an MLP in train mode, batches as (x, y) tuples", ("batches", "mode"), [("mlp", "tuple", "train", 6)]),
    ("a conv net with BatchNorm2d, batches as [x, y] lists", ("all_bn", "batches"), [("conv", "list", "eval", 7)]),
    ("a network without BatchNorm", ("no_bn",), [("no_bn", "tensor", "eval", 8)]),
    ("the visible test's networks", ("stats", "batches"),
     [("visible", "tensor", "eval", 2), ("visible", "tuple", "train", 2)]),
]


@lru_cache(maxsize=None)
def _torch_update(net, kind, mode, seed):
    return update_bn_run(torch_update_bn, net, kind, mode, seed)


def _check_update(cases):
    def check(values):
        for (net, kind, mode, seed), got in zip(cases, returned(values, "update_bn")):
            if not isinstance(got, dict) or "layers" not in got:
                raise Failure("update_bn could not be run")
            want = _torch_update(net, kind, mode, seed)
            msg = diagnose_update_bn(got, want, net, kind, mode, seed)
            if msg:
                _named(f"update_bn: {msg}")
            if net == "no_bn" and got != want:
                raise Failure("update_bn changed a network without BatchNorm layers")
    return check


def _scenarios(table, make_call, check):
    return [Scenario(label, [make_call(*case) for case in cases], check(cases), covers)
            for label, covers, cases in table]


# The parts the student writes themselves, not torch's (the tests' oracle): its batch-norm function and layers, its
# autograd for the backward pass, and swa_utils.update_bn.
_TORCH_BN = ("batch_norm", "native_batch_norm", "BatchNorm1d", "BatchNorm2d", "_BatchNorm", "_NormBase",
             "LazyBatchNorm1d", "SyncBatchNorm")
_FORWARD_STATIC = forbid(_TORCH_BN, "batch_norm_forward")
_BACKWARD_STATIC = forbid(_TORCH_BN + ("autograd", "backward"), "batch_norm_backward")
_MODULE_STATIC = forbid(_TORCH_BN, "BatchNorm1d")
_UPDATE_STATIC = forbid(("swa_utils", "update_bn"), "update_bn")

PARTS = {
    "test_batch_norm_forward": Part("batch_norm_forward", contract=FORWARD_CONTRACT, scenarios=_scenarios(
        FORWARD_SCENARIOS, lambda *case: call("batch_norm_forward", *case), _check_forward),
        static=_FORWARD_STATIC),
    "test_batch_norm_backward": Part("batch_norm_backward", contract=BACKWARD_CONTRACT, scenarios=_scenarios(
        BACKWARD_SCENARIOS, lambda *case: call("batch_norm_backward", *case), _check_backward),
        static=_BACKWARD_STATIC),
    "test_batchnorm_module": Part("BatchNorm1d", contract=MODULE_CONTRACT, scenarios=_module_scenarios(),
                                  static=_MODULE_STATIC),
    "test_update_bn": Part("update_bn", contract=UPDATE_CONTRACT, scenarios=_scenarios(
        UPDATE_CASES, lambda *case: probe(f"{PROBES}:update_bn_run", "update_bn", *case), _check_update),
        static=_UPDATE_STATIC),
}
