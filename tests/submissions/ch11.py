"""Chapter 11 (hyperparameter tuning): known-buggy and correct answers.

Each buggy answer reproduces one named mistake (COURSE.md's "lr sampled uniformly instead of log-uniformly", the
issue's "choosing on the test set", "halving that keeps the wrong fraction or never grows the budget", "the best
seed reported instead of the mean", "a grid that misses the Cartesian product") or breaks one item of a part's
contract. The correct ones are other valid ways of writing each answer.
"""

from __future__ import annotations

from submissions import Variant

P1, P2, P3, P4, P5 = ("test_log_uniform", "test_grid_search", "test_random_search", "test_successive_halving",
                      "test_final_report")

# ---------------------------------------------------------------- part 1: log_uniform
LU_HEAD = '''
def log_uniform(low, high, size, rng):
    if not low > 0 or not high > low:
        raise ValueError("need 0 < low < high")
'''
LU_UNIFORM = LU_HEAD + "    return rng.uniform(low, high, size)\n"
LU_EXPONENT = LU_HEAD + "    return rng.uniform(np.log10(low), np.log10(high), size)\n"
LU_GLOBAL = LU_HEAD + "    return np.exp(np.random.uniform(np.log(low), np.log(high), size))\n"
LU_MIXED_BASES = LU_HEAD + "    return 10.0 ** rng.uniform(np.log(low), np.log(high), size)\n"
LU_NO_ERRORS = '''
def log_uniform(low, high, size, rng):
    return np.exp(rng.uniform(np.log(low), np.log(high), size))
'''
LU_SCIPY = "from scipy.stats import loguniform\n" + LU_HEAD + "    return loguniform(low, high).rvs(size=size, random_state=rng)\n"
LU_LOG10 = LU_HEAD + "    return 10.0 ** rng.uniform(np.log10(low), np.log10(high), size)\n"
LU_RANDOM = '''
import math

def log_uniform(low, high, size, rng):
    if low <= 0:
        raise ValueError("low must be positive")
    if high <= low:
        raise ValueError("high must exceed low")
    a, b = math.log(low), math.log(high)
    return np.exp(a + (b - a) * rng.random(size))
'''

# ---------------------------------------------------------------- part 2: grid_search
GRID_ZIP = '''
def grid_search(space, evaluate):
    names = sorted(space)
    results = [(dict(zip(names, values)), None) for values in zip(*(space[n] for n in names))]
    results = [(c, evaluate(c)) for c, _ in results]
    return min(results, key=lambda r: (np.isnan(r[1]["val"]), r[1]["val"]))[0], results
'''
GRID_UNSORTED = '''
import itertools

def grid_search(space, evaluate):
    results = []
    for values in itertools.product(*space.values()):
        config = dict(zip(space.keys(), values))
        results.append((config, evaluate(config)))
    return min(results, key=lambda r: (np.isnan(r[1]["val"]), r[1]["val"]))[0], results
'''
GRID_ON_TEST = '''
import itertools

def grid_search(space, evaluate):
    names = sorted(space)
    results = [(dict(zip(names, v)), None) for v in itertools.product(*(space[n] for n in names))]
    results = [(c, evaluate(c)) for c, _ in results]
    return min(results, key=lambda r: (np.isnan(r[1]["test"]), r[1]["test"]))[0], results
'''
GRID_ON_TRAIN = GRID_ON_TEST.replace('r[1]["test"]', 'r[1]["train"]')
GRID_ARGMAX = GRID_ON_TEST.replace('min(results, key=lambda r: (np.isnan(r[1]["test"]), r[1]["test"]))', 'max(results, key=lambda r: (not np.isnan(r[1]["val"]), r[1]["val"]))')
GRID_ONE_AT_A_TIME = '''
def grid_search(space, evaluate):
    names = sorted(space)
    base = {n: space[n][0] for n in names}
    configs = [dict(base)]
    for n in names:
        for v in space[n][1:]:
            configs.append({**base, n: v})
    results = [(c, evaluate(c)) for c in configs]
    return min(results, key=lambda r: (np.isnan(r[1]["val"]), r[1]["val"]))[0], results
'''
GRID_EVALUATE_TWICE = '''
import itertools

def grid_search(space, evaluate):
    names = sorted(space)
    configs = [dict(zip(names, v)) for v in itertools.product(*(space[n] for n in names))]
    best = min(configs, key=lambda c: evaluate(c)["val"])
    return best, [(c, evaluate(c)) for c in configs]
'''
GRID_PARAMETERGRID = '''
from sklearn.model_selection import ParameterGrid

def grid_search(space, evaluate):
    results = [(dict(c), evaluate(dict(c))) for c in ParameterGrid(space)]
    return min(results, key=lambda r: (np.isnan(r[1]["val"]), r[1]["val"]))[0], results
'''
GRID_RECURSIVE = '''
def grid_search(space, evaluate):
    names = sorted(space)

    def combos(i):
        if i == len(names):
            yield {}
            return
        for v in space[names[i]]:
            for rest in combos(i + 1):
                yield {names[i]: v, **rest}

    results = []
    best, best_val = None, float("inf")
    for config in combos(0):
        scores = evaluate(config)
        results.append((config, scores))
        if scores["val"] < best_val:
            best, best_val = config, scores["val"]
    return best, results
'''
GRID_MESHGRID_INDEX = '''
def grid_search(space, evaluate):
    names = sorted(space)
    sizes = [len(space[n]) for n in names]
    results = []
    for flat in range(int(np.prod(sizes))):
        idx = np.unravel_index(flat, sizes)
        config = {n: space[n][int(i)] for n, i in zip(names, idx)}
        results.append((config, evaluate(config)))
    vals = np.array([s["val"] for _, s in results])
    return results[int(np.flatnonzero(vals == np.nanmin(vals))[0])][0], results
'''

# ---------------------------------------------------------------- part 3: random_search
RAND_TEMPLATE = '''
def random_search(space, n_trials, rng, evaluate):
    results = []
    for _ in range(n_trials):
        config = {{}}
        for name in {names}:
            kind, *args = space[name]
            if kind == "log-uniform":
                config[name] = {log_draw}
            elif kind == "uniform":
                config[name] = float(rng.uniform(args[0], args[1]))
            else:
                config[name] = args[0][int(rng.integers(len(args[0])))]
        results.append((config, evaluate(config)))
    return min(results, key=lambda r: (np.isnan(r[1]["{key}"]), r[1]["{key}"]))[0], results
'''


def _rand(names="sorted(space)", log_draw="float(log_uniform(args[0], args[1], None, rng))", key="val"):
    return RAND_TEMPLATE.format(names=names, log_draw=log_draw, key=key)


RAND_UNIFORM_LR = _rand(log_draw="float(rng.uniform(args[0], args[1]))")
RAND_INSERTION_ORDER = _rand(names="space")
RAND_ON_TEST = _rand(key="test")
RAND_GLOBAL_RNG = '''
def random_search(space, n_trials, rng, evaluate):
    results = []
    for _ in range(n_trials):
        config = {}
        for name in sorted(space):
            kind, *args = space[name]
            if kind == "log-uniform":
                config[name] = float(np.exp(np.random.uniform(np.log(args[0]), np.log(args[1]))))
            elif kind == "uniform":
                config[name] = float(np.random.uniform(args[0], args[1]))
            else:
                config[name] = args[0][np.random.randint(len(args[0]))]
        results.append((config, evaluate(config)))
    return min(results, key=lambda r: (np.isnan(r[1]["val"]), r[1]["val"]))[0], results
'''
RAND_EVALUATE_TWICE = _rand().replace("    return min(results",
                                      "    evaluate(min(results, key=lambda r: (np.isnan(r[1]['val']), r[1]['val']))[0])\n    return min(results")
RAND_CHOICE = '''
def random_search(space, n_trials, rng, evaluate):
    def draw(kind, *args):
        if kind == "log-uniform":
            return float(10 ** rng.uniform(np.log10(args[0]), np.log10(args[1])))
        if kind == "uniform":
            return float(rng.uniform(*args))
        return rng.choice(args[0])

    results = []
    for _ in range(n_trials):
        config = {name: draw(*space[name]) for name in sorted(space)}
        results.append((config, evaluate(config)))
    vals = [s["val"] for _, s in results]
    return results[int(np.nanargmin(vals))][0], results
'''
RAND_HELPER = '''
SAMPLERS = {
    "log-uniform": lambda rng, low, high: log_uniform(low, high, None, rng),
    "uniform": lambda rng, low, high: rng.uniform(low, high),
    "choice": lambda rng, values: values[rng.integers(len(values))],
}

def random_search(space, n_trials, rng, evaluate):
    configs, results = [], []
    for _ in range(n_trials):
        config = {}
        for name, (kind, *args) in sorted(space.items()):
            config[name] = SAMPLERS[kind](rng, *args)
        results.append((config, evaluate(config)))
    best, best_val = None, float("inf")
    for config, scores in results:
        if scores["val"] < best_val:
            best, best_val = config, scores["val"]
    return best, results
'''

# ---------------------------------------------------------------- part 4: successive_halving
SH_TEMPLATE = '''
import math

def successive_halving(configs, train_eval, min_budget, eta):
    alive, rungs, k = list(configs), [], 0
    while True:
        budget = {budget}
        losses = [train_eval(c, budget) for c in alive]
        rungs.append({{"configs": list(alive), "budget": budget, "losses": losses}})
        if len(alive) == 1:
            return alive[0], rungs
        order = np.argsort({sign}np.array(losses), kind="stable")
        alive = [alive[i] for i in order[:{keep}]]
        k += 1
'''


def _sh(budget="min_budget * eta ** k", sign="", keep="max(1, len(alive) // eta)"):
    return SH_TEMPLATE.format(budget=budget, sign=sign, keep=keep)


SH_CEIL = _sh(keep="math.ceil(len(alive) / eta)")
SH_DROP_FRACTION = _sh(keep="max(1, len(alive) - len(alive) // eta)")
SH_CONSTANT_BUDGET = _sh(budget="min_budget")
SH_ADDITIVE_BUDGET = _sh(budget="min_budget * (k + 1)")
SH_WRONG_SIGN = _sh(sign="-")
SH_NO_LAST_RUNG = '''
def successive_halving(configs, train_eval, min_budget, eta):
    alive, rungs, k = list(configs), [], 0
    while len(alive) > 1:
        budget = min_budget * eta ** k
        losses = [train_eval(c, budget) for c in alive]
        rungs.append({"configs": list(alive), "budget": budget, "losses": losses})
        order = np.argsort(losses, kind="stable")
        alive = [alive[i] for i in order[:max(1, len(alive) // eta)]]
        k += 1
    return alive[0], rungs
'''
SH_SORTED = '''
def successive_halving(configs, train_eval, min_budget, eta):
    alive, rungs, budget = list(configs), [], min_budget
    while True:
        scored = [(train_eval(c, budget), i, c) for i, c in enumerate(alive)]
        rungs.append({"configs": [c for _, _, c in scored], "budget": budget, "losses": [s for s, _, _ in scored]})
        if len(alive) == 1:
            return alive[0], rungs
        scored.sort(key=lambda t: (t[0], t[1]))
        alive = [c for _, _, c in scored[:max(1, len(alive) // eta)]]
        budget = budget * eta
'''
SH_HEAPQ = '''
import heapq

def successive_halving(configs, train_eval, min_budget, eta):
    rungs = []
    alive = list(configs)
    for k in range(10_000):
        budget = min_budget * eta ** k
        losses = [train_eval(c, budget) for c in alive]
        rungs.append({"configs": alive, "budget": budget, "losses": losses})
        if len(alive) == 1:
            break
        keep = heapq.nsmallest(max(1, len(alive) // eta), range(len(alive)), key=losses.__getitem__)
        alive = sorted((alive[i] for i in keep), key=lambda c: losses[alive.index(c)], reverse=True)
    return alive[0], rungs
'''

# ---------------------------------------------------------------- part 5: final_report
REPORT_TEMPLATE = '''
def final_report(best_config, fit_and_test, seeds):
    seeds = list(seeds)
    if len(seeds) < 2:
        raise ValueError("need two seeds")
    losses = np.array([fit_and_test(best_config, s, {fit_on}) for s in seeds])
    return float({mean}), float(np.std(losses, ddof={ddof})), losses
'''


def _report(fit_on='("train", "val")', mean="losses.mean()", ddof=1):
    return REPORT_TEMPLATE.format(fit_on=fit_on, mean=mean, ddof=ddof)


REPORT_BEST_SEED = _report(mean="losses.min()")
REPORT_TRAIN_ONLY = _report(fit_on='("train",)')
REPORT_ON_TEST = _report(fit_on='("train", "val", "test")')
REPORT_DDOF0 = _report(ddof=0)
REPORT_TWICE = '''
def final_report(best_config, fit_and_test, seeds):
    seeds = list(seeds)
    if len(seeds) < 2:
        raise ValueError("need two seeds")
    first = [fit_and_test(best_config, s, ("train", "val")) for s in seeds]
    best_seed = seeds[int(np.argmin(first))]
    losses = np.array([fit_and_test(best_config, s, ("train", "val")) for s in seeds])
    return float(losses.mean()), float(losses.std(ddof=1)), losses
'''
REPORT_NO_ERROR = '''
def final_report(best_config, fit_and_test, seeds):
    losses = np.array([fit_and_test(best_config, s, ("train", "val")) for s in seeds])
    return float(np.mean(losses)), float(np.std(losses, ddof=1)) if len(losses) > 1 else 0.0, losses
'''
REPORT_STATISTICS = '''
import statistics

def final_report(best_config, fit_and_test, seeds):
    seeds = list(seeds)
    if len(seeds) < 2:
        raise ValueError("a spread needs at least two seeds")
    losses = [fit_and_test(best_config, seed, ["train", "val"]) for seed in seeds]
    return statistics.fmean(losses), statistics.stdev(losses), np.asarray(losses)
'''
REPORT_LOOP = '''
def final_report(best_config, fit_and_test, seeds):
    losses = []
    for seed in seeds:
        losses.append(fit_and_test(best_config, seed, ("val", "train")))
    if len(losses) < 2:
        raise ValueError("at least two seeds")
    n = len(losses)
    mean = sum(losses) / n
    std = (sum((x - mean) ** 2 for x in losses) / (n - 1)) ** 0.5
    return mean, std, np.array(losses)
'''

# ---------------------------------------------------------------- issue 23: the edges of the contracts
# NaN as the first value seen: min() keeps the first element when every comparison with NaN is False
GRID_NAN_FIRST = '''
import itertools

def grid_search(space, evaluate):
    names = sorted(space)
    results = []
    for values in itertools.product(*(space[n] for n in names)):
        config = dict(zip(names, values))
        results.append((config, evaluate(config)))
    return min(results, key=lambda r: r[1]["val"])[0], results
'''
# ties: <= keeps the last of equal losses
GRID_TIES_LAST = GRID_RECURSIVE.replace('if scores["val"] < best_val:', 'if scores["val"] <= best_val:')
# repeated values in a grid: duplicates dropped
GRID_DEDUP = '''
import itertools

def grid_search(space, evaluate):
    names = sorted(space)
    lists = [list(dict.fromkeys(space[n])) for n in names]
    results = []
    for values in itertools.product(*lists):
        config = dict(zip(names, values))
        results.append((config, evaluate(config)))
    vals = [s["val"] for _, s in results]
    return results[int(np.nanargmin(vals))][0], results
'''
# valid: NaN sorted last by the key, the first of equals kept by min
GRID_NAN_KEY = GRID_NAN_FIRST.replace('min(results, key=lambda r: r[1]["val"])',
                                      'min(results, key=lambda r: (np.isnan(r[1]["val"]), r[1]["val"]))')
# NaN as the first value seen: the running best starts at the first trial
RAND_NAN_FIRST = '''
def random_search(space, n_trials, rng, evaluate):
    results = []
    for _ in range(n_trials):
        config = {}
        for name in sorted(space):
            kind, *args = space[name]
            if kind == "log-uniform":
                config[name] = float(log_uniform(args[0], args[1], None, rng))
            elif kind == "uniform":
                config[name] = float(rng.uniform(args[0], args[1]))
            else:
                config[name] = args[0][int(rng.integers(len(args[0])))]
        results.append((config, evaluate(config)))
    best = results[0]
    for r in results[1:]:
        if r[1]["val"] < best[1]["val"]:
            best = r
    return best[0], results
'''
RAND_TIES_LAST = RAND_NAN_FIRST.replace('''    best = results[0]
    for r in results[1:]:
        if r[1]["val"] < best[1]["val"]:
            best = r''', '''    best = (None, {"val": float("inf")})
    for r in results:
        if r[1]["val"] <= best[1]["val"]:
            best = r''')
# ties at the cut: every loss up to the threshold survives
SH_THRESHOLD = '''
def successive_halving(configs, train_eval, min_budget, eta):
    alive, rungs, k = list(configs), [], 0
    while True:
        budget = min_budget * eta ** k
        losses = [train_eval(c, budget) for c in alive]
        rungs.append({"configs": list(alive), "budget": budget, "losses": losses})
        if len(alive) == 1:
            return alive[0], rungs
        threshold = sorted(losses)[max(1, len(alive) // eta) - 1]
        alive = [c for c, loss in zip(alive, losses) if loss <= threshold]
        k += 1
'''
# a list aliased rather than copied: the rung keeps the list that is later sorted and cut in place
SH_ALIASED = '''
def successive_halving(configs, train_eval, min_budget, eta):
    alive, rungs, k = list(configs), [], 0
    while True:
        budget = min_budget * eta ** k
        losses = {id(c): train_eval(c, budget) for c in alive}
        rungs.append({"configs": alive, "budget": budget, "losses": [losses[id(c)] for c in alive]})
        if len(alive) == 1:
            return alive[0], rungs
        alive.sort(key=lambda c: losses[id(c)])
        del alive[max(1, len(alive) // eta):]
        k += 1
'''
# valid: numpy's default sort (not stable) breaks ties its own way
SH_QUICKSORT = _sh().replace('np.argsort(np.array(losses), kind="stable")', 'np.argsort(losses)')
# the standard error reported as the spread (the same number as the population std for two seeds)
REPORT_SEM = '''
from scipy import stats

def final_report(best_config, fit_and_test, seeds):
    seeds = list(seeds)
    if len(seeds) < 2:
        raise ValueError("need two seeds")
    losses = np.array([fit_and_test(best_config, s, ("train", "val")) for s in seeds])
    return float(losses.mean()), float(stats.sem(losses)), losses
'''
# types: a list where the text says a numpy array
REPORT_LIST = '''
def final_report(best_config, fit_and_test, seeds):
    seeds = list(seeds)
    if len(seeds) < 2:
        raise ValueError("need two seeds")
    losses = [fit_and_test(best_config, s, ("train", "val")) for s in seeds]
    return float(np.mean(losses)), float(np.std(losses, ddof=1)), losses
'''

# ---------------------------------------------------------------- resembles a named mistake on one scenario only
# Ties broken by the training loss: only the grid whose validation losses tie fails, and there the pick is the
# configuration of smallest training loss, the model of "chosen on the training loss"; every other grid, where that
# model fails, it passes.
GRID_TIE_BY_TRAIN = '''
import itertools

def grid_search(space, evaluate):
    names = sorted(space)
    results = []
    for values in itertools.product(*(space[n] for n in names)):
        config = dict(zip(names, values))
        results.append((config, evaluate(config)))
    finite = [r for r in results if not np.isnan(r[1]["val"])]
    # among equal validation losses, the one that also fits the training data best
    return min(finite, key=lambda r: (r[1]["val"], r[1]["train"]))[0], results
'''


# The order matters to tests that grade a slice of BUGGY: add new variants at the end.
BUGGY = [
    Variant("bug-lu-uniform", "log_uniform", LU_UNIFORM, P1,
            visible="sampled uniformly, not log-uniformly", hidden="sampled uniformly, not log-uniformly"),
    Variant("bug-lu-returns-exponent", "log_uniform", LU_EXPONENT, P1,
            visible="outside [low, high]", hidden="you returned the logarithm"),
    Variant("bug-lu-global-rng", "log_uniform", LU_GLOBAL, P1,
            visible="do not come from the generator", hidden="do not come from the generator"),
    Variant("bug-lu-mixed-bases", "log_uniform", LU_MIXED_BASES, P1,
            visible="outside [low, high]", hidden="use different bases"),
    Variant("bug-lu-no-errors", "log_uniform", LU_NO_ERRORS, P1,
            visible="should raise ValueError", hidden="should raise ValueError"),
    Variant("bug-lu-scipy", "log_uniform", LU_SCIPY, P1, hidden="must be written by you"),
    Variant("bug-grid-zip", "grid_search", GRID_ZIP, P2,
            visible="misses combinations", hidden="misses combinations"),
    Variant("bug-grid-unsorted-names", "grid_search", GRID_UNSORTED, P2,
            visible="not in ParameterGrid's order", hidden="not in ParameterGrid's order"),
    Variant("bug-grid-chosen-on-test", "grid_search", GRID_ON_TEST, P2,
            visible="chosen on the test loss", hidden="chosen on the test loss"),
    Variant("bug-grid-chosen-on-train", "grid_search", GRID_ON_TRAIN, P2,
            visible="chosen on the training loss", hidden="chosen on the training loss"),
    Variant("bug-grid-largest-loss", "grid_search", GRID_ARGMAX, P2,
            visible="LARGEST validation loss", hidden="LARGEST validation loss"),
    Variant("bug-grid-one-at-a-time", "grid_search", GRID_ONE_AT_A_TIME, P2,
            visible="misses combinations", hidden="misses combinations"),
    Variant("bug-grid-evaluates-twice", "grid_search", GRID_EVALUATE_TWICE, P2,
            visible="once per configuration", hidden="exactly once per configuration"),
    Variant("bug-grid-parametergrid", "grid_search", GRID_PARAMETERGRID, P2, hidden="must be written by you"),
    Variant("bug-rand-lr-uniform", "random_search", RAND_UNIFORM_LR, P3,
            visible="sampled uniformly, not log-uniformly", hidden="sampled uniformly, not log-uniformly"),
    Variant("bug-rand-insertion-order", "random_search", RAND_INSERTION_ORDER, P3,
            hidden="not in sorted order"),
    Variant("bug-rand-chosen-on-test", "random_search", RAND_ON_TEST, P3,
            visible="chosen on the test loss", hidden="chosen on the test loss"),
    Variant("bug-rand-global-rng", "random_search", RAND_GLOBAL_RNG, P3,
            visible="do not come from the generator", hidden="do not come from the generator"),
    Variant("bug-rand-evaluates-twice", "random_search", RAND_EVALUATE_TWICE, P3,
            visible="400 calls of evaluate", hidden="exactly once per configuration"),
    Variant("bug-sh-keeps-ceil", "successive_halving", SH_CEIL, P4,
            visible="keeps too many configurations", hidden="keeps too many configurations"),
    Variant("bug-sh-drops-fraction", "successive_halving", SH_DROP_FRACTION, P4,
            visible="drops 1/eta of the configurations", hidden="drops 1/eta of the configurations"),
    Variant("bug-sh-constant-budget", "successive_halving", SH_CONSTANT_BUDGET, P4,
            visible="the budget never grows", hidden="the budget never grows"),
    Variant("bug-sh-additive-budget", "successive_halving", SH_ADDITIVE_BUDGET, P4,
            visible="min_budget * eta**k", hidden="grows by a factor eta"),
    Variant("bug-sh-keeps-worst", "successive_halving", SH_WRONG_SIGN, P4,
            visible="LARGEST validation losses", hidden="LARGEST validation losses"),
    Variant("bug-sh-no-last-rung", "successive_halving", SH_NO_LAST_RUNG, P4,
            visible="stop after the rung with one configuration", hidden="stop after the rung with one configuration"),
    Variant("bug-report-best-seed", "final_report", REPORT_BEST_SEED, P5,
            visible="best seed", hidden="best seed"),
    Variant("bug-report-refit-train-only", "final_report", REPORT_TRAIN_ONLY, P5,
            visible="fitted on the training data only", hidden="fitted on the training data only"),
    Variant("bug-report-fit-on-test", "final_report", REPORT_ON_TEST, P5,
            visible="includes the test set", hidden="includes the test set"),
    Variant("bug-report-ddof0", "final_report", REPORT_DDOF0, P5, visible="ddof=0", hidden="ddof=0"),
    Variant("bug-report-tested-twice", "final_report", REPORT_TWICE, P5,
            visible="more than once per seed", hidden="more than once per seed"),
    Variant("bug-report-one-seed-accepted", "final_report", REPORT_NO_ERROR, P5,
            visible="should raise ValueError", hidden="should raise ValueError"),
    # issue 23
    Variant("bug-grid-nan-first-seen", "grid_search", GRID_NAN_FIRST, P2, visible="NaN", hidden="NaN"),
    Variant("bug-grid-ties-keep-last", "grid_search", GRID_TIES_LAST, P2, visible=None, hidden="equal validation"),
    Variant("bug-grid-repeated-value-once", "grid_search", GRID_DEDUP, P2, visible=None, hidden="listed twice"),
    Variant("bug-rand-nan-first-seen", "random_search", RAND_NAN_FIRST, P3, visible="NaN", hidden="NaN"),
    Variant("bug-rand-ties-keep-last", "random_search", RAND_TIES_LAST, P3, visible=None, hidden="equal validation"),
    Variant("bug-sh-threshold-keeps-ties", "successive_halving", SH_THRESHOLD, P4, visible=None, hidden="ties"),
    Variant("bug-sh-rungs-alias-one-list", "successive_halving", SH_ALIASED, P4, visible="rung sizes",
            hidden="store a copy"),
    Variant("bug-report-standard-error", "final_report", REPORT_SEM, P5, visible="standard deviation",
            hidden="standard error"),
    Variant("bug-report-list-not-array", "final_report", REPORT_LIST, P5, visible=None, hidden="numpy array"),
    # not named: a passing scenario rules out the mistake its one failing scenario resembles
    Variant("bug-grid-tie-broken-by-train-loss", "grid_search", GRID_TIE_BY_TRAIN, P2, visible=None,
            hidden="validation losses that tie", not_named="chosen on the training loss"),
]

CORRECT = [
    Variant("ok-lu-log10", "log_uniform", LU_LOG10, P1),
    Variant("ok-lu-random", "log_uniform", LU_RANDOM, P1),
    Variant("ok-grid-recursive", "grid_search", GRID_RECURSIVE, P2),
    Variant("ok-grid-unravel-index", "grid_search", GRID_MESHGRID_INDEX, P2),
    Variant("ok-rand-choice", "random_search", RAND_CHOICE, P3),
    Variant("ok-rand-samplers", "random_search", RAND_HELPER, P3),
    Variant("ok-sh-sort-tuples", "successive_halving", SH_SORTED, P4),
    Variant("ok-sh-heapq", "successive_halving", SH_HEAPQ, P4),
    Variant("ok-report-statistics", "final_report", REPORT_STATISTICS, P5),
    Variant("ok-report-loop", "final_report", REPORT_LOOP, P5),
    # issue 23
    Variant("ok-grid-nan-last-key", "grid_search", GRID_NAN_KEY, P2),
    Variant("ok-sh-default-argsort", "successive_halving", SH_QUICKSORT, P4),
]
