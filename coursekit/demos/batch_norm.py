"""Chapter 6 demo: batch normalization's running statistics, and a deeper MLP with and without it.

* ``running_trace(momentum, batch_size)`` feeds one channel of ``torch.nn.BatchNorm1d`` a stream of batches
  whose distribution changes halfway (mean 0 and variance 1, then mean 2 and variance 0.25) and records the
  batch statistics and the running statistics after every batch. ``momentum=None`` is torch's cumulative
  average.
* ``demo_figure(momentum, batch_size)`` draws one frame: running mean and running variance against the batch
  number, with the batch statistics and the true values.
* ``site_demo()`` precomputes a frame for every slider setting (the website's version, which moves without a
  kernel); ``interactive()`` returns an ipywidgets widget for Jupyter.

The network experiment lives here too: ``digits_data`` and ``train_mlp`` train a six-hidden-layer MLP on
scikit-learn's bundled digits (never downloaded), with or without ``nn.BatchNorm1d`` after every hidden linear
layer, with plain mini-batch SGD at a learning rate from ``LR_GRID``.
"""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import torch
from matplotlib.figure import Figure
from torch import nn

from coursekit.demos.slider import png_bytes

#: The stream of batches: this many, the distribution changing after ``SHIFT_AT`` of them.
NUM_BATCHES = 120
SHIFT_AT = 60
#: (mean, variance) of the one channel before and after the change.
BEFORE, AFTER = (0.0, 1.0), (2.0, 0.25)
#: The slider positions of the website's demo.
SLIDER_MOMENTA = (0.01, 0.1, 0.3, 1.0)
SLIDER_BATCH_SIZES = (4, 16, 256)
FIGSIZE = (7.0, 3.6)
FONT_SIZE = 11


def running_trace(momentum: float | None = 0.1, batch_size: int = 16, seed: int = 0) -> dict:
    """Statistics after every batch of the stream, for ``nn.BatchNorm1d(1, momentum=momentum)`` in float64.

    Returns arrays of length ``NUM_BATCHES``: ``batch_mean``, ``batch_var`` (unbiased), ``running_mean``,
    ``running_var``, ``true_mean``, ``true_var``.
    """
    if batch_size < 2:
        raise ValueError("batch norm needs at least two examples per batch in training mode")
    rng = np.random.default_rng(seed)
    layer = nn.BatchNorm1d(1, momentum=momentum).double().train()
    out = {k: np.empty(NUM_BATCHES) for k in ("batch_mean", "batch_var", "running_mean", "running_var",
                                              "true_mean", "true_var")}
    with torch.no_grad():
        for k in range(NUM_BATCHES):
            mean, var = BEFORE if k < SHIFT_AT else AFTER
            x = rng.normal(mean, math.sqrt(var), (batch_size, 1))
            layer(torch.tensor(x))
            out["batch_mean"][k], out["batch_var"][k] = x.mean(), x.var(ddof=1)
            out["running_mean"][k] = layer.running_mean.item()
            out["running_var"][k] = layer.running_var.item()
            out["true_mean"][k], out["true_var"][k] = mean, var
    return out


def _fill_figure(fig, momentum, batch_size, seed=0) -> dict:
    trace = running_trace(momentum, batch_size, seed)
    k = np.arange(1, NUM_BATCHES + 1)
    ax_m, ax_v = fig.subplots(1, 2)
    for ax, stat, title in ((ax_m, "mean", "mean"), (ax_v, "var", "variance")):
        ax.plot(k, trace[f"batch_{stat}"], ".", color="0.6", ms=4, label="this batch")
        ax.plot(k, trace[f"true_{stat}"], "k--", lw=1, label="true")
        ax.plot(k, trace[f"running_{stat}"], color="tab:blue", lw=2, label="running")
        ax.set(xlabel="batch", title=f"running {title}")
        ax.grid(True, alpha=0.3)
    ax_m.set_ylim(-1.5, 3.5)
    ax_v.set_ylim(0, 3)
    ax_m.legend(loc="upper left", fontsize=10)
    name = "None" if momentum is None else f"{momentum:g}"
    fig.suptitle(f"momentum = {name}, batch size {batch_size}")
    return trace


def demo_figure(momentum: float | None = 0.1, batch_size: int = 16, seed: int = 0) -> Figure:
    """One frame of the demo (a Figure made without pyplot)."""
    with matplotlib.rc_context({"font.size": FONT_SIZE}):
        fig = Figure(figsize=FIGSIZE, layout="constrained")
        _fill_figure(fig, momentum, batch_size, seed)
    return fig


def site_demo(seed: int = 0):
    """The website's demo: sliders over ``SLIDER_MOMENTA`` and ``SLIDER_BATCH_SIZES``, every frame drawn now."""
    from coursekit.demos.slider import figure_slider

    def draw(momentum, batch_size):
        return demo_figure(momentum, batch_size, seed)

    return figure_slider(
        draw, {"momentum": list(SLIDER_MOMENTA), "batch_size": list(SLIDER_BATCH_SIZES)},
        labels={"momentum": "momentum", "batch_size": "batch size"},
        formats={"momentum": "g", "batch_size": "d"}, initial={"momentum": 0.1, "batch_size": 16},
        caption=("Move the sliders. One channel of torch.nn.BatchNorm1d sees 120 training batches; after batch 60 "
                 "its input changes from mean 0 and variance 1 to mean 2 and variance 0.25 (dashed). Grey dots are "
                 "each batch's own statistics, the blue line the running estimate that eval mode will use. A "
                 "small momentum averages over many batches: smooth, but slow to follow the change. Momentum 1 "
                 "keeps only the last batch, as noisy as the dots. Smaller batches make every dot noisier."),
        alt=("Two panels against the batch number: running mean and running variance of a batch-norm layer, "
             "with the per-batch statistics as grey dots and the true values as a dashed step"))


def interactive():
    """A live version: a momentum slider (with a 'None' checkbox for the cumulative average) and a batch size.

    Returns an ipywidgets ``VBox``; ``momentum``, ``cumulative`` and ``batch_size`` are its controls, ``image``
    the rendered plot, ``state`` the numbers behind it.
    """
    import ipywidgets as widgets

    class BatchNormDemo(widgets.VBox):
        def __init__(self):
            self.momentum = widgets.FloatLogSlider(value=0.1, base=10, min=-2.5, max=0, step=0.1,
                                                   description="momentum", continuous_update=False)
            self.cumulative = widgets.Checkbox(value=False, description="momentum=None")
            self.batch_size = widgets.SelectionSlider(options=[2, 4, 8, 16, 32, 64, 128, 256], value=16,
                                                      description="batch size", continuous_update=False)
            self.image = widgets.Image(format="png")
            self.state: dict = {}
            self._fig = Figure(figsize=FIGSIZE, layout="constrained")
            super().__init__([widgets.HBox([self.momentum, self.cumulative, self.batch_size]), self.image])
            for w in (self.momentum, self.cumulative, self.batch_size):
                w.observe(self._update, names="value")
            self._update()

        def _update(self, change=None):
            momentum = None if self.cumulative.value else float(self.momentum.value)
            fig = self._fig
            fig.clear()
            with matplotlib.rc_context({"font.size": FONT_SIZE}):
                trace = _fill_figure(fig, momentum, int(self.batch_size.value))
                self.image.value = png_bytes(fig, dpi=80)
            self.state = {"momentum": momentum, "batch_size": int(self.batch_size.value), **trace}

    return BatchNormDemo()


# --------------------------------------------------------------------------- the network experiment

#: The learning rates of the experiment, one grid for both networks.
LR_GRID = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
DEPTH, WIDTH = 6, 64
#: A run "trains" when its final training loss is below this: under half the loss of a uniform guess (ln 10).
TRAINS_BELOW = 1.0


def digits_data(n_train: int = 1200, seed: int = 0) -> dict:
    """scikit-learn's digits, shuffled, split into training and validation sets, standardized with the training
    statistics (float32 tensors)."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    perm = np.random.default_rng(seed).permutation(len(y))
    X, y = X[perm], y[perm]
    mean, std = X[:n_train].mean(0), X[:n_train].std(0)
    std[std == 0] = 1.0
    X = (X - mean) / std
    t = lambda a, dt: torch.tensor(a, dtype=dt)  # noqa: E731
    return {"X_train": t(X[:n_train], torch.float32), "y_train": t(y[:n_train], torch.long),
            "X_val": t(X[n_train:], torch.float32), "y_val": t(y[n_train:], torch.long)}


def make_mlp(batch_norm: bool, depth: int = DEPTH, width: int = WIDTH, seed: int = 0) -> nn.Sequential:
    """``depth`` hidden layers of ``width`` ReLU units (torch's default initialization). With ``batch_norm``
    each hidden layer is Linear (no bias: BatchNorm's shift replaces it) -> BatchNorm1d -> ReLU."""
    torch.manual_seed(seed)
    layers, n_in = [], 64
    for _ in range(depth):
        layers.append(nn.Linear(n_in, width, bias=not batch_norm))
        if batch_norm:
            layers.append(nn.BatchNorm1d(width))
        layers.append(nn.ReLU())
        n_in = width
    layers.append(nn.Linear(n_in, 10))
    return nn.Sequential(*layers)


def train_mlp(batch_norm: bool, lr: float, num_epochs: int = 15, batch_size: int = 64, seed: int = 0,
              data: dict | None = None):
    """Plain mini-batch SGD (``torch.optim.SGD(lr=lr)``, torch's defaults otherwise) on the mean cross-entropy.

    After every epoch the whole training and validation sets are evaluated in eval mode. Returns
    ``(net, history)``; history holds arrays ``train_loss``, ``val_loss``, ``val_acc`` (inf/nan once diverged).
    """
    data = digits_data() if data is None else data
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    # the plain network's activations shrink into float32's subnormal range, where CPUs are many times slower;
    # flushing them to zero changes no result that matters here and keeps every run equally fast
    torch.set_flush_denormal(True)
    try:
        net = make_mlp(batch_norm, seed=seed)
        opt = torch.optim.SGD(net.parameters(), lr=lr)
        loss_fn = nn.CrossEntropyLoss()
        gen = torch.Generator().manual_seed(seed)
        X, y = data["X_train"], data["y_train"]
        hist = {"train_loss": [], "val_loss": [], "val_acc": []}
        for _ in range(num_epochs):
            net.train()
            for idx in torch.randperm(len(y), generator=gen).split(batch_size):
                if len(idx) < 2:
                    continue
                opt.zero_grad()
                loss_fn(net(X[idx]), y[idx]).backward()
                opt.step()
            net.eval()
            with torch.no_grad():
                hist["train_loss"].append(loss_fn(net(X), y).item())
                out = net(data["X_val"])
                hist["val_loss"].append(loss_fn(out, data["y_val"]).item())
                hist["val_acc"].append((out.argmax(1) == data["y_val"]).float().mean().item())
            if not math.isfinite(hist["train_loss"][-1]):
                break
        for key, values in hist.items():  # a diverged run: pad with its last value
            hist[key] = np.array(values + [values[-1]] * (num_epochs - len(values)))
        return net, hist
    finally:
        torch.set_num_threads(threads)
        torch.set_flush_denormal(False)


def trains(hist: dict) -> bool:
    """Whether a run trained: a finite final training loss below ``TRAINS_BELOW``."""
    final = hist["train_loss"][-1]
    return bool(np.isfinite(final) and final < TRAINS_BELOW)


def lr_sweep(num_epochs: int = 15, seed: int = 0, data: dict | None = None) -> dict:
    """``{(batch_norm, lr): history}`` for both networks and every rate of ``LR_GRID``. ``seed`` sets the
    initialization and the batch order, and, unless ``data`` is given, the training/validation split too."""
    data = digits_data(seed=seed) if data is None else data
    return {(bn, lr): train_mlp(bn, lr, num_epochs, seed=seed, data=data)[1]
            for bn in (False, True) for lr in LR_GRID}
