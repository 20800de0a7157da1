"""Chapter 9 demo: adaptive optimizers moving on 2-D test functions.

Every trajectory is produced by the real ``torch.optim`` classes, so what you
see is exactly what PyTorch does. The computation lives in small pure
functions (:func:`make_optimizer`, :func:`run`, :func:`losses`,
:func:`lr_sweep`); the two entry points only draw:

* :func:`static_figure` returns a matplotlib Figure (used on the website);
* :func:`interactive` returns an ipywidgets widget for Jupyter::

      from coursekit.demos import adaptive_methods
      adaptive_methods.interactive()
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.colors import LogNorm

from coursekit.functions import beale, ill_conditioned_quadratic, rosenbrock, trajectory

__all__ = [
    "TestFunction", "FUNCTIONS", "OPTIMIZERS", "DEFAULT_LR", "make_optimizer",
    "optimizer_factory", "run", "losses", "has_diverged", "lr_sweep",
    "plot_runs", "static_figure", "interactive",
]


@dataclass(frozen=True)
class TestFunction:
    """A 2-D objective together with where to start and what to draw."""

    fn: Callable[[torch.Tensor], torch.Tensor]
    start: tuple[float, float]
    minimum: tuple[float, float]
    xlim: tuple[float, float]
    ylim: tuple[float, float]
    num_steps: int


FUNCTIONS: dict[str, TestFunction] = {
    "ill-conditioned quadratic": TestFunction(
        ill_conditioned_quadratic, start=(-4.0, 1.5), minimum=(0.0, 0.0),
        xlim=(-5.0, 5.0), ylim=(-2.5, 2.5), num_steps=100),
    "Rosenbrock": TestFunction(
        rosenbrock, start=(-1.2, 1.5), minimum=(1.0, 1.0),
        xlim=(-2.0, 2.0), ylim=(-1.0, 3.0), num_steps=500),
    "Beale": TestFunction(
        beale, start=(1.0, 1.5), minimum=(3.0, 0.5),
        xlim=(-0.5, 4.5), ylim=(-1.0, 2.0), num_steps=300),
}

OPTIMIZERS: tuple[str, ...] = (
    "SGD", "SGD+momentum", "Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW",
)

COLORS: dict[str, str] = {
    "SGD": "tab:gray", "SGD+momentum": "tab:brown", "Adagrad": "tab:green",
    "RMSprop": "tab:orange", "Adadelta": "tab:purple", "Adam": "tab:blue",
    "AdamW": "tab:cyan",
}

# Learning rates picked by hand from a coarse log grid (a few per decade) so
# that every method does about as well as it can on each function.
DEFAULT_LR: dict[str, dict[str, float]] = {
    "ill-conditioned quadratic": {
        "SGD": 0.07, "SGD+momentum": 0.01, "Adagrad": 0.5, "RMSprop": 0.03,
        "Adadelta": 1.0, "Adam": 0.1, "AdamW": 0.1},
    "Rosenbrock": {
        "SGD": 2e-3, "SGD+momentum": 1e-3, "Adagrad": 0.1, "RMSprop": 2e-3,
        "Adadelta": 1.0, "Adam": 0.05, "AdamW": 0.05},
    "Beale": {
        "SGD": 0.01, "SGD+momentum": 1e-3, "Adagrad": 0.5, "RMSprop": 0.03,
        "Adadelta": 1.0, "Adam": 0.1, "AdamW": 0.1},
}


def _function(name: str) -> TestFunction:
    try:
        return FUNCTIONS[name]
    except KeyError:
        raise ValueError(f"unknown function {name!r}; choose from {list(FUNCTIONS)}") from None


def make_optimizer(name: str, params, lr: float, beta1: float = 0.9, beta2: float = 0.999,
                   weight_decay: float = 0.01) -> torch.optim.Optimizer:
    """Build the named ``torch.optim`` optimizer.

    ``beta1`` is SGD's ``momentum`` and Adam's first beta; ``beta2`` is Adam's
    second beta, RMSprop's ``alpha`` and Adadelta's ``rho`` (each of them is
    the smoothing constant of a running mean of squared gradients).
    ``weight_decay`` is used by AdamW only.
    """
    if name == "SGD":
        return torch.optim.SGD(params, lr=lr)
    if name == "SGD+momentum":
        return torch.optim.SGD(params, lr=lr, momentum=beta1)
    if name == "Adagrad":
        return torch.optim.Adagrad(params, lr=lr)
    if name == "RMSprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=beta2)
    if name == "Adadelta":
        return torch.optim.Adadelta(params, lr=lr, rho=beta2)
    if name == "Adam":
        return torch.optim.Adam(params, lr=lr, betas=(beta1, beta2))
    if name == "AdamW":
        return torch.optim.AdamW(params, lr=lr, betas=(beta1, beta2), weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer {name!r}; choose from {list(OPTIMIZERS)}")


def optimizer_factory(name: str, lr: float, beta1: float = 0.9, beta2: float = 0.999,
                      weight_decay: float = 0.01):
    """A one-argument factory ``params -> optimizer`` for :func:`coursekit.functions.trajectory`."""
    make_optimizer(name, [torch.zeros(1, requires_grad=True)], lr, beta1, beta2, weight_decay)
    return lambda params: make_optimizer(name, params, lr, beta1, beta2, weight_decay)


def run(function: str, optimizer: str, lr: float | None = None, beta1: float = 0.9,
        beta2: float = 0.999, num_steps: int | None = None, start=None,
        weight_decay: float = 0.01) -> torch.Tensor:
    """The points an optimizer visits: a float64 tensor of shape (num_steps + 1, 2).

    ``lr=None`` uses :data:`DEFAULT_LR`; ``num_steps=None`` and ``start=None``
    use the test function's defaults.
    """
    spec = _function(function)
    lr = DEFAULT_LR[function][optimizer] if lr is None else float(lr)
    num_steps = spec.num_steps if num_steps is None else int(num_steps)
    start = spec.start if start is None else tuple(float(s) for s in start)
    factory = optimizer_factory(optimizer, lr, beta1, beta2, weight_decay)
    return trajectory(spec.fn, factory, start, num_steps=num_steps)


def losses(function: str, path: torch.Tensor) -> torch.Tensor:
    """The objective at every point of ``path`` (shape (n, 2) -> (n,))."""
    with torch.no_grad():
        return _function(function).fn(path.to(torch.float64))


def has_diverged(function: str, path: torch.Tensor) -> bool:
    """True if the run produced non-finite values or ended far above its start."""
    values = losses(function, path)
    if not torch.isfinite(path).all() or not torch.isfinite(values).all():
        return True
    return bool(values[-1] > 100.0 * max(float(values[0]), 1.0))


def lr_sweep(function: str, optimizer: str, lrs: Sequence[float], num_steps: int | None = None,
             beta1: float = 0.9, beta2: float = 0.999) -> np.ndarray:
    """Final objective value after ``num_steps`` for each learning rate (inf if diverged)."""
    out = []
    for lr in lrs:
        path = run(function, optimizer, lr=lr, beta1=beta1, beta2=beta2, num_steps=num_steps)
        out.append(math.inf if has_diverged(function, path) else float(losses(function, path)[-1]))
    return np.array(out)


# ----------------------------------------------------------------------------- drawing

def _contours(ax, function: str, resolution: int = 200) -> None:
    spec = _function(function)
    xs = torch.linspace(*spec.xlim, resolution, dtype=torch.float64)
    ys = torch.linspace(*spec.ylim, resolution, dtype=torch.float64)
    X, Y = torch.meshgrid(xs, ys, indexing="xy")
    with torch.no_grad():
        Z = spec.fn(torch.stack([X, Y], dim=-1)).numpy()
    lo = max(float(Z.min()), 1e-2)
    levels = np.logspace(math.log10(lo), math.log10(float(Z.max())), 16)
    ax.contour(X.numpy(), Y.numpy(), np.maximum(Z, lo), levels=levels, norm=LogNorm(),
               cmap="Greys_r", linewidths=0.7, alpha=0.6)
    ax.plot(*spec.minimum, marker="*", color="gold", markersize=15,
            markeredgecolor="black", zorder=5, linestyle="none", label="minimum")
    ax.plot(*spec.start, marker="o", color="black", markersize=6, zorder=5, linestyle="none")
    ax.set_xlim(*spec.xlim)
    ax.set_ylim(*spec.ylim)
    ax.set_xlabel(r"$\theta_1$")
    ax.set_ylabel(r"$\theta_2$")


def plot_runs(function: str, runs: Mapping[str, torch.Tensor], ax_contour, ax_loss=None,
              labels: Mapping[str, str] | None = None) -> None:
    """Draw trajectories on the contour plot and (optionally) their losses per step."""
    labels = dict(labels or {})
    _contours(ax_contour, function)
    for i, (name, path) in enumerate(runs.items()):
        color = COLORS.get(name.split(" ")[0], None)
        label = labels.get(name, name)
        if has_diverged(function, path):
            label += " (diverged)"
        xy = path.numpy().copy()
        xy[~np.isfinite(xy) | (np.abs(xy) > 1e6)] = np.nan  # exploded runs: stop drawing
        # Earlier runs are drawn wider so that paths lying on top of each other stay visible.
        width = 1.0 + 2.2 * (len(runs) - 1 - i) / max(len(runs) - 1, 1)
        ax_contour.plot(xy[:, 0], xy[:, 1], "-o", color=color, markersize=1.6 + 0.5 * width,
                        linewidth=width, alpha=0.9, label=label)
        if ax_loss is not None:
            values = losses(function, path).numpy().copy()
            values[~np.isfinite(values) | (values > 1e12)] = np.nan
            ax_loss.semilogy(np.arange(len(values)), np.maximum(values, 1e-16), color=color,
                             linewidth=1.5, label=label)
    ax_contour.set_title(function)
    ax_contour.legend(loc="lower right", fontsize=8, framealpha=0.85)
    if ax_loss is not None:
        ax_loss.set_xlabel("step")
        ax_loss.set_ylabel("objective (log scale)")
        ax_loss.grid(True, which="major", alpha=0.3)


def _resolve_lr(function: str, optimizer: str, lr) -> float:
    if lr is None:
        return DEFAULT_LR[function][optimizer]
    if isinstance(lr, Mapping):
        return float(lr.get(optimizer, DEFAULT_LR[function][optimizer]))
    return float(lr)


def static_figure(functions: Sequence[str] = ("ill-conditioned quadratic", "Rosenbrock"),
                  optimizers: Sequence[str] = ("SGD", "SGD+momentum", "Adagrad", "RMSprop", "Adam"),
                  lr: float | Mapping[str, float] | None = None, num_steps: int | None = None,
                  beta1: float = 0.9, beta2: float = 0.999):
    """Trajectories (top row) and objective per step (bottom row), one column per function.

    ``lr`` is ``None`` (each optimizer's tuned :data:`DEFAULT_LR`), one float
    for all, or a dict ``{optimizer: lr}``.
    """
    functions = list(functions)
    if len(functions) == 1:  # one function: trajectories and losses side by side
        fig, row = plt.subplots(1, 2, figsize=(12.0, 5.0))
        panels = [(row[0], row[1])]
    else:
        fig, axes = plt.subplots(2, len(functions), figsize=(6.2 * len(functions), 9.0),
                                 gridspec_kw={"height_ratios": [3, 2]}, squeeze=False)
        panels = [(axes[0, col], axes[1, col]) for col in range(len(functions))]
    for function, (ax_contour, ax_loss) in zip(functions, panels):
        runs, labels = {}, {}
        for name in optimizers:
            rate = _resolve_lr(function, name, lr)
            runs[name] = run(function, name, lr=rate, beta1=beta1, beta2=beta2,
                             num_steps=num_steps)
            labels[name] = f"{name}, lr={rate:g}"
        plot_runs(function, runs, ax_contour, ax_loss, labels=labels)
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- widget

def interactive():
    """An ipywidgets panel: pick a function, optimizers, log10(lr), betas, steps.

    The returned widget carries ``.controls`` (name -> control widget) and
    ``.state`` (``renders``: how many times it has drawn; ``runs``: the last
    trajectories; ``error``: the last error message or ``None``).
    """
    import ipywidgets as widgets
    from IPython.display import display

    style = {"description_width": "110px"}
    layout = widgets.Layout(width="380px")
    controls = {
        "function": widgets.Dropdown(options=list(FUNCTIONS), value="ill-conditioned quadratic",
                                     description="function", style=style, layout=layout),
        "optimizers": widgets.SelectMultiple(options=list(OPTIMIZERS), value=("SGD", "Adam"),
                                             rows=len(OPTIMIZERS), description="optimizers",
                                             style=style, layout=layout),
        "tuned_lr": widgets.Checkbox(value=False, description="use each optimizer's tuned lr",
                                     style=style, layout=layout),
        "log10_lr": widgets.FloatSlider(value=-1.3, min=-4.0, max=0.5, step=0.1,
                                        description="log10(lr)", style=style, layout=layout),
        "beta1": widgets.FloatSlider(value=0.9, min=0.0, max=0.999, step=0.001,
                                     readout_format=".3f", description="β1 / momentum",
                                     style=style, layout=layout),
        "beta2": widgets.FloatSlider(value=0.999, min=0.5, max=0.9999, step=0.0001,
                                     readout_format=".4f", description="β2 / α / ρ",
                                     style=style, layout=layout),
        "weight_decay": widgets.FloatSlider(value=0.01, min=0.0, max=1.0, step=0.01,
                                            description="AdamW decay", style=style, layout=layout),
        "num_steps": widgets.IntSlider(value=200, min=10, max=1000, step=10,
                                       description="steps", style=style, layout=layout),
    }
    help_text = widgets.HTML(
        "<small>β1 is Adam's first beta and SGD's momentum; β2 is Adam's second beta, "
        "RMSprop's <code>alpha</code> and Adadelta's <code>rho</code>. "
        "Every trajectory comes from the real <code>torch.optim</code> class.</small>",
        layout=widgets.Layout(width="380px"))
    out = widgets.Output()
    state = {"renders": 0, "runs": {}, "error": None}

    def render(_change=None):
        c = {k: w.value for k, w in controls.items()}
        function = c["function"]
        runs, labels = {}, {}
        try:
            for name in c["optimizers"]:
                rate = DEFAULT_LR[function][name] if c["tuned_lr"] else 10.0 ** c["log10_lr"]
                runs[name] = run(function, name, lr=rate, beta1=c["beta1"], beta2=c["beta2"],
                                 num_steps=c["num_steps"], weight_decay=c["weight_decay"])
                labels[name] = f"{name}, lr={rate:.3g}"
            fig, (ax_c, ax_l) = plt.subplots(1, 2, figsize=(11.5, 4.8))
            plot_runs(function, runs, ax_c, ax_l, labels=labels)
            fig.tight_layout()
            state["error"] = None
        except Exception as exc:  # show the problem in the panel instead of dying silently
            fig = None
            state["error"] = f"{type(exc).__name__}: {exc}"
        state["runs"] = runs
        state["renders"] += 1
        with out:
            out.clear_output(wait=True)
            if fig is None:
                print(state["error"])
            else:
                display(fig)
                plt.close(fig)

    for w in controls.values():
        w.observe(render, names="value")
    panel = widgets.VBox([controls[k] for k in controls] + [help_text])
    box = widgets.HBox([panel, out])
    box.controls = controls
    box.state = state
    render()
    return box
