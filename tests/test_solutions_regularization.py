"""The Chapter 2 reference answers against independent oracles:
scikit-learn's Ridge, float64 centered differences, torch autograd and torch.optim.SGD."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.linear_model import Ridge
from torch import nn

from coursekit.checks import numerical_gradient
from coursekit.data import make_regression
from solutions import regularization as ref


@pytest.mark.parametrize("lam", [0.0, 0.01, 1.0, 30.0])
def test_ridge_fit_matches_sklearn(lam):
    X, y, _ = make_regression(n_samples=50, n_features=8, correlation=0.7, seed=3)
    w, b = ref.ridge_fit(X, y, lam)
    sk = Ridge(alpha=len(X) * lam, solver="svd").fit(X, y)
    np.testing.assert_allclose(w, sk.coef_, rtol=1e-9, atol=1e-11)
    assert b == pytest.approx(sk.intercept_, rel=1e-9)


def test_ridge_fit_is_a_stationary_point_of_the_objective():
    X, y, _ = make_regression(n_samples=40, n_features=5, seed=4)
    w, b = ref.ridge_fit(X, y, 0.2)
    _, gw, gb = ref.ridge_loss_and_grad(w, b, X, y, 0.2)
    np.testing.assert_allclose(gw, 0.0, atol=1e-12)
    assert abs(gb) < 1e-12


@pytest.mark.parametrize("lam", [0.0, 0.5, 7.0])
def test_gradient_matches_centered_differences_and_autograd(lam):
    rng = np.random.default_rng(5)
    X, y = rng.standard_normal((12, 4)), rng.standard_normal(12)
    w, b = rng.standard_normal(4), 0.3
    loss, gw, gb = ref.ridge_loss_and_grad(w, b, X, y, lam)
    np.testing.assert_allclose(gw, numerical_gradient(lambda v: ref.ridge_loss_and_grad(v, b, X, y, lam)[0], w),
                               rtol=1e-7, atol=1e-9)
    wt = torch.tensor(w, requires_grad=True)
    bt = torch.tensor(b, requires_grad=True, dtype=torch.float64)
    r = torch.tensor(X) @ wt + bt - torch.tensor(y)
    J = (r @ r) / (2 * len(y)) + lam / 2 * (wt @ wt)
    J.backward()
    assert loss == pytest.approx(J.item(), rel=1e-12)
    np.testing.assert_allclose(gw, wt.grad.numpy(), rtol=1e-12)
    assert gb == pytest.approx(bt.grad.item(), rel=1e-12, abs=1e-15)


def test_penalty_gradient_is_torch_weight_decay():
    """One SGD step with weight_decay=lam equals a step on the loss + our penalty."""
    torch.manual_seed(0)
    w0 = torch.randn(6, dtype=torch.float64)
    g = torch.randn(6, dtype=torch.float64)
    p = w0.clone().requires_grad_()
    opt = torch.optim.SGD([p], lr=0.1, weight_decay=0.3)
    p.grad = g.clone()
    opt.step()
    q = w0.clone().requires_grad_()
    (q @ g + 0.3 / 2 * (q @ q)).backward()  # a linear loss with gradient g, plus the penalty
    np.testing.assert_allclose(p.detach().numpy(), (w0 - 0.1 * q.grad).numpy(), rtol=1e-14)
    assert ref.l2_penalty(w0.numpy(), 0.3) == pytest.approx(0.15 * float(w0 @ w0), rel=1e-14)


def test_decay_groups_skip_biases_and_norms_and_cover_everything():
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 4, bias=False), nn.LayerNorm(4),
                        nn.Linear(4, 1))
    decay, keep = ref.decay_param_groups(net, 0.1)
    assert {id(p) for p in decay["params"]} == {id(net[0].weight), id(net[2].weight), id(net[4].weight)}
    assert len(decay["params"]) + len(keep["params"]) == len(list(net.parameters()))
    assert decay["weight_decay"] == 0.1 and keep["weight_decay"] == 0.0
    torch.optim.SGD([decay, keep], lr=0.1)


def test_select_lambda_picks_the_validation_minimum():
    X, y, _ = make_regression(n_samples=80, n_features=10, correlation=0.9, noise=2.0, seed=6)
    lams = np.logspace(-5, 1, 13)
    best, errors = ref.select_lambda(X[:40], y[:40], X[40:], y[40:], lams)
    assert best == lams[np.argmin(errors)]
    w, b = ref.ridge_fit(X[:40], y[:40], lams[3])
    assert errors[3] == pytest.approx(np.mean((X[40:] @ w + b - y[40:]) ** 2))
