"""Chapter 8 demo: momentum on an ill-conditioned quadratic, and SGD vs momentum on the digits.

The quadratic is f(w) = (mu * w1^2 + L * w2^2) / 2 with mu = 1 and L = 25 (condition number 25). Every run uses
torch.optim.SGD, the course's oracle, at the learning rate 1/L, with momentum ``beta`` from a slider: the
trajectory on the contours (left) and the distance to the minimum per step (right), beside plain gradient descent.
As beta grows the distance falls faster, until about beta = 0.64; beyond it the run oscillates and slows again.

``site_demo()`` precomputes every slider position for the website; ``interactive()`` is the live ipywidgets
version for Jupyter.
"""

from __future__ import annotations

import functools

import numpy as np
import torch
from matplotlib.figure import Figure

MU, L = 1.0, 25.0
LR = 1.0 / L
START = (-4.0, 1.5)
STEPS = 120
SLIDER_BETAS = (0.0, 0.2, 0.4, 0.5, 0.6, 0.64, 0.7, 0.8, 0.9, 0.95)
FIGSIZE = (7.6, 3.5)


@functools.lru_cache(maxsize=256)
def run(beta: float, lr: float = LR, steps: int = STEPS, nesterov: bool = False) -> np.ndarray:
    """The iterates w_0, ..., w_steps of torch.optim.SGD(lr, momentum=beta) on the quadratic: shape (steps+1, 2)."""
    w = torch.tensor(START, dtype=torch.float64, requires_grad=True)
    h = torch.tensor([MU, L], dtype=torch.float64)
    opt = torch.optim.SGD([w], lr=lr, momentum=beta, nesterov=nesterov and beta > 0)
    out = [w.detach().clone()]
    for _ in range(steps):
        opt.zero_grad()
        (0.5 * (h * w * w).sum()).backward()
        opt.step()
        out.append(w.detach().clone())
    out = torch.stack(out).numpy()
    out.setflags(write=False)
    return out


def distances(beta: float, lr: float = LR, steps: int = STEPS, nesterov: bool = False) -> np.ndarray:
    """||w_t - w*|| for t = 0, ..., steps (w* = 0)."""
    return np.linalg.norm(run(beta, lr, steps, nesterov), axis=1)


def measured_rate(beta: float, lr: float = LR, start: int = 60, stop: int = STEPS) -> float:
    """The contraction per step of a run: exp of the slope of log ||w_t|| fitted over steps start..stop."""
    d = distances(beta, lr, steps=stop)
    t = np.arange(start, stop + 1)
    return float(np.exp(np.polyfit(t, np.log(d[start:stop + 1]), 1)[0]))


def steps_to(beta: float, tol: float = 1e-6, lr: float = LR, max_steps: int = 400) -> int:
    """The first step at which the distance falls below ``tol`` times the starting distance."""
    d = distances(beta, lr, steps=max_steps)
    below = np.nonzero(d <= tol * d[0])[0]
    return int(below[0]) if len(below) else max_steps


def demo_figure(beta: float, fig: Figure | None = None, lr: float = LR) -> Figure:
    """Left: contours with the runs of beta = 0 and ``beta`` at learning rate ``lr``. Right: their distances to the
    minimum (a run that diverges leaves the top of the view)."""
    fig = fig or Figure(figsize=FIGSIZE, layout="constrained")
    fig.clear()
    ax, ax_d = fig.subplots(1, 2)
    x = np.linspace(-4.5, 4.5, 200)
    y = np.linspace(-2.0, 2.0, 120)
    Xg, Yg = np.meshgrid(x, y)
    ax.contour(Xg, Yg, 0.5 * (MU * Xg ** 2 + L * Yg ** 2), levels=np.geomspace(0.05, 60, 12), colors="0.8",
               linewidths=0.8)
    beta, lr = float(beta), float(lr)
    gd, hb = run(0.0, lr)[:41], run(beta, lr)[:41]
    ax.plot(gd[:, 0], gd[:, 1], "o-", color="0.45", ms=2.5, lw=1, label="β = 0 (gradient descent)")
    ax.plot(hb[:, 0], hb[:, 1], "o-", color="tab:blue", ms=2.5, lw=1.2, label=f"β = {beta:g}")
    ax.plot([0], [0], "*", color="black", ms=10)
    ax.set(xlabel="$w_1$ (eigenvalue 1)", ylabel="$w_2$ (eigenvalue 25)", xlim=(-4.5, 4.5), ylim=(-2.0, 2.0),
           title=f"first 40 steps, lr = {lr * L:g}/L")
    ax.legend(loc="lower right", fontsize=9)
    steps = np.arange(STEPS + 1)
    with np.errstate(over="ignore", invalid="ignore"):
        ax_d.semilogy(steps, distances(0.0, lr), color="0.45", label="β = 0")
        ax_d.semilogy(steps, distances(beta, lr), color="tab:blue", label=f"β = {beta:g}")
    ax_d.set(xlabel="step", ylabel="distance to the minimum", ylim=(1e-12, 20),
             title=f"rate per step ≈ {measured_rate(beta, lr):.3f}")
    ax_d.legend(loc="lower left", fontsize=9)
    return fig


def site_demo(initial: float = 0.0):
    """The website's demo: a slider over ``SLIDER_BETAS``, every frame drawn now (a FigureSlider)."""
    from coursekit.demos.slider import figure_slider

    return figure_slider(
        demo_figure, {"beta": list(SLIDER_BETAS)}, labels={"beta": "momentum β"}, formats={"beta": ".2f"},
        initial={"beta": initial},
        caption=("Move the slider from left to right. Left: the first 40 steps of torch.optim.SGD with lr = 1/L "
                 "on a quadratic with eigenvalues 1 and 25, without momentum (grey) and with momentum β (blue). "
                 "Right: the distance to the minimum per step. The blue line falls faster as β grows up to "
                 "about 0.64; beyond it the run spirals and the line flattens again."),
        alt=("Two panels. Left: elliptical contours with two zig-zag paths towards the centre, grey without "
             "momentum and blue with the chosen momentum. Right: distance to the minimum on a log axis against "
             "the step for both runs, with the measured rate per step in the title"))


def interactive():
    """A live version: sliders for the momentum β and the learning rate (in units of 1/L). Returns an ipywidgets
    ``VBox`` with attributes ``beta``, ``lr`` (the sliders), ``image`` and ``summary``."""
    import io

    import ipywidgets as widgets

    class MomentumDemo(widgets.VBox):
        def __init__(self):
            self.beta = widgets.FloatSlider(value=0.5, min=0.0, max=0.98, step=0.02, description="β",
                                            continuous_update=False)
            self.lr = widgets.FloatSlider(value=1.0, min=0.1, max=3.0, step=0.1, description="lr × L",
                                          continuous_update=False)
            self.image = widgets.Image(format="png")
            self.summary = widgets.HTML()
            self.state: dict = {}
            self._fig = Figure(figsize=FIGSIZE, layout="constrained")
            super().__init__([widgets.HBox([self.beta, self.lr]), self.summary, self.image])
            self.beta.observe(self._update, names="value")
            self.lr.observe(self._update, names="value")
            self._update()

        def _update(self, *_):
            lr = round(self.lr.value, 6) / L
            demo_figure(self.beta.value, self._fig, lr=lr)
            rate = measured_rate(self.beta.value, lr)
            self.state = {"beta": self.beta.value, "lr": lr, "rate": rate}
            buf = io.BytesIO()
            self._fig.savefig(buf, format="png", dpi=100)
            self.image.value = buf.getvalue()
            self.summary.value = f"β = {self.beta.value:.2f}, lr = {self.lr.value:.1f}/L: rate per step ≈ {rate:.3f}"

    return MomentumDemo()


# ---------------------------------------------------------------- the digits experiment
DIGITS_LRS = (0.03, 0.1, 0.3, 1.0, 3.0)
METHODS = {"SGD": dict(momentum=0.0), "heavy ball": dict(momentum=0.9),
           "Nesterov": dict(momentum=0.9, nesterov=True)}


def digits_splits(seed: int = 0):
    """load_digits scaled to [0, 1], split 1000 train / the rest validation, as float32 tensors."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    order = np.random.default_rng(seed).permutation(len(y))
    X = torch.tensor(X[order] / 16.0, dtype=torch.float32)
    y = torch.tensor(y[order])
    return X[:1000], y[:1000], X[1000:], y[1000:]


def train_digits(method: str, lr: float, num_epochs: int = 20, batch_size: int = 50, splits=None, seed: int = 0):
    """An MLP 64-64-10 (tanh) trained with torch.optim.SGD(lr, **METHODS[method]) on mini-batches of the digits.
    Returns {"train_loss": [...], "val_loss": [...], "val_acc": [...]} per epoch: the mean cross-entropy of the
    weights at the end of the epoch on the whole training set and on the validation set, and the validation
    accuracy (inf once a loss is not finite). ``seed`` sets the initialization and the batch order."""
    import torch.nn.functional as F

    X_train, y_train, X_val, y_val = splits or digits_splits()
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.Tanh(), torch.nn.Linear(64, 10))
    opt = torch.optim.SGD(net.parameters(), lr=lr, **METHODS[method])
    gen = torch.Generator().manual_seed(seed)
    hist = {"train_loss": [], "val_loss": [], "val_acc": []}
    for _ in range(num_epochs):
        net.train()
        order = torch.randperm(len(y_train), generator=gen)
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            opt.zero_grad()
            F.cross_entropy(net(X_train[idx]), y_train[idx]).backward()
            opt.step()
        net.eval()
        with torch.no_grad():
            loss_now = F.cross_entropy(net(X_train), y_train).item()   # the final weights, not a running mean
            out = net(X_val)
            val = F.cross_entropy(out, y_val).item()
            acc = (out.argmax(1) == y_val).float().mean().item()
        hist["train_loss"].append(loss_now if np.isfinite(loss_now) else float("inf"))
        hist["val_loss"].append(val if np.isfinite(val) else float("inf"))
        hist["val_acc"].append(acc)
    return hist
