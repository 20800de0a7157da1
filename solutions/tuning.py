"""Reference answers for Chapter 11 (hyperparameter tuning).

Conventions, as the exercise states them:

* ``log_uniform(low, high, size, rng)`` is ``exp(rng.uniform(log(low), log(high), size))``: the same numbers as
  ``scipy.stats.loguniform(low, high).rvs(size=size, random_state=rng)`` (the oracle, to the last bit).
* ``grid_search`` visits the configurations in the order of ``sklearn.model_selection.ParameterGrid``: names
  sorted, the last name varying fastest, each list in its given order.
* ``random_search`` draws trial after trial; within a trial the names in sorted order (as scikit-learn's
  ``ParameterSampler``), one draw each: ``("log-uniform", low, high)`` -> ``log_uniform(low, high, None, rng)``,
  ``("uniform", low, high)`` -> ``rng.uniform(low, high)``, ``("choice", values)`` ->
  ``values[rng.integers(len(values))]``.
* Both searches call ``evaluate(config)`` once per configuration; it returns a dict of losses
  ``{"train": ..., "val": ..., "test": ...}`` and the best configuration is the one with the smallest ``"val"``
  (the first one evaluated among equals; a NaN, a diverged run, is never the smallest).
* ``successive_halving``: rung k trains every surviving configuration with budget ``min_budget * eta**k``;
  the ``max(1, n // eta)`` with the smallest validation losses survive, listed by increasing loss (stable);
  the rung with one configuration is the last.
* ``final_report``: one ``fit_and_test(config, seed, ("train", "val"))`` per seed, then the mean and the sample
  standard deviation (``ddof=1``) of the test losses.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

SPLITS_FOR_REFIT = ("train", "val")


def log_uniform(low, high, size, rng):
    """Samples whose logarithm is uniform on [log low, log high)."""
    if not low > 0:
        raise ValueError("log_uniform needs low > 0")
    if not high > low:
        raise ValueError("log_uniform needs high > low")
    return np.exp(rng.uniform(math.log(low), math.log(high), size))


def _best(results):
    """The configuration with the smallest validation loss; the first evaluated among equals. A NaN loss (a run
    that diverged) is never the smallest."""
    if not results:
        raise ValueError("no configuration was evaluated")
    i = int(np.nanargmin(np.array([scores["val"] for _, scores in results], dtype=float)))
    return results[i][0]


def grid_search(space, evaluate):
    """Every combination of the lists in ``space`` (ParameterGrid's order); returns (best_config, results)."""
    names = sorted(space)
    results = []
    for values in itertools.product(*(space[name] for name in names)):
        config = dict(zip(names, values))
        results.append((config, evaluate(dict(config))))
    return _best(results), results


def sample_config(space, rng):
    """One configuration drawn from ``space`` (names in sorted order)."""
    config = {}
    for name in sorted(space):
        kind, *args = space[name]
        if kind == "log-uniform":
            config[name] = float(log_uniform(args[0], args[1], None, rng))
        elif kind == "uniform":
            config[name] = float(rng.uniform(args[0], args[1]))
        elif kind == "choice":
            values = args[0]
            config[name] = values[int(rng.integers(len(values)))]
        else:
            raise ValueError(f"unknown kind of hyperparameter {kind!r}")
    return config


def random_search(space, n_trials, rng, evaluate):
    """``n_trials`` configurations drawn from ``space``; returns (best_config, results)."""
    results = []
    for _ in range(n_trials):
        config = sample_config(space, rng)
        results.append((config, evaluate(dict(config))))
    return _best(results), results


def successive_halving(configs, train_eval, min_budget, eta):
    """Successive halving; returns (winner, rungs), each rung {"configs", "budget", "losses"}."""
    alive = list(configs)
    if not alive:
        raise ValueError("successive_halving needs at least one configuration")
    rungs, k = [], 0
    while True:
        budget = min_budget * eta ** k
        losses = [float(train_eval(config, budget)) for config in alive]
        rungs.append({"configs": list(alive), "budget": budget, "losses": losses})
        if len(alive) == 1:
            return alive[0], rungs
        order = np.argsort(losses, kind="stable")[:max(1, len(alive) // eta)]
        alive = [alive[i] for i in order]
        k += 1


def final_report(best_config, fit_and_test, seeds):
    """Refit on train+val once per seed and test once: (mean, sample std, the test losses in seed order)."""
    seeds = list(seeds)
    if len(seeds) < 2:
        raise ValueError("final_report needs at least two seeds to measure a spread")
    losses = np.array([float(fit_and_test(best_config, seed, SPLITS_FOR_REFIT)) for seed in seeds])
    return float(losses.mean()), float(losses.std(ddof=1)), losses
