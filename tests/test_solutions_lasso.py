"""The Chapter 3 reference answers against independent oracles: scikit-learn's Lasso and lasso_path,
torch's softshrink, torch.optim.SGD, and one-sided differences of the objective."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.linear_model import Lasso, lasso_path

from coursekit.data import make_regression
from solutions import lasso as ref


def _sk(X, y, alpha):
    model = Lasso(alpha=alpha, tol=1e-14, max_iter=1_000_000).fit(X, y)
    return model.coef_, model.intercept_


def test_soft_threshold_is_torchs_softshrink():
    x = np.random.default_rng(0).standard_normal((5, 7)) * 2
    for t in (0.0, 0.3, 1.0, 10.0):
        want = torch.nn.functional.softshrink(torch.tensor(x), t).numpy()
        np.testing.assert_array_equal(ref.soft_threshold(x, t), want)
    assert ref.soft_threshold(np.array([-1.0, 1.0]), 1.0).tolist() == [0.0, 0.0]


@pytest.mark.parametrize("alpha", [1e-3, 0.05, 0.3, 2.0])
def test_lasso_fit_matches_sklearn(alpha):
    X, y, _ = make_regression(n_samples=50, n_features=8, n_informative=3, correlation=0.6, seed=3)
    X = X + np.arange(8)            # uncentred features
    w, b = ref.lasso_fit(X, y, alpha)
    sk_w, sk_b = _sk(X, y, alpha)
    np.testing.assert_allclose(w, sk_w, rtol=1e-9, atol=1e-11)
    assert b == pytest.approx(sk_b, rel=1e-9, abs=1e-11)
    assert np.array_equal(w == 0, sk_w == 0)


def test_lasso_fit_handles_scale_warm_starts_and_alpha_max():
    X, y, _ = make_regression(n_samples=40, n_features=6, n_informative=2, seed=1)
    for scale in (1e-2, 1.0, 1e3):
        np.testing.assert_allclose(ref.lasso_fit(scale * X, y, 0.1)[0], _sk(scale * X, y, 0.1)[0],
                                   rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(ref.lasso_fit(X, y, 0.1, w_init=np.full(6, 5.0))[0], _sk(X, y, 0.1)[0],
                               rtol=1e-8, atol=1e-10)
    w, b = ref.lasso_fit(X, y, 1.0001 * ref.alpha_max(X, y))
    assert np.all(w == 0) and b == pytest.approx(y.mean())
    assert np.any(ref.lasso_fit(X, y, 0.99 * ref.alpha_max(X, y))[0] != 0)


def test_minimum_norm_subgradient():
    rng = np.random.default_rng(4)
    X, y = rng.standard_normal((20, 5)), rng.standard_normal(20)
    w_star, b_star = _sk(X, y, 0.1)
    _, g_w, g_b = ref.lasso_loss_and_subgradient(w_star, b_star, X, y, 0.1)
    np.testing.assert_allclose(g_w, 0.0, atol=1e-9)
    assert abs(g_b) < 1e-9
    # Elsewhere: the element of [left derivative, right derivative] closest to 0, from the objective itself.
    w, b, alpha, h = np.array([0.5, 0.0, -0.3, 0.0, 0.0]), 0.2, 0.2, 1e-7
    f = lambda v: ref.lasso_loss_and_subgradient(v, b, X, y, alpha)[0]
    right = np.array([(f(w + h * e) - f(w)) / h for e in np.eye(5)])
    left = np.array([(f(w) - f(w - h * e)) / h for e in np.eye(5)])
    _, g_w, g_b = ref.lasso_loss_and_subgradient(w, b, X, y, alpha)
    np.testing.assert_allclose(g_w, np.clip(0.0, left, right), atol=1e-5)
    assert g_b == pytest.approx(np.mean(X @ w + b - y))


def test_path_matches_sklearn_on_centred_data_with_unsorted_alphas():
    X, y, _ = make_regression(n_samples=40, n_features=7, n_informative=3, correlation=0.5, seed=5)
    alphas = [0.05, 1.0, 0.01, 0.3]
    got_alphas, coefs = ref.lasso_path(X, y, alphas)
    sk_alphas, sk_coefs, _ = lasso_path(X - X.mean(0), y - y.mean(), alphas=alphas, tol=1e-14, max_iter=1_000_000)
    np.testing.assert_array_equal(got_alphas, sk_alphas)
    np.testing.assert_allclose(coefs, sk_coefs, rtol=1e-8, atol=1e-10)


def test_path_warm_starts_each_fit_from_the_previous_one():
    X, y, _ = make_regression(n_samples=30, n_features=5, seed=6)
    calls = []

    def recording_fit(X_, y_, alpha, w_init=None):
        calls.append((alpha, None if w_init is None else w_init.copy()))
        return ref.lasso_fit(X_, y_, alpha, w_init=w_init)

    _, coefs = ref.lasso_path(X, y, [0.01, 0.1, 1.0], fit=recording_fit)
    assert [a for a, _ in calls] == [1.0, 0.1, 0.01] and calls[0][1] is None
    np.testing.assert_array_equal(calls[1][1], coefs[:, 0])
    np.testing.assert_array_equal(calls[2][1], coefs[:, 1])


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_l1_prox_is_softshrink_on_the_l1_groups_only(dtype):
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.ReLU(), torch.nn.Linear(5, 2)).to(dtype)
    opt = torch.optim.SGD([{"params": [net[0].weight], "l1": 0.5, "lr": 0.3},
                           {"params": [net[2].weight], "l1": 0.0},
                           {"params": [net[0].bias, net[2].bias]}], lr=0.1, momentum=0.9)
    x, target = torch.randn(8, 6, dtype=dtype), torch.randn(8, 2, dtype=dtype)
    for _ in range(3):
        opt.zero_grad()
        torch.nn.functional.mse_loss(net(x), target).backward()
        opt.step()
        before = [p.detach().clone() for p in net.parameters()]
        ref.l1_prox_(opt)
        assert torch.equal(net[0].weight, torch.nn.functional.softshrink(before[0], 0.3 * 0.5))
        for p, old in zip(list(net.parameters())[1:], before[1:]):
            assert torch.equal(p, old)
    assert net[0].weight.is_leaf and net[0].weight.requires_grad and net[0].weight.dtype == dtype
    assert (net[0].weight == 0).any()
