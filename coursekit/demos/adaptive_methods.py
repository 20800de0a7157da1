"""Chapter 9 demo: adaptive optimizers moving on 2-D test functions.

Every trajectory is produced by the real ``torch.optim`` classes, with torch's
default hyperparameters unless a caller overrides them by their torch names
(``alpha=0.9`` for RMSprop, ``betas=(0.0, 0.999)`` for Adam, ...). The one
exception is "SGD+momentum", which is ``torch.optim.SGD`` with
``momentum=0.9`` (torch's default momentum is 0, which is plain "SGD").

Comparisons are fair: :func:`best_run` tries one shared log grid of learning
rates (:data:`LR_GRID`) and keeps the rate with the lowest objective at the
end. The computation lives in small functions (:func:`make_optimizer`,
:func:`run`, :func:`run_grid`, :func:`best_run`); the drawing functions only
draw:

* :func:`comparison_figure` and :func:`sweep_figure` are the chapter's figures;
* :func:`site_demo` is the demo on the website: a slider over the learning rate
  and the problem, with frames drawn at build time;
* :func:`interactive` is the live ipywidgets version for Jupyter::

      from coursekit.demos import adaptive_methods
      adaptive_methods.interactive()
"""

from __future__ import annotations

import functools
import inspect
import math
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import numpy as np
import torch
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from coursekit.demos.slider import png_bytes
from coursekit.functions import (beale, ill_conditioned_quadratic, rosenbrock, rotated_quadratic,
                                 trajectory)

__all__ = [
    "TestFunction", "FUNCTIONS", "OPTIMIZERS", "LR_GRID", "COLORS", "make_optimizer",
    "optimizer_factory", "run", "run_grid", "losses", "diverged", "has_diverged", "lr_sweep", "Sweep",
    "best_run", "best_lr", "describe", "draw_paths", "draw_objective", "comparison_figure",
    "sweep_figure", "DEMO_OPTIMIZERS", "DEMO_LRS", "frame", "site_demo", "interactive",
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


def _rotate(point, degrees):
    a = math.radians(degrees)
    x, y = point
    return (math.cos(a) * x - math.sin(a) * y, math.sin(a) * x + math.cos(a) * y)


FUNCTIONS: dict[str, TestFunction] = {
    "ill-conditioned quadratic": TestFunction(
        ill_conditioned_quadratic, start=(-4.0, 1.5), minimum=(0.0, 0.0),
        xlim=(-5.0, 5.0), ylim=(-2.5, 2.5), num_steps=100),
    # The same quadratic turned by 45 degrees, started from the turned start point:
    # plain gradient descent and momentum visit the turned points of the run above.
    "rotated quadratic": TestFunction(
        rotated_quadratic, start=_rotate((-4.0, 1.5), 45.0), minimum=(0.0, 0.0),
        xlim=(-5.0, 3.0), ylim=(-5.0, 3.0), num_steps=100),
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

#: The torch class behind each name and the settings that differ from torch's defaults.
_TORCH: dict[str, tuple[type, dict]] = {
    "SGD": (torch.optim.SGD, {}),
    "SGD+momentum": (torch.optim.SGD, {"momentum": 0.9}),
    "Adagrad": (torch.optim.Adagrad, {}),
    "RMSprop": (torch.optim.RMSprop, {}),
    "Adadelta": (torch.optim.Adadelta, {}),
    "Adam": (torch.optim.Adam, {}),
    "AdamW": (torch.optim.AdamW, {}),
}

COLORS: dict[str, str] = {
    "SGD": "tab:gray", "SGD+momentum": "tab:brown", "Adagrad": "tab:green",
    "RMSprop": "tab:orange", "Adadelta": "tab:purple", "Adam": "tab:blue",
    "AdamW": "tab:cyan",
}

#: One shared grid for every comparison: 1e-4 to 10**0.5, four rates per decade.
LR_GRID: tuple[float, ...] = tuple(10.0 ** (k / 4) for k in range(-16, 3))

FONT_SIZE = 10


def _function(name: str) -> TestFunction:
    try:
        return FUNCTIONS[name]
    except KeyError:
        raise ValueError(f"unknown function {name!r}; choose from {list(FUNCTIONS)}") from None


def _torch_class(name: str) -> tuple[type, dict]:
    try:
        return _TORCH[name]
    except KeyError:
        raise ValueError(f"unknown optimizer {name!r}; choose from {list(OPTIMIZERS)}") from None


def make_optimizer(name: str, params, lr: float, **hyper) -> torch.optim.Optimizer:
    """Build the named ``torch.optim`` optimizer.

    ``hyper`` are keyword arguments of the torch class under their torch names
    (``momentum``, ``alpha``, ``rho``, ``betas``, ``weight_decay``, ...); anything
    not given is torch's default, except SGD+momentum's ``momentum=0.9``.
    """
    cls, base = _torch_class(name)
    return cls(params, lr=lr, **{**base, **hyper})


def optimizer_factory(name: str, lr: float, **hyper):
    """A one-argument factory ``params -> optimizer`` for :func:`coursekit.functions.trajectory`."""
    make_optimizer(name, [torch.zeros(1, requires_grad=True)], lr, **hyper)  # fail early on bad names
    return lambda params: make_optimizer(name, params, lr, **hyper)


def run(function: str, optimizer: str, lr: float | None = None, num_steps: int | None = None,
        start=None, **hyper) -> torch.Tensor:
    """The points an optimizer visits: a float64 tensor of shape (num_steps + 1, 2).

    ``lr=None`` uses the best rate from :data:`LR_GRID` (see :func:`best_lr`);
    ``num_steps=None`` and ``start=None`` use the test function's defaults.
    """
    spec = _function(function)
    num_steps = spec.num_steps if num_steps is None else int(num_steps)
    if lr is None:
        lr = best_lr(function, optimizer, num_steps=num_steps, **hyper)
    start = spec.start if start is None else tuple(float(s) for s in start)
    factory = optimizer_factory(optimizer, float(lr), **hyper)
    return trajectory(spec.fn, factory, start, num_steps=num_steps)


def run_grid(function: str, optimizer: str, lrs: Sequence[float] = LR_GRID,
             num_steps: int | None = None, start=None, **hyper) -> torch.Tensor:
    """:func:`run` for every learning rate at once: shape (len(lrs), num_steps + 1, 2).

    One optimizer with one parameter group per rate, so each run has its own
    state and the numbers are those of separate runs; it is just faster.
    """
    spec = _function(function)
    num_steps = spec.num_steps if num_steps is None else int(num_steps)
    start = spec.start if start is None else tuple(float(s) for s in start)
    points = [torch.tensor(start, dtype=torch.float64, requires_grad=True) for _ in lrs]
    groups = [{"params": [p], "lr": float(lr)} for p, lr in zip(points, lrs)]
    opt = make_optimizer(optimizer, groups, float(lrs[0]), **hyper)
    path = [torch.stack([p.detach().clone() for p in points])]
    for _ in range(num_steps):
        opt.zero_grad()
        spec.fn(torch.stack(points)).sum().backward()  # each point's gradient is its own
        opt.step()
        path.append(torch.stack([p.detach().clone() for p in points]))
    return torch.stack(path, dim=1)


def losses(function: str, path: torch.Tensor) -> torch.Tensor:
    """The objective at every point of ``path`` (shape (..., 2) -> (...))."""
    with torch.no_grad():
        return _function(function).fn(path.to(torch.float64))


def diverged(function: str, paths: torch.Tensor) -> torch.Tensor:
    """For paths of shape (..., n, 2): non-finite anywhere, or ending far above the start."""
    values = losses(function, paths)
    bad = ~torch.isfinite(paths).all(-1).all(-1) | ~torch.isfinite(values).all(-1)
    limit = 100.0 * torch.clamp(values[..., 0], min=1.0)
    return bad | (values[..., -1] > limit)


def has_diverged(function: str, path: torch.Tensor) -> bool:
    """True if the run produced non-finite values or ended far above its start."""
    return bool(diverged(function, path))


def lr_sweep(function: str, optimizer: str, lrs: Sequence[float] = LR_GRID,
             num_steps: int | None = None, **hyper) -> np.ndarray:
    """Final objective value after ``num_steps`` for each learning rate (inf if diverged)."""
    return best_run(function, optimizer, lrs, num_steps, **hyper).finals


def _defaults(optimizer: str) -> dict:
    """The settings "optimizer" means here: the torch class's defaults, then our base overrides."""
    cls, base = _torch_class(optimizer)
    params = inspect.signature(cls.__init__).parameters
    return {**{k: v.default for k, v in params.items() if v.default is not inspect.Parameter.empty}, **base}


def describe(optimizer: str, **hyper) -> str:
    """A legend name: the optimizer and every setting that is not its default."""
    defaults = _defaults(optimizer)
    shown = {k: v for k, v in hyper.items() if defaults.get(k, object()) != v}
    parts = []
    for key, value in shown.items():
        if key == "betas":
            for i, (b, d) in enumerate(zip(value, defaults["betas"])):
                if b != d:
                    parts.append(f"β{'₁₂'[i]}={b:g}")
        else:
            parts.append(f"{ {'alpha': 'α', 'rho': 'ρ'}.get(key, key)}={value:g}"
                         if isinstance(value, (int, float)) else f"{key}={value}")
    return ", ".join([optimizer] + parts)


@dataclass
class Sweep:
    """One optimizer on one function at every rate of a grid; ``best`` indexes the best rate."""

    function: str
    optimizer: str
    lrs: np.ndarray
    finals: np.ndarray
    paths: torch.Tensor
    hyper: dict = field(default_factory=dict)
    floor: float = 1e-16

    @property
    def best(self) -> int:
        """Lowest final objective; values below ``floor`` count as equal, and ties go to the smaller rate."""
        return int(np.argmin(np.maximum(self.finals, self.floor)))

    @property
    def best_lr(self) -> float:
        return float(self.lrs[self.best])

    @property
    def best_final(self) -> float:
        return float(self.finals[self.best])

    @property
    def best_path(self) -> torch.Tensor:
        return self.paths[self.best]

    @property
    def best_losses(self) -> torch.Tensor:
        return losses(self.function, self.best_path)

    @property
    def name(self) -> str:
        return describe(self.optimizer, **self.hyper)

    @property
    def label(self) -> str:
        return f"{self.name}, lr={self.best_lr:.3g}"


def best_run(function: str, optimizer: str, lrs: Sequence[float] = LR_GRID,
             num_steps: int | None = None, **hyper) -> Sweep:
    """Run every rate of ``lrs``; the best one has the lowest objective after ``num_steps``.

    Diverged runs count as ``inf``. Objectives below 1e-16 (the bottom of the
    figures' axes) count as solved and equal, and ties go to the smaller rate:
    otherwise the choice between two solved runs would rest on digits far below
    anything visible.
    """
    lrs = np.asarray(lrs, dtype=float)
    paths = run_grid(function, optimizer, lrs, num_steps, **hyper)
    finals = losses(function, paths[:, -1]).numpy().astype(float)
    finals[diverged(function, paths).numpy() | ~np.isfinite(finals)] = math.inf
    return Sweep(function, optimizer, lrs, finals, paths, dict(hyper))


@functools.lru_cache(maxsize=256)
def _best_lr_cached(function, optimizer, num_steps, lrs, hyper_items):
    return best_run(function, optimizer, lrs, num_steps, **dict(hyper_items)).best_lr


def best_lr(function: str, optimizer: str, num_steps: int | None = None,
            lrs: Sequence[float] = LR_GRID, **hyper) -> float:
    """The rate from ``lrs`` with the lowest objective after ``num_steps`` (cached)."""
    return _best_lr_cached(function, optimizer, num_steps, tuple(float(x) for x in lrs),
                           tuple(sorted(hyper.items())))


# ----------------------------------------------------------------------------- drawing

def _contours(ax, function: str, resolution: int = 160) -> None:
    spec = _function(function)
    xs = torch.linspace(*spec.xlim, resolution, dtype=torch.float64)
    ys = torch.linspace(*spec.ylim, resolution, dtype=torch.float64)
    X, Y = torch.meshgrid(xs, ys, indexing="xy")
    with torch.no_grad():
        Z = spec.fn(torch.stack([X, Y], dim=-1)).numpy()
    lo = max(float(Z.min()), 1e-2)
    levels = np.logspace(math.log10(lo), math.log10(float(Z.max())), 14)
    ax.contour(X.numpy(), Y.numpy(), np.maximum(Z, lo), levels=levels, norm=LogNorm(),
               cmap="Greys_r", linewidths=0.7, alpha=0.6)
    ax.plot(*spec.minimum, marker="*", color="gold", markersize=14,
            markeredgecolor="black", zorder=5, linestyle="none")
    ax.plot(*spec.start, marker="o", color="black", markersize=5, zorder=5, linestyle="none")
    ax.set_xlim(*spec.xlim)
    ax.set_ylim(*spec.ylim)
    ax.set_xlabel(r"$\theta_1$", fontsize=FONT_SIZE)
    ax.set_ylabel(r"$\theta_2$", fontsize=FONT_SIZE)
    ax.tick_params(labelsize=FONT_SIZE)


@dataclass
class _Line:
    label: str
    path: torch.Tensor
    color: str | None
    linestyle: str = "-"


def _lines(function: str, runs) -> list[_Line]:
    """Accept ``{label: path}`` or a list of :class:`Sweep` (drawn at their best rate)."""
    if isinstance(runs, Mapping):
        items = [(label, path, label.split(",")[0].split(" ")[0]) for label, path in runs.items()]
        return [_Line(label, path, COLORS.get(base)) for label, path, base in items]
    out = []
    for sweep in runs:
        style = "--" if sweep.name != sweep.optimizer else "-"  # a variant with other settings
        out.append(_Line(sweep.label, sweep.best_path, COLORS.get(sweep.optimizer), style))
    return out


def draw_paths(ax, function: str, runs, title: str | None = None) -> None:
    """Trajectories on the contour plot, each ending in a square.

    Earlier runs are drawn wider, so that paths lying on top of each other stay visible.
    """
    _contours(ax, function)
    spec = _function(function)
    lines = _lines(function, runs)
    for i, line in enumerate(lines):
        xy = line.path.numpy().copy()
        if has_diverged(function, line.path):  # draw an exploding run only until it leaves the view
            (x0, x1), (y0, y1) = spec.xlim, spec.ylim
            outside = ~((xy[:, 0] >= x0) & (xy[:, 0] <= x1) & (xy[:, 1] >= y0) & (xy[:, 1] <= y1))
            if outside.any():
                xy = xy[: int(np.argmax(outside)) + 1]
        xy[~np.isfinite(xy) | (np.abs(xy) > 1e6)] = np.nan
        width = 0.9 + 1.8 * (len(lines) - 1 - i) / max(len(lines) - 1, 1)
        ax.plot(xy[:, 0], xy[:, 1], marker="o", color=line.color, linestyle=line.linestyle,
                markersize=1.2 + 0.6 * width, linewidth=width, alpha=0.9, label=line.label)
        ax.plot(xy[-1:, 0], xy[-1:, 1], marker="s", color=line.color, markersize=7,
                markeredgecolor="black", linestyle="none", zorder=6)
    ax.set_title(title if title is not None else function, fontsize=FONT_SIZE + 1)


def draw_objective(ax, function: str, runs, floor: float = 1e-16) -> float:
    """Objective per step on a log axis; values below ``floor`` are drawn at the floor.

    Returns the lowest value drawn (the axis starts a little below it).
    """
    lowest = math.inf
    for line in _lines(function, runs):
        values = losses(function, line.path).numpy().copy()
        label = line.label + (" (diverged)" if has_diverged(function, line.path) else "")
        values[~np.isfinite(values) | (values > 1e12)] = np.nan
        values = np.maximum(values, floor)
        lowest = min(lowest, float(np.nanmin(values)) if np.isfinite(values).any() else math.inf)
        ax.semilogy(np.arange(len(values)), values, color=line.color,
                    linestyle=line.linestyle, linewidth=1.6, label=label)
    if math.isfinite(lowest):
        ax.set_ylim(bottom=lowest / 3)
    ax.set_xlabel("step", fontsize=FONT_SIZE)
    ax.set_ylabel("objective (log scale)", fontsize=FONT_SIZE)
    ax.tick_params(labelsize=FONT_SIZE)
    ax.grid(True, which="major", alpha=0.3)
    return lowest


def comparison_figure(panels: Mapping[str, Sequence[Sweep]], extra: Sequence[Sweep] = (),
                      width: float = 8.0) -> Figure:
    """Each optimizer at its best rate: paths on the contours and the objective per step.

    ``panels`` maps a title to the sweeps drawn there (one or two entries).
    With two entries the paths form the top row and the objectives the bottom
    row, with a legend below each column (the rates differ); with one entry,
    paths and objective sit side by side above one legend. ``extra`` sweeps
    (for example a variant with other settings, drawn dashed) appear in the
    objective panel of a single entry only.
    """
    if not 1 <= len(panels) <= 2:
        raise ValueError("one or two columns only")
    if len(panels) == 2:
        if extra:
            raise ValueError("extra lines only for a single panel")
        n_lines = max(len(v) for v in panels.values())
        fig = Figure(figsize=(width, 6.6 + 0.2 * n_lines), layout="constrained")
        axes = fig.subplots(2, 2, height_ratios=[3, 2])
        axes[1, 1].sharey(axes[1, 0])
        lowest = math.inf
        for col, (title, sweeps) in enumerate(panels.items()):
            function = sweeps[0].function
            draw_paths(axes[0, col], function, sweeps, title=title)
            lowest = min(lowest, draw_objective(axes[1, col], function, sweeps))
            axes[1, col].legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=1,
                                fontsize=FONT_SIZE, frameon=False)
        if math.isfinite(lowest):
            axes[1, 0].set_ylim(bottom=lowest / 3)
        return fig
    (title, sweeps), = panels.items()
    function = sweeps[0].function
    n_lines = len(sweeps) + len(extra)
    fig = Figure(figsize=(width, 3.9 + 0.22 * math.ceil(n_lines / 2)), layout="constrained")
    ax_path, ax_loss = fig.subplots(1, 2)
    draw_paths(ax_path, function, sweeps, title=title)
    draw_objective(ax_loss, function, list(sweeps) + list(extra))
    handles, labels = ax_loss.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=2, fontsize=FONT_SIZE, frameon=False)
    return fig


def sweep_figure(panels: Mapping[str, Sequence[Sweep]], width: float = 8.0) -> Figure:
    """Objective after the run against the learning rate, one panel per entry (two at most).

    Diverged rates are marked with a cross at the top of the panel; the best
    rate of each optimizer is circled.
    """
    if not 1 <= len(panels) <= 2:
        raise ValueError("one or two panels only")
    fig = Figure(figsize=(width, 4.2), layout="constrained")
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (title, sweeps) in zip(axes, panels.items()):
        finite = [s.finals[np.isfinite(s.finals)] for s in sweeps]
        top = max(float(f.max()) for f in finite if len(f)) * 10
        for s in sweeps:
            color = COLORS.get(s.optimizer)
            ok = np.isfinite(s.finals)
            ax.loglog(s.lrs[ok], np.maximum(s.finals[ok], 1e-16), "-o", color=color, markersize=3,
                      label=s.name)
            ax.loglog(s.lrs[~ok], np.full((~ok).sum(), top), "x", color=color, markersize=8, mew=2)
            ax.loglog([s.best_lr], [max(s.best_final, 1e-16)], "o", mfc="none", color=color,
                      markersize=10, mew=1.5)
        steps = sweeps[0].paths.shape[1] - 1
        ax.set_xlabel("learning rate", fontsize=FONT_SIZE)
        ax.set_ylabel(f"objective after {steps} steps", fontsize=FONT_SIZE)
        ax.set_title(title, fontsize=FONT_SIZE + 1)
        ax.tick_params(labelsize=FONT_SIZE)
        ax.grid(True, which="major", alpha=0.3)
    handles = {}
    for ax in axes:  # one legend for all panels, each optimizer once
        for h, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, h)
    fig.legend(list(handles.values()), list(handles), loc="outside lower center",
               ncol=min(len(handles), 4), fontsize=FONT_SIZE, frameon=False)
    return fig


# ----------------------------------------------------------------------------- the demo

DEMO_OPTIMIZERS: tuple[str, ...] = ("SGD", "SGD+momentum", "Adagrad", "RMSprop", "Adam")


def frame(function: str, lr: float, optimizers: Sequence[str] = DEMO_OPTIMIZERS,
          num_steps: int | None = None, width: float = 8.0,
          paths: Mapping[str, torch.Tensor] | None = None) -> Figure:
    """One picture of the demo: every optimizer at the same ``lr`` on ``function``.

    Left the paths, right the objective per step, one legend below both.
    Hyperparameters are torch's defaults (SGD+momentum: momentum 0.9).
    ``paths`` (optimizer name -> path) skips running the optimizers again.
    """
    runs = {name: (paths[name] if paths is not None else
                   run(function, name, lr=lr, num_steps=num_steps)) for name in optimizers}
    # A fixed layout (not "constrained"): the frames are drawn by the dozen, and it is twice as fast.
    fig = Figure(figsize=(width, 3.7))
    fig.subplots_adjust(left=0.08, right=0.985, top=0.93, bottom=0.27, wspace=0.28)
    ax_path, ax_loss = fig.subplots(1, 2)
    draw_paths(ax_path, function, runs, title=f"{function}, lr = {lr:.3g}")
    draw_objective(ax_loss, function, runs)
    ax_loss.set_ylim(1e-17, 1e4)
    ax_loss.set_yticks([1e-15, 1e-10, 1e-5, 1e0])
    handles, labels = ax_loss.get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=FONT_SIZE, frameon=False)
    return fig


#: The website demo's slider values: 10**-2.5 to 10**0.5, four per decade (13 rates x 2 problems).
DEMO_LRS: tuple[float, ...] = tuple(10.0 ** (k / 4) for k in range(-10, 3))


def site_demo(functions: Sequence[str] = ("ill-conditioned quadratic", "rotated quadratic"),
              lrs: Sequence[float] = DEMO_LRS, optimizers: Sequence[str] = DEMO_OPTIMIZERS):
    """The demo on the website: sliders over the problem and the learning rate.

    Every frame is drawn now (at build time) with :func:`frame`; the page then
    switches between the pictures without a kernel. Returns a
    :class:`coursekit.demos.slider.FigureSlider`.
    """
    from coursekit.demos.slider import figure_slider

    lrs = [float(v) for v in lrs]
    grid = {(f, name): run_grid(f, name, lrs) for f in functions for name in optimizers}

    def draw(function, lr):
        k = lrs.index(lr)
        return frame(function, lr, optimizers, paths={n: grid[function, n][k] for n in optimizers})

    names = ", ".join(optimizers)
    return figure_slider(
        draw, {"function": list(functions), "lr": lrs},
        labels={"function": "problem", "lr": "learning rate"},
        formats={"lr": ".3g"},
        initial={"function": functions[0], "lr": min(lrs, key=lambda v: abs(math.log10(v) + 1))},
        caption=("Move the sliders. Every optimizer uses the same learning rate, with torch's "
                 "defaults otherwise (SGD+momentum: momentum 0.9). Watch which methods break first "
                 "as the rate grows, and how the adaptive ones lose their edge when the problem is "
                 "rotated, while SGD and momentum do exactly the same on both."),
        alt=(f"Left: the paths of {names} on the contours of the chosen quadratic; right: their "
             "objective per step on a log scale"),
    )


# ----------------------------------------------------------------------------- widget

def interactive():
    """An ipywidgets panel: pick a function, optimizers, log10(lr) and every hyperparameter.

    Sliders start at torch's defaults (SGD+momentum's momentum at 0.9). The
    returned widget carries ``.controls`` (name -> control widget) and
    ``.state`` (``renders``: how many times it has drawn; ``runs``: the last
    trajectories; ``lrs``: the rate each optimizer used; ``error``: the last
    error message or ``None``).
    """
    import ipywidgets as widgets

    style = {"description_width": "120px"}
    layout = widgets.Layout(width="380px")

    def slider(value, lo, hi, step, description, fmt=".3f"):
        return widgets.FloatSlider(value=value, min=lo, max=hi, step=step, readout_format=fmt,
                                   description=description, style=style, layout=layout)

    controls = {
        "function": widgets.Dropdown(options=list(FUNCTIONS), value="ill-conditioned quadratic",
                                     description="function", style=style, layout=layout),
        "optimizers": widgets.SelectMultiple(options=list(OPTIMIZERS), value=("SGD", "Adam"),
                                             rows=len(OPTIMIZERS), description="optimizers",
                                             style=style, layout=layout),
        "tuned_lr": widgets.Checkbox(value=False, description="best lr of each from the grid",
                                     style=style, layout=layout),
        "log10_lr": slider(-1.0, -4.0, 0.5, 0.25, "log10(lr)", ".2f"),
        "momentum": slider(0.9, 0.0, 0.99, 0.01, "SGD momentum", ".2f"),
        "beta1": slider(0.9, 0.0, 0.999, 0.001, "Adam β1"),
        "beta2": slider(0.999, 0.5, 0.9999, 0.0001, "Adam β2", ".4f"),
        "alpha": slider(0.99, 0.5, 0.9999, 0.0001, "RMSprop α", ".4f"),
        "rho": slider(0.9, 0.5, 0.9999, 0.0001, "Adadelta ρ", ".4f"),
        "weight_decay": slider(0.01, 0.0, 1.0, 0.01, "AdamW decay", ".2f"),
        "num_steps": widgets.IntSlider(value=100, min=10, max=1000, step=10,
                                       description="steps", style=style, layout=layout),
    }
    help_text = widgets.HTML(
        "<small>Every trajectory comes from the real <code>torch.optim</code> class; the sliders "
        "start at torch's defaults. 'Best lr' tries the grid 1e-4 … 10<sup>0.5</sup> (four rates "
        "per decade) with the current settings and keeps the lowest final objective.</small>",
        layout=widgets.Layout(width="380px"))
    image = widgets.Image(format="png", layout=widgets.Layout(width="800px"))
    error = widgets.HTML()
    state = {"renders": 0, "runs": {}, "lrs": {}, "error": None}

    def hyper_for(name, c):
        if name == "SGD+momentum":
            return {"momentum": c["momentum"]}
        if name == "RMSprop":
            return {"alpha": c["alpha"]}
        if name == "Adadelta":
            return {"rho": c["rho"]}
        if name == "Adam":
            return {"betas": (c["beta1"], c["beta2"])}
        if name == "AdamW":
            return {"betas": (c["beta1"], c["beta2"]), "weight_decay": c["weight_decay"]}
        return {}

    def render(_change=None):
        c = {k: w.value for k, w in controls.items()}
        function = c["function"]
        runs, rates = {}, {}
        try:
            for name in c["optimizers"]:
                hyper = hyper_for(name, c)
                rate = (best_lr(function, name, num_steps=c["num_steps"], **hyper) if c["tuned_lr"]
                        else 10.0 ** c["log10_lr"])
                runs[name] = run(function, name, lr=rate, num_steps=c["num_steps"], **hyper)
                rates[name] = rate
            labelled = {f"{describe(n, **hyper_for(n, c))}, lr={rates[n]:.3g}": p for n, p in runs.items()}
            fig = Figure(figsize=(8.0, 4.1), layout="constrained")
            ax_path, ax_loss = fig.subplots(1, 2)
            draw_paths(ax_path, function, labelled)
            draw_objective(ax_loss, function, labelled)
            handles, labels = ax_loss.get_legend_handles_labels()
            if handles:
                fig.legend(handles, labels, loc="outside lower center", ncol=2, fontsize=FONT_SIZE,
                           frameon=False)
            image.value = png_bytes(fig)
            state["error"] = None
            error.value = ""
        except Exception as exc:  # show the problem in the panel instead of dying silently
            state["error"] = f"{type(exc).__name__}: {exc}"
            error.value = f"<pre>{state['error']}</pre>"
        state["runs"], state["lrs"] = runs, rates
        state["renders"] += 1

    for w in controls.values():
        w.observe(render, names="value")
    panel = widgets.VBox([controls[k] for k in controls] + [help_text])
    box = widgets.HBox([panel, widgets.VBox([image, error])])
    box.controls = controls
    box.state = state
    render()
    return box


# ----------------------------------------------------------------------------- the digits network

def digits_splits(seed: int = 0):
    """scikit-learn's digits split 60/20/20 by ``seed`` (:func:`coursekit.data.train_val_test_split`),
    standardized with the training set's pixel means and standard deviations: three (X, y) tensor pairs."""
    from sklearn.datasets import load_digits

    from coursekit.data import train_val_test_split

    X, y = load_digits(return_X_y=True)
    splits = train_val_test_split(X, y, seed=seed)
    mean, std = splits[0][0].mean(0), splits[0][0].std(0)
    std[std == 0] = 1.0  # pixels that are always blank
    return [(torch.tensor((Xs - mean) / std, dtype=torch.float32), torch.tensor(ys)) for Xs, ys in splits]


def digits_mlp(seed: int = 0) -> torch.nn.Sequential:
    """The chapter's 64–64–10 MLP, initialized by ``seed``."""
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10))


def train_digits_grid(optimizer: str, lrs: Sequence[float], seeds: Sequence[int], num_epochs: int = 20,
                      batch: int = 64, **hyper) -> np.ndarray:
    """The MLP on the digits with ``optimizer`` at every rate of ``lrs`` and on every seed, all at once.

    A seed sets the split (:func:`digits_splits`), the initialization (:func:`digits_mlp`) and the batch
    order; every rate starts from the same net on a seed. The runs are stacked and trained together with
    batched matrix products, under ONE torch optimizer with one parameter group per rate; since every
    ``torch.optim`` update is elementwise, each run gets exactly the updates of a separate run.
    Returns an array (len(lrs), len(seeds), num_epochs + 1, 4): per epoch (0 = before training) the loss of the
    weights on the whole training set, the validation loss and accuracy, and the test accuracy.
    """
    K, S = len(lrs), len(seeds)
    data = [digits_splits(s) for s in seeds]
    X_tr, y_tr = torch.stack([d[0][0] for d in data]), torch.stack([d[0][1] for d in data])
    X_va, y_va = torch.stack([d[1][0] for d in data]), torch.stack([d[1][1] for d in data])
    X_te, y_te = torch.stack([d[2][0] for d in data]), torch.stack([d[2][1] for d in data])
    nets = [[m for m in digits_mlp(s) if isinstance(m, torch.nn.Linear)] for s in seeds]
    groups = []
    for lr in lrs:  # per rate: (S, in, out) weights and (S, 1, out) biases
        ps = []
        for j in range(len(nets[0])):
            ps.append(torch.stack([net[j].weight.detach().t() for net in nets]).clone().requires_grad_())
            ps.append(torch.stack([net[j].bias.detach().view(1, -1) for net in nets]).clone().requires_grad_())
        groups.append({"params": ps, "lr": float(lr)})
    opt = make_optimizer(optimizer, groups, float(lrs[0]), **hyper)
    n_layers = len(groups[0]["params"]) // 2

    def forward(X):  # X: (S, n, 64) -> logits (K, S, n, 10)
        h = X.unsqueeze(0).expand(K, -1, -1, -1).reshape(K * S, X.shape[1], -1)
        for j in range(n_layers):
            W = torch.stack([g["params"][2 * j] for g in groups]).reshape(K * S, *groups[0]["params"][2 * j].shape[1:])
            b = torch.stack([g["params"][2 * j + 1] for g in groups]).reshape(K * S, 1, -1)
            h = torch.baddbmm(b, h, W)
            if j + 1 < n_layers:
                h = torch.relu(h)
        return h.view(K, S, X.shape[1], -1)

    def per_run_loss(logits, y):  # (K, S)
        flat = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                                 y.unsqueeze(0).expand(K, -1, -1).reshape(-1), reduction="none")
        return flat.view(K, S, -1).mean(-1)

    def record():
        with torch.no_grad():
            out_va, out_te = forward(X_va), forward(X_te)
            row = [per_run_loss(forward(X_tr), y_tr), per_run_loss(out_va, y_va),
                   (out_va.argmax(-1) == y_va).double().mean(-1), (out_te.argmax(-1) == y_te).double().mean(-1)]
        return torch.stack([r.double() for r in row], -1)  # (K, S, 4)

    gens = [torch.Generator().manual_seed(int(s)) for s in seeds]
    n = X_tr.shape[1]
    history = [record()]
    for _ in range(num_epochs):
        perms = torch.stack([torch.randperm(n, generator=g) for g in gens])  # (S, n)
        for i in range(0, n, batch):
            idx = perms[:, i:i + batch]
            Xb = torch.gather(X_tr, 1, idx.unsqueeze(-1).expand(-1, -1, X_tr.shape[-1]))
            yb = torch.gather(y_tr, 1, idx)
            opt.zero_grad()
            per_run_loss(forward(Xb), yb).sum().backward()  # each run's gradient is its own
            opt.step()
        history.append(record())
    out = torch.stack(history, 2).numpy()  # (K, S, epochs + 1, 4)
    return out
