"""Chapter 2 demo: ridge regression (L2 / weight decay) on a degree-12 polynomial.

Thirty noisy samples of ``sin(pi x)`` are fitted with the features
``x, x**2, ..., x**degree`` and the objective used throughout the course,

    J(w, b) = 1/(2n) * sum_i (x_i @ w + b - y_i)**2 + lam/2 * ||w||**2,

with the intercept ``b`` not penalized. scikit-learn's ``Ridge`` minimizes
``||y - X w - b||**2 + alpha * ||w||**2`` (a *summed* loss, no 1/2), so the
same minimizer is ``Ridge(alpha=n * lam)``. Every fit below is done that way.

* ``demo_figure(log10_lam)`` draws one frame: the fit with the data, and the
  training and validation errors against lambda with the current lambda marked.
* ``site_demo()`` precomputes a frame for every slider position (the website's
  version, which moves without a kernel).
* ``interactive()`` returns an ipywidgets widget for Jupyter with live sliders
  for ``log10(lam)`` and the polynomial degree.

The small functions (``make_splits``, ``ridge_model``, ``sweep``,
``fit_curve``) hold all of the computation so they can be tested on their own.

The chapter's network experiment lives here too: ``digits_splits`` and
``train_digits_mlp`` train a small MLP on scikit-learn's bundled digits (never
downloaded) with and without weight decay.
"""

from __future__ import annotations


import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter, ScalarFormatter
from sklearn.linear_model import Ridge

from coursekit.data import make_polynomial_regression, polynomial_features, train_val_test_split
from coursekit.demos.slider import png_bytes

#: Noise standard deviation of the synthetic data.
NOISE = 0.3
#: Samples drawn in total; a third each for training, validation and test.
N_SAMPLES = 90
#: The lambda grid of the sweep (lambda >= 0 has no upper bound; search on a log scale).
LAMBDAS = np.logspace(-9, 1, 41)
#: The slider positions of the website's demo, log10(lambda) in steps of 0.5 (21 frames).
SLIDER_LOG_LAMBDAS = tuple(float(v) for v in np.round(np.arange(-9.0, 1.01, 0.5), 1))
#: Three lambdas for the chapter's shrinkage figure: too small, about right, too large.
SHOWCASE_LAMBDAS = (1e-6, 1e-4, 1e-1)
#: The y-range of the fit panel; a fit that leaves it is marked with its value at the edge.
Y_LIMITS = (-2.5, 2.5)
#: Size and font of a demo frame: at the site's column width (about 700 px) it shows at full size.
FIGSIZE = (7.0, 4.0)
FONT_SIZE = 11


def true_function(x):
    """The noiseless target, ``sin(pi x)``."""
    return np.sin(np.pi * np.asarray(x, dtype=float))


def make_splits(degree: int = 12, seed: int = 0):
    """Training, validation and test splits of the polynomial problem.

    Returns ``((Phi_train, y_train), (Phi_val, y_val), (Phi_test, y_test))``,
    30 rows each; column 0 of every ``Phi`` is ``x`` itself. The inputs and
    targets do not depend on ``degree``, only the feature columns do.
    """
    if degree < 1:
        raise ValueError(f"degree must be at least 1, got {degree}")
    _, y, Phi = make_polynomial_regression(n_samples=N_SAMPLES, degree=degree,
                                           noise=NOISE, seed=seed)
    return train_val_test_split(Phi, y, fractions=(1 / 3, 1 / 3, 1 / 3), seed=seed)


def ridge_model(lam: float, degree: int = 12, seed: int = 0) -> Ridge:
    """scikit-learn ``Ridge`` fitted to the training split with ``alpha = n * lam``.

    ``solver="svd"`` stays accurate even for tiny ``lam``, where the
    polynomial features make ``X.T @ X`` nearly singular.
    """
    if lam < 0:
        raise ValueError(f"lam must be >= 0, got {lam}")
    (Phi_train, y_train), _, _ = make_splits(degree, seed)
    return Ridge(alpha=len(y_train) * lam, solver="svd").fit(Phi_train, y_train)


def sweep(lams=None, degree: int = 12, seed: int = 0) -> dict:
    """Fit one ridge model per lambda and collect what the demo plots.

    Returns a dict of 1-D arrays aligned with ``lams``: ``"lams"``,
    ``"coef_norm"`` (the Euclidean norm of ``w``; the intercept is not part of
    it), ``"train_mse"`` and ``"val_mse"``.
    """
    lams = LAMBDAS if lams is None else np.asarray(lams, dtype=float)
    (Phi_train, y_train), (Phi_val, y_val), _ = make_splits(degree, seed)
    n = len(y_train)
    norms, train_mse, val_mse = [], [], []
    for lam in lams:
        model = Ridge(alpha=n * lam, solver="svd").fit(Phi_train, y_train)
        norms.append(np.linalg.norm(model.coef_))
        train_mse.append(np.mean((model.predict(Phi_train) - y_train) ** 2))
        val_mse.append(np.mean((model.predict(Phi_val) - y_val) ** 2))
    return {"lams": np.array(lams), "coef_norm": np.array(norms),
            "train_mse": np.array(train_mse), "val_mse": np.array(val_mse)}


def fit_curve(lam: float, degree: int = 12, seed: int = 0, x_grid=None):
    """The fitted ridge curve on a grid over [-1, 1]; returns ``(x_grid, y_hat)``."""
    x_grid = np.linspace(-1.0, 1.0, 401) if x_grid is None else np.asarray(x_grid, dtype=float)
    model = ridge_model(lam, degree, seed)
    return x_grid, model.predict(polynomial_features(x_grid, degree))


# --------------------------------------------------------------------------- drawing

def _draw_fit(ax, log10_lam: float, degree: int, seed: int, coef_norm: float) -> None:
    lam = 10.0 ** log10_lam
    (Phi_train, y_train), (Phi_val, y_val), _ = make_splits(degree, seed)
    grid, y_hat = fit_curve(lam, degree, seed)
    ax.plot(grid, true_function(grid), "k--", lw=1, label=r"truth $\sin(\pi x)$")
    ax.plot(Phi_train[:, 0], y_train, "o", color="tab:blue", ms=4, label="training data")
    ax.plot(Phi_val[:, 0], y_val, "o", mfc="none", color="tab:orange", ms=4, label="validation data")
    ax.plot(grid, y_hat, color="tab:red", lw=2, label="ridge fit")
    lo, hi = Y_LIMITS
    outside = (y_hat < lo) | (y_hat > hi)
    if outside.any():
        # The fit leaves the plot: say where it goes instead of stretching the axis.
        k = int(np.argmax(np.abs(y_hat)))
        y_edge = lo + 0.12 * (hi - lo) if y_hat[k] < 0 else hi - 0.12 * (hi - lo)
        value = f"{y_hat[k]:.1f}".replace("-", "\u2212")
        ax.annotate(f"fit reaches {value}\nat $x$ = {grid[k]:.2f}".replace("= -", "= \u2212"),
                    xy=(grid[k], lo if y_hat[k] < 0 else hi), xytext=(grid[k] + 0.25, y_edge),
                    ha="left", va="center", color="tab:red",
                    arrowprops={"arrowstyle": "->", "color": "tab:red"})
    ax.set_xlim(-1.05, 1.05)
    ax.set_ylim(lo, hi)
    ax.set_xlabel("$x$")
    ax.set_ylabel("$y$")
    ax.set_title(rf"$\lambda = 10^{{{log10_lam:.1f}}}$, $\Vert w\Vert_2$ = {coef_norm:.3g}")


def _draw_errors(ax, result: dict, lam: float, here: dict) -> None:
    ax.loglog(result["lams"], result["train_mse"], color="tab:blue", label="training")
    ax.loglog(result["lams"], result["val_mse"], color="tab:orange", label="validation")
    ax.axhline(NOISE ** 2, color="k", ls=":", lw=1, label=r"noise $\sigma^2$")
    ax.axvline(lam, color="tab:red", lw=1.5)
    ax.plot([lam, lam], [here["train_mse"][0], here["val_mse"][0]], "o", color="tab:red", ms=6)
    ax.set_xlabel(r"$\lambda$ (log scale)")
    ax.set_ylabel("mean squared error")
    ax.set_title("Errors")
    ax.set_yticks([0.05, 0.1, 0.2, 0.5, 1.0])
    ax.yaxis.set_major_formatter(ScalarFormatter())
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_ylim(0.04, 1.2)
    ax.set_xlim(result["lams"][0] / 2, result["lams"][-1] * 2)
    ax.grid(True, which="major", alpha=0.3)


def _fill_figure(fig: Figure, log10_lam: float, degree: int, seed: int, result: dict) -> dict:
    lam = 10.0 ** log10_lam
    here = sweep([lam], degree=degree, seed=seed)
    ax_fit, ax_err = fig.subplots(1, 2)
    _draw_fit(ax_fit, log10_lam, degree, seed, here["coef_norm"][0])
    _draw_errors(ax_err, result, lam, here)
    for ax in (ax_fit, ax_err):
        # Tick labels made later, when the figure is saved, must not fall back to the default size.
        ax.tick_params(labelsize=FONT_SIZE, which="both")
    handles = ax_fit.get_legend_handles_labels()[0] + ax_err.get_legend_handles_labels()[0]
    fig.legend(handles=handles, loc="outside lower center", ncol=4, frameon=False,
               columnspacing=1.2, handlelength=1.6)
    return here


def demo_figure(log10_lam: float = -4.5, degree: int = 12, seed: int = 0,
                result: dict | None = None) -> Figure:
    """One frame of the demo: the fit (left) and the errors against lambda (right).

    ``result`` is ``sweep(degree=degree, seed=seed)``; pass it to avoid
    recomputing the curves for every frame.
    """
    result = sweep(degree=degree, seed=seed) if result is None else result
    with matplotlib.rc_context({"font.size": FONT_SIZE}):
        fig = Figure(figsize=FIGSIZE, layout="constrained")
        _fill_figure(fig, float(log10_lam), degree, seed, result)
    return fig


def static_figure(log10_lam: float = -4.5, degree: int = 12, seed: int = 0) -> Figure:
    """The demo at one lambda (what a page without a slider would show)."""
    return demo_figure(log10_lam, degree, seed)


def site_demo(degree: int = 12, seed: int = 0, initial: float | None = None):
    """The website's demo: a slider over ``SLIDER_LOG_LAMBDAS``, every frame drawn now.

    Returns a ``coursekit.demos.slider.FigureSlider``; a notebook cell that
    ends with it shows the figure and a slider that works without a kernel.
    """
    from coursekit.demos.slider import figure_slider

    result = sweep(degree=degree, seed=seed)
    start = SLIDER_LOG_LAMBDAS[0] if initial is None else float(initial)

    def draw(log10_lam):
        return demo_figure(log10_lam, degree, seed, result)

    return figure_slider(
        draw, {"log10_lam": list(SLIDER_LOG_LAMBDAS)},
        labels={"log10_lam": "log10 λ"}, formats={"log10_lam": ".1f"}, initial={"log10_lam": start},
        caption=("Move the slider from left to right. Left panel: the degree-12 ridge fit to the 30 "
                 "training points (filled) with the validation points (open). Right panel: training "
                 "and validation error over the whole λ grid; the red line and dots mark the λ on "
                 "the left. At the smallest λ the fit swings far outside the data near x = −1; "
                 "in the middle it follows sin(πx); at the largest it is nearly flat."),
        alt=("Two panels. Left: noisy samples of a sine curve with a degree-12 polynomial ridge fit "
             "for the chosen lambda. Right: training error rising and validation error falling then "
             "rising as lambda grows, on log axes, with the chosen lambda marked"))


# --------------------------------------------------------------------------- widget

def interactive():
    """A live version of the figure: sliders for ``log10(lambda)`` and the degree.

    Returns an ipywidgets ``VBox``. Its attributes ``log_lambda`` and
    ``degree`` are the two sliders, ``image`` is the rendered plot and
    ``summary`` a one-line text readout; ``state`` holds the numbers behind
    the current picture.
    """
    import ipywidgets as widgets

    class WeightDecayDemo(widgets.VBox):
        def __init__(self):
            self.log_lambda = widgets.FloatSlider(
                value=-4.5, min=-10.0, max=2.0, step=0.1, description="log10 λ",
                continuous_update=False, readout_format=".1f")
            self.degree = widgets.IntSlider(
                value=12, min=1, max=15, step=1, description="degree",
                continuous_update=False)
            self.image = widgets.Image(format="png")
            self.summary = widgets.HTML()
            self.state: dict = {}
            self._sweep_cache: dict = {}
            self._fig = Figure(figsize=FIGSIZE, layout="constrained")
            super().__init__([widgets.HBox([self.log_lambda, self.degree]),
                              self.summary, self.image])
            self.log_lambda.observe(self._update, names="value")
            self.degree.observe(self._update, names="value")
            self._update()

        def _sweep(self, degree: int) -> dict:
            if degree not in self._sweep_cache:
                self._sweep_cache[degree] = sweep(np.logspace(-10, 2, 49), degree=degree)
            return self._sweep_cache[degree]

        def _update(self, change=None):
            log10_lam = float(self.log_lambda.value)
            lam = 10.0 ** log10_lam
            degree = int(self.degree.value)
            fig = self._fig
            fig.clear()
            with matplotlib.rc_context({"font.size": FONT_SIZE}):
                here = _fill_figure(fig, log10_lam, degree, 0, self._sweep(degree))
                self.image.value = png_bytes(fig, dpi=80)
            _, y_hat = fit_curve(lam, degree)

            self.state = {"lam": lam, "degree": degree,
                          "coef_norm": float(here["coef_norm"][0]),
                          "train_mse": float(here["train_mse"][0]),
                          "val_mse": float(here["val_mse"][0]),
                          "y_hat": y_hat}
            self.summary.value = (
                f"λ = {lam:.3g}, degree {degree}: ‖w‖ = {self.state['coef_norm']:.3g}, "
                f"training MSE = {self.state['train_mse']:.3f}, "
                f"validation MSE = {self.state['val_mse']:.3f}")

    return WeightDecayDemo()


# --------------------------------------------------------------------------- a small network

#: The weight-decay grid of the network experiment (0 and a log grid).
DIGITS_LAMBDAS = (0.0, 1e-4, 1e-3, 1e-2, 1e-1)


def digits_splits(n_train: int = 200, n_val: int = 500, seed: int = 0) -> dict:
    """scikit-learn's bundled 8x8 digits (1797 images, nothing downloaded), split and standardized.

    Returns a dict of float32 tensors ``X_train``, ``X_val``, ``X_test`` and
    int64 tensors ``y_train``, ``y_val``, ``y_test``; the test set is every
    image not in the first two. Each pixel is standardized with the mean and
    standard deviation of the *training* images (pixels that never vary keep
    scale 1).
    """
    import torch
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    if n_train < 1 or n_val < 1 or n_train + n_val >= len(y):
        raise ValueError(f"need 1 <= n_train, n_val and n_train + n_val < {len(y)}")
    idx = np.random.default_rng(seed).permutation(len(y))
    parts = np.split(idx, [n_train, n_train + n_val])
    mean = X[parts[0]].mean(axis=0)
    std = X[parts[0]].std(axis=0)
    std[std == 0] = 1.0
    X = (X - mean) / std
    out = {}
    for name, part in zip(("train", "val", "test"), parts):
        out[f"X_{name}"] = torch.tensor(X[part], dtype=torch.float32)
        out[f"y_{name}"] = torch.tensor(y[part], dtype=torch.int64)
    return out


def train_digits_mlp(weight_decay: float, *, num_epochs: int = 150, hidden: int = 256,
                     lr: float = 0.05, momentum: float = 0.9, batch_size: int = 32,
                     seed: int = 0, splits: dict | None = None):
    """Train a 64-``hidden``-10 ReLU MLP on the digits with mini-batch SGD and weight decay.

    The optimizer is ``torch.optim.SGD(lr=lr, momentum=momentum)`` with two
    hand-written parameter groups: the two weight matrices get
    ``weight_decay``, the two bias vectors get 0. The loss is the mean
    cross-entropy. ``seed`` fixes the initialization and the order of the
    mini-batches, so runs that differ only in ``weight_decay`` start from the
    same network and see the same batches.

    Returns ``(net, history)``. ``history`` holds one value per epoch,
    measured after the epoch on the whole split with the penalty left out:
    ``train_loss``, ``val_loss`` (mean cross-entropy), ``train_acc``,
    ``val_acc`` and ``weight_norm`` (the Euclidean norm of both weight
    matrices together). The test split is not touched.
    """
    import torch
    from torch import nn

    if weight_decay < 0:
        raise ValueError(f"weight_decay must be >= 0, got {weight_decay}")
    data = digits_splits(seed=seed) if splits is None else splits
    X_train, y_train = data["X_train"], data["y_train"]
    X_val, y_val = data["X_val"], data["y_val"]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matrices: one thread is faster, and leaves the other cores alone
    try:
        torch.manual_seed(seed)
        net = nn.Sequential(nn.Linear(X_train.shape[1], hidden), nn.ReLU(), nn.Linear(hidden, 10))
        opt = torch.optim.SGD([{"params": [net[0].weight, net[2].weight], "weight_decay": weight_decay},
                               {"params": [net[0].bias, net[2].bias], "weight_decay": 0.0}],
                              lr=lr, momentum=momentum)
        loss_fn = nn.CrossEntropyLoss()
        order = torch.Generator().manual_seed(seed)
        history = {key: [] for key in ("train_loss", "val_loss", "train_acc", "val_acc", "weight_norm")}
        n = len(y_train)
        for _ in range(num_epochs):
            perm = torch.randperm(n, generator=order)
            for start in range(0, n, batch_size):
                batch = perm[start:start + batch_size]
                opt.zero_grad()
                loss_fn(net(X_train[batch]), y_train[batch]).backward()
                opt.step()
            with torch.no_grad():
                for split, X, y in (("train", X_train, y_train), ("val", X_val, y_val)):
                    out = net(X)
                    history[f"{split}_loss"].append(loss_fn(out, y).item())
                    history[f"{split}_acc"].append((out.argmax(dim=1) == y).double().mean().item())
                history["weight_norm"].append(
                    torch.sqrt(net[0].weight.pow(2).sum() + net[2].weight.pow(2).sum()).item())
    finally:
        torch.set_num_threads(threads)
    return net, {key: np.array(values) for key, values in history.items()}


def accuracy(net, X, y) -> float:
    """Fraction of rows of ``X`` that ``net`` classifies as ``y``."""
    import torch

    with torch.no_grad():
        return (net(X).argmax(dim=1) == y).double().mean().item()
