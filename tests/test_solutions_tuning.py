"""The Chapter 11 reference answers against independent oracles: scipy.stats.loguniform, scikit-learn's
ParameterGrid, hand-worked successive-halving schedules, numpy's statistics; and the hidden tests' scenarios
separate what they claim to separate (val, test and train disagree on the best configuration)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from scipy.stats import loguniform
from sklearn.model_selection import ParameterGrid

from autograder.hidden import ch11_tuning as hidden
from coursekit.checks import tuning as ck
from solutions import tuning as ref


@pytest.mark.parametrize("low,high,size", [(1e-4, 1.0, 7), (0.3, 0.7, (2, 5)), (1e-8, 1e3, None)])
def test_log_uniform_matches_scipy_exactly(low, high, size):
    got = ref.log_uniform(low, high, size, np.random.default_rng(3))
    want = loguniform(low, high).rvs(size=size, random_state=np.random.default_rng(3))
    np.testing.assert_array_equal(got, want)
    assert np.shape(got) == np.shape(want)


def test_log_uniform_is_uniform_in_the_log_for_any_seed():
    for seed in range(5):
        x = np.log10(ref.log_uniform(1e-6, 1.0, 5000, np.random.default_rng(seed)))
        assert stats.kstest(x, stats.uniform(-6, 6).cdf).pvalue > 1e-3


@pytest.mark.parametrize("low,high", [(0.0, 1.0), (-1.0, 2.0), (1.0, 1.0), (3.0, 2.0)])
def test_log_uniform_rejects_bad_bounds(low, high):
    with pytest.raises(ValueError):
        ref.log_uniform(low, high, 3, np.random.default_rng(0))


def test_grid_search_follows_parameter_grid():
    space = {"wd": [0.0, 1e-4, 1e-2], "act": ["relu", "tanh"], "lr": [0.1, 0.01]}
    calls = []
    best, results = ref.grid_search(space, lambda c: calls.append(c) or ck.synthetic_scores(c, 1))
    assert [c for c, _ in results] == list(ParameterGrid(space)) == calls
    vals = [s["val"] for _, s in results]
    assert best == results[int(np.argmin(vals))][0]


def test_random_search_draws_like_scipy_and_is_reproducible():
    space = {"lr": ("log-uniform", 1e-5, 1.0), "act": ("choice", ["a", "b", "c"]), "m": ("uniform", 0.5, 0.9)}
    _, results = ref.random_search(space, 20, np.random.default_rng(8), lambda c: ck.synthetic_scores(c, 2))
    rng = np.random.default_rng(8)
    for config, _ in results:   # names sorted: act, lr, m
        assert config["act"] == ["a", "b", "c"][rng.integers(3)]
        assert config["lr"] == loguniform(1e-5, 1.0).rvs(random_state=rng)
        assert config["m"] == stats.uniform(0.5, 0.4).rvs(random_state=rng)


@pytest.mark.parametrize("n,eta,sizes", [(27, 3, [27, 9, 3, 1]), (10, 3, [10, 3, 1]), (12, 2, [12, 6, 3, 1]),
                                         (20, 4, [20, 5, 1]), (2, 3, [2, 1]), (1, 3, [1])])
def test_successive_halving_schedule(n, eta, sizes):
    calls = []
    winner, rungs = ref.successive_halving([{"id": i} for i in range(n)],
                                           lambda c, b: calls.append(b) or ck.synthetic_curve(c, b, 5), 2, eta)
    assert [len(r["configs"]) for r in rungs] == sizes
    assert [r["budget"] for r in rungs] == [2 * eta ** k for k in range(len(sizes))]
    assert len(calls) == sum(sizes) and winner == rungs[-1]["configs"][0]
    for a, b in zip(rungs, rungs[1:]):   # survivors are the best of their rung
        cut = sorted(a["losses"])[len(b["configs"]) - 1]
        assert all(a["losses"][a["configs"].index(c)] <= cut for c in b["configs"])


def test_final_report_statistics():
    seen = []
    mean, std, losses = ref.final_report({"lr": 0.1}, lambda c, s, on: seen.append((s, on)) or 0.1 * s, [3, 1, 2])
    assert seen == [(3, ("train", "val")), (1, ("train", "val")), (2, ("train", "val"))]
    np.testing.assert_allclose(losses, [0.3, 0.1, 0.2])
    assert mean == pytest.approx(0.2) and std == pytest.approx(0.1)
    with pytest.raises(ValueError):
        ref.final_report({}, lambda c, s, on: 0.0, [1])


def test_visible_checks_pass_the_reference():
    ck.check_log_uniform(ref.log_uniform)
    ck.check_grid_search(ref.grid_search)
    ck.check_random_search(ref.random_search)
    ck.check_successive_halving(ref.successive_halving)
    ck.check_final_report(ref.final_report)


def test_hidden_search_scenarios_separate_val_from_test_and_train():
    """Every grid of the hidden tests has different best configurations by val, test and train loss."""
    for _, _, (space, salt, *extra) in hidden.GRID_SCENARIOS:
        configs = list(ParameterGrid(space))
        if len(configs) < 3:
            continue
        best = {k: int(np.nanargmin([ck.synthetic_scores(c, salt, *extra)[k] for c in configs]))
                for k in ("val", "test", "train")}
        assert best["val"] != best["test"] and best["val"] != best["train"], (space, best)
    for _, _, (space, n, seed, salt, *extra) in hidden.RANDOM_SCENARIOS:
        if n < 3:
            continue
        _, results = ref.random_search(space, n, np.random.default_rng(seed),
                                       lambda c: ck.synthetic_scores(c, salt, *extra))
        best = {k: int(np.nanargmin([s[k] for _, s in results])) for k in ("val", "test", "train")}
        assert best["val"] != best["test"] and best["val"] != best["train"], (space, best)


def test_halving_curves_cross():
    """Ranking at the smallest budget differs from the ranking at the largest: a constant budget is visible."""
    configs = [{"id": i} for i in range(27)]
    low = np.argsort([ck.synthetic_curve(c, 1, 41) for c in configs])
    high = np.argsort([ck.synthetic_curve(c, 27, 41) for c in configs])
    assert list(low[:5]) != list(high[:5])
