"""The Chapter 12 reference answers against independent oracles: scikit-learn's StandardScaler and class counts,
a training loop written out step by step in torch, Chapter 5's offline patience rule, scipy's t-interval, and
torch's Adam/AdamW difference."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import stats
from sklearn.preprocessing import StandardScaler

from coursekit.checks import capstone as ck
from coursekit.demos.capstone import load_digits_arrays, make_net
from coursekit.demos.early_stopping import patience_stop
from solutions import capstone as ref


@pytest.fixture(scope="module")
def digits():
    return load_digits_arrays()


def test_make_splits_is_stratified_disjoint_and_scaled_with_training_statistics(digits):
    X, y = digits
    d = ref.make_splits(X, y, seed=0)
    idx = np.concatenate([d["idx_train"], d["idx_val"], d["idx_test"]])
    assert sorted(idx.tolist()) == list(range(len(y)))
    for part in ("train", "val", "test"):
        share = len(d[f"idx_{part}"]) / len(y)
        counts = np.bincount(y[d[f"idx_{part}"]], minlength=10)
        assert np.all(np.abs(counts - share * np.bincount(y)) <= 1.5)
        want = StandardScaler().fit(X[d["idx_train"]]).transform(X[d[f"idx_{part}"]])
        np.testing.assert_allclose(d[f"X_{part}"], want, rtol=1e-10, atol=1e-12)
    assert abs(len(d["idx_test"]) - 0.2 * len(y)) <= 1 and abs(len(d["idx_val"]) - 0.2 * len(y)) <= 1
    assert np.all(np.isfinite(d["X_test"]))  # constant border pixels are divided by 1
    assert not ck.split_problems(X, y, ck.split_run(ref.make_splits, X, y, 0))


def test_make_splits_depends_on_the_seed_only(digits):
    X, y = digits
    a, b, c = ck.split_seed_run(ref.make_splits, X[:300], y[:300], 4, 5)
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def _hand_loop(config, seed, data):
    """The recipe of the exercise written out without the reference: SGD with momentum, no regularizer."""
    torch.manual_seed(seed)
    net = make_net(config)
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.SGD(net.parameters(), lr=config["lr"], momentum=0.9)
    X = torch.tensor(data["X_train"], dtype=torch.float32)
    y = torch.tensor(data["y_train"])
    Xv, yv = torch.tensor(data["X_val"], dtype=torch.float32), torch.tensor(data["y_val"])
    out = []
    for _ in range(config["num_epochs"]):
        perm = torch.randperm(len(X), generator=g)
        batches = torch.split(perm, config["batch_size"])
        losses = []
        for rows in batches:
            opt.zero_grad()
            loss = torch.nn.CrossEntropyLoss()(net(X[rows]), y[rows])
            loss.backward()
            opt.step()
            losses.append(loss.item())
        with torch.no_grad():
            out.append((np.mean(losses), torch.nn.CrossEntropyLoss()(net(Xv), yv).item()))
    return out


@pytest.fixture(scope="module")
def small():
    return ck._data(ck._digits_arrays(100, 50, 50, 3))


def test_train_matches_a_hand_written_loop(small):
    cfg = {"optimizer": "sgd-momentum", "lr": 0.05, "num_epochs": 3, "batch_size": 32, "hidden": 16}
    _, h = ref.train(cfg, 2, small)
    want = _hand_loop(cfg, 2, small)
    np.testing.assert_allclose(h["train_loss"], [w[0] for w in want], rtol=1e-6)
    np.testing.assert_allclose(h["val_loss"], [w[1] for w in want], rtol=1e-6)


def test_train_is_deterministic_and_the_seed_controls_init_and_order(small):
    cfg = {**ck.VISIBLE_TRAIN_CONFIG}
    a = ck.train_run(ref.train, cfg, 1, [small[k] for k in ("X_train", "y_train", "X_val", "y_val", "X_test",
                                                             "y_test")], salt=1)
    b = ck.train_run(ref.train, cfg, 1, [small[k] for k in ("X_train", "y_train", "X_val", "y_val", "X_test",
                                                             "y_test")], salt=2)
    assert a == b
    _, h1 = ref.train(cfg, 1, small)
    _, h2 = ref.train(cfg, 2, small)
    _, h3 = ref.train(cfg, 1, small, loader=True)
    assert h1["train_loss"] != h2["train_loss"] and h1["train_loss"] != h3["train_loss"]


def test_early_stopping_matches_the_offline_patience_rule(small):
    cfg = {"optimizer": "sgd-momentum", "lr": 0.3, "num_epochs": 15, "batch_size": 16, "hidden": 16}
    _, full = ref.train(cfg, 0, small)
    net, h = ref.train({**cfg, "patience": 2}, 0, small)
    stop, best = patience_stop(full["val_loss"], 2)
    assert len(h["val_loss"]) == stop + 1 and h["val_loss"] == full["val_loss"][:stop + 1]
    with torch.no_grad():
        v = torch.nn.functional.cross_entropy(net(torch.tensor(small["X_val"], dtype=torch.float32)),
                                              torch.tensor(small["y_val"])).item()
    assert v == pytest.approx(full["val_loss"][best], rel=1e-6)


def test_adam_and_adamw_differ_only_with_weight_decay(small):
    cfg = {"lr": 0.01, "num_epochs": 2, "batch_size": 32, "hidden": 16}
    _, a0 = ref.train({**cfg, "optimizer": "adam"}, 0, small)
    _, w0 = ref.train({**cfg, "optimizer": "adamw"}, 0, small)
    _, a1 = ref.train({**cfg, "optimizer": "adam", "weight_decay": 0.3}, 0, small)
    _, w1 = ref.train({**cfg, "optimizer": "adamw", "weight_decay": 0.3}, 0, small)
    assert a0 == w0 and a1["train_loss"] != w1["train_loss"]
    with pytest.raises(ValueError):
        ref.train({**cfg, "optimizer": "rmsprop"}, 0, small)


def test_run_study_and_summarize_against_scipy(small):
    configs, seeds, arrays = ck._visible_study()
    out = ck.study_run(ref.run_study, configs, seeds, arrays)
    assert [(r["config"], r["seed"]) for r in out["rows"]] == [("b", 5), ("b", 0), ("a", 5), ("a", 0)]   # as given
    rows = [{"config": c, "seed": s, "num_epochs": 5, "test_acc": v, "val_acc": 0.5}
            for c, vals in {"p": [0.9, 0.93, 0.91, 0.95], "q": [0.8, 0.84]}.items() for s, v in enumerate(vals)]
    summary = ref.summarize(rows)
    for name, vals in {"p": [0.9, 0.93, 0.91, 0.95], "q": [0.8, 0.84]}.items():
        low, high = stats.t.interval(0.95, len(vals) - 1, loc=np.mean(vals), scale=stats.sem(vals))
        assert summary[name]["ci_low"] == pytest.approx(low) and summary[name]["ci_high"] == pytest.approx(high)
    with pytest.raises(ValueError):
        ref.summarize(rows[:-1] + [{**rows[-1], "num_epochs": 6}])
    with pytest.raises(ValueError):
        ref.summarize(rows[:-1])
