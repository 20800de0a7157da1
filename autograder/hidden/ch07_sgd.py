"""Hidden tests for Chapter 7: gradient descent, SGD and mini-batch SGD.

Each part states the contract the exercise's text gives and tries every item in a scenario. The mini-batch
iterator and the training epoch run inside the sandbox through drivers of ``coursekit.checks.sgd`` (the same
drivers give the reference values here, with ``solutions.sgd``); the optimizer runs through the ``trajectory``
call and is compared with torch.optim.SGD. When an answer matches a named mistake, the message names it.
Messages never contain the hidden inputs or the expected values.
"""

from __future__ import annotations

import copy
import functools
import json
import random

import numpy as np
import torch
import torch.nn.functional as F

from coursekit.checks import sgd as checks
from coursekit.checks.sgd import MESSAGES
from solutions import sgd as ref

from ..harness import encode
from ..verdicts import Credit, Failure, Foreign, Mistake, Part, Scenario, decode, returned
from .common import call, expect, probe
from .trajectories import Trajectories


def _plain(value):
    """``value`` as the grader receives it from the sandbox (encoded and decoded), for like-for-like comparisons."""
    return decode(json.loads(json.dumps(encode(value))))


# ---------------------------------------------------------------- part 1: minibatches
MB_CONTRACT = {
    "paired": "X_batch and y_batch hold the same examples (one permutation indexes both)",
    "once": "every example appears exactly once per epoch",
    "partial_kept": "when batch_size does not divide n, the last, smaller batch is kept (drop_last=False)",
    "exact_division": "when batch_size divides n, there is no extra (empty) batch",
    "drop_last": "drop_last=True drops the last batch only when it is smaller than batch_size (all of them when "
                 "batch_size > n)",
    "no_shuffle": "shuffle=False keeps the order 0, 1, ..., n-1",
    "large_batch": "batch_size larger than n gives one batch of all n examples",
    "batch_one": "batch_size = 1 gives n batches of one example",
    "rng_order": "with shuffle=True the order of an epoch is rng.permutation(n), one call per epoch",
    "new_order": "each call with the same generator (each epoch) has a new order",
    "rng_none": "rng=None uses a fresh generator, np.random.default_rng(): a new, uniformly random order every "
                "epoch, whatever numpy's global seed is",
    "tensors": "X and y may be torch tensors: batches are tensors",
    "dtypes": "batches keep the dtypes of X and y (float32 features, integer labels)",
    "any_shape": "X may have more than two dimensions (images) and y more than one",
    "unmodified": "X and y are not modified",
}
# (label, covers, [driver kwargs, ...])
MB_SCENARIOS = [
    ("the visible test's sizes", ("paired", "once", "partial_kept", "rng_order", "unmodified"),
     [dict(n=10, batch_size=4, seed=7, num_epochs=3), dict(n=9, batch_size=3, seed=7, num_epochs=3),
      dict(n=5, batch_size=2, seed=0, num_epochs=1)]),
    ("the visible test's drop_last=True", ("drop_last",), [dict(n=10, batch_size=4, drop_last=True, seed=1,
                                                               num_epochs=1)]),
    ("the visible test's shuffle=False", ("no_shuffle",), [dict(n=7, batch_size=3, shuffle=False, seed=1,
                                                                num_epochs=1)]),
    ("batch_size does not divide n", ("partial_kept", "paired", "once"),
     [dict(n=23, batch_size=5, seed=3, num_epochs=1)]),
    ("batch_size divides n", ("exact_division",), [dict(n=24, batch_size=6, seed=4, num_epochs=1)]),
    ("drop_last=True", ("drop_last",), [dict(n=23, batch_size=5, drop_last=True, seed=5, num_epochs=2)]),
    ("drop_last=True when batch_size divides n", ("drop_last",),
     [dict(n=20, batch_size=5, drop_last=True, seed=6, num_epochs=1)]),
    ("drop_last=True with batch_size larger than n (no batch at all)", ("drop_last",),
     [dict(n=5, batch_size=8, drop_last=True, seed=15, num_epochs=1)]),
    ("shuffle=False", ("no_shuffle",), [dict(n=11, batch_size=4, shuffle=False, seed=8, num_epochs=2)]),
    ("batch_size larger than n", ("large_batch",), [dict(n=5, batch_size=8, seed=9, num_epochs=1)]),
    ("batch_size = 1", ("batch_one",), [dict(n=6, batch_size=1, seed=10, num_epochs=1)]),
    ("several epochs from one generator", ("new_order", "rng_order"),
     [dict(n=12, batch_size=5, seed=11, num_epochs=4)]),
    ("torch tensors", ("tensors",), [dict(n=13, batch_size=4, seed=12, num_epochs=2, kind="tensor")]),
    ("float32 features and integer labels (numpy and torch)", ("dtypes",),
     [dict(n=9, batch_size=4, seed=16, num_epochs=1, kind="labels"),
      dict(n=9, batch_size=4, seed=17, num_epochs=1, kind="tensor_labels")]),
    ("image-shaped X, of shape (n, 2, 3)", ("any_shape",), [dict(n=10, batch_size=3, seed=13, kind="images")]),
    ("y of shape (n, 2)", ("any_shape",), [dict(n=10, batch_size=3, seed=14, kind="labels2d")]),
]
MB_CREDIT = [
    Credit("shuffled, paired batches with torch's rules", 1.5,
           ("paired", "once", "partial_kept", "exact_division", "rng_order", "new_order", "unmodified")),
    Credit("drop_last", 0.25, ("drop_last",)),
    Credit("shuffle=False", 0.25, ("no_shuffle",)),
    Credit("batch_size larger than n and batch_size = 1", 0.25, ("large_batch", "batch_one")),
    Credit("rng=None", 0.25, ("rng_none",)),
    Credit("tensors, dtypes and shapes", 0.5, ("tensors", "dtypes", "any_shape")),
]
STAT_EPOCHS, STAT_N, STAT_B, RESEEDED = 1200, 5, 2, 12


def _mb_args(kw):
    kw = {"shuffle": True, "drop_last": False, "num_epochs": 2, "kind": "numpy", **kw}
    return (kw["n"], kw["batch_size"], kw["shuffle"], kw["drop_last"], kw["seed"], kw["num_epochs"], kw["kind"])


@functools.lru_cache(maxsize=None)
def _mb_reference(args):
    return _plain(checks.minibatch_epochs(ref.minibatches, *args))


def _judge_epochs(out, args):
    """Named mistakes first, then the exact comparison with the reference."""
    what = "minibatches"
    n, bs, shuffle, drop_last, seed, num_epochs, kind = args
    if not isinstance(out, dict) or "epochs" not in out:
        raise Failure(f"{what}: yield (X_batch, y_batch) pairs")
    if out["modified"]:
        raise Mistake(f"{what}: " + MESSAGES["modified"], key="modified",
                          plain=MESSAGES["modified"])
    if not out["rows_ok"]:
        raise Failure(f"{what}: a batch must hold whole rows of X and y (index their first axis), "
                      "with the shape of X and y beyond the first axis")
    if not out["types_ok"]:
        raise Failure(f"{what}: batches must have the type of X and y (numpy arrays or torch tensors)")
    if not out.get("dtypes_ok", True):
        raise Failure(f"{what}: batches must keep the dtypes of X and y (here X is float32 and y holds integer "
                      f"labels; your batches are {' and '.join(map(str, out.get('dtypes', [])))}): index X and y, "
                      "without converting them")
    orders = []
    for epoch in out["epochs"]:
        sizes = [len(x) for x, _ in epoch]
        xs = np.concatenate([x for x, _ in epoch]) if epoch else np.array([])
        ys = np.concatenate([yy for _, yy in epoch]) if epoch else np.array([])
        if len(xs) != len(ys) or not np.array_equal(xs, ys):
            raise Mistake(f"{what}: " + MESSAGES["unpaired"], key="unpaired",
                          plain=MESSAGES["unpaired"])
        if 0 in sizes:
            raise Mistake(f"{what}: " + MESSAGES["empty"], key="empty",
                          plain=MESSAGES["empty"])
        full = n // bs
        if not drop_last and n % bs and sizes == [bs] * full:
            raise Mistake(f"{what}: " + MESSAGES["dropped"], key="dropped",
                          plain=MESSAGES["dropped"])
        if drop_last and n % bs and sizes == [bs] * full + [n % bs]:
            raise Mistake(f"{what}: " + MESSAGES["kept_partial"], key="kept_partial",
                          plain=MESSAGES["kept_partial"])
        want_sizes = [bs] * full + ([n % bs] if n % bs and not drop_last else [])
        if sizes != want_sizes:
            raise Failure(f"{what}: the batch sizes of an epoch are wrong (batch_size each, a smaller last one "
                          "only when drop_last=False)")
        if len(set(xs.tolist())) != len(xs) or not set(xs.tolist()) <= set(range(n)):
            raise Failure(f"{what}: " + MESSAGES["not_once"])
        orders.append(xs)
    if not shuffle:
        if any(o.tolist() != list(range(len(o))) for o in orders):
            raise Failure(f"{what}: " + MESSAGES["shuffled_anyway"])
        return
    if len(orders) > 1 and len(orders[0]) > 2 and all(np.array_equal(orders[0], o) for o in orders[1:]):
        raise Mistake(f"{what}: " + MESSAGES["same_order"], key="same_order",
                          plain=MESSAGES["same_order"])
    want = _mb_reference(args)
    for got_e, want_e in zip(orders, want["epochs"]):
        want_order = np.concatenate([x for x, _ in want_e]) if want_e else np.zeros(0)
        if not np.array_equal(got_e, want_order[:len(got_e)]):
            raise Failure(f"{what}: " + MESSAGES["not_rng_order"])


def _check_mb(cases):
    def check(values):
        for args, out in zip(cases, returned(values, "minibatches")):
            _judge_epochs(out, args)
        return lambda: _mb_ruled_out(tuple(cases))   # passed: what it rules out
    return check


def _mb_with(bug: str):
    """minibatches written with one known mistake (``bug``), right in every other place: the models of the named
    mistakes (the checks name them from what the batches show; these tell which ones a passing scenario rules out)."""
    def minibatches(X, y, batch_size, shuffle=True, drop_last=False, rng=None):
        n = len(X)
        if bug == "fixed_seed":  # re-seeded inside the function
            rng = np.random.default_rng(0)
        elif bug == "copied":  # a copy of the caller's generator, which never advances
            rng = copy.deepcopy(rng)
        elif bug == "none_fixed_seed" and rng is None:
            rng = np.random.default_rng(0)
        if rng is None:
            rng = np.random if bug == "global_state" else np.random.default_rng()
        order = rng.permutation(n) if shuffle else np.arange(n)
        y_order = rng.permutation(n) if bug == "unpaired" and shuffle else order
        if bug == "in_place" and shuffle:  # X and y shuffled in place, then sliced in order
            X[:], y[:] = X[order], y[order]
            order = y_order = np.arange(n)
        full, rest = divmod(n, batch_size)
        keep = {"dropped": False, "kept_partial": True, "one_batch": not drop_last or not full}.get(bug, not drop_last)
        sizes = [batch_size] * full + ([rest] if rest and keep else []) \
            + ([0] if bug == "empty" and not rest and not drop_last else [])
        start = 0
        for size in sizes:
            yield X[order[start:start + size]], y[y_order[start:start + size]]
            start += size
    return minibatches


# key -> the models (bugs of _mb_with) of that mistake: a scenario rules it out when every one of them fails there
MB_MODELS = {"unpaired": ("unpaired",), "dropped": ("dropped",), "kept_partial": ("kept_partial", "one_batch"),
             "empty": ("empty",), "modified": ("in_place",), "same_order": ("fixed_seed", "copied", "none_fixed_seed"),
             "global_state": ("global_state",)}


def _fails(judge, run) -> bool:
    """Does the model's result ``run()`` fail ``judge``? A model that cannot run here shows nothing (False)."""
    state = np.random.get_state(), random.getstate(), torch.get_rng_state()
    try:
        out = _plain(run())
    except Exception:
        return False
    finally:  # the drivers seed the global generators: the grading process keeps its own state
        np.random.set_state(state[0])
        random.setstate(state[1])
        torch.set_rng_state(state[2])
    try:
        judge(out)
    except Exception:  # a Failure, or a result so odd that the check broke: wrong either way (Part.outcomes)
        return True
    return False


@functools.lru_cache(maxsize=None)
def _mb_ruled_out(cases) -> frozenset:
    """The keys whose every model fails some case of ``cases`` (a scenario's driver arguments; "stats": the
    statistical scenario, whose driver sees only the order of X's rows and the batch sizes, so only the mistakes
    that show there are tried), computed once per grading process."""
    def fails(bug):
        if cases == "stats":
            return _fails(_judge_stats, lambda: checks.minibatch_frequencies(
                _mb_with(bug), STAT_N, STAT_B, STAT_EPOCHS, False, RESEEDED))
        return any(_fails(lambda out: _judge_epochs(out, args),
                          lambda: checks.minibatch_epochs(_mb_with(bug), *args)) for args in cases)
    keys = ("dropped", "same_order", "global_state") if cases == "stats" else MB_MODELS
    return frozenset(key for key in keys if all(fails(bug) for bug in MB_MODELS[key]))


def _check_stats(values):
    (out,) = returned(values, "minibatches")
    _judge_stats(out)
    return lambda: _mb_ruled_out("stats")


def _judge_stats(out):
    what = "minibatches with rng=None"
    if isinstance(out, dict) and not out.get("valid") and out.get("sizes") == [STAT_B] * (STAT_N // STAT_B):
        raise Mistake(f"{what}: " + MESSAGES["dropped"], key="dropped", plain=MESSAGES["dropped"])
    if not isinstance(out, dict) or not out.get("valid"):
        raise Failure(f"{what}: every epoch must hold every example exactly once")
    counts = np.asarray(out["counts"], dtype=float)
    if out["repeats"] > STAT_EPOCHS // 2:
        raise Mistake(f"{what}: " + MESSAGES["same_order"], key="same_order",
                          plain=MESSAGES["same_order"])
    expected = STAT_EPOCHS / STAT_N
    # each count is Binomial(STAT_EPOCHS, 1/n): 6 standard deviations, so a correct answer fails about never
    if np.max(np.abs(counts - expected)) > 6 * np.sqrt(expected * (1 - 1 / STAT_N)):
        raise Failure(f"{what}: the orders are not uniformly random (some examples land at some positions far "
                      "more often than others); use rng.permutation(n)")
    # consecutive equal orders happen with probability 1/n! = 1/120 per epoch
    if out["repeats"] > 5 * STAT_EPOCHS / 120 + 10:
        raise Failure(f"{what}: consecutive epochs repeat their order far more often than chance")
    # after the same global seed, a fresh default_rng() still draws a new order (equal by chance: 1/120 each)
    if out.get("global_repeats", 0) >= (RESEEDED - 1) // 2:
        raise Mistake(f"{what}: " + MESSAGES["global_state"], key="global_state",
                      plain="the order follows numpy's global seed")


def _mb_scenarios():
    out = []
    for label, covers, kws in MB_SCENARIOS:
        cases = [_mb_args(kw) for kw in kws]
        out.append(Scenario(label, [probe("coursekit.checks.sgd:minibatch_epochs", "minibatches", *a)
                                    for a in cases], _check_mb(cases), covers))
    out.append(Scenario("rng=None, over many epochs (a statistical test)",
                        [probe("coursekit.checks.sgd:minibatch_frequencies", "minibatches", STAT_N, STAT_B,
                               STAT_EPOCHS, False, RESEEDED)], _check_stats, ("rng_none",)))
    return out


# ---------------------------------------------------------------- part 2: quadratic_step_sizes
STEP_CONTRACT = {
    "limit": "lr_max is the stability limit 2/L, L the largest eigenvalue of A",
    "optimal": "lr_opt = 2/(mu + L) minimizes the worst-case contraction max_i |1 - lr * lambda_i|",
    "rate": "rate = (kappa - 1)/(kappa + 1) = (L - mu)/(L + mu)",
    "eigen": "the eigenvalues of A, not its diagonal entries, norms or trace (A need not be diagonal)",
    "singular": "a singular A (mu = 0): rate = 1, and every lr_opt in (0, 2/L] ties (any of them is accepted)",
    "kappa_one": "A = c * I (kappa = 1): lr_opt = 1/c and rate = 0, also for a 1x1 A",
    "ill_conditioned": "a badly conditioned A (kappa = 1e4)",
    "returns": "three numbers (a tuple; a list or an array of three is accepted too)",
}


def _rotated(eigenvalues, seed):
    d = len(eigenvalues)
    Q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((d, d)))
    return Q @ np.diag(np.asarray(eigenvalues, dtype=float)) @ Q.T


_Qv, _ = np.linalg.qr(np.random.default_rng(3).standard_normal((3, 3)))  # the visible test's A
STEP_SCENARIOS = [  # (label, covers, [A, ...])
    ("a diagonal A", ("limit", "optimal", "rate", "returns"), [np.diag([1.0, 3.0, 10.0])]),
    ("a rotated (non-diagonal) A", ("eigen", "limit", "optimal", "rate"), [_rotated([0.3, 1.2, 2.0, 6.0], 21)]),
    ("a singular A", ("singular",), [np.diag([0.0, 2.0, 5.0]), _rotated([0.0, 2.0, 5.0], 22)]),
    ("A = c * I and a 1x1 A", ("kappa_one",), [2.5 * np.eye(3), np.array([[5.0]])]),
    ("a badly conditioned A", ("ill_conditioned",), [_rotated([1e-3, 0.5, 10.0], 23)]),
    ("the visible test's A", ("limit", "optimal", "rate"),
     [_Qv @ np.diag([0.5, 2.0, 8.0]) @ _Qv.T, np.diag([1.0, 4.0])]),
]
STEP_CREDIT = [Credit("lr_max, lr_opt and rate from the eigenvalues", 1.25,
                      ("limit", "optimal", "rate", "eigen", "returns")),
               Credit("a singular A and A = c * I", 0.5, ("singular", "kappa_one")),
               Credit("a badly conditioned A", 0.25, ("ill_conditioned",))]


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
        values.append(float(v))
    return values


def _step_models(A):
    """(key, message, model) of each named mistake of quadratic_step_sizes: the whole triple that answer gives."""
    eig = np.linalg.eigvalsh(A)
    mu, L = eig[0], eig[-1]
    lr_max, lr_opt, rate = ref.quadratic_step_sizes(A)
    d, fro = np.diag(A), np.linalg.norm(A)
    models = [
        ("swapped", "lr_max and lr_opt are swapped: the stability limit is 2/L, the optimal step 2/(mu + L)",
         (lr_opt, lr_max, rate)),
        ("one_over_L", MESSAGES["one_over_L"], (1 / L, lr_opt, rate)),
        ("frobenius", "L is the largest eigenvalue (the spectral norm), not the Frobenius norm",
         (2 / fro, 2 / (mu + fro), (fro - mu) / (fro + mu))),
        ("smallest", "the stability limit is set by the largest eigenvalue L, not the smallest",
         (2 / mu if mu > 0 else np.inf, lr_opt, rate)),
        ("rate_one_over_kappa", "1 - 1/kappa is the rate of the step 1/L; the optimal step 2/(mu + L) contracts "
                                "by (kappa - 1)/(kappa + 1)", (lr_max, lr_opt, 1 - mu / L)),
        ("lr_opt_one_over_L", "lr_opt = 1/L is not optimal: 2/(mu + L) balances the contraction along the smallest "
                              "and the largest eigenvalue", (lr_max, 1 / L, rate)),
        ("rate_squared", "the rate is per step for the distance ||w - w*||: (kappa - 1)/(kappa + 1), not its square",
         (lr_max, lr_opt, rate ** 2)),
    ]
    if d.min() >= 0 and d.max() > 0:
        dm, dL = d.min(), d.max()
        models.append(("diagonal", "you read the diagonal of A; the step sizes depend on its eigenvalues (the "
                                   "diagonal entries are the eigenvalues only when A is diagonal)",
                       (2 / dL, 2 / (dm + dL), (dL - dm) / (dL + dm))))
    return models


def _step_matches(got, model, singular):
    """Does ``got`` equal ``model``, lr_opt aside when mu = 0 (where every step in (0, 2/L] ties)?"""
    pick = [0, 2] if singular else [0, 1, 2]
    g, m = np.asarray(got)[pick], np.asarray(model, dtype=float)[pick]
    return bool(np.all(np.isfinite(m)) and np.allclose(g, m, rtol=1e-9, atol=1e-12))


def _opt_ok(lr_opt, want, singular) -> bool:
    """lr_opt within the check's tolerance: 2/(mu + L), or any step in (0, 2/L] when A is singular."""
    return bool((0 < lr_opt <= want[0] * (1 + 1e-9)) if singular else np.isclose(lr_opt, want[1], rtol=1e-9))


def _step_ok(got, want, singular) -> bool:
    """Does the triple ``got`` pass the check where the right one is ``want``?"""
    lr_max, lr_opt, rate = got
    return bool(np.isclose(lr_max, want[0], rtol=1e-9) and _opt_ok(lr_opt, want, singular)
                and np.isclose(rate, want[2], rtol=1e-9, atol=1e-12))


def _step_case(A):
    """(the right triple, is A singular) for one input of a scenario."""
    eig = np.linalg.eigvalsh(A)
    return ref.quadratic_step_sizes(A), bool(eig[0] <= 1e-12 * eig[-1])


@functools.lru_cache(maxsize=None)
def _steps_ruled_out(index) -> frozenset:
    """The keys whose model fails some input of scenario ``index`` of STEP_SCENARIOS, once per grading process."""
    out = set()
    for A in STEP_SCENARIOS[index][2]:
        want, singular = _step_case(A)
        out |= {key for key, _, model in _step_models(A) if not _step_ok(model, want, singular)}
    return frozenset(out)


def _check_steps(index):
    cases = STEP_SCENARIOS[index][2]

    def check(values):
        what = "quadratic_step_sizes"
        for A, out in zip(cases, returned(values, what)):
            lr_max, lr_opt, rate = got = _numbers(out, what, ("lr_max", "lr_opt", "rate"))
            want, singular = _step_case(A)
            if _step_ok(got, want, singular):
                continue
            # a mistake is named when its whole answer is this one and differs from the right answer here
            hits = [(key, message) for key, message, model in _step_models(A)
                    if not _step_matches(want, model, singular) and _step_matches(got, model, singular)]
            if hits:  # two mistakes giving the same answer here: the part names the one every scenario shares
                raise Mistake(f"{what}: {hits[0][1]}", key=hits[0][0], plain="wrong values",
                              also=tuple(k for k, _ in hits[1:]))
            expect(lr_max, want[0], f"{what}: lr_max", rtol=1e-9)
            if not _opt_ok(lr_opt, want, singular):
                if singular:
                    raise Failure(f"{what}: lr_opt: with mu = 0 every step in (0, 2/L] ties; yours is outside")
                expect(lr_opt, want[1], f"{what}: lr_opt", rtol=1e-9)
            expect(rate, want[2], f"{what}: rate", rtol=1e-9, atol=1e-12)
        return lambda: _steps_ruled_out(index)   # passed: the mistakes whose models fail here are not the answer's
    return check


# ---------------------------------------------------------------- part 3: SGD
class _WeightDecayAfter(ref.SGD):
    @torch.no_grad()
    def step(self, closure=None):
        for g in self.param_groups:
            for p in g["params"]:
                if p.grad is None:
                    continue
                p.add_(-p.grad if g["maximize"] else p.grad, alpha=-g["lr"])
                p.mul_(1 - g["lr"] * g["weight_decay"])


class _MaximizeAfterDecay(ref.SGD):
    @torch.no_grad()
    def step(self, closure=None):
        for g in self.param_groups:
            for p in g["params"]:
                if p.grad is None:
                    continue
                grad = p.grad + g["weight_decay"] * p
                p.add_(-grad if g["maximize"] else grad, alpha=-g["lr"])


class _NoneAsZero(ref.SGD):
    @torch.no_grad()
    def step(self, closure=None):
        for g in self.param_groups:
            for p in g["params"]:
                grad = torch.zeros_like(p) if p.grad is None else p.grad
                grad = -grad if g["maximize"] else grad
                p.add_(grad + g["weight_decay"] * p, alpha=-g["lr"])


class _ZeroSkipped(ref.SGD):
    @torch.no_grad()
    def step(self, closure=None):
        for g in self.param_groups:
            for p in g["params"]:
                if p.grad is None or not p.grad.any():
                    continue
                grad = -p.grad if g["maximize"] else p.grad
                p.add_(grad + g["weight_decay"] * p, alpha=-g["lr"])


class _NoDecay(ref.SGD):
    @torch.no_grad()
    def step(self, closure=None):
        for g in self.param_groups:
            for p in g["params"]:
                if p.grad is not None:
                    p.add_(-p.grad if g["maximize"] else p.grad, alpha=-g["lr"])


class _NoMaximize(ref.SGD):
    @torch.no_grad()
    def step(self, closure=None):
        for g in self.param_groups:
            for p in g["params"]:
                if p.grad is not None:
                    p.add_(p.grad + g["weight_decay"] * p, alpha=-g["lr"])


class _LrOnce(ref.SGD):
    @torch.no_grad()
    def step(self, closure=None):
        for g in self.param_groups:
            for p in g["params"]:
                if p.grad is not None:
                    grad = -p.grad if g["maximize"] else p.grad
                    p.add_(grad + g["weight_decay"] * p, alpha=-self.defaults["lr"])


SGD_MISTAKES = [
    (_WeightDecayAfter, MESSAGES["weight_decay_after"], "weight_decay_after"),
    (_MaximizeAfterDecay, MESSAGES["maximize_decay"], "maximize_decay"),
    (_NoneAsZero, "a parameter whose grad is None must be skipped entirely (torch does not decay it either); "
                  "you treat it as a zero gradient", "none_as_zero"),
    (_ZeroSkipped, "an exact zero gradient is still a step (weight_decay shrinks p); skip only when p.grad is None",
     "zero_skipped"),
    (_NoDecay, "weight_decay is ignored: add weight_decay * p to the gradient", "no_decay"),
    (_NoMaximize, "maximize is ignored: with maximize=True use -grad", "no_maximize"),
    (_LrOnce, "lr is read once (in __init__ or from self.defaults): read group['lr'] at every step (groups may "
              "differ, and a schedule changes it between steps)", "lr_fixed"),
]
SGD_CONTRACT = {
    "defaults": "torch's default lr (1e-3) and weight_decay 0",
    "lr": "the step is lr times the gradient, lr read from the group",
    "weight_decay": "weight_decay adds weight_decay * p (p before the step) to the gradient",
    "maximize": "maximize=True negates the gradient before weight_decay is added",
    "groups": "several parameter groups with different lr and weight_decay",
    "lr_change": "a change of group['lr'] during training takes effect at the next step",
    "state_dict": "state_dict() / load_state_dict() round trip into a fresh optimizer",
    "float32": "float32 parameters (and float64), kept in their dtype",
    "none_grad": "a parameter whose grad is None is skipped (no decay either)",
    "zero_grad": "an exact zero gradient is a real step (weight_decay still shrinks p)",
    "closure": "step(closure) evaluates the closure and returns its loss",
}
STEPS = 12  # every named mistake shows within a few steps; 7 steps follow the lr change and the round trip
F32 = dict(dtype=torch.float32, rtol=1e-5, atol=1e-6)
SGD_SCENARIOS = [  # (label, covers, [(kwargs, run), ...])
    ("the visible test's lr=0.05", ("lr",), [({"lr": 0.05}, {"steps": 15})]),
    ("the visible test's weight_decay=0.3", ("weight_decay",), [({"lr": 0.02, "weight_decay": 0.3}, {"steps": 15})]),
    ("the visible test's maximize=True with weight_decay", ("maximize",),
     [({"lr": 0.01, "weight_decay": 0.1, "maximize": True}, {"steps": 15})]),
    ("the visible test's two parameter groups", ("groups",),
     [({"lr": 0.05}, {"steps": 15, "groups": [{"params": [0, 1], "lr": 0.2}, {"params": [2, 3, 4, 5]}]})]),
    ("the visible test's None gradients", ("none_grad",),
     [({"lr": 0.05, "weight_decay": 0.1}, {"steps": 15, "none_grads": {3: [0, 5], 4: [0]}})]),
    ("default settings", ("defaults",), [({}, {})]),
    ("a large lr", ("lr",), [({"lr": 0.3}, {})]),
    ("weight_decay > 0", ("weight_decay",), [({"lr": 0.1, "weight_decay": 0.5}, {})]),
    ("maximize=True", ("maximize",), [({"lr": 0.02, "maximize": True}, {})]),
    ("maximize=True with weight_decay", ("maximize",),
     [({"lr": 0.02, "weight_decay": 0.2, "maximize": True}, {})]),
    ("two parameter groups with different settings", ("groups",),
     [({"lr": 0.05}, {"groups": [{"params": [0, 1, 2, 3], "lr": 0.2, "weight_decay": 0.1},
                                 {"params": [4, 5], "maximize": True}]})]),
    ("lr changed during training", ("lr_change",), [({"lr": 0.05, "weight_decay": 0.1}, {"lr_changes": {6: 3.0}})]),
    ("state_dict round trip", ("state_dict",), [({"lr": 0.1, "weight_decay": 0.05}, {"roundtrip_at": 5})]),
    ("float32 parameters", ("float32",), [({"lr": 0.1, "weight_decay": 0.1}, dict(F32))]),
    ("some gradients None for a few steps, with weight_decay", ("none_grad",),
     [({"lr": 0.1, "weight_decay": 0.3}, {"none_grads": {t: [1, 4] for t in range(3, 6)}, "steps": 8})]),
    ("some gradients exactly zero for a few steps, with weight_decay", ("zero_grad",),
     [({"lr": 0.1, "weight_decay": 0.3}, {"zero_grads": {t: [0, 3] for t in range(2, 5)}, "steps": 8})]),
    ("step(closure) (the closure computes the loss; step returns it)", ("closure",),
     [({"lr": 0.1}, {"closure": True, "steps": 5})]),
]
SGD_CREDIT = [Credit("the update with default options", 1.5, ("defaults", "lr", "zero_grad")),
              Credit("weight_decay", 0.5, ("weight_decay",)),
              Credit("maximize", 0.25, ("maximize",)),
              Credit("parameter groups and lr changes", 0.25, ("groups", "lr_change")),
              Credit("None gradients, state_dict, closure, float32", 0.5,
                     ("none_grad", "state_dict", "float32", "closure"))]


SGD = Trajectories("SGD", torch.optim.SGD, SGD_SCENARIOS, SGD_MISTAKES, steps=STEPS)


# ---------------------------------------------------------------- part 4: train_epoch
def _epoch_with(bug: str):
    """train_epoch as written with one known mistake (``bug``), differing from the correct loop in that place only."""
    def run(net, optimizer, batches):
        if bug not in ("eval_mode", "no_train_mode"):
            net.train()
        if bug == "zero_grad_once":
            optimizer.zero_grad()
        total, count, losses = 0.0, 0, []
        for Xb, yb in batches:
            if bug not in ("no_zero_grad", "zero_grad_once", "zero_after_backward"):
                optimizer.zero_grad()
            loss = F.cross_entropy(net(Xb), yb, reduction="sum" if bug == "summed" else "mean")
            # step() before backward() either never moves (zero_grad first: this model's run) or, once a gradient
            # is there, makes torch raise (the parameters changed in place before backward)
            loss.backward()
            if bug == "zero_after_backward":
                optimizer.zero_grad()
            optimizer.step()
            losses.append(loss.item())
            total += loss.item() * (1 if bug == "summed" else len(yb))
            count += len(yb)
        if bug == "eval_mode":  # net.train() only after the loop
            net.train()
        return sum(losses) / len(losses) if bug == "unweighted" else total / count
    run.__name__ = f"_{bug}"  # _train_run looks a model up by name (its results are cached per name)
    return run


TRAIN_MISTAKES = [
    (_epoch_with("summed"), MESSAGES["summed"], "summed"),
    (_epoch_with("unweighted"), MESSAGES["unweighted"], "unweighted"),
    (_epoch_with("no_zero_grad"), MESSAGES["no_zero_grad"], "no_zero_grad"),
    (_epoch_with("zero_grad_once"), MESSAGES["no_zero_grad"] + " (once per epoch is not enough)", "no_zero_grad"),
    (_epoch_with("zero_after_backward"), MESSAGES["zero_after_backward"], "zero_after_backward"),
    (_epoch_with("eval_mode"), MESSAGES["eval_mode"], "eval_mode"),
]
# the models of the passing path: no_train_mode is named from the net's mode after the epoch, not by its model
TRAIN_MODELS = TRAIN_MISTAKES + [(_epoch_with("no_train_mode"), None, "no_train_mode")]
TRAIN_CONTRACT = {
    "mean_loss": "the loss of a batch is its mean cross-entropy (reduction='mean')",
    "steps": "one optimizer step per batch, in the order given",
    "weighted": "the returned loss weights each batch by its size (a smaller last batch counts less)",
    "zero_grad": "gradients are zeroed before each backward pass (leftover .grad values included)",
    "float": "the result is a Python float",
    "generator": "batches may be a generator, iterated once",
    "train_mode": "the net is put in training mode before the batches (batch norm and dropout train)",
    "any_optimizer": "works with any torch optimizer (Adam as well as SGD)",
    "batch_one": "batches of a single example",
}
# (label, covers, [(sizes, optimizer, lr, stale, generator, eval_first, num_epochs, net), ...])
TRAIN_SCENARIOS = [
    ("the visible test's loss at lr = 0 (batches of 5, 5 and 2)", ("weighted",),
     [((5, 5, 2), "SGD", 0.0, False, False, False, 1, "tanh")]),
    ("the visible test's single batch, with and without leftover gradients", ("mean_loss", "zero_grad"),
     [((6,), "SGD", 0.5, True, False, False, 1, "tanh"), ((6,), "SGD", 0.5, False, False, False, 1, "tanh")]),
    ("the visible test's two batches", ("steps",), [((4, 4), "SGD", 0.5, False, False, False, 1, "tanh")]),
    ("the visible test's eval mode", ("train_mode",), [((3,), "SGD", 0.1, False, False, True, 1, "tanh")]),
    ("a single batch", ("mean_loss", "float"), [((5,), "SGD", 0.3, False, False, False, 1, "tanh")]),
    ("batches of equal size", ("mean_loss", "steps", "float"),
     [((4, 4, 4), "SGD", 0.3, False, False, False, 1, "tanh")]),
    ("a smaller last batch", ("weighted",), [((6, 6, 6, 2), "SGD", 0.3, False, False, False, 1, "tanh")]),
    ("leftover gradients in .grad when the epoch starts", ("zero_grad",),
     [((5, 5), "SGD", 0.2, True, False, False, 1, "tanh")]),
    ("batches from a generator", ("generator",), [((4, 4, 3), "SGD", 0.2, False, True, False, 1, "tanh")]),
    ("a net with batch norm, in eval mode before the call", ("train_mode",),
     [((4, 4), "SGD", 0.2, False, False, True, 1, "bn")]),
    ("Adam as the optimizer, two epochs", ("any_optimizer",),
     [((5, 5, 3), "Adam", 0.05, False, False, False, 2, "tanh")]),
    ("batches of one example", ("batch_one",), [((1, 1, 1, 1), "SGD", 0.2, False, False, False, 1, "tanh")]),
]
TRAIN_CREDIT = [Credit("one step per batch on the batch's mean loss, gradients zeroed", 1.0,
                       ("mean_loss", "steps", "zero_grad", "float")),
                Credit("the epoch's mean loss over unequal batches", 0.5, ("weighted",)),
                Credit("training mode, a generator of batches, Adam, batches of one", 0.5,
                       ("train_mode", "generator", "any_optimizer", "batch_one"))]


@functools.lru_cache(maxsize=None)
def _train_run(fn_name, args):
    fn = ref.train_epoch if fn_name == "ref" else dict((f.__name__, f) for f, _, _ in TRAIN_MODELS)[fn_name]
    return _plain(checks.run_train_epoch(fn, *args))


@functools.lru_cache(maxsize=None)
def _train_ruled_out(cases) -> frozenset:
    """The keys whose every model (no_zero_grad has two) fails some case of ``cases``: its parameters, losses or mode
    differ from the reference's beyond the check's tolerance. not_float too: a tensor or a numpy number fails every
    case. Once per grading process."""
    fails = {}
    for fn, _, key in TRAIN_MODELS:
        failed = any(not _same_run(_train_run(fn.__name__, args), _train_run("ref", args)) for args in cases)
        fails[key] = fails.get(key, True) and failed
    return frozenset({"not_float", *(key for key, failed in fails.items() if failed)})


def _same_run(got, want, rtol=1e-9):
    try:
        return (np.allclose(np.asarray(got["losses"], dtype=float), np.asarray(want["losses"], dtype=float),
                            rtol=rtol, atol=1e-12)
                and np.allclose(got["params"], want["params"], rtol=rtol, atol=1e-12)
                and got.get("training") == want.get("training"))
    except (TypeError, ValueError, KeyError):
        return False


def _check_train(cases):
    def check(values):
        what = "train_epoch"
        for args, got in zip(cases, returned(values, what)):
            if not isinstance(got, dict) or "losses" not in got:
                raise Failure(f"{what}: the epoch did not run")
            want = _train_run("ref", args)
            if got["steps"] != want["steps"]:
                raise Failure(f"{what}: call optimizer.step() once per batch "
                              f"({'more' if got['steps'] > want['steps'] else 'fewer'} calls than batches)")
            if not got["is_float"]:
                if any(isinstance(v, Foreign) or v is None for v in got["losses"]):
                    raise Failure(f"{what}: return the epoch's mean loss as a number")
                raise Mistake(f"{what}: return a Python float (loss.item()), not a tensor or a numpy number",
                              key="not_float", plain="the result is not a Python float")
            if _same_run(got, want):
                continue
            for fn, hint, key in TRAIN_MISTAKES:
                wrong = _train_run(fn.__name__, args)
                if not _same_run(wrong, want, rtol=1e-7) and _same_run(got, wrong, rtol=1e-7):
                    raise Mistake(f"{what}: {hint}", key=key, plain="the training or its loss differs")
            if not got["training"]:
                raise Mistake(f"{what}: the net is not in training mode after your epoch: call net.train() before "
                              "the loop", key="no_train_mode", plain="the net is left in eval mode")
            if np.allclose(got["params"], want["params"], rtol=1e-9, atol=1e-12):
                try:
                    rel = float(np.max(np.abs(np.asarray(got["losses"], float) / np.asarray(want["losses"]) - 1)))
                except (TypeError, ValueError):
                    rel = np.inf
                near = f" (it is off by about {rel:.0e} relative)" if rel < 1e-4 else ""
                raise Mistake(f"{what}: the training is right but the returned loss is wrong{near}: the mean of the "
                              "per-example losses, each measured before its batch's step",
                              key="loss_only", plain="the training is right, the returned loss is not")
            raise Failure(f"{what}: the parameters after the epoch differ from a plain training loop's "
                          "(zero_grad, mean cross-entropy, backward, step for each batch)")
        return lambda: _train_ruled_out(tuple(cases))   # passed: what it rules out
    return check


def _train_scenarios():
    return [Scenario(label, [probe("coursekit.checks.sgd:run_train_epoch", "train_epoch", list(a[0]), *a[1:])
                             for a in cases], _check_train(cases), covers)
            for label, covers, cases in TRAIN_SCENARIOS]


PARTS = {
    "test_minibatches": Part("minibatches", contract=dict(MB_CONTRACT), scenarios=_mb_scenarios(), credit=MB_CREDIT),
    "test_quadratic_step_sizes": Part("quadratic_step_sizes", contract=dict(STEP_CONTRACT),
                                      scenarios=[Scenario(label, [call("quadratic_step_sizes", A) for A in As],
                                                          _check_steps(i), covers)
                                                 for i, (label, covers, As) in enumerate(STEP_SCENARIOS)],
                                      credit=STEP_CREDIT),
    "test_sgd": Part("sgd", contract=dict(SGD_CONTRACT), scenarios=SGD.scenarios(), static=SGD.static,
                     credit=SGD_CREDIT),
    "test_train_epoch": Part("train_epoch", contract=dict(TRAIN_CONTRACT), scenarios=_train_scenarios(),
                             credit=TRAIN_CREDIT),
}
