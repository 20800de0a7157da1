"""Chapter 2 demo: ridge regression (L2 / weight decay) on a degree-12 polynomial.

Thirty noisy samples of ``sin(pi x)`` are fitted with the features
``x, x**2, ..., x**degree`` and the objective used throughout the course,

    J(w, b) = 1/(2n) * sum_i (x_i @ w + b - y_i)**2 + lam/2 * ||w||**2,

with the intercept ``b`` not penalized. scikit-learn's ``Ridge`` minimizes
``||y - X w - b||**2 + alpha * ||w||**2`` (a *summed* loss, no 1/2), so the
same minimizer is ``Ridge(alpha=n * lam)``. Every fit below is done that way.

* ``static_figure()`` draws the figure shown on the website.
* ``interactive()`` returns an ipywidgets widget with sliders for
  ``log10(lam)`` and the polynomial degree.

The small functions (``make_splits``, ``ridge_model``, ``sweep``,
``fit_curve``) hold all of the computation so they can be tested on their own.
"""

from __future__ import annotations

import io

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter, ScalarFormatter
from sklearn.linear_model import Ridge

from coursekit.data import make_polynomial_regression, polynomial_features, train_val_test_split

#: Noise standard deviation of the synthetic data.
NOISE = 0.3
#: Samples drawn in total; a third each for training, validation and test.
N_SAMPLES = 90
#: The lambda grid of the sweep (lambda >= 0 has no upper bound; search on a log scale).
LAMBDAS = np.logspace(-6, 2, 41)
#: The three lambdas shown in the static figure: too small, about right, too large.
SHOWCASE_LAMBDAS = (1e-6, 1e-4, 1e-1)


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
    x_grid = np.linspace(-1.0, 1.0, 400) if x_grid is None else np.asarray(x_grid, dtype=float)
    model = ridge_model(lam, degree, seed)
    return x_grid, model.predict(polynomial_features(x_grid, degree))


# --------------------------------------------------------------------------- drawing

_FIT_COLORS = ("tab:red", "tab:green", "tab:purple")


def _draw_data(ax, degree: int, seed: int) -> None:
    (Phi_train, y_train), (Phi_val, y_val), _ = make_splits(degree, seed)
    grid = np.linspace(-1.0, 1.0, 400)
    ax.plot(grid, true_function(grid), "k--", lw=1, label=r"truth $\sin(\pi x)$")
    ax.plot(Phi_train[:, 0], y_train, "o", color="tab:blue", ms=4, label="training data")
    ax.plot(Phi_val[:, 0], y_val, "o", mfc="none", color="tab:orange", ms=4, label="validation data")
    ax.set_xlim(-1.05, 1.05)
    ax.set_ylim(-2.0, 2.0)
    ax.set_xlabel("$x$")
    ax.set_ylabel("$y$")


def _draw_norm(ax, result: dict) -> None:
    ax.loglog(result["lams"], result["coef_norm"], color="tab:gray")
    ax.set_xlabel(r"$\lambda$ (log scale)")
    ax.set_ylabel(r"$\Vert w\Vert_2$")
    ax.set_title(r"Norm of the weights")
    ax.grid(True, which="major", alpha=0.3)


def _draw_errors(ax, result: dict) -> None:
    ax.loglog(result["lams"], result["train_mse"], color="tab:blue", label="training")
    ax.loglog(result["lams"], result["val_mse"], color="tab:orange", label="validation")
    ax.axhline(NOISE ** 2, color="k", ls=":", lw=1, label=r"noise variance $\sigma^2$")
    ax.set_xlabel(r"$\lambda$ (log scale)")
    ax.set_ylabel("mean squared error")
    ax.set_title("Training vs validation error")
    ax.set_yticks([0.05, 0.1, 0.2, 0.5, 1.0])
    ax.yaxis.set_major_formatter(ScalarFormatter())
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_ylim(0.04, 1.2)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")


def static_figure(lams=SHOWCASE_LAMBDAS, degree: int = 12, seed: int = 0) -> Figure:
    """Three panels: ridge fits for a few lambdas, ``||w||`` vs lambda, and errors vs lambda.

    The lambdas in ``lams`` are drawn as fitted curves in the first panel and
    marked with the same colours in the other two.
    """
    lams = tuple(lams)
    if not 1 <= len(lams) <= len(_FIT_COLORS):
        raise ValueError(f"pass between 1 and {len(_FIT_COLORS)} lambdas, got {len(lams)}")
    result = sweep(degree=degree, seed=seed)
    marks = sweep(lams, degree=degree, seed=seed)

    fig = Figure(figsize=(13, 4), layout="constrained")
    ax_fit, ax_norm, ax_err = fig.subplots(1, 3)
    _draw_data(ax_fit, degree, seed)
    for lam, color in zip(lams, _FIT_COLORS):
        grid, y_hat = fit_curve(lam, degree, seed)
        ax_fit.plot(grid, y_hat, color=color, lw=2, label=rf"ridge, $\lambda$ = {lam:g}")
    ax_fit.set_title(f"Degree-{degree} polynomial fits")
    ax_fit.legend(fontsize=8, loc="lower right")

    _draw_norm(ax_norm, result)
    _draw_errors(ax_err, result)
    for i, (lam, color) in enumerate(zip(lams, _FIT_COLORS)):
        ax_norm.plot(lam, marks["coef_norm"][i], "o", color=color, ms=8)
        ax_err.axvline(lam, color=color, lw=1.5, alpha=0.7)
    return fig


# --------------------------------------------------------------------------- widget

def _figure_png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)
    return buf.getvalue()


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
                value=-4.0, min=-8.0, max=2.0, step=0.1, description="log10 λ",
                continuous_update=False, readout_format=".1f")
            self.degree = widgets.IntSlider(
                value=12, min=1, max=15, step=1, description="degree",
                continuous_update=False)
            self.image = widgets.Image(format="png")
            self.summary = widgets.HTML()
            self.state: dict = {}
            self._sweep_cache: dict = {}
            self._fig = Figure(figsize=(13, 4), layout="constrained")
            super().__init__([widgets.HBox([self.log_lambda, self.degree]),
                              self.summary, self.image])
            self.log_lambda.observe(self._update, names="value")
            self.degree.observe(self._update, names="value")
            self._update()

        def _sweep(self, degree: int) -> dict:
            if degree not in self._sweep_cache:
                self._sweep_cache[degree] = sweep(np.logspace(-8, 2, 51), degree=degree)
            return self._sweep_cache[degree]

        def _update(self, change=None):
            lam = 10.0 ** self.log_lambda.value
            degree = int(self.degree.value)
            result = self._sweep(degree)
            here = sweep([lam], degree=degree)
            grid, y_hat = fit_curve(lam, degree)

            fig = self._fig
            fig.clear()
            ax_fit, ax_norm, ax_err = fig.subplots(1, 3)
            _draw_data(ax_fit, degree, 0)
            ax_fit.plot(grid, y_hat, color="tab:red", lw=2, label="ridge fit")
            ax_fit.set_title(rf"Degree {degree}, $\lambda$ = {lam:.2g}")
            ax_fit.legend(fontsize=8, loc="lower right")
            _draw_norm(ax_norm, result)
            ax_norm.plot(lam, here["coef_norm"][0], "o", color="tab:red", ms=8)
            _draw_errors(ax_err, result)
            ax_err.axvline(lam, color="tab:red", lw=1.5)
            self.image.value = _figure_png(fig)

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
