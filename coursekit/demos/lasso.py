"""Chapter 3 demo: the lasso and the elastic net, seen as a constraint region and as a path.

Convention (scikit-learn's): ``Lasso(alpha)`` minimizes

    1/(2n) * ||y - X w - b||^2 + alpha * ||w||_1,

and ``ElasticNet(alpha, l1_ratio)`` adds the penalty
``alpha * (l1_ratio * ||w||_1 + (1 - l1_ratio)/2 * ||w||_2^2)`` instead; ``l1_ratio = 1`` is the lasso.
Every fit below is scikit-learn's (the oracle of the chapter's exercise).

* ``demo_figure(log10_alpha, l1_ratio)`` draws one frame: on the left, the loss contours of a two-feature
  problem and the penalty's constraint region through the solution (a diamond for the lasso, rounder as
  ``l1_ratio`` falls); on the right, the regularization path of a ten-feature problem with the current alpha
  marked and the number of nonzero weights in the title.
* ``site_demo()`` precomputes a frame for every slider setting (the website's version, no kernel needed).
* ``interactive()`` returns an ipywidgets widget for Jupyter that recomputes.

The chapter's network experiment lives here too: ``train_l1_mlp`` trains a small MLP on scikit-learn's
bundled digits with an L1 penalty on the first layer's weights, either added to the loss (a subgradient
method) or applied as a proximal step after every ``optimizer.step()``.
"""

from __future__ import annotations

import warnings
from functools import lru_cache

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullFormatter
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import ElasticNet, enet_path

from coursekit.data import make_regression
from coursekit.demos.slider import png_bytes

#: Slider positions of the website's demo: log10(alpha) and l1_ratio (11 x 2 = 22 frames).
SLIDER_LOG_ALPHAS = tuple(float(v) for v in np.round(np.arange(-2.0, 0.51, 0.25), 2))
SLIDER_L1_RATIOS = (1.0, 0.5)
#: The alpha grid of the path panel.
PATH_ALPHAS = np.logspace(-2.5, 1.0, 80)
FIGSIZE = (7.6, 3.9)
FONT_SIZE = 11


@lru_cache(maxsize=None)
def plane_data():
    """The two-feature problem of the left panel: ``(X, y)``, correlated features, both weights nonzero at
    small alpha."""
    X, y, _ = make_regression(n_samples=60, n_features=2, noise=1.0, correlation=0.5, seed=5)
    return X, y


@lru_cache(maxsize=None)
def path_data():
    """The ten-feature problem of the right panel: ``(X, y, w_true)``, three informative features."""
    return make_regression(n_samples=60, n_features=10, n_informative=3, noise=1.0, correlation=0.3, seed=27)


def fit(X, y, alpha: float, l1_ratio: float = 1.0):
    """scikit-learn's ElasticNet (the lasso when ``l1_ratio = 1``) to a tight tolerance: ``(w, b)``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, tol=1e-12, max_iter=100_000).fit(X, y)
    return model.coef_.copy(), float(model.intercept_)


@lru_cache(maxsize=None)
def path(l1_ratio: float = 1.0):
    """``(alphas, coefs)`` of the right panel: scikit-learn's ``enet_path`` on the centred ten-feature data
    (centring is what the unpenalized intercept does), alphas decreasing, coefs of shape (10, n_alphas)."""
    X, y, _ = path_data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        alphas, coefs, _ = enet_path(X - X.mean(0), y - y.mean(), l1_ratio=l1_ratio, alphas=PATH_ALPHAS,
                                     tol=1e-12, max_iter=100_000)
    return alphas, coefs


def entry_alpha(j: int, l1_ratio: float = 1.0, rel_tol: float = 1e-6) -> float:
    """The largest alpha at which weight ``j`` of the ten-feature problem is nonzero (where it enters the path
    as alpha decreases), found by bisection on the exact fits of :func:`fit`, to a relative tolerance
    ``rel_tol``: not limited by the resolution of a path's grid."""
    X, y, _ = path_data()
    Xc, yc = X - X.mean(0), y - y.mean()
    hi = float(np.max(np.abs(Xc.T @ yc)) / len(y)) / max(l1_ratio, 1e-12) * 1.0001   # every weight is 0 here
    lo = hi
    while fit(X, y, lo, l1_ratio)[0][j] == 0:
        lo /= 2
        if lo < 1e-6:
            return 0.0
    while hi / lo - 1 > rel_tol:
        mid = float(np.sqrt(lo * hi))
        if fit(X, y, mid, l1_ratio)[0][j] != 0:
            lo = mid
        else:
            hi = mid
    return lo


def penalty(W1, W2, l1_ratio: float):
    """The elastic-net penalty per unit alpha, ``l1_ratio * ||w||_1 + (1 - l1_ratio)/2 * ||w||^2``, on a grid."""
    return l1_ratio * (np.abs(W1) + np.abs(W2)) + 0.5 * (1 - l1_ratio) * (W1 ** 2 + W2 ** 2)


def _draw_plane(ax, alpha: float, l1_ratio: float) -> np.ndarray:
    X, y = plane_data()
    Xc, yc = X - X.mean(0), y - y.mean()
    w_ls = np.linalg.lstsq(Xc, yc, rcond=None)[0]
    w, _ = fit(X, y, alpha, l1_ratio)
    grid = np.linspace(-1.2, 2.6, 161)
    W1, W2 = np.meshgrid(grid, grid)
    Wg = np.stack([W1.ravel(), W2.ravel()], axis=1)
    loss = (0.5 * np.mean((Wg @ Xc.T - yc) ** 2, axis=1)).reshape(W1.shape)
    loss_ls = 0.5 * np.mean((Xc @ w_ls - yc) ** 2)
    ax.contour(W1, W2, loss, levels=loss_ls + np.array([0.05, 0.2, 0.5, 1.0, 1.6, 2.4]), colors="tab:blue",
               linewidths=0.8)
    level = penalty(w[0], w[1], l1_ratio)
    if level > 0:
        ax.contourf(W1, W2, penalty(W1, W2, l1_ratio), levels=[0, level], colors=["tab:orange"], alpha=0.3)
        ax.contour(W1, W2, loss, levels=[0.5 * np.mean((Xc @ w - yc) ** 2)], colors="k", linewidths=1.3)
    ax.plot(*w_ls, "*", color="tab:blue", ms=13, label="least squares")
    ax.plot(*w, "o", color="tab:red", ms=7, label="penalized fit")
    ax.axhline(0, color="gray", lw=0.6)
    ax.axvline(0, color="gray", lw=0.6)
    ax.set(aspect="equal", xlim=(grid[0], grid[-1]), ylim=(grid[0], grid[-1]), xlabel="w₁", ylabel="w₂")
    name = "lasso" if l1_ratio == 1 else f"elastic net, l1_ratio {l1_ratio:g}"
    ax.set_title(f"{name}: w = ({w[0] + 0.0:.2f}, {w[1] + 0.0:.2f})", fontsize=FONT_SIZE)
    return w


def _draw_path(ax, alpha: float, l1_ratio: float) -> int:
    alphas, coefs = path(l1_ratio)
    X, y, _ = path_data()
    w, _ = fit(X, y, alpha, l1_ratio)
    palette = matplotlib.colormaps["tab10"](np.arange(coefs.shape[0]))
    for k in range(coefs.shape[0]):
        ax.semilogx(alphas, coefs[k], color=palette[k], lw=1.4 if k < 3 else 0.9)
    ax.axvline(alpha, color="tab:red", lw=1.5)
    ax.axhline(0, color="k", lw=0.6)
    nonzero = int(np.sum(w != 0))
    ax.set(xlabel="α (log scale)", ylabel="weight", xlim=(alphas[-1], alphas[0]))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_title(f"path: {nonzero} of {len(w)} weights nonzero", fontsize=FONT_SIZE)
    ax.grid(True, alpha=0.3)
    return nonzero


def demo_figure(log10_alpha: float = -1.0, l1_ratio: float = 1.0) -> Figure:
    """One frame: the constraint region of the two-feature problem (left) and the ten-feature path (right)."""
    alpha = 10.0 ** float(log10_alpha)
    with matplotlib.rc_context({"font.size": FONT_SIZE}):
        fig = Figure(figsize=FIGSIZE, layout="constrained")
        ax_plane, ax_path = fig.subplots(1, 2, width_ratios=[1.0, 1.15])
        _draw_plane(ax_plane, alpha, float(l1_ratio))
        _draw_path(ax_path, alpha, float(l1_ratio))
        for ax in (ax_plane, ax_path):
            ax.tick_params(labelsize=FONT_SIZE, which="both")
        ax_plane.legend(loc="upper right", fontsize=FONT_SIZE - 1, framealpha=0.9)
        fig.suptitle(f"α = {alpha:.3g}  (log10 α = {float(log10_alpha):.2f})", fontsize=FONT_SIZE)
    return fig


def site_demo(initial: float = -1.0):
    """The website's demo: sliders over ``SLIDER_LOG_ALPHAS`` and ``SLIDER_L1_RATIOS``, every frame drawn now."""
    from coursekit.demos.slider import figure_slider

    return figure_slider(
        demo_figure, {"log10_alpha": list(SLIDER_LOG_ALPHAS), "l1_ratio": list(SLIDER_L1_RATIOS)},
        labels={"log10_alpha": "log10 α", "l1_ratio": "l1_ratio"}, formats={"log10_alpha": ".2f"},
        initial={"log10_alpha": float(initial), "l1_ratio": 1.0},
        caption=("Move the α slider. Left: loss contours of a two-feature regression around the least-squares "
                 "weights (star); the shaded region is the penalty's ball through the penalized fit (dot), "
                 "which sits where the black contour touches it. With l1_ratio = 1 (the lasso) the ball is a "
                 "diamond, and from log10 α = −0.5 (α ≈ 0.32) the contour touches its corner on the w₁ axis: w₂ is "
                 "exactly 0. "
                 "Right: the path of a ten-feature problem (thick lines: the three informative features); the "
                 "red line marks α. Lower l1_ratio rounds the ball and the zeros arrive later."),
        alt=("Two panels. Left: elliptical contours, a shaded diamond or rounded square centred at the origin, "
             "and a red dot where a contour touches it. Right: ten coefficient curves against alpha on a log "
             "axis that reach zero one by one as alpha grows, with a vertical red line at the current alpha."))


# --------------------------------------------------------------------------- widget

def interactive():
    """A live version: sliders for ``log10(alpha)`` and ``l1_ratio``. Returns an ipywidgets ``VBox`` with
    attributes ``log_alpha``, ``l1_ratio`` (the sliders), ``image`` and ``summary``; ``state`` holds the
    numbers behind the current picture."""
    import ipywidgets as widgets

    class LassoDemo(widgets.VBox):
        def __init__(self):
            self.log_alpha = widgets.FloatSlider(value=-1.0, min=-2.5, max=1.0, step=0.05, description="log10 α",
                                                 continuous_update=False, readout_format=".2f")
            self.l1_ratio = widgets.FloatSlider(value=1.0, min=0.05, max=1.0, step=0.05, description="l1_ratio",
                                                continuous_update=False, readout_format=".2f")
            self.image = widgets.Image(format="png")
            self.summary = widgets.HTML()
            self.state: dict = {}
            super().__init__([widgets.HBox([self.log_alpha, self.l1_ratio]), self.summary, self.image])
            self.log_alpha.observe(self._update, names="value")
            self.l1_ratio.observe(self._update, names="value")
            self._update()

        def _update(self, change=None):
            alpha, ratio = 10.0 ** float(self.log_alpha.value), round(float(self.l1_ratio.value), 2)
            fig = demo_figure(float(self.log_alpha.value), ratio)
            self.image.value = png_bytes(fig, dpi=80)
            X, y, _ = path_data()
            w, _ = fit(X, y, alpha, ratio)
            w_plane, _ = fit(*plane_data(), alpha, ratio)
            self.state = {"alpha": alpha, "l1_ratio": ratio, "w": w, "w_plane": w_plane,
                          "nonzero": int(np.sum(w != 0))}
            self.summary.value = (f"α = {alpha:.3g}, l1_ratio = {ratio:g}: {self.state['nonzero']} of {len(w)} "
                                  f"weights nonzero; two-feature fit w = ({w_plane[0]:.3f}, {w_plane[1]:.3f})")

    return LassoDemo()


# --------------------------------------------------------------------------- a small network

#: The L1 strengths of the network experiment, shared by both methods.
DIGITS_LAMBDAS = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2)


def first_layer_l1(net) -> "torch.Tensor":  # noqa: F821
    """The penalty's norm, ``sum |W|`` of the first layer's weight matrix."""
    return net[0].weight.abs().sum()


def train_l1_mlp(lam: float, method: str, *, num_epochs: int = 30, hidden: int = 64, lr: float = 0.1,
                 batch_size: int = 32, seed: int = 0, splits: dict | None = None):
    """Train a 64-``hidden``-10 ReLU MLP on the digits with an L1 penalty ``lam * sum |W1|`` on the first
    layer's weights, by plain mini-batch SGD (``torch.optim.SGD(lr=lr)``, torch's defaults otherwise).

    ``method="penalty"`` adds the penalty to the mean cross-entropy and lets autograd differentiate it (the
    subgradient ``lam * sign(W1)``, 0 at 0); ``method="prox"`` steps on the cross-entropy alone and then
    soft-thresholds ``W1`` in place by ``lr * lam`` (torch's ``softshrink``). ``seed`` fixes the
    initialization and the batch order.

    Returns ``(net, history)``; ``history`` has, per epoch, ``val_acc``, ``train_loss`` (mean cross-entropy
    without the penalty), ``zeros`` (entries of ``W1`` exactly 0) and ``dead_pixels`` (inputs whose 64
    outgoing weights are all exactly 0).
    """
    import torch
    from torch import nn

    if method not in ("penalty", "prox"):
        raise ValueError(f"method must be 'penalty' or 'prox', got {method!r}")
    if lam < 0:
        raise ValueError(f"lam must be >= 0, got {lam}")
    if splits is None:
        from coursekit.demos.weight_decay import digits_splits

        splits = digits_splits(n_train=500, n_val=500, seed=0)
    X, y = splits["X_train"], splits["y_train"]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(seed)
        net = nn.Sequential(nn.Linear(X.shape[1], hidden), nn.ReLU(), nn.Linear(hidden, 10))
        opt = torch.optim.SGD(net.parameters(), lr=lr)
        order = torch.Generator().manual_seed(seed)
        history = {"val_acc": [], "train_loss": [], "zeros": [], "dead_pixels": []}
        for _ in range(num_epochs):
            perm = torch.randperm(len(y), generator=order)
            for start in range(0, len(y), batch_size):
                idx = perm[start:start + batch_size]
                loss = nn.functional.cross_entropy(net(X[idx]), y[idx])
                if method == "penalty":
                    loss = loss + lam * first_layer_l1(net)
                opt.zero_grad()
                loss.backward()
                opt.step()
                if method == "prox":
                    with torch.no_grad():
                        net[0].weight.copy_(nn.functional.softshrink(net[0].weight, lr * lam))
            with torch.no_grad():
                W1 = net[0].weight
                history["val_acc"].append(accuracy(net, splits["X_val"], splits["y_val"]))
                history["train_loss"].append(nn.functional.cross_entropy(net(X), y).item())
                history["zeros"].append(int((W1 == 0).sum()))
                history["dead_pixels"].append(int((W1 == 0).all(dim=0).sum()))
    finally:
        torch.set_num_threads(threads)
    return net, {k: np.array(v) for k, v in history.items()}


def accuracy(net, X, y) -> float:
    """Fraction of ``X`` classified correctly."""
    import torch

    with torch.no_grad():
        return float((net(X).argmax(dim=1) == y).float().mean())


def l1_study(seed: int = 0, lambdas=DIGITS_LAMBDAS, n_train: int = 500, n_val: int = 500, **kwargs) -> dict:
    """The chapter's network experiment on one seed: the seed draws the split (``digits_splits``) as well as
    the initialization and batch order. Trains the unpenalized network and both methods on every ``lam`` of
    ``lambdas``; returns ``{"base": row, ("penalty" | "prox", lam): row}``, each row a dict of ``val_acc``,
    ``test_acc``, ``zeros`` (W1 entries exactly 0), ``tiny`` (|W1| < 1e-3), ``dead`` (pixels with no nonzero
    outgoing weight), ``dead_constant`` (those among them constant in the training images, whose
    standardized value is 0 there, so their weights get no gradient), ``dead_varying`` (the others: pixels L1
    removed), ``kept_both_signs`` and ``kept_range`` (largest over smallest |w| of the nonzero W1 entries).
    ``kwargs`` go to :func:`train_l1_mlp`. Also ``"constant_pixels"``: pixels constant in the training images.
    """
    from coursekit.demos.weight_decay import digits_splits

    splits = digits_splits(n_train=n_train, n_val=n_val, seed=seed)
    constant = (splits["X_train"].std(dim=0) == 0).numpy()

    def row(net, history):
        W = net[0].weight.detach()
        dead = (W == 0).all(dim=0).numpy()
        kept = W[W != 0].abs()
        return {"val_acc": float(history["val_acc"][-1]),
                "test_acc": accuracy(net, splits["X_test"], splits["y_test"]),
                "zeros": int((W == 0).sum()), "tiny": int((W.abs() < 1e-3).sum()),
                "dead": int(dead.sum()), "dead_constant": int((dead & constant).sum()),
                "dead_varying": int((dead & ~constant).sum()),
                "kept_both_signs": bool((W[W != 0] > 0).any() and (W[W != 0] < 0).any()),
                "kept_range": float(kept.max() / kept.min()) if kept.numel() else 0.0}

    out = {"base": row(*train_l1_mlp(0.0, "prox", seed=seed, splits=splits, **kwargs)),
           "constant_pixels": int(constant.sum())}
    for method in ("penalty", "prox"):
        for lam in lambdas:
            out[(method, lam)] = row(*train_l1_mlp(lam, method, seed=seed, splits=splits, **kwargs))
    return out
