"""Chapter 1 demo: capacity, bias and variance of least-squares polynomials; and the chapter's experiments.

Twenty-five noisy samples of ``sin(pi x)`` at fixed inputs are fitted by least-squares polynomials of degree
0 to 12. Least squares is linear in the targets: the predictions on a grid are ``S @ y`` with the matrix
``S = V_grid @ pinv(V_train)``. So the bias and the variance of the fit have closed forms, with no
simulation:

    bias²    = mean over x in [-1, 1] of (S f - f(x))²,
    variance = sigma² * mean over x in [-1, 1] of (sum of the squares of the row of S at x),

both integrated exactly by Gauss-Legendre quadrature,
and the expected error on a fresh target is bias² + variance + sigma². At the training inputs
(``S = H``, the hat matrix, of trace p) the expected training error is
``mean((H f - f)²) + sigma² (n - p) / n``.

* ``demo_figure(degree)`` draws one frame: twenty fits from twenty noise draws with their mean (left), and
  the decomposition against the degree with the current degree marked (right).
* ``site_demo()`` precomputes a frame per degree (the website's slider); ``interactive()`` is the live
  ipywidgets version for Jupyter, with a slider for the number of training points too.

The chapter's network experiments live here as well: ``digits_splits`` and ``train_mlp`` train a small MLP
on scikit-learn's bundled digits (never downloaded), with true or shuffled labels; ``random_feature_errors``
runs minimum-norm least squares on random ReLU features of the digits (double descent).
"""

from __future__ import annotations

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from coursekit.demos.slider import png_bytes

#: Noise standard deviation of the targets.
NOISE = 0.3
#: Training points of the demo (fixed inputs; the noise is what is redrawn).
N_TRAIN = 25
#: The degrees of the website's slider (13 frames).
DEGREES = tuple(range(0, 13))
#: Fits drawn in the left panel.
NUM_FITS = 20
FIGSIZE = (7.5, 3.9)
FONT_SIZE = 11
GRID = np.linspace(-1.0, 1.0, 201)
#: Gauss-Legendre nodes on [-1, 1] and weights summing to 1: ``QUAD_WEIGHTS @ g(QUAD_NODES)`` is the mean of ``g``
#: over the interval, exact for polynomials up to degree 127 and to machine precision for the smooth
#: ``(fit - sin(pi x))**2``. (A mean over ``GRID`` overweights the ends, where high degrees swing most.)
QUAD_NODES, QUAD_WEIGHTS = np.polynomial.legendre.leggauss(64)
QUAD_WEIGHTS = QUAD_WEIGHTS / 2.0


def true_function(x):
    """The noiseless target, ``sin(pi x)``."""
    return np.sin(np.pi * np.asarray(x, dtype=float))


def training_inputs(n: int = N_TRAIN, seed: int = 0):
    """The fixed training inputs: ``n`` sorted uniform draws on [-1, 1]."""
    return np.sort(np.random.default_rng(seed).uniform(-1.0, 1.0, n))


def smoother(degree: int, x_train, x_eval):
    """The matrix ``S`` with ``S @ y`` = the least-squares polynomial of ``degree`` through
    ``(x_train, y)``, evaluated at ``x_eval`` (minimum-norm coefficients when the degree is too high)."""
    if degree < 0:
        raise ValueError(f"degree must be >= 0, got {degree}")
    V = np.vander(np.asarray(x_train, dtype=float), degree + 1, increasing=True)
    W = np.vander(np.asarray(x_eval, dtype=float), degree + 1, increasing=True)
    return W @ np.linalg.pinv(V)


def decomposition(degrees=DEGREES, n: int = N_TRAIN, noise: float = NOISE, seed: int = 0) -> dict:
    """Closed-form curves against the degree, as arrays aligned with ``degrees``: ``bias2``, ``variance``,
    ``test`` (= bias2 + variance + noise²) averaged over x uniform on [-1, 1] (integrated exactly by
    Gauss-Legendre quadrature), and ``train``, the expected training error at the ``n`` training inputs."""
    x = training_inputs(n, seed)
    f, f_quad = true_function(x), true_function(QUAD_NODES)
    out = {k: [] for k in ("bias2", "variance", "test", "train")}
    for d in degrees:
        S, H = smoother(d, x, QUAD_NODES), smoother(d, x, x)
        bias2 = QUAD_WEIGHTS @ (S @ f - f_quad) ** 2
        variance = noise ** 2 * QUAD_WEIGHTS @ np.sum(S ** 2, axis=1)
        out["bias2"].append(bias2)
        out["variance"].append(variance)
        out["test"].append(bias2 + variance + noise ** 2)
        out["train"].append(np.mean((H @ f - f) ** 2) + noise ** 2 * (n - np.trace(H)) / n)
    return {"degrees": np.array(list(degrees)), **{k: np.array(v) for k, v in out.items()}}


def sample_fits(degree: int, n: int = N_TRAIN, noise: float = NOISE, num_fits: int = NUM_FITS, seed: int = 0):
    """``num_fits`` training sets (same inputs, fresh noise): returns ``(x, Y, fits)`` with ``Y`` their targets
    (num_fits, n) and ``fits`` the fitted curves on ``GRID`` (num_fits, len(GRID))."""
    x = training_inputs(n, seed)
    rng = np.random.default_rng(seed + 1)
    Y = true_function(x) + noise * rng.standard_normal((num_fits, n))
    return x, Y, Y @ smoother(degree, x, GRID).T


# --------------------------------------------------------------------------- drawing

def _fill(fig: Figure, degree: int, n: int, result: dict) -> None:
    ax_fit, ax_err = fig.subplots(1, 2)
    x, Y, fits = sample_fits(degree, n)
    for i, curve in enumerate(fits):
        ax_fit.plot(GRID, curve, color="tab:blue", lw=0.7, alpha=0.35,
                    label=f"{NUM_FITS} fits, fresh noise" if i == 0 else None)
    expected = smoother(degree, x, GRID) @ true_function(x)      # the mean over infinitely many noise draws
    ax_fit.plot(GRID, expected, color="tab:red", lw=2, label="expected fit")
    ax_fit.plot(GRID, true_function(GRID), "k--", lw=1.2, label=r"truth $\sin(\pi x)$")
    ax_fit.plot(x, Y[0], "o", color="k", ms=3.5, label="one training set")
    ax_fit.set(xlim=(-1.05, 1.05), ylim=(-2.0, 2.0), xlabel="$x$", ylabel="$y$",
               title=f"degree {degree}, n = {n}")
    d = result["degrees"]
    ax_err.semilogy(d, result["test"], color="tab:purple", lw=2, label="test error")
    ax_err.semilogy(d, result["train"], color="tab:green", lw=2, label="training error")
    ax_err.semilogy(d, result["bias2"], color="tab:red", ls="--", label="bias²")
    ax_err.semilogy(d, result["variance"], color="tab:blue", ls="--", label="variance")
    ax_err.axhline(NOISE ** 2, color="k", ls=":", lw=1, label="noise σ²")
    i = int(np.flatnonzero(d == degree)[0]) if degree in d else None
    ax_err.axvline(degree, color="0.3", lw=1)
    if i is not None:
        ax_err.plot([degree] * 2, [result["test"][i], result["train"][i]], "o", color="0.2", ms=5)
    ax_err.set(xlabel="degree (capacity)", ylabel="expected squared error", ylim=(1e-4, 20.0),
               title="Errors (exact, not simulated)")
    ax_err.grid(True, which="major", alpha=0.3)
    for ax in (ax_fit, ax_err):
        ax.tick_params(labelsize=FONT_SIZE - 1, which="both")
    handles = ax_fit.get_legend_handles_labels()[0] + ax_err.get_legend_handles_labels()[0]
    fig.legend(handles=handles, loc="outside lower center", ncol=5, frameon=False, fontsize=FONT_SIZE - 1,
               columnspacing=1.0, handlelength=1.5)


def demo_figure(degree: int = 3, n: int = N_TRAIN, result: dict | None = None) -> Figure:
    """One frame: the fits at ``degree`` (left) and the decomposition over all degrees (right)."""
    result = decomposition(DEGREES, n) if result is None else result
    with matplotlib.rc_context({"font.size": FONT_SIZE}):
        fig = Figure(figsize=FIGSIZE, layout="constrained")
        _fill(fig, int(degree), n, result)
    return fig


def site_demo(initial: int = 0):
    """The website's demo: a slider over ``DEGREES``, every frame drawn now."""
    from coursekit.demos.slider import figure_slider

    result = decomposition(DEGREES)
    return figure_slider(
        lambda degree: demo_figure(degree, result=result), {"degree": list(DEGREES)},
        labels={"degree": "degree"}, formats={"degree": "d"}, initial={"degree": initial},
        caption=("Move the slider from degree 0 to 12. Left: twenty least-squares fits, each to the same 25 "
                 "inputs with fresh noise (blue), their expectation (red) and the truth (dashed). Right: the exact "
                 "expected errors against the degree, the current one marked. Low degrees miss the curve the "
                 "same way every time (bias); high degrees follow each noise draw (variance)."),
        alt=("Two panels. Left: twenty polynomial fits to noisy samples of a sine curve, with their mean and "
             "the true curve. Right: bias squared falling and variance rising with the degree on a log axis, "
             "the test error U-shaped above the noise level and the training error falling below it."))


# --------------------------------------------------------------------------- widget

def interactive():
    """A live version: sliders for the degree and the number of training points. Returns an ipywidgets
    ``VBox`` with attributes ``degree``, ``n_train``, ``image`` and ``summary``; ``state`` holds the numbers
    behind the current picture."""
    import ipywidgets as widgets

    class GeneralizationDemo(widgets.VBox):
        def __init__(self):
            self.degree = widgets.IntSlider(value=3, min=0, max=12, description="degree",
                                            continuous_update=False)
            self.n_train = widgets.IntSlider(value=N_TRAIN, min=15, max=200, step=5, description="n",
                                             continuous_update=False)
            self.image = widgets.Image(format="png")
            self.summary = widgets.HTML()
            self.state = {}
            super().__init__([widgets.HBox([self.degree, self.n_train]), self.image, self.summary])
            self.degree.observe(self._update, names="value")
            self.n_train.observe(self._update, names="value")
            self._update()

        def _update(self, *_):
            d, n = self.degree.value, self.n_train.value
            result = decomposition(DEGREES, n)
            i = int(np.flatnonzero(result["degrees"] == d)[0])
            self.state = {"degree": d, "n": n, **{k: float(result[k][i])
                                                 for k in ("bias2", "variance", "test", "train")}}
            self.image.value = png_bytes(demo_figure(d, n, result))
            s = self.state
            self.summary.value = (f"degree {d}, n = {n}: bias² {s['bias2']:.4f}, variance {s['variance']:.4f}, "
                                  f"expected test error {s['test']:.4f}, training error {s['train']:.4f}")

    return GeneralizationDemo()


# --------------------------------------------------------------------------- the network experiments

def digits_splits(n_train: int = 300, n_val: int = 500, seed: int = 0) -> dict:
    """scikit-learn's bundled 8x8 digits, shuffled once and split into ``n_train`` training, ``n_val``
    validation and the remaining test images; pixels standardized with the training statistics. Tensors:
    ``X_*`` float32 (rows of 64), ``y_*`` int64."""
    import torch
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    if n_train + n_val >= len(y):
        raise ValueError(f"n_train + n_val must be below {len(y)}")
    perm = np.random.default_rng(seed).permutation(len(y))
    parts = np.split(perm, [n_train, n_train + n_val])
    mean, std = X[parts[0]].mean(axis=0), X[parts[0]].std(axis=0)
    std[std == 0] = 1.0
    Z = (X - mean) / std
    out = {}
    for name, idx in zip(("train", "val", "test"), parts):
        out[f"X_{name}"] = torch.tensor(Z[idx], dtype=torch.float32)
        out[f"y_{name}"] = torch.tensor(y[idx], dtype=torch.int64)
    return out


def shuffled_labels(y, seed: int = 1):
    """``y`` permuted: every label still occurs as often, but no longer belongs to its image."""
    import torch

    return y[torch.randperm(len(y), generator=torch.Generator().manual_seed(seed))]


def train_mlp(width: int, splits: dict, num_epochs: int = 100, y_train=None, batch_size: int = 50,
              seed: int = 0):
    """An MLP 64 -> ``width`` (ReLU) -> 10 trained with ``torch.optim.Adam`` at its defaults (lr 1e-3) on the
    mean cross-entropy, mini-batches of ``batch_size`` in a seeded order. ``y_train`` replaces the training
    labels (e.g. :func:`shuffled_labels`). Returns ``(net, history)``; ``history`` holds per epoch
    ``train_loss``, ``train_acc`` (on the labels trained on), ``val_loss`` and ``val_acc``."""
    import torch
    from torch import nn

    X_train, X_val, y_val = splits["X_train"], splits["X_val"], splits["y_val"]
    y_train = splits["y_train"] if y_train is None else y_train
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matrices: one thread is faster
    try:
        torch.manual_seed(seed)
        net = nn.Sequential(nn.Linear(X_train.shape[1], width), nn.ReLU(), nn.Linear(width, 10))
        opt = torch.optim.Adam(net.parameters())
        loss_fn = nn.CrossEntropyLoss()
        order = torch.Generator().manual_seed(seed)
        history = {k: [] for k in ("train_loss", "train_acc", "val_loss", "val_acc")}
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
    finally:
        torch.set_num_threads(threads)
    return net, {k: np.array(v) for k, v in history.items()}


def random_feature_errors(num_features, n_train: int = 100, n_test: int = 1000, num_draws: int = 5,
                          seed: int = 0, draw_seed: int = 1000) -> dict:
    """Double descent: minimum-norm least squares from random ReLU features ``max(0, x @ W)`` of the digits
    (``W`` Gaussian, 64 x p) to one-hot labels, for every ``p`` in ``num_features``, averaged over
    ``num_draws`` draws of ``W`` (seeded ``draw_seed``, ``draw_seed + 1``, ...; ``seed`` shuffles the split).
    Returns arrays aligned with ``num_features``: ``test_error`` (fraction
    misclassified), ``test_mse`` (squared distance to the one-hot vector), ``train_mse`` and ``norm`` (of the
    coefficients)."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    perm = np.random.default_rng(seed).permutation(len(y))
    tr, te = perm[:n_train], perm[n_train:n_train + n_test]
    mean, std = X[tr].mean(axis=0), X[tr].std(axis=0)
    std[std == 0] = 1.0
    Z = (X - mean) / std
    Y = np.eye(10)[y]
    out = {k: [] for k in ("test_error", "test_mse", "train_mse", "norm")}
    for p in num_features:
        rows = []
        for draw in range(num_draws):
            W = np.random.default_rng(draw_seed + draw).standard_normal((64, int(p))) / 8.0
            F_tr, F_te = np.maximum(Z[tr] @ W, 0.0), np.maximum(Z[te] @ W, 0.0)
            B = np.linalg.pinv(F_tr) @ Y[tr]          # the minimum-norm least-squares coefficients
            P = F_te @ B
            rows.append((np.mean(P.argmax(axis=1) != y[te]), np.mean(np.sum((P - Y[te]) ** 2, axis=1)),
                         np.mean(np.sum((F_tr @ B - Y[tr]) ** 2, axis=1)), np.linalg.norm(B)))
        for key, value in zip(out, np.mean(rows, axis=0)):
            out[key].append(value)
    return {"num_features": np.asarray(num_features), **{k: np.array(v) for k, v in out.items()}}
