"""Chapter 11 demo and experiments: hyperparameter tuning.

* :func:`toy_scores` is a cheap stand-in for a training run: training, validation and test losses of a
  configuration ``{"lr": ..., "weight_decay": ...}`` where the learning rate matters a lot and weight decay
  hardly at all (the situation of Bergstra & Bengio's argument). The exercise's written answer uses it too.
* :func:`frame` draws the demo: a grid and a random search with the same number of trials on that landscape,
  with each trial projected onto the learning-rate axis; :func:`site_demo` precomputes it for the website's
  slider, :func:`interactive` recomputes it in Jupyter.
* :class:`TorchMLPClassifier` is a small PyTorch MLP for scikit-learn's digits wrapped as a scikit-learn
  estimator, so that scikit-learn's ``GridSearchCV``, ``RandomizedSearchCV`` and ``HalvingRandomSearchCV`` can
  tune it with :func:`validation_split` (one fixed training/validation split instead of cross-validation).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure

from .slider import png_bytes

FIGSIZE = (8.0, 3.6)
LR_RANGE = (1e-5, 1.0)
WD_RANGE = (1e-6, 1e-2)
DEMO_TRIALS = (4, 9, 16, 25, 36)
DEMO_SEEDS = (0, 1, 2, 3)
BEST_LOG_LR = -1.3   # where the toy's validation loss is smallest


# ---------------------------------------------------------------- a toy landscape
def _toy_val(x, z):
    """The toy's validation loss at log10(lr) = x and log10(weight_decay) = z (arrays welcome)."""
    return 0.08 + 0.06 * (x - BEST_LOG_LR) ** 2 + 0.002 * (z + 4.0) ** 2


def toy_scores(config) -> dict:
    """Losses of a toy 'training run' at ``config["lr"]`` and ``config["weight_decay"]`` (both > 0).

    The validation loss is a narrow valley in log10(lr) and almost flat in log10(weight_decay); the test loss
    is the validation loss plus a small wobble (a finite test set), the training loss is lower than both.
    """
    x, z = np.log10(config["lr"]), np.log10(config["weight_decay"])
    val = _toy_val(x, z)
    test = val + 0.01 * (1 + np.sin(7.0 * x + 3.0 * z))
    train = 0.6 * val - 0.02 * (x - BEST_LOG_LR)
    return {"train": float(train), "val": float(val), "test": float(test)}


def grid_points(n_per_axis: int):
    """The grid's trials: ``n_per_axis`` values of each hyperparameter, evenly spaced in log10, ends included."""
    lrs, wds = np.geomspace(*LR_RANGE, n_per_axis), np.geomspace(*WD_RANGE, n_per_axis)
    return [{"lr": float(a), "weight_decay": float(b)} for a in lrs for b in wds]


def random_points(n_trials: int, seed: int):
    """``n_trials`` configurations drawn log-uniformly with scipy.stats.loguniform."""
    from scipy.stats import loguniform

    rng = np.random.default_rng(seed)
    lrs = loguniform(*LR_RANGE).rvs(size=n_trials, random_state=rng)
    wds = loguniform(*WD_RANGE).rvs(size=n_trials, random_state=rng)
    return [{"lr": float(a), "weight_decay": float(b)} for a, b in zip(lrs, wds)]


def frame(n_trials: int = 9, seed: int = 0, fig=None):
    """Grid (left) and random search (right) with ``n_trials`` trials on the toy landscape."""
    fig = fig or Figure(figsize=FIGSIZE, layout="constrained")
    fig.clear()
    axes = fig.subplots(1, 2, sharey=True)
    side = int(round(np.sqrt(n_trials)))
    searches = {f"grid ({side} × {side})": grid_points(side), f"random ({n_trials} trials)": random_points(n_trials,
                                                                                                          seed)}
    xs = np.linspace(np.log10(LR_RANGE[0]), np.log10(LR_RANGE[1]), 121)
    zs = np.linspace(np.log10(WD_RANGE[0]), np.log10(WD_RANGE[1]), 81)
    X, Z = np.meshgrid(xs, zs)
    xs_pad = np.linspace(xs[0] - 0.3, xs[-1] + 0.3, 121)
    zs_pad = np.linspace(zs[0] - 0.3, zs[-1] + 0.3, 81)
    X, Z = np.meshgrid(xs_pad, zs_pad)
    V = _toy_val(X, Z)
    for ax, (name, points) in zip(axes, searches.items()):
        ax.contourf(X, Z, V, levels=np.geomspace(0.08, 1.6, 14), cmap="Blues_r", extend="max")
        lx = np.log10([p["lr"] for p in points])
        lz = np.log10([p["weight_decay"] for p in points])
        vals = [toy_scores(p)["val"] for p in points]
        ax.plot(lx, lz, "o", color="#d62728", ms=5)
        ax.plot(lx, np.full_like(lx, zs[0] - 0.2), "|", color="black", ms=14, mew=1.5, clip_on=False)  # the projection
        k = int(np.argmin(vals))
        ax.plot(lx[k], lz[k], "*", color="gold", mec="black", ms=14)
        ax.axvline(BEST_LOG_LR, color="white", ls="--", lw=1.2)
        ax.set_xlim(xs[0] - 0.25, xs[-1] + 0.25)
        ax.set_ylim(zs[0] - 0.2, zs[-1] + 0.2)
        ax.set_title(f"{name}\nbest val loss {min(vals):.3f}, {len(set(np.round(lx, 9)))} distinct lr",
                     fontsize=11)
        ax.set_xlabel("log10 lr", fontsize=11)
        ax.tick_params(labelsize=10)
    axes[0].set_ylabel("log10 weight_decay", fontsize=11)
    return fig


def site_demo(trials: Sequence[int] = DEMO_TRIALS, seeds: Sequence[int] = DEMO_SEEDS):
    """The website's demo: sliders over the number of trials and the random search's seed."""
    from coursekit.demos.slider import figure_slider

    return figure_slider(
        lambda n_trials, seed: frame(n_trials, seed), {"n_trials": list(trials), "seed": list(seeds)},
        labels={"n_trials": "number of trials", "seed": "seed of the random search"},
        initial={"n_trials": 9 if 9 in trials else trials[0], "seed": seeds[0]},
        caption=("Move the number of trials, then the seed. The shading is the validation loss of a toy problem "
                 "(darker is better): it depends strongly on the learning rate and hardly on weight decay; the "
                 "dashed line marks the best rate. Black ticks at the bottom project each trial onto the "
                 "learning-rate axis, the star is the best trial. With the same budget, the grid tries only "
                 "√n learning rates, random search n of them."),
        alt=("Two contour plots of a validation loss over log10 learning rate and log10 weight decay, with the "
             "trials of a grid search on the left and of a random search on the right as red dots, their "
             "projections on the learning-rate axis as ticks, and the best trial as a star"))


def interactive():
    """A live version for Jupyter: the number of trials and the seed of the random search."""
    import ipywidgets as widgets

    n_trials = widgets.IntSlider(value=9, min=4, max=64, step=1, description="trials", continuous_update=False)
    seed = widgets.IntSlider(value=0, min=0, max=20, description="seed", continuous_update=False)
    image = widgets.Image(format="png")
    box = widgets.VBox([widgets.HBox([n_trials, seed]), image])
    box.state = {"renders": 0}
    fig = Figure(figsize=FIGSIZE, layout="constrained")

    def render(_change=None):
        frame(n_trials.value, seed.value, fig=fig)
        image.value = png_bytes(fig)
        box.state["renders"] += 1

    for w in (n_trials, seed):
        w.observe(render, names="value")
    box.controls = {"n_trials": n_trials, "seed": seed}
    render()
    return box


# ---------------------------------------------------------------- the digits experiments
def digits_splits(seed: int = 0):
    """scikit-learn's digits scaled to [0, 1], split 60/20/20 (stratified) into training, validation and test
    sets: ``(X_train, y_train), (X_val, y_val), (X_test, y_test)`` as numpy arrays."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    X_rest, X_test, y_rest, y_test = train_test_split(X, y, test_size=0.2, random_state=seed, stratify=y)
    X_train, X_val, y_train, y_val = train_test_split(X_rest, y_rest, test_size=0.25, random_state=seed,
                                                      stratify=y_rest)
    return (X_train, y_train), (X_val, y_val), (X_test, y_test)


def validation_split(n_train: int, n_val: int):
    """A scikit-learn ``cv`` that trains on the first ``n_train`` rows and validates on the next ``n_val``."""
    from sklearn.model_selection import PredefinedSplit

    return PredefinedSplit(np.r_[np.full(n_train, -1), np.zeros(n_val, dtype=int)])


try:
    from sklearn.base import BaseEstimator, ClassifierMixin
except ImportError:  # pragma: no cover - scikit-learn is a dependency of coursekit
    BaseEstimator, ClassifierMixin = object, object


class TorchMLPClassifier(ClassifierMixin, BaseEstimator):
    """A one-hidden-layer ReLU MLP trained full-batch with ``torch.optim.Adam``, as a scikit-learn estimator.

    Every hyperparameter is a constructor argument (scikit-learn clones the estimator with ``get_params``), and
    ``fit`` starts from a fresh network seeded with ``seed``, so a search can set ``num_epochs`` per trial.
    """

    def __init__(self, lr=1e-3, weight_decay=0.0, beta1=0.9, hidden=64, num_epochs=50, seed=0):
        self.lr, self.weight_decay, self.beta1 = lr, weight_decay, beta1
        self.hidden, self.num_epochs, self.seed = hidden, num_epochs, seed

    def fit(self, X, y):
        torch.manual_seed(self.seed)
        X, y = torch.as_tensor(np.asarray(X), dtype=torch.float32), torch.as_tensor(np.asarray(y))
        self.classes_ = np.unique(y.numpy())
        self.net_ = torch.nn.Sequential(torch.nn.Linear(X.shape[1], self.hidden), torch.nn.ReLU(),
                                        torch.nn.Linear(self.hidden, len(self.classes_)))
        opt = torch.optim.Adam(self.net_.parameters(), lr=self.lr, weight_decay=self.weight_decay,
                               betas=(self.beta1, 0.999))
        for _ in range(int(self.num_epochs)):
            opt.zero_grad()
            F.cross_entropy(self.net_(X), y).backward()
            opt.step()
        return self

    def predict_proba(self, X):
        with torch.no_grad():
            logits = self.net_(torch.as_tensor(np.asarray(X), dtype=torch.float32))
            p = torch.softmax(logits.double(), dim=1).numpy()
        return np.nan_to_num(p, nan=1.0 / len(self.classes_))

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
