"""solutions/batch_norm.py against its oracles: torch.nn.functional.batch_norm, torch autograd,
torch.nn.BatchNorm1d and torch.optim.swa_utils.update_bn (float64 throughout)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.optim.swa_utils import update_bn as torch_update_bn

from coursekit.checks.batch_norm import module_run, state_dict_run, update_bn_run
from solutions import batch_norm as ref


def _inputs(shape, seed):
    rng = np.random.default_rng(seed)
    c = shape[1]
    x = rng.normal(rng.normal(0, 2, c)[(slice(None),) + (None,) * (len(shape) - 2)], 1.5, shape)
    return x, rng.uniform(0.5, 2, c), rng.normal(0, 1, c), rng.normal(0, 1, c), rng.uniform(0.5, 2, c)


@pytest.mark.parametrize("shape", [(7, 3), (2, 4), (4, 3, 5), (1, 2, 6)])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("momentum,eps", [(0.1, 1e-5), (0.0, 0.5), (1.0, 1e-3), (0.37, 1e-5)])
def test_forward_matches_functional_batch_norm(shape, training, momentum, eps):
    x, g, b, rm, rv = _inputs(shape, 0)
    rm_t, rv_t = torch.tensor(rm), torch.tensor(rv)
    want = F.batch_norm(torch.tensor(x), rm_t, rv_t, torch.tensor(g), torch.tensor(b), training=training,
                        momentum=momentum, eps=eps)
    before = (rm.copy(), rv.copy())
    out, new_rm, new_rv = ref.batch_norm_forward(x, g, b, rm, rv, training, momentum, eps)
    np.testing.assert_allclose(out, want.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(new_rm, rm_t.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(new_rv, rv_t.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(rm, before[0])   # the inputs are not modified
    np.testing.assert_array_equal(rv, before[1])


def test_forward_rejects_a_single_value_per_channel_in_training():
    x, g, b, rm, rv = _inputs((1, 3), 1)
    with pytest.raises(ValueError):
        ref.batch_norm_forward(x, g, b, rm, rv, True)
    ref.batch_norm_forward(x, g, b, rm, rv, False)  # eval mode is fine


@pytest.mark.parametrize("shape,eps", [((6, 4), 1e-5), ((2, 3), 1e-5), ((9, 2), 0.8)])
def test_backward_matches_autograd(shape, eps):
    x, g, b, _, _ = _inputs(shape, 2)
    g[0] = -g[0]
    grad = np.random.default_rng(3).standard_normal(shape)
    xt, gt, bt = (torch.tensor(v, requires_grad=True) for v in (x, g, b))
    (F.batch_norm(xt, None, None, gt, bt, training=True, eps=eps) * torch.tensor(grad)).sum().backward()
    dx, dg, db = ref.batch_norm_backward(grad, x, g, eps)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(dg, gt.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(db, bt.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("kwargs", [{}, {"momentum": None}, {"momentum": 0.4}, {"affine": False},
                                    {"track_running_stats": False}, {"eps": 0.5, "momentum": None}])
@pytest.mark.parametrize("shape", [(8, 3), (3, 2, 5)])
def test_module_matches_torch(kwargs, shape):
    plan = "ttetet"
    got = module_run(ref.BatchNorm1d, kwargs, plan, shape, seed=4)
    want = module_run(nn.BatchNorm1d, kwargs, plan, shape, seed=4)
    assert got["param_names"] == want["param_names"] and got["buffer_names"] == want["buffer_names"]
    for g, w in zip(got["steps"], want["steps"]):
        for key in ("out", "grad_x", "grad_weight", "grad_bias"):
            if w.get(key) is None:
                assert g.get(key) is None
            else:
                np.testing.assert_allclose(g[key], w[key], rtol=1e-10, atol=1e-12)
    for key in ("running_mean", "running_var", "num_batches_tracked"):
        if want[key] is None:
            assert got[key] is None
        else:
            np.testing.assert_allclose(got[key], want[key], rtol=1e-12)


@pytest.mark.parametrize("kwargs,plan,shape,shift", [({}, "ttNtte", (8, 3), 0.0), ({"momentum": None}, "ttQte", (8, 3), 0.0),
                                                     ({}, "tte", (1, 3, 6), 0.0), ({}, "tte", (12, 3), 1e5)])
def test_module_matches_torch_with_momentum_changes_and_edge_batches(kwargs, plan, shape, shift):
    """momentum changed between batches (read at every forward), a (1, C, L) batch, a channel with a large mean."""
    got = module_run(ref.BatchNorm1d, kwargs, plan, shape, seed=4, shift=shift)
    want = module_run(nn.BatchNorm1d, kwargs, plan, shape, seed=4, shift=shift)
    for g, w in zip(got["steps"], want["steps"], strict=True):
        for key in ("out", "grad_x", "grad_weight", "grad_bias"):
            if w.get(key) is not None:
                np.testing.assert_allclose(g[key], w[key], rtol=1e-9, atol=1e-9)
        assert g.get("dtype") == w.get("dtype")
    for key in ("running_mean", "running_var", "num_batches_tracked"):
        np.testing.assert_allclose(got[key], want[key], rtol=1e-10)


@pytest.mark.parametrize("kwargs", [{}, {"momentum": None}])
def test_module_state_dict_round_trip(kwargs):
    got = state_dict_run(ref.BatchNorm1d, kwargs, (6, 3), seed=1)
    want = state_dict_run(nn.BatchNorm1d, kwargs, (6, 3), seed=1)
    assert got["keys"] == want["keys"] and got["nbt_dtype"] == "int64"
    assert got["to_torch_error"] is None and got["from_torch_error"] is None
    for key in ("torch_out", "answer_out", "continued_mean", "continued_var"):
        np.testing.assert_allclose(got[key], want[key], rtol=1e-12)


@pytest.mark.parametrize("shape,training", [((1, 3), True), ((1, 3, 4), True), ((1, 3), False), ((3,), True),
                                            ((2, 3, 4, 5), False)])
def test_module_accepts_and_rejects_inputs_as_torch(shape, training):
    outcome = {}
    for cls in (ref.BatchNorm1d, nn.BatchNorm1d):
        layer = cls(shape[1] if len(shape) > 1 else 3).double().train(training)
        try:
            layer(torch.ones(shape, dtype=torch.float64) + torch.arange(np.prod(shape)).reshape(shape))
            outcome[cls] = "ok"
        except ValueError:
            outcome[cls] = "ValueError"
    assert outcome[ref.BatchNorm1d] == outcome[nn.BatchNorm1d]


@pytest.mark.parametrize("net", ["mlp", "conv", "no_bn", "visible", "nested"])
@pytest.mark.parametrize("kind,mode", [("tensor", "eval"), ("tuple", "train"), ("list", "eval")])
def test_update_bn_matches_torch(net, kind, mode):
    got = update_bn_run(ref.update_bn, net, kind, mode)
    want = update_bn_run(torch_update_bn, net, kind, mode)
    assert got["training"] == want["training"] and got["params_unchanged"]
    for g, w in zip(got["layers"], want["layers"], strict=True):
        assert g["momentum"] == w["momentum"] and g["training"] == w["training"]
        for key in ("running_mean", "running_var", "num_batches_tracked"):
            np.testing.assert_allclose(g[key], w[key], rtol=1e-12)
