"""Visible checks and sandbox drivers for Chapter 11 (hyperparameter tuning).

The searches take callbacks (``evaluate``, ``train_eval``, ``fit_and_test``). The drivers here build those
callbacks from plain numbers, record every call the student's function makes, and return plain values (for the
grader, which runs them inside the sandbox through ``probe``). The losses they return are synthetic but
deterministic: a hash of the configuration, so that the training, validation and test losses disagree about
which configuration is best, as they do in real life.
"""

from __future__ import annotations

import functools
import hashlib

import numpy as np

# One wording for the visible checks and the grader's hidden tests.
UNIFORM_NOT_LOG = ("sampled uniformly, not log-uniformly: the logarithm of the samples must be uniform, so each "
                   "decade between low and high gets the same share of the samples")
CHOSE_ON_TEST = ("the best configuration was chosen on the test loss: choose on the validation loss ('val'); the "
                 "test set is used once, at the very end, to report the chosen configuration")
CHOSE_ON_TRAIN = ("the best configuration was chosen on the training loss: choose on the validation loss ('val')")
CHOSE_LARGEST = "the configuration with the LARGEST validation loss was chosen: losses are better when smaller"
ZIPPED_GRID = ("the grid misses combinations (zip instead of the Cartesian product?): a grid search tries every "
               "combination of the values, as itertools.product or scikit-learn's ParameterGrid")
GRID_ORDER = ("the grid is complete but not in ParameterGrid's order: names sorted alphabetically, the last name "
              "varying fastest, each list in its given order")
IGNORES_GENERATOR = ("the samples do not come from the generator `rng` you were given (np.random's global state, or "
                     "a new generator?): the same seed must give the same samples")
KEEPS_TOO_MANY = ("each rung keeps too many configurations (n / eta rounded up?): keep max(1, n // eta), n // eta "
                  "rounded down")
DROPS_FRACTION = ("each rung drops 1/eta of the configurations instead of keeping 1/eta: keep the max(1, n // eta) "
                  "best")
BUDGET_CONSTANT = ("the budget never grows: rung k trains with min_budget * eta**k, so the survivors get eta times "
                   "more than the rung before")
KEEPS_WORST = ("the survivors are the configurations with the LARGEST validation losses: keep the smallest (a "
               "loss is better when smaller)")
BEST_SEED = ("you reported the best seed's test loss, not the mean over the seeds: a single lucky seed overstates "
             "what the configuration does")
REFIT_TRAIN_ONLY = ("the final model is fitted on the training data only: refit on training and validation data "
                    "together, fit_on=('train', 'val')")
FIT_ON_TEST = "the final model is fitted on data that includes the test set: fit_on must be ('train', 'val')"
TESTED_TWICE = ("fit_and_test was called more than once per seed: each seed is fitted and tested exactly once (no "
                "second look at the test set)")
STD_DDOF0 = ("the spread is the population standard deviation (ddof=0); report the sample standard deviation, "
             "np.std(losses, ddof=1)")
STD_IS_SE = ("the spread is the standard error of the mean (std / sqrt(n)), not the standard deviation: report the "
             "sample standard deviation of the test losses, np.std(losses, ddof=1)")
NAN_CHOSEN = ("a diverged configuration (NaN validation loss) was chosen as the best: a NaN is never the smallest "
              "loss; skip NaNs (np.nanargmin, or compare with < starting from infinity)")
TIE_LAST = ("among configurations with equal validation losses the last one was chosen: choose the first one "
            "evaluated (compare with <, not <=)")
GRID_DEDUP = ("a value listed twice was tried once: like ParameterGrid, the grid tries every combination of the "
              "lists as given, a repeated value's combinations twice")
KEEPS_TIES = ("on ties at the cut a rung keeps more than max(1, n // eta) configurations (every loss up to the "
              "threshold?): keep exactly max(1, n // eta), the first ones among equal losses")
ALIASED_RUNGS = ("every rung lists the same configurations as the last one: rungs[k]['configs'] is the list you "
                 "later shrink or sort in place; store a copy, list(alive)")


# ---------------------------------------------------------------- plain values and synthetic losses
def plain(value, depth=0):
    """``value`` with numpy scalars turned into Python numbers, tuples kept, for the grader."""
    if depth > 6:
        return value
    if isinstance(value, dict):
        return {k: plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(plain(v, depth + 1) for v in value)
    if isinstance(value, list):
        return [plain(v, depth + 1) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _key(value) -> str:
    value = plain(value)
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return repr(value)
    if isinstance(value, (int, float)):
        return f"{float(value):.9g}"   # agrees for values equal to ~1e-9 (10**x vs exp(x), float32 inputs...)
    return repr(value)


def unit(config, salt, tag="") -> float:
    """A number in [0, 1) fixed by the configuration (its names and values), a salt and a tag."""
    if not isinstance(config, dict):
        raise TypeError(f"a configuration must be a dict of hyperparameter values, got {type(config).__name__}")
    text = ";".join(f"{k}={_key(config[k])}" for k in sorted(config)) + f"|{salt}|{tag}"
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") / 2.0 ** 64


def synthetic_scores(config, salt=0, ties=0, diverge=False) -> dict:
    """Training, validation and test losses of a configuration: deterministic, and they disagree.

    ``ties``: the validation loss takes only that many values, so configurations tie. ``diverge``: a
    configuration with lr >= 1 diverged, all its losses are NaN."""
    if diverge and isinstance(config.get("lr"), (int, float)) and config["lr"] >= 1.0:
        nan = float("nan")
        return {"train": nan, "val": nan, "test": nan}
    val = 0.2 + unit(config, salt, "val")
    if ties:
        val = 0.2 + int(unit(config, salt, "val") * ties) / ties
    return {"train": 0.1 * val + 0.2 * unit(config, salt, "train"),
            "val": val,
            "test": val + 0.6 * unit(config, salt, "test")}


def synthetic_curve(config, budget, salt=0, ties=0) -> float:
    """A learning curve: the validation loss after ``budget`` units of training. Curves cross, so the ranking
    after a short training differs from the ranking after a long one. ``ties``: losses rounded to 1/ties, so
    that configurations tie."""
    final = 0.1 + unit(config, salt, "final")
    start = 2.0 + unit(config, salt, "start")
    rate = 0.2 + 1.3 * unit(config, salt, "rate")
    loss = float(final + (start - final) * (1.0 + float(budget)) ** (-rate))
    return round(loss * ties) / ties if ties else loss


def synthetic_test_loss(config, seed, fit_on, salt=0) -> float:
    """The test loss of ``config`` refitted with ``seed`` on the named splits."""
    splits = "+".join(sorted(str(s) for s in fit_on))
    base = 0.3 + 0.1 * unit(config, salt, "base") + (0.15 if splits == "train" else 0.0)
    return float(base + 0.05 * unit({"seed": int(seed), "on": splits}, salt, "noise"))


# ---------------------------------------------------------------- sandbox drivers (the grader's probes)
def _recorder(salt, ties=0, diverge=False):
    calls = []

    def evaluate(config):
        if not isinstance(config, dict):
            raise TypeError(f"evaluate(config): config must be a dict, got {type(config).__name__}")
        calls.append(plain(dict(config)))
        return synthetic_scores(config, salt, ties, diverge)
    return evaluate, calls


def grid_run(fn, space, salt, ties=0, diverge=False):
    evaluate, calls = _recorder(salt, ties, diverge)
    best, results = fn({k: list(v) for k, v in space.items()}, evaluate)
    return {"best": plain(best), "results": plain(results), "calls": calls}


def _scipy_log_uniform(low, high, size, rng):
    """scipy's log-uniform samples (the same numbers Part 1 asks for), standing in for the notebook's own
    log_uniform while random_search is graded, so that a mistake in Part 1 is not charged twice."""
    return _frozen_log_uniform(float(low), float(high)).rvs(size=size, random_state=rng)


@functools.lru_cache(maxsize=64)
def _frozen_log_uniform(low, high):
    """One frozen distribution per range: building it costs more than drawing from it."""
    from scipy.stats import loguniform

    return loguniform(low, high)


def random_run(fn, space, n_trials, seed, salt, evaluate_nothing=False, ties=0, diverge=False):
    evaluate, calls = _recorder(salt, ties, diverge)
    space = {k: tuple([v[0], list(v[1])] if v[0] == "choice" else v) for k, v in space.items()}
    namespace = getattr(fn, "__globals__", {})
    own = namespace.get("log_uniform")
    if own is not None:
        namespace["log_uniform"] = _scipy_log_uniform
    try:
        best, results = fn(space, int(n_trials), np.random.default_rng(int(seed)), evaluate)
    finally:
        if own is not None:
            namespace["log_uniform"] = own
    if evaluate_nothing:   # many trials, for the statistics: only the configurations
        return {"configs": [plain(c) for c, _ in results], "calls": len(calls)}
    return {"best": plain(best), "results": plain(results), "calls": calls}


def log_uniform_run(fn, low, high, size, seed):
    size = tuple(size) if isinstance(size, list) else size
    return plain(fn(low, high, size, np.random.default_rng(int(seed))))


def log_uniform_error(fn, low, high):
    """The name of the exception ``fn`` raises for invalid bounds, or None."""
    try:
        fn(low, high, 3, np.random.default_rng(0))
    except Exception as exc:  # noqa: BLE001
        return type(exc).__name__
    return None


class _Runaway(Exception):
    pass


MAX_HALVING_CALLS = 400


def halving_run(fn, configs, min_budget, eta, salt, ties=0):
    """Runs ``fn``; if it never stops (more than MAX_HALVING_CALLS trainings), the rungs are rebuilt from the
    calls of train_eval (one rung per budget) and ``winner`` is None. ``ties``: losses rounded so that
    configurations tie."""
    calls = []

    def train_eval(config, budget):
        if len(calls) >= MAX_HALVING_CALLS:
            raise _Runaway
        calls.append([plain(dict(config)), plain(budget)])
        return synthetic_curve(config, budget, salt, ties)
    try:
        winner, rungs = fn([dict(c) for c in configs], train_eval, min_budget, int(eta))
    except _Runaway:
        rungs = []
        for config, budget in calls:
            if not rungs or rungs[-1]["budget"] != budget:
                rungs.append({"configs": [], "budget": budget, "losses": []})
            rungs[-1]["configs"].append(config)
            rungs[-1]["losses"].append(synthetic_curve(config, budget, salt, ties))
        return {"winner": None, "rungs": rungs[:12], "calls": calls, "runaway": True}
    return {"winner": plain(winner), "rungs": plain(rungs), "calls": calls, "runaway": False}


def report_run(fn, config, seeds, salt):
    calls = []

    def fit_and_test(cfg, seed, fit_on):
        names = [str(s) for s in fit_on] if isinstance(fit_on, (list, tuple, set, frozenset)) else [str(fit_on)]
        calls.append([plain(seed), sorted(names)])
        return synthetic_test_loss(cfg, seed, names, salt)
    out = fn(dict(config), fit_and_test, list(seeds))
    return {"out": plain(out), "calls": calls}


# ---------------------------------------------------------------- visible checks
def _fail(what, message):
    raise AssertionError(f"{what}: {message}")


def check_log_uniform(fn) -> None:
    """Exact values against scipy.stats.loguniform with the same seed, the shape, the decades, the errors."""
    from scipy.stats import loguniform

    what = "log_uniform"
    got = fn(1e-5, 1e-1, 4000, np.random.default_rng(7))
    got = np.asarray(got, dtype=float)
    if got.shape != (4000,):
        _fail(what, f"log_uniform(1e-5, 1e-1, 4000, rng) should have shape (4000,), got {got.shape}")
    if np.any(got < 1e-5) or np.any(got > 1e-1):
        _fail(what, "some samples lie outside [low, high] (did you return the exponent, log10 of the sample?)")
    share = np.mean(got < 1e-4)   # the first of four decades
    if share < 0.05:
        _fail(what, UNIFORM_NOT_LOG + f" (only {share:.1%} of the samples fall in [1e-5, 1e-4), one decade of four)")
    want = loguniform(1e-5, 1e-1).rvs(size=4000, random_state=np.random.default_rng(7))
    again = np.asarray(fn(1e-5, 1e-1, 4000, np.random.default_rng(7)), dtype=float)
    if not np.array_equal(got, again) or not np.allclose(got, want, rtol=1e-9):
        if not np.allclose(np.sort(got), np.sort(want), rtol=1e-9) and abs(share - 0.25) < 0.05:
            _fail(what, IGNORES_GENERATOR)
        _fail(what, "the samples differ from scipy.stats.loguniform(low, high).rvs(size, random_state=rng) with the "
                    "same seed: draw once with rng.uniform(log(low), log(high), size) and exponentiate")
    two_d = np.asarray(fn(0.5, 2.0, (2, 3), np.random.default_rng(1)))
    if two_d.shape != (2, 3):
        _fail(what, f"size=(2, 3) should give shape (2, 3), got {two_d.shape}")
    for low, high in ((0.0, 1.0), (-1.0, 1.0), (1.0, 1.0), (2.0, 1.0)):
        try:
            fn(low, high, 3, np.random.default_rng(0))
        except ValueError:
            continue
        except Exception as exc:  # noqa: BLE001
            _fail(what, f"log_uniform({low}, {high}, ...) should raise ValueError, not {type(exc).__name__}")
        _fail(what, f"log_uniform({low}, {high}, ...) should raise ValueError (low > 0 and high > low are needed)")


def _best_mistake(best, results):
    """A named mistake when ``best`` is the choice by another score than the validation loss."""
    scores = [s for _, s in results]
    configs = [c for c, _ in results]
    for key, message in (("test", CHOSE_ON_TEST), ("train", CHOSE_ON_TRAIN)):
        if best == configs[int(np.argmin([s[key] for s in scores]))]:
            return message
    if best == configs[int(np.argmax([s["val"] for s in scores]))]:
        return CHOSE_LARGEST
    return None


def _check_search_output(what, out, n_expected):
    if not (isinstance(out, tuple) and len(out) == 2):
        _fail(what, "return a tuple (best_config, results)")
    best, results = out
    if not isinstance(results, list) or not all(isinstance(r, tuple) and len(r) == 2 for r in results):
        _fail(what, "results must be a list of (config, scores) tuples, in the order evaluated")
    if len(results) != n_expected:
        return best, results
    return best, results


def check_grid_search(fn) -> None:
    from sklearn.model_selection import ParameterGrid

    what = "grid_search"
    space = {"weight_decay": [0.0, 1e-4], "lr": [1e-3, 1e-2, 1e-1], "activation": ["relu", "tanh"]}
    evaluate, calls = _recorder(salt=16)
    best, results = _check_search_output(what, fn({k: list(v) for k, v in space.items()}, evaluate), 12)
    want = list(ParameterGrid(space))
    configs = [plain(c) for c, _ in results]
    if len(configs) < len(want):
        _fail(what, ZIPPED_GRID + f" (you tried {len(configs)} configurations; 2 x 3 x 2 = 12 exist)")
    if len(configs) > len(want) or any(c not in want for c in configs):
        _fail(what, f"you tried {len(configs)} configurations, some not in the grid; there are 12")
    if configs != want:
        _fail(what, GRID_ORDER)
    if len(calls) != len(want):
        _fail(what, f"evaluate was called {len(calls)} times for 12 configurations: call it once per configuration")
    for (config, scores), called in zip(results, calls):
        if scores != synthetic_scores(called, 16):
            _fail(what, "each result must hold the scores evaluate returned for that configuration")
    right = configs[int(np.argmin([s["val"] for _, s in results]))]
    if plain(best) != right:
        _fail(what, _best_mistake(plain(best), [(plain(c), s) for c, s in results])
              or "best_config is not the configuration with the smallest validation loss")
    # lr = 1 diverges (NaN losses) and is tried first: it must not be chosen
    evaluate, _ = _recorder(salt=17, diverge=True)
    best, results = fn({"lr": [1.0, 0.1, 0.01], "weight_decay": [0.0, 1e-4]}, evaluate)
    if not isinstance(best, dict) or best.get("lr") == 1.0:
        _fail(what, NAN_CHOSEN + " (a grid whose first learning rate, 1.0, diverged)")


def check_random_search(fn) -> None:
    from scipy.stats import loguniform

    what = "random_search"
    space = {"lr": ("log-uniform", 1e-5, 1.0), "momentum": ("uniform", 0.8, 0.99),
             "batch_size": ("choice", [32, 64, 128])}
    evaluate, calls = _recorder(salt=12)
    best, results = _check_search_output(what, fn(space, 400, np.random.default_rng(3), evaluate), 400)
    if len(results) != 400 or len(calls) != 400:
        _fail(what, f"400 trials should give 400 results and 400 calls of evaluate; got {len(results)} results "
                    f"and {len(calls)} calls")
    configs = [plain(c) for c, _ in results]
    if any(sorted(c) != ["batch_size", "lr", "momentum"] for c in configs):
        _fail(what, "every configuration must have one value for each name of the space, and nothing else")
    lr = np.array([c["lr"] for c in configs], dtype=float)
    mom = np.array([c["momentum"] for c in configs], dtype=float)
    if np.any(lr < 1e-5) or np.any(lr > 1.0) or np.any(mom < 0.8) or np.any(mom > 0.99):
        _fail(what, "some values lie outside their ranges")
    if any(c["batch_size"] not in (32, 64, 128) for c in configs):
        _fail(what, "a 'choice' value must be one of the listed values")
    if np.mean(lr < 1e-3) < 0.25:   # two decades of five: 40% when log-uniform, 0.1% when uniform
        _fail(what, "lr was " + UNIFORM_NOT_LOG)
    again = fn(space, 400, np.random.default_rng(3), _recorder(salt=12)[0])
    if [plain(c) for c, _ in again[1]] != configs:
        _fail(what, IGNORES_GENERATOR)
    one = fn({"lr": ("log-uniform", 1e-5, 1.0)}, 1, np.random.default_rng(5), _recorder(salt=12)[0])[1]
    if not np.isclose(one[0][0]["lr"], loguniform(1e-5, 1.0).rvs(random_state=np.random.default_rng(5)), rtol=1e-9):
        _fail(what, "with a space of one log-uniform name and one trial, the value must be your "
                    "log_uniform(low, high, None, rng): one draw from rng per name")
    right = configs[int(np.argmin([s["val"] for _, s in results]))]
    if plain(best) != right:
        _fail(what, _best_mistake(plain(best), [(plain(c), s) for c, s in results])
              or "best_config is not the configuration with the smallest validation loss")
    # an lr >= 1 diverges (NaN losses); with this seed the first trial does: it must not be chosen
    best, _ = fn({"lr": ("log-uniform", 1e-2, 10.0)}, 8, np.random.default_rng(4),
                 _recorder(salt=18, diverge=True)[0])
    if not isinstance(best, dict) or not best.get("lr", 1.0) < 1.0:
        _fail(what, NAN_CHOSEN + " (8 trials of lr in [0.01, 10), the first one diverged)")


# The visible example of successive halving: 10 configurations, eta = 3, min_budget = 1 (computed once with the
# rule of the exercise; the ids of the survivors, in increasing loss).
HALVING_CONFIGS = [{"id": i} for i in range(10)]
HALVING_EXPECTED = {"sizes": [10, 3, 1], "budgets": [1, 3, 9]}


def check_successive_halving(fn) -> None:
    what = "successive_halving"
    out = halving_run(fn, HALVING_CONFIGS, 1, 3, salt=13)
    rungs = out["rungs"]
    if not isinstance(rungs, list) or not all(isinstance(r, dict) and {"configs", "budget", "losses"} <= set(r)
                                                for r in rungs):
        _fail(what, "return (winner, rungs), rungs a list of dicts with keys 'configs', 'budget' and 'losses'")
    sizes = [len(r["configs"]) for r in rungs]
    budgets = [r["budget"] for r in rungs]
    if len(set(budgets)) == 1 and len(budgets) > 1:
        _fail(what, BUDGET_CONSTANT)
    if sizes[:2] == [10, 4]:
        _fail(what, KEEPS_TOO_MANY + f" (rung sizes {sizes[:6]}; with 10 configurations and eta = 3 they are "
                                     "[10, 3, 1])")
    if sizes[:2] == [10, 7]:
        _fail(what, DROPS_FRACTION + f" (rung sizes {sizes[:6]}{'...' if len(sizes) > 6 else ''})")
    if out.get("runaway"):
        _fail(what, f"train_eval was called more than {MAX_HALVING_CALLS} times: stop after the rung with one "
                    "configuration")
    if sizes != HALVING_EXPECTED["sizes"]:
        _fail(what, f"rung sizes {sizes}; with 10 configurations and eta = 3 they are [10, 3, 1] (keep "
                    "max(1, n // eta) per rung, stop after the rung with one configuration)")
    if budgets != HALVING_EXPECTED["budgets"]:
        _fail(what, f"budgets {budgets}; with min_budget = 1 and eta = 3 they are [1, 3, 9] (min_budget * eta**k)")
    for k, rung in enumerate(rungs):
        if len(rung["losses"]) != len(rung["configs"]):
            _fail(what, f"rung {k}: one loss per configuration")
        for config, loss in zip(rung["configs"], rung["losses"]):
            if not np.isclose(loss, synthetic_curve(config, rung["budget"], 13), rtol=1e-12):
                _fail(what, f"rung {k}: each loss must be what train_eval returned for that configuration")
    if len(out["calls"]) != sum(sizes):
        _fail(what, f"train_eval was called {len(out['calls'])} times; it is called once per configuration and "
                    f"rung ({sum(sizes)} times here)")
    for k in range(len(rungs) - 1):
        losses = rungs[k]["losses"]
        ids = [c["id"] for c in rungs[k]["configs"]]
        survivors = sorted(c["id"] for c in rungs[k + 1]["configs"])
        order = np.argsort(losses, kind="stable")
        best, worst = sorted(ids[i] for i in order[:len(survivors)]), sorted(ids[i] for i in order[-len(survivors):])
        if survivors == worst and survivors != best:
            _fail(what, KEEPS_WORST)
        if survivors != best:
            _fail(what, f"rung {k + 1}: the survivors are not the configurations with the smallest losses in rung {k}")
    if out["winner"] != rungs[-1]["configs"][0]:
        _fail(what, "the winner is the one configuration of the last rung")


def check_final_report(fn) -> None:
    what = "final_report"
    config, seeds = {"lr": 0.01, "weight_decay": 1e-4}, [0, 1, 2, 3, 4]
    run = report_run(fn, config, seeds, salt=14)
    out, calls = run["out"], run["calls"]
    if not (isinstance(out, tuple) and len(out) == 3):
        _fail(what, "return a tuple (mean, std, test_losses)")
    mean, std, losses = out
    if len(calls) > len(seeds):
        _fail(what, TESTED_TWICE)
    if sorted(int(s) for s, _ in calls) != sorted(seeds):
        _fail(what, "call fit_and_test once for every seed you were given")
    fitted = {tuple(on) for _, on in calls}
    if any("test" in on for on in fitted):
        _fail(what, FIT_ON_TEST)
    if fitted == {("train",)}:
        _fail(what, REFIT_TRAIN_ONLY)
    if fitted != {("train", "val")}:
        _fail(what, "fit_on must name the splits ('train', 'val')")
    want = np.array([synthetic_test_loss(config, s, ("train", "val"), 14) for s in seeds])
    losses = np.asarray(losses, dtype=float)
    if losses.shape != want.shape or not np.allclose(losses, want, rtol=1e-12):
        _fail(what, "test_losses must be the losses fit_and_test returned, in the order of the seeds")
    if np.isclose(mean, want.min(), rtol=1e-12):
        _fail(what, BEST_SEED)
    if not np.isclose(mean, want.mean(), rtol=1e-12):
        _fail(what, "mean is not the mean of the test losses")
    if np.isclose(std, want.std(), rtol=1e-9):
        _fail(what, STD_DDOF0)
    if not np.isclose(std, want.std(ddof=1), rtol=1e-9):
        _fail(what, "std is not the sample standard deviation of the test losses (np.std(..., ddof=1))")
    try:
        fn(config, lambda c, s, on: 0.5, [0])
    except ValueError:
        return
    except Exception as exc:  # noqa: BLE001
        _fail(what, f"one seed should raise ValueError (no spread from one run), not {type(exc).__name__}")
    _fail(what, "one seed should raise ValueError: a spread needs at least two runs")


__all__ = ["check_log_uniform", "check_grid_search", "check_random_search", "check_successive_halving",
           "check_final_report", "synthetic_scores", "synthetic_curve", "synthetic_test_loss"]


def report_error(fn, seeds):
    """The name of the exception ``final_report`` raises for these seeds, or None."""
    try:
        fn({"lr": 0.1}, lambda c, s, on: 0.5, list(seeds))
    except Exception as exc:  # noqa: BLE001
        return type(exc).__name__
    return None
