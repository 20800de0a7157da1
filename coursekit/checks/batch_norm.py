"""Checks for the batch-normalization exercise (Chapter 6): probes that exercise an answer, and visible checks.

torch is the oracle everywhere: ``torch.nn.functional.batch_norm`` for the numpy forward pass, autograd for the
numpy backward pass, ``torch.nn.BatchNorm1d`` for the module and ``torch.optim.swa_utils.update_bn`` for the
recalibration. The *probes* (``module_run``, ``state_dict_run``, ``raises_run``, ``update_bn_run``) drive an
answer (construct it, switch train/eval, feed several batches, save and load its state) and report plain numbers;
the grader's hidden tests call them inside the sandbox and compare with the same probe run on torch's own class.
The visible checks (``check_*``) do the same on other inputs in the student's notebook and name a known mistake
(``HINTS``, one wording shared with the grader).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

HINTS = {
    "batch_at_eval": "eval mode uses the statistics of the batch: in eval mode normalize with the running "
                     "statistics (running_mean, running_var), so that a prediction does not depend on the other "
                     "examples of the batch",
    "never_updated": "the running statistics are never updated: in training mode update them with every batch",
    "reversed_momentum": "the momentum is reversed: in torch's convention momentum weights the NEW batch, "
                         "running = (1 - momentum) * running + momentum * batch_statistic",
    "biased_running_var": "the running variance is updated with the biased batch variance: torch normalizes with "
                          "the biased variance (divided by m) but updates running_var with the unbiased one "
                          "(divided by m - 1), m the number of values per channel",
    "unbiased_normalization": "the batch is normalized with the unbiased variance (divided by m - 1): "
                              "normalization uses the biased one (divided by m); only running_var uses m - 1",
    "eps_outside": "eps is added outside the square root: divide by sqrt(var + eps), not sqrt(var) + eps",
    "wrong_axis": "the statistics are taken over the wrong axis: there is one mean and one variance per channel "
                  "(axis 1), taken over the batch axis 0 of an (N, C) input and over the axes 0 and 2 of an "
                  "(N, C, L) input",
    "momentum_ignored": "the momentum passed in is ignored: use the argument momentum, not a fixed 0.1",
    "running_in_training": "training mode normalizes with the running statistics: in training mode normalize with "
                           "the statistics of the current batch",
    "updated_in_eval": "the running statistics are updated in eval mode: update them only in training mode",
    "nbt_ignored": "with momentum=None the running statistics must be the cumulative average of every batch "
                   "seen, using num_batches_tracked: factor = 1 / num_batches_tracked after counting the batch",
    "nbt_not_counted": "num_batches_tracked does not count the training batches: add 1 for every batch in training "
                       "mode (also when momentum is a number), as torch does",
    "backward_no_paths": "grad_x is only gamma * grad_out / sqrt(var + eps): the mean and the variance depend on "
                         "x too, so grad_x has terms through both (the compact form subtracts the mean of grad_out "
                         "and x_hat times the mean of grad_out * x_hat)",
    "backward_no_var_path": "grad_x is missing the path through the variance (the term with x_hat times the mean "
                            "of grad_out * x_hat)",
    "backward_no_mean_path": "grad_x is missing the path through the mean (the term that subtracts the mean of "
                             "grad_out)",
    "batch_of_one": "a batch of one example in training mode must raise ValueError, as torch does (its variance "
                    "is 0 and its normalized output is all zeros)",
    "bad_dim": "BatchNorm1d accepts only 2-D (N, C) and 3-D (N, C, L) inputs and raises ValueError for others, "
               "as torch does",
    "bn_not_reset": "the running statistics are not reset before the pass: start every BatchNorm layer from "
                    "reset_running_stats(), so that the old statistics do not leak into the new ones",
    "bn_ema": "the new statistics are an exponential moving average: set momentum = None during the pass so "
              "that they are the cumulative average over every batch",
    "bn_momentum_not_restored": "the layers' momentum is not restored after the pass: put back each layer's own "
                                "momentum",
    "bn_mode_not_restored": "the network's mode is not restored: it must end in train or eval mode as it started "
                            "(net.train(was_training))",
    "bn_eval_pass": "the statistics did not change: the pass must run in training mode (net.train()), because "
                    "BatchNorm updates its running statistics only in training mode",
    "bn_some_missed": "some BatchNorm layers are left out (not reset, momentum not set to None), so they keep a "
                      "moving average from their old statistics: every BatchNorm layer counts, whatever its "
                      "dimension (BatchNorm1d, BatchNorm2d, ...: every instance of nn.modules.batchnorm._BatchNorm)",
    "bn_nested_missed": "the BatchNorm layers nested inside sub-modules are left out (not reset, momentum not set to "
                        "None), so they keep a moving average from their old statistics: look for them in "
                        "net.modules() (every module, at any depth), not net.children() (the top level only)",
    "bn_count_not_reset": "num_batches_tracked is not reset with the statistics, so the cumulative average "
                          "continues from the old count (factor 1 / (old count + k)): reset every layer with "
                          "reset_running_stats(), which zeroes num_batches_tracked too",
    "var_cancellation": "the variance loses its precision on a channel with a large mean: E[x^2] - E[x]^2 cancels "
                        "catastrophically (both terms are huge and nearly equal); compute it from the deviations, "
                        "mean((x - mean)^2)",
    "unbiased_factor_n": "the unbiased correction uses N, the batch size, instead of m, the number of values per "
                         "channel (m = N * L for an (N, C, L) input): running_var takes var * m / (m - 1)",
    "dtype": "the output's dtype is not the layer's and input's: a float32 layer on float32 input must return "
             "float32, as torch's does (no .double(), no float64 tensors or numpy arrays mixed in)",
    "momentum_at_init": "momentum is read once, in __init__: torch reads self.momentum at every forward pass, so "
                        "setting layer.momentum = None later (as update_bn does) switches to the cumulative average",
    "running_in_graph": "the running statistics are part of the computation graph (they require grad): update them "
                        "under torch.no_grad() or from detached batch statistics",
}


def _fail(msg: str):
    raise AssertionError(msg)


# ---------------------------------------------------------------- batches the probes feed
def make_batch(shape, seed: int) -> np.ndarray:
    """A batch whose channels have different means and scales (float64), reproducible from ``seed``."""
    shape = tuple(int(s) for s in shape)
    rng = np.random.default_rng(int(seed))
    c = shape[1] if len(shape) > 1 else shape[0]
    loc = np.random.default_rng(int(seed) // 1000).normal(0.0, 2.0, c)
    scale = np.exp(np.random.default_rng(int(seed) // 1000 + 1).normal(0.0, 0.7, c))
    z = rng.standard_normal(shape)
    if len(shape) == 2:
        return loc + scale * z
    if len(shape) == 3:
        return loc[:, None] + scale[:, None] * z
    return z


def affine_values(c: int, seed: int):
    rng = np.random.default_rng(int(seed) + 77)
    return rng.uniform(0.5, 2.0, c), rng.normal(0.0, 1.0, c)


def output_weights(shape, seed: int) -> np.ndarray:
    """Weights w of the scalar (out * w).sum() whose gradient the probes take."""
    return np.random.default_rng(int(seed) + 99).standard_normal(tuple(int(s) for s in shape))


def _num(t):
    if t is None:
        return None
    if isinstance(t, torch.Tensor):
        return t.detach().double().numpy()
    return t


# ---------------------------------------------------------------- probes (run the answer, report numbers)
# Letters of a module_run plan that change the layer's momentum between batches (no batch is run).
MOMENTUM_CHANGES = {"N": None, "Q": 0.25}


def module_run(cls, kwargs, plan, shape, dtype="float64", seed=0, shift=0.0):
    """Build ``cls(C, **kwargs)`` and run it on one batch per letter of ``plan``: "t" in training mode,
    "e" in eval mode; "N" and "Q" set ``layer.momentum`` to None and 0.25 (no batch). Reports each step's output,
    the gradients of ``(out * w).sum()``, and the buffers. ``shift`` is added to channel 0 of every batch (a
    channel with a large mean)."""
    kwargs = dict(kwargs)
    shape = [int(s) for s in shape]
    c = shape[1]
    torch.manual_seed(0)
    layer = cls(c, **kwargs)
    tdtype = getattr(torch, dtype)
    layer = layer.to(tdtype)
    weight = getattr(layer, "weight", None)
    if isinstance(weight, torch.Tensor) and isinstance(getattr(layer, "bias", None), torch.Tensor):
        g, b = affine_values(c, seed)
        with torch.no_grad():
            layer.weight.copy_(torch.tensor(g))
            layer.bias.copy_(torch.tensor(b))
    steps = []
    for k, mode in enumerate(plan):
        if mode in MOMENTUM_CHANGES:
            layer.momentum = MOMENTUM_CHANGES[mode]
            steps.append({"set_momentum": MOMENTUM_CHANGES[mode]})
            continue
        layer.train(mode == "t")
        x = torch.tensor(shifted_batch(shape, seed * 1000 + k, shift), dtype=tdtype, requires_grad=True)
        try:
            out = layer(x)
        except Exception as exc:  # the name is the observation
            steps.append({"error": type(exc).__name__})
            continue
        if not isinstance(out, torch.Tensor):
            steps.append({"error": f"returned a {type(out).__name__}, not a tensor"})
            continue
        step = {"out": _num(out), "dtype": str(out.dtype).replace("torch.", "")}
        if out.requires_grad and tuple(out.shape) == tuple(shape):
            try:
                (out * torch.tensor(output_weights(shape, seed + k), dtype=out.dtype)).sum().backward()
            except Exception as exc:  # e.g. a graph through running statistics kept from an earlier batch
                step["backward_error"] = type(exc).__name__
            step["grad_x"] = _num(x.grad)
            for name in ("weight", "bias"):
                p = getattr(layer, name, None)
                step[f"grad_{name}"] = _num(p.grad) if isinstance(p, torch.Tensor) and p.grad is not None else None
            layer.zero_grad()
        steps.append(step)
    params = {n: _num(p) for n, p in layer.named_parameters()}
    running = [getattr(layer, n, None) for n in ("running_mean", "running_var")]
    return {"steps": steps, "running_mean": _num(getattr(layer, "running_mean", None)),
            "running_var": _num(getattr(layer, "running_var", None)),
            "num_batches_tracked": _num(getattr(layer, "num_batches_tracked", None)),
            "running_requires_grad": any(isinstance(t, torch.Tensor) and t.requires_grad for t in running),
            "param_names": sorted(params), "buffer_names": sorted(n for n, _ in layer.named_buffers()),
            "training": bool(layer.training)}


def shifted_batch(shape, seed: int, shift: float = 0.0) -> np.ndarray:
    """``make_batch(shape, seed)`` with ``shift`` added to channel 0."""
    x = make_batch(shape, seed)
    if shift:
        x[:, 0] += shift
    return x


def state_dict_run(cls, kwargs, shape, seed=0, oracle=None):
    """A state_dict round trip: train ``cls(C, **kwargs)`` on three batches, save, and

    * load the state into torch's BatchNorm1d (strictly) and evaluate it on a new batch;
    * load torch's state (trained on the same batches) into a fresh ``cls`` and evaluate it;
    * load the answer's own state into a fresh ``cls``, train two more batches, report the running statistics.
    """
    oracle = oracle or nn.BatchNorm1d
    kwargs = dict(kwargs)
    shape = [int(s) for s in shape]
    c = shape[1]

    def trained(klass, n=3):
        torch.manual_seed(0)
        layer = klass(c, **kwargs).double()
        layer.train()
        for k in range(n):
            layer(torch.tensor(make_batch(shape, seed * 1000 + k)))
        return layer

    x_eval = torch.tensor(make_batch(shape, seed * 1000 + 50))
    info = {}
    mine = trained(cls)
    info["trained"] = {name: _num(getattr(mine, name, None)) for name in ("running_mean", "running_var",
                                                                         "num_batches_tracked")}
    sd = mine.state_dict()
    info["keys"] = sorted(sd)
    nbt = sd.get("num_batches_tracked")
    info["nbt_dtype"] = str(nbt.dtype).replace("torch.", "") if isinstance(nbt, torch.Tensor) else type(nbt).__name__
    theirs = oracle(c, **kwargs).double()
    try:
        theirs.load_state_dict(sd)
        info["to_torch_error"] = None
        theirs.eval()
        with torch.no_grad():
            info["torch_out"] = _num(theirs(x_eval))
    except Exception as exc:
        info["to_torch_error"] = type(exc).__name__
    fresh = cls(c, **kwargs).double()
    try:
        fresh.load_state_dict(trained(oracle).state_dict())
        info["from_torch_error"] = None
        fresh.eval()
        with torch.no_grad():
            info["answer_out"] = _num(fresh(x_eval))
    except Exception as exc:
        info["from_torch_error"] = type(exc).__name__
    again = cls(c, **kwargs).double()
    again.load_state_dict(sd)
    again.train()
    for k in range(3, 5):
        again(torch.tensor(make_batch(shape, seed * 1000 + k)))
    info["continued_mean"] = _num(getattr(again, "running_mean", None))
    info["continued_var"] = _num(getattr(again, "running_var", None))
    return info


def raises_run(cls, kwargs, shape, training=True):
    """The name of the exception ``cls(C, **kwargs)`` raises on an input of ``shape``, or "no error"."""
    shape = [int(s) for s in shape]
    c = shape[1] if len(shape) > 1 else shape[0]
    layer = cls(c, **dict(kwargs)).double()
    layer.train(bool(training))
    try:
        layer(torch.tensor(make_batch(shape, 5)))
    except Exception as exc:  # the name is the observation
        return type(exc).__name__
    return "no error"


def batch_dependence_run(cls, shape=(4, 3), seed=5):
    """In eval mode, does the output for example 0 change when the other examples of its batch change? True, False,
    or the name of the exception the layer raised."""
    shape = [int(s) for s in shape]
    import copy

    layer = cls(shape[1]).double().eval()
    twin = copy.deepcopy(layer)   # so that a layer that changes its state in eval mode cannot fake a dependence
    x = torch.tensor(make_batch(shape, seed))
    other = x.clone()
    other[1:] = other[1:] * 2.0 + 3.0
    try:
        with torch.no_grad():
            first, second = layer(x)[0], twin(other)[0]
    except Exception as exc:  # the name is the observation
        return type(exc).__name__
    return not torch.allclose(first, second, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------- update_bn
def build_bn_net(name: str) -> nn.Module:
    """The networks of the update_bn checks (seeded), with running statistics as if trained for a while."""
    torch.manual_seed(1)
    if name == "mlp":
        net = nn.Sequential(nn.Linear(5, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 4),
                            nn.BatchNorm1d(4, momentum=0.3))
    elif name == "conv":
        net = nn.Sequential(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 4 * 4, 5),
                            nn.BatchNorm1d(5, momentum=0.05))
    elif name == "nested":        # BatchNorm layers inside sub-modules, one two levels down
        net = nn.Sequential(nn.Sequential(nn.Linear(5, 8), nn.BatchNorm1d(8)), nn.ReLU(),
                            nn.Sequential(nn.Linear(8, 4), nn.Sequential(nn.BatchNorm1d(4, momentum=0.3))),
                            nn.BatchNorm1d(4))
    elif name == "no_bn":
        net = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 4))
    elif name == "visible":
        net = nn.Sequential(nn.Linear(3, 6), nn.BatchNorm1d(6), nn.Tanh(), nn.Linear(6, 2))
    else:
        raise ValueError(f"unknown network {name}")
    net = net.double()
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.running_mean.uniform_(-3.0, 3.0)
                m.running_var.uniform_(2.0, 5.0)
                m.num_batches_tracked.fill_(7)
    return net


def bn_batches(name: str, kind: str, seed: int = 0):
    """Four batches for ``build_bn_net(name)`` (the last one smaller): tensors, (x, y) tuples or [x, y] lists."""
    in_shape = {"mlp": (5,), "no_bn": (5,), "conv": (2, 6, 6), "visible": (3,), "nested": (5,)}[name]
    rng = np.random.default_rng(int(seed))
    out = []
    for k, n in enumerate((6, 6, 6, 3)):
        x = torch.tensor(rng.normal(1.0 + k, 1.0 + 0.5 * k, (n,) + in_shape))
        y = torch.zeros(n, dtype=torch.long)
        out.append(x if kind == "tensor" else (x, y) if kind == "tuple" else [x, y])
    return out


def update_bn_run(fn, net_name, kind="tensor", mode="eval", seed=0):
    """``fn(batches, net)`` on a network in ``mode``: what it left in every BatchNorm layer and the network."""
    net = build_bn_net(net_name)
    net.train(mode == "train")
    before = {n: p.detach().clone() for n, p in net.named_parameters()}
    fn(bn_batches(net_name, kind, seed), net)
    layers = []
    top = {id(m) for m in net.children()}
    for m in net.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            layers.append({"running_mean": _num(m.running_mean), "running_var": _num(m.running_var),
                           "top_level": id(m) in top,
                           "num_batches_tracked": _num(m.num_batches_tracked),
                           "momentum": m.momentum if isinstance(m.momentum, (int, float)) else None,
                           "training": bool(m.training)})
    return {"layers": layers, "training": [bool(m.training) for m in net.modules()],
            "params_unchanged": all(torch.equal(p, before[n]) for n, p in net.named_parameters())}


# ---------------------------------------------------------------- visible checks
def _batch_norm_torch(x, gamma, beta, rm, rv, training, momentum, eps):
    rm_t, rv_t = torch.tensor(np.array(rm, float)), torch.tensor(np.array(rv, float))
    out = F.batch_norm(torch.tensor(x), rm_t, rv_t, torch.tensor(gamma), torch.tensor(beta),
                       training=training, momentum=momentum, eps=eps)
    return out.numpy(), rm_t.numpy(), rv_t.numpy()


def _triple(result, what):
    if not (isinstance(result, tuple) and len(result) == 3):
        _fail(f"{what} should return a tuple (out, new_running_mean, new_running_var)")
    return [np.asarray(r, dtype=float) for r in result]


def _close(a, b, rtol=1e-9, atol=1e-10):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol))


def check_forward(batch_norm_forward) -> None:
    """Visible checks of the numpy forward pass against torch.nn.functional.batch_norm (float64)."""
    rng = np.random.default_rng(61)
    x = make_batch((8, 3), 61_000)
    gamma, beta = np.array([1.5, 0.5, 2.0]), np.array([0.1, -1.0, 0.3])
    rm, rv = np.array([0.5, -1.0, 0.0]), np.array([2.0, 0.5, 1.5])
    what = "batch_norm_forward in training mode on an 8x3 batch"
    out, nrm, nrv = _triple(batch_norm_forward(x.copy(), gamma, beta, rm.copy(), rv.copy(), True, 0.1, 1e-5), what)
    want, wrm, wrv = _batch_norm_torch(x, gamma, beta, rm, rv, True, 0.1, 1e-5)
    if not _close(out, want):
        if out.shape == want.shape and _close(out, gamma * (x - x.mean(1, keepdims=True))
                                              / np.sqrt(x.var(1, keepdims=True) + 1e-5) + beta):
            _fail(f"{what}: {HINTS['wrong_axis']}")
        if _close(out, gamma * (x - x.mean(0)) / (np.sqrt(x.var(0)) + 1e-5) + beta):
            _fail(f"{what}: {HINTS['eps_outside']}")
        if _close(out, gamma * (x - x.mean(0)) / np.sqrt(x.var(0, ddof=1) + 1e-5) + beta):
            _fail(f"{what}: {HINTS['unbiased_normalization']}")
        if _close(out, _batch_norm_torch(x, gamma, beta, rm, rv, False, 0.1, 1e-5)[0]):
            _fail(f"{what}: {HINTS['running_in_training']}")
        _fail(f"{what}: the output differs from torch.nn.functional.batch_norm")
    if _close(nrm, rm) and _close(nrv, rv):
        _fail(f"{what}: {HINTS['never_updated']}")
    m, v, vu = x.mean(0), x.var(0), x.var(0, ddof=1)
    if _close(nrm, 0.9 * m + 0.1 * rm):
        _fail(f"{what}: {HINTS['reversed_momentum']}")
    if _close(nrv, 0.9 * rv + 0.1 * v):
        _fail(f"{what}: {HINTS['biased_running_var']}")
    if not (_close(nrm, wrm) and _close(nrv, wrv)):
        _fail(f"{what}: the new running statistics differ from torch's")
    # eval mode, with running statistics far from the batch's
    what = "batch_norm_forward in eval mode"
    out, nrm, nrv = _triple(batch_norm_forward(x.copy(), gamma, beta, rm.copy(), rv.copy(), False, 0.1, 1e-5), what)
    want, _, _ = _batch_norm_torch(x, gamma, beta, rm, rv, False, 0.1, 1e-5)
    if not (_close(nrm, rm) and _close(nrv, rv)):
        _fail(f"{what}: {HINTS['updated_in_eval']}")
    if not _close(out, want):
        if _close(out, _batch_norm_torch(x, gamma, beta, rm, rv, True, 0.1, 1e-5)[0]):
            _fail(f"{what}: {HINTS['batch_at_eval']}")
        if _close(out, gamma * (x - rm) / (np.sqrt(rv) + 1e-5) + beta):
            _fail(f"{what}: {HINTS['eps_outside']}")
        _fail(f"{what}: the output differs from torch.nn.functional.batch_norm")
    # a 3-D input and a large eps
    x3 = make_batch((4, 3, 5), 62_000)
    what = "batch_norm_forward in training mode on a (4, 3, 5) input with eps=0.5"
    out, nrm, nrv = _triple(batch_norm_forward(x3.copy(), gamma, beta, rm.copy(), rv.copy(), True, 0.2, 0.5), what)
    want, wrm, wrv = _batch_norm_torch(x3, gamma, beta, rm, rv, True, 0.2, 0.5)
    if not _close(out, want):
        if out.shape != want.shape:
            _fail(f"{what}: out must have the input's shape {want.shape}")
        per_position = gamma[:, None] * (x3 - x3.mean(0)) / np.sqrt(x3.var(0) + 0.5) + beta[:, None]
        if _close(out, per_position):
            _fail(f"{what}: {HINTS['wrong_axis']}")
        _fail(f"{what}: the output differs from torch's (is eps used as given, inside the square root?)")
    if nrm.shape != wrm.shape or nrv.shape != wrv.shape:
        _fail(f"{what}: the running statistics must have shape {wrm.shape}: {HINTS['wrong_axis']}")
    if _close(nrm, _batch_norm_torch(x3, gamma, beta, rm, rv, True, 0.1, 0.5)[1]):
        _fail(f"{what}: {HINTS['momentum_ignored']}")
    if not (_close(nrm, wrm) and _close(nrv, wrv)):
        _fail(f"{what}: the new running statistics differ from torch's")
    del rng


def check_backward(batch_norm_backward) -> None:
    """Visible checks of the numpy backward pass against torch autograd (float64)."""
    x = make_batch((6, 4), 71_000)
    gamma = np.array([1.0, 0.5, 2.0, -1.0])
    g = output_weights((6, 4), 71)
    xt = torch.tensor(x, requires_grad=True)
    gt = torch.tensor(gamma, requires_grad=True)
    bt = torch.zeros(4, dtype=torch.float64, requires_grad=True)
    (F.batch_norm(xt, None, None, gt, bt, training=True, eps=1e-5) * torch.tensor(g)).sum().backward()
    result = batch_norm_backward(g.copy(), x.copy(), gamma.copy(), 1e-5)
    what = "batch_norm_backward on a 6x4 batch"
    if not (isinstance(result, tuple) and len(result) == 3):
        _fail(f"{what} should return a tuple (grad_x, grad_gamma, grad_beta)")
    dx, dg, db = (np.asarray(r, float) for r in result)
    s_out = np.sqrt(x.var(0)) + 1e-5
    xh_out = (x - x.mean(0)) / s_out
    if _close(dg, (g * xh_out).sum(0)) and not _close(dg, gt.grad.numpy()):
        _fail(f"{what}: {HINTS['eps_outside']}")
    if not _close(db, bt.grad.numpy()):
        _fail(f"{what}: grad_beta differs from autograd's (it is the sum of grad_out over the batch)")
    if not _close(dg, gt.grad.numpy()):
        _fail(f"{what}: grad_gamma differs from autograd's (it is the sum of grad_out * x_hat over the batch)")
    if not _close(dx, xt.grad.numpy()):
        sigma = np.sqrt(x.var(0) + 1e-5)
        xh = (x - x.mean(0)) / sigma
        if _close(dx, gamma * g / sigma):
            _fail(f"{what}: {HINTS['backward_no_paths']}")
        if _close(dx, gamma / sigma * (g - g.mean(0))):
            _fail(f"{what}: {HINTS['backward_no_var_path']}")
        if _close(dx, gamma / sigma * (g - xh * (g * xh).mean(0))):
            _fail(f"{what}: {HINTS['backward_no_mean_path']}")
        _fail(f"{what}: grad_x differs from autograd's")


def check_module(BatchNorm1d) -> None:
    """Visible checks of a ``BatchNorm1d`` nn.Module against torch.nn.BatchNorm1d (float64)."""
    if not (isinstance(BatchNorm1d, type) and issubclass(BatchNorm1d, nn.Module)):
        _fail("BatchNorm1d must be a class that subclasses torch.nn.Module")
    for kwargs, plan, shape, what in [
        ({}, "ttte", (10, 3), "BatchNorm1d(3): three training batches, then eval"),
        ({"momentum": None}, "ttte", (10, 3), "BatchNorm1d(3, momentum=None)"),
        ({"affine": False}, "tte", (6, 2, 4), "BatchNorm1d(2, affine=False) on (6, 2, 4) inputs"),
        ({"track_running_stats": False}, "te", (7, 3), "BatchNorm1d(3, track_running_stats=False)"),
    ]:
        got = module_run(BatchNorm1d, kwargs, plan, shape, seed=3)
        want = module_run(nn.BatchNorm1d, kwargs, plan, shape, seed=3)
        msg = diagnose_module(got, want, kwargs, plan, shape, seed=3)
        if msg:
            _fail(f"{what}: {msg}")
    got = raises_run(BatchNorm1d, {}, (1, 3), training=True)
    if got != "ValueError":
        _fail(f"BatchNorm1d(3) on a (1, 3) batch in training mode: {HINTS['batch_of_one']} (got {got})")
    info = state_dict_run(BatchNorm1d, {}, (8, 3), seed=4)
    want_keys = sorted(nn.BatchNorm1d(3).state_dict())
    if info["keys"] != want_keys:
        _fail(f"BatchNorm1d(3).state_dict() has the keys {info['keys']}; torch's has {want_keys}: register the "
              "parameters as weight and bias, the statistics as buffers (register_buffer) running_mean, "
              "running_var and num_batches_tracked")


# ---------------------------------------------------------------- diagnosis of a module run, shared with the grader
# The named mistakes of the running statistics that simulate_running models (besides "never_updated"), in the order
# _diagnose_running tries them.
RUNNING_MISTAKES = ("reversed_momentum", "biased_running_var", "updated_in_eval", "nbt_ignored", "nbt_not_counted",
                    "momentum_at_init", "unbiased_factor_n")


def simulate_running(kwargs, plan, shape, seed, bug=None, shift=0.0):
    """The running statistics and num_batches_tracked that ``module_run`` should leave (numpy), or those a named
    mistake leaves: ``bug`` None, "never_updated" or one of ``RUNNING_MISTAKES``."""
    c = int(shape[1])
    axes = (0,) if len(shape) == 2 else (0, 2)
    momentum = dict(kwargs).get("momentum", 0.1)
    rm, rv, count = np.zeros(c), np.ones(c), 0
    for k, mode in enumerate(plan):
        if mode in MOMENTUM_CHANGES:
            if bug != "momentum_at_init":
                momentum = MOMENTUM_CHANGES[mode]
            continue
        if mode != "t" and bug != "updated_in_eval":
            continue
        x = shifted_batch(shape, seed * 1000 + k, shift)
        m = np.float64(shape[0] if bug == "unbiased_factor_n" else x.size // c)
        if bug != "nbt_not_counted" or momentum is None:
            count += 1
        if bug == "never_updated":
            continue
        factor = momentum if momentum is not None else (0.1 if bug == "nbt_ignored" else 1.0 / count)
        if bug == "reversed_momentum":
            factor = 1 - factor
        with np.errstate(divide="ignore", invalid="ignore"):
            var = x.var(axis=axes) * (1 if bug == "biased_running_var" else m / (m - 1))
        rm = (1 - factor) * rm + factor * x.mean(axis=axes)
        rv = (1 - factor) * rv + factor * var
    return rm, rv, count


def _normalized(x, mean, var, eps, axes):
    shape = (1, -1) if x.ndim == 2 else (1, -1, 1)
    return (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)


def step_models(x, eps, mode):
    """key -> the forms of that named mistake's output (normalized, before weight and bias) on the batch ``x`` of a
    training ("t") or eval ("e") step of ``module_run``. diagnose_module_keyed names the mistake whose first form an
    output matches; the grader rules out the mistakes whose every form fails. A later form is a way of making the
    mistake that is right on this input: statistics over axis 0 alone, as if every input were (N, C)."""
    axes = (0,) if x.ndim == 2 else (0, 2)
    sh = (1, -1) if x.ndim == 2 else (1, -1, 1)
    mean, var = x.mean(axis=axes), x.var(axis=axes)
    if mode == "e":
        return {"batch_at_eval": [_normalized(x, mean, var, eps, axes)]}
    if x.ndim == 3:
        wrong_axis = [(x - x.mean(0)) / np.sqrt(x.var(0) + eps)]
    else:
        wrong_axis = [(x - x.mean(1, keepdims=True)) / np.sqrt(x.var(1, keepdims=True) + eps),
                      _normalized(x, mean, var, eps, axes)]
    return {"unbiased_normalization": [_normalized(x, mean, x.var(axis=axes, ddof=1), eps, axes)],
            "eps_outside": [(x - mean.reshape(sh)) / (np.sqrt(var.reshape(sh)) + eps)],
            "wrong_axis": wrong_axis}


def _cancelled(got, want, rtol, atol):
    """Do ``got`` and ``want`` (channels on axis 1, or a (C,) vector) agree on every channel but channel 0, which
    is off by a little (< 1e-2 relative): the signature of a variance that cancels on the large-mean channel 0?"""
    if got is None or want is None:
        return False
    got, want = np.asarray(got, float), np.asarray(want, float)
    if got.shape != want.shape or got.ndim == 0 or not np.all(np.isfinite(got)):
        return False
    g, w = np.moveaxis(got, min(1, got.ndim - 1), 0), np.moveaxis(want, min(1, want.ndim - 1), 0)
    if g.shape[0] < 2 or not _close(g[1:], w[1:], rtol=rtol, atol=atol) or _close(g[0], w[0], rtol=rtol, atol=atol):
        return False
    return _close(g[0], w[0], rtol=1e-2, atol=1e-2 * float(np.max(np.abs(w[0]))))


def _diagnose_running(got, want, kwargs, plan, shape, seed, close, shift=0.0):
    """(message, key) for the running statistics, or (None, None)."""
    rm, rv = got["running_mean"], got["running_var"]
    if close(rm, want["running_mean"]) and close(rv, want["running_var"]):
        nbt, want_nbt = got["num_batches_tracked"], want["num_batches_tracked"]
        if nbt is None or not close(nbt, want_nbt):
            return HINTS["nbt_not_counted"], "nbt_not_counted"
        return None, None
    if rm is None or rv is None:
        return "the layer has no running_mean and running_var buffers", None
    if got.get("running_requires_grad"):
        return HINTS["running_in_graph"], "running_in_graph"
    never = simulate_running(kwargs, plan, shape, seed, "never_updated", shift)
    if _close(rm, never[0]) and _close(rv, never[1]) and "t" in plan:
        return HINTS["never_updated"], "never_updated"
    right = simulate_running(kwargs, plan, shape, seed, None, shift)
    for bug in RUNNING_MISTAKES:
        brm, brv, _ = simulate_running(kwargs, plan, shape, seed, bug, shift)
        if _close(rm, brm, rtol=1e-6, atol=1e-6) and _close(rv, brv, rtol=1e-6, atol=1e-6) \
                and not (_close(brm, right[0]) and _close(brv, right[1])):
            return HINTS[bug], bug
    if shift and _close(rm, want["running_mean"], rtol=1e-9, atol=1e-9) \
            and _cancelled(rv, want["running_var"], 1e-9, 1e-9):
        return HINTS["var_cancellation"], "var_cancellation"
    return "the running statistics differ from torch's", None


def diagnose_module(got, want, kwargs, plan, shape, seed, rtol=1e-9, atol=1e-9, shift=0.0):
    """What differs between ``module_run`` of the answer (``got``) and of torch (``want``): a message naming the
    mistake, or None when they agree."""
    return diagnose_module_keyed(got, want, kwargs, plan, shape, seed, rtol, atol, shift)[0]


def diagnose_module_keyed(got, want, kwargs, plan, shape, seed, rtol=1e-9, atol=1e-9, shift=0.0):
    """:func:`diagnose_module` as ``(message, key)``: ``key`` names the HINTS entry the answer was verified to
    match (None when the message only says what differs); ``(None, None)`` when the answer agrees with torch."""
    kwargs = dict(kwargs)
    close = lambda a, b: a is not None and b is not None and _close(a, b, rtol=rtol, atol=atol)  # noqa: E731
    tracking = kwargs.get("track_running_stats", True)
    if tracking and not {"running_mean", "running_var", "num_batches_tracked"} <= set(got["buffer_names"]):
        return ("running_mean, running_var and num_batches_tracked must be buffers (register_buffer), so that they "
                "move with .double() and .to() and appear in state_dict()"), "plain_attributes"
    running_msg, running_key = (_diagnose_running(got, want, kwargs, plan, shape, seed, close, shift) if tracking
                                else (None, None))
    sh = (1, -1) if len(shape) == 2 else (1, -1, 1)
    eps = kwargs.get("eps", 1e-5)
    changed = False
    for k, (g, w) in enumerate(zip(got["steps"], want["steps"])):
        if plan[k] in MOMENTUM_CHANGES:
            changed = True
            continue
        mode = "training" if plan[k] == "t" else "eval"
        if "error" in g and "error" not in w:
            if changed:  # every step before the change agreed with torch: the change broke it
                return (f"after layer.momentum was changed, the forward pass in {mode} mode raised {g['error']}: "
                        + HINTS["momentum_at_init"]), "momentum_at_init"
            return f"the forward pass in {mode} mode raised {g['error']}", None
        if "error" in w:
            continue
        if g.get("dtype") != w.get("dtype"):
            return f"{HINTS['dtype']} (yours: {g.get('dtype')})", "dtype"
        if g.get("backward_error") and not w.get("backward_error"):
            if got.get("running_requires_grad"):
                return HINTS["running_in_graph"], "running_in_graph"
            return f"backward through the output in {mode} mode raised {g['backward_error']}", None
        if not close(g["out"], w["out"]):
            x = shifted_batch(shape, seed * 1000 + k, shift)
            ga = np.asarray(g["out"]) if g["out"] is not None else None
            if ga is None or ga.shape != tuple(shape):
                return f"the output of the forward pass must have the input's shape {tuple(shape)}", None
            if shift and plan[k] == "t" and _cancelled(ga, w["out"], rtol, atol):
                return HINTS["var_cancellation"], "var_cancellation"
            if "weight" in want["param_names"]:
                gam, bet = affine_values(int(shape[1]), seed)
                ga = (ga - bet.reshape(sh)) / gam.reshape(sh)
            models = step_models(x, eps, plan[k])
            loose = dict(rtol=1e-6, atol=1e-6)
            if plan[k] == "e" and tracking and _close(ga, models["batch_at_eval"][0], **loose):
                return HINTS["batch_at_eval"], "batch_at_eval"
            if plan[k] == "e" and running_msg:
                return running_msg, running_key
            if plan[k] == "t":
                for key in ("unbiased_normalization", "eps_outside", "wrong_axis"):
                    if _close(ga, models[key][0], **loose):
                        return HINTS[key], key
            return f"the output in {mode} mode (step {k + 1}) differs from torch.nn.BatchNorm1d's", None
        for key in ("grad_x", "grad_weight", "grad_bias"):
            if w.get(key) is not None and not close(g.get(key), w[key]):
                if shift and _cancelled(g.get(key), w[key], rtol, atol):
                    return HINTS["var_cancellation"], "var_cancellation"
                return (f"the gradient {key} in {mode} mode differs from torch's (write the forward pass with torch "
                        "operations on the input, so that autograd sees them; weight and bias must be "
                        "nn.Parameter)"), None
    if sorted(got["param_names"]) != sorted(want["param_names"]):
        return (f"the parameters are {got['param_names']}, torch's are {want['param_names']} "
                "(affine=True: parameters weight and bias; affine=False: none)"), None
    if not tracking:
        if got["running_mean"] is not None or got["running_var"] is not None:
            return ("with track_running_stats=False there are no running statistics: running_mean and running_var "
                    "are None (register_buffer(name, None)), as in torch"), None
        return None, None
    return running_msg, running_key


def _bn_layers(net):
    return [m for m in net.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]


def _passes(batches, net):
    """Forward passes in training mode without gradients, the layers as they are: an exponential moving average
    from the old statistics (bn_not_reset)."""
    was = net.training
    net.train()
    with torch.no_grad():
        for b in batches:
            net(b[0] if isinstance(b, (list, tuple)) else b)
    net.train(was)


def _passes_after_reset(batches, net):
    """The statistics reset, but momentum left as it is: an exponential moving average (bn_ema)."""
    for m in _bn_layers(net):
        m.reset_running_stats()
    _passes(batches, net)


def _passes_not_reset(batches, net):
    """momentum=None, but the old statistics and counts are kept (bn_not_reset)."""
    layers = _bn_layers(net)
    momenta = [m.momentum for m in layers]
    for m in layers:
        m.momentum = None
    _passes(batches, net)
    for m, momentum in zip(layers, momenta):
        m.momentum = momentum


def _passes_count_kept(batches, net):
    """The statistics reset by hand, num_batches_tracked left as it was (bn_count_not_reset)."""
    layers = _bn_layers(net)
    momenta = [m.momentum for m in layers]
    for m in layers:
        m.running_mean.zero_()
        m.running_var.fill_(1.0)
        m.momentum = None
    _passes(batches, net)
    for m, momentum in zip(layers, momenta):
        m.momentum = momentum


def no_pass(batches, net):
    """Nothing changes the statistics, as a pass in eval mode (bn_eval_pass; reset first, see
    :func:`reset_statistics`)."""


def reset_statistics(layers) -> bool:
    """Do the layers of an ``update_bn_run`` hold reset statistics (zeros and ones): reset, then a pass in eval mode
    (bn_eval_pass)?"""
    return all(_close(g["running_mean"], np.zeros_like(g["running_mean"]))
               and _close(g["running_var"], np.ones_like(g["running_var"])) for g in layers)


# The named mistakes of update_bn as update_bn functions, in the order diagnose_update_bn tries them (shared with the
# grader, which rules out those whose every form fails a scenario); bn_eval_pass: no_pass and reset_statistics.
UPDATE_BN_MISTAKES = ((_passes, "bn_not_reset"), (_passes_after_reset, "bn_ema"), (_passes_not_reset, "bn_not_reset"),
                      (_passes_count_kept, "bn_count_not_reset"))


def diagnose_update_bn(got, want, net_name, kind, mode, seed, rtol=1e-9):
    """What differs between ``update_bn_run`` of the answer and of torch.optim.swa_utils.update_bn."""
    if len(got["layers"]) != len(want["layers"]):
        return "the network's BatchNorm layers changed"
    same = all(_close(g["running_mean"], w["running_mean"], rtol) and _close(g["running_var"], w["running_var"], rtol)
               for g, w in zip(got["layers"], want["layers"]))
    if not same:
        before = update_bn_run(no_pass, net_name, kind, mode, seed)
        if all(_close(g["running_mean"], b["running_mean"]) for g, b in zip(got["layers"], before["layers"])) \
                or reset_statistics(got["layers"]):
            return HINTS["bn_eval_pass"]
        for fn, hint in UPDATE_BN_MISTAKES:
            alt = update_bn_run(fn, net_name, kind, mode, seed)
            if all(_close(g["running_mean"], a["running_mean"], 1e-7) and _close(g["running_var"], a["running_var"],
                                                                                   1e-7)
                   for g, a in zip(got["layers"], alt["layers"])):
                return HINTS[hint]
        return "the running statistics differ from those of torch.optim.swa_utils.update_bn"
    if [g["momentum"] for g in got["layers"]] != [w["momentum"] for w in want["layers"]]:
        return HINTS["bn_momentum_not_restored"]
    if got["training"] != want["training"]:
        return HINTS["bn_mode_not_restored"]
    if not got["params_unchanged"]:
        return "the network's parameters changed: update_bn only runs forward passes (under torch.no_grad())"
    if not all(_close(g["num_batches_tracked"], w["num_batches_tracked"]) for g, w in
               zip(got["layers"], want["layers"])):
        return "num_batches_tracked differs from torch's (reset it with the statistics: reset_running_stats())"
    return None


def check_update_bn(update_bn) -> None:
    """Visible checks of ``update_bn(batches, net)`` against torch.optim.swa_utils.update_bn."""
    from torch.optim.swa_utils import update_bn as oracle

    for kind, mode in (("tensor", "eval"), ("tuple", "train")):
        got = update_bn_run(update_bn, "visible", kind, mode, seed=2)
        want = update_bn_run(oracle, "visible", kind, mode, seed=2)
        msg = diagnose_update_bn(got, want, "visible", kind, mode, seed=2)
        if msg:
            _fail(f"update_bn on a small MLP in {mode} mode, batches as {kind}s: {msg}")
