"""The Chapter 5 reference answers against independent oracles: a transcription of Keras' EarlyStopping logic
(keras/src/callbacks/early_stopping.py, on_epoch_end and _is_improvement), scipy.ndimage.shift, the mixup
formula with numpy's own draws, and a training loop written out step by step in torch."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from scipy import ndimage
from torch import nn

from coursekit.checks import early_stopping as ck
from solutions import early_stopping as ref


def keras_stop_epoch(values, patience=0, min_delta=0.0, mode="min"):
    """Keras 3's EarlyStopping on a list of monitored values: (the epoch model.stop_training is set, or None;
    best_epoch). A transcription of its arithmetic, not of our class."""
    delta = abs(min_delta) * (-1 if mode == "min" else 1)
    op = np.less if mode == "min" else np.greater
    best = np.inf if mode == "min" else -np.inf
    wait, best_epoch = 0, 0
    for epoch, current in enumerate(values):
        wait += 1
        if op(current - delta, best):
            best, best_epoch, wait = current, epoch, 0
            continue
        if wait >= patience and epoch > 0:
            return epoch, best_epoch
    return None, best_epoch


def _ours(values, **kwargs):
    stopper = ref.EarlyStopping(**kwargs)
    net = nn.Linear(2, 1)
    for epoch, v in enumerate(values):
        if stopper.step(v, net):
            return epoch, stopper.best_epoch
    return None, stopper.best_epoch


@pytest.mark.parametrize("seed", range(40))
def test_early_stopping_matches_keras_logic(seed):
    rng = np.random.default_rng(seed)
    values = list(np.round(1 / np.sqrt(np.arange(1, 60)) + 0.05 * rng.standard_normal(59), 2))  # rounding: ties
    for kwargs in ({}, {"patience": 3}, {"patience": 7, "min_delta": 0.02}, {"patience": 2, "min_delta": -0.01},
                   {"patience": 4, "mode": "max"}, {"patience": 1, "mode": "max", "min_delta": 0.03}):
        vals = [-v for v in values] if kwargs.get("mode") == "max" else values
        assert _ours(vals, **kwargs) == keras_stop_epoch(vals, **kwargs), kwargs


def test_restore_brings_back_a_deep_copy_of_the_whole_state():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    stopper = ref.EarlyStopping(patience=5)
    stopper.step(1.0, net)
    best = copy.deepcopy(net.state_dict())
    opt = torch.optim.SGD(net.parameters(), lr=0.5)
    for value in (1.1, 1.2):
        net.train()
        opt.zero_grad()
        net(torch.randn(8, 3)).pow(2).sum().backward()   # changes the weights and the running statistics in place
        opt.step()
        assert not stopper.step(value, net)
    assert not torch.equal(net[1].running_mean, best["1.running_mean"])
    weight = net[0].weight
    stopper.restore(net)
    assert net[0].weight is weight                     # loaded in place: an optimizer holding it still works
    for name, tensor in net.state_dict().items():
        assert torch.equal(tensor, best[name]), name


def test_mode_and_nan():
    with pytest.raises(ValueError):
        ref.EarlyStopping(mode="auto")
    stopper = ref.EarlyStopping(patience=1)
    net = nn.Linear(1, 1)
    assert not stopper.step(0.5, net)
    assert stopper.step(float("nan"), net) and stopper.best == 0.5


def test_visible_checks_pass_on_the_reference():
    ck.check_early_stopping(ref.EarlyStopping)
    ck.check_training_loop(ref.train_with_early_stopping)
    ck.check_random_shift(ref.random_shift)
    ck.check_mixup(ref.mixup)


def test_training_loop_matches_a_loop_written_out():
    data = ck.loop_data(seed=3)
    net_a, net_b = ck.loop_net(seed=3, batchnorm=True), ck.loop_net(seed=3, batchnorm=True)
    stopper = ref.EarlyStopping(patience=2)
    history, test_loss = ref.train_with_early_stopping(net_a, data, stopper, lr=0.5, num_epochs=40)
    # By hand: full-batch gradient steps, w <- w - lr * grad, validation loss in eval mode.
    val, states = [], []
    for _ in range(len(history["val_loss"])):
        net_b.train()
        loss = nn.functional.cross_entropy(net_b(data["X_train"]), data["y_train"])
        grads = torch.autograd.grad(loss, list(net_b.parameters()))
        with torch.no_grad():
            for p, g in zip(net_b.parameters(), grads):
                p -= 0.5 * g
            net_b.eval()
            val.append(nn.functional.cross_entropy(net_b(data["X_val"]), data["y_val"]).item())
        states.append(copy.deepcopy(net_b.state_dict()))
    np.testing.assert_allclose(history["val_loss"], val, rtol=1e-12)
    best = int(np.argmin(val))
    assert stopper.best_epoch == best
    net_b.load_state_dict(states[best])
    net_b.eval()
    with torch.no_grad():
        want = nn.functional.cross_entropy(net_b(data["X_test"]), data["y_test"]).item()
    assert test_loss == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("max_shift,shape,dtype", [(1, (30, 64), np.float64), (3, (30, 8, 8), np.float32),
                                                   (0, (5, 64), np.float64)])
def test_random_shift_matches_scipy(max_shift, shape, dtype):
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = (X[:shape[0]] / 16).astype(dtype).reshape(shape)
    out, y_out = ref.random_shift(X, y[:shape[0]], max_shift, np.random.default_rng(9))
    shifts = np.random.default_rng(9).integers(-max_shift, max_shift, size=(shape[0], 2), endpoint=True)
    want = np.stack([ndimage.shift(img, s, order=0, mode="constant", cval=0.0)
                     for img, s in zip(X.reshape(-1, 8, 8).astype(float), shifts)])
    assert out.shape == X.shape and out.dtype == X.dtype
    np.testing.assert_array_equal(out.reshape(-1, 8, 8), want.astype(dtype))
    np.testing.assert_array_equal(y_out, y[:shape[0]])


def test_random_shift_statistics():
    # Seed-independent: every shift in [-m, m] occurs about equally often, and a shifted image never gains mass.
    X = np.ones((4000, 64))
    out, _ = ref.random_shift(X, np.zeros(4000), 2, np.random.default_rng(1))
    kept = out.reshape(-1, 8, 8).sum(axis=(1, 2))
    # an image of ones shifted by (a, b) keeps (8 - |a|)(8 - |b|) pixels
    counts = np.bincount([int(k) for k in kept])
    areas = {(8 - abs(a)) * (8 - abs(b)) for a in range(-2, 3) for b in range(-2, 3)}
    assert set(np.flatnonzero(counts)) == areas
    assert abs(np.mean(kept == 64) - 1 / 25) < 0.01


def test_mixup_formula_and_lambda_distribution():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((10, 3)), rng.integers(0, 4, 10)
    X_mix, Y_mix = ref.mixup(X, y, 4, 0.4, np.random.default_rng(5))
    draws = np.random.default_rng(5)
    lam, perm = draws.beta(0.4, 0.4), draws.permutation(10)
    np.testing.assert_allclose(X_mix, lam * X + (1 - lam) * X[perm])
    np.testing.assert_allclose(Y_mix, lam * np.eye(4)[y] + (1 - lam) * np.eye(4)[y[perm]])
    # lam ~ Beta(a, a): mean 1/2, variance 1 / (4 (2a + 1)), read off the mixed targets of a 2-example batch
    a, lams = 0.4, []
    gen = np.random.default_rng(7)
    for _ in range(6000):
        _, Y2 = ref.mixup(np.array([[0.0], [1.0]]), np.array([0, 1]), 2, a, gen)
        if Y2[0, 1] > 0:             # the two examples were swapped (else lam cannot be seen; independent of lam)
            lams.append(Y2[0, 0])
    lams = np.array(lams)
    assert abs(lams.mean() - 0.5) < 0.03 and abs(lams.var() - 1 / (4 * (2 * a + 1))) < 0.02
    X0, Y0 = ref.mixup(X, y, 4, 0.0, np.random.default_rng(5))
    np.testing.assert_array_equal(X0, X)
    np.testing.assert_array_equal(Y0, np.eye(4)[y])
