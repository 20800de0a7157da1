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
import torch
from torch import nn
from torch.optim.swa_utils import update_bn as torch_update_bn

from coursekit.checks.batch_norm import (HINTS, MOMENTUM_CHANGES, RUNNING_MISTAKES, UPDATE_BN_MISTAKES, affine_values,
                                         diagnose_module_keyed, diagnose_update_bn, make_batch, module_run, no_pass,
                                         reset_statistics, shifted_batch, simulate_running, state_dict_run,
                                         step_models, update_bn_run)
from solutions import batch_norm as ref

from ..verdicts import Credit, Part, Scenario
from .common import Failure, Foreign, Mistake, call, close, expect, probe, returned

PROBES = "coursekit.checks.batch_norm"


def _hint_key(message: str) -> str | None:
    """The HINTS key whose wording ``message`` contains, if any."""
    return next((k for k, v in HINTS.items() if v in message), None)


def _named(message, key=None, plain="differs from torch's"):
    """A diagnosis as a Mistake (keyed by the HINTS entry it was verified to match), else a Failure."""
    if message:
        key = key or _hint_key(message)
        if key:
            raise Mistake(message, key=key, plain=plain)
        raise Failure(message)


def _mistake(what: str, key: str, plain: str) -> Mistake:
    return Mistake(f"{what}: {HINTS[key]}", key=key, plain=plain)


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
    "one_example_3d": "a batch of one example with several positions per channel, (1, C, L): m = L values per "
                      "channel",
    "large_mean": "a channel whose mean is large next to its spread: the variance is computed without cancellation",
    "returns": "returns (out, new_running_mean, new_running_var), of shapes x.shape, (C,) and (C,)",
}
LARGE_MEAN = 1e5   # added to channel 0: E[x^2] - E[x]^2 then loses about 10 of its 16 digits


def _fcase(shape, seed, training, momentum=0.1, eps=1e-5, gamma=None, beta=None, rm=None, rv=None, shift=0.0):
    c = shape[1]
    rng = np.random.default_rng(seed + 5)
    x = make_batch(shape, seed)
    x[:, 0] += shift
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
    ("one example with several positions per channel, (1, C, L)", ("one_example_3d",),
     [_fcase((1, 3, 6), 19_500, True), _fcase((1, 3, 6), 19_500, False)]),
    ("a channel with a large mean", ("large_mean",),
     [_fcase((12, 3), 19_700, True, shift=LARGE_MEAN), _fcase((5, 3, 4), 19_800, True, shift=LARGE_MEAN)]),
    ("the visible test's inputs", ("train_out", "running_update", "eval", "three_d"),
     [_fcase((8, 3), 61_000, True, 0.1, 1e-5, _VIS_G, _VIS_B, _VIS_RM, _VIS_RV),
      _fcase((8, 3), 61_000, False, 0.1, 1e-5, _VIS_G, _VIS_B, _VIS_RM, _VIS_RV),
      _fcase((4, 3, 5), 62_000, True, 0.2, 0.5, _VIS_G, _VIS_B, _VIS_RM, _VIS_RV)]),
]


def _shaped(v, ndim):
    return v if ndim == 2 else v[:, None]


def _same(a, b) -> bool:
    """``a`` equals ``b`` to 1e-7, infinities and NaNs included (a model with a division by zero)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-7, atol=1e-9, equal_nan=True)) \
        and np.array_equal(np.isfinite(a), np.isfinite(b))


def _ruled_out_by(evidence, modes) -> frozenset:
    """The mistakes a passing scenario rules out. ``evidence``: (key, mode) when every form of that mistake fails a
    case of the scenario in that mode; a mistake that ``modes`` gives a form in several modes (written in one mode's
    code alone, it is right in the other) needs evidence in each."""
    return frozenset(k for k, _ in evidence if all((k, m) in evidence for m in modes.get(k, ())))


FORWARD_CASES = {label: cases for label, _, cases in FORWARD_SCENARIOS}
FORWARD_MODES = {"eps_outside": ("training", "eval")}   # eps outside the square root: a form in each mode


@lru_cache(maxsize=None)
def _forward_models(label, k):
    """Case ``k`` of scenario ``label``: the reference (out, new_running_mean, new_running_var); key -> the forms of
    out of that mistake (the running statistics right) and key -> the forms of the running statistics (out right);
    and the (key, mode) of the mistakes whose every form fails the case. Once per process."""
    case = FORWARD_CASES[label][k]
    x, gamma, beta, rm, rv, training, momentum, eps = case
    nd = x.ndim
    axes = (0,) if nd == 2 else (0, 2)
    aff = lambda z: _shaped(gamma, nd) * z + _shaped(beta, nd)  # noqa: E731
    mean, var, varu = x.mean(axis=axes), x.var(axis=axes), x.var(axis=axes, ddof=1)
    want = ref.batch_norm_forward(*case)
    if training:
        outs = {
            "eps_outside": [aff((x - _shaped(mean, nd)) / (np.sqrt(_shaped(var, nd)) + eps))],
            "unbiased_normalization": [aff((x - _shaped(mean, nd)) / np.sqrt(_shaped(varu, nd) + eps))],
            "running_in_training": [aff((x - _shaped(rm, nd)) / np.sqrt(_shaped(rv, nd) + eps))],
            # the statistics over other axes; axis 0 alone (an (N, C, L) input's mistake) is right on (N, C)
            "wrong_axis": [aff((x - x.mean(axis=ax, keepdims=True)) / np.sqrt(x.var(axis=ax, keepdims=True) + eps))
                           for ax in ([(1,), (0,)] if nd == 2 else [(0,), (1,), (0, 1), (1, 2), (2,)])],
        }
        n = x.shape[0]
        with np.errstate(divide="ignore", invalid="ignore"):
            running = {
                "never_updated": [(rm, rv)],
                "reversed_momentum": [(momentum * rm + (1 - momentum) * mean, momentum * rv + (1 - momentum) * varu)],
                "momentum_ignored": [(0.9 * rm + 0.1 * mean, 0.9 * rv + 0.1 * varu)],
                "biased_running_var": [(want[1], (1 - momentum) * rv + momentum * var)],
                "unbiased_factor_n": [(want[1], (1 - momentum) * rv + momentum * var * n / (n - 1))],
            }
    else:
        outs = {"batch_at_eval": [aff((x - _shaped(mean, nd)) / np.sqrt(_shaped(var, nd) + eps))],
                "eps_outside": [aff((x - _shaped(rm, nd)) / (np.sqrt(_shaped(rv, nd)) + eps))]}
        running = {"updated_in_eval": [ref.batch_norm_forward(x, gamma, beta, rm, rv, True, momentum, eps)[1:]]}
    forms = {key: [(f, *want[1:]) for f in fs] for key, fs in outs.items()}
    forms.update({key: [(want[0], *f) for f in fs] for key, fs in running.items()})
    mode = "training" if training else "eval"
    fails = frozenset((key, mode) for key, fs in forms.items()
                      if not any(all(close(a, b) for a, b in zip(f, want)) for f in fs))
    return want, outs, running, fails


@lru_cache(maxsize=None)
def _forward_rules_out(label):
    return _ruled_out_by(frozenset().union(*(_forward_models(label, k)[3] for k in range(len(FORWARD_CASES[label])))),
                         FORWARD_MODES)


def _forward_mistake(label, k, out, rm_new, rv_new):
    """The named mistake whose model the answer's values match (and which differs from the correct values on this
    case), or None."""
    x, gamma, beta, rm, rv, training, momentum, eps = FORWARD_CASES[label][k]
    want, outs, running, _ = _forward_models(label, k)
    want_out, want_rm, want_rv = want

    def matches(model, parts=(0, 1, 2)):
        return all(_same((out, rm_new, rv_new)[i], model[i]) for i in parts) \
            and not all(_same(model[i], want[i]) for i in parts)

    if training:
        for key in ("eps_outside", "unbiased_normalization", "running_in_training"):
            if matches((outs[key][0],), (0,)):
                return key
        if any(matches((form,), (0,)) for form in outs["wrong_axis"]):
            return "wrong_axis"
        if rm_new.shape != want_rm.shape and rm_new.size != want_rm.size:
            return "wrong_axis"
        for key, ((model_rm, model_rv),) in running.items():
            if matches((want_out, model_rm, model_rv)):
                return key
        if _large_mean(x) and (_cancelled(out, want_out) or _cancelled(rv_new, want_rv)) \
                and close(rm_new, want_rm):
            return "var_cancellation"
    else:
        if not (close(rm_new, rm) and close(rv_new, rv)):
            ((updated_rm, updated_rv),) = running["updated_in_eval"]
            if close(rm_new, updated_rm) and close(rv_new, updated_rv):
                return "updated_in_eval"
            return None
        for key in ("batch_at_eval", "eps_outside"):
            if matches((outs[key][0],), (0,)):
                return key
    return None


def _large_mean(x) -> bool:
    return bool(np.abs(x[:, 0]).min() > 1e4)


def _cancelled(got, want) -> bool:
    """Right on every channel but the large-mean channel 0, and there off by a little: a variance that cancels."""
    from coursekit.checks.batch_norm import _cancelled as cancelled
    return cancelled(got, want, 1e-9, 1e-9)


def _check_forward(label, cases):
    def check(values):
        for k, (case, got) in enumerate(zip(cases, returned(values, "batch_norm_forward"))):
            what = f"batch_norm_forward in {'training' if case[5] else 'eval'} mode"
            out, rm_new, rv_new = _arrays(got, what, 3, ("out", "new_running_mean", "new_running_var"))
            want_out, want_rm, want_rv = _forward_models(label, k)[0]
            bug = _forward_mistake(label, k, out, rm_new, rv_new)
            if bug:
                raise _mistake(what, bug, "out or the running statistics differ from torch's")
            expect(out, want_out, f"{what}: out")
            expect(rm_new, want_rm, f"{what}: new_running_mean")
            expect(rv_new, want_rv, f"{what}: new_running_var")
        return _forward_rules_out(label)   # passed: the mistakes whose models fail here are not the answer's
    return check


# ================================================================ Part 2: batch_norm_backward
BACKWARD_CONTRACT = {
    "grad_x": "grad_x of training-mode batch normalization, with the paths through the batch mean and variance",
    "grad_gamma": "grad_gamma is the sum over the batch of grad_out * x_hat",
    "grad_beta": "grad_beta is the sum over the batch of grad_out",
    "gamma": "any gamma, with negative or zero entries too",
    "eps": "eps as given, inside the square root",
    "small_batch": "a batch of two examples",
    "large_mean": "a channel whose mean is large next to its spread: the variance is computed without cancellation",
    "returns": "returns (grad_x, grad_gamma, grad_beta) of shapes (N, C), (C,) and (C,)",
}


def _bcase(shape, seed, gamma=None, eps=1e-5, grad=None, shift=0.0):
    rng = np.random.default_rng(seed + 3)
    x = make_batch(shape, seed)
    x[:, 0] += shift
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
    ("a channel with a large mean", ("large_mean",), [_bcase((12, 3), 25_000, shift=LARGE_MEAN)]),
    ("the visible test's inputs", ("grad_x", "grad_gamma", "grad_beta"), [_vis_backward()]),
]


BACKWARD_CASES = {label: cases for label, _, cases in BACKWARD_SCENARIOS}


@lru_cache(maxsize=None)
def _backward_models(label, k):
    """Case ``k`` of scenario ``label``: the reference (grad_x, grad_gamma, grad_beta), key -> the forms of that
    mistake's three gradients, and the keys whose every form fails the case. Once per process."""
    g, x, gamma, eps = BACKWARD_CASES[label][k]
    want = ref.batch_norm_backward(g, x, gamma, eps)
    dx, dg, db = want
    sigma = np.sqrt(x.var(0) + eps)
    xh = (x - x.mean(0)) / sigma
    s2 = np.sqrt(x.var(0)) + eps
    xh2 = (x - x.mean(0)) / s2
    models = {
        "backward_no_paths": [(gamma * g / sigma, dg, db)],
        "backward_no_var_path": [(gamma / sigma * (g - g.mean(0)), dg, db)],
        "backward_no_mean_path": [(gamma / sigma * (g - xh * (g * xh).mean(0)), dg, db)],
        "eps_outside": [(gamma / s2 * (g - g.mean(0) - xh2 * (g * xh2).mean(0)), dg, db)],
        "means_not_sums": [(dx, (g * xh).mean(0), db), (dx, dg, g.mean(0))],   # grad_gamma or grad_beta a mean
    }
    fails = frozenset(key for key, forms in models.items()
                      if not any(all(close(a, b) for a, b in zip(f, want)) for f in forms))
    return want, models, fails


@lru_cache(maxsize=None)
def _backward_rules_out(label):
    return frozenset().union(*(_backward_models(label, k)[2] for k in range(len(BACKWARD_CASES[label]))))


def _check_backward(label, cases):
    def check(values):
        what = "batch_norm_backward"
        for k, ((g, x, gamma, eps), got) in enumerate(zip(cases, returned(values, what))):
            dx, dg, db = _arrays(got, what, 3, ("grad_x", "grad_gamma", "grad_beta"))
            (want_dx, want_dg, want_db), models, _ = _backward_models(label, k)
            plain = "grad_x, grad_gamma or grad_beta differ from torch autograd's"
            if not close(dx, want_dx):
                for key in ("backward_no_paths", "backward_no_var_path", "backward_no_mean_path"):
                    if close(dx, models[key][0][0]):
                        raise _mistake(what, key, plain)
                if close(dx, models["eps_outside"][0][0], rtol=1e-6):
                    raise _mistake(what, "eps_outside", plain)
            if _large_mean(x) and close(db, want_db) and any(
                    _cancelled(a, b) for a, b in ((dx, want_dx), (dg, want_dg))):
                raise _mistake(what, "var_cancellation", plain)
            mean_dg, mean_db = models["means_not_sums"][0][1], models["means_not_sums"][1][2]
            if (close(dg, mean_dg) and not close(dg, want_dg)) or (close(db, mean_db) and not close(db, want_db)):
                raise Mistake(f"{what}: grad_gamma and grad_beta are sums over the batch, not means",
                              key="means_not_sums", plain=plain)
            expect(db, want_db, f"{what}: grad_beta")
            expect(dg, want_dg, f"{what}: grad_gamma")
            expect(dx, want_dx, f"{what}: grad_x")
        return _backward_rules_out(label)   # passed: the mistakes whose models fail here are not the answer's
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
    "one_example_3d": "a (1, C, L) batch in training mode normalizes over its L positions and updates the running "
                      "statistics with m = L",
    "large_mean": "a channel whose mean is large next to its spread: the variance is computed without cancellation",
    "momentum_read": "self.momentum is read at every forward pass: setting it to None (or to a number) after "
                     "construction takes effect, as update_bn relies on",
    "no_graph": "the running statistics are not part of the computation graph (no grad, backward in eval mode works)",
}
M = "BatchNorm1d"
MODULE_RUNS = [  # (label, covers, [(kwargs, plan, shape, dtype, seed[, shift]), ...])
    ("three training batches on (N, C) inputs", ("train_out", "grads", "running", "nbt"),
     [({}, "ttt", (9, 4), "float64", 31)]),
    ("eval mode after training, then training again", ("eval", "running", "no_graph"),
     [({}, "tteet", (9, 4), "float64", 32)]),
    ("momentum 0.4", ("momentum",), [({"momentum": 0.4}, "tttet", (8, 3), "float64", 33)]),
    ("momentum=None", ("momentum_none",), [({"momentum": None}, "tttte", (8, 3), "float64", 34)]),
    ("momentum changed after construction", ("momentum_read",),
     [({}, "ttNtte", (8, 3), "float64", 43), ({"momentum": None}, "ttQte", (8, 3), "float64", 44)]),
    ("one example with several positions per channel, (1, C, L)", ("one_example_3d",),
     [({}, "tte", (1, 3, 6), "float64", 45)]),
    ("a channel with a large mean", ("large_mean",), [({}, "tte", (12, 3), "float64", 46, LARGE_MEAN)]),
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
def _torch_run(kwargs_items, plan, shape, dtype, seed, shift=0.0):
    return module_run(nn.BatchNorm1d, dict(kwargs_items), plan, shape, dtype, seed, shift)


MODULE_MODES = {"eps_outside": ("t", "e")}   # a form in training steps, one in eval steps (of a run, of state_dict)


def _eval_models(x, rm, rv, eps):
    """key -> the eval-mode output (normalized, before weight and bias) of that mistake on the batch ``x`` of a layer
    whose running statistics are ``rm``, ``rv``."""
    sh = (1, -1) if x.ndim == 2 else (1, -1, 1)
    return {"batch_at_eval": step_models(x, eps, "e")["batch_at_eval"][0],
            "eps_outside": (x - rm.reshape(sh)) / (np.sqrt(rv.reshape(sh)) + eps)}


def _running_fail(kwargs, plan, shape, seed, shift, want, near):
    """(key, "buffers") of the mistakes of the running statistics whose model leaves other buffers than ``want``.
    Not nbt_ignored: its other form, a counter of one's own instead of num_batches_tracked, is right until a
    state_dict is loaded (the state_dict scenario names it by what it sees, without a model)."""
    names = ("running_mean", "running_var", "num_batches_tracked")
    return {(bug, "buffers") for bug in ("never_updated",) + RUNNING_MISTAKES if bug != "nbt_ignored"
            and not all(near(m, want[n]) for m, n in zip(simulate_running(kwargs, plan, shape, seed, bug, shift),
                                                          names))}


@lru_cache(maxsize=None)
def _module_fails(kwargs_items, plan, shape, dtype, seed, shift=0.0):
    """(key, mode) of the mistakes whose every form fails a module run as it is judged: in a training step ("t"),
    an eval step ("e") or in the buffers left ("buffers"). Once per process."""
    kwargs = dict(kwargs_items)
    want = _torch_run(kwargs_items, plan, shape, dtype, seed, shift)
    tol = (1e-9, 1e-9) if dtype == "float64" else (1e-4, 1e-5)
    eps, tracking, c = kwargs.get("eps", 1e-5), kwargs.get("track_running_stats", True), shape[1]
    sh = (1, -1) if len(shape) == 2 else (1, -1, 1)
    gam, bet = affine_values(c, seed) if "weight" in want["param_names"] else (np.ones(c), np.zeros(c))
    fails = set()
    for k, (mode, w) in enumerate(zip(plan, want["steps"])):
        if mode in MOMENTUM_CHANGES or "out" not in w or (mode == "e" and not tracking):
            continue   # without running statistics eval mode normalizes as training mode does
        x = shifted_batch(shape, seed * 1000 + k, shift)
        if mode == "t":
            models = step_models(x, eps, mode)
        else:   # the running statistics of the steps before, as torch leaves them
            rm, rv, _ = simulate_running(kwargs, plan[:k], shape, seed, None, shift)
            models = {key: [f] for key, f in _eval_models(x, rm, rv, eps).items()}
        fails |= {(key, mode) for key, forms in models.items()
                  if not any(close(f * gam.reshape(sh) + bet.reshape(sh), w["out"], *tol) for f in forms)}
    if tracking:
        fails |= _running_fail(kwargs, plan, shape, seed, shift, want, lambda a, b: close(a, b, *tol))
    return frozenset(fails)


@lru_cache(maxsize=None)
def _module_rules_out(keys):
    return _ruled_out_by(frozenset().union(*(_module_fails(*key) for key in keys)), MODULE_MODES)


def _check_module_runs(cases):
    keys = tuple((tuple(sorted(case[0].items())), case[1], tuple(case[2]), case[3], case[4],
                  case[5] if len(case) > 5 else 0.0) for case in cases)

    def check(values):
        for case, got in zip(cases, returned(values, M)):
            (kwargs, plan, shape, dtype, seed), shift = case[:5], (case[5] if len(case) > 5 else 0.0)
            if not isinstance(got, dict) or "steps" not in got:
                raise Failure(f"{M} could not be run")
            want = _torch_run(tuple(sorted(kwargs.items())), plan, tuple(shape), dtype, seed, shift)
            msg, key = diagnose_module_keyed(got, want, kwargs, plan, shape, seed,
                                             *((1e-9, 1e-9) if dtype == "float64" else (1e-4, 1e-5)), shift=shift)
            if msg and dtype == "float32":
                msg = f"in float32: {msg}"
            _named(msg, key, plain="outputs, gradients or buffers differ from torch.nn.BatchNorm1d's")
        return _module_rules_out(keys)   # passed: the mistakes whose models fail here are not the answer's
    return check


STATE_CASES = [({}, (8, 3), 41), ({"momentum": None}, (6, 3), 42)]


@lru_cache(maxsize=None)
def _torch_state(kwargs_items, shape, seed):
    return state_dict_run(nn.BatchNorm1d, dict(kwargs_items), shape, seed)


@lru_cache(maxsize=None)
def _state_fails(kwargs_items, shape, seed):
    """(key, mode) of the mistakes whose every form fails a state_dict round trip: in the buffers after training
    ("buffers"), or in eval mode with torch's state loaded ("e"). Once per process."""
    kwargs, want = dict(kwargs_items), _torch_state(kwargs_items, shape, seed)
    theirs = want["trained"]
    fails = _running_fail(kwargs, "ttt", shape, seed, 0.0, theirs, lambda a, b: close(a, b, 1e-9, 1e-9))
    models = _eval_models(make_batch(shape, seed * 1000 + 50), theirs["running_mean"], theirs["running_var"],
                          kwargs.get("eps", 1e-5))
    return frozenset(fails | {(key, "e") for key, model in models.items() if not close(model, want["answer_out"])})


@lru_cache(maxsize=None)
def _state_rules_out(keys):
    return _ruled_out_by(frozenset().union(*(_state_fails(*key) for key in keys)), MODULE_MODES)


def _check_state(cases):
    from coursekit.checks.batch_norm import _diagnose_running

    keys = tuple((tuple(sorted(kwargs.items())), tuple(shape), seed) for kwargs, shape, seed in cases)

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
            mine, theirs = got.get("trained") or {}, want["trained"]
            if not all(close(mine.get(k), theirs[k], 1e-9, 1e-9) for k in theirs):
                # the buffers after the three training batches: the same diagnosis as a module run "ttt"
                msg, key = _diagnose_running(mine, theirs, kwargs, "ttt", shape, seed,
                                             lambda a, b: close(a, b, 1e-9, 1e-9))
                _named(f"{M}: {msg or 'the running statistics after training differ from torch'}", key,
                       plain="the state_dict after training differs from torch's")
            if not close(got["torch_out"], want["torch_out"]):
                raise Failure(f"{M}: after a state_dict round trip the eval-mode outputs differ from torch's")
            if not close(got["answer_out"], want["answer_out"]):
                models = _eval_models(make_batch(shape, seed * 1000 + 50), theirs["running_mean"],
                                      theirs["running_var"], kwargs.get("eps", 1e-5))
                for key, model in models.items():
                    if close(got["answer_out"], model) and not close(model, want["answer_out"]):
                        raise _mistake(f"{M} in eval mode with torch's state_dict loaded", key,
                                       "after loading torch's state_dict the eval-mode outputs differ")
                raise Failure(f"{M}: with torch's state_dict loaded, the eval-mode outputs differ from torch's")
            if not (close(got["continued_mean"], want["continued_mean"])
                    and close(got["continued_var"], want["continued_var"])):
                if kwargs.get("momentum", 0.1) is None:
                    raise Mistake(f"{M}: after loading a state_dict and training on: {HINTS['nbt_ignored']} "
                                  "(num_batches_tracked comes with the state_dict)", key="nbt_ignored",
                                  plain="training on after loading a state_dict differs from torch")
                raise Failure(f"{M}: training on after loading a state_dict gives running statistics that differ "
                              "from torch's")
        return _state_rules_out(keys)   # passed: the mistakes whose models fail here are not the answer's
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
        results = returned(values, M)
        dependent = results[len(cases)] if len(results) > len(cases) else None
        for (kwargs, shape, training), got in zip(cases, results):
            want = _torch_raises(tuple(sorted(kwargs.items())), tuple(shape), training)
            if got == want:
                continue
            mode = "training" if training else "eval"
            if not training and got != "no error" and dependent is True:
                raise _mistake(f"{M} on a batch of one in eval mode (it raised {got})", "batch_at_eval",
                               f"raised {got} in eval mode, torch: {want}")
            if len(shape) in (2, 3) and shape[0] * (shape[2] if len(shape) == 3 else 1) == 1:
                raise Mistake(f"{M} on a batch of one in {mode} mode: {HINTS['batch_of_one']} (got {got})",
                              key="batch_of_one", plain=f"raised {got}, torch: {want}")
            if len(shape) not in (2, 3):
                raise Mistake(f"{M} on a {len(shape)}-D input: {HINTS['bad_dim']} (got {got})", key="bad_dim",
                              plain=f"raised {got}, torch: {want}")
            raise Failure(f"{M} on a {shape[0]}-example {len(shape)}-D batch in {mode} mode raised {got}; torch "
                          f"{'raises ' + want if want != 'no error' else 'accepts it'}")
    return check


def _module_scenarios():
    out = [Scenario(label, [probe(f"{PROBES}:module_run", M, case[0], case[1], list(case[2]), *case[3:])
                            for case in cases],
                    _check_module_runs(cases), covers) for label, covers, cases in MODULE_RUNS]
    out.append(Scenario("a state_dict round trip", [probe(f"{PROBES}:state_dict_run", M, kw, list(shape), seed)
                                                     for kw, shape, seed in STATE_CASES],
                        _check_state(STATE_CASES), ("state_dict",)))
    out.append(Scenario("a batch of one", [probe(f"{PROBES}:raises_run", M, kw, list(shape), tr)
                                           for kw, shape, tr in RAISE_CASES[:3]]
                        + [probe(f"{PROBES}:batch_dependence_run", M)],
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
    "nested": "BatchNorm layers nested inside sub-modules (at any depth) count too",
}
UPDATE_CASES = [  # (label, covers, [(net, kind, mode, seed)])
    ("an MLP in eval mode, batches as tensors", ("stats", "reset", "momentum", "mode"), [("mlp", "tensor", "eval", 5)]),
    ("an MLP in train mode, batches as (x, y) tuples", ("batches", "mode"), [("mlp", "tuple", "train", 6)]),
    ("a conv net with BatchNorm2d, batches as [x, y] lists", ("all_bn", "batches"), [("conv", "list", "eval", 7)]),
    ("a network without BatchNorm", ("no_bn",), [("no_bn", "tensor", "eval", 8)]),
    ("BatchNorm layers nested in sub-modules", ("nested",), [("nested", "tensor", "train", 9)]),
    ("the visible test's networks", ("stats", "batches"),
     [("visible", "tensor", "eval", 2), ("visible", "tuple", "train", 2)]),
]


@lru_cache(maxsize=None)
def _torch_update(net, kind, mode, seed):
    return update_bn_run(torch_update_bn, net, kind, mode, seed)


def _update_bn_of(select):
    """torch's update_bn applied to the BatchNorm layers ``select(net)`` picks: a model of an answer that misses
    some of them (the others still see the batches in training mode, with their own momentum)."""
    def fn(batches, net):
        layers = select(net)
        momenta = [m.momentum for m in layers]
        for m in layers:
            m.reset_running_stats()
            m.momentum = None
        was = net.training
        net.train()
        with torch.no_grad():
            for b in batches:
                net(b[0] if isinstance(b, (list, tuple)) else b)
        for m, momentum in zip(layers, momenta):
            m.momentum = momentum
        net.train(was)
    return fn


_BN = nn.modules.batchnorm._BatchNorm
_UPDATE_MODELS = {  # key -> the answer's model
    "bn_nested_missed": _update_bn_of(lambda net: [m for m in net.children() if isinstance(m, _BN)]),
    "bn_some_missed": _update_bn_of(lambda net: [m for m in net.modules() if isinstance(m, nn.BatchNorm1d)]),
}


@lru_cache(maxsize=None)
def _model_update(fn, net, kind, mode, seed):
    """update_bn_run of a mistake's model ``fn``: once per process."""
    return update_bn_run(fn, net, kind, mode, seed)


def _same_layers(got, want):
    return all(close(g["running_mean"], w["running_mean"], 1e-9) and close(g["running_var"], w["running_var"], 1e-9)
               for g, w in zip(got["layers"], want["layers"]))


@lru_cache(maxsize=None)
def _update_rules_out(cases):
    """The mistakes whose every model leaves other running statistics than torch's update_bn on some case of
    ``cases``: a passing answer did not make them. Once per process."""
    forms = {}
    for fn, key in UPDATE_BN_MISTAKES + tuple((fn, key) for key, fn in _UPDATE_MODELS.items()):
        forms.setdefault(key, []).append(fn)
    out = set()
    for case in cases:
        want = _torch_update(*case)
        out |= {key for key, fns in forms.items()
                if not any(_same_layers(_model_update(fn, *case), want) for fn in fns)}
        # no net.train(): in eval mode the statistics as they were, or as reset; right on a net in train mode
        if case[2] == "eval" and not (_same_layers(_model_update(no_pass, *case), want)
                                      or reset_statistics(want["layers"])):
            out.add("bn_eval_pass")
    return frozenset(out)


def _check_update(label, cases):
    def check(values):
        for (net, kind, mode, seed), got in zip(cases, returned(values, "update_bn")):
            if not isinstance(got, dict) or "layers" not in got:
                raise Failure("update_bn could not be run")
            want = _torch_update(net, kind, mode, seed)
            msg = diagnose_update_bn(got, want, net, kind, mode, seed)
            if msg and not _hint_key(msg) and len(got["layers"]) == len(want["layers"]):
                for key, fn in _UPDATE_MODELS.items():
                    model = _model_update(fn, net, kind, mode, seed)
                    if _same_layers(got, model) and not _same_layers(model, want):
                        msg = f"update_bn: {HINTS[key]}"
                        break
            if msg:
                _named(msg if msg.startswith("update_bn") else f"update_bn: {msg}",
                       plain="the running statistics or the network differ from torch's update_bn")
            if net == "no_bn" and got != want:
                raise Failure("update_bn changed a network without BatchNorm layers")
        return _update_rules_out(tuple(cases))   # passed: the mistakes whose models fail here are not the answer's
    return check


def _scenarios(table, make_call, check):
    return [Scenario(label, [make_call(*case) for case in cases], check(label, cases), covers)
            for label, covers, cases in table]


# The parts the student writes themselves, not torch's (the tests' oracle): its batch-norm function and layers, its
# autograd for the backward pass, and swa_utils.update_bn.
_TORCH_BN = ("batch_norm", "native_batch_norm", "BatchNorm1d", "BatchNorm2d", "_BatchNorm", "_NormBase",
             "LazyBatchNorm1d", "SyncBatchNorm")


def _library_uses(source: str, names) -> list[str]:
    """Where the answer cell uses the library's ``names``: as an attribute (``F.batch_norm``), an import, a base
    class, or a bare name the cell does not define itself. A helper of the student's own called ``batch_norm``,
    or ``super(BatchNorm1d, self)`` inside their class, is theirs, not the library's."""
    import ast

    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    names = set(names)
    defined = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            defined.add(node.id)
        elif isinstance(node, ast.arg):
            defined.add(node.arg)
    bases = {id(b) for node in ast.walk(tree) if isinstance(node, ast.ClassDef) for b in node.bases}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in names and (node.id not in defined or id(node) in bases):
            found.append((node.id, node.lineno))
        elif isinstance(node, ast.Attribute) and node.attr in names:
            found.append((node.attr, node.lineno))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            module = getattr(node, "module", None) or ""
            for alias in node.names:
                hit = {alias.name, alias.name.rsplit(".", 1)[-1], *module.split(".")} & names
                found += [(h, node.lineno) for h in sorted(hit)]
    return [f"{name} on line {line}" for name, line in sorted(set(found), key=lambda x: (x[1], x[0]))]


def _forbid(names, what: str):
    """A static check: the answer must not hand the work to the library the tests compare it with."""
    names = tuple(names)

    def check(source: str) -> None:
        found = _library_uses(source, names)
        if found:
            raise Mistake(f"{what} must be written by you, not taken from the library the tests compare it with: "
                          f"your answer uses {', '.join(found[:3])}", key="library")
    return check


_FORWARD_STATIC = _forbid(_TORCH_BN, "batch_norm_forward")
_BACKWARD_STATIC = _forbid(_TORCH_BN + ("autograd", "backward"), "batch_norm_backward")
_MODULE_STATIC = _forbid(_TORCH_BN, "BatchNorm1d")
_UPDATE_STATIC = _forbid(("swa_utils", "update_bn"), "update_bn")

FORWARD_CREDIT = [
    Credit("training and eval mode on (N, C) batches", 1.5, ("train_out", "running_update", "eval", "returns")),
    Credit("(N, C, L) inputs, one example with several positions", 0.5, ("three_d", "one_example_3d")),
    Credit("eps and momentum as given", 0.5, ("eps", "momentum")),
    Credit("two examples, a channel with a large mean", 0.5, ("small_batch", "large_mean")),
]
BACKWARD_CREDIT = [
    Credit("grad_x, grad_gamma and grad_beta", 1.0, ("grad_x", "grad_gamma", "grad_beta", "returns")),
    Credit("any gamma and eps", 0.5, ("gamma", "eps")),
    Credit("two examples, a channel with a large mean", 0.5, ("small_batch", "large_mean")),
]
MODULE_CREDIT = [
    Credit("training, eval and the running statistics", 2.0, ("train_out", "grads", "running", "eval", "nbt",
                                                              "no_graph")),
    Credit("momentum, momentum=None, momentum changed later", 0.5, ("momentum", "momentum_none", "momentum_read")),
    Credit("affine=False and track_running_stats=False", 0.5, ("affine_false", "no_tracking")),
    Credit("(N, C, L) inputs and the inputs torch rejects", 0.5, ("three_d", "one_example_3d", "batch_of_one",
                                                                   "bad_dim")),
    Credit("state_dict, float32, eps, a channel with a large mean", 0.5, ("state_dict", "float32", "eps",
                                                                           "large_mean")),
]
UPDATE_CREDIT = [
    Credit("the cumulative statistics, momentum and mode restored", 1.5, ("stats", "reset", "momentum", "mode",
                                                                          "batches")),
    Credit("every BatchNorm layer: 2-D, nested, none", 0.5, ("all_bn", "nested", "no_bn")),
]

PARTS = {
    "test_batch_norm_forward": Part("batch_norm_forward", contract=FORWARD_CONTRACT, scenarios=_scenarios(
        FORWARD_SCENARIOS, lambda *case: call("batch_norm_forward", *case), _check_forward),
        static=_FORWARD_STATIC, credit=FORWARD_CREDIT),
    "test_batch_norm_backward": Part("batch_norm_backward", contract=BACKWARD_CONTRACT, scenarios=_scenarios(
        BACKWARD_SCENARIOS, lambda *case: call("batch_norm_backward", *case), _check_backward),
        static=_BACKWARD_STATIC, credit=BACKWARD_CREDIT),
    "test_batchnorm_module": Part("BatchNorm1d", contract=MODULE_CONTRACT, scenarios=_module_scenarios(),
                                  static=_MODULE_STATIC, credit=MODULE_CREDIT),
    "test_update_bn": Part("update_bn", contract=UPDATE_CONTRACT, scenarios=_scenarios(
        UPDATE_CASES, lambda *case: probe(f"{PROBES}:update_bn_run", "update_bn", *case), _check_update),
        static=_UPDATE_STATIC, credit=UPDATE_CREDIT),
}


def points_line(credit) -> str:
    """The line of the exercise text that shows a part's weights."""
    return "**Points:** " + " · ".join(f"{c.label} ({c.points:g})" for c in credit)
