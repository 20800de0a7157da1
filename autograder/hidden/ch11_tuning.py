"""Hidden tests for Chapter 11: hyperparameter tuning.

Each part states the contract the exercise's text gives and tries every item of it in a scenario. The searches
take callbacks, so every call goes through a driver of ``coursekit.checks.tuning`` (``probe``) that builds the
callback from plain numbers, records what the student's function asked of it and returns plain values. Here the
values are compared with ``solutions.tuning`` (the oracle for the searches), scipy's ``loguniform`` (Part 1) and
scikit-learn's ``ParameterGrid`` (Part 2). When an answer matches a known mistake, the message names it. Messages
never contain the hidden inputs or the expected values.
"""

from __future__ import annotations

import functools
import json
import math

import numpy as np
from scipy.stats import loguniform
from sklearn.model_selection import ParameterGrid

from coursekit.checks import tuning as ck
from solutions import tuning as ref

from ..verdicts import Credit, Foreign, Part, Scenario
from .common import Failure, Mistake, close, expect, forbid, probe, returned

DRIVER = "coursekit.checks.tuning:"


def _scenarios(table, make_calls, check):
    return [Scenario(label, make_calls(*case), check(*case), covers) for label, covers, case in table]


# ---------------------------------------------------------------- part 1: log_uniform
LOG_UNIFORM_CONTRACT = {
    "exact": "with a seeded generator, the values of scipy.stats.loguniform(low, high).rvs(size, random_state=rng): "
             "exp of one rng.uniform(log low, log high, size) draw",
    "decades": "the logarithm of the samples is uniform: every decade between low and high gets the same share",
    "range": "every sample lies in [low, high]",
    "size_tuple": "size may be a tuple: the result has that shape",
    "size_none": "size=None gives a single number",
    "narrow": "bounds that are not powers of ten, inside one decade",
    "generator": "the samples come from rng only: the same seed gives the same samples, another seed others",
    "errors": "low <= 0 or high <= low raises ValueError",
}
LOG_UNIFORM_SCENARIOS = [  # (label, covers, (low, high, size, seeds))
    ("a seeded generator, a few samples", ("exact",), (1e-4, 1.0, 6, (42,))),
    ("20000 samples over five decades", ("decades", "range"), (1e-6, 1e-1, 20000, (123,))),
    ("size given as a tuple", ("size_tuple",), (1e-3, 10.0, (3, 4), (5,))),
    ("size=None", ("size_none",), (1e-5, 1e-2, None, (8,))),
    ("bounds inside one decade", ("narrow",), (0.3, 0.7, 50, (17,))),
    ("the same seed twice, then another seed", ("generator",), (1e-4, 1e-1, 20, (9, 9, 10))),
    ("the visible test's samples", ("exact", "range"), (1e-5, 1e-1, 4000, (7,))),
]


def _lu_calls(low, high, size, seeds):
    return [probe(DRIVER + "log_uniform_run", "log_uniform", low, high, size, seed) for seed in seeds]


def _lu_want(low, high, size, seed):
    return loguniform(low, high).rvs(size=size, random_state=np.random.default_rng(seed))


@functools.lru_cache(maxsize=None)
def _lu_models(low, high, size, seed):
    """The samples of this seed, and key -> what each form of that mistake returns (with the generator of this seed,
    or np.random's global state, which the harness seeds with 0 before every call); once per process."""
    rng = lambda: np.random.default_rng(seed)  # noqa: E731
    ln, log10 = (math.log(low), math.log(high)), (math.log10(low), math.log10(high))
    return np.asarray(_lu_want(low, high, size, seed), dtype=float), {
        "ignores_generator": [np.exp(np.random.RandomState(0).uniform(*ln, size))],
        "uniform_not_log": [rng().uniform(low, high, size)],
        "returned_exponent": [rng().uniform(*ln, size), rng().uniform(*log10, size)],
        "mixed_bases": [10.0 ** rng().uniform(*ln, size), np.exp(rng().uniform(*log10, size))]}


@functools.lru_cache(maxsize=None)
def _lu_ruled_out(low, high, size, seeds):
    """The keys whose every form differs from the samples of one of these seeds (beyond the check's rtol=1e-9): an
    answer that passes did not make them. Ignoring rng includes a generator the answer seeds itself, which one seed
    may not tell from rng's: only two different seeds rule it out."""
    models = [_lu_models(low, high, size, seed) for seed in seeds]
    forms = models[0][1]

    def fails(key, f):  # form f of the mistake differs from the samples of some seed
        return any(not close(wrong[key][f], want, 1e-9, 0) for want, wrong in models)
    return frozenset(key for key in forms if all(fails(key, f) for f in range(len(forms[key])))
                     and (key != "ignores_generator" or len(set(seeds)) > 1))


def _check_log_uniform(low, high, size, seeds):
    def check(values):
        what = "log_uniform"
        outs = returned(values, what)
        if len(seeds) == 3 and close(outs[0], outs[1], 0, 0) and close(outs[0], outs[2], 0, 0):
            raise Mistake(f"{what}: two generators with different seeds gave the same samples: " + ck.IGNORES_GENERATOR,
                          key="ignores_generator", plain="another seed gave the same samples")
        if len(seeds) == 3 and not close(outs[0], outs[1], 0, 0):
            raise Mistake(f"{what}: two generators with the same seed gave different samples: "
                          + ck.IGNORES_GENERATOR, key="ignores_generator", plain="the same seed gave other samples")
        for got, seed in zip(outs, seeds):
            want, models = _lu_models(low, high, size, seed)
            if isinstance(got, (Foreign, str)) or got is None:
                expect(got, want, what)
            got_arr = np.asarray(got, dtype=float)
            if got_arr.shape != want.shape:
                raise Failure(f"{what}: size={size!r} should give shape {want.shape}, got shape {got_arr.shape}")
            plain = "the samples differ from the log-uniform ones of the same seed"
            (global_state,) = models["ignores_generator"]
            if not close(want, global_state) and close(got_arr, global_state):
                raise Mistake(f"{what}: log-uniform, but from np.random's global state: " + ck.IGNORES_GENERATOR,
                              key="ignores_generator", plain=plain)
            if close(got_arr, models["uniform_not_log"][0]):
                raise Mistake(f"{what}: " + ck.UNIFORM_NOT_LOG, key="uniform_not_log", plain=plain)
            if any(close(got_arr, m) for m in models["returned_exponent"]):
                raise Mistake(f"{what}: you returned the logarithm (the exponent), not the sample: exponentiate it",
                              key="returned_exponent", plain=plain)
            if any(close(got_arr, m) for m in models["mixed_bases"]):
                raise Mistake(f"{what}: the logarithm and the exponential use different bases (log vs log10)",
                              key="mixed_bases", plain=plain)
            if got_arr.size >= 1000:
                share = np.histogram(np.log10(got_arr), bins=np.linspace(np.log10(low), np.log10(high), 6))[0]
                if share[0] < 0.05 * got_arr.size:
                    raise Mistake(f"{what}: " + ck.UNIFORM_NOT_LOG, key="uniform_not_log", plain=plain)
            if np.any(got_arr < low) or np.any(got_arr > high):
                raise Failure(f"{what}: some samples lie outside [low, high]")
            if not close(got_arr, want, 1e-9, 0) and got_arr.size >= 1000:
                share = np.histogram(np.log10(got_arr), bins=np.linspace(np.log10(low), np.log10(high), 5))[0]
                if np.all(np.abs(share / got_arr.size - 0.25) < 0.03):
                    raise Mistake(f"{what}: log-uniform, but not the values of the generator's rng.uniform: "
                                  + ck.IGNORES_GENERATOR, key="ignores_generator", plain=plain)
            expect(got_arr, want, what, rtol=1e-9, atol=0)
        return _lu_ruled_out(low, high, size, seeds)  # passed: not the mistakes whose every form fails here
    return check


ERROR_BOUNDS = [(0.0, 1.0), (-1e-3, 1.0), (1.0, 1.0), (2.0, 1.0)]


def _check_errors(values):
    what = "log_uniform"
    for (low, high), got in zip(ERROR_BOUNDS, returned(values, what)):
        if got is None:
            raise Failure(f"{what}: low={low}, high={high} should raise ValueError; your function returned samples")
        if got != "ValueError":
            raise Failure(f"{what}: low={low}, high={high} should raise ValueError, not {got}")


LOG_UNIFORM_CREDITS = [
    Credit("the samples of a seeded generator", 1.0, ("exact", "decades", "range", "narrow", "generator")),
    Credit("size as a tuple or None", 0.5, ("size_tuple", "size_none")),
    Credit("ValueError for invalid bounds", 0.5, ("errors",)),
]
LOG_UNIFORM_PARTS = _scenarios(LOG_UNIFORM_SCENARIOS, _lu_calls, _check_log_uniform) + [
    Scenario("invalid bounds", [probe(DRIVER + "log_uniform_error", "log_uniform", lo, hi) for lo, hi in ERROR_BOUNDS],
             _check_errors, ("errors",))]


# ---------------------------------------------------------------- the searches' results
def _config_close(a, b) -> bool:
    if not (isinstance(a, dict) and isinstance(b, dict)) or sorted(a) != sorted(b):
        return False
    for k in a:
        x, y = a[k], b[k]
        if isinstance(y, float) and not isinstance(x, (bool, str)) and isinstance(x, (int, float)):
            if not math.isclose(x, y, rel_tol=1e-9, abs_tol=0.0):
                return False
        elif x != y or type(x) is bool and type(y) is not bool:
            return False
    return True


def _results(out, what):
    if isinstance(out, Foreign) or not isinstance(out, dict) or not {"best", "results", "calls"} <= set(out):
        raise Failure(f"{what}: return a tuple (best_config, results)")
    results = out["results"]
    if not isinstance(results, list) or not all(isinstance(r, (tuple, list)) and len(r) == 2
                                                and isinstance(r[0], dict) and isinstance(r[1], dict)
                                                for r in results):
        raise Failure(f"{what}: results must be a list of (config, scores) tuples, config and scores both dicts")
    return out["best"], [(c, s) for c, s in results], out["calls"]


def _same_scores(a, b) -> bool:
    """Equal score dicts, NaN equal to NaN (a diverged run)."""
    if not (isinstance(a, dict) and isinstance(b, dict)) or sorted(a) != sorted(b):
        return False
    return all(a[k] == b[k] or (isinstance(a[k], float) and isinstance(b[k], float) and math.isnan(a[k])
                                and math.isnan(b[k])) for k in a)


def _first_min(values) -> int | None:
    """Index of the first smallest number, NaN never the smallest; None when all are NaN."""
    arr = np.array(values, dtype=float)
    return None if np.all(np.isnan(arr)) else int(np.nanargmin(arr))


CHOICES = {"tie_last": ck.TIE_LAST, "chose_on_test": ck.CHOSE_ON_TEST, "chose_on_train": ck.CHOSE_ON_TRAIN,
           "chose_largest": ck.CHOSE_LARGEST}


def _choices(results) -> dict:
    """key -> the index of ``results`` that each named wrong rule of CHOICES picks as best_config (None: none): the
    last of the smallest validation losses, the first smallest test or training loss, the largest validation loss."""
    vals = np.array([s["val"] for _, s in results], dtype=float)
    finite = ~np.isnan(vals)
    ties_at_min = [i for i in np.flatnonzero(finite) if vals[i] == np.nanmin(vals)]
    return {"tie_last": ties_at_min[-1] if ties_at_min else None,
            "chose_on_test": _first_min([s["test"] for _, s in results]),
            "chose_on_train": _first_min([s["train"] for _, s in results]),
            "chose_largest": int(np.nanargmax(vals)) if np.any(finite) else None}


def _choices_ruled_out(results) -> set:
    """The rules of CHOICES that pick another configuration than the right one in the reference's ``results``: an
    answer whose best_config is right there did not follow them."""
    right = results[_first_min([s["val"] for _, s in results])][0]
    return {key for key, i in _choices(results).items() if i is not None and not _config_close(results[i][0], right)}


def _check_scores_and_best(what, best, results, calls, salt, ties=0, diverge=False):
    if len(calls) > len(results):
        raise Mistake(f"{what}: evaluate was called more than once for some configurations: call it exactly "
                      "once per configuration and keep its scores (each call is a whole training run)",
                      key="evaluated_twice", plain="evaluate was called more often than there are results")
    if len(calls) != len(results):
        raise Failure(f"{what}: evaluate was called {len(calls)} times for {len(results)} configurations: call it "
                      "exactly once per configuration")
    for (config, scores), called in zip(results, calls):
        if not _config_close(config, called) or not _same_scores(scores, ck.synthetic_scores(called, salt, ties,
                                                                                              diverge)):
            raise Failure(f"{what}: each result must hold a configuration and the scores evaluate returned for it, "
                          "in the order evaluated")
    vals = np.array([s["val"] for _, s in results], dtype=float)
    right = results[_first_min(vals)][0]
    if not _config_close(best, right):
        plain = "best_config is not the configuration with the smallest validation loss"
        if isinstance(best, dict):
            # each named choice is its own rule applied to these results; a mistake is named only when its rule
            # alone picks this configuration (two rules that pick it here name neither)
            hits = {}
            chosen = [i for i, (c, _) in enumerate(results) if _config_close(best, c)]
            if chosen and all(np.isnan(vals[i]) for i in chosen):
                hits["nan_chosen"] = ck.NAN_CHOSEN
            for key, i in _choices(results).items():
                if i is not None and _config_close(best, results[i][0]):
                    hits[key] = CHOICES[key]
            if hits:  # several rules pick it here: consistent with each (the part names one only if it explains all)
                (key, message), *others = hits.items()
                raise Mistake(f"{what}: " + message, key=key, also=tuple(k for k, _ in others), plain=plain)
        raise Failure(f"{what}: {plain}")


# ---------------------------------------------------------------- part 2: grid_search
GRID_CONTRACT = {
    "product": "every combination of the values (the Cartesian product) is evaluated, each once",
    "order": "in ParameterGrid's order: names sorted, the last name varying fastest, lists in their given order",
    "evaluate_once": "evaluate is called exactly once per configuration, with the configuration as a dict",
    "results": "results holds (config, scores) in the order evaluated, scores as evaluate returned them",
    "choose_val": "best_config has the smallest validation loss, also when the test and training losses disagree",
    "one_value": "a name with a single value",
    "one_name": "a space with a single name",
    "mixed_types": "values of any type: strings, booleans, None, ints and floats",
    "repeated": "a value listed twice is tried twice, as ParameterGrid does",
    "ties": "among equal validation losses, the first configuration evaluated is the best",
    "nan": "a diverged run (NaN losses) is never the best, also when it is evaluated first",
}
GRID_CREDITS = [
    Credit("every combination, in order, the best on validation", 1.25,
           ("product", "order", "evaluate_once", "results", "choose_val", "one_value", "one_name", "mixed_types")),
    Credit("ties and diverged runs", 0.5, ("ties", "nan")),
    Credit("a value listed twice", 0.25, ("repeated",)),
]
GRID_SCENARIOS = [  # (label, covers, (space, salt))
    ("a 3 x 2 grid", ("product", "evaluate_once", "results", "choose_val"),
     ({"lr": [1e-3, 1e-2, 1e-1], "momentum": [0.0, 0.9]}, 1)),
    ("names not given in sorted order", ("order", "product"),
     ({"weight_decay": [0.0, 1e-3, 1e-2], "batch_size": [32, 128], "lr": [0.1, 0.01]}, 2)),
    ("a name with one value", ("one_value",), ({"lr": [0.05, 0.5], "nesterov": [True], "momentum": [0.9, 0.5]}, 3)),
    ("a space with one name", ("one_name",), ({"lr": [1e-4, 1e-3, 1e-2, 1e-1, 1.0]}, 103)),
    ("strings, booleans and None as values", ("mixed_types",),
     ({"activation": ["relu", "gelu", "tanh"], "scheduler": [None, "cosine"], "amsgrad": [False, True]}, 102)),
    ("the visible test's grid", ("product", "order", "choose_val"),
     ({"weight_decay": [0.0, 1e-4], "lr": [1e-3, 1e-2, 1e-1], "activation": ["relu", "tanh"]}, 16)),
    ("a value listed twice", ("repeated",), ({"momentum": [0.9, 0.0], "lr": [0.1, 0.01, 0.1]}, 112)),
    ("validation losses that tie", ("ties",),
     ({"lr": [1e-4, 1e-3, 1e-2, 1e-1], "weight_decay": [0.0, 1e-4, 1e-3]}, 106, 3)),
    ("a diverged run evaluated first (NaN losses)", ("nan",),
     ({"lr": [1.0, 0.1, 0.01], "momentum": [0.0, 0.9]}, 112, 0, True)),
]


def _grid_calls(space, salt, ties=0, diverge=False):
    return [probe(DRIVER + "grid_run", "grid_search", space, salt, ties, diverge)]


def _distinct(configs):
    return [c for i, c in enumerate(configs) if c not in configs[:i]]


@functools.lru_cache(maxsize=None)
def _grid_models(case):
    """ParameterGrid's configurations of a case (the JSON of (space, salt, ties, diverge)), and the keys of the
    mistakes whose models fail it: the distinct configurations (dedup), the wrong rules of choosing the best one on
    the reference's results; once per process."""
    space, salt, ties, diverge = json.loads(case)
    want = list(ParameterGrid(space))   # a value listed twice gives its combinations twice
    ruled_out = _choices_ruled_out([(c, ck.synthetic_scores(c, salt, ties, diverge)) for c in want])
    return want, frozenset(ruled_out | ({"dedup"} if _distinct(want) != want else set()))


def _check_grid(space, salt, ties=0, diverge=False):
    def check(values):
        what = "grid_search"
        (out,) = returned(values, what)
        best, results, calls = _results(out, what)
        want, ruled_out = _grid_models(json.dumps([space, salt, ties, diverge]))
        configs = [c for c, _ in results]
        if configs != want:
            plain = "the configurations evaluated are not ParameterGrid's, in its order"
            if any(c not in want for c in configs):
                raise Failure(f"{what}: some configurations are not combinations of the values in space")
            if len(want) > len(_distinct(want)) and configs == _distinct(want):
                raise Mistake(f"{what}: " + ck.GRID_DEDUP, key="dedup", plain=plain)
            if len(configs) > len(want) or any(configs.count(c) > want.count(c) for c in configs):
                raise Failure(f"{what}: a configuration was evaluated more often than the grid holds it; evaluate "
                              "each combination once")
            if len(_distinct(configs)) < len(_distinct(want)):
                raise Mistake(f"{what}: " + ck.ZIPPED_GRID, key="zipped", plain=plain)
            if sorted(repr(sorted(c.items(), key=repr)) for c in configs) == \
                    sorted(repr(sorted(c.items(), key=repr)) for c in want):
                raise Mistake(f"{what}: " + ck.GRID_ORDER, key="order", plain=plain)
            raise Failure(f"{what}: {plain}")
        _check_scores_and_best(what, best, results, calls, salt, ties, diverge)
        return ruled_out  # passed: not the mistakes whose models fail here
    return check


# ---------------------------------------------------------------- part 3: random_search
RANDOM_CONTRACT = {
    "exact": "with a seeded generator: trial after trial, names in sorted order, one draw each (the reference)",
    "log_uniform": "a 'log-uniform' name is sampled log-uniformly (with log_uniform(low, high, None, rng))",
    "uniform": "a 'uniform' name is rng.uniform(low, high)",
    "choice": "a 'choice' name is one of the listed values, values[rng.integers(len(values))], of any type",
    "evaluate_once": "evaluate is called exactly once per trial; results hold (config, scores) in that order",
    "choose_val": "best_config has the smallest validation loss, also when the test and training losses disagree",
    "one_trial": "n_trials = 1",
    "generator": "only rng is used: the same seed gives the same search",
    "ties": "among equal validation losses, the first trial is the best",
    "nan": "a diverged run (NaN losses) is never the best, also when it is the first trial",
}
RANDOM_CREDITS = [
    Credit("the trials of a seeded generator, the best on validation", 1.5,
           ("exact", "log_uniform", "uniform", "choice", "evaluate_once", "choose_val", "one_trial", "generator")),
    Credit("ties and diverged runs", 0.5, ("ties", "nan")),
]
RANDOM_SCENARIOS = [  # (label, covers, (space, n_trials, seed, salt))
    ("a log-uniform lr and weight decay, 12 trials", ("exact", "log_uniform", "evaluate_once", "choose_val"),
     ({"lr": ("log-uniform", 1e-5, 1.0), "weight_decay": ("log-uniform", 1e-6, 1e-2)}, 12, 4, 21)),
    ("a uniform name", ("uniform", "exact"), ({"dropout": ("uniform", 0.0, 0.5)}, 8, 5, 22)),
    ("choices of strings and of numbers", ("choice", "exact"),
     ({"activation": ("choice", ["relu", "gelu", "tanh"]), "batch_size": ("choice", [16, 32, 64, 128])}, 10, 6, 23)),
    ("names not given in sorted order, all three kinds", ("exact",),
     ({"momentum": ("uniform", 0.8, 0.99), "lr": ("log-uniform", 1e-4, 1.0), "act": ("choice", ["relu", "tanh"])},
      9, 7, 100)),
    ("one trial", ("one_trial",), ({"lr": ("log-uniform", 1e-3, 1.0)}, 1, 8, 25)),
    ("the visible test's space, 400 trials", ("log_uniform", "uniform", "choice", "choose_val"),
     ({"lr": ("log-uniform", 1e-5, 1.0), "momentum": ("uniform", 0.8, 0.99),
       "batch_size": ("choice", [32, 64, 128])}, 400, 3, 12)),
    ("validation losses that tie", ("ties",),
     ({"lr": ("log-uniform", 1e-4, 1.0), "weight_decay": ("log-uniform", 1e-6, 1e-2)}, 12, 9, 28, 3)),
    ("a diverged first trial (NaN losses)", ("nan",),
     ({"lr": ("log-uniform", 1e-3, 10.0), "momentum": ("uniform", 0.5, 0.99)}, 8, 5, 33, 0, True)),
]
STAT_SPACE = {"lr": ("log-uniform", 1e-6, 1.0)}


def _random_calls(space, n_trials, seed, salt, ties=0, diverge=False):
    return [probe(DRIVER + "random_run", "random_search", space, n_trials, seed, salt, False, ties, diverge)]


def _uniform_instead(space, n_trials, seed, salt):
    """What sampling every 'log-uniform' name uniformly would give."""
    bad = {k: ("uniform", v[1], v[2]) if v[0] == "log-uniform" else v for k, v in space.items()}
    return ref.random_search(bad, n_trials, np.random.default_rng(seed), lambda c: ck.synthetic_scores(c, salt))[1]


def _insertion_order(space, n_trials, seed):
    rng, out = np.random.default_rng(seed), []
    for _ in range(n_trials):
        out.append({k: ref.sample_config({k: v}, rng)[k] for k, v in space.items()})
    return out


class _GlobalState:
    """np.random's legacy global state (seeded with 0 by the harness before every call) behind the Generator
    methods the rule uses: the model of a search that ignores ``rng``."""

    def __init__(self):
        self.state = np.random.RandomState(0)

    def uniform(self, low, high, size=None):
        return self.state.uniform(low, high, size)

    def integers(self, n):
        return self.state.randint(n)


def _same_configs(got, want) -> bool:
    return len(got) == len(want) and all(_config_close(c, w) for c, w in zip(got, want))


@functools.lru_cache(maxsize=None)
def _random_models(case):
    """The reference's results of a case (the JSON of (space, n_trials, seed, salt, ties, diverge)), key -> the
    configurations of each mistake's model, and the keys of the mistakes whose models fail the case; once per
    process. Ignoring rng includes a generator the answer seeds itself, which one seed may not tell from rng's: a
    single search never rules it out."""
    space, n_trials, seed, salt, ties, diverge = json.loads(case)
    results = ref.random_search(space, n_trials, np.random.default_rng(seed),
                                lambda c: ck.synthetic_scores(c, salt, ties, diverge))[1]
    models = {"ignores_generator": [c for c, _ in ref.random_search(space, n_trials, _GlobalState(),
                                                                     lambda c: {"val": 0.0})[1]],
              "uniform_not_log": [c for c, _ in _uniform_instead(space, n_trials, seed, salt)],
              "insertion_order": _insertion_order(space, n_trials, seed)}
    fails = {key for key, m in models.items()
             if key != "ignores_generator" and not _same_configs(m, [c for c, _ in results])}
    return results, models, frozenset(fails | _choices_ruled_out(results))


def _check_random(space, n_trials, seed, salt, ties=0, diverge=False):
    def check(values):
        what = "random_search"
        (out,) = returned(values, what)
        best, results, calls = _results(out, what)
        want, models, ruled_out = _random_models(json.dumps([space, n_trials, seed, salt, ties, diverge]))
        configs = [c for c, _ in results]
        if len(configs) != n_trials:
            raise Failure(f"{what}: {n_trials} trials should give {n_trials} results, got {len(configs)}")
        if any(sorted(c) != sorted(space) for c in configs):
            raise Failure(f"{what}: every configuration needs one value for each name of the space, and nothing else")
        for name, (kind, *args) in space.items():
            vals = [c[name] for c in configs]
            if kind == "choice" and any(v not in args[0] or type(v) is not type(args[0][0]) for v in vals):
                raise Failure(f"{what}: a 'choice' value must be one of the listed values (of the same type)")
            if kind != "choice" and any(isinstance(v, (bool, str)) or not isinstance(v, (int, float))
                                        or not args[0] <= v <= args[1] for v in vals):
                raise Failure(f"{what}: a '{kind}' value must be a number between low and high")
        if not _same_configs(configs, [w for w, _ in want]):
            if _same_configs(configs, models["ignores_generator"]):
                raise Mistake(f"{what}: " + ck.IGNORES_GENERATOR, key="ignores_generator",
                              plain="the trials differ from the rule's with the same seed")
            if _same_configs(configs, models["uniform_not_log"]):
                raise Mistake(f"{what}: a 'log-uniform' name was " + ck.UNIFORM_NOT_LOG, key="uniform_not_log",
                              plain="the trials differ from the rule's with the same seed")
            for name, (kind, *args) in space.items():
                if kind == "log-uniform" and len(configs) >= 100:
                    x = np.log10([c[name] for c in configs])
                    if np.mean(x < np.log10(args[0]) + 0.4 * (np.log10(args[1]) - np.log10(args[0]))) < 0.2:
                        raise Mistake(f"{what}: a 'log-uniform' name was " + ck.UNIFORM_NOT_LOG,
                                      key="uniform_not_log", plain="the trials differ from the rule's with the same "
                                                                   "seed")
            if list(space) != sorted(space) and _same_configs(configs, models["insertion_order"]):
                raise Mistake(f"{what}: the names were drawn in the order of the space, not in sorted order",
                              key="insertion_order", plain="the trials differ from the rule's with the same seed")
            raise Failure(f"{what}: the trials differ from the rule's with the same seed (trial after trial, names "
                          "sorted, one draw from rng per name)")
        _check_scores_and_best(what, best, results, calls, salt, ties, diverge)
        return ruled_out  # passed: not the mistakes whose models fail here
    return check


SAME_SEED = ({"lr": ("log-uniform", 1e-4, 1.0), "momentum": ("uniform", 0.5, 0.99)}, 6, (31, 31, 32), 27)


def _same_seed_judge(a, b, c):
    """The configurations of three searches, with the seeds of SAME_SEED."""
    what = "random_search"
    if a != b:
        raise Mistake(f"{what}: the same seed gave two different searches: " + ck.IGNORES_GENERATOR,
                      key="ignores_generator", plain="the same seed gave two different searches")
    if a == c:
        raise Mistake(f"{what}: two different seeds gave the same search: " + ck.IGNORES_GENERATOR,
                      key="ignores_generator", plain="two different seeds gave the same search")


def _ruled_out_by(judge, runs) -> frozenset:
    """The keys of the models whose ``runs`` (key -> the judge's arguments) the ``judge`` of a scenario fails."""
    fails = set()
    for key, args in runs.items():
        try:
            judge(*args)
        except Failure:
            fails.add(key)
    return frozenset(fails)


@functools.lru_cache(maxsize=None)
def _same_seed_ruled_out():
    """The keys of the models that fail SAME_SEED (ignoring rng in any way does: the same stream for every seed, or
    another one at every call); once per process."""
    space, n_trials, seeds, salt = SAME_SEED
    models = [_random_models(json.dumps([space, n_trials, seed, salt, 0, False]))[1] for seed in seeds]
    return _ruled_out_by(_same_seed_judge, {key: [m[key] for m in models] for key in models[0]})


def _check_same_seed(values):
    what = "random_search"
    first, second, other = (_results(out, what)[1] for out in returned(values, what))
    _same_seed_judge(*([config for config, _ in r] for r in (first, second, other)))
    return _same_seed_ruled_out()  # passed: not the mistakes whose models fail here


STAT_CASE = (STAT_SPACE, 2000, 99, 26)


def _stats_judge(configs):
    """The configurations of STAT_CASE's 2000 trials: log-uniform statistics."""
    what = "random_search"
    if not isinstance(configs, list) or len(configs) != 2000:
        raise Failure(f"{what}: 2000 trials should give 2000 results")
    try:
        x = np.log10(np.array([c["lr"] for c in configs], dtype=float))
    except (KeyError, TypeError, ValueError):
        raise Failure(f"{what}: every configuration needs a numeric value for each name") from None
    share = np.histogram(x, bins=np.arange(-6, 1))[0] / len(x)   # six decades, 1/6 each
    if share[:3].sum() < 0.1:
        raise Mistake(f"{what}: a 'log-uniform' name was " + ck.UNIFORM_NOT_LOG, key="uniform_not_log",
                      plain="the lower decades hold too few samples")
    if np.any(np.abs(share - 1 / 6) > 0.04):
        raise Failure(f"{what}: a 'log-uniform' name does not give each decade the same share of the samples")


@functools.lru_cache(maxsize=None)
def _stats_ruled_out():
    """The keys of the models whose 2000 trials fail the statistics; once per process."""
    models = _random_models(json.dumps([*STAT_CASE, 0, False]))[1]
    return _ruled_out_by(_stats_judge, {key: [configs] for key, configs in models.items()})


def _check_stats(values):
    (out,) = returned(values, "random_search")
    _stats_judge(out.get("configs") if isinstance(out, dict) else None)
    return _stats_ruled_out()  # passed: not the mistakes whose models fail here


RANDOM_PARTS = _scenarios(RANDOM_SCENARIOS, _random_calls, _check_random) + [
    Scenario("2000 trials (the log-uniform statistics)", [probe(DRIVER + "random_run", "random_search", *STAT_CASE,
                                                                True)], _check_stats, ("log_uniform",)),
    Scenario("the same seed twice, then another seed", [probe(DRIVER + "random_run", "random_search", SAME_SEED[0],
                                                              SAME_SEED[1], seed, SAME_SEED[3])
                                                        for seed in SAME_SEED[2]], _check_same_seed, ("generator",)),
]


# ---------------------------------------------------------------- part 4: successive_halving
HALVING_CONTRACT = {
    "sizes": "each rung keeps max(1, n // eta) configurations (rounded down), also when eta does not divide n",
    "budgets": "rung k trains with min_budget * eta**k",
    "ranking": "the survivors are the configurations with the smallest validation losses of their rung",
    "stop": "the rung with one configuration is the last, and that configuration is the winner",
    "calls": "train_eval is called once per configuration and rung, with that rung's budget",
    "eta": "any integer eta >= 2 (2, 3, 4)",
    "float_budget": "min_budget may be a float",
    "single": "a single configuration: one rung at min_budget",
    "few": "fewer configurations than eta: one survives",
    "ties": "losses that tie at the cut: exactly max(1, n // eta) survive, any of the tied ones",
}
HALVING_CREDITS = [
    Credit("the rungs, their budgets and survivors", 2.0,
           ("sizes", "budgets", "ranking", "stop", "calls", "single", "few")),
    Credit("eta = 2 and 4, a float min_budget", 0.5, ("eta", "float_budget")),
    Credit("ties at the cut", 0.5, ("ties",)),
]
HALVING_SCENARIOS = [  # (label, covers, (n_configs, min_budget, eta, salt[, ties]))
    ("27 configurations, eta = 3", ("sizes", "budgets", "ranking", "stop", "calls"), (27, 1, 3, 41)),
    ("10 configurations, eta = 3 (the visible test's)", ("sizes",), (10, 1, 3, 13)),
    ("12 configurations, eta = 2", ("eta",), (12, 2, 2, 42)),
    ("20 configurations, eta = 4", ("eta",), (20, 1, 4, 43)),
    ("a float min_budget", ("float_budget",), (9, 0.5, 3, 44)),
    ("one configuration", ("single", "stop"), (1, 3, 3, 45)),
    ("two configurations and eta = 3", ("few", "stop"), (2, 1, 3, 46)),
    ("losses that tie", ("ties",), (12, 1, 2, 47, 4)),
]


def _configs(n):
    return [{"id": i} for i in range(n)]


def _halving_calls(n, min_budget, eta, salt, ties=0):
    return [probe(DRIVER + "halving_run", "successive_halving", _configs(n), min_budget, eta, salt, ties)]


KEPT = {"keeps_ties": ck.KEEPS_TIES, "drops_fraction": ck.DROPS_FRACTION, "keeps_too_many": ck.KEEPS_TOO_MANY}


def _kept(prev, eta, losses=None) -> dict:
    """key -> how many of a rung's ``prev`` configurations each named wrong rule of KEPT keeps (keeps_ties: every
    loss up to the cut's, so only with the rung's ``losses``)."""
    keep, out = max(1, prev // eta), {}
    if isinstance(losses, list) and len(losses) == prev and keep <= prev:
        threshold = sorted(losses)[keep - 1]
        out["keeps_ties"] = sum(1 for v in losses if v <= threshold)
    out["drops_fraction"] = max(1, prev - prev // eta)
    out["keeps_too_many"] = -(-prev // eta)
    return out


def _worst(prev, count) -> set:
    """The ``count`` configurations of a rung (id -> loss) with the largest losses."""
    return set(sorted(prev, key=lambda i: prev[i])[::-1][:count])


def _not_the_best(prev, kept) -> bool:
    """Do survivors ``kept`` of a rung (id -> loss) have a larger loss than one of the dropped?"""
    dropped = [v for i, v in prev.items() if i not in kept]
    return bool(dropped) and max(prev[i] for i in kept) > min(dropped)


@functools.lru_cache(maxsize=None)
def _halving_models(n, min_budget, eta, salt, ties=0):
    """The reference's rungs of a case, and the keys of the mistakes whose models fail it; once per process.
    Along the reference's rungs, a rule of KEPT fails at the first rung it keeps another number of (until then it
    keeps the same best ones), keeping the worst at the first rung whose worst are not among the best, and a budget
    growing by min_budget per rung as soon as it gives another budget."""
    _, want = ref.successive_halving(_configs(n), lambda c, b: ck.synthetic_curve(c, b, salt, ties), min_budget, eta)
    fails, worst_follows = set(), True  # so far, keeping the worst kept the reference's survivors
    if any(not close(min_budget * (k + 1), r["budget"], 1e-12, 0) for k, r in enumerate(want)):
        fails.add("budget_additive")
    for rung, after in zip(want, want[1:]):
        prev = {c["id"]: v for c, v in zip(rung["configs"], rung["losses"])}
        keep = max(1, len(prev) // eta)
        fails |= {key for key, kept in _kept(len(prev), eta, rung["losses"]).items() if kept != keep}
        if worst_follows and "keeps_worst" not in fails:
            worst = _worst(prev, keep)
            if _not_the_best(prev, worst):
                fails.add("keeps_worst")
            worst_follows = worst == {c["id"] for c in after["configs"]}
    return want, frozenset(fails)


def _check_halving(n, min_budget, eta, salt, ties=0):
    def curve(i, budget):
        return ck.synthetic_curve({"id": i}, budget, salt, ties)

    def check(values):
        what = "successive_halving"
        (out,) = returned(values, what)
        if isinstance(out, Foreign) or not isinstance(out, dict):
            raise Failure(f"{what}: return a tuple (winner, rungs)")
        rungs = out["rungs"]
        if rungs == [] and n == 1:  # a loop `while len(alive) > 1` never trains a single configuration
            raise Mistake(f"{what}: the last rung is missing: when one configuration survives, train it with the "
                          "next budget too; stop after the rung with one configuration", key="no_last_rung",
                          plain="no rung at all for a single configuration")
        if not isinstance(rungs, list) or not rungs or not all(
                isinstance(r, dict) and {"configs", "budget", "losses"} <= set(r) for r in rungs):
            raise Failure(f"{what}: rungs must be a list of dicts with keys 'configs', 'budget' and 'losses'")
        # the sizes and budgets do not depend on how ties are broken: the reference's
        want, ruled_out = _halving_models(n, min_budget, eta, salt, ties)
        sizes = [len(r["configs"]) if isinstance(r["configs"], list) else -1 for r in rungs]
        want_sizes = [len(r["configs"]) for r in want]
        budgets = [r["budget"] for r in rungs]
        ids = [[c.get("id") if isinstance(c, dict) else None for c in r["configs"]] if isinstance(r["configs"], list)
               else [] for r in rungs]
        plain = "the rungs differ from the rule's"
        if len(rungs) > 1 and all(close(b, budgets[0]) for b in budgets):
            raise Mistake(f"{what}: " + ck.BUDGET_CONSTANT, key="budget_constant", plain=plain)
        if len(rungs) > 1 and all(close(b, min_budget * (k + 1)) for k, b in enumerate(budgets)) and \
                not all(close(b, min_budget * eta ** k) for k, b in enumerate(budgets)):
            raise Mistake(f"{what}: the budget grows by min_budget per rung; it grows by a factor eta "
                          "(min_budget * eta**k)", key="budget_additive", plain=plain)
        if sizes != want_sizes:
            plain = "the number of configurations per rung differs from the rule's"
            # aliasing keeps the number of rungs and the last rung right, and shows the last rung everywhere
            if len(rungs) == len(want_sizes) > 1 and sizes[-1] == want_sizes[-1] and \
                    all(sorted(i, key=repr) == sorted(ids[-1], key=repr) for i in ids):
                raise Mistake(f"{what}: " + ck.ALIASED_RUNGS, key="aliased", plain=plain)
            if len(sizes) < len(want_sizes) and sizes == want_sizes[:len(sizes)]:
                raise Mistake(f"{what}: the last rung is missing: when one configuration survives, train it with the "
                              "next budget too; stop after the rung with one configuration", key="no_last_rung",
                              plain=plain)
            j = next((k for k, (a, b) in enumerate(zip(sizes, want_sizes)) if a != b), min(len(sizes),
                                                                                         len(want_sizes)))
            if 0 < j < len(sizes):
                prev, keep = sizes[j - 1], max(1, sizes[j - 1] // eta)
                # every rule that gives this rung's size (two coincide for some n and eta: consistent with both)
                hits = {key: KEPT[key] for key, kept in _kept(prev, eta, rungs[j - 1]["losses"]).items()
                        if sizes[j] == kept != keep}
                if hits:
                    (key, message), *others = hits.items()
                    raise Mistake(f"{what}: " + message, key=key, also=tuple(k for k, _ in others), plain=plain)
            if out.get("runaway"):
                raise Failure(f"{what}: the loop never stopped (train_eval was called more than "
                              f"{ck.MAX_HALVING_CALLS} times): stop after the rung with one configuration")
            raise Failure(f"{what}: the number of configurations per rung is wrong (keep max(1, n // eta), stop "
                          "after the rung with one configuration)")
        # rung by rung: the survivors of rung k - 1 are the best of that rung (any of the tied ones at the cut)
        for k, rung in enumerate(rungs):
            if not close(rung["budget"], want[k]["budget"], 1e-12, 0):
                raise Failure(f"{what}: rung {k} has the wrong budget (min_budget * eta**k)")
            losses = rung["losses"]
            if not isinstance(losses, list) or len(losses) != len(ids[k]):
                raise Failure(f"{what}: rung {k} needs one loss per configuration, in the same order")
            if k == 0 and (None in ids[0] or sorted(ids[0]) != list(range(n))):
                raise Failure(f"{what}: the first rung must train every configuration")
            for i, loss in zip(ids[k], losses):
                if i is None or not close(loss, curve(i, want[k]["budget"]), 1e-12, 0):
                    raise Failure(f"{what}: rung {k}: each loss must be what train_eval returned for that "
                                  "configuration at that rung's budget")
            if k > 0:
                prev = dict(zip(ids[k - 1], rungs[k - 1]["losses"]))
                kept = set(ids[k])
                if not kept <= set(prev) or len(kept) != len(ids[k]):
                    raise Failure(f"{what}: the configurations of rung {k} must be survivors of rung {k - 1}")
                if _not_the_best(prev, kept):
                    if kept == _worst(prev, len(kept)):
                        raise Mistake(f"{what}: " + ck.KEEPS_WORST, key="keeps_worst",
                                      plain=f"the survivors of rung {k - 1} are not its best")
                    raise Failure(f"{what}: the survivors of rung {k - 1} are not the ones with the smallest losses")
        calls = out["calls"]
        if len(calls) != sum(want_sizes):
            raise Failure(f"{what}: train_eval was called {len(calls)} times; call it once per configuration and "
                          "rung")
        if out["winner"] != rungs[-1]["configs"][0]:
            raise Failure(f"{what}: the winner must be the one configuration of the last rung")
        return ruled_out  # passed: not the mistakes whose models fail here
    return check


# ---------------------------------------------------------------- part 5: final_report
REPORT_CONTRACT = {
    "mean": "mean is the mean of the test losses over the seeds, never the best seed's",
    "std": "std is the sample standard deviation (ddof=1)",
    "losses": "test_losses holds the losses in the order of seeds",
    "array": "test_losses is a numpy array",
    "refit": "each fit is on ('train', 'val'): training and validation data together, never the test set",
    "once": "fit_and_test is called exactly once per seed",
    "two_seeds": "two seeds are enough",
    "seed_order": "seeds in any order: the losses follow it",
    "errors": "fewer than two seeds raise ValueError",
}
REPORT_CREDITS = [
    Credit("one refit and test per seed, the mean and the sample std", 1.25,
           ("mean", "std", "losses", "refit", "once", "seed_order")),
    Credit("two seeds, and ValueError for fewer", 0.5, ("two_seeds", "errors")),
    Credit("the losses as a numpy array", 0.25, ("array",)),
]
REPORT_SCENARIOS = [  # (label, covers, (config, seeds, salt[, strict: test_losses must be an array]))
    ("five seeds", ("mean", "std", "losses", "refit", "once"), ({"lr": 0.02, "weight_decay": 3e-4}, [0, 1, 2, 3, 4],
                                                                51)),
    ("two seeds", ("two_seeds",), ({"lr": 0.3}, [11, 12], 52)),
    ("seeds not in sorted order", ("seed_order", "losses"), ({"lr": 0.1, "act": "relu"}, [7, 2, 9, 4], 53)),
    ("the visible test's seeds", ("mean", "std", "refit"), ({"lr": 0.01, "weight_decay": 1e-4}, [0, 1, 2, 3, 4], 14)),
    ("the type of test_losses", ("array",), ({"lr": 0.05}, [3, 1, 4], 54, True)),
]


def _report_calls(config, seeds, salt, strict=False):
    return [probe(DRIVER + "report_run", "final_report", config, seeds, salt)]


@functools.lru_cache(maxsize=None)
def _report_models(case):
    """The test losses of a case (the JSON of (config, seeds, salt)), key -> (what it changes, the value that mistake
    returns), and the keys of the mistakes whose values fail the check's tolerances (the mean to rtol=1e-12, std to
    1e-9); once per process."""
    config, seeds, salt = json.loads(case)
    want = np.array([ck.synthetic_test_loss(config, s, ("train", "val"), salt) for s in seeds])
    models = {"best_seed": ("mean", want.min()), "std_ddof0": ("std", want.std()),
              "std_is_se": ("std", want.std(ddof=1) / math.sqrt(len(want)))}
    right = {"mean": (want.mean(), 1e-12), "std": (want.std(ddof=1), 1e-9)}
    return want, models, frozenset(key for key, (what, v) in models.items() if not close(v, *right[what]))


def _check_report(config, seeds, salt, strict=False):
    def check(values):
        what = "final_report"
        (run,) = returned(values, what)
        if isinstance(run, Foreign) or not isinstance(run, dict):
            raise Failure(f"{what}: return a tuple (mean, std, test_losses)")
        out, calls = run["out"], run["calls"]
        if not (isinstance(out, tuple) and len(out) == 3):
            raise Failure(f"{what}: return a tuple (mean, std, test_losses)")
        mean, std, losses = out
        if len(calls) > len(seeds):
            raise Mistake(f"{what}: " + ck.TESTED_TWICE, key="tested_twice",
                          plain="fit_and_test was called more often than there are seeds")
        if sorted(s for s, _ in calls) != sorted(seeds):
            raise Failure(f"{what}: call fit_and_test once for every seed you were given")
        fitted = {tuple(on) for _, on in calls}
        plain = "fit_on is not ('train', 'val')"
        if any("test" in on for on in fitted):
            raise Mistake(f"{what}: " + ck.FIT_ON_TEST, key="fit_on_test", plain=plain)
        if fitted == {("train",)}:
            raise Mistake(f"{what}: " + ck.REFIT_TRAIN_ONLY, key="refit_train_only", plain=plain)
        if fitted != {("train", "val")}:
            raise Failure(f"{what}: fit_on must name the splits ('train', 'val')")
        want, models, ruled_out = _report_models(json.dumps([config, seeds, salt]))
        if strict and not isinstance(losses, np.ndarray):
            kind = "a tuple" if isinstance(losses, tuple) else "a list" if isinstance(losses, list) else \
                f"a {getattr(losses, 'what', type(losses).__name__)}"
            raise Mistake(f"{what}: test_losses must be a numpy array (np.array(losses)), not {kind}",
                          key="losses_type", plain=f"test_losses is {kind}, not a numpy array")
        best_seed = models["best_seed"][1]
        if close(mean, best_seed) and not close(best_seed, want.mean()):
            raise Mistake(f"{what}: " + ck.BEST_SEED, key="best_seed", plain="mean is not the mean of the losses")
        if close(losses, np.sort(want)) and not close(losses, want):
            raise Failure(f"{what}: test_losses must follow the order of seeds, not be sorted")
        expect(losses, want, f"{what}: test_losses", rtol=1e-12)
        expect(mean, want.mean(), f"{what}: mean", rtol=1e-12)
        if not close(std, want.std(ddof=1), 1e-9):
            # a named spread only when its formula gives this number and the other named one does not (for two
            # seeds the population std and the standard error are the same number)
            population, standard_error = models["std_ddof0"][1], models["std_is_se"][1]
            plain = "std is not the sample standard deviation of the test losses"
            both = close(population, standard_error, 1e-9)  # the same number when there are two seeds
            if close(std, population, 1e-9):
                raise Mistake(f"{what}: " + ck.STD_DDOF0, key="std_ddof0", also=("std_is_se",) if both else (),
                              plain=plain)
            if close(std, standard_error, 1e-9):
                raise Mistake(f"{what}: " + ck.STD_IS_SE, key="std_is_se", plain=plain)
            expect(std, want.std(ddof=1), f"{what}: std", rtol=1e-9)
        return ruled_out  # passed: not the mistakes whose models fail here
    return check


def _check_report_errors(values):
    what = "final_report"
    for seeds, got in zip(([3], []), returned(values, what)):
        if got != "ValueError":
            raise Failure(f"{what}: {len(seeds)} seed(s) should raise ValueError (a spread needs two runs)"
                          + ("" if got is None else f", not {got}"))


REPORT_PARTS = _scenarios(REPORT_SCENARIOS, _report_calls, _check_report) + [
    Scenario("one seed, and no seed", [probe(DRIVER + "report_error", "final_report", s) for s in ([3], [])],
             _check_report_errors, ("errors",))]


PARTS = {
    "test_log_uniform": Part("log_uniform", contract=LOG_UNIFORM_CONTRACT, scenarios=LOG_UNIFORM_PARTS,
                             static=forbid(("loguniform", "reciprocal"), "log_uniform"), credit=LOG_UNIFORM_CREDITS),
    "test_grid_search": Part("grid_search", contract=GRID_CONTRACT,
                             scenarios=_scenarios(GRID_SCENARIOS, _grid_calls, _check_grid),
                             static=forbid(("ParameterGrid", "GridSearchCV"), "grid_search"), credit=GRID_CREDITS),
    "test_random_search": Part("random_search", contract=RANDOM_CONTRACT, scenarios=RANDOM_PARTS,
                               static=forbid(("ParameterSampler", "RandomizedSearchCV"), "random_search"),
                               credit=RANDOM_CREDITS),
    "test_successive_halving": Part("successive_halving", contract=HALVING_CONTRACT,
                                    scenarios=_scenarios(HALVING_SCENARIOS, _halving_calls, _check_halving),
                                    credit=HALVING_CREDITS),
    "test_final_report": Part("final_report", contract=REPORT_CONTRACT, scenarios=REPORT_PARTS,
                              credit=REPORT_CREDITS),
}
