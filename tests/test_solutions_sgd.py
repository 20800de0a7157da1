"""The reference solutions of Chapter 7 (solutions/sgd.py) against their oracles: torch's DataLoader and
RandomSampler for the batching rules, eigenvalues and gradient-descent runs for the step sizes,
torch.optim.SGD for the optimizer, and a hand-written loop for the training epoch."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from coursekit.checks import optimizer_trajectory
from coursekit.checks import sgd as checks
from solutions import sgd as ref


# ---------------------------------------------------------------- minibatches vs DataLoader
@pytest.mark.parametrize("n,bs,drop_last", [(10, 4, False), (10, 4, True), (12, 4, False), (12, 4, True),
                                            (3, 8, False), (7, 1, False)])
def test_minibatches_without_shuffle_match_dataloader(n, bs, drop_last):
    X, y = np.arange(2.0 * n).reshape(n, 2), np.arange(n)
    loader = DataLoader(TensorDataset(torch.from_numpy(X), torch.from_numpy(y)), batch_size=bs,
                        shuffle=False, drop_last=drop_last)
    ours = list(ref.minibatches(X, y, bs, shuffle=False, drop_last=drop_last))
    theirs = list(loader)
    assert len(ours) == len(theirs)
    for (xb, yb), (tx, ty) in zip(ours, theirs):
        np.testing.assert_array_equal(xb, tx.numpy())
        np.testing.assert_array_equal(yb, ty.numpy())


@pytest.mark.parametrize("n,bs,drop_last", [(10, 4, False), (10, 4, True), (9, 3, False), (5, 8, False)])
def test_shuffled_minibatches_match_dataloader_with_the_same_order(n, bs, drop_last):
    """DataLoader with a sampler that yields our permutation gives the same batches: same slicing rules."""
    X, y = np.arange(3.0 * n).reshape(n, 3), 100 + np.arange(n)
    rng = np.random.default_rng(5)
    ours = [list(ref.minibatches(X, y, bs, drop_last=drop_last, rng=rng)) for _ in range(3)]
    rng = np.random.default_rng(5)
    for epoch in ours:
        order = rng.permutation(n).tolist()
        loader = DataLoader(TensorDataset(torch.from_numpy(X), torch.from_numpy(y)), batch_size=bs,
                            sampler=order, drop_last=drop_last)
        theirs = list(loader)
        assert len(epoch) == len(theirs)
        for (xb, yb), (tx, ty) in zip(epoch, theirs):
            np.testing.assert_array_equal(xb, tx.numpy())
            np.testing.assert_array_equal(yb, ty.numpy())
    assert not np.array_equal(np.concatenate([b[1] for b in ours[0]]), np.concatenate([b[1] for b in ours[1]]))


def test_minibatches_work_on_tensors_and_images_and_leave_inputs_alone():
    X, y = torch.randn(11, 2, 3), torch.arange(11)
    X0 = X.clone()
    batches = list(ref.minibatches(X, y, 4, rng=np.random.default_rng(0)))
    assert all(isinstance(xb, torch.Tensor) and xb.shape[1:] == (2, 3) for xb, _ in batches)
    assert [len(yb) for _, yb in batches] == [4, 4, 3]
    assert torch.equal(X, X0)
    for xb, yb in batches:
        assert torch.equal(xb, X0[yb])


def test_statistical_properties_with_rng_none():
    out = checks.minibatch_frequencies(ref.minibatches, 5, 2, 3000)
    counts = out["counts"]
    assert np.all(np.abs(counts - 600) < 6 * np.sqrt(600 * 0.8))
    assert out["repeats"] < 3000 / 120 * 3


# ---------------------------------------------------------------- step sizes vs gradient descent
@pytest.mark.parametrize("eig", [[0.5, 2.0, 8.0], [1.0, 1.0], [1e-2, 3.0, 7.0, 10.0]])
def test_step_sizes_are_the_stability_limit_and_the_best_constant_step(eig):
    Q, _ = np.linalg.qr(np.random.default_rng(0).standard_normal((len(eig), len(eig))))
    A = Q @ np.diag(eig) @ Q.T
    lr_max, lr_opt, rate = ref.quadratic_step_sizes(A)
    assert np.isclose(lr_max, 2 / max(eig)) and np.isclose(lr_opt, 2 / (min(eig) + max(eig)))
    kappa = max(eig) / min(eig)
    assert np.isclose(rate, (kappa - 1) / (kappa + 1))
    d_below, d_above = checks.gd_distances(A, 0.97 * lr_max, 400), checks.gd_distances(A, 1.03 * lr_max, 400)
    assert d_below[-1] < d_below[0] and d_above[-1] > 1e3 * d_above[0]
    # the worst-case contraction max |1 - lr * lambda| is smallest at lr_opt, and equals rate there
    grid = np.linspace(0.01, 1.0, 2000) * lr_max
    worst = np.max(np.abs(1 - np.outer(grid, eig)), axis=1)
    assert abs(grid[np.argmin(worst)] - lr_opt) < 2 * (grid[1] - grid[0])
    assert np.isclose(np.max(np.abs(1 - lr_opt * np.array(eig))), rate)


def test_step_sizes_of_a_singular_matrix():
    assert ref.quadratic_step_sizes(np.diag([0.0, 4.0])) == (0.5, 0.5, 1.0)


# ---------------------------------------------------------------- SGD vs torch.optim.SGD
@pytest.mark.parametrize("kwargs,run", [
    ({}, {}), ({"lr": 0.1, "weight_decay": 0.3}, {}), ({"lr": 0.05, "weight_decay": 0.2, "maximize": True}, {}),
    ({"lr": 0.05}, {"groups": [{"params": [0, 1], "lr": 0.2, "weight_decay": 0.1}, {"params": [2, 3, 4, 5]}]}),
    ({"lr": 0.1}, {"lr_changes": {5: 3.0}, "roundtrip_at": 8}),
    ({"lr": 0.1, "weight_decay": 0.1}, {"none_grads": {3: [1, 4]}, "zero_grads": {4: [0]}}),
    ({"lr": 0.1, "weight_decay": 0.1}, {"dtype": torch.float32}),
])
def test_sgd_matches_torch(kwargs, run):
    want = optimizer_trajectory(torch.optim.SGD, kwargs, steps=20, **run)
    got = optimizer_trajectory(ref.SGD, kwargs, steps=20, **run)
    assert got.dtype == want.dtype
    torch.testing.assert_close(got, want, rtol=1e-12 if got.dtype == torch.float64 else 1e-6, atol=0)


# ---------------------------------------------------------------- train_epoch vs a hand-written loop
def test_train_epoch_matches_a_plain_loop_and_weights_the_last_batch():
    out = checks.run_train_epoch(ref.train_epoch, [5, 5, 2], lr=0.3)
    net = checks._net(0)
    opt = torch.optim.SGD(net.parameters(), lr=0.3)
    losses, sizes = [], []
    for Xb, yb in checks._batches([5, 5, 2], seed=1):
        opt.zero_grad()
        loss = F.cross_entropy(net(Xb), yb)
        loss.backward()
        opt.step()
        losses.append(loss.item())
        sizes.append(len(yb))
    assert np.isclose(out["losses"][0], np.average(losses, weights=sizes), rtol=1e-12)
    flat = torch.cat([p.detach().reshape(-1) for p in net.parameters()]).numpy()
    np.testing.assert_allclose(out["params"], flat, rtol=1e-12)
    assert out["steps"] == 3 and out["is_float"] and out["training"]


def test_visible_checks_pass_on_the_solutions():
    checks.check_minibatches(ref.minibatches)
    checks.check_step_sizes(ref.quadratic_step_sizes)
    checks.check_sgd(ref.SGD)
    checks.check_train_epoch(ref.train_epoch)
