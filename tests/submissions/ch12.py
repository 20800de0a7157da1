"""Chapter 12 (the capstone study): known-buggy and correct answers.

Most buggy answers are the source's own solution with one named mistake edited in (COURSE.md's list and issue 15's:
leakage, a split that is not stratified, a seed that does not control initialization and batch order, results
averaged over different budgets, a test set used during tuning), plus contract items. ``visible`` and ``hidden``
are words the visible test's message and the grader's feedback must contain. The correct ones are other valid ways
of writing each answer, which must keep full marks.
"""

from __future__ import annotations

import re

import nbformat

from autograder.course import SOURCE
from submissions import Variant

_NB = nbformat.read(SOURCE / "ch12_capstone" / "capstone.ipynb", as_version=4)
_SOL = {c.metadata["nbgrader"]["grade_id"]: re.sub(r" *### (BEGIN|END) SOLUTION\n", "", c.source)
        for c in _NB.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")}


def _edit(answer: str, *pairs: tuple[str, str]) -> str:
    code = _SOL[answer]
    for old, new in pairs:
        assert old in code, f"{answer}: {old!r} not in the solution"
        code = code.replace(old, new)
    return code


# ---------------------------------------------------------------- part 1
SPLIT_LEAKAGE = _edit("make_splits", ("StandardScaler().fit(X[idx_train])", "StandardScaler().fit(X)"))
SPLIT_OWN = _edit("make_splits", ('out[f"X_{part}"] = scaler.transform(X[idx])',
                                  'out[f"X_{part}"] = preprocessing.StandardScaler().fit_transform(X[idx])'))
SPLIT_NOT_STRATIFIED = _edit("make_splits", (", stratify=y,", ","), (", stratify=y[rest],", ","))
SPLIT_SEED_IGNORED = _edit("make_splits", ("random_state=seed)", "random_state=None)"))
_MANUAL = '''
    mean, std = X[idx_train].mean(axis=0), X[idx_train].std(axis=0{ddof})
    {fix}
    out = {{"idx_train": idx_train, "idx_val": idx_val, "idx_test": idx_test}}
    for part, idx in (("train", idx_train), ("val", idx_val), ("test", idx_test)):
        out[f"X_{{part}}"] = (X[idx] - mean) / std
        out[f"y_{{part}}"] = y[idx]
    return out
'''
_HEAD = _SOL["make_splits"].split("    scaler = ")[0]
SPLIT_ZERO_VAR = _HEAD + _MANUAL.format(ddof="", fix="pass")
SPLIT_SAMPLE_STD = _HEAD + _MANUAL.format(ddof=", ddof=1", fix="std[std == 0] = 1.0")
SPLIT_MANUAL_OK = _HEAD + _MANUAL.format(ddof="", fix="std = np.where(std > 0, std, 1.0)")
SPLIT_PER_CLASS_OK = '''
def make_splits(X, y, seed, val_fraction=0.2, test_fraction=0.2):
    from sklearn.model_selection import StratifiedShuffleSplit

    X, y = np.array(X, dtype=float), np.array(y)
    first = StratifiedShuffleSplit(n_splits=1, test_size=test_fraction, random_state=seed)
    rest, idx_test = next(first.split(X, y))
    second = StratifiedShuffleSplit(n_splits=1, test_size=val_fraction / (1 - test_fraction), random_state=seed + 1)
    tr, va = next(second.split(X[rest], y[rest]))
    idx_train, idx_val = rest[tr], rest[va]
    mu = X[idx_train].mean(0)
    sd = X[idx_train].std(0)
    sd[sd == 0] = 1
    parts = dict(train=idx_train, val=idx_val, test=idx_test)
    out = {f"idx_{k}": v for k, v in parts.items()}
    out.update({f"X_{k}": (X[v] - mu) / sd for k, v in parts.items()})
    out.update({f"y_{k}": y[v] for k, v in parts.items()})
    return out
'''

# ---------------------------------------------------------------- part 2
TRAIN_INIT_UNSEEDED = _edit("train", ("    torch.manual_seed(seed)  # the initial weights (and later the dropout masks)\n", ""))
TRAIN_ORDER_FIXED = _edit("train", ("g = torch.Generator().manual_seed(seed)", "g = torch.Generator().manual_seed(0)"))
TRAIN_NUMPY_ORDER = _edit("train", ("order = torch.randperm(len(X_train), generator=g)",
                                    "order = torch.as_tensor(np.random.permutation(len(X_train)))"))
TRAIN_STOP_ON_TEST = _edit("train", ('X_val = torch.as_tensor(data["X_val"]', 'X_val = torch.as_tensor(data["X_test"]'),
                           ('y_val = torch.as_tensor(data["y_val"]', 'y_val = torch.as_tensor(data["y_test"]'))
TRAIN_VAL_TRAIN_MODE = _edit("train", ("        net.eval()\n        with torch.no_grad():",
                                       "        with torch.no_grad():"))
TRAIN_NO_RESTORE = _edit("train", ("        net.load_state_dict(best_state)\n", "        pass\n"))
TRAIN_SWAPPED = _edit("train", ("opt = torch.optim.Adam(net.parameters()", "opt = torch.optim.AdamW(net.parameters()"),
                      ("opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=wd)\n    else",
                       "opt = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=wd)\n    else"))
TRAIN_NO_MOMENTUM = _edit("train", ("momentum=0.9, ", ""))
TRAIN_STOP_ON_TRAIN = _edit("train", ("            if val_loss < best:\n                best, wait, best_state = val_loss",
                                      "            if history['train_loss'][-1] < best:\n"
                                      "                best, wait, best_state = history['train_loss'][-1]"))
TRAIN_WD_IGNORED = _edit("train", ('wd = config["lr"], config.get("weight_decay", 0.0)',
                                   'wd = config["lr"], 0.0'))
TRAIN_DROP_LAST = _edit("train", ("for start in range(0, len(order), batch_size):",
                                  "for start in range(0, len(order) - batch_size + 1, batch_size):"))
TRAIN_NOISE_GLOBAL = _edit("train", ("noise * torch.randn(xb.shape, generator=g)", "noise * torch.randn_like(xb)"))
TRAIN_LOADER_OK = _edit("train", ("    history = {", "    from torch.utils.data import DataLoader, TensorDataset\n"
                                                  "    loader = DataLoader(TensorDataset(X_train, y_train), "
                                                  "batch_size=batch_size, shuffle=True, generator=g)\n    history = {"),
                        ("        order = torch.randperm(len(X_train), generator=g)\n", ""),
                        ("        for start in range(0, len(order), batch_size):\n"
                         "            rows = order[start:start + batch_size]\n"
                         "            xb, yb = X_train[rows], y_train[rows]\n", "        for xb, yb in loader:\n"))
TRAIN_SPLIT_OK = '''
def train(config, seed, data):
    """One deterministic training run; returns (net, history)."""
    optimizers = {"sgd-momentum": lambda p, lr, wd: torch.optim.SGD(p, lr=lr, momentum=0.9, weight_decay=wd),
                  "adam": lambda p, lr, wd: torch.optim.Adam(p, lr=lr, weight_decay=wd),
                  "adamw": lambda p, lr, wd: torch.optim.AdamW(p, lr=lr, weight_decay=wd)}
    if config["optimizer"] not in optimizers:
        raise ValueError(config["optimizer"])
    torch.manual_seed(seed)
    net = make_net(config)
    g = torch.Generator()
    g.manual_seed(seed)
    opt = optimizers[config["optimizer"]](net.parameters(), config["lr"], config.get("weight_decay", 0.0))
    t = {k: torch.tensor(np.asarray(v), dtype=torch.float32 if k[0] == "X" else torch.int64)
         for k, v in data.items() if k in ("X_train", "y_train", "X_val", "y_val")}
    loss_fn = nn.CrossEntropyLoss()
    history = {"train_loss": [], "val_loss": [], "val_acc": []}
    best, kept, bad = float("inf"), None, 0
    epoch = 0
    while epoch < config["num_epochs"]:
        epoch += 1
        net.train()
        losses = []
        for rows in torch.split(torch.randperm(t["X_train"].shape[0], generator=g), config["batch_size"]):
            xb = t["X_train"][rows]
            if config.get("noise", 0) > 0:
                xb = xb + config["noise"] * torch.randn(xb.shape, generator=g)
            opt.zero_grad()
            loss = loss_fn(net(xb), t["y_train"][rows])
            loss.backward()
            opt.step()
            losses.append(float(loss))
        net.eval()
        with torch.inference_mode():
            out = net(t["X_val"])
            history["val_loss"].append(float(loss_fn(out, t["y_val"])))
            history["val_acc"].append(float((out.argmax(1) == t["y_val"]).double().mean()))
        history["train_loss"].append(float(np.mean(losses)))
        if config.get("patience") is not None:
            if history["val_loss"][-1] < best:
                best, bad = history["val_loss"][-1], 0
                kept = {k: v.detach().clone() for k, v in net.state_dict().items()}
            elif (bad := bad + 1) >= config["patience"]:
                break
    if kept is not None:
        net.load_state_dict(kept)
    return net.eval(), history
'''

# ---------------------------------------------------------------- part 3
STUDY_SAME_SEED = _edit("run_study", ("train_fn(config, seed, data)", "train_fn(config, 0, data)"))
STUDY_TRAIN_MODE = _edit("run_study", ("        net.eval()\n        with torch.no_grad():",
                                       "        with torch.no_grad():"))
STUDY_SWAPPED = _edit("run_study", ('"val_acc": accuracy(net, data["X_val"], data["y_val"])',
                                    '"val_acc": accuracy(net, data["X_test"], data["y_test"])'),
                      ('"test_acc": accuracy(net, data["X_test"], data["y_test"])',
                       '"test_acc": accuracy(net, data["X_val"], data["y_val"])'))
STUDY_TEST_AS_VAL = _edit("run_study", ("train_fn(config, seed, data)",
                                        'train_fn(config, seed, {**data, "X_val": data["X_test"], '
                                        '"y_val": data["y_test"]})'))
STUDY_SORTED_CONFIGS = _edit("run_study", ("for name, config in configs.items():",
                                           "for name, config in sorted(configs.items()):"))
STUDY_SORTED_SEEDS = _edit("run_study", ("for seed in seeds:", "for seed in sorted(seeds):"))
STUDY_PRODUCT_OK = '''
def run_study(configs, seeds, train_fn, data):
    import itertools

    def acc(net, part):
        with torch.inference_mode():
            logits = net.eval()(torch.tensor(np.asarray(data["X_" + part]), dtype=torch.float32))
        return float(np.mean(logits.argmax(1).numpy() == np.asarray(data["y_" + part])))

    table = []
    for (name, config), seed in itertools.product(configs.items(), seeds):
        net, history = train_fn(config, seed, data)
        table.append(dict(config=name, seed=seed, num_epochs=config["num_epochs"],
                          epochs_run=len(history["val_loss"]), val_acc=acc(net, "val"), test_acc=acc(net, "test")))
    return table
'''
STUDY_COMPREHENSION_OK = '''
def run_study(configs, seeds, train_fn, data):
    def row(name, config, seed):
        net, history = train_fn(config, seed, data)
        net.eval()
        with torch.no_grad():
            accs = {f"{p}_acc": (net(torch.as_tensor(data[f"X_{p}"]).float()).argmax(1)
                                 == torch.as_tensor(data[f"y_{p}"]).long()).float().mean().item() for p in ("val", "test")}
        return {"config": name, "seed": seed, "num_epochs": config["num_epochs"],
                "epochs_run": len(history["val_loss"]), **accs}
    return [row(name, config, seed) for name, config in configs.items() for seed in seeds]
'''

# ---------------------------------------------------------------- part 4
SUM_DDOF0 = _edit("summarize", ("values.std(ddof=1)", "values.std()"))
SUM_Z = _edit("summarize", ("stats.t.ppf(0.975, n - 1)", "1.96"))
SUM_NO_SQRT = _edit("summarize", (" * std / math.sqrt(n)", " * std"))
SUM_NO_BUDGET = _edit("summarize", ('raise ValueError("the rows use different budgets (num_epochs)")', "pass"))
SUM_METRIC_IGNORED = _edit("summarize", ('append(row[metric])', 'append(row["test_acc"])'))
SUM_ONE_RUN_OK = _edit("summarize", ('raise ValueError(f"cell {name!r} has only {n} run")', "pass"))
SUM_INTERVAL_OK = '''
def summarize(results, metric="test_acc"):
    from scipy import stats

    budgets = set(r["num_epochs"] for r in results)
    if len(budgets) != 1:
        raise ValueError(f"different budgets: {budgets}")
    names = list(dict.fromkeys(r["config"] for r in results))
    out = {}
    for name in names:
        v = np.array([r[metric] for r in results if r["config"] == name], dtype=float)
        if v.size < 2:
            raise ValueError("need two runs per cell")
        low, high = stats.t.interval(0.95, v.size - 1, loc=v.mean(), scale=stats.sem(v))
        out[name] = dict(n=v.size, mean=v.mean(), std=v.std(ddof=1), ci_low=low, ci_high=high)
    return out
'''
SUM_STATISTICS_OK = '''
def summarize(results, metric="test_acc"):
    import statistics
    from scipy.stats import t

    if any(r["num_epochs"] != results[0]["num_epochs"] for r in results):
        raise ValueError("one budget per study")
    groups = {}
    for r in results:
        groups.setdefault(r["config"], []).append(float(r[metric]))
    summary = {}
    for name, v in groups.items():
        if len(v) < 2:
            raise ValueError(name)
        m, s = statistics.fmean(v), statistics.stdev(v)
        h = t.ppf(0.975, len(v) - 1) * s / len(v) ** 0.5
        summary[name] = {"n": len(v), "mean": m, "std": s, "ci_low": m - h, "ci_high": m + h}
    return summary
'''

# ---------------------------------------------------------------- issue 23: the edges of the contracts
# composition: net.train() never called (eval mode for validation, then never back)
TRAIN_NEVER_TRAIN_MODE = _edit("train", ("        net.train()\n", ""))
# epoch means over unequal batches, weighted by batch size
TRAIN_WEIGHTED_MEAN = _edit("train", ("            losses.append(loss.item())\n",
                                      "            losses.append(loss.item() * len(rows))\n"),
                            ('history["train_loss"].append(sum(losses) / len(losses))',
                             'history["train_loss"].append(sum(losses) / len(order))'))
# state over time: the patience counter never reset
TRAIN_COUNTER_NOT_RESET = _edit("train", ("best, wait, best_state = val_loss, 0, copy.deepcopy(net.state_dict())",
                                          "best, best_state = val_loss, copy.deepcopy(net.state_dict())"))
# a plateau of equal losses counted as improvements
TRAIN_NON_STRICT = _edit("train", ("            if val_loss < best:", "            if val_loss <= best:"))
# the returned net left in training mode
TRAIN_RETURNS_TRAIN_MODE = _edit("train", ("    net.eval()\n    return net, history", "    net.train()\n    return net, history"))
# types: the whole run in float64 (a float64 net returned; the driver evaluates it in its dtype)
TRAIN_FLOAT64 = _edit("train", ("    net = make_net(config)  # hidden width and dropout p from the config",
                                "    net = make_net(config).double()"),
                      ('X_train = torch.as_tensor(data["X_train"], dtype=torch.float32)',
                       'X_train = torch.as_tensor(data["X_train"], dtype=torch.float64)'),
                      ('X_val = torch.as_tensor(data["X_val"], dtype=torch.float32)',
                       'X_val = torch.as_tensor(data["X_val"], dtype=torch.float64)'),
                      ("noise * torch.randn(xb.shape, generator=g)", "noise * torch.randn(xb.shape, generator=g, dtype=torch.float64)"))
# composition: eval mode for the validation pass only with early stopping, so without patience dropout stays active.
# There the runs are the val-in-train-mode mistake's, but with patience and dropout the answer is right where that
# mistake's run is not: it must not be named
TRAIN_EVAL_ONLY_WITH_PATIENCE = _edit("train", ("        net.eval()\n        with torch.no_grad():",
                                                "        if patience is not None:\n"
                                                "            net.eval()  # early stopping compares eval-mode losses\n"
                                                "        with torch.no_grad():"))
# early stopping: the best state restored only in the branch that stops (a run that reaches num_epochs keeps its last)
_STOP = "                if wait >= patience:\n"
TRAIN_RESTORE_ON_STOP_ONLY = _edit("train", (_STOP + "                    break\n    if best_state is not None:\n"
                                             "        net.load_state_dict(best_state)\n",
                                             _STOP + "                    net.load_state_dict(best_state)  # the best\n"
                                             "                    break\n"))
# early stopping: the counter reset by an epoch better than the previous one, not only by a new best
_NEW_BEST = "                best, wait, best_state = val_loss, 0, copy.deepcopy(net.state_dict())\n"
TRAIN_RESET_ON_PREVIOUS = _edit("train", (_NEW_BEST + "            else:",
                                          _NEW_BEST + '            elif val_loss < history["val_loss"][-2]:\n'
                                          "                wait = 0  # still going down\n            else:"))
# early stopping: an improvement must beat the best by a minimum delta (the text counts any strict improvement)
TRAIN_MIN_DELTA = _edit("train", ("            if val_loss < best:",
                                  "            if val_loss < best - 1e-4:  # min_delta"))
# a list aliased rather than copied: one row dict updated in place
STUDY_ALIASED_ROW = """
def run_study(configs, seeds, train_fn, data):
    row, results = {}, []
    for name, config in configs.items():
        for seed in seeds:
            net, history = train_fn(config, seed, data)
            net.eval()
            with torch.no_grad():
                for part in ("val", "test"):
                    pred = net(torch.as_tensor(data[f"X_{part}"], dtype=torch.float32)).argmax(1)
                    row[f"{part}_acc"] = (pred == torch.as_tensor(data[f"y_{part}"])).float().mean().item()
            row.update(config=name, seed=seed, num_epochs=config["num_epochs"], epochs_run=len(history["val_loss"]))
            results.append(row)
    return results
"""
# the standard error reported as the std (the same number as the population std for n = 2 in the interval's terms)
SUM_SE_AS_STD = _edit("summarize", ("mean, std = values.mean(), values.std(ddof=1)",
                                    "mean, std = values.mean(), values.std(ddof=1) / math.sqrt(len(values))"),
                      (" * std / math.sqrt(n)", " * std"))
# ties: scipy's t.interval with a zero scale gives NaN
SUM_T_INTERVAL_NAN = SUM_INTERVAL_OK
SUM_INTERVAL_ZERO_OK = SUM_INTERVAL_OK.replace(
    "        low, high = stats.t.interval(0.95, v.size - 1, loc=v.mean(), scale=stats.sem(v))\n",
    "        half = stats.t.ppf(0.975, v.size - 1) * stats.sem(v)\n        low, high = v.mean() - half, v.mean() + half\n")

BUGGY = [
    Variant("split_leakage", "make_splits", SPLIT_LEAKAGE, "test_make_splits", visible="leakage", hidden="leakage"),
    Variant("split_own_statistics", "make_splits", SPLIT_OWN, "test_make_splits", visible="its own mean",
            hidden="its own mean"),
    Variant("split_not_stratified", "make_splits", SPLIT_NOT_STRATIFIED, "test_make_splits", visible="not stratified",
            hidden="not stratified"),
    Variant("split_seed_ignored", "make_splits", SPLIT_SEED_IGNORED, "test_make_splits", visible="seed is not",
            hidden="seed is not respected"),
    Variant("split_zero_variance_nan", "make_splits", SPLIT_ZERO_VAR, "test_make_splits", visible="constant",
            hidden="constant on the training rows"),
    Variant("split_sample_std", "make_splits", SPLIT_SAMPLE_STD, "test_make_splits", visible="ddof=1",
            hidden="sample std"),
    Variant("train_init_unseeded", "train", TRAIN_INIT_UNSEEDED, "test_train", visible="initialization",
            hidden="Passes with: initial weights held fixed"),
    Variant("train_order_fixed_seed", "train", TRAIN_ORDER_FIXED, "test_train", visible="batch order",
            hidden="does not control the batch order"),
    Variant("train_order_global_numpy", "train", TRAIN_NUMPY_ORDER, "test_train", visible="not deterministic",
            hidden="the same seed gave another run"),
    Variant("train_noise_global", "train", TRAIN_NOISE_GLOBAL, "test_train", hidden="noise is drawn from torch's global"),
    Variant("train_stops_on_test", "train", TRAIN_STOP_ON_TEST, "test_train", visible="test set was used",
            hidden="test set was used"),
    Variant("train_val_in_train_mode", "train", TRAIN_VAL_TRAIN_MODE, "test_train", visible="training mode",
            hidden="training mode"),
    Variant("train_no_restore", "train", TRAIN_NO_RESTORE, "test_train", visible="not the best one",
            hidden="early stopping ✘ 0 of 0.75", not_named="restored only when"),
    Variant("train_adam_adamw_swapped", "train", TRAIN_SWAPPED, "test_train",
            hidden="'adam' and 'adamw' are swapped"),
    Variant("train_no_momentum", "train", TRAIN_NO_MOMENTUM, "test_train", hidden="momentum=0.9"),
    Variant("train_stops_on_train_loss", "train", TRAIN_STOP_ON_TRAIN, "test_train",
            hidden="early stopping watched the training loss"),
    Variant("train_weight_decay_ignored", "train", TRAIN_WD_IGNORED, "test_train",
            hidden="weight_decay is ignored"),
    Variant("train_drops_last_batch", "train", TRAIN_DROP_LAST, "test_train", hidden="last, smaller mini-batch"),
    Variant("study_same_seed", "run_study", STUDY_SAME_SEED, "test_run_study", visible="one run per",
            hidden="one run per (config, seed)"),
    Variant("study_train_mode", "run_study", STUDY_TRAIN_MODE, "test_run_study", visible="training mode",
            hidden="training mode"),
    Variant("study_val_test_swapped", "run_study", STUDY_SWAPPED, "test_run_study", visible="swapped",
            hidden="swapped"),
    Variant("study_test_as_validation", "run_study", STUDY_TEST_AS_VAL, "test_run_study", visible="test set as",
            hidden="test set as its validation"),
    Variant("summary_ddof0", "summarize", SUM_DDOF0, "test_summarize", visible="ddof=0", hidden="ddof=0"),
    Variant("summary_normal_quantile", "summarize", SUM_Z, "test_summarize", visible="normal quantile",
            hidden="normal quantile"),
    Variant("summary_no_standard_error", "summarize", SUM_NO_SQRT, "test_summarize", visible="standard error",
            hidden="standard error"),
    Variant("summary_different_budgets", "summarize", SUM_NO_BUDGET, "test_summarize", visible="different budgets",
            hidden="different budgets"),
    Variant("summary_metric_ignored", "summarize", SUM_METRIC_IGNORED, "test_summarize", visible="val_acc",
            hidden="metric argument"),
    Variant("summary_one_run_accepted", "summarize", SUM_ONE_RUN_OK, "test_summarize", hidden="fewer than 2 runs"),
    # issue 23
    Variant("train_never_train_mode", "train", TRAIN_NEVER_TRAIN_MODE, "test_train", hidden="net.train()"),
    Variant("train_weighted_epoch_mean", "train", TRAIN_WEIGHTED_MEAN, "test_train", hidden="weights each batch"),
    Variant("train_patience_counter_not_reset", "train", TRAIN_COUNTER_NOT_RESET, "test_train",
            hidden="never reset"),
    Variant("train_plateau_counts_as_improvement", "train", TRAIN_NON_STRICT, "test_train",
            hidden="strictly below"),
    Variant("train_returns_net_in_train_mode", "train", TRAIN_RETURNS_TRAIN_MODE, "test_train",
            visible="training mode", hidden="training mode"),
    Variant("study_one_row_dict", "run_study", STUDY_ALIASED_ROW, "test_run_study", hidden="same dict"),
    # the order the text fixes (configs as given, seeds as given): each sorted, named apart
    Variant("study_sorted_configs", "run_study", STUDY_SORTED_CONFIGS, "test_run_study", visible="sorted by name",
            hidden="sorted by name",
            not_named="with that seed"),
    Variant("study_sorted_seeds", "run_study", STUDY_SORTED_SEEDS, "test_run_study", visible="with that seed",
            hidden="with that seed",
            not_named="sorted by name"),
    Variant("summary_standard_error_as_std", "summarize", SUM_SE_AS_STD, "test_summarize", visible="std",
            hidden="standard error"),
    Variant("summary_t_interval_nan_on_ties", "summarize", SUM_T_INTERVAL_NAN, "test_summarize",
            hidden="std 0"),
    # types: the recipe trains a float32 net on float32 tensors; a float64 run differs by more than the tolerance
    # (the driver now evaluates the returned float64 net in its dtype instead of crashing)
    Variant("train_float64_run", "train", TRAIN_FLOAT64, "test_train", hidden="float64"),
    # early stopping: situations of the runs with patience (the budget ends before patience runs out, an epoch
    # better than the previous but not the best, an improvement smaller than 1e-4)
    Variant("train_restore_only_on_stop", "train", TRAIN_RESTORE_ON_STOP_ONLY, "test_train",
            hidden="restored only when training stops early", not_named="not the best one"),
    Variant("train_counter_reset_by_previous_epoch", "train", TRAIN_RESET_ON_PREVIOUS, "test_train",
            hidden="beat the previous epoch's"),
    Variant("train_min_delta", "train", TRAIN_MIN_DELTA, "test_train", hidden="minimum delta"),
    # a mistake whose model the answer follows on some scenarios and that a passing scenario rules out
    Variant("train_eval_only_with_patience", "train", TRAIN_EVAL_ONLY_WITH_PATIENCE, "test_train",
            visible="computed in training mode", hidden="dropout, noise, train and eval modes ✘ 0 of 0.5",
            not_named="validation loss was computed in training mode"),
]

CORRECT = [
    Variant("split_stratified_shuffle_split", "make_splits", SPLIT_PER_CLASS_OK, "test_make_splits"),
    Variant("split_manual_standardization", "make_splits", SPLIT_MANUAL_OK, "test_make_splits"),
    Variant("train_dataloader", "train", TRAIN_LOADER_OK, "test_train"),
    Variant("train_torch_split_while", "train", TRAIN_SPLIT_OK, "test_train"),
    Variant("study_itertools_product", "run_study", STUDY_PRODUCT_OK, "test_run_study"),
    Variant("study_comprehension", "run_study", STUDY_COMPREHENSION_OK, "test_run_study"),
    Variant("summary_t_ppf_sem", "summarize", SUM_INTERVAL_ZERO_OK, "test_summarize"),
    Variant("summary_statistics_module", "summarize", SUM_STATISTICS_OK, "test_summarize"),
]
