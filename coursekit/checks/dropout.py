"""Checks for the dropout exercise (Chapter 4): probes that exercise an answer, and visible checks.

Dropout is random, so an answer is checked two ways:

* **statistics that hold for any seed**, on a large input: the fraction of units dropped is about ``p``, the
  kept units are scaled by exactly ``1 / (1 - p)``, the mean of ``out / x`` is about 1 and its variance about
  ``p / (1 - p)``, and different examples of a batch get different masks;
* **exact values when a generator is passed in**: the exercise says how the mask is drawn
  (``rng.random(x.shape) >= p`` in numpy, ``torch.rand(x.shape, dtype=x.dtype, generator=g) >= p`` in torch),
  so the same generator gives the same mask.

The *probes* (``forward_probe``, ``module_probe``, ``mc_probe``, ...) run an answer and report what it did as
plain numbers; the grader's hidden tests call them inside the sandbox and judge the numbers outside it. The
visible checks (``check_*``) run the same probes on other inputs in the student's notebook. ``diagnose_*``
turn a probe's numbers into the hint that names a known mistake; both sides use them, so they agree.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

# One wording per mistake, shared with the grader's hidden tests.
HINTS = {
    "no_scaling": "the kept units are not scaled by 1/(1 - p): inverted dropout multiplies every kept unit by "
                  "1/(1 - p) in training, so that the expected output equals the input",
    "keep_drop_swapped": "p is used as the keep probability: in PyTorch's convention p is the probability of "
                         "DROPPING a unit, so a unit is kept with probability 1 - p and scaled by 1/(1 - p)",
    "shared_mask": "one mask is shared across the batch: every example gets the same units dropped; draw a mask "
                   "of the input's full shape",
    "p1_nan": "p = 1 gives NaN or inf (0 times 1/(1 - p)): with p = 1 every unit is dropped and the result is all "
              "zeros, as in torch",
    "new_mask_backward": "the gradient is not zero exactly where the forward pass dropped units: a new mask was "
                         "drawn in backward; reuse the mask of the forward pass",
    "backward_no_scaling": "the gradient is not scaled by 1/(1 - p): the forward pass multiplies the kept units "
                           "by 1/(1 - p), so their gradient is multiplied by it too",
    "not_inverted": "this is the original, non-inverted dropout: kept units are left unscaled in training and "
                    "the output is multiplied by 1 - p in eval mode; inverted dropout (what torch.nn.Dropout does) "
                    "scales the kept units by 1/(1 - p) in training, and eval mode is the identity",
    "active_in_eval": "dropout is active in eval mode: after .eval() (self.training is False) the layer must "
                      "return its input unchanged",
    "scaled_in_eval": "the output is scaled in eval mode: with inverted dropout all the scaling happens in "
                      "training (1/(1 - p)), and eval mode is the identity",
    "mask_not_as_specified": "the mask is not the one the exercise specifies: draw "
                             "it in one call on the generator you are given, as {spec}",
    "generator_ignored": "the generator passed in is ignored: the same generator must give the same mask "
                         "({spec})",
    "left_in_train": "the network is left in train mode after MC dropout: restore the mode (module.training) "
                     "of every module as it was before the call",
    "mode_not_restored": "the network's mode is not restored after MC dropout: every module must end in the "
                         "mode (module.training) it had before the call",
    "dropout_off": "dropout was not active while sampling (all the samples are the same): switch the nn.Dropout "
                   "modules to train mode for the sampling, even when the network is in eval mode",
    "whole_net_train": "the whole network was in train mode while sampling, so BatchNorm used and updated batch "
                       "statistics: put only the nn.Dropout modules in train mode, everything else in eval mode",
    "std_cancellation": "std loses its accuracy when the outputs have a large mean: E[y^2] - E[y]^2 (or running "
                        "sums of y and y^2) cancels catastrophically; use the deviations from the mean (torch.std of "
                        "the stacked samples, or Welford's running update)",
    "other_module_train": "a module other than nn.Dropout ran in training mode while sampling (a module whose "
                          "output depends on self.training, in a sub-module): put every module but the nn.Dropout "
                          "layers in eval mode, at any depth of net.modules()",
    "biased_std": "std is the biased estimate (divided by num_samples); use torch's default std, which divides "
                  "by num_samples - 1",
    "invalid_p": "Dropout(p) must raise ValueError for p outside [0, 1], as torch.nn.Dropout does",
    "global_rng": "the mask comes from numpy's global random state (np.random....), not from the generator rng "
                  "passed in: draw it with rng.random(x.shape), so that the same rng gives the same mask",
    "private_generator": "with generator=None the masks do not follow torch.manual_seed: the layer draws from a "
                         "generator of its own; pass generator=None on to torch.rand, which then uses torch's global "
                         "generator, like torch.nn.Dropout",
    "mask_reused": "the same mask is used in every call: each forward pass in training mode draws a new mask",
    "p_read_once": "the layer keeps using the p it was built with: torch.nn.Dropout reads self.p at every forward "
                   "pass, so setting layer.p later changes the rate",
    "same_masks": "every sample is the same although the dropout layers were in training mode: the random state is "
                  "reset between the samples (torch.manual_seed or a generator seeded inside the loop)",
}
NUMPY_SPEC = "mask = rng.random(x.shape) >= p"
TORCH_SPEC = "mask = torch.rand(x.shape, dtype=x.dtype, device=x.device, generator=self.generator) >= self.p"


# ---------------------------------------------------------------- probes (run the answer, report numbers)
def _numbers(value):
    """``value`` as a float64 numpy array, or None if it is not numbers."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().double().numpy()
    try:
        arr = np.asarray(value)
    except Exception:
        return None
    if arr.dtype.kind not in "biuf":
        return None
    return arr.astype(float)


def _dtype_name(value) -> str:
    if isinstance(value, torch.Tensor):
        return str(value.dtype).replace("torch.", "")
    if isinstance(value, np.ndarray):
        return str(value.dtype)
    return type(value).__name__


def summarize(ratio, mask=None, batch_axis: int = 0) -> dict:
    """Statistics of ``ratio = out / x`` (x never 0) that hold for any seed."""
    ratio = np.asarray(ratio, dtype=float)
    finite = bool(np.all(np.isfinite(ratio)))
    dropped = ratio == 0
    kept = ratio[~dropped & np.isfinite(ratio)]
    rows = np.moveaxis(dropped, batch_axis, 0).reshape(ratio.shape[batch_axis], -1) if ratio.ndim >= 2 else None
    out = {
        "finite": finite,
        "frac_zero": float(dropped.mean()),
        "mean": float(np.mean(ratio)) if finite else math.nan,
        "var": float(np.var(ratio)) if finite else math.nan,
        "kept_min": float(kept.min()) if kept.size else math.nan,
        "kept_max": float(kept.max()) if kept.size else math.nan,
        "rows_differ": bool(rows is not None and np.any(rows != rows[:1])),
        "size": int(ratio.size),
    }
    if mask is not None:
        m = _numbers(mask)
        out["mask_agrees"] = bool(m is not None and m.shape == ratio.shape and np.array_equal(m != 0, ~dropped))
    return out


def _positive_input(shape, seed):
    """Values in [1, 2): never 0, so a 0 in the output means a dropped unit."""
    return 1.0 + np.random.default_rng(int(seed) + 1000).random(tuple(int(s) for s in shape))


def forward_probe(fn, x, p, seed, dtype="float64"):
    """``fn(x, p, np.random.default_rng(seed))`` (a numpy dropout_forward): what it returned, and its dtype."""
    x = np.asarray(x, dtype=dtype)
    before = x.copy()
    result = fn(x, p, np.random.default_rng(int(seed)))
    info = {"result": result, "input_unchanged": bool(np.array_equal(x, before))}
    if isinstance(result, (tuple, list)) and len(result) == 2:
        info["dtype"] = _dtype_name(result[0])
        # the same rng again, numpy's global random state seeded otherwise: does the mask change? (asked only when
        # the mask is not the one the exercise specifies)
        specified = np.random.default_rng(int(seed)).random(x.shape) >= p
        mask = _numbers(result[1])
        if mask is not None and mask.shape == x.shape and np.array_equal(mask != 0, specified):
            info["global_state"] = False
            return info
        state = np.random.get_state()
        try:
            np.random.seed(987_654)
            again = fn(before.copy(), p, np.random.default_rng(int(seed)))
            info["global_state"] = bool(isinstance(again, (tuple, list)) and len(again) == 2 and not np.array_equal(
                np.asarray(_numbers(again[1])) != 0, np.asarray(_numbers(result[1])) != 0))
        except Exception:  # noqa: BLE001 - a second call that fails says nothing about the random state
            info["global_state"] = False
        finally:
            np.random.set_state(state)
    return info


def forward_stats(fn, shape, p, seed):
    """:func:`summarize` of a numpy dropout_forward on a large positive input."""
    x = _positive_input(shape, seed)
    result = fn(x.copy(), p, np.random.default_rng(int(seed)))
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        return {"error": "return a tuple (out, mask)"}
    out = _numbers(result[0])
    if out is None or out.shape != x.shape:
        return {"error": f"out must have the input's shape {x.shape}"}
    return summarize(out / x, result[1])


def backward_probe(fn, grad_out, mask, p, dtype="float64"):
    """``fn(grad_out, mask, p)`` with a boolean ``mask`` (a numpy dropout_backward)."""
    grad_out = np.asarray(grad_out, dtype=dtype)
    result = fn(grad_out, np.asarray(mask) != 0, p)
    return {"result": result, "dtype": _dtype_name(result)}


def _make_module(cls, p, seed=None):
    args = () if p is None else (p,)
    if seed is None:
        return cls(*args)
    return cls(*args, generator=torch.Generator().manual_seed(int(seed)))


def module_probe(cls, p, x, mode="train", seed=None, dtype="float64", weights=None, wrap=False):
    """A student's ``Dropout(p[, generator])`` in ``mode`` applied to ``x``: output, gradient, dtype.

    ``wrap``: the layer sits inside ``nn.Sequential`` and the mode is set on the Sequential.
    ``weights``: the gradient is that of ``(out * weights).sum()``.
    """
    layer = _make_module(cls, p, seed)
    net = nn.Sequential(layer) if wrap else layer
    net.train(mode == "train")
    xt = torch.tensor(np.asarray(x), dtype=getattr(torch, dtype), requires_grad=True)
    before = xt.detach().clone()
    out = net(xt)
    if not isinstance(out, torch.Tensor):
        return {"type": type(out).__name__}
    info = {"out": out.detach().double().numpy(), "dtype": _dtype_name(out),
            "p_attribute": float(layer.p) if isinstance(getattr(layer, "p", None), (int, float)) else None}
    if out.requires_grad:
        w = torch.ones_like(out) if weights is None else torch.tensor(np.asarray(weights), dtype=out.dtype)
        (out * w).sum().backward()
        info["grad"] = xt.grad.double().numpy() if xt.grad is not None else None
    else:
        info["grad"] = None
    info["input_unchanged"] = bool(torch.equal(xt.detach(), before))
    return info


def generator_probe(cls, p, x, seed_a, seed_b):
    """Outputs of ``Dropout(p, generator=...)`` in train mode for generators seeded ``seed_a`` and ``seed_b``,
    with torch's global generator seeded alike before each: they differ only if the generator is used."""
    outs = []
    for seed in (seed_a, seed_b):
        torch.manual_seed(0)
        info = module_probe(cls, p, x, "train", seed)
        outs.append(info.get("out"))
    return outs


def module_calls_probe(cls, p, x, seed, n_calls=2, set_p=None):
    """``n_calls`` forward passes in train mode of ``Dropout(p, generator=g)`` (g seeded ``seed``) on ``x``; with
    ``set_p``, ``layer.p`` is set to it after construction. The outputs, as float64 arrays."""
    layer = _make_module(cls, p, seed)
    if set_p is not None:
        layer.p = set_p
    layer.train()
    xt = torch.tensor(np.asarray(x), dtype=torch.float64)
    outs = []
    for _ in range(int(n_calls)):
        out = layer(xt)
        outs.append(out.detach().double().numpy() if isinstance(out, torch.Tensor) else None)
    return outs


def module_global_probe(cls, p, x, seed_a, seed_b):
    """``Dropout(p)`` (no generator) in train mode on ``x`` after ``torch.manual_seed(seed_a)``, and a fresh layer
    after ``torch.manual_seed(seed_b)``: torch's global generator must decide the masks."""
    outs = []
    for seed in (seed_a, seed_b):
        layer = _make_module(cls, p)
        layer.train()
        torch.manual_seed(int(seed))
        out = layer(torch.tensor(np.asarray(x), dtype=torch.float64))
        outs.append(out.detach().double().numpy() if isinstance(out, torch.Tensor) else None)
    return outs


def module_stats(cls, p, shape, mode="train", seed=0, dtype="float64"):
    """:func:`summarize` of a student's Dropout on a large positive input (torch's global RNG seeded)."""
    torch.manual_seed(int(seed))
    layer = _make_module(cls, p)
    layer.train(mode == "train")
    x = torch.tensor(_positive_input(shape, seed), dtype=getattr(torch, dtype))
    out = layer(x)
    if not isinstance(out, torch.Tensor) or tuple(out.shape) != tuple(x.shape):
        return {"error": f"the output must be a tensor of the input's shape {tuple(x.shape)}"}
    info = summarize((out.detach().double() / x.double()).numpy())
    info["p_attribute"] = float(layer.p) if isinstance(getattr(layer, "p", None), (int, float)) else None
    return info


def module_invalid_p(cls, p):
    """What ``cls(p)`` raises: an exception's class name, or "no error"."""
    try:
        cls(p)
    except Exception as exc:  # the name is the observation
        return type(exc).__name__
    return "no error"


# ---------------------------------------------------------------- MC dropout: nets and the probe
class CallCounter(nn.Module):
    """A network whose output is ``offset + step * k`` (everywhere) on its ``k``-th call, k = 0, 1, ...; it holds one
    nn.Dropout, as MC dropout expects. The mean and std of ``num_samples`` calls are then known exactly."""

    def __init__(self, width=3, offset=0.0, step=1.0):
        super().__init__()
        self.drop = nn.Dropout(0.5)
        self.width, self.offset, self.step = width, offset, step
        self.calls = 0

    def forward(self, x):
        value = self.offset + self.step * float(self.calls)
        self.calls += 1
        return torch.full((x.shape[0], self.width), value, dtype=x.dtype) + 0.0 * self.drop(x).sum()


class ModeShift(nn.Module):
    """A module whose output depends on its mode, as BatchNorm's does, though it is no BatchNorm: it adds 1 in
    training mode. MC dropout must run it in eval mode like every module but the nn.Dropout layers."""

    def forward(self, x):
        return x + 1.0 if self.training else x


def build_mc_net(name: str) -> nn.Module:
    """The small networks of the MC-dropout checks (seeded, so the grader can rebuild them)."""
    torch.manual_seed(0)
    if name == "linear":          # dropout on the input of a linear layer: mean and variance known
        return nn.Sequential(nn.Dropout(0.3), nn.Linear(6, 3)).double()
    if name == "nested":          # the dropout layer inside a sub-module
        return nn.Sequential(nn.Sequential(nn.Dropout(0.3), nn.Linear(6, 3))).double()
    if name == "linear_visible":  # the visible check's network
        return nn.Sequential(nn.Dropout(0.5), nn.Linear(4, 2)).double()
    if name in ("batchnorm", "batchnorm_p0"):   # BatchNorm with running statistics of its own
        net = nn.Sequential(nn.Linear(5, 8), nn.BatchNorm1d(8), nn.ReLU(),
                            nn.Dropout(0.0 if name == "batchnorm_p0" else 0.5), nn.Linear(8, 2)).double()
        with torch.no_grad():
            net[1].running_mean.uniform_(-1.0, 1.0)
            net[1].running_var.uniform_(0.5, 2.0)
        return net
    if name == "nested_modes":    # BatchNorm in a sub-module, and a mode-dependent module of another kind
        net = nn.Sequential(nn.Linear(5, 8), nn.Sequential(nn.BatchNorm1d(8), ModeShift()), nn.ReLU(),
                            nn.Dropout(0.0), nn.Linear(8, 2)).double()
        with torch.no_grad():
            net[1][0].running_mean.uniform_(-1.0, 1.0)
            net[1][0].running_var.uniform_(0.5, 2.0)
        return net
    if name == "counter":
        return CallCounter()
    if name == "counter_large":   # a large mean next to a spread of about 2: E[y^2] - E[y]^2 cancels
        return CallCounter(offset=1e6, step=0.3)
    raise ValueError(f"unknown network {name}")


def _set_modes(net, mode):
    if mode == "train":
        net.train()
    elif mode == "eval":
        net.eval()
    elif mode == "mixed":         # trained as a whole, with the first layer frozen in eval mode
        net.train()
        next(iter(net.children())).eval()
    else:
        raise ValueError(mode)


def mc_probe(fn, name, x, num_samples, mode="eval", seed=0):
    """``fn(net, x, num_samples)`` on ``build_mc_net(name)`` in ``mode``: what it returned, how often and in
    which modes the modules ran, and every module's mode before and after."""
    net = build_mc_net(name)
    _set_modes(net, mode)
    modules = list(net.modules())
    seen = [set() for _ in modules]
    hooks = [m.register_forward_hook(lambda mod, inp, out, i=i: seen[i].add(bool(mod.training)))
             for i, m in enumerate(modules)]
    calls = []
    hooks.append(net.register_forward_hook(lambda mod, inp, out: calls.append(int(inp[0].shape[0]))))
    buffers = {k: v.clone() for k, v in net.state_dict().items()}
    before = [bool(m.training) for m in modules]
    xt = torch.tensor(np.asarray(x), dtype=torch.float64)
    torch.manual_seed(int(seed))
    result = fn(net, xt, int(num_samples))
    for h in hooks:
        h.remove()
    info = {"before": before, "after": [bool(m.training) for m in modules],
            "dropout_modes": sorted({mode for m, s in zip(modules, seen) if isinstance(m, nn.Dropout) for mode in s}),
            "other_modes": sorted({mode for m, s in zip(modules[1:], seen[1:]) if not isinstance(m, nn.Dropout)
                                   for mode in s}),
            "bn_modes": sorted({mode for m, s in zip(modules, seen) if isinstance(m, nn.modules.batchnorm._BatchNorm)
                                for mode in s}),
            "shift_modes": sorted({mode for m, s in zip(modules, seen) if isinstance(m, ModeShift) for mode in s}),
            "calls": len(calls), "rows_per_call": sorted(set(calls)),
            "state_changed": any(not torch.equal(v, net.state_dict()[k]) for k, v in buffers.items())}
    if isinstance(result, tuple) and len(result) == 2:
        info["requires_grad"] = [bool(getattr(r, "requires_grad", False)) for r in result]
    info["result"] = result
    return info


# ---------------------------------------------------------------- diagnoses shared by visible and hidden tests
def _near(a, b, tol):
    return a is not None and b is not None and math.isfinite(a) and abs(a - b) <= tol


def diagnose_stats(stats: dict, p: float, what: str) -> str | None:
    """A message for training-mode statistics that are wrong for drop probability ``0 < p < 1``, naming the
    mistake when it is known; None when they are right. Tolerances: over 6 standard errors for ``size`` units."""
    if "error" in stats:
        return f"{what}: {stats['error']}"
    if not stats["finite"]:
        return f"{what}: the output contains NaN or inf"
    n = stats["size"]
    tol_frac = 6 * math.sqrt(p * (1 - p) / n) + 1e-9
    scale = 1 / (1 - p)
    kept_exact = _near(stats["kept_min"], stats["kept_max"], 1e-6 * scale)
    if kept_exact and _near(stats["kept_min"], 1 / p, 1e-6 / p) and not _near(1 / p, scale, 1e-6):
        return f"{what}: {HINTS['keep_drop_swapped']}"
    if _near(stats["frac_zero"], 1 - p, tol_frac) and not _near(1 - p, p, 2 * tol_frac):
        return f"{what}: {HINTS['keep_drop_swapped']}"
    if kept_exact and _near(stats["kept_min"], 1.0, 1e-6):
        return f"{what}: {HINTS['no_scaling']}"
    if not stats["rows_differ"]:
        return f"{what}: {HINTS['shared_mask']}"
    if not _near(stats["frac_zero"], p, tol_frac):
        return f"{what}: about a fraction p of the units should be dropped (set to 0); yours drops a different fraction"
    if not kept_exact or not _near(stats["kept_min"], scale, 1e-6 * scale):
        return f"{what}: every kept unit must be multiplied by exactly 1/(1 - p)"
    # out/x takes the values 0 (probability p) and 1/(1 - p): mean 1, variance p/(1 - p)
    var = p / (1 - p)
    fourth = p + (1 - p) * (p / (1 - p)) ** 4          # E[(out/x - 1)^4]
    if not _near(stats["mean"], 1.0, 6 * math.sqrt(var / n)):
        return f"{what}: the mean of out/x should be about 1: inverted dropout preserves the mean"
    # (the sample variance is taken about the sample mean, which adds up to (mean - 1)^2 of slack)
    if not _near(stats["var"], var, 6 * math.sqrt(max(fourth - var ** 2, 0.0) / n) + 36 * var / n + 1e-12):
        return f"{what}: the variance of out/x should be about p/(1 - p)"
    return None


def diagnose_eval(out, x, p: float, what: str) -> str | None:
    """A message when an eval-mode output ``out`` is not the input ``x`` unchanged."""
    out, x = _numbers(out), np.asarray(x, dtype=float)
    if out is None or out.shape != x.shape:
        return f"{what}: the output must have the input's shape {x.shape}"
    if np.array_equal(out, x):
        return None
    if not np.all(np.isfinite(out)):
        return f"{what}: the output contains NaN or inf"
    nonzero = x != 0
    ratio = out[nonzero] / x[nonzero]
    for factor in (1 - p, p, 1 / (1 - p) if p < 1 else None):
        if factor is not None and np.allclose(ratio, factor, rtol=1e-9) and np.all(out[~nonzero] == 0):
            return f"{what}: {HINTS['scaled_in_eval']}"
    if np.any(out == 0) and not np.any(x == 0):
        return f"{what}: {HINTS['active_in_eval']}"
    return f"{what}: in eval mode the output must be the input unchanged"


# ---------------------------------------------------------------- visible checks (the notebook's test cells)
def _fail(message):
    raise AssertionError(message)


def check_forward(dropout_forward) -> None:
    """Visible checks of a numpy ``dropout_forward(x, p, rng)``."""
    x = np.array([[0.5, -1.0, 2.0, 3.0, -0.25], [1.5, 2.5, -3.5, 4.0, 0.75]])
    p = 0.4
    info = forward_probe(dropout_forward, x, p, seed=7)
    result = info["result"]
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        _fail("dropout_forward must return a tuple (out, mask)")
    out, mask = _numbers(result[0]), _numbers(result[1])
    if out is None or out.shape != x.shape or mask is None or mask.shape != x.shape:
        _fail(f"dropout_forward: out and mask must both have the input's shape {x.shape}")
    if not info["input_unchanged"]:
        _fail("dropout_forward changed its input x in place; return a new array")
    for shape, q in (((400, 250), 0.3), ((300, 200), 0.75)):
        msg = diagnose_stats(forward_stats(dropout_forward, shape, q, seed=11), q,
                             f"dropout_forward with p={q} on a {shape[0]}x{shape[1]} input")
        if msg:
            _fail(msg)
    want_mask = np.random.default_rng(7).random(x.shape) >= p
    if not np.array_equal(mask != 0, want_mask):
        _fail(f"dropout_forward: {HINTS['mask_not_as_specified'].format(spec=NUMPY_SPEC)}")
    np.testing.assert_allclose(out, np.where(want_mask, x / (1 - p), 0.0), rtol=1e-12, atol=0,
                               err_msg="dropout_forward: out must be x * mask / (1 - p)")
    res1 = forward_probe(dropout_forward, x, 1.0, seed=3)["result"]
    out1 = _numbers(res1[0]) if isinstance(res1, (tuple, list)) and len(res1) == 2 else None
    if out1 is None or not np.all(np.isfinite(out1)):
        _fail(f"dropout_forward with p=1: {HINTS['p1_nan']}")
    if not np.array_equal(out1, np.zeros_like(x)):
        _fail("dropout_forward with p=1: every unit is dropped, so out must be all zeros")
    out0 = _numbers(forward_probe(dropout_forward, x, 0.0, seed=3)["result"][0])
    if not np.array_equal(out0, x):
        _fail("dropout_forward with p=0: nothing is dropped, so out must equal x")
    info32 = forward_probe(dropout_forward, x, p, seed=7, dtype="float32")
    if info32.get("dtype") != "float32":
        _fail(f"dropout_forward: a float32 input must give a float32 output (got {info32.get('dtype')}); "
              "a float64 mask multiplied in promotes it: use a boolean mask or mask.astype(x.dtype)")


def check_backward(dropout_backward) -> None:
    """Visible checks of a numpy ``dropout_backward(grad_out, mask, p)``, against torch autograd."""
    rng = np.random.default_rng(3)
    grad_out = rng.standard_normal((3, 4))
    mask = rng.random((3, 4)) >= 0.5
    for p in (0.5, 0.2):
        x = torch.tensor(rng.standard_normal((3, 4)), requires_grad=True)
        (x * torch.tensor(mask) / (1 - p)).backward(torch.tensor(grad_out))
        want = x.grad.numpy()
        info = backward_probe(dropout_backward, grad_out, mask, p)
        got = _numbers(info["result"])
        what = f"dropout_backward with p={p}"
        if got is None or got.shape != want.shape:
            _fail(f"{what}: return an array of grad_out's shape {want.shape}")
        if np.allclose(got, want, rtol=1e-12, atol=0):
            continue
        if np.allclose(got, grad_out * mask, rtol=1e-12, atol=0):
            _fail(f"{what}: {HINTS['backward_no_scaling']}")
        if not np.array_equal(got != 0, mask):
            _fail(f"{what}: {HINTS['new_mask_backward']}")
        _fail(f"{what}: the gradient differs from torch autograd's for the same mask "
              f"(largest difference {float(np.max(np.abs(got - want))):.3g})")
    got1 = _numbers(backward_probe(dropout_backward, grad_out, mask, 1.0)["result"])
    if got1 is None or not np.all(np.isfinite(got1)):
        _fail(f"dropout_backward with p=1: {HINTS['p1_nan']}")
    if not np.array_equal(got1, np.zeros_like(grad_out)):
        _fail("dropout_backward with p=1: every unit was dropped, so the gradient must be all zeros")
    dtype = backward_probe(dropout_backward, grad_out, mask, 0.5, dtype="float32")["dtype"]
    if dtype != "float32":
        _fail(f"dropout_backward: a float32 grad_out must give a float32 gradient (got {dtype}); a float64 mask "
              "multiplied in promotes it")


def check_module(Dropout) -> None:
    """Visible checks of a ``Dropout(p, generator=None)`` nn.Module against torch.nn.Dropout's semantics."""
    if not (isinstance(Dropout, type) and issubclass(Dropout, nn.Module)):
        _fail("Dropout must be a class that subclasses torch.nn.Module")
    for q in (-0.5, 2.0):
        got = module_invalid_p(Dropout, q)
        if got != "ValueError":
            _fail(f"Dropout({q}): {HINTS['invalid_p']} (got {got})")
    msg = diagnose_stats(module_stats(Dropout, 0.25, (500, 120), seed=5), 0.25,
                         "Dropout(0.25) in train mode on a 500x120 input")
    if msg:
        _fail(msg)
    x = np.random.default_rng(4).standard_normal((2, 3, 4))
    info = module_probe(Dropout, 0.25, x, mode="eval")
    if "type" in info:
        _fail(f"Dropout must return a tensor, not a {info['type']}")
    msg = diagnose_eval(info["out"], x, 0.25, "Dropout(0.25) in eval mode")
    if msg:
        _fail(msg)
    info = module_probe(Dropout, 1.0, x, mode="train")
    if not np.all(np.isfinite(info["out"])):
        _fail(f"Dropout(1.0) in train mode: {HINTS['p1_nan']}")
    if not np.array_equal(info["out"], np.zeros_like(x)):
        _fail("Dropout(1.0) in train mode: every unit is dropped, so the output must be all zeros")
    info = module_probe(Dropout, 0.6, x, mode="train", seed=9)
    mask = torch.rand(x.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(9)) >= 0.6
    want = np.where(mask.numpy(), x / 0.4, 0.0)
    if not np.allclose(info["out"], want, rtol=1e-12, atol=0):
        first, second = generator_probe(Dropout, 0.6, x, 9, 10)
        if np.array_equal(first, second):
            _fail(f"Dropout(0.6, generator=g): {HINTS['generator_ignored'].format(spec=TORCH_SPEC)}")
        _fail(f"Dropout(0.6, generator=g): {HINTS['mask_not_as_specified'].format(spec=TORCH_SPEC)}")
    if info["grad"] is None or not np.allclose(info["grad"], mask.numpy() / 0.4, rtol=1e-12, atol=0):
        _fail("Dropout: the gradient of out.sum() with respect to x must be mask / (1 - p) (use torch operations "
              "on x, so that autograd sees them)")


def check_mc(mc_dropout_predict) -> None:
    """Visible checks of ``mc_dropout_predict(net, x, num_samples)``."""
    x = np.random.default_rng(8).standard_normal((3, 4))
    info = mc_probe(mc_dropout_predict, "linear_visible", x, 3000, mode="eval", seed=1)
    result = info["result"]
    if not (isinstance(result, tuple) and len(result) == 2):
        _fail("mc_dropout_predict must return a tuple (mean, std)")
    mean, std = _numbers(result[0]), _numbers(result[1])
    if mean is None or std is None or mean.shape != (3, 2) or std.shape != (3, 2):
        _fail("mc_dropout_predict: mean and std must both have the shape of net(x), here (3, 2)")
    if info["after"] != info["before"]:
        _fail(f"mc_dropout_predict on a network in eval mode: {HINTS['left_in_train']}")
    if np.all(std == 0):
        _fail(f"mc_dropout_predict: {HINTS['dropout_off']}")
    if info["calls"] != 3000:
        _fail(f"mc_dropout_predict: net(x) must be called num_samples times (3000 here), not {info['calls']}")
    if info.get("requires_grad") != [False, False]:
        _fail("mc_dropout_predict: sample under torch.no_grad(); the mean and std must not require grad")
    net = build_mc_net("linear_visible")
    W, b = net[1].weight.detach().numpy(), net[1].bias.detach().numpy()
    want_mean = x @ W.T + b
    want_std = np.sqrt((x ** 2) @ (W ** 2).T * 0.5 / 0.5)
    if np.any(np.abs(mean - want_mean) > 6 * want_std / np.sqrt(3000) + 1e-9):
        _fail("mc_dropout_predict: the mean is not the average of the samples (for this linear network its "
              "expectation is the eval-mode output)")
    if np.any(np.abs(std - want_std) > 0.1 * want_std):
        _fail("mc_dropout_predict: std is not the standard deviation of the samples")
    info = mc_probe(mc_dropout_predict, "batchnorm_p0", np.random.default_rng(9).standard_normal((6, 5)), 5)
    if info["state_changed"] or True in info["other_modes"]:
        _fail(f"mc_dropout_predict on a network with BatchNorm: {HINTS['whole_net_train']}")
    info = mc_probe(mc_dropout_predict, "counter", x, 4, mode="train")
    mean, std = _numbers(info["result"][0]), _numbers(info["result"][1])
    if std is not None and np.allclose(std, math.sqrt(5 / 4)):
        _fail(f"mc_dropout_predict: {HINTS['biased_std']}")
    if info["after"] != info["before"]:
        _fail(f"mc_dropout_predict on a network in train mode: {HINTS['mode_not_restored']}")
