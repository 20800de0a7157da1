"""The Chapter 4 reference answers against their oracles: torch.nn.Dropout, torch autograd, and the statistics
of inverted dropout (fraction dropped p, E[out] = x, Var[out / x] = p / (1 - p))."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from coursekit.checks.dropout import build_mc_net, diagnose_stats, forward_stats, module_stats
from solutions import dropout as ref


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_forward_statistics_and_torch_agree(p):
    ours = forward_stats(ref.dropout_forward, (400, 300), p, seed=1)
    assert diagnose_stats(ours, p, "ours") is None
    theirs = module_stats(nn.Dropout, p, (400, 300), seed=1)
    assert diagnose_stats(theirs, p, "torch") is None       # the statistics judge torch's own dropout right
    for key in ("frac_zero", "mean"):
        assert ours[key] == pytest.approx(theirs[key], abs=0.01)
    assert ours["var"] == pytest.approx(p / (1 - p), rel=0.05)
    assert theirs["var"] == pytest.approx(p / (1 - p), rel=0.05)


def test_forward_edge_cases_and_dtype():
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    out, mask = ref.dropout_forward(x, 1.0, np.random.default_rng(1))
    assert out.dtype == np.float32 and not out.any() and not mask.any()
    out, mask = ref.dropout_forward(x, 0.0, np.random.default_rng(1))
    assert np.array_equal(out, x) and mask.all()
    out, mask = ref.dropout_forward(x, 0.25, np.random.default_rng(1))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(mask, np.random.default_rng(1).random(x.shape) >= 0.25)


@pytest.mark.parametrize("p", [0.0, 0.3, 0.9, 1.0])
def test_backward_is_autograd_of_forward_with_the_same_mask(p):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 5))
    grad_out = rng.standard_normal((4, 5))
    out, mask = ref.dropout_forward(x, p, np.random.default_rng(3))
    xt = torch.tensor(x, requires_grad=True)
    scale = 0.0 if p == 1 else 1 / (1 - p)
    yt = xt * torch.tensor(mask) * scale
    np.testing.assert_allclose(yt.detach().numpy(), out, rtol=1e-12)
    yt.backward(torch.tensor(grad_out))
    np.testing.assert_allclose(ref.dropout_backward(grad_out, mask, p), xt.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("p", [0.0, 0.3, 1.0])
def test_module_matches_torch_in_eval_and_at_the_edges(p):
    x = torch.randn(2, 3, 4, dtype=torch.float64)
    for layer in (ref.Dropout(p), nn.Dropout(p)):
        layer.eval()
        assert torch.equal(layer(x), x)
        layer.train()
        if p in (0.0, 1.0):
            assert torch.equal(layer(x), x if p == 0 else torch.zeros_like(x))


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_module_rejects_p_like_torch(p):
    with pytest.raises(ValueError):
        nn.Dropout(p)
    with pytest.raises(ValueError):
        ref.Dropout(p)


def test_module_with_a_generator_is_reproducible_and_differentiable():
    x = torch.randn(5, 6, dtype=torch.float64, requires_grad=True)
    layer = ref.Dropout(0.4, generator=torch.Generator().manual_seed(7))
    out = layer(x)
    mask = torch.rand(x.shape, dtype=x.dtype, generator=torch.Generator().manual_seed(7)) >= 0.4
    assert torch.allclose(out, x * mask / 0.6, rtol=1e-14)
    out.sum().backward()
    assert torch.allclose(x.grad, mask.double() / 0.6, rtol=1e-14)
    assert layer(x.float()).dtype == torch.float32


def test_mc_dropout_predict_equals_a_manual_loop_and_restores_modes():
    net = build_mc_net("batchnorm")
    net.train()
    net[1].eval()
    modes = [m.training for m in net.modules()]
    x = torch.randn(6, 5, dtype=torch.float64)
    torch.manual_seed(3)
    mean, std = ref.mc_dropout_predict(net, x, num_samples=25)
    assert [m.training for m in net.modules()] == modes
    reference = build_mc_net("batchnorm").eval()
    reference[3].train()
    torch.manual_seed(3)
    with torch.no_grad():
        samples = torch.stack([reference(x) for _ in range(25)])
    assert torch.allclose(mean, samples.mean(0), rtol=1e-12)
    assert torch.allclose(std, samples.std(0), rtol=1e-12)
    assert not mean.requires_grad and not std.requires_grad
