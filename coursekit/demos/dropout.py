"""Chapter 4 demo: dropout in a small network on scikit-learn's bundled digits.

The same MLP is trained on 300 digit images with ``torch.nn.Dropout(p)`` after each hidden layer, for every
``p`` of a grid (``P_GRID``; ``p = 0`` is the network without dropout), from the same initialization and with the
same mini-batches. After every epoch the network is measured in eval mode (dropout off) on the training and the
validation images.

* ``train_digits_mlp(p)`` trains one network and returns it with its per-epoch history.
* ``sweep()`` trains one network per ``p`` of the grid (cached: the page, the demo and the tests share it).
* ``demo_figure(p)`` draws one frame: the loss curves for ``p`` next to those without dropout, and the final
  training loss, validation loss and the gap between them against ``p``.
* ``site_demo()`` precomputes a frame for every ``p`` (the website's slider, which needs no kernel);
  ``interactive()`` is the live ipywidgets version for Jupyter.

``mc_regression()`` trains the small regression network of the chapter's Monte-Carlo-dropout figure.
"""

from __future__ import annotations

from functools import lru_cache

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from coursekit.demos.slider import png_bytes

#: The drop probabilities of the experiment and of the slider (0 = no dropout).
P_GRID = (0.0, 0.1, 0.3, 0.5, 0.7)
#: Training images, validation images, hidden units, epochs.
N_TRAIN, N_VAL, HIDDEN, NUM_EPOCHS = 300, 500, 256, 60
#: Size and font of a demo frame: at the site's column width (about 700 px) it shows at full size.
FIGSIZE = (7.4, 4.3)
FONT_SIZE = 11


def _splits(seed: int = 0) -> dict:
    from coursekit.demos.weight_decay import digits_splits

    return digits_splits(n_train=N_TRAIN, n_val=N_VAL, seed=seed)


def make_mlp(p: float, hidden: int = HIDDEN):
    """64 -> hidden -> hidden -> 10 with ReLU and ``nn.Dropout(p)`` after each hidden layer."""
    from torch import nn

    return nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Dropout(p),
                         nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(p), nn.Linear(hidden, 10))


def train_digits_mlp(p: float, *, num_epochs: int = NUM_EPOCHS, hidden: int = HIDDEN, batch_size: int = 32,
                     seed: int = 0, splits: dict | None = None):
    """Train ``make_mlp(p)`` with ``torch.optim.Adam`` at torch's defaults (lr 1e-3) on the mean cross-entropy.

    ``seed`` fixes the initialization, the mini-batch order and the dropout masks, so runs that differ only in
    ``p`` start from the same network and see the same batches. Returns ``(net, history)``: per epoch, measured
    after it in eval mode on the whole split, ``train_loss``, ``val_loss``, ``train_acc``, ``val_acc``. The
    network is returned in eval mode. The test split is not touched.
    """
    import torch
    from torch import nn

    if not 0 <= p < 1:
        raise ValueError(f"p must be in [0, 1) for a network that should learn, got {p}")
    data = _splits(seed) if splits is None else splits
    X_train, y_train, X_val, y_val = data["X_train"], data["y_train"], data["X_val"], data["y_val"]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matrices: one thread is faster, and leaves the other cores alone
    try:
        torch.manual_seed(seed)
        net = make_mlp(p, hidden)
        opt = torch.optim.Adam(net.parameters())
        loss_fn = nn.CrossEntropyLoss()
        order = torch.Generator().manual_seed(seed)
        history = {key: [] for key in ("train_loss", "val_loss", "train_acc", "val_acc")}
        n = len(y_train)
        for _ in range(num_epochs):
            net.train()
            perm = torch.randperm(n, generator=order)
            for start in range(0, n, batch_size):
                batch = perm[start:start + batch_size]
                opt.zero_grad()
                loss_fn(net(X_train[batch]), y_train[batch]).backward()
                opt.step()
            net.eval()
            with torch.no_grad():
                for split, X, y in (("train", X_train, y_train), ("val", X_val, y_val)):
                    out = net(X)
                    history[f"{split}_loss"].append(loss_fn(out, y).item())
                    history[f"{split}_acc"].append((out.argmax(dim=1) == y).double().mean().item())
    finally:
        torch.set_num_threads(threads)
    return net, {key: np.array(values) for key, values in history.items()}


@lru_cache(maxsize=4)
def sweep(grid: tuple = P_GRID, num_epochs: int = NUM_EPOCHS, seed: int = 0) -> dict:
    """``{p: history}`` for every ``p`` of ``grid`` (the histories of :func:`train_digits_mlp`)."""
    splits = _splits(seed)
    return {p: train_digits_mlp(p, num_epochs=num_epochs, seed=seed, splits=splits)[1] for p in grid}


def summary(runs: dict) -> dict:
    """Final training loss, validation loss, their gap, the lowest validation loss of any epoch, and the final
    validation accuracy, as arrays aligned with p."""
    ps = np.array(sorted(runs))
    train = np.array([runs[p]["train_loss"][-1] for p in ps])
    val = np.array([runs[p]["val_loss"][-1] for p in ps])
    return {"p": ps, "train_loss": train, "val_loss": val, "gap": val - train,
            "best_val_loss": np.array([runs[p]["val_loss"].min() for p in ps]),
            "val_acc": np.array([runs[p]["val_acc"][-1] for p in ps])}


# --------------------------------------------------------------------------- drawing

def _fill(fig: Figure, p: float, runs: dict) -> None:
    ax_curves, ax_p = fig.subplots(1, 2)
    epochs = np.arange(1, len(runs[0.0]["val_loss"]) + 1)
    shown = [(0.0, "tab:red", "no dropout")] + ([(p, "tab:blue", f"p = {p:g}")] if p != 0 else [])
    for q, color, name in shown:
        ax_curves.semilogy(epochs, runs[q]["val_loss"], color=color, lw=2, label=f"{name}, validation")
        ax_curves.semilogy(epochs, runs[q]["train_loss"], color=color, lw=1.5, ls="--", label=f"{name}, training")
    ax_curves.set(xlabel="epoch", ylabel="cross-entropy (log scale)", ylim=(1e-4, 3), title="Loss per epoch")
    s = summary(runs)
    ax_p.plot(s["p"], s["val_loss"], "o-", color="tab:orange", label="after the last epoch")
    ax_p.plot(s["p"], s["best_val_loss"], "s--", color="tab:green", label="lowest, any epoch")
    ax_p.axvline(p, color="tab:blue", lw=1.5)
    ax_p.set(xlabel="drop probability p", ylabel="cross-entropy", title="Validation loss")
    ax_p.legend(loc="upper left", fontsize=FONT_SIZE - 1, frameon=False)
    lo, hi = float(np.min(s["best_val_loss"])), float(np.max(s["val_loss"]))
    ax_p.set_ylim(lo - 0.1 * (hi - lo), hi + 0.6 * (hi - lo))   # room for the legend above the points
    for ax in (ax_curves, ax_p):
        ax.grid(True, which="major", alpha=0.3)
        ax.tick_params(labelsize=FONT_SIZE, which="both")
    fig.legend(handles=ax_curves.get_legend_handles_labels()[0], loc="outside lower center", ncol=2,
               frameon=False, fontsize=FONT_SIZE - 1)


def demo_figure(p: float = 0.5, runs: dict | None = None) -> Figure:
    """One frame: the curves for ``p`` against no dropout (left), the end of every run against p (right)."""
    runs = sweep() if runs is None else runs
    if p not in runs:
        raise ValueError(f"p = {p} is not one of the trained values {sorted(runs)}")
    with matplotlib.rc_context({"font.size": FONT_SIZE}):
        fig = Figure(figsize=FIGSIZE, layout="constrained")
        _fill(fig, p, runs)
    return fig


def site_demo(initial: float = 0.5, seed: int = 0):
    """The website's demo: a slider over ``P_GRID``, every frame drawn now (no kernel needed), for the runs of
    ``sweep(seed=seed)`` (one seed; the chapter states its results over several)."""
    from coursekit.demos.slider import figure_slider

    runs = sweep(seed=seed)
    return figure_slider(
        lambda p: demo_figure(p, runs), {"p": list(P_GRID)}, labels={"p": "drop probability p"},
        formats={"p": ".1f"}, initial={"p": initial},
        caption=("Move the slider to change the drop probability p of both dropout layers. Left: training "
                 "(dashed) and validation (solid) loss per epoch for that p (blue) and without dropout (red), "
                 "both measured in eval mode; the vertical distance between a solid and a dashed curve is the "
                 "gap. Right: the validation loss after the last epoch and the lowest it reached, for every p; "
                 "the blue line marks the p on the left. These are the runs of one seed. Look at the red curves: "
                 "without dropout the training loss collapses while the validation loss bottoms out and creeps "
                 "back up; with dropout the training loss falls more slowly at first, the more so the larger p. "
                 "The text gives the results over several seeds."),
        alt=("Two panels. Left: training and validation cross-entropy against epochs on a log scale, for the "
             "chosen drop probability and for no dropout. Right: final and lowest validation loss against the "
             "drop probability, with the chosen value marked."))


# --------------------------------------------------------------------------- widget

def interactive():
    """A live version for Jupyter: a slider for p (the networks of ``P_GRID`` are trained on first use).

    Returns an ipywidgets ``VBox`` with attributes ``p`` (the slider), ``image`` and ``summary``; ``state``
    holds the numbers behind the current picture.
    """
    import ipywidgets as widgets

    class DropoutDemo(widgets.VBox):
        def __init__(self):
            self.p = widgets.SelectionSlider(options=list(P_GRID), value=0.5, description="p",
                                             continuous_update=False)
            self.image = widgets.Image(format="png")
            self.summary = widgets.HTML()
            self.state: dict = {}
            super().__init__([self.p, self.summary, self.image])
            self.p.observe(self._update, names="value")
            self._update()

        def _update(self, change=None):
            runs = sweep()
            p = float(self.p.value)
            fig = demo_figure(p, runs)
            self.image.value = png_bytes(fig, dpi=80)
            h = runs[p]
            self.state = {"p": p, "train_loss": float(h["train_loss"][-1]), "val_loss": float(h["val_loss"][-1]),
                          "val_acc": float(h["val_acc"][-1])}
            self.summary.value = (f"p = {p:g}: training loss {self.state['train_loss']:.4f}, validation loss "
                                  f"{self.state['val_loss']:.3f}, validation accuracy {self.state['val_acc']:.1%}")

    return DropoutDemo()


# --------------------------------------------------------------------------- MC dropout on a 1-D regression

def regression_data(n: int = 40, noise: float = 0.1, seed: int = 0):
    """``n`` noisy samples of ``sin(3 x)`` with x in [-1, -0.3] and [0.3, 1]: a gap in the middle."""
    rng = np.random.default_rng(seed)
    x = np.concatenate([rng.uniform(-1.0, -0.3, n // 2), rng.uniform(0.3, 1.0, n - n // 2)])
    return x, np.sin(3 * x) + noise * rng.standard_normal(n)


def mc_regression(p: float = 0.2, num_steps: int = 1000, hidden: int = 64, seed: int = 0):
    """Train a small regression MLP with dropout on ``regression_data()``; return the trained net.

    The network is 1 -> hidden -> hidden -> 1 with ReLU and ``nn.Dropout(p)`` after each hidden layer, trained
    full-batch with Adam at torch's defaults on the mean squared error; it is returned in eval mode.
    """
    import torch
    from torch import nn

    x, y = regression_data(seed=seed)
    X = torch.tensor(x, dtype=torch.float32)[:, None]
    Y = torch.tensor(y, dtype=torch.float32)[:, None]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(seed)
        net = nn.Sequential(nn.Linear(1, hidden), nn.ReLU(), nn.Dropout(p),
                            nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(p), nn.Linear(hidden, 1))
        opt = torch.optim.Adam(net.parameters())
        net.train()
        for _ in range(num_steps):
            opt.zero_grad()
            ((net(X) - Y) ** 2).mean().backward()
            opt.step()
    finally:
        torch.set_num_threads(threads)
    return net.eval()
