"""Chapter 12 (the capstone study): the network the exercise hands you, the page's small study, its figures and the
demo (how a confidence interval shrinks as seeds are added).

``make_net`` is the network of the exercise. The page's runs (``page_run``) use scikit-learn's digits scaled to
[0, 1] by the known pixel range (no statistics of the data, so nothing can leak), torch's global random state and
an early-stopping rule applied to the recorded validation curve afterwards; the exercise asks for a different,
stricter recipe, written by you.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import torch
from matplotlib.figure import Figure
from torch import nn

FONT_SIZE = 10
FIGSIZE = (8.0, 3.6)

#: The configuration keys of the exercise with their default values.
DEFAULTS = {"optimizer": "sgd-momentum", "lr": 0.1, "weight_decay": 0.0, "dropout": 0.0, "patience": None,
            "noise": 0.0, "num_epochs": 20, "batch_size": 64, "hidden": 64}

OPTIMIZER_LABELS = {"sgd-momentum": "SGD+momentum", "adam": "Adam", "adamw": "AdamW"}


def make_net(config: Mapping | None = None, n_features: int = 64, n_classes: int = 10) -> nn.Sequential:
    """The study's MLP: Linear(n_features, hidden), ReLU, Dropout(p), Linear(hidden, n_classes), in float32.

    ``hidden`` and the drop probability ``dropout`` come from ``config`` (defaults 64 and 0). Its initial weights
    come from torch's global random state: call ``torch.manual_seed(seed)`` first to fix them.
    """
    config = {**DEFAULTS, **(config or {})}
    hidden, p = int(config["hidden"]), float(config["dropout"])
    return nn.Sequential(nn.Linear(n_features, hidden), nn.ReLU(), nn.Dropout(p), nn.Linear(hidden, n_classes))


def load_digits_arrays():
    """scikit-learn's bundled 8x8 digits (nothing downloaded): X (1797, 64) float64 pixels 0..16, y (1797,) int."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return X.astype(float), y.astype(np.int64)


# ---------------------------------------------------------------- the page's runs
def page_splits(n_train: int = 600, n_val: int = 400, seed: int = 0) -> dict:
    """Digits split three ways (the rest is the test set), pixels divided by 16: float32 and int64 tensors."""
    from coursekit.demos.early_stopping import digits_splits

    return digits_splits(n_train=n_train, n_val=n_val, seed=seed)


def _patience_stop(val_loss, patience: int) -> tuple[int, int]:
    from coursekit.demos.early_stopping import patience_stop

    return patience_stop(val_loss, patience)


def page_run(config: Mapping, seed: int, splits: dict) -> dict:
    """One run of the page's study: ``num_epochs`` epochs of mini-batch training on ``splits`` (torch's global
    random state seeded with ``seed`` draws the weights, the batch order, the dropout masks and the input noise).

    Returns the per-epoch curves ``train_loss``, ``val_loss``, ``val_acc`` and ``test_acc`` and the reported
    ``val`` and ``test`` accuracy: those of the last epoch, or, with a ``patience``, those of the epoch the
    patience rule on the validation loss restores (the curves after its stop do not change what came before,
    so the rule can be applied to the recorded curve).
    """
    from torch.utils.data import DataLoader, TensorDataset

    config = {**DEFAULTS, **config}
    torch.manual_seed(seed)
    net = make_net(config)
    kind, lr, wd = config["optimizer"], config["lr"], config["weight_decay"]
    if kind == "sgd-momentum":
        opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9, weight_decay=wd)
    elif kind == "adam":
        opt = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=wd)
    else:
        opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=wd)
    batches = DataLoader(TensorDataset(splits["X_train"], splits["y_train"]), batch_size=config["batch_size"],
                         shuffle=True)
    curves = {"train_loss": [], "val_loss": [], "val_acc": [], "test_acc": []}
    for _ in range(config["num_epochs"]):
        net.train()
        total = 0.0
        for xb, yb in batches:
            if config["noise"] > 0:
                xb = xb + config["noise"] * torch.randn_like(xb)
            loss = nn.functional.cross_entropy(net(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(yb)
        net.eval()
        with torch.no_grad():
            out = net(splits["X_val"])
            curves["val_loss"].append(nn.functional.cross_entropy(out, splits["y_val"]).item())
            curves["val_acc"].append((out.argmax(1) == splits["y_val"]).float().mean().item())
            curves["test_acc"].append((net(splits["X_test"]).argmax(1) == splits["y_test"]).float().mean().item())
        curves["train_loss"].append(total / len(splits["y_train"]))
    curves["weight_norm"] = float(torch.sqrt(sum((m.weight.detach() ** 2).sum() for m in net
                                                 if isinstance(m, nn.Linear))))  # after the last epoch
    return apply_patience(curves, config["patience"])


def apply_patience(curves: Mapping, patience: int | None) -> dict:
    """The reported numbers of a run whose recorded curves are ``curves``, with early stopping of ``patience``.

    Returns a copy of ``curves`` with ``epochs_run`` and the reported ``val`` and ``test`` accuracy: those of the
    last epoch without a ``patience`` (None), else those of the epoch the patience rule on the validation loss
    restores. The curves after a stop do not change what came before, so one full run serves every patience.
    """
    out = dict(curves)
    last = len(out["val_loss"]) - 1
    if patience is not None:
        stop, last = _patience_stop(out["val_loss"], int(patience))
        out["epochs_run"], out["restored"] = stop + 1, last
    else:
        out["epochs_run"], out["restored"] = len(out["val_loss"]), last
    out["val"], out["test"] = out["val_acc"][last], out["test_acc"][last]
    return out


def t_interval(values, level: float = 0.95) -> tuple[float, float, float]:
    """(mean, sample std (ddof=1), half-width of the Student-t interval) of a list of numbers."""
    from scipy import stats

    values = np.asarray(values, dtype=float)
    n = len(values)
    mean, std = float(values.mean()), float(values.std(ddof=1))
    return mean, std, float(stats.t.ppf(0.5 + level / 2, n - 1)) * std / math.sqrt(n)


# ---------------------------------------------------------------- figures
def draw_intervals(ax, cells: Mapping[str, Sequence[float]], title: str | None = None, xlim=None,
                   colors: Mapping[str, str] | None = None) -> dict:
    """One row per cell: every run as a dot, the mean as a bar and its 95 % t-interval as a line.

    ``cells`` maps a label to the metric of its runs (at least two). Returns label -> (mean, std, half-width).
    """
    out = {}
    labels = list(cells)
    for row, label in enumerate(labels):
        values = np.asarray(cells[label], dtype=float)
        mean, std, half = t_interval(values)
        out[label] = (mean, std, half)
        color = (colors or {}).get(label, "C0")
        ax.plot(values, np.full(len(values), row) + 0.18, "o", ms=3.5, color=color, alpha=0.6)
        ax.errorbar([mean], [row], xerr=[[half], [half]], fmt="s", ms=5, color=color, capsize=3, lw=1.6)
    ax.set_yticks(range(len(labels)), labels)
    ax.invert_yaxis()
    ax.grid(axis="x", alpha=0.3)
    if xlim is not None:
        ax.set_xlim(*xlim)
    if title:
        ax.set_title(title, fontsize=FONT_SIZE + 1)
    return out


def plot_summary(summary: Mapping[str, Mapping[str, float]], metric: str = "test accuracy") -> Figure:
    """A figure of a summary table (cell -> n, mean, ci_low, ci_high): the mean and the interval of every cell."""
    import matplotlib

    with matplotlib.rc_context({"font.size": FONT_SIZE}):
        fig = Figure(figsize=(7.5, 0.32 * len(summary) + 1.2), layout="constrained")
        ax = fig.add_subplot()
        for row, (name, s) in enumerate(summary.items()):
            ax.errorbar([s["mean"]], [row], xerr=[[s["mean"] - s["ci_low"]], [s["ci_high"] - s["mean"]]],
                        fmt="s", ms=4, capsize=3, color="C0")
        ax.set_yticks(range(len(summary)), list(summary))
        ax.invert_yaxis()
        ax.set_xlabel(f"{metric} (mean and 95 % t-interval)")
        ax.grid(axis="x", alpha=0.3)
    return fig


# ---------------------------------------------------------------- the demo: intervals against the number of seeds
def seed_runs(configs: Mapping[str, Mapping], num_seeds: int = 10, splits: dict | None = None) -> dict:
    """Reported test accuracies of ``num_seeds`` seeds (0, 1, ...) for every config: label -> list."""
    splits = page_splits() if splits is None else splits
    return {label: [page_run(cfg, s, splits)["test"] for s in range(num_seeds)] for label, cfg in configs.items()}


def demo_figure(k: int, runs: Mapping[str, Sequence[float]]) -> Figure:
    """The intervals of every cell from its first ``k`` seeds (left) and the half-widths against k (right)."""
    import matplotlib

    n_max = min(len(v) for v in runs.values())
    allv = np.concatenate([np.asarray(v, float) for v in runs.values()])
    pad = 0.25 * np.ptp(allv) + 0.005
    with matplotlib.rc_context({"font.size": FONT_SIZE}):
        fig = Figure(figsize=FIGSIZE, layout="constrained")
        left, right = fig.subplots(1, 2, width_ratios=[1.3, 1])
        colors = {label: f"C{i}" for i, label in enumerate(runs)}
        draw_intervals(left, {label: v[:k] for label, v in runs.items()}, title=f"first {k} seeds",
                       xlim=(allv.min() - pad, allv.max() + pad), colors=colors)
        left.set_xlabel("test accuracy")
        ks = np.arange(2, n_max + 1)
        for label, v in runs.items():
            halves = [t_interval(v[:j])[2] for j in ks]
            right.plot(ks, halves, "-o", ms=3, color=colors[label], label=label)
            right.plot([k], [t_interval(v[:k])[2]], "o", ms=8, mfc="none", color=colors[label])
        right.set_xlabel("number of seeds k")
        right.set_ylabel("half-width of the 95 % interval")
        right.set_yscale("log")
        right.grid(alpha=0.3)
        right.legend(fontsize=FONT_SIZE - 1)
    return fig


def site_demo(runs: Mapping[str, Sequence[float]], initial: int = 3):
    """The website's demo: a slider over the number of seeds, every frame drawn now from the page's runs."""
    from coursekit.demos.slider import figure_slider

    n_max = min(len(v) for v in runs.values())
    return figure_slider(
        lambda k: demo_figure(k, runs), {"k": list(range(2, n_max + 1))}, initial={"k": initial},
        labels={"k": "seeds"},
        caption=("Move the slider from 2 to the largest number of seeds. Left: the reported test accuracy of each "
                 "run (dots) and the mean with its 95 % t-interval (square and bar) from the first k seeds. Right: "
                 "the half-width of each interval against k; the circle marks the current k. With 2 seeds the t "
                 "quantile is 12.7 and the spread is a guess from two numbers, so an interval can be very wide or "
                 "deceptively narrow."),
        alt=("Two panels. Left: three rows of dots with an error bar each, one row per optimizer. Right: three "
             "falling lines of interval half-width against the number of seeds, on a log scale."))


def interactive(runs: Mapping[str, Sequence[float]] | None = None):
    """The live version for Jupyter: a slider over the number of seeds (runs computed on first use if not given)."""
    import ipywidgets as widgets

    from coursekit.demos.slider import png_bytes

    if runs is None:
        runs = seed_runs({"SGD+momentum": {"optimizer": "sgd-momentum", "lr": 0.1},
                          "Adam": {"optimizer": "adam", "lr": 3e-3}}, num_seeds=6)
    n_max = min(len(v) for v in runs.values())

    class SeedsDemo(widgets.VBox):
        def __init__(self):
            self.k = widgets.IntSlider(value=min(3, n_max), min=2, max=n_max, description="seeds",
                                       continuous_update=False)
            self.image = widgets.Image(format="png")
            self.summary = widgets.HTML()
            self.state: dict = {}
            super().__init__([self.k, self.summary, self.image])
            self.k.observe(self._update, names="value")
            self._update()

        def _update(self, change=None):
            k = int(self.k.value)
            self.image.value = png_bytes(demo_figure(k, runs), dpi=80)
            self.state = {label: t_interval(v[:k]) for label, v in runs.items()}
            self.summary.value = "; ".join(f"{label}: {m:.3f} ± {h:.3f}" for label, (m, _, h) in self.state.items())

    return SeedsDemo()
