"""Hidden tests for Chapter 12: the capstone study.

Each part states the contract the exercise's text gives and tries every item of it in a scenario. The student's
functions run inside the sandbox through the drivers of ``coursekit.checks.capstone`` (the same ones the visible
tests use); here the values they return are compared with the same drivers run on ``solutions.capstone``, whose
split is scikit-learn's and whose runs follow the exercise's recipe of randomness (both ways it allows). When an
answer behaves like a known-wrong implementation (the mistakes the chapter names), the message names the mistake.
Messages never contain the hidden inputs or the expected values. Every run is tiny (a few epochs on ~100 digits).
"""

from __future__ import annotations

import copy
import functools
import json
import math
import types

import numpy as np

from coursekit.checks import capstone as ck
from coursekit.demos.capstone import make_net
from solutions import capstone as ref

from .common import Failure, Mistake, close, probe, returned
from ..harness import encode
from ..verdicts import Credit, Part, Scenario, decode

DRIVER = "coursekit.checks.capstone:"


def _plain(value):
    """``value`` as the grader receives it from the sandbox (encoded and decoded), for like-for-like comparisons."""
    return decode(json.loads(json.dumps(encode(value))))


# ---------------------------------------------------------------- part 1: make_splits
NAMED_SPLIT = (ck.LEAKAGE, ck.OWN_STATISTICS, ck.NOT_STRATIFIED, ck.SAMPLE_STD, ck.ZERO_VARIANCE)


def _split_with(bug):
    """make_splits with one known mistake (``bug``), the reference's split and standardization elsewhere: the models
    of the named mistakes (the checks name them from properties of the parts; these tell which ones a passing
    scenario rules out)."""
    def make_splits(X, y, seed, val_fraction=0.2, test_fraction=0.2):
        from sklearn.model_selection import train_test_split

        X, y = np.asarray(X, dtype=float), np.asarray(y)
        state = {"global_seed": None, "fixed_seed": 0}.get(bug, seed)
        rest, idx_test = train_test_split(np.arange(len(y)), test_size=test_fraction, random_state=state,
                                          stratify=None if bug == "unstratified" else y)
        idx_train, idx_val = train_test_split(rest, test_size=val_fraction / (1 - test_fraction), random_state=state,
                                              stratify=None if bug in ("unstratified", "first_stratified") else y[rest])
        out = {"idx_train": idx_train, "idx_val": idx_val, "idx_test": idx_test}
        for part, idx in (("train", idx_train), ("val", idx_val), ("test", idx_test)):
            rows = {"leakage": X, "own_statistics": X[idx]}.get(bug, X[idx_train])
            mean, std = rows.mean(0), rows.std(0, ddof=1 if bug == "sample_std" else 0)
            if bug != "no_guard":  # whole_data_guard: constant on all rows, not on the training rows
                std[(X.std(0) if bug == "whole_data_guard" else std) == 0] = 1.0
            with np.errstate(divide="ignore", invalid="ignore"):
                out[f"X_{part}"] = (X[idx] - mean) / std
            out[f"y_{part}"] = y[idx]
        return out
    return make_splits


# key -> the models (bugs of _split_with) of that mistake: a scenario rules it out when every one of them fails there
SPLIT_MODELS = {"split_0": ("leakage",), "split_1": ("own_statistics",),
                "split_2": ("unstratified", "first_stratified"), "split_3": ("sample_std",),
                "split_4": ("no_guard", "whole_data_guard"), "seed_ignored": ("global_seed", "fixed_seed")}


def _split_ruled_out(judge, run) -> frozenset:
    """The keys whose every model fails ``judge`` when ``run`` (a driver call) runs it."""
    def fails(bug):
        try:
            judge(run(_split_with(bug)))
        except Exception:  # a Failure, or a result so odd that the check broke: wrong either way (Part.outcomes)
            return True
        return False
    return frozenset(key for key, bugs in SPLIT_MODELS.items() if all(fails(bug) for bug in bugs))


def _split_scenario(label, covers, X, y, seed, fractions=None):
    args = [X, y, seed] + (list(fractions) if fractions else [])
    calls = [probe(DRIVER + "split_run", "make_splits", *args)]
    vf, tf = fractions or (0.2, 0.2)

    def judge(out):
        if not isinstance(out, dict) or "idx_train" not in out:
            raise Failure("make_splits should return a dict with the keys idx_*, X_* and y_* of the three parts")
        problems = ck.split_problems(X, y, out, vf, tf)
        if problems and problems[0] in NAMED_SPLIT:
            raise Mistake(problems[0], key=f"split_{NAMED_SPLIT.index(problems[0])}",
                          plain="the parts or their standardization differ from the text's")
        if problems:
            raise Failure(problems[0])

    @functools.lru_cache(maxsize=None)
    def ruled_out():   # once per grading process
        return _split_ruled_out(judge, lambda fn: _plain(ck.split_run(fn, *args)))

    def check(values):
        (out,) = returned(values, "make_splits")
        judge(out)
        return ruled_out   # passed: the mistakes whose every model fails here are not the answer's
    return Scenario(label, calls, check, covers)


def _seed_scenario(X, y):
    calls = [probe(DRIVER + "split_seed_run", "make_splits", X, y, 21, 22)]

    def judge(out):
        a, b, c = (np.asarray(v, float) for v in out)
        if a.shape != b.shape or not np.array_equal(a, b):
            raise Mistake(ck.SEED_IGNORED, key="seed_ignored", plain="the same seed gave another split")
        if a.shape == c.shape and np.array_equal(a, c):
            raise Mistake(ck.SEED_IGNORED.replace("the same seed must give the same split (and a different seed "
                                                  "another one)", "another seed must give another split"),
                          key="seed_ignored", plain="another seed gave the same split")

    @functools.lru_cache(maxsize=None)
    def ruled_out():   # once per grading process
        return _split_ruled_out(judge, lambda fn: _plain(ck.split_seed_run(fn, X, y, 21, 22)))

    def check(values):
        (out,) = returned(values, "make_splits")
        judge(out)
        return ruled_out   # passed: the mistakes whose every model fails here are not the answer's
    return Scenario("the same seed twice, and another seed", calls, check, ("seed",))


def _skewed(n_per, d, seed, labels=None, extreme=None):
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(len(n_per)) if labels is None else np.asarray(labels), n_per)
    X = rng.normal(size=(len(y), d)) * rng.uniform(0.5, 3, d) + rng.uniform(-3, 3, d)
    if extreme is not None:
        X[y == extreme, 0] += 50.0
    perm = rng.permutation(len(y))
    return np.round(X[perm], 6), y[perm].astype(float)


def _digits_rows(n, seed):
    from coursekit.demos.capstone import load_digits_arrays

    X, y = load_digits_arrays()
    idx = np.random.default_rng(seed).permutation(len(y))[:n]
    return X[idx], y[idx].astype(float)


_Xv, _yv = ck._visible_split_data()
_Xd, _yd = _digits_rows(300, 1)
_Xs, _ys = _skewed([200, 100, 50, 30, 20], 5, 2)
_Xe, _ye = _skewed([60, 40, 30, 20, 10], 4, 3, extreme=4)
_Xl, _yl = _skewed([40, 30, 30], 3, 4, labels=[7, 3, 9])

MAKE_SPLITS = Part(
    "make_splits",
    contract={
        "parts": "idx_train, idx_val and idx_test are disjoint and together hold every row of X once",
        "sizes": "the validation and test parts hold val_fraction * n and test_fraction * n rows (within 2)",
        "fractions": "val_fraction and test_fraction other than the defaults are respected",
        "stratified": "every class keeps its share in every part (within 2 rows)",
        "seed": "the same seed gives the same split whatever the global random state; another seed another split",
        "train_stats": "X_train, X_val and X_test are standardized with the training rows' mean and std only",
        "population_std": "the std is the population std (ddof=0), as StandardScaler's",
        "constant": "a column constant on the training rows is divided by 1 (centred only, no NaN)",
        "labels": "y_train, y_val and y_test are y[idx_train], y[idx_val] and y[idx_test]",
        "any_labels": "labels need not be 0..k-1 (any integers)",
        "no_inplace": "X and y are not changed in place",
    },
    credit=[
        Credit("a stratified, seeded split standardized with training statistics", 1.5,
               ("parts", "sizes", "stratified", "seed", "train_stats", "population_std", "constant", "labels",
                "no_inplace")),
        Credit("other fractions", 0.25, ("fractions",)),
        Credit("labels other than 0..k-1", 0.25, ("any_labels",)),
    ],
    scenarios=[
        _split_scenario("the notebook's visible data", ("parts", "stratified", "train_stats", "constant", "labels"),
                        _Xv, _yv, 3),
        _split_scenario("300 digit images (constant border pixels)", ("constant", "train_stats", "population_std",
                                                                      "no_inplace"), _Xd, _yd, 5),
        _split_scenario("a skewed label vector", ("stratified", "sizes", "parts"), _Xs, _ys, 6),
        _split_scenario("a rare class with extreme values", ("train_stats", "stratified"), _Xe, _ye, 7),
        _split_scenario("val_fraction = 0.3, test_fraction = 0.15", ("fractions",),
                        _Xs, _ys, 8, (0.3, 0.15)),
        _split_scenario("labels 3, 7 and 9", ("any_labels",), _Xl, _yl, 9),
        _seed_scenario(_Xs, _ys),
    ],
)


# ---------------------------------------------------------------- part 2: train
# a run whose validation loss improves again after a worse epoch (found by running the reference and a counter that is
# never reset on "small", seed 1: they stop after 5 and 4 epochs)
COUNTER_CONFIG = {"optimizer": "sgd-momentum", "lr": 0.1, "dropout": 0.0, "noise": 0.0, "patience": 2,
                  "num_epochs": 14, "batch_size": 16}
def _key(obj):
    return json.dumps(obj, sort_keys=True, default=float)


_ARRAYS = {name: ck._digits_arrays(*spec) for name, spec in {
    "visible": (120, 60, 60, 7), "small": (96, 48, 48, 11), "odd": (100, 40, 40, 12)}.items()}
_OTHER_TEST = {name: (np.random.default_rng(99).normal(size=(len(a[4]), 64)),
                      np.random.default_rng(98).integers(0, 10, len(a[4])).astype(float))
               for name, a in _ARRAYS.items()}


@functools.lru_cache(maxsize=None)
def _train_reference(config_key, seed, arrays, loader, bug="", salt=0, fixed_init=False, other_test=False):
    config = json.loads(config_key)

    def fn(c, s, d):
        return train(c, s, d, loader=loader, bug=bug)  # noqa: F821 (a name of solutions.capstone, see below)
    # the reference's own globals, so that the driver's fixed-initialization patch of make_net reaches it
    fn = types.FunctionType(fn.__code__, ref.__dict__, "train", None, fn.__closure__)
    return ck.train_run(fn, config, seed, _ARRAYS[arrays], salt=salt, fixed_init=fixed_init,
                        other_test=_OTHER_TEST[arrays] if other_test else None)


def _recipe(config, seed, data, *, loader=False, train_mode=True, mean="batches", reset=True, strict=True,
            dtype="float32", counter="best", min_delta=0.0):
    """The text's recipe with the known mistakes as switches (the reference, solutions.capstone.train, stays the
    oracle): net.train() never called, the epoch's loss weighted by batch size, the patience counter never reset,
    an equal validation loss counted as an improvement, the whole run in float64, the counter reset by an epoch
    better than the previous one (``counter="previous"``), an improvement that must beat the best by ``min_delta``."""
    import torch
    from torch import nn

    dt = getattr(torch, dtype)
    torch.manual_seed(seed)
    net = make_net(config).to(dt)
    g = torch.Generator().manual_seed(seed)
    opt = ref.make_optimizer(config, net.parameters())
    X_train = torch.as_tensor(np.asarray(data["X_train"]), dtype=dt)
    y_train = torch.as_tensor(np.asarray(data["y_train"]), dtype=torch.int64)
    X_val = torch.as_tensor(np.asarray(data["X_val"]), dtype=dt)
    y_val = torch.as_tensor(np.asarray(data["y_val"]), dtype=torch.int64)
    n, batch_size = len(X_train), int(config.get("batch_size", 64))
    noise, patience = float(config.get("noise", 0.0)), config.get("patience")
    history = {"train_loss": [], "val_loss": [], "val_acc": []}
    best, best_state, wait, previous = math.inf, None, 0, math.inf
    if loader:
        from torch.utils.data import DataLoader, TensorDataset
        batches = DataLoader(TensorDataset(X_train, y_train), batch_size=batch_size, shuffle=True, generator=g)
    for _ in range(int(config["num_epochs"])):
        if train_mode:
            net.train()
        if loader:
            epoch = batches
        else:
            perm = torch.randperm(n, generator=g)
            epoch = ((X_train[perm[k:k + batch_size]], y_train[perm[k:k + batch_size]]) for k in range(0, n, batch_size))
        losses, sizes = [], []
        for xb, yb in epoch:
            if noise > 0:
                xb = xb + noise * torch.randn(xb.shape, generator=g, dtype=dt)
            loss = nn.functional.cross_entropy(net(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
            sizes.append(len(yb))
        net.eval()
        with torch.no_grad():
            out = net(X_val)
            val_loss = nn.functional.cross_entropy(out, y_val).item()
            val_acc = (out.argmax(dim=1) == y_val).float().mean().item()
        history["train_loss"].append(float(np.average(losses, weights=sizes if mean == "weighted" else None)))
        history["val_loss"].append(val_loss)
        history["val_acc"].append(val_acc)
        if patience is not None:
            improved = val_loss < best - min_delta or (not strict and val_loss <= best)
            if improved:
                best, best_state = val_loss, copy.deepcopy(net.state_dict())
            if improved if counter == "best" else val_loss < previous:
                wait = 0 if reset else wait
            else:
                wait += 1
                if wait >= patience:
                    break
            previous = val_loss
    if best_state is not None:
        net.load_state_dict(best_state)
    net.eval()
    return net, history


# known mistakes of the recipe: (key, message, switches of _recipe)
RECIPE_BUGS = [("never_train_mode", ck.NEVER_TRAIN_MODE, {"train_mode": False}),
               ("weighted_mean", ck.WEIGHTED_MEAN, {"mean": "weighted"}),
               ("counter_not_reset", ck.COUNTER_NOT_RESET, {"reset": False}),
               ("non_strict", ck.NON_STRICT, {"strict": False}),
               ("float64", ck.FLOAT64_RUN, {"dtype": "float64"}),
               ("reset_on_previous", ck.RESET_ON_PREVIOUS, {"counter": "previous"}),
               ("min_delta", ck.MIN_DELTA, {"min_delta": 1e-4})]


@functools.lru_cache(maxsize=None)
def _train_model(config_key, seed, arrays, loader, switches, salt=0):
    config = json.loads(config_key)
    options = dict(switches)

    def fn(c, s, d):
        return _recipe(c, s, d, loader=loader, **options)
    return ck.train_run(fn, config, seed, _ARRAYS[arrays], salt=salt)


def _same_run(got, want, rtol=1e-4, atol=1e-6, keys=("train_loss", "val_loss", "val_acc", "net_val_loss",
                                                      "net_val_acc")) -> bool:
    if not isinstance(got, dict):
        return False
    for k in keys:
        if k not in got or k not in want or not close(got[k], want[k], rtol=rtol, atol=atol):
            return False
    return True


TRAIN_BUGS = {"weight_decay_ignored": ck.WD_IGNORED, "drop_last": ck.DROP_LAST, "stop_on_test": ck.TEST_USED,
              "val_in_train_mode": ck.VAL_TRAIN_MODE, "no_restore": ck.NO_RESTORE, "restore_on_stop": ck.RESTORE_ON_STOP,
              "stop_on_train": ck.STOP_ON_TRAIN, "adam_adamw_swapped": ck.ADAM_ADAMW, "no_momentum": ck.NO_MOMENTUM,
              "noise_global": ck.NOISE_GLOBAL, "seed_init_only": ck.SEED_INIT_ONLY,
              "seed_order_only": ck.SEED_ORDER_ONLY}


RESTORE_BUGS = ("no_restore", "restore_on_stop")


def _models(config_key, seed, arrays, bugs=None, **run):
    """bug -> (message, its runs: one per way of drawing the batches) of the known mistakes ``bugs`` (all of them by
    default; the recipe's only without fixed initial weights or other test rows), each run once per process. The
    restore mistakes are left out of a config without patience, where they are the reference's run."""
    patience = json.loads(config_key).get("patience") is not None
    out = {bug: (message, [_train_reference(config_key, seed, arrays, loader, bug=bug, **run)
                           for loader in (False, True)])
           for bug, message in TRAIN_BUGS.items() if (bugs is None or bug in bugs) and
           (patience or bug not in RESTORE_BUGS)}
    if not run.get("fixed_init") and not run.get("other_test"):
        for bug, message, switches in RECIPE_BUGS:
            if bugs is None or bug in bugs:
                out[bug] = (message, [_train_model(config_key, seed, arrays, loader, tuple(sorted(switches.items())),
                                                   run.get("salt", 0)) for loader in (False, True)])
    return out


# Mistakes no run rules out, their models standing for only some ways of making them: an answer has a branch per
# optimizer, and weight_decay may be dropped, or both names made Adam, in one branch only; the test rows may be read
# by early stopping alone ("other test rows" rules that out); drop_last's model drops nothing from a DataLoader.
PARTIAL_MODELS = ("weight_decay_ignored", "adam_adamw_swapped", "stop_on_test", "drop_last")


@functools.lru_cache(maxsize=None)
def _run_ruled_out(config_key, seed, arrays, check_mode=False, **run) -> frozenset:
    """The keys whose every model (one per way of drawing the batches) fails this run, which the answer passed: its
    history differs from both of the reference's. Computed once per grading process (a few seconds for all runs)."""
    wants = [_train_reference(config_key, seed, arrays, loader, **run) for loader in (False, True)]
    bugs = [bug for bug in (*TRAIN_BUGS, *(b for b, _, _ in RECIPE_BUGS)) if bug not in PARTIAL_MODELS]
    out = {bug for bug, (_, runs) in _models(config_key, seed, arrays, bugs, **run).items()
           if not any(_same_run(wrong, w) for wrong in runs for w in wants)}
    # the returned net left in training mode: the right run otherwise, which this run's check tells apart
    return frozenset(out | ({"returned_train_mode"} if check_mode else set()))


def _judge_run(out, config, seed, arrays, check_mode=False, **run):
    """A Failure (or Mistake) unless ``out`` is the run of either recipe the text allows. A mistake is named only
    when its model alone gives this run here (and the text's recipe does not)."""
    if not isinstance(out, dict) or "train_loss" not in out:
        raise Failure("train should return (net, history) with history['train_loss'], ['val_loss'], ['val_acc']")
    if "net" in out:
        raise Failure(f"train should return (net, history) with net a torch.nn.Module; your first value is a "
                      f"{out['net']}")
    key = _key(config)
    wants = [_train_reference(key, seed, arrays, loader, **run) for loader in (False, True)]
    # with patience, the history is the recipe's and only the returned net differs
    net_only = config.get("patience") is not None and \
        any(_same_run(out, w, keys=("train_loss", "val_loss", "val_acc")) for w in wants)
    plain = "the returned net is not the best epoch's" if net_only else "the history differs from the recipe's run"
    if any(_same_run(out, w) for w in wants):
        if check_mode and out.get("returned_training"):
            raise Mistake(ck.RETURNED_TRAIN_MODE, key="returned_train_mode",
                          plain="the returned net is in training mode")
        return lambda: _run_ruled_out(key, seed, arrays, check_mode, **run)   # models trained only if needed
    hits = {}
    for bug, (message, runs) in _models(key, seed, arrays, **run).items():
        if any(_same_run(out, wrong) and not any(_same_run(wrong, w) for w in wants) for wrong in runs):
            hits.setdefault(bug, message)
    if len(hits) == 1:
        (bug, message), = hits.items()
        raise Mistake(message, key=bug, plain=plain)
    if hits:   # models that coincide here (no restore and a restore only on a stop, in a run that does not stop):
        (bug, message), *others = hits.items()   # the part names the one the other scenarios leave
        raise Mistake(message, key=bug, plain=_what_differs(out, wants, config, net_only), also=tuple(others))
    raise Failure(_what_differs(out, wants, config, net_only))


def _what_differs(out, wants, config, net_only) -> str:
    """What a wrong run shows, without naming a cause."""
    want = wants[0]
    if len(out["val_loss"]) != len(want["val_loss"]):
        return (f"the run lasted {'more' if len(out['val_loss']) > len(want['val_loss']) else 'fewer'} "
            "epochs than it should (num_epochs, or the patience rule on the validation loss)")
    if not math.isclose(out["net_val_loss"], out["val_loss"][-1], rel_tol=1e-4) and config.get("patience") is None:
        return ("history['val_loss'][-1] is not the validation loss of the returned net")
    if net_only:  # no restore, a restore only on a stop (a run that reaches num_epochs), or another state
        return ("the history is the recipe's but the returned net is not the best epoch's: with patience, "
            "return the net in the state of the epoch with the lowest validation loss, also when the run "
            "reaches num_epochs without stopping")
    if out.get("net_dtype", "float32") != "float32":
        return (f"the history differs from the recipe's run, and the returned net's parameters are "
            f"{out['net_dtype']}: the recipe trains make_net's float32 net on float32 tensors")
    if close(out["train_loss"][:1], want["train_loss"][:1], rtol=1e-4) or \
            close(out["train_loss"][:1], wants[1]["train_loss"][:1], rtol=1e-4):
        return ("the first epoch matches, later ones do not: check the optimizer's settings, that every "
            "epoch draws a new order from the same generator g and puts the net in training mode")
    return ("the history differs from the run of the recipe in the text (seeding, the order of the random "
            "draws, the optimizer, the noise, or the mean of the batch losses)")


def _run_scenario(label, covers, config, seed=1, arrays="small", check_mode=False):
    config = {**ck.VISIBLE_TRAIN_CONFIG, **config}
    calls = [probe(DRIVER + "train_run", "train", config, seed, _ARRAYS[arrays], 5)]

    def check(values):
        (out,) = returned(values, "train")
        return _judge_run(out, config, seed, arrays, check_mode=check_mode, salt=5)   # passed: what it rules out
    return Scenario(label, calls, check, covers)


def _property_ruled_out(judge, bugs, runs) -> frozenset:
    """For a scenario that checks a property of several runs rather than their values: the keys among ``bugs`` (the
    models that can break that property; the others keep it by construction) whose model, with either way of drawing
    the batches, fails ``judge``. ``runs``: the scenario's calls, as (config, seed, salt, fixed_init, other_test)."""
    def fails(bug, loader):
        try:
            judge([_train_reference(_key(c), seed, "small", loader, bug=bug, salt=salt, fixed_init=fixed,
                                    other_test=other) for c, seed, salt, fixed, other in runs])
        except Exception:  # a Failure, or a result so odd that the check broke: wrong either way (Part.outcomes)
            return True
        return False
    return frozenset(bug for bug in bugs if fails(bug, False) and fails(bug, True))


def _determinism_scenario():
    """Determinism only (the values are judged by the other scenarios)."""
    config = {**ck.VISIBLE_TRAIN_CONFIG, "dropout": 0.2, "noise": 0.1}
    plain = {**config, "dropout": 0.0}  # with fixed initial weights, only the order and the noise are random
    calls = [probe(DRIVER + "train_run", "train", cfg, 3, _ARRAYS["small"], salt, fixed)
             for cfg, fixed in ((config, False), (plain, True)) for salt in (6, 7)]

    def check(values):  # passed: it rules out no model (each seeds as the recipe does, noise_global's draws too)
        a, b, fa, fb = returned(values, "train")
        if not _same_run(a, b, rtol=0, atol=0):
            # with the initial weights held fixed the runs agree: only the initialization escaped the seed
            if _same_run(fa, fb, rtol=0, atol=0):
                raise Mistake(ck.SEED_ORDER_ONLY, key="seed_order_only", plain="the same seed gave another run")
            raise Mistake(ck.NOT_DETERMINISTIC, key="not_deterministic", plain="the same seed gave another run")
    return Scenario("the same seed after the global random state changed", calls, check,
                    ("deterministic", "seed_init"))


def _order_scenario():
    config = {**ck.VISIBLE_TRAIN_CONFIG, "dropout": 0.0, "noise": 0.0, "optimizer": "sgd-momentum", "lr": 0.05}
    calls = [probe(DRIVER + "train_run", "train", config, s, _ARRAYS["small"], 8, True) for s in (1, 2)]

    def judge(runs):
        a, b = runs
        if _same_run(a, b, rtol=0, atol=0):
            raise Mistake(ck.SEED_INIT_ONLY, key="seed_init_only", plain="two seeds gave the same run")

    @functools.lru_cache(maxsize=None)
    def ruled_out():   # once per grading process; the model whose batch order ignores the seed
        return _property_ruled_out(judge, ("seed_init_only",), [(config, s, 8, True, False) for s in (1, 2)])

    def check(values):
        judge(returned(values, "train"))
        return ruled_out
    return Scenario("initial weights held fixed, two seeds", calls, check, ("seed_order", "seeds_differ"))


def _test_untouched_scenario():
    config = {**ck.VISIBLE_TRAIN_CONFIG, "patience": 1, "num_epochs": 6, "lr": 0.02}
    calls = [probe(DRIVER + "train_run", "train", config, 4, _ARRAYS["small"], 9, False, other)
             for other in (None, _OTHER_TEST["small"])]

    def judge(runs):
        a, b = runs
        if not _same_run(a, b, rtol=0, atol=0):
            raise Mistake(ck.TEST_USED, key="stop_on_test", plain="other test rows changed the run")

    @functools.lru_cache(maxsize=None)
    def ruled_out():   # once per grading process; the model that reads the test rows
        return _property_ruled_out(judge, ("stop_on_test",), [(config, 4, 9, False, o) for o in (False, True)])

    def check(values):
        judge(returned(values, "train"))
        return ruled_out
    return Scenario("other test rows", calls, check, ("no_test",))


def _bad_optimizer_scenario():
    config = {**ck.VISIBLE_TRAIN_CONFIG, "optimizer": "rmsprop"}
    calls = [probe(DRIVER + "train_run", "train", config, 1, _ARRAYS["small"], 1)]

    def check(values):
        (v,) = values
        if v.get("ok"):
            raise Failure("an unknown optimizer name should raise ValueError")
        if not str(v.get("error", "")).startswith("ValueError"):
            raise Failure("an unknown optimizer name should raise ValueError, not another error")
    return Scenario("an unknown optimizer", calls, check, ("unknown_optimizer",))


TRAIN = Part(
    "train",
    contract={
        "deterministic": "the same (config, seed) gives the same history whatever the global random state",
        "seed_init": "torch.manual_seed(seed) before make_net(config): the seed fixes the initial weights",
        "seed_order": "the order of every epoch is torch.randperm(n, generator=g), g seeded with seed (or a "
                      "DataLoader with generator=g): the seed controls the batch order",
        "seeds_differ": "different seeds give different histories",
        "history": "history holds train_loss (mean of the epoch's batch losses), val_loss and val_acc per epoch",
        "num_epochs": "without patience, num_epochs epochs run",
        "last_batch": "the last mini-batch may be smaller (n not a multiple of batch_size); each batch counts once "
                      "in the epoch's mean loss",
        "sgd": "'sgd-momentum' is torch.optim.SGD with momentum=0.9 and the given lr and weight_decay",
        "adam": "'adam' is torch.optim.Adam with the given lr and weight_decay (L2 through the moments)",
        "adamw": "'adamw' is torch.optim.AdamW with the given lr and weight_decay (decoupled)",
        "unknown_optimizer": "another optimizer name raises ValueError",
        "dropout": "dropout from make_net(config), active in training (net.train() every epoch); its masks from "
                   "the global state seeded in step 1",
        "eval_mode": "validation numbers in eval mode under no_grad; the returned net in eval mode",
        "noise": "noise > 0 adds noise * torch.randn(xb.shape, generator=g) to every training batch",
        "early_stopping": "patience: stop after patience epochs in a row without a strict improvement of the val "
                          "loss (the counter starts again at every improvement)",
        "plateau": "a plateau of equal validation losses is no improvement",
        "restore": "with patience, the returned net has the best epoch's state",
        "no_test": "the test rows are never used",
    },
    credit=[
        Credit("the recipe: seeding, the optimizers, the history", 1.5,
               ("deterministic", "seed_init", "seed_order", "seeds_differ", "history", "num_epochs", "sgd", "adam",
                "adamw", "unknown_optimizer", "no_test")),
        Credit("dropout, noise, train and eval modes", 0.5, ("dropout", "noise", "eval_mode")),
        Credit("early stopping", 0.75, ("early_stopping", "plateau", "restore")),
        Credit("a smaller last batch", 0.25, ("last_batch",)),
    ],
    scenarios=[
        _run_scenario("the notebook's visible config", ("dropout", "noise"), {}, arrays="visible"),
        _run_scenario("sgd-momentum", ("sgd", "seed_init", "seed_order", "history", "num_epochs"),
                      {"optimizer": "sgd-momentum", "lr": 0.05, "dropout": 0.0, "noise": 0.0, "weight_decay": 0.0}),
        _run_scenario("sgd-momentum with weight_decay", ("sgd",),
                      {"optimizer": "sgd-momentum", "lr": 0.05, "dropout": 0.0, "noise": 0.0, "weight_decay": 0.05}),
        _run_scenario("adam with a large weight_decay", ("adam",),
                      {"optimizer": "adam", "lr": 0.01, "dropout": 0.0, "noise": 0.0, "weight_decay": 0.3}),
        _run_scenario("adamw with a large weight_decay", ("adamw",),
                      {"optimizer": "adamw", "lr": 0.01, "dropout": 0.0, "noise": 0.0, "weight_decay": 0.3}),
        _run_scenario("dropout p = 0.5", ("dropout", "eval_mode"),
                      {"optimizer": "adamw", "lr": 0.005, "dropout": 0.5, "noise": 0.0}, check_mode=True),
        _run_scenario("noise = 0.5", ("noise",), {"optimizer": "sgd-momentum", "lr": 0.03, "dropout": 0.0,
                                                  "noise": 0.5}),
        # the budget ends while the counter runs (best epoch 2 of 3): the best state restored without a stop
        _run_scenario("patience = 2: the budget ends one epoch after the best", ("early_stopping", "restore"),
                      {"optimizer": "sgd-momentum", "lr": 0.3, "dropout": 0.0, "noise": 0.0, "patience": 2,
                       "num_epochs": 3, "batch_size": 16}),
        # the best first, then 3 worse epochs, one better than the one before: stops after 4 (both ways of drawing)
        _run_scenario("early stopping with dropout: an epoch better than the previous but not the best",
                      ("early_stopping", "restore"),
                      {"optimizer": "adam", "lr": 0.07, "dropout": 0.3, "noise": 0.0, "patience": 3,
                       "num_epochs": 5}, seed=35),
        _run_scenario("early stopping after an improvement that follows a worse epoch", ("early_stopping",),
                      COUNTER_CONFIG),
        # every epoch improves by about 2e-5 (one full batch per epoch): 3 epochs, no stop
        _run_scenario("improvements smaller than 1e-4: lr = 2e-6, patience = 1", ("early_stopping",),
                      {"optimizer": "adam", "lr": 2e-6, "dropout": 0.0, "noise": 0.0, "patience": 1,
                       "num_epochs": 3, "batch_size": 96}),
        _run_scenario("a plateau: lr = 0, patience = 2", ("plateau",),
                      {"optimizer": "adam", "lr": 0.0, "dropout": 0.0, "noise": 0.0, "patience": 2,
                       "num_epochs": 6}),
        _run_scenario("100 rows in batches of 32", ("last_batch",), {"batch_size": 32, "num_epochs": 2}, arrays="odd"),
        _determinism_scenario(),
        _order_scenario(),
        _test_untouched_scenario(),
        _bad_optimizer_scenario(),
    ],
)


# ---------------------------------------------------------------- part 3: run_study
@functools.lru_cache(maxsize=None)
def _study_reference(configs_key, seeds, arrays, bug="", twice=False):
    """The reference's table; ``bug``: a known mistake's (see _study_with); ``twice``: the driver's second run."""
    return _plain(ck.study_run(_study_with(bug) if bug else ref.run_study, json.loads(configs_key), list(seeds),
                               _ARRAYS[arrays], twice))


def _study_with(bug):
    """run_study with one known mistake (``bug``), right elsewhere: "train_mode" (accuracies measured without
    net.eval()), "swapped" (val_acc and test_acc), "aliased" (one row dict), "test_as_val", "sorted_seeds",
    "seed_index" (a seed's position passed and recorded instead of its value), "sorted_configs" (the configs by
    name)."""
    import torch

    def accuracy(net, X, y):
        if bug != "train_mode":  # train_mode: dropout stays active
            net.eval()
        with torch.no_grad():
            pred = net(torch.as_tensor(np.asarray(X), dtype=torch.float32)).argmax(dim=1)
            return (pred == torch.as_tensor(np.asarray(y), dtype=torch.int64)).float().mean().item()

    def run_study(configs, seeds, train_fn, data):
        rows, row = [], {}
        given = {**data, "X_val": data["X_test"], "y_val": data["y_test"]} if bug == "test_as_val" else data
        val, test = ("test", "val") if bug == "swapped" else ("val", "test")
        for name, config in sorted(configs.items()) if bug == "sorted_configs" else configs.items():
            for i, seed in enumerate(sorted(seeds) if bug == "sorted_seeds" else seeds):
                seed = i if bug == "seed_index" else seed
                net, history = train_fn(config, seed, given)
                row = row if bug == "aliased" else {}
                row.update({"config": name, "seed": seed, "num_epochs": config["num_epochs"],
                            "epochs_run": len(history["val_loss"]),
                            "val_acc": accuracy(net, data[f"X_{val}"], data[f"y_{val}"]),
                            "test_acc": accuracy(net, data[f"X_{test}"], data[f"y_{test}"])})
                rows.append(row)
        return rows
    return run_study


# key -> the models (bugs of _study_with) of that mistake: a scenario rules it out when every one of them fails there
STUDY_MODELS = {"study_train_mode": ("train_mode",), "study_swapped": ("swapped",), "study_aliased": ("aliased",),
                "study_test_as_val": ("test_as_val",), "study_seeds": ("sorted_seeds", "seed_index"),
                "study_config_order": ("sorted_configs",)}


def _study_scenario(label, covers, configs, seeds, arrays="small", check_acc=False):
    """``check_acc``: this scenario also judges the accuracies (the others judge the table's structure only, so
    that a mistake in the accuracies costs their credit alone)."""
    calls = [probe(DRIVER + "study_run", "run_study", configs, list(seeds), _ARRAYS[arrays], check_acc)]
    key = json.dumps(configs)

    @functools.lru_cache(maxsize=None)
    def ruled_out():   # once per grading process
        def fails(bug):
            try:
                judge(_study_reference(key, tuple(seeds), arrays, bug, check_acc))
            except Exception:  # a Failure, or a result so odd that the check broke: wrong either way
                return True
            return False
        return frozenset(k for k, bugs in STUDY_MODELS.items() if all(fails(bug) for bug in bugs))

    def check(values):
        (out,) = returned(values, "run_study")
        judge(out)
        return ruled_out   # passed: the mistakes whose every model fails here are not the answer's

    def judge(out):
        want = _study_reference(key, tuple(seeds), arrays)
        if not isinstance(out, dict) or not isinstance(out.get("rows"), list):
            raise Failure("run_study should return a list of dicts, one per run")
        plain = "the table's rows differ from one run per (config, seed) in order"
        calls_ = [list(c) for c in out["calls"]]
        if [c[:2] for c in calls_] != [c[:2] for c in want["calls"]]:
            if [c[:2] for c in calls_] == [c[:2] for c in _study_reference(key, tuple(seeds), arrays,
                                                                          "sorted_configs", check_acc)["calls"]]:
                raise Mistake(ck.STUDY_CONFIG_ORDER, key="study_config_order",
                              plain="train_fn was called for the configs in another order")
            raise Mistake(ck.STUDY_SEEDS, key="study_seeds", plain="train_fn was not called once per (config, seed)")
        if not all(c[2] for c in calls_):
            raise Mistake(ck.STUDY_TEST_AS_VAL, key="study_test_as_val",
                          plain="train_fn got other validation data")
        rows = out["rows"]
        if len(rows) != len(want["rows"]):
            raise Failure("the table should hold one row per (config, seed)")
        if len(rows) > 1 and all(r == rows[-1] for r in rows) and \
                [rows[-1].get(k) for k in ("config", "seed")] == [want["rows"][-1][k] for k in ("config", "seed")]:
            raise Mistake(ck.STUDY_ALIASED, key="study_aliased", plain=plain)
        for k in ("config", "seed"):
            if [r.get(k) for r in rows] != [r[k] for r in want["rows"]]:
                if k == "seed":
                    raise Mistake(ck.STUDY_SEEDS, key="study_seeds", plain=plain)
                raise Failure("each row's config should be the config's name, in the order of configs")
        for k in ("num_epochs", "epochs_run"):
            if [r.get(k) for r in rows] != [r[k] for r in want["rows"]]:
                raise Failure({"num_epochs": "num_epochs should be the config's budget, config['num_epochs']",
                               "epochs_run": "epochs_run should be len(history['val_loss'])"}[k])
        if not check_acc:
            return
        got = [[r.get("val_acc"), r.get("test_acc")] for r in rows]
        acc = [[r["val_acc"], r["test_acc"]] for r in want["rows"]]
        if not close(got, acc, atol=1e-6):
            plain = "the accuracies differ from the returned nets' in eval mode"
            if close(got, [a[::-1] for a in acc], atol=1e-6):
                raise Mistake(ck.STUDY_SWAPPED, key="study_swapped", plain=plain)
            if close(np.asarray(got, float) / 100, acc, atol=1e-6):
                raise Failure("accuracies should be fractions in [0, 1], not percentages")
            model = _study_reference(key, tuple(seeds), arrays, "train_mode")
            again = [[r.get("val_acc"), r.get("test_acc")] for r in out.get("again", [])]
            if close(got, [[r["val_acc"], r["test_acc"]] for r in model["rows"]], atol=1e-6) or \
                    (again and not close(got, again, atol=1e-9)):  # the model's, or random between two runs
                raise Mistake(ck.STUDY_TRAIN_MODE, key="study_train_mode", plain=plain)
            raise Failure(f"run_study: {plain}")
    return Scenario(label, calls, check, covers)


_vis_cfg, _vis_seeds, _ = ck._visible_study()

RUN_STUDY = Part(
    "run_study",
    contract={
        "order": "one row per (config, seed): configs in their order, seeds in their order (as given, unsorted)",
        "seed_passed": "train_fn(config, seed, data) is called with each seed's value, and the row records it",
        "data": "train_fn gets the data with its own validation part (never the test set as validation data)",
        "budget": "num_epochs is the config's budget; epochs_run is len(history['val_loss'])",
        "accuracies": "val_acc and test_acc are fractions of the returned net on X_val and X_test, in eval mode",
        "one": "a study of one config and one seed gives one row",
    },
    credit=[
        Credit("one row per (config, seed), in order, with its budget", 1.25,
               ("order", "seed_passed", "data", "budget", "one")),
        Credit("the accuracies in eval mode", 0.75, ("accuracies",)),
    ],
    scenarios=[
        _study_scenario("the notebook's visible study", ("accuracies",), _vis_cfg, _vis_seeds, arrays="visible",
                        check_acc=True),
        _study_scenario("three configs, unsorted seeds", ("order", "seed_passed", "data"),
                        {"c": {"tag": 3, "num_epochs": 4}, "a": {"tag": 4, "num_epochs": 4},
                         "b": {"tag": 5, "num_epochs": 4}}, [7, 2, 9]),
        _study_scenario("runs stopped early", ("budget",),
                        {"es": {"tag": 6, "num_epochs": 10, "epochs_run": 4},
                         "full": {"tag": 7, "num_epochs": 10}}, [1, 2]),
        _study_scenario("one config, one seed", ("one",), {"only": {"tag": 8, "num_epochs": 3}}, [13]),
        _study_scenario("accuracies of three configs", ("accuracies",),
                        {"c": {"tag": 3, "num_epochs": 4}, "a": {"tag": 4, "num_epochs": 4},
                         "b": {"tag": 5, "num_epochs": 4}}, [7, 2, 9], check_acc=True),
    ],
)


# ---------------------------------------------------------------- part 4: summarize
def _rows(cells, budget=10, budgets=None, interleave=False):
    rows = []
    for name, (vals, vvals) in cells.items():
        for s, (v, vv) in enumerate(zip(vals, vvals)):
            rows.append({"config": name, "seed": s, "num_epochs": (budgets or {}).get(name, budget),
                         "val_acc": vv, "test_acc": v})
    if interleave:
        rows = [rows[i] for i in np.random.default_rng(0).permutation(len(rows))]
    return rows


def _summary_reference(rows, metric, ddof=1, quantile="t", sqrt_n=True, std_is_se=False, nan_on_ties=False):
    """cell -> [n, mean, std, ci_low, ci_high]; the keyword arguments reproduce the named mistakes
    (``std_is_se``: the standard error reported as std, the interval right; ``nan_on_ties``: scipy's t.interval,
    NaN where the std is 0)."""
    from scipy import stats

    cells = {}
    for r in rows:
        cells.setdefault(r["config"], []).append(float(r[metric or "test_acc"]))
    out = {}
    for name, v in cells.items():
        v = np.asarray(v)
        n, m, sd = len(v), float(v.mean()), float(v.std(ddof=ddof))
        q = stats.t.ppf(0.975, n - 1) if quantile == "t" else 1.959963984540054
        half = q * sd / (math.sqrt(n) if sqrt_n else 1.0) if sd or not nan_on_ties else math.nan
        out[name] = [n, m, sd / math.sqrt(n) if std_is_se else sd, m - half, m + half]
    return out


# (key, the keyword arguments of _summary_reference that give its model, message)
SUMMARY_MISTAKES = (("ddof0", {"ddof": 0}, ck.DDOF0), ("z", {"quantile": "z"}, ck.NORMAL_QUANTILE),
                    ("no_sqrt_n", {"sqrt_n": False}, ck.NO_SQRT_N), ("std_is_se", {"std_is_se": True}, ck.STD_IS_SE))


def _summary_scenario(label, covers, rows, metric=None, raises=False):
    calls = [probe(DRIVER + "summary_run", "summarize", rows, metric)]

    @functools.lru_cache(maxsize=None)
    def ruled_out():   # once per grading process: the keys whose model fails here
        if raises:  # the formulas' models raise as the reference does; a budget check may see one kind of mismatch
            return frozenset()
        exp = np.array(list(_summary_reference(rows, metric).values()), float)
        models = [(key, wrong) for key, wrong, _ in SUMMARY_MISTAKES] + [("zero_spread", {"nan_on_ties": True})]
        return frozenset(key for key, wrong in models
                         if not close(np.array(list(_summary_reference(rows, metric, **wrong).values()), float), exp,
                                      rtol=1e-6, atol=1e-9))

    def check(values):
        (out,) = returned(values, "summarize")
        judge(out)
        return ruled_out   # passed: the mistakes whose models fail here are not the answer's

    def judge(out):
        if raises:
            if out != "ValueError":
                if "budget" in label:
                    raise Mistake(ck.BUDGETS, key="budgets", plain="no ValueError for two budgets")
                raise Failure("a cell with fewer than 2 runs should raise ValueError")
            return
        if out == "ValueError":
            raise Failure("summarize raised ValueError on a table with one budget and at least 2 runs per cell")
        want = _summary_reference(rows, metric)
        if not isinstance(out, dict) or sorted(out) != sorted(want):
            raise Failure("summarize should return one entry per config name")
        if list(out) != list(want):
            raise Failure("the entries should be in the order the configs first appear in the table")
        got = np.array([out[k] for k in want], float)
        exp = np.array([want[k] for k in want], float)
        if close(got, exp, rtol=1e-6, atol=1e-9):
            return
        if metric is not None and close(got, np.array(list(_summary_reference(rows, None).values()), float)):
            raise Failure("the metric argument is ignored: use row[metric]")
        plain = "the summary of a cell differs from the text's"
        if np.any(np.isnan(got)) and not np.any(np.isnan(exp)):
            zero = [k for k, v in want.items() if v[2] == 0]
            if zero and close(got[:, :3], exp[:, :3]):
                raise Mistake(ck.ZERO_SPREAD, key="zero_spread", plain="NaN in the interval of a cell with std 0")
            raise Failure("summarize: the summary holds NaN")
        hits = {}
        for key, wrong, message in SUMMARY_MISTAKES:
            model = np.array(list(_summary_reference(rows, metric, **wrong).values()), float)
            if close(got, model, rtol=1e-6) and not close(model, exp, rtol=1e-6):
                hits[key] = message
        if hits:  # models that coincide on this table: consistent with each
            (key, message), *others = hits.items()
            raise Mistake(message, key=key, also=tuple(k for k, _ in others), plain=plain)
        if not close(got[:, :2], exp[:, :2]):
            raise Failure("n or the mean of a cell is wrong")
        if not close(got[:, 2], exp[:, 2], rtol=1e-6):
            raise Failure("the std of a cell is wrong (sample std, ddof=1)")
        raise Failure("the 95 % interval of a cell is wrong: mean ± t.ppf(0.975, n - 1) * std / sqrt(n)")
    return Scenario(label, calls, check, covers)


_r = np.random.default_rng(12)
_CELLS = {"sgd": (list(np.round(0.95 + 0.01 * _r.standard_normal(3), 4)), list(np.round(0.9 + 0.01 * _r.random(3), 4))),
          "adam": (list(np.round(0.96 + 0.01 * _r.standard_normal(5), 4)), list(np.round(0.9 + 0.02 * _r.random(5), 4))),
          "adamw": (list(np.round(0.94 + 0.02 * _r.standard_normal(2), 4)), list(np.round(0.9 + 0.01 * _r.random(2), 4)))}

SUMMARIZE = Part(
    "summarize",
    contract={
        "cells": "one entry per config, in the order the configs first appear",
        "mean_std": "n, the mean and the sample std (ddof=1) of row[metric] over the cell's runs",
        "t_interval": "ci_low, ci_high = mean ± t.ppf(0.975, n - 1) * std / sqrt(n)",
        "n2": "a cell of 2 runs (t with 1 degree of freedom)",
        "metric": "metric='val_acc' summarizes val_acc; the default is test_acc",
        "interleaved": "rows of the cells may come interleaved",
        "budgets": "rows with different num_epochs raise ValueError (within a cell or between cells)",
        "one_run": "a cell of one run raises ValueError",
        "zero_spread": "a cell whose runs all give the same value: std 0 and the interval [mean, mean]",
    },
    credit=[
        Credit("n, mean, sample std and the t-interval per cell", 1.25,
               ("cells", "mean_std", "t_interval", "n2", "interleaved")),
        Credit("the metric argument", 0.25, ("metric",)),
        Credit("ValueError for two budgets or a single run", 0.25, ("budgets", "one_run")),
        Credit("a cell whose runs tie", 0.25, ("zero_spread",)),
    ],
    scenarios=[
        _summary_scenario("the notebook's visible table", ("cells", "mean_std", "t_interval"), ck._VISIBLE_RESULTS),
        _summary_scenario("cells of 3, 5 and 2 runs", ("mean_std", "t_interval", "n2"), _rows(_CELLS)),
        _summary_scenario("metric = 'val_acc'", ("metric",), _rows(_CELLS), "val_acc"),
        _summary_scenario("rows in mixed order", ("interleaved", "cells"), _rows(_CELLS, interleave=True)),
        _summary_scenario("two budgets within a cell", ("budgets",),
                          _rows(_CELLS)[:2] + [{**_rows(_CELLS)[2], "num_epochs": 20}] + _rows(_CELLS)[3:],
                          raises=True),
        _summary_scenario("two budgets, one per cell", ("budgets",), _rows(_CELLS, budgets={"adam": 30}), raises=True),
        _summary_scenario("a cell whose runs tie (std 0)", ("zero_spread",),
                          _rows({"same": ([0.75, 0.75, 0.75], [0.9, 0.91, 0.92]), "sgd": _CELLS["sgd"]})),
        _summary_scenario("a cell of one run", ("one_run",), _rows(_CELLS) + [{"config": "lone", "seed": 0,
                                                                              "num_epochs": 10, "val_acc": 0.9,
                                                                              "test_acc": 0.9}], raises=True),
    ],
)


PARTS = {
    "test_make_splits": MAKE_SPLITS,
    "test_train": TRAIN,
    "test_run_study": RUN_STUDY,
    "test_summarize": SUMMARIZE,
}
