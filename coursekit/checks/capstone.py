"""Chapter 12 (the capstone study): visible checks and the drivers that exercise a student's answers.

The drivers (``split_run``, ``split_seed_run``, ``train_run``, ``study_run``) call the student's function on the
inputs they are given and return plain numbers, lists and dicts; the visible checks call them on the notebook's own
inputs, the grader on hidden ones. Nothing here implements the exercise: the checks test properties (disjoint
parts, class shares, one affine map for all parts, identical histories for identical seeds) and compare with
numbers worked out in advance.
"""

from __future__ import annotations

import math
import random

import numpy as np

# ---------------------------------------------------------------- the named mistakes, in the student's terms
LEAKAGE = ("the data are standardized with statistics of the WHOLE data set (leakage): the validation and test "
           "rows shaped the mean and std the model trains with; compute them on the training rows only "
           "(StandardScaler().fit(X_train)) and apply them to all three parts")
OWN_STATISTICS = ("each part is standardized with its own mean and std: the validation and test rows must be "
                  "transformed with the TRAINING statistics, as a model in use would be")
NOT_STRATIFIED = ("the split is not stratified: some class is over- or under-represented in a part; pass "
                  "stratify=y (and stratify=y[rest] in the second split) to train_test_split")
SEED_IGNORED = ("the seed is not respected: the same seed must give the same split (and a different seed another "
                "one), whatever the global random state (pass random_state=seed)")
SAMPLE_STD = ("the scale is the sample std (ddof=1); StandardScaler divides by the population std (ddof=0)")
ZERO_VARIANCE = ("a pixel that is constant on the training rows gave NaN or inf: divide it by 1 (StandardScaler's "
                 "rule), so it is only centred")
SEED_INIT_ONLY = ("the seed does not control the batch order: with the same initial weights, two seeds gave the "
                  "same history; draw each epoch's order from torch.Generator().manual_seed(seed)")
SEED_ORDER_ONLY = ("the seed does not control the initialization: call torch.manual_seed(seed) before make_net, "
                   "so that the same seed gives the same initial weights whatever the global random state")
NOT_DETERMINISTIC = ("train is not deterministic: the same config and seed gave different histories after the "
                     "global random state changed, even with the initial weights held fixed: the batch order (or "
                     "the noise) must come from torch.Generator().manual_seed(seed), the dropout masks from the "
                     "global state seeded by torch.manual_seed(seed)")
TEST_USED = ("the test set was used during training (a test set used during tuning): the history changed when "
             "only the test rows changed; train and early stopping may use the training and validation data only")
VAL_TRAIN_MODE = ("the validation loss was computed in training mode (dropout active): call net.eval() before "
                  "evaluating, and net.train() before the next epoch")
NO_RESTORE = ("with early stopping, the returned net is not the best one: restore the state of the epoch with "
              "the lowest validation loss (copy.deepcopy(net.state_dict())) before returning")
RESTORE_ON_STOP = ("the best epoch's state is restored only when training stops early: a run with patience that "
                   "reaches num_epochs without stopping must also return the net of its lowest validation loss")
STOP_ON_TRAIN = ("early stopping watched the training loss: it must watch the validation loss")
ADAM_ADAMW = ("'adam' and 'adamw' are swapped or the same: 'adam' is torch.optim.Adam (weight_decay as an L2 term "
              "through the moments), 'adamw' torch.optim.AdamW (decay decoupled from the moments)")
NOISE_GLOBAL = ("the noise is drawn from torch's global random state: draw it from the generator g of the run, "
                "noise * torch.randn(xb.shape, generator=g), right after the batch is taken")
WD_IGNORED = "weight_decay is ignored: pass config['weight_decay'] to the optimizer as its weight_decay"
DROP_LAST = ("the last, smaller mini-batch of each epoch is dropped: when n_train is not a multiple of "
             "batch_size, the last batch holds the remaining rows and is trained on too")
NO_MOMENTUM = "'sgd-momentum' must be torch.optim.SGD with momentum=0.9"
NEVER_TRAIN_MODE = ("the net is put in eval mode for validation and never back in training mode: from the second "
                    "epoch on, dropout is off while training. Call net.train() at the start of every epoch")
WEIGHTED_MEAN = ("history['train_loss'] weights each batch's loss by its size: it is the plain mean of the epoch's "
                 "batch losses (a smaller last batch counts as much as the others)")
COUNTER_NOT_RESET = ("the patience counter is never reset: an improvement must set it back to 0, so training stops "
                     "only after patience epochs IN A ROW without improvement")
NON_STRICT = ("an epoch whose validation loss equals the best so far counted as an improvement: an improvement is "
              "strictly below the best (a plateau of equal losses must stop training after patience epochs)")
RESET_ON_PREVIOUS = ("the patience counter was reset when the validation loss beat the previous epoch's: only an "
                     "improvement over the BEST so far sets it back to 0")
MIN_DELTA = ("an improvement had to beat the best by a minimum delta: any strict improvement counts "
             "(val_loss < best), however small")
RETURNED_TRAIN_MODE = "the returned net is in training mode: call net.eval() before returning it"
FLOAT64_RUN = ("the run is in float64 (the returned net's parameters are float64): the recipe trains make_net's "
               "float32 net on float32 tensors, X as torch.float32")
STUDY_ALIASED = ("every row of the table is the same dict (one dict updated in place and appended again): build a "
                 "new dict for every run")
STUDY_SEEDS = ("the results table does not hold one run per (config, seed) with that seed: call train_fn(config, "
               "seed, data) for every config and every seed, in that order, and record the seed")
STUDY_CONFIG_ORDER = ("the runs follow the configs sorted by name, not in the order given: loop over configs.items() "
                      "as it is (a dict keeps the order its entries were added in)")
STUDY_TRAIN_MODE = ("the accuracies were measured in training mode (dropout active): call net.eval() and use "
                    "torch.no_grad() before evaluating")
STUDY_SWAPPED = ("val_acc and test_acc are swapped or measured on the wrong part: val_acc on X_val, y_val and "
                 "test_acc on X_test, y_test")
STUDY_TEST_AS_VAL = ("train_fn was given the test set as its validation data (a test set used during tuning): pass "
                     "the data with its own validation part")
BUDGETS = ("results averaged over different budgets: summarize must raise ValueError when the rows do not all "
           "have the same num_epochs")
DDOF0 = "the std is the population std (ddof=0); a spread of a few runs is the sample std, ddof=1"
NORMAL_QUANTILE = ("the interval uses the normal quantile 1.96; with a handful of seeds use Student's t with n - 1 "
                   "degrees of freedom (scipy.stats.t.ppf(0.975, n - 1))")
NO_SQRT_N = ("the interval's half-width is t * std; the interval of a mean uses the standard error, "
             "t * std / sqrt(n)")
STD_IS_SE = ("the std is the standard error of the mean (std / sqrt(n)): report the sample standard deviation "
             "(ddof=1) as std, and use std / sqrt(n) only inside the interval")
ZERO_SPREAD = ("a cell whose runs all give the same value has std 0 and the interval [mean, mean]: mean ± t * 0; "
               "scipy.stats.t.interval gives NaN when its scale is 0, so compute mean ± t * std / sqrt(n) yourself")


def _scramble(salt: int) -> None:
    """Put every global random state somewhere the student's code cannot expect."""
    import torch

    random.seed(10_000 + salt)
    np.random.seed(10_000 + salt)
    torch.manual_seed(10_000 + salt)


def _array(a, dtype=float):
    return np.asarray(a, dtype=dtype)


# ---------------------------------------------------------------- part 1: make_splits
def split_run(fn, X, y, seed, val_fraction=None, test_fraction=None, salt=0):
    """Call ``fn(X, y, seed[, val_fraction, test_fraction])``; return its parts as plain arrays."""
    X, y = _array(X), _array(y).astype(np.int64)
    X0, y0 = X.copy(), y.copy()
    _scramble(salt)
    kwargs = {} if val_fraction is None else {"val_fraction": val_fraction, "test_fraction": test_fraction}
    out = fn(X, y, seed, **kwargs)
    res = {"unchanged": bool(np.array_equal(X, X0) and np.array_equal(y, y0))}
    for part in ("train", "val", "test"):
        res[f"idx_{part}"] = np.asarray(out[f"idx_{part}"]).astype(float).ravel()
        res[f"X_{part}"] = np.asarray(out[f"X_{part}"], dtype=float)
        res[f"y_{part}"] = np.asarray(out[f"y_{part}"]).astype(float).ravel()
    return res


def split_seed_run(fn, X, y, seed, other_seed):
    """The indices of fn's splits for ``seed`` twice (the global random state changed between them) and for
    ``other_seed``: ``(idx_a, idx_b, idx_other)``, each the concatenation train, val, test."""
    runs = []
    for s, salt in ((seed, 1), (seed, 2), (other_seed, 3)):
        r = split_run(fn, X, y, s, salt=salt)
        runs.append(np.concatenate([r["idx_train"], [-1], r["idx_val"], [-1], r["idx_test"]]))
    return tuple(runs)


def split_problems(X, y, r, val_fraction=0.2, test_fraction=0.2) -> list[str]:
    """What is wrong with the parts ``r`` (a :func:`split_run` result) of ``X, y``: property checks, in the
    order of the exercise's text. [] when nothing is."""
    X, y = _array(X), _array(y)
    n = len(y)
    idx = {p: r[f"idx_{p}"].astype(int) for p in ("train", "val", "test")}
    allidx = np.concatenate(list(idx.values()))
    if len(allidx) != n or len(set(allidx.tolist())) != n or allidx.min() < 0 or allidx.max() >= n:
        return ["the three parts must be disjoint and together hold every row exactly once (idx_train, idx_val "
                "and idx_test are row numbers of X)"]
    for p, frac in (("val", val_fraction), ("test", test_fraction)):
        if abs(len(idx[p]) - frac * n) > 2:
            return [f"the {p} part should hold about {p}_fraction * n rows (within 2)"]
    for p in idx:
        if not np.array_equal(r[f"y_{p}"], y[idx[p]]):
            return [f"y_{p} should be y[idx_{p}]"]
        if r[f"X_{p}"].shape != (len(idx[p]), X.shape[1]):
            return [f"X_{p} should have one row per index in idx_{p} and the columns of X"]
    if not r["unchanged"]:
        return ["make_splits changed X or y in place"]
    for p in idx:
        frac = len(idx[p]) / n
        for c in np.unique(y):
            if abs(np.sum(y[idx[p]] == c) - frac * np.sum(y == c)) > 2:
                return [NOT_STRATIFIED]
    Xs = {p: r[f"X_{p}"] for p in idx}
    if any(not np.all(np.isfinite(v)) for v in Xs.values()):
        return [ZERO_VARIANCE]
    raw = {p: X[idx[p]] for p in idx}
    mu, sd = raw["train"].mean(0), raw["train"].std(0)
    const = sd == 0
    mu_all, sd_all = X.mean(0), X.std(0)
    sd_all = np.where(sd_all == 0, 1.0, sd_all)
    if all(np.allclose(Xs[p], (raw[p] - mu_all) / sd_all, atol=1e-8) for p in idx) and not np.allclose(mu, mu_all):
        return [LEAKAGE]
    if len(idx["val"]) > 1 and np.allclose(Xs["val"].mean(0), 0, atol=1e-8) \
            and not np.allclose(raw["val"].mean(0), mu, atol=1e-8):
        return [OWN_STATISTICS]
    sd1 = raw["train"].std(0, ddof=1)
    if np.allclose(Xs["train"][:, ~const], ((raw["train"] - mu) / np.where(sd1 == 0, 1, sd1))[:, ~const], atol=1e-8) \
            and len(idx["train"]) > 1:
        return [SAMPLE_STD]
    scale = np.where(const, 1.0, sd)
    for p in idx:
        if not np.allclose(Xs[p], (raw[p] - mu) / scale, rtol=1e-6, atol=1e-8):
            return [f"X_{p} is not (X[idx_{p}] - mean) / std with the mean and (population) std of the training "
                    "rows (a pixel constant on the training rows divided by 1)"]
    return []


def _visible_split_data():
    rng = np.random.default_rng(12)
    y = np.repeat(np.arange(4), [60, 25, 10, 5])  # skewed: a split that ignores the labels shows it
    X = rng.normal(size=(100, 6)) * [1, 2, 3, 1, 1, 1] + [0, 5, -2, 0, 0, 0]
    X[:, 3] = 7.0  # a constant column
    X[y == 3, 4] += 40.0  # a rare class with extreme values: whole-data statistics move a lot
    return X, y


def check_make_splits(make_splits):
    """Visible test of Part 1 on a skewed data set with a constant column and extreme rows."""
    X, y = _visible_split_data()
    r = split_run(make_splits, X, y, 3)
    problems = split_problems(X, y, r)
    assert not problems, problems[0]
    r2 = split_run(make_splits, X, y, 3, 0.3, 0.1)
    problems = split_problems(X, y, r2, 0.3, 0.1)
    assert not problems, "with val_fraction=0.3, test_fraction=0.1: " + problems[0]
    a, b, c = split_seed_run(make_splits, X, y, 3, 4)
    assert np.array_equal(a, b) and not np.array_equal(a, c), SEED_IGNORED
    print("make_splits: all visible checks passed.")


# ---------------------------------------------------------------- part 2: train
def _data(arrays):
    names = ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test")
    return {k: (_array(a) if k.startswith("X") else _array(a).astype(np.int64)) for k, a in zip(names, arrays)}


def _fixed_init_patch(fn):
    """Make make_net (as the student's function sees it) build the same initial weights for every seed, without
    touching the global random state; returns a function that undoes it."""
    import torch

    import coursekit.demos.capstone as cap

    real = cap.make_net

    def fixed(*args, **kwargs):
        state = torch.get_rng_state()
        torch.manual_seed(4321)
        try:
            return real(*args, **kwargs)
        finally:
            torch.set_rng_state(state)

    g = getattr(fn, "__globals__", {})
    had = g.get("make_net", None) is real
    if had:
        g["make_net"] = fixed
    cap.make_net = fixed

    def undo():
        cap.make_net = real
        if had:
            g["make_net"] = real
    return undo


def train_run(fn, config, seed, arrays, salt=0, fixed_init=False, other_test=None):
    """``fn(config, seed, data)`` after scrambling the global random state; ``other_test``: (X_test, y_test) that
    replace the test part. Returns the history's lists, the number of epochs run and the returned net's
    validation loss and accuracy (measured here, in eval mode) and whether it was left in eval mode."""
    import torch

    data = _data(arrays)
    if other_test is not None:
        data["X_test"], data["y_test"] = _array(other_test[0]), _array(other_test[1]).astype(np.int64)
    _scramble(salt)
    undo = _fixed_init_patch(fn) if fixed_init else (lambda: None)
    try:
        net, history = fn(dict(config), seed, data)
    finally:
        undo()
    out = {k: [float(v) for v in history[k]] for k in ("train_loss", "val_loss", "val_acc")}
    if not isinstance(net, torch.nn.Module):
        out["net"] = type(net).__name__
        return out
    # the returned net as it is: its mode, and its dtype (evaluated in that dtype, so that a float64 net is not
    # reported as a crash of the student's code)
    out["returned_training"] = bool(net.training)
    dtypes = sorted({str(p.dtype).replace("torch.", "") for p in net.parameters()})
    out["net_dtype"] = ", ".join(dtypes)
    dtype = next(iter(net.parameters())).dtype if dtypes else torch.float32
    net.eval()
    with torch.no_grad():
        logits = net(torch.as_tensor(data["X_val"], dtype=dtype))
        yv = torch.as_tensor(data["y_val"])
        out["net_val_loss"] = float(torch.nn.functional.cross_entropy(logits, yv))
        out["net_val_acc"] = float((logits.argmax(1) == yv).float().mean())
    return out


def _digits_arrays(n_train, n_val, n_test, seed):
    from coursekit.demos.capstone import load_digits_arrays

    X, y = load_digits_arrays()
    idx = np.random.default_rng(seed).permutation(len(y))[:n_train + n_val + n_test]
    parts = np.split(idx, [n_train, n_train + n_val])
    mu, sd = X[parts[0]].mean(0), X[parts[0]].std(0)
    sd[sd == 0] = 1.0
    out = []
    for p in parts:
        out += [(X[p] - mu) / sd, y[p]]
    return out


VISIBLE_TRAIN_CONFIG = {"optimizer": "adam", "lr": 3e-3, "weight_decay": 1e-4, "dropout": 0.3, "patience": None,
                        "noise": 0.2, "num_epochs": 3, "batch_size": 32, "hidden": 16}


def check_train(train):
    """Visible test of Part 2: determinism, what the seed controls, eval mode, early stopping, the test set."""
    arrays = _digits_arrays(120, 60, 60, 7)
    cfg = dict(VISIBLE_TRAIN_CONFIG)
    a = train_run(train, cfg, 1, arrays, salt=1)
    for k in ("train_loss", "val_loss", "val_acc"):
        assert len(a[k]) == cfg["num_epochs"], f"history['{k}'] should hold one number per epoch"
    b = train_run(train, cfg, 1, arrays, salt=2)
    plain = {**cfg, "dropout": 0.0, "noise": 0.0}
    fa = train_run(train, plain, 1, arrays, salt=3, fixed_init=True)
    fb = train_run(train, plain, 2, arrays, salt=4, fixed_init=True)
    assert fa["train_loss"] != fb["train_loss"], SEED_INIT_ONLY
    assert a == b, SEED_ORDER_ONLY if fa == train_run(train, plain, 1, arrays, salt=5, fixed_init=True) \
        else NOT_DETERMINISTIC
    assert a != train_run(train, cfg, 2, arrays, salt=1), "two different seeds gave the same history"
    rng = np.random.default_rng(0)
    t = train_run(train, {**cfg, "patience": 1, "num_epochs": 6}, 1, arrays, salt=1,
                  other_test=(rng.normal(size=(60, 64)), rng.integers(0, 10, 60)))
    u = train_run(train, {**cfg, "patience": 1, "num_epochs": 6}, 1, arrays, salt=1)
    assert t == u, TEST_USED
    assert not a.get("returned_training"), RETURNED_TRAIN_MODE
    assert math.isclose(a["net_val_loss"], a["val_loss"][-1], rel_tol=1e-4), (
        VAL_TRAIN_MODE if abs(a["net_val_loss"] - a["val_loss"][-1]) > 1e-3 else
        "history['val_loss'][-1] is not the validation loss of the returned net")
    e = train_run(train, {**cfg, "patience": 2, "num_epochs": 30, "lr": 0.03}, 1, arrays)
    assert len(e["val_loss"]) < 30, "with patience=2 and a large lr, training should stop early"
    assert math.isclose(e["net_val_loss"], min(e["val_loss"]), rel_tol=1e-4), NO_RESTORE
    print("train: all visible checks passed.")


# ---------------------------------------------------------------- part 3: run_study
def _fake_train_fn(calls, val_marker):
    """A stand-in for train: a fixed random net with dropout (no training) per (config, seed); it records what it
    is given. Its history has config['epochs_run'] epochs."""
    import torch

    from coursekit.demos.capstone import make_net

    def train_fn(config, seed, data):
        X_val = np.asarray(data["X_val"], dtype=float)
        calls.append([int(config["tag"]), int(seed), bool(X_val.shape == np.shape(val_marker)
                                                          and np.allclose(X_val, val_marker))])
        torch.manual_seed(1000 * int(config["tag"]) + int(seed))
        net = make_net({"hidden": 16, "dropout": 0.5})
        for p in net.parameters():
            p.data *= 3.0
        n = int(config.get("epochs_run", config["num_epochs"]))
        return net, {"train_loss": [1.0] * n, "val_loss": [1.0] * n, "val_acc": [0.1] * n}
    return train_fn


def study_run(fn, configs, seeds, arrays, twice=False):
    """``fn(configs, seeds, train_fn, data)`` with a recording stand-in for train; returns the rows (as plain
    dicts) and the calls of train_fn [(config tag, seed, was its X_val the validation part)]. ``twice``: the study
    runs a second time and "again" holds its rows (accuracies that change from one run to the next were measured
    with dropout active)."""
    data = _data(arrays)
    calls = []
    keys = ("config", "seed", "num_epochs", "epochs_run", "val_acc", "test_acc")

    def run(record):
        rows = fn({k: dict(v) for k, v in configs.items()}, list(seeds), _fake_train_fn(record, data["X_val"]), data)
        return [{k: (row[k] if k == "config" else float(row[k])) for k in keys if k in row} for row in rows]
    out = {"rows": run(calls), "calls": calls}
    if twice:
        out["again"] = run([])
    return out


def _visible_study():
    arrays = _digits_arrays(40, 30, 30, 3)
    # neither the configs nor the seeds in sorted order: a table sorted either way does not pass
    configs = {"b": {"tag": 2, "num_epochs": 5, "epochs_run": 3}, "a": {"tag": 1, "num_epochs": 5}}
    return configs, [5, 0], arrays


def check_run_study(run_study):
    """Visible test of Part 3 with a stand-in train_fn that returns fixed random nets with dropout."""
    import torch

    configs, seeds, arrays = _visible_study()
    r = study_run(run_study, configs, seeds, arrays)
    rows, calls = r["rows"], r["calls"]
    assert len(rows) == 4, "one row per (config, seed): 2 configs x 2 seeds should give 4 rows"
    runs = [(name, seed) for name in configs for seed in seeds]   # configs in their order, then seeds in theirs
    got = [(row.get("config"), row.get("seed")) for row in rows]
    tags = [[configs[name]["tag"], seed] for name, seed in runs]
    if got == [(name, seed) for name in sorted(configs) for seed in seeds]:
        raise AssertionError(STUDY_CONFIG_ORDER)
    assert got == runs and [c[:2] for c in calls] == tags, STUDY_SEEDS
    assert all(c[2] for c in calls), STUDY_TEST_AS_VAL
    assert [row.get("num_epochs") for row in rows] == [5] * 4, "num_epochs should be the config's budget"
    assert [row.get("epochs_run") for row in rows] == [3, 3, 5, 5], "epochs_run should be len(history['val_loss'])"
    data = _data(arrays)
    want = []
    for tag, seed, _ in calls:
        net, _ = _fake_train_fn([], 0)({"tag": tag, "num_epochs": 1}, seed, data)
        net.eval()
        with torch.no_grad():
            accs = [float((net(torch.as_tensor(data[f"X_{p}"], dtype=torch.float32)).argmax(1)
                           == torch.as_tensor(data[f"y_{p}"])).float().mean()) for p in ("val", "test")]
        want.append(accs)
    got = [[row.get("val_acc"), row.get("test_acc")] for row in rows]
    if not np.allclose(got, want, atol=1e-6):
        swapped = np.allclose(got, [w[::-1] for w in want], atol=1e-6)
        raise AssertionError(STUDY_SWAPPED if swapped else STUDY_TRAIN_MODE)
    print("run_study: all visible checks passed.")


# ---------------------------------------------------------------- part 4: summarize
_VISIBLE_RESULTS = [{"config": "x", "seed": s, "num_epochs": 10, "val_acc": 0.90 + 0.01 * s, "test_acc": v}
                    for s, v in enumerate([0.90, 0.94, 0.92])] + \
                   [{"config": "y", "seed": s, "num_epochs": 10, "val_acc": 0.8, "test_acc": v}
                    for s, v in enumerate([0.85, 0.80, 0.86, 0.81])]
# worked out in advance: mean, std (ddof=1), half-width t(0.975, n-1) * std / sqrt(n) of x (n=3) and y (n=4)
_VISIBLE_WANT = {"x": (0.92, 0.02, 0.049683), "y": (0.83, 0.029439, 0.046844)}
_VISIBLE_WRONG = {DDOF0: {"x": 0.016330}, NORMAL_QUANTILE: {"x": 0.022632}, NO_SQRT_N: {"x": 0.086055}}


def check_summarize(summarize):
    """Visible test of Part 4 on a small table worked out in advance."""
    out = summarize([dict(r) for r in _VISIBLE_RESULTS])
    assert set(out) == {"x", "y"}, "one entry per config"
    for name, (mean, std, half) in _VISIBLE_WANT.items():
        s = out[name]
        assert s["n"] == (3 if name == "x" else 4), "n is the number of runs of the cell"
        assert math.isclose(s["mean"], mean, abs_tol=1e-6), f"the mean of cell {name} is wrong"
        got_half = (s["ci_high"] - s["ci_low"]) / 2
        for message, wrong in _VISIBLE_WRONG.items():
            if name in wrong and math.isclose(got_half, wrong[name], abs_tol=2e-5) and message != DDOF0:
                raise AssertionError(message)
        if not math.isclose(s["std"], std, abs_tol=2e-6):
            raise AssertionError(DDOF0 if math.isclose(s["std"], 0.016330, abs_tol=2e-6) and name == "x"
                                 else f"the std of cell {name} is wrong")
        assert math.isclose(got_half, half, abs_tol=2e-6) and math.isclose(s["ci_low"] + s["ci_high"], 2 * mean,
                                                                           abs_tol=1e-6), \
            f"the 95 % t-interval of cell {name} is wrong"
    val = summarize([dict(r) for r in _VISIBLE_RESULTS], metric="val_acc")
    assert math.isclose(val["x"]["mean"], 0.91, abs_tol=1e-9), "summarize(results, metric='val_acc') must use val_acc"
    mixed = [dict(r) for r in _VISIBLE_RESULTS]
    mixed[1]["num_epochs"] = 20
    try:
        summarize(mixed)
    except ValueError:
        pass
    else:
        raise AssertionError(BUDGETS)
    print("summarize: all visible checks passed.")


# ---------------------------------------------------------------- driver for the grader: summarize
def summary_run(fn, results, metric=None):
    """``fn(results[, metric])`` as plain values: cell -> [n, mean, std, ci_low, ci_high]; or "ValueError"."""
    try:
        out = fn([dict(r) for r in results]) if metric is None else fn([dict(r) for r in results], metric=metric)
    except ValueError:
        return "ValueError"
    return {str(k): [float(v[key]) for key in ("n", "mean", "std", "ci_low", "ci_high")] for k, v in out.items()}
