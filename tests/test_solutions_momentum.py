"""The reference solutions of Chapter 8 (solutions/momentum.py) against their oracles: torch.optim.SGD for the
optimizer, heavy-ball runs and a grid search for the optimal constants, powers of the iteration matrix for the
rate, and an EMA loop for the conversion."""

import numpy as np
import pytest
import torch

from coursekit.checks import momentum as checks
from coursekit.checks import optimizer_trajectory
from solutions import momentum as ref

SETTINGS = [
    ({"lr": 0.05}, {}),
    ({"lr": 0.05, "momentum": 0.9}, {}),
    ({"lr": 0.05, "momentum": 0.7, "dampening": 0.6}, {}),
    ({"lr": 0.05, "momentum": 0.9, "nesterov": True}, {}),
    ({"lr": 0.02, "momentum": 0.8, "weight_decay": 0.2, "maximize": True}, {}),
    ({"lr": 0.05, "momentum": 0.9}, {"groups": [{"params": [0, 1, 2, 3], "dampening": 0.5},
                                                {"params": [4, 5], "nesterov": True}]}),
    ({"lr": 0.05, "momentum": 0.9}, {"lr_changes": {10: 0.2}}),
    ({"lr": 0.05, "momentum": 0.9, "weight_decay": 0.05}, {"roundtrip_at": 8}),
    ({"lr": 0.05, "momentum": 0.9, "weight_decay": 0.1}, {"none_grads": {t: [1, 4] for t in range(3, 8)}}),
    ({"lr": 0.05, "momentum": 0.9}, {"zero_grads": {t: [0, 3] for t in range(2, 7)}}),
]


@pytest.mark.parametrize("kwargs,run", SETTINGS)
def test_sgd_matches_torch(kwargs, run):
    want = optimizer_trajectory(torch.optim.SGD, kwargs, steps=20, **run)
    got = optimizer_trajectory(ref.SGD, kwargs, steps=20, **run)
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-14)


def test_sgd_float32_and_torch_state_dict():
    kw = {"lr": 0.05, "momentum": 0.9, "nesterov": True}
    want = optimizer_trajectory(torch.optim.SGD, kw, steps=20, dtype=torch.float32)
    got = optimizer_trajectory(ref.SGD, kw, steps=20, dtype=torch.float32)
    assert got.dtype == torch.float32
    torch.testing.assert_close(got, want, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(checks.torch_state_into(ref.SGD, kw), checks.torch_state_into(torch.optim.SGD, kw),
                               rtol=1e-12)


def test_sgd_rejects_nesterov_without_momentum():
    p = torch.zeros(2, requires_grad=True)
    with pytest.raises(ValueError):
        ref.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError):
        torch.optim.SGD([p], lr=0.1, nesterov=True)


@pytest.mark.parametrize("mu,L", [(0.5, 50.0), (1.0, 9.0), (0.01, 1.0)])
def test_heavy_ball_params_are_the_best_pair_and_their_rate_is_observed(mu, L):
    lam = np.linspace(mu, L, 7)
    lr, beta, rate = ref.heavy_ball_params(mu, L)
    assert np.isclose(rate, np.sqrt(beta))
    assert np.isclose(ref.heavy_ball_rate(lr, beta, lam), rate, rtol=1e-6)
    # no pair on a grid around it has a smaller worst-case rate
    grid = [ref.heavy_ball_rate(f * lr, min(g * beta, 0.9999), lam) for f in np.linspace(0.8, 1.2, 21)
            for g in np.linspace(0.8, 1.1, 16)]
    assert min(grid) >= rate - 1e-9
    d = checks.heavy_ball_distances(lam, lr, beta, num_steps=400)
    assert np.isclose((d[400] / d[300]) ** 0.01, rate, rtol=0.02)


def test_heavy_ball_params_edges():
    assert ref.heavy_ball_params(3.0, 3.0) == pytest.approx((1 / 3, 0.0, 0.0))
    assert ref.heavy_ball_params(0.0, 4.0) == pytest.approx((1.0, 1.0, 1.0))


@pytest.mark.parametrize("lr,beta,lam", [(0.1, 0.2, [0.5, 2.0, 9.0]), (0.1, 0.9, [0.5, 2.0, 9.0]),
                                          (0.35, 0.5, [0.5, 2.0, 9.0]), (0.05, 0.95, [1.0, 4.0, 10.0])])
def test_heavy_ball_rate_is_the_growth_of_matrix_powers(lr, beta, lam):
    worst = 0.0
    for x in lam:
        M = np.array([[1 + beta - lr * x, -beta], [1.0, 0.0]])
        P = np.linalg.matrix_power(M, 400)
        worst = max(worst, np.linalg.norm(P, 2) ** (1 / 400))
    assert np.isclose(ref.heavy_ball_rate(lr, beta, lam), worst, rtol=0.03)


@pytest.mark.parametrize("lr,beta", [(0.1, 0.9), (0.5, 0.5), (0.2, 0.0), (1.0, 0.99)])
def test_ema_to_torch_follows_the_ema_form(lr, beta):
    grads = list(np.cos(0.7 * np.arange(25)) + 0.2)
    np.testing.assert_allclose(checks.torch_sgd_steps(ref.ema_to_torch(lr, beta), grads),
                               checks.ema_steps(lr, beta, grads), rtol=1e-10, atol=1e-13)
