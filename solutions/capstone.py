"""Chapter 12 (the capstone study): reference answers.

``make_splits`` is a stratified, seeded three-way split standardized with training statistics only (scikit-learn's
``train_test_split`` and ``StandardScaler`` are the oracles); ``train`` is the deterministic training run of the
exercise's recipe of randomness; ``run_study`` and ``summarize`` build and summarize the results table.

``train`` takes ``loader`` (False: the order of an epoch is ``torch.randperm(n, generator=g)``; True: a
``DataLoader(..., shuffle=True, generator=g)``, which first draws a base seed from ``g``) so that the grader accepts
both ways the exercise's text allows, and ``bug`` to reproduce the named mistakes for the grader's messages.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import torch
from torch import nn

from coursekit.demos.capstone import make_net

OPTIMIZERS = ("sgd-momentum", "adam", "adamw")  # the names train accepts


# ---------------------------------------------------------------- part 1: the data pipeline
def split_indices(y, seed, val_fraction=0.2, test_fraction=0.2):
    """Stratified (idx_train, idx_val, idx_test), with scikit-learn's train_test_split twice."""
    from sklearn.model_selection import train_test_split

    y = np.asarray(y)
    idx = np.arange(len(y))
    rest, idx_test = train_test_split(idx, test_size=test_fraction, stratify=y, random_state=seed)
    idx_train, idx_val = train_test_split(rest, test_size=val_fraction / (1 - test_fraction), stratify=y[rest],
                                          random_state=seed)
    return idx_train, idx_val, idx_test


def standardize(X, idx_train, idx_val, idx_test):
    """(X_train, X_val, X_test) standardized with the training rows' mean and population std (1 where 0)."""
    X = np.asarray(X, dtype=float)
    mean = X[idx_train].mean(axis=0)
    scale = X[idx_train].std(axis=0)
    scale[scale == 0] = 1.0
    return tuple((X[i] - mean) / scale for i in (idx_train, idx_val, idx_test))


def make_splits(X, y, seed, val_fraction=0.2, test_fraction=0.2):
    X, y = np.asarray(X, dtype=float), np.asarray(y)
    idx_train, idx_val, idx_test = split_indices(y, seed, val_fraction, test_fraction)
    X_train, X_val, X_test = standardize(X, idx_train, idx_val, idx_test)
    return {"X_train": X_train, "y_train": y[idx_train], "X_val": X_val, "y_val": y[idx_val],
            "X_test": X_test, "y_test": y[idx_test],
            "idx_train": idx_train, "idx_val": idx_val, "idx_test": idx_test}


# ---------------------------------------------------------------- part 2: one deterministic training run
def make_optimizer(config, params, bug=""):
    name, lr, wd = config["optimizer"], config["lr"], config.get("weight_decay", 0.0)
    if bug == "weight_decay_ignored":
        wd = 0.0
    if bug == "adam_adamw_swapped":
        name = {"adam": "adamw", "adamw": "adam"}.get(name, name)
    if name == "sgd-momentum":
        return torch.optim.SGD(params, lr=lr, momentum=0.0 if bug == "no_momentum" else 0.9, weight_decay=wd)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=wd)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=wd)
    raise ValueError(f"unknown optimizer {name!r}; expected one of {OPTIMIZERS}")


def _mean_loss_and_accuracy(net, X, y):
    with torch.no_grad():
        out = net(X)
        return nn.functional.cross_entropy(out, y).item(), (out.argmax(dim=1) == y).float().mean().item()


def train(config, seed, data, loader=False, bug=""):
    """The exercise's train(config, seed, data) -> (net, history); ``bug`` switches on one named mistake."""
    torch.manual_seed(0 if bug == "seed_order_only" else seed)
    net = make_net(config)
    g = torch.Generator().manual_seed(0 if bug == "seed_init_only" else seed)
    opt = make_optimizer(config, net.parameters(), bug)
    X_train = torch.as_tensor(np.asarray(data["X_train"]), dtype=torch.float32)
    y_train = torch.as_tensor(np.asarray(data["y_train"]), dtype=torch.int64)
    val_key = ("X_test", "y_test") if bug == "stop_on_test" else ("X_val", "y_val")
    X_val = torch.as_tensor(np.asarray(data[val_key[0]]), dtype=torch.float32)
    y_val = torch.as_tensor(np.asarray(data[val_key[1]]), dtype=torch.int64)
    n, batch_size = len(X_train), int(config.get("batch_size", 64))
    noise, patience = float(config.get("noise", 0.0)), config.get("patience")
    history = {"train_loss": [], "val_loss": [], "val_acc": []}
    best, best_state, wait, stopped = math.inf, None, 0, False
    if loader:
        from torch.utils.data import DataLoader, TensorDataset
        batches = DataLoader(TensorDataset(X_train, y_train), batch_size=batch_size, shuffle=True, generator=g)
    for _ in range(int(config["num_epochs"])):
        net.train()
        if loader:
            epoch = batches
        else:
            perm = torch.randperm(n, generator=g)
            last = n - batch_size + 1 if bug == "drop_last" else n
            epoch = ((X_train[perm[k:k + batch_size]], y_train[perm[k:k + batch_size]])
                     for k in range(0, last, batch_size))
        losses = []
        for xb, yb in epoch:
            if noise > 0:
                xb = xb + noise * (torch.randn(xb.shape) if bug == "noise_global"
                                   else torch.randn(xb.shape, generator=g))
            loss = nn.functional.cross_entropy(net(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        if bug != "val_in_train_mode":
            net.eval()
        val_loss, val_acc = _mean_loss_and_accuracy(net, X_val, y_val)
        history["train_loss"].append(float(np.mean(losses)))
        history["val_loss"].append(val_loss)
        history["val_acc"].append(val_acc)
        if patience is not None:
            monitored = history["train_loss"][-1] if bug == "stop_on_train" else val_loss
            if monitored < best:
                best, wait = monitored, 0
                best_state = copy.deepcopy(net.state_dict())
            else:
                wait += 1
                if wait >= patience:
                    stopped = True
                    break
    restores = bug != "no_restore" and (stopped or bug != "restore_on_stop")
    if patience is not None and best_state is not None and restores:
        net.load_state_dict(best_state)
    net.eval()
    return net, history


# ---------------------------------------------------------------- part 3: the study
def accuracy(net, X, y):
    net.eval()
    with torch.no_grad():
        X = torch.as_tensor(np.asarray(X), dtype=torch.float32)
        y = torch.as_tensor(np.asarray(y), dtype=torch.int64)
        return (net(X).argmax(dim=1) == y).float().mean().item()


def run_study(configs, seeds, train_fn, data):
    results = []
    for name, config in configs.items():
        for seed in seeds:
            net, history = train_fn(config, seed, data)
            results.append({"config": name, "seed": seed, "num_epochs": config["num_epochs"],
                            "epochs_run": len(history["val_loss"]),
                            "val_acc": accuracy(net, data["X_val"], data["y_val"]),
                            "test_acc": accuracy(net, data["X_test"], data["y_test"])})
    return results


# ---------------------------------------------------------------- part 4: mean, spread and a t-interval
def summarize(results, metric="test_acc"):
    from scipy import stats

    budgets = {row["num_epochs"] for row in results}
    if len(budgets) > 1:
        raise ValueError(f"the results use different budgets {sorted(budgets)}: compare runs at one budget")
    cells = {}
    for row in results:
        cells.setdefault(row["config"], []).append(float(row[metric]))
    out = {}
    for name, values in cells.items():
        n = len(values)
        if n < 2:
            raise ValueError(f"cell {name!r} has {n} run; a spread needs at least 2")
        mean, std = float(np.mean(values)), float(np.std(values, ddof=1))
        half = float(stats.t.ppf(0.975, n - 1)) * std / math.sqrt(n)
        out[name] = {"n": n, "mean": mean, "std": std, "ci_low": mean - half, "ci_high": mean + half}
    return out
