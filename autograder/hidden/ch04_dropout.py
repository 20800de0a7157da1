"""Hidden tests for Chapter 4: dropout.

Every part is a list of scenarios, one behaviour of the exercise's contract each. The calls run the student's
answer in the sandbox, through the probes of ``coursekit.checks.dropout`` (which report plain numbers), and the
checks here judge those numbers against ``solutions.dropout``, torch autograd and statistics derived in the
chapter. Random answers are judged twice: by statistics that hold for any seed (on large inputs, with
tolerances of six standard errors) and exactly when a generator is passed in. Messages never contain the hidden
inputs or the expected values; a known mistake is named (``coursekit.checks.dropout.HINTS``).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import torch

from coursekit.checks.dropout import (HINTS, NUMPY_SPEC, TORCH_SPEC, build_mc_net, diagnose_eval,
                                      diagnose_stats)
from solutions import dropout as ref

from .common import Failure, Foreign, Mistake, close, expect, probe, returned
from ..verdicts import Credit, Part, Scenario

PROBES = "coursekit.checks.dropout"


def _probe(driver, name, *args):
    return probe(f"{PROBES}:{driver}", name, *args)


def _one(values, what):
    (value,) = returned(values, what)
    return value


def _plain(key: str) -> str:
    """What a named mistake's scenario shows, without the cause: the hint's first clause (an observation the
    scenario verified), shown when the part's other failing scenarios do not name the same mistake."""
    return HINTS[key].split(":")[0].split(" (")[0].format(spec="")


def _M(what: str, key: str, **fmt) -> Mistake:
    """The named mistake ``key`` of HINTS, verified on this scenario."""
    return Mistake(f"{what}: {HINTS[key].format(**fmt)}", key=key, plain=_plain(key))


def _hint_key(message: str) -> str | None:
    return next((k for k, v in HINTS.items() if v.split("{")[0] in message), None)


def _named(message: str | None):
    """A diagnosis as a Mistake when it names one of the HINTS, else a Failure."""
    if message:
        key = _hint_key(message)
        if key:
            raise Mistake(message, key=key, plain=_plain(key))
        raise Failure(message)


# ================================================================ Part 1: dropout_forward
F = "dropout_forward"
_rng = np.random.default_rng(404)
X_MATRIX = _rng.standard_normal((6, 9))
X_4D = _rng.standard_normal((3, 2, 4, 5))
X_1D = _rng.standard_normal(17)
X_VISIBLE = np.array([[0.5, -1.0, 2.0, 3.0, -0.25], [1.5, 2.5, -3.5, 4.0, 0.75]])


def _forward_result(info, what):
    if not isinstance(info, dict) or "result" not in info:
        raise Failure(f"{what}: could not be run")
    result = info["result"]
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        raise Failure(f"{what}: return a tuple (out, mask)")
    return tuple(result)


def _forward_models(x, p, seed, dtype):
    """The outputs (out, kept) of the named mistakes on this input: the model an answer is compared with."""
    x = np.asarray(x, dtype=dtype).astype(float)
    u = np.random.default_rng(seed).random(np.shape(x))
    models = {"no_scaling": (x * (u >= p), u >= p),
              "keep_drop_swapped": (np.where(u < p, x / p if p > 0 else 0.0, 0.0), u < p)}
    if np.ndim(x) >= 1:   # one draw per position of an example, shared by the batch (for 1-D: one draw for all)
        shared = np.broadcast_to(np.random.default_rng(seed).random(np.shape(x)[1:]) >= p, np.shape(x))
        models["shared_mask"] = (np.where(shared, x / (1 - p) if p < 1 else 0.0, 0.0), shared)
    return models


def forward_exact(x, p, seed, dtype="float64", inplace=False):
    """Scenario check: the exact output and mask for ``np.random.default_rng(seed)``; ``inplace``: this scenario
    also judges that x is left unchanged (the others judge the values only)."""
    def check(values):
        what = f"{F} (p = {p:g})"
        info = _one(values, F)
        out, mask = _forward_result(info, what)
        want_out, want_mask = ref.dropout_forward(np.asarray(x, dtype=dtype), p, np.random.default_rng(seed))
        if isinstance(out, Foreign) or isinstance(mask, Foreign):
            raise Failure(f"{what}: out and mask must be numpy arrays")
        out, mask = np.asarray(out, float), np.asarray(mask, float)
        if out.shape != want_out.shape or mask.shape != want_mask.shape:
            raise Failure(f"{what}: out and mask must have the input's shape {want_out.shape}")
        if p == 1 and not np.all(np.isfinite(out)):
            raise _M(what, "p1_nan")
        rtol = 1e-6 if dtype == "float32" else 1e-12
        right = close(out, want_out, rtol, 0) and np.array_equal(mask != 0, want_mask)
        if not right:
            for key, (model_out, model_mask) in _forward_models(x, p, seed, dtype).items():
                if close(out, model_out, rtol, 0) and np.array_equal(mask != 0, model_mask) \
                        and not (close(model_out, want_out, rtol, 0) and np.array_equal(model_mask, want_mask)):
                    raise _M(what, key)
            if info.get("global_state"):
                raise _M(what, "global_rng")
        if inplace and not info.get("input_unchanged", True):
            raise Failure(f"{what}: x was modified in place; return a new array")
        if 0 < p < 1 and not np.array_equal(mask != 0, want_mask):
            raise Failure(f"{what}: {HINTS['mask_not_as_specified'].format(spec=NUMPY_SPEC)}")
        expect(out, want_out, f"{what}: out", rtol=rtol, atol=0)
        if not np.array_equal(mask != 0, want_mask):
            raise Failure(f"{what}: mask must be the boolean array of kept units")
        if dtype == "float32" and info.get("dtype") != "float32":
            raise Failure(f"{what}: a float32 input must give a float32 output, not {info.get('dtype')} "
                          "(a float64 mask multiplied in promotes it)")
    return check


def stats_check(p, what):
    def check(values):
        _named(diagnose_stats(_one(values, what), p, what))
    return check


FORWARD_CONTRACT = {
    "returns": "returns the tuple (out, mask), both of x's shape",
    "mask_spec": "mask is drawn in one call as rng.random(x.shape) >= p (exact values for a seeded generator)",
    "drop_fraction": "p is the drop probability: about a fraction p of the units is zeroed, for any seed",
    "scaling": "kept units are multiplied by exactly 1/(1 - p): the mean is preserved, the variance of out/x is "
               "p/(1 - p)",
    "per_element": "every entry gets its own draw: the examples of a batch are dropped independently",
    "p_one": "p = 1 gives all zeros (no NaN)",
    "p_zero": "p = 0 gives out equal to x",
    "any_shape": "x may have any shape (1-D, 2-D, 4-D)",
    "dtype": "out has x's dtype: float32 stays float32",
    "input_unchanged": "x itself is not modified",
}
FORWARD = [
    Scenario("p = 0.3 with a seeded generator", [_probe("forward_probe", F, X_MATRIX, 0.3, 21)],
             forward_exact(X_MATRIX, 0.3, 21), ("returns", "mask_spec")),
    Scenario("x left unchanged", [_probe("forward_probe", F, X_MATRIX, 0.45, 27)],
             forward_exact(X_MATRIX, 0.45, 27, inplace=True), ("input_unchanged",)),
    Scenario("the fraction dropped and the scale for p = 0.2, any seed",
             [_probe("forward_stats", F, [500, 300], 0.2, 5)], stats_check(0.2, f"{F} with p = 0.2 on a large input"),
             ("drop_fraction", "scaling", "per_element")),
    Scenario("the fraction dropped and the scale for p = 0.7, any seed",
             [_probe("forward_stats", F, [600, 250], 0.7, 6)], stats_check(0.7, f"{F} with p = 0.7 on a large input"),
             ("drop_fraction", "scaling", "per_element")),
    Scenario("p = 0.5 on a batch whose examples must get different masks",
             [_probe("forward_stats", F, [2000, 8], 0.5, 8)], stats_check(0.5, f"{F} with p = 0.5 on a batch"),
             ("per_element",)),
    Scenario("p = 1", [_probe("forward_probe", F, X_MATRIX, 1.0, 22)], forward_exact(X_MATRIX, 1.0, 22),
             ("p_one",)),
    Scenario("p = 0", [_probe("forward_probe", F, X_MATRIX, 0.0, 23)], forward_exact(X_MATRIX, 0.0, 23),
             ("p_zero",)),
    Scenario("a 4-D input", [_probe("forward_probe", F, X_4D, 0.4, 24)], forward_exact(X_4D, 0.4, 24),
             ("any_shape",)),
    Scenario("a 1-D input", [_probe("forward_probe", F, X_1D, 0.6, 25)], forward_exact(X_1D, 0.6, 25),
             ("any_shape",)),
    Scenario("a float32 input", [_probe("forward_probe", F, X_MATRIX, 0.25, 26, "float32")],
             forward_exact(X_MATRIX, 0.25, 26, "float32"), ("dtype",)),
    Scenario("the visible test's input", [_probe("forward_probe", F, X_VISIBLE, 0.4, 7)],
             forward_exact(X_VISIBLE, 0.4, 7), ("mask_spec",)),
]

# ================================================================ Part 2: dropout_backward
B = "dropout_backward"
_rng = np.random.default_rng(505)
G_MATRIX, M_MATRIX = _rng.standard_normal((5, 7)), _rng.random((5, 7)) >= 0.35
G_3D, M_3D = _rng.standard_normal((2, 3, 4)), _rng.random((2, 3, 4)) >= 0.5
_rv = np.random.default_rng(3)   # the visible test's inputs
G_VISIBLE = _rv.standard_normal((3, 4))
M_VISIBLE = _rv.random((3, 4)) >= 0.5


def autograd_grad(grad_out, mask, p):
    """The oracle: torch autograd of x * mask / (1 - p) (zeros for p = 1), for the same mask."""
    x = torch.zeros(np.shape(grad_out), dtype=torch.float64, requires_grad=True)
    scale = 0.0 if p == 1 else 1 / (1 - p)
    (x * torch.tensor(np.asarray(mask, bool)) * scale).backward(torch.tensor(grad_out, dtype=torch.float64))
    return x.grad.numpy()


def backward_check(grad_out, mask, p, dtype="float64"):
    def check(values):
        what = f"{B} (p = {p:g})"
        info = _one(values, B)
        got = info.get("result") if isinstance(info, dict) else None
        want = autograd_grad(grad_out, mask, p)
        if isinstance(got, (Foreign, type(None))):
            expect(got, want, what)
        got = np.asarray(got, float)
        if got.shape == want.shape:
            if not np.all(np.isfinite(got)):
                if p == 1:
                    raise _M(what, "p1_nan")
                raise Failure(f"{what}: the gradient contains NaN or inf")
            if 0 < p < 1 and close(got, grad_out * mask, 1e-12, 0):
                raise _M(what, "backward_no_scaling")
            if 0 < p < 1 and not np.array_equal(got != 0, np.asarray(mask) & (grad_out != 0)):
                if np.all((got == 0) | np.isclose(got, grad_out / (1 - p), rtol=1e-6, atol=0)):
                    raise _M(what, "new_mask_backward")
                raise Failure(f"{what}: the gradient must be zero exactly where the mask dropped units")
        expect(got, want, f"{what}: compared with torch autograd for the same mask",
               rtol=1e-6 if dtype == "float32" else 1e-12, atol=0)
        if dtype == "float32" and info.get("dtype") != "float32":
            raise Failure(f"{what}: a float32 grad_out must give a float32 gradient, not {info.get('dtype')}")
    return check


def _bcall(g, m, p, dtype="float64"):
    return _probe("backward_probe", B, g, np.asarray(m, float), p, dtype)


BACKWARD_CONTRACT = {
    "autograd": "equals torch autograd of x * mask / (1 - p) for the same mask",
    "reuse_mask": "uses the mask it is given (zero exactly where units were dropped); no new mask is drawn",
    "scaling": "the kept units' gradients are multiplied by 1/(1 - p)",
    "p_one": "p = 1 gives an all-zero gradient (no NaN)",
    "p_zero": "p = 0 gives grad_out unchanged",
    "any_shape": "grad_out and mask may have any shape",
    "dtype": "the gradient has grad_out's dtype: float32 stays float32",
}
BACKWARD = [
    Scenario("p = 0.35", [_bcall(G_MATRIX, M_MATRIX, 0.35)], backward_check(G_MATRIX, M_MATRIX, 0.35),
             ("autograd", "reuse_mask", "scaling")),
    Scenario("p = 0.8", [_bcall(G_MATRIX, M_MATRIX, 0.8)], backward_check(G_MATRIX, M_MATRIX, 0.8),
             ("autograd", "reuse_mask", "scaling")),
    Scenario("p = 1", [_bcall(G_MATRIX, np.zeros_like(M_MATRIX), 1.0)],
             backward_check(G_MATRIX, np.zeros_like(M_MATRIX), 1.0), ("p_one",)),
    Scenario("p = 0", [_bcall(G_MATRIX, np.ones_like(M_MATRIX), 0.0)],
             backward_check(G_MATRIX, np.ones_like(M_MATRIX), 0.0), ("p_zero",)),
    Scenario("a 3-D gradient", [_bcall(G_3D, M_3D, 0.5)], backward_check(G_3D, M_3D, 0.5), ("any_shape",)),
    Scenario("a float32 gradient", [_bcall(G_MATRIX, M_MATRIX, 0.35, "float32")],
             backward_check(G_MATRIX.astype(np.float32).astype(float), M_MATRIX, 0.35, "float32"), ("dtype",)),
    Scenario("the visible test's inputs", [_bcall(G_VISIBLE, M_VISIBLE, 0.5), ],
             backward_check(G_VISIBLE, M_VISIBLE, 0.5), ("autograd",)),
]

# ================================================================ Part 3: Dropout (nn.Module)
D = "Dropout"
_rng = np.random.default_rng(606)
X_SEQ = _rng.standard_normal((4, 5, 6))      # a batch of sequences
X_IMG = _rng.standard_normal((2, 3, 4, 4))   # a batch of images
X_VEC = _rng.standard_normal((5, 8))
W_VEC = _rng.standard_normal((5, 8))         # weights of the loss whose gradient is checked


def _layer(check, rules_out=frozenset()):
    """A scenario check of the layer: no_scaling also points to non-inverted dropout, and a scenario the layer
    passes rules out ``rules_out``, the mistakes whose models would have failed on it."""
    def run(values):
        try:
            check(values)
        except Mistake as exc:
            if exc.key == "no_scaling":
                raise Mistake(str(exc), key=exc.key, plain=exc.plain, also=(NOT_INVERTED,)) from None
            raise
        return rules_out
    return run


NOT_INVERTED = ("not_inverted", f"Dropout: {HINTS['not_inverted']}")  # (key, message) for Mistake(also=...)
TRAIN = frozenset({"no_scaling", "not_inverted"})          # training mode with 0 < p < 1
EVAL = frozenset({"scaled_in_eval", "active_in_eval", "not_inverted"})


def _module_info(values, what):
    info = _one(values, what)
    if not isinstance(info, dict):
        raise Failure(f"{what}: could not be run")
    if "type" in info:
        raise Failure(f"{what}: forward must return a tensor, not a {info['type']}")
    return info


def torch_mask(shape, p, seed, dtype=torch.float64):
    return (torch.rand(tuple(shape), dtype=dtype, generator=torch.Generator().manual_seed(seed)) >= p).numpy()


def module_exact(x, p, seed, dtype="float64", weights=None):
    def check(values):
        what = f"Dropout({p:g}, generator=g) in train mode"
        info = _module_info(values, what)
        xd = torch.tensor(x, dtype=getattr(torch, dtype))
        layer = ref.Dropout(p, generator=torch.Generator().manual_seed(seed))
        xr = xd.clone().requires_grad_()
        want = layer(xr)
        w = torch.ones_like(want) if weights is None else torch.tensor(weights, dtype=want.dtype)
        (want * w).sum().backward()
        want_out, want_grad = want.detach().double().numpy(), xr.grad.double().numpy()
        out = np.asarray(info["out"], float)
        if p == 1 and not np.all(np.isfinite(out)):
            raise _M(what, "p1_nan")
        if 0 < p < 1 and out.shape == want_out.shape and not close(out, want_out, 1e-6, 0):
            xn = xd.double().numpy()
            mask = torch_mask(x.shape, p, seed, getattr(torch, dtype))
            if close(out, xn * mask, 1e-6, 0):
                raise _M(what, "no_scaling")
            keep_p = ~torch_mask(x.shape, p, seed, getattr(torch, dtype))
            if close(out, np.where(keep_p, xn / p, 0.0), 1e-6, 0):
                raise _M(what, "keep_drop_swapped")
            key = _module_mistake([out], xn, p, lambda: [torch.Generator().manual_seed(seed)], getattr(torch, dtype),
                                  1e-6)
            if key:
                raise _M(what, key)
            if _ignores_generator([out], xn, p, getattr(torch, dtype), 1e-6):
                raise _M(what, "generator_ignored", spec=TORCH_SPEC)
            raise Failure(f"{what}: {HINTS['mask_not_as_specified'].format(spec=TORCH_SPEC)}")
        expect(out, want_out, f"{what}: the output", rtol=1e-6 if dtype == "float32" else 1e-12, atol=0)
        if info.get("dtype") != dtype:
            raise Failure(f"{what}: a {dtype} input must give a {dtype} output, not {info.get('dtype')}")
        if info.get("grad") is None:
            raise Failure(f"{what}: no gradient reaches x: compute the output with torch operations on x")
        expect(info["grad"], want_grad, f"{what}: the gradient with respect to x (autograd)",
               rtol=1e-6 if dtype == "float32" else 1e-12, atol=0)
    return check


def module_eval(x, p, wrap=False):
    def check(values):
        what = f"Dropout({p:g}) in eval mode" + (" inside nn.Sequential" if wrap else "")
        info = _module_info(values, what)
        out = np.asarray(info["out"], float)
        if out.shape == x.shape and close(out, (1 - p) * x, 1e-9, 0) and not close(out, x, 0, 0):
            raise Mistake(f"{what}: {HINTS['scaled_in_eval']}", key="scaled_in_eval", plain=_plain("scaled_in_eval"),
                          also=(NOT_INVERTED,))
        _named(diagnose_eval(info["out"], x, p, what))
    return check


def module_identity(x, p):
    def check(values):
        what = f"Dropout({p:g}) in train mode"
        info = _module_info(values, what)
        out = np.asarray(info["out"], float)
        if p == 1:
            if not np.all(np.isfinite(out)):
                raise _M(what, "p1_nan")
            if close(out, x, 0, 0):   # p used as the keep probability: everything kept
                raise _M(what, "keep_drop_swapped")
            expect(out, np.zeros_like(x), f"{what}: every unit is dropped, the output", atol=0)
        else:
            if close(out, np.zeros_like(x), 0, 0):   # p used as the keep probability: everything dropped
                raise _M(what, "keep_drop_swapped")
            expect(out, x, f"{what}: nothing is dropped, the output", rtol=0, atol=0)
    return check


def module_stats_check(p, what):
    def check(values):
        stats = _one(values, what)
        _named(diagnose_stats(stats, p, what))
        if stats.get("p_attribute") != p:
            raise Failure(f"{what}: store the drop probability as self.p, as torch.nn.Dropout does")
    return check


def generator_check(x, p, seeds):
    def check(values):
        what = f"Dropout({p:g}, generator=g) with two differently seeded generators"
        outs = _one(values, what)
        if not (isinstance(outs, list) and len(outs) == 2) or any(isinstance(o, (Foreign, type(None))) for o in outs):
            raise Failure(f"{what}: forward must return a tensor")
        if close(outs[0], outs[1], 0, 0):
            raise _M(what, "generator_ignored", spec=TORCH_SPEC)
        key = _module_mistake(outs, x, p, lambda: [torch.Generator().manual_seed(seed) for seed in seeds])
        if key:
            raise _M(what, key)
        for seed, out in zip(seeds, outs):
            layer = ref.Dropout(p, generator=torch.Generator().manual_seed(seed))
            if not close(out, layer(torch.tensor(x)).numpy(), 1e-12, 0):
                raise Failure(f"{what}: {HINTS['mask_not_as_specified'].format(spec=TORCH_SPEC)}")
    return check


_MODULE_MISTAKES = ("no_scaling", "keep_drop_swapped", "shared_mask")


def _module_out(x, p, gen, kind="ok", dtype=torch.float64):
    """One training-mode output of the layer, or of a named mistake, drawing from ``gen`` (None: the global one)."""
    x = np.asarray(x, dtype=float)
    shape = np.shape(x)[1:] if kind == "shared_mask" else np.shape(x)
    u = np.broadcast_to(torch.rand(shape, dtype=dtype, generator=gen).double().numpy(), np.shape(x))
    if kind == "no_scaling":
        return np.where(u >= p, x, 0.0)
    if kind == "keep_drop_swapped":
        return np.where(u < p, x / p, 0.0) if p > 0 else np.zeros_like(x)
    return np.where(u >= p, x / (1 - p), 0.0) if p < 1 else np.zeros_like(x)


def _module_mistake(outs, x, p, draws, dtype=torch.float64, rtol=1e-12):
    """The named mistake whose model gives every output of ``outs``; ``draws()`` yields one generator (or None,
    after seeding the global one) per output, in order, afresh for each model."""
    def model(kind):
        return [_module_out(x, p, gen, kind, dtype) for gen in draws()]
    right = model("ok")
    for key in _MODULE_MISTAKES:
        wrong = model(key)
        if all(close(o, w, rtol, 0) for o, w in zip(outs, wrong)) \
                and not all(close(w, r, rtol, 0) for w, r in zip(wrong, right)):
            return key
    return None


def _ignores_generator(outs, x, p, dtype=torch.float64, rtol=1e-12) -> bool:
    """Are ``outs`` the outputs of masks drawn from torch's global generator, as seeded before the probe ran
    (torch.manual_seed(0)), instead of the generator passed in?"""
    state = torch.get_rng_state()
    try:
        torch.manual_seed(0)
        model = [_module_out(x, p, None, "ok", dtype) for _ in outs]
    finally:
        torch.set_rng_state(state)
    return all(close(o, m, rtol, 0) for o, m in zip(outs, model))


def _torch_out(x, p, gen):
    mask = torch.rand(np.shape(x), dtype=torch.float64, generator=gen) >= p
    return np.where(mask.numpy(), np.asarray(x) / (1 - p), 0.0) if p < 1 else np.zeros(np.shape(x))


def calls_check(x, p, seed, n_calls, set_p=None):
    """Several calls of one layer with a generator: each draws its own mask from it, with the layer's current p."""
    def check(values):
        what = f"Dropout({p:g}, generator=g)" + (f" with layer.p set to {set_p:g} later" if set_p is not None else
                                                 f", {n_calls} calls in train mode")
        outs = _one(values, what)
        if not isinstance(outs, list) or any(isinstance(o, (Foreign, type(None))) for o in outs):
            raise Failure(f"{what}: forward must return a tensor")
        p_now = p if set_p is None else set_p
        gen = torch.Generator().manual_seed(seed)
        want = [_torch_out(x, p_now, gen) for _ in range(n_calls)]
        if all(close(o, w, 1e-12, 0) for o, w in zip(outs, want)):
            return
        first = _torch_out(x, p_now, torch.Generator().manual_seed(seed))
        if len(outs) > 1 and all(close(o, first, 1e-12, 0) for o in outs):
            raise _M(what, "mask_reused")

        def draws():
            gen = torch.Generator().manual_seed(seed)
            return [gen] * len(outs)
        key = _module_mistake(outs, x, p_now, draws)
        if key:
            raise _M(what, key)
        if _ignores_generator(outs, x, p_now):
            raise _M(what, "generator_ignored", spec=TORCH_SPEC)
        if set_p is not None:
            gen_old, gen_new = torch.Generator().manual_seed(seed), torch.Generator().manual_seed(seed)
            old_p = [_torch_out(x, p, gen_old) for _ in outs]
            new_mask_old_scale = [_torch_out(x, set_p, gen_new) * (1 - set_p) / (1 - p) for _ in outs]
            if all(close(o, a, 1e-12, 0) for o, a in zip(outs, old_p)) \
                    or all(close(o, b, 1e-12, 0) for o, b in zip(outs, new_mask_old_scale)):
                raise _M(what, "p_read_once")
        raise Failure(f"{what}: the outputs differ from those of the masks drawn as specified ({TORCH_SPEC})")
    return check


def global_check(x, p, seeds):
    def check(values):
        what = f"Dropout({p:g}) without a generator, after torch.manual_seed"
        outs = _one(values, what)
        if not isinstance(outs, list) or any(isinstance(o, (Foreign, type(None))) for o in outs):
            raise Failure(f"{what}: forward must return a tensor")
        want = []
        for seed in seeds:
            torch.manual_seed(seed)
            want.append(_torch_out(x, p, None))
        if all(close(o, w, 1e-12, 0) for o, w in zip(outs, want)):
            return
        if close(outs[0], outs[1], 0, 0):
            raise _M(what, "private_generator")

        def draws():
            for seed in seeds:
                torch.manual_seed(seed)
                yield None
        key = _module_mistake(outs, x, p, draws)
        if key:
            raise _M(what, key)
        raise Failure(f"{what}: the output differs from the one of torch.rand(x.shape, dtype=x.dtype) >= p drawn from "
                      "torch's global generator")
    return check


def invalid_check(p):
    def check(values):
        got = _one(values, f"Dropout({p:g})")
        if got != "ValueError":
            raise Failure(f"Dropout({p:g}): {HINTS['invalid_p']} (yours: {got})")
    return check


MODULE_CONTRACT = {
    "drop_fraction": "p is the drop probability, stored as self.p: about a fraction p of the units is zeroed",
    "scaling": "kept units are multiplied by 1/(1 - p) in training: mean preserved, variance of out/x p/(1 - p)",
    "default_p": "the default is p = 0.5",
    "per_element": "every element has its own draw: no mask shared across the batch",
    "generator": "with a generator, mask = torch.rand(x.shape, dtype=x.dtype, generator=g) >= p exactly",
    "autograd": "the output is differentiable: the gradient with respect to x is mask/(1 - p)",
    "eval_identity": "in eval mode the output is the input unchanged",
    "eval_nested": "the mode set on a containing network (nn.Sequential.eval()) switches it off",
    "p_one": "p = 1 gives zeros in training (no NaN)",
    "p_zero": "p = 0 gives the input unchanged in training",
    "any_shape": "any input shape: vectors, sequences (3-D), images (4-D)",
    "dtype": "the output has the input's dtype (float32 and float64)",
    "invalid_p": "p < 0 or p > 1 raises ValueError",
    "global_generator": "generator=None draws from torch's global generator: torch.manual_seed decides the masks",
    "new_mask_each_call": "every call in training mode draws a new mask (from the generator, in order)",
    "p_read": "self.p is read at every forward pass: setting layer.p after construction changes the rate",
}
MODULE = [
    Scenario("train mode, p = 0.2, any seed", [_probe("module_stats", D, 0.2, [400, 300], "train", 31)],
             _layer(module_stats_check(0.2, "Dropout(0.2) in train mode on a large input"), TRAIN),
             ("drop_fraction", "scaling", "per_element")),
    Scenario("train mode, p = 0.65, any seed", [_probe("module_stats", D, 0.65, [300, 400], "train", 32)],
             _layer(module_stats_check(0.65, "Dropout(0.65) in train mode on a large input"), TRAIN),
             ("drop_fraction", "scaling", "per_element")),
    Scenario("the default p", [_probe("module_stats", D, None, [400, 300], "train", 33)],
             _layer(module_stats_check(0.5, "Dropout() in train mode on a large input"), TRAIN), ("default_p",)),
    Scenario("a batch whose examples must get different masks", [_probe("module_stats", D, 0.5, [3000, 6],
                                                                        "train", 34)],
             _layer(module_stats_check(0.5, "Dropout(0.5) on a batch"), TRAIN), ("per_element",)),
    Scenario("a generator passed in", [_probe("module_probe", D, 0.3, X_VEC, "train", 41, "float64", W_VEC)],
             _layer(module_exact(X_VEC, 0.3, 41, weights=W_VEC), TRAIN), ("generator", "autograd")),
    Scenario("two generators", [_probe("generator_probe", D, 0.45, X_VEC, 51, 52)],
             _layer(generator_check(X_VEC, 0.45, (51, 52)), TRAIN), ("generator",)),
    Scenario("eval mode", [_probe("module_probe", D, 0.4, X_VEC, "eval")], _layer(module_eval(X_VEC, 0.4), EVAL),
             ("eval_identity",)),
    Scenario("eval mode set on a containing nn.Sequential",
             [_probe("module_probe", D, 0.7, X_SEQ, "eval", None, "float64", None, True)],
             _layer(module_eval(X_SEQ, 0.7, wrap=True), EVAL), ("eval_nested",)),
    Scenario("p = 1", [_probe("module_probe", D, 1.0, X_VEC, "train")], _layer(module_identity(X_VEC, 1.0)), ("p_one",)),
    Scenario("p = 0", [_probe("module_probe", D, 0.0, X_VEC, "train")], _layer(module_identity(X_VEC, 0.0)), ("p_zero",)),
    Scenario("a batch of sequences (3-D)", [_probe("module_probe", D, 0.5, X_SEQ, "train", 42)],
             _layer(module_exact(X_SEQ, 0.5, 42), TRAIN), ("any_shape",)),
    Scenario("a batch of images (4-D)", [_probe("module_probe", D, 0.25, X_IMG, "train", 43)],
             _layer(module_exact(X_IMG, 0.25, 43), TRAIN), ("any_shape",)),
    Scenario("a float32 input", [_probe("module_probe", D, 0.3, X_VEC, "train", 44, "float32")],
             _layer(module_exact(X_VEC, 0.3, 44, "float32"), TRAIN), ("dtype",)),
    Scenario("generator=None and torch.manual_seed", [_probe("module_global_probe", D, 0.35, X_VEC, 61, 62)],
             _layer(global_check(X_VEC, 0.35, (61, 62)), TRAIN), ("global_generator",)),
    Scenario("three calls of one layer", [_probe("module_calls_probe", D, 0.4, X_VEC, 63, 3)],
             _layer(calls_check(X_VEC, 0.4, 63, 3), TRAIN), ("new_mask_each_call",)),
    Scenario("layer.p changed after construction", [_probe("module_calls_probe", D, 0.5, X_VEC, 64, 2, 0.2)],
             _layer(calls_check(X_VEC, 0.5, 64, 2, set_p=0.2), TRAIN), ("p_read",)),
    Scenario("p = -0.1", [_probe("module_invalid_p", D, -0.1)], _layer(invalid_check(-0.1)), ("invalid_p",)),
    Scenario("p = 1.2", [_probe("module_invalid_p", D, 1.2)], _layer(invalid_check(1.2)), ("invalid_p",)),
    Scenario("the visible test's settings", [_probe("module_stats", D, 0.25, [500, 120], "train", 5),
                                              _probe("module_probe", D, 0.6, np.random.default_rng(4)
                                                     .standard_normal((2, 3, 4)), "train", 9)],
             _layer(lambda values: (module_stats_check(0.25, "Dropout(0.25) on the visible test's input")(values[:1]),
                                    module_exact(np.random.default_rng(4).standard_normal((2, 3, 4)), 0.6, 9)(values[1:])),
                    TRAIN),
             ("generator",)),
]

# ================================================================ Part 4: mc_dropout_predict
M = "mc_dropout_predict"
_rng = np.random.default_rng(707)
X_LIN = _rng.standard_normal((4, 6))
X_BN = _rng.standard_normal((7, 5))
X_CNT = _rng.standard_normal((2, 3))
X_VIS = np.random.default_rng(8).standard_normal((3, 4))


def _mc(values, what):
    info = _one(values, what)
    if not isinstance(info, dict):
        raise Failure(f"{what}: could not be run")
    result = info.get("result")
    if not (isinstance(result, tuple) and len(result) == 2):
        raise Failure(f"{what}: return a tuple (mean, std)")
    mean, std = result
    if isinstance(mean, (Foreign, type(None))) or isinstance(std, (Foreign, type(None))):
        raise Failure(f"{what}: mean and std must be tensors")
    return info, np.asarray(mean, float), np.asarray(std, float)


def _modes(info, what, mode):
    if info["after"] != info["before"]:
        if mode == "eval":
            raise _M(what, "left_in_train")
        raise Failure(f"{what}: {HINTS['mode_not_restored']}")


@lru_cache(maxsize=None)
def _linear_moments(name, x_key):
    x = {"lin": X_LIN, "vis": X_VIS}[x_key]
    net = build_mc_net(name)
    (drop,) = [m for m in net.modules() if isinstance(m, torch.nn.Dropout)]
    (lin,) = [m for m in net.modules() if isinstance(m, torch.nn.Linear)]
    p = drop.p
    W, b = lin.weight.detach().numpy(), lin.bias.detach().numpy()
    return x @ W.T + b, np.sqrt((x ** 2) @ (W ** 2).T * p / (1 - p))


def mc_linear(mode, num_samples, name="linear", x_key="lin"):
    def check(values):
        what = f"{M} on a linear network in {mode} mode"
        info, mean, std = _mc(values, what)
        want_mean, want_std = _linear_moments(name, x_key)
        if mean.shape != want_mean.shape or std.shape != want_mean.shape:
            raise Failure(f"{what}: mean and std must have the shape of net(x), {want_mean.shape}")
        if np.all(std == 0):
            if info["dropout_modes"] == [True]:
                raise _M(what, "same_masks")
            if name == "nested" and False in info["dropout_modes"]:
                raise Mistake(f"{what}: {HINTS['dropout_off']} (the nn.Dropout layer nested in a sub-module stayed in "
                              "eval mode: look for the dropout layers in net.modules(), every module at any depth, "
                              "not net.children())", key="dropout_off", plain=_plain("dropout_off"))
            raise _M(what, "dropout_off")
        if info["calls"] != num_samples:
            raise Failure(f"{what}: call net(x) exactly num_samples times (yours: {info['calls']})")
        if np.any(np.abs(mean - want_mean) > 6 * want_std / math.sqrt(num_samples) + 1e-9):
            raise Failure(f"{what}: the mean is not the average of the samples (for a linear network its "
                          "expectation is the eval-mode output)")
        if np.any(np.abs(std - want_std) > 0.1 * want_std):
            raise Failure(f"{what}: std is not the standard deviation of the samples (its expected value is "
                          "derived from p and the weights)")
        _modes(info, what, mode)
    return check


def mc_nested(num_samples):
    """Dropout nested in a sub-module must be active too: the samples differ (their mean and spread are judged on
    the flat networks)."""
    def check(values):
        what = f"{M} on a network whose dropout layer sits in a sub-module"
        info, mean, std = _mc(values, what)
        if mean.shape != (X_LIN.shape[0], 3) or std.shape != mean.shape:
            raise Failure(f"{what}: mean and std must have the shape of net(x)")
        if np.all(std == 0):
            if info["dropout_modes"] == [True]:
                raise _M(what, "same_masks")
            raise Mistake(f"{what}: {HINTS['dropout_off']} (the nn.Dropout layer nested in a sub-module stayed in "
                          "eval mode: look for the dropout layers in net.modules(), every module at any depth, "
                          "not net.children())", key="dropout_off", plain=_plain("dropout_off"))
        if info["calls"] != num_samples:
            raise Failure(f"{what}: call net(x) exactly num_samples times (yours: {info['calls']})")
        _modes(info, what, "eval")
    return check


def mc_counter(num_samples, mode, name="counter"):
    """Samples offset + step * k, k = 0 .. num_samples - 1 (build_mc_net's counters): mean and std known to rounding.
    With a large offset, a std computed as E[y^2] - E[y]^2 is off by far more than rounding (about 1e-4 relative for
    an offset of 1e6); one computed from the deviations from the mean is exact to about 1e-10."""
    counter = build_mc_net(name)
    offset, y = counter.offset, counter.offset + counter.step * np.arange(num_samples, dtype=float)

    def check(values):
        what = f"{M} on a network whose output changes with every call" + (" around a large mean" if offset else "")
        info, mean, std = _mc(values, what)
        want_mean = np.full((X_CNT.shape[0], 3), y.mean())
        want_std = np.full_like(want_mean, y.std(ddof=1))
        if std.shape == want_std.shape and close(std, np.full_like(want_std, y.std()), 1e-6):
            raise _M(what, "biased_std")
        if info["calls"] != num_samples:
            raise Failure(f"{what}: call net(x) exactly num_samples times (yours: {info['calls']})")
        expect(mean, want_mean, f"{what}: the mean of the samples", rtol=1e-12)
        if offset and std.shape == want_std.shape and not close(std, want_std, 1e-9, 0) \
                and close(std, want_std, 1e-2, 0):
            raise _M(what, "std_cancellation")
        expect(std, want_std, f"{what}: the standard deviation of the samples", rtol=1e-9 if offset else 1e-12)
        _modes(info, what, mode)
    return check


def mc_batchnorm(mode, num_samples, active, name=None):
    name = name or ("batchnorm" if active else "batchnorm_p0")

    def check(values):
        what = f"{M} on a network with BatchNorm" + (" in a sub-module" if name == "nested_modes" else "") \
            + f" in {mode} mode"
        info, mean, std = _mc(values, what)
        if info["state_changed"] or True in info.get("bn_modes", info["other_modes"]):
            raise _M(what, "whole_net_train")
        if True in info.get("shift_modes", []):
            raise _M(what, "other_module_train")
        if False in info["dropout_modes"] or not info["dropout_modes"]:
            raise _M(what, "dropout_off")
        if info["calls"] != num_samples:
            raise Failure(f"{what}: call net(x) exactly num_samples times (yours: {info['calls']})")
        net = build_mc_net(name).eval()
        with torch.no_grad():
            eval_out = net(torch.tensor(X_BN)).numpy()
        if mean.shape != eval_out.shape or std.shape != eval_out.shape:
            raise Failure(f"{what}: mean and std must have the shape of net(x), {eval_out.shape}")
        if not active:   # dropout with p = 0: every sample is the eval-mode output
            expect(mean, eval_out, f"{what}: the mean (with p = 0 every sample is the eval-mode output)",
                   rtol=1e-9, atol=1e-12)
            expect(std, np.zeros_like(eval_out), f"{what}: the std (with p = 0 the samples are equal)", atol=1e-6)
        elif np.all(std == 0):
            raise _M(what, "same_masks" if info["dropout_modes"] == [True] else "dropout_off")
        _modes(info, what, mode)
    return check


def mc_no_grad(values):
    what = f"{M}: the returned tensors"
    info, _, _ = _mc(values, what)
    if info.get("requires_grad") != [False, False]:
        raise Failure(f"{what} require grad: sample under torch.no_grad()")


def mc_mixed(values):
    what = f"{M} on a network whose first layer is in eval mode and the rest in train mode"
    info, _, _ = _mc(values, what)
    if info["after"] != info["before"]:
        raise Failure(f"{what}: {HINTS['mode_not_restored']}")


MC_CONTRACT = {
    "samples": "calls net(x) exactly num_samples times, with dropout active",
    "mean": "mean is the element-wise average of the samples, of net(x)'s shape",
    "std": "std is the element-wise standard deviation of the samples, torch's default (divides by num_samples - 1), "
           "accurate to rounding when the outputs' mean is large next to their spread",
    "dropout_active": "the nn.Dropout modules are in train mode while sampling, even in a network in eval mode",
    "others_eval": "every other module is in eval mode while sampling: BatchNorm uses and keeps its running "
                   "statistics",
    "restore_eval": "a network in eval mode is in eval mode afterwards",
    "restore_train": "a network in train mode is in train mode afterwards",
    "restore_mixed": "every module gets back its own mode (a network whose modules are in different modes)",
    "no_grad": "no gradients are tracked: mean and std do not require grad",
    "nested": "nn.Dropout modules nested in sub-modules are switched to train mode too",
}
MC = [
    Scenario("a linear network in eval mode", [_probe("mc_probe", M, "linear", X_LIN, 4000, "eval", 3)],
             mc_linear("eval", 4000), ("samples", "mean", "std", "dropout_active", "restore_eval")),
    Scenario("a linear network in train mode", [_probe("mc_probe", M, "linear", X_LIN, 3000, "train", 4)],
             mc_linear("train", 3000), ("samples", "mean", "std", "restore_train")),
    Scenario("an output that changes with every call", [_probe("mc_probe", M, "counter", X_CNT, 7, "eval")],
             mc_counter(7, "eval"), ("std", "mean", "samples")),
    Scenario("outputs with a large mean that change with every call",
             [_probe("mc_probe", M, "counter_large", X_CNT, 7, "eval")], mc_counter(7, "eval", "counter_large"), ("std",)),
    Scenario("BatchNorm with p = 0 dropout, network in eval mode",
             [_probe("mc_probe", M, "batchnorm_p0", X_BN, 20, "eval", 5)], mc_batchnorm("eval", 20, False),
             ("others_eval", "restore_eval")),
    Scenario("BatchNorm with p = 0.5 dropout, network in train mode",
             [_probe("mc_probe", M, "batchnorm", X_BN, 30, "train", 6)], mc_batchnorm("train", 30, True),
             ("others_eval", "dropout_active", "restore_train")),
    Scenario("BatchNorm and another mode-dependent module in a sub-module, p = 0 dropout, network in train mode",
             [_probe("mc_probe", M, "nested_modes", X_BN, 12, "train", 10)],
             mc_batchnorm("train", 12, False, "nested_modes"), ("others_eval",)),
    Scenario("modules in different modes", [_probe("mc_probe", M, "batchnorm", X_BN, 10, "mixed", 7)],
             mc_mixed, ("restore_mixed",)),
    Scenario("gradients", [_probe("mc_probe", M, "linear", X_LIN, 10, "train", 8)], mc_no_grad, ("no_grad",)),
    Scenario("a dropout layer nested in a sub-module", [_probe("mc_probe", M, "nested", X_LIN, 20, "eval", 9)],
             mc_nested(20), ("nested",)),
    Scenario("the visible test's network", [_probe("mc_probe", M, "linear_visible", X_VIS, 3000, "eval", 1)],
             mc_linear("eval", 3000, "linear_visible", "vis"), ("mean",)),
]

FORWARD_CREDIT = [
    Credit("inverted dropout with the specified mask", 1.0, ("returns", "mask_spec", "drop_fraction", "scaling",
                                                             "per_element")),
    Credit("p = 0 and p = 1", 0.5, ("p_one", "p_zero")),
    Credit("any shape, float32, x unchanged", 0.5, ("any_shape", "dtype", "input_unchanged")),
]
BACKWARD_CREDIT = [
    Credit("the gradient through the same mask", 1.0, ("autograd", "reuse_mask", "scaling")),
    Credit("p = 0 and p = 1", 0.5, ("p_one", "p_zero")),
    Credit("any shape and float32", 0.5, ("any_shape", "dtype")),
]
MODULE_CREDIT = [
    Credit("training and eval mode", 1.5, ("drop_fraction", "scaling", "per_element", "generator", "autograd",
                                           "eval_identity", "new_mask_each_call")),
    Credit("the default p, p = 0 and p = 1, eval set on a network", 0.5, ("default_p", "p_zero", "p_one",
                                                                          "eval_nested")),
    Credit("generator=None, layer.p read at every call", 0.5, ("global_generator", "p_read")),
    Credit("any shape, dtype, invalid p", 0.5, ("any_shape", "dtype", "invalid_p")),
]
MC_CREDIT = [
    Credit("the mean and std of samples with dropout active", 1.5, ("samples", "mean", "std", "dropout_active",
                                                                    "restore_eval")),
    Credit("other modules in eval mode, nested dropout layers", 0.5, ("others_eval", "nested")),
    Credit("modes restored (train, mixed)", 0.5, ("restore_train", "restore_mixed")),
    Credit("no gradients", 0.5, ("no_grad",)),
]

PARTS = {
    "test_dropout_forward": Part("dropout_forward", contract=FORWARD_CONTRACT, scenarios=FORWARD,
                                 credit=FORWARD_CREDIT),
    "test_dropout_backward": Part("dropout_backward", contract=BACKWARD_CONTRACT, scenarios=BACKWARD,
                                  credit=BACKWARD_CREDIT),
    "test_dropout_module": Part("dropout_module", contract=MODULE_CONTRACT, scenarios=MODULE, credit=MODULE_CREDIT),
    "test_mc_dropout_predict": Part("mc_dropout_predict", contract=MC_CONTRACT, scenarios=MC, credit=MC_CREDIT),
}


def points_line(credit) -> str:
    """The line of the exercise text that shows a part's weights."""
    return "**Points:** " + " · ".join(f"{c.label} ({c.points:g})" for c in credit)
