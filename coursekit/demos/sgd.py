"""Chapter 7 demo: gradient descent on a 2-D quadratic, and the chapter's experiments.

The quadratic is f(w) = 1/2 (w - w*)^T A (w - w*) with A built from chosen eigenvalues mu = 1 and L = kappa
along axes rotated by 30 degrees, so the step-size limits are known by construction (nothing here computes
them from a matrix). Every path is produced by ``torch.optim.SGD`` (torch's update rule, momentum 0) fed the
full gradient: with full-batch gradients "SGD" is plain gradient descent.

* :func:`frame` draws one picture: the path on the contours, and the distance to the minimum per step;
* :func:`site_demo` is the website's slider over kappa and the step size (frames drawn at build time);
* :func:`interactive` is the live ipywidgets version for Jupyter;
* :func:`gradient_noise` measures the variance of mini-batch gradients on the digits;
* :func:`batch_size_experiment` trains a small MLP on the digits with several batch sizes.
"""

from __future__ import annotations

import time
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure

from coursekit.demos.slider import png_bytes

__all__ = ["ANGLE", "START", "quadratic", "gd_path", "frame", "DEMO_KAPPAS", "DEMO_FRACTIONS", "site_demo",
           "interactive", "digits_split", "per_example_gradients", "gradient_noise", "batch_size_experiment",
           "top_hessian_eigenvalue", "softmax_regression_past_limit"]

ANGLE = 30.0          # degrees between the eigenvectors and the coordinate axes
START = (-2.0, 1.5)   # where every path starts (the minimum is at the origin)
FIGSIZE = (8.0, 3.6)
FONT = 11
DEMO_KAPPAS = (2.0, 10.0, 50.0)
#: step sizes as fractions of the stability limit 2/L
DEMO_FRACTIONS = (0.1, 0.25, 0.5, 0.9, 1.0, 1.02)


def quadratic(kappa: float, angle: float = ANGLE) -> np.ndarray:
    """The symmetric 2x2 matrix with eigenvalues 1 and ``kappa`` along axes rotated by ``angle`` degrees."""
    t = np.deg2rad(angle)
    Q = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    return Q @ np.diag([1.0, float(kappa)]) @ Q.T


def gd_path(A, lr: float, num_steps: int = 40, start=START) -> np.ndarray:
    """The iterates w_0, ..., w_T of torch.optim.SGD (momentum 0) on 1/2 w^T A w with its full gradient."""
    A_t = torch.as_tensor(np.asarray(A), dtype=torch.float64)
    w = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([w], lr=lr)
    path = [w.detach().clone()]
    for _ in range(num_steps):
        opt.zero_grad()
        (0.5 * w @ A_t @ w).backward()
        opt.step()
        path.append(w.detach().clone())
    return torch.stack(path).numpy()


def frame(kappa: float, fraction: float, num_steps: int = 40, fig: Figure | None = None) -> Figure:
    """Gradient descent with step ``fraction * 2/L`` on the quadratic with condition number ``kappa``."""
    A = quadratic(kappa)
    L, mu = float(kappa), 1.0
    lr = fraction * 2.0 / L
    path = gd_path(A, lr, num_steps)
    # fixed margins and no mathtext: the site draws every frame at build time, and a layout engine or TeX-like
    # tick labels would triple the cost of each frame
    fig = fig or Figure(figsize=FIGSIZE)
    fig.clear()
    ax1, ax2 = fig.subplots(1, 2, gridspec_kw=dict(left=0.08, right=0.98, bottom=0.15, top=0.91, wspace=0.32))
    g = np.linspace(-3, 3, 121)
    xx, yy = np.meshgrid(g, g)
    zz = 0.5 * (A[0, 0] * xx ** 2 + 2 * A[0, 1] * xx * yy + A[1, 1] * yy ** 2)
    ax1.contour(xx, yy, zz, levels=np.geomspace(0.02, 4 * kappa, 12), colors="0.75", linewidths=0.8)
    shown = np.clip(path, -3, 3)
    ax1.plot(shown[:, 0], shown[:, 1], "o-", color="C3", ms=3, lw=1.2)
    ax1.plot(0, 0, "k*", ms=10)
    ax1.set(xlim=(-3, 3), ylim=(-3, 3), aspect="equal", xlabel="w₁", ylabel="w₂",
            title=f"κ = {kappa:g}, η = {fraction:g} · 2/L")
    dist = np.linalg.norm(path, axis=1)
    steps = np.arange(len(dist))
    ax2.semilogy(steps, np.maximum(dist, 1e-12), color="C3", label="distance to minimum")
    factors = np.abs(1 - lr * np.array([mu, L]))
    worst = factors.max()
    ax2.semilogy(steps, dist[0] * worst ** steps, "k--", lw=1,
                 label=f"max |1 − ηλ|ᵗ = {worst:.2f}ᵗ")
    ax2.set(xlabel="step t", ylabel="distance ‖wₜ − w*‖", ylim=(1e-6, 1e4))
    ax2.set_yticks([1e-6, 1e-4, 1e-2, 1, 1e2, 1e4], ["1e-6", "1e-4", "0.01", "1", "100", "1e4"])
    ax2.minorticks_off()
    ax2.legend(fontsize=10, loc="lower left")
    for ax in (ax1, ax2):
        for item in [ax.title, ax.xaxis.label, ax.yaxis.label, *ax.get_xticklabels(), *ax.get_yticklabels()]:
            item.set_fontsize(FONT)
    return fig


def site_demo(kappas: Sequence[float] = DEMO_KAPPAS, fractions: Sequence[float] = DEMO_FRACTIONS):
    """The website's demo: sliders over kappa and the step size, every frame drawn now."""
    from coursekit.demos.slider import figure_slider

    params = {"kappa": list(kappas), "fraction": list(fractions)}
    start = {name: value for name, value in (("kappa", 10.0), ("fraction", 0.9)) if value in params[name]}
    return figure_slider(
        lambda kappa, fraction: frame(kappa, fraction), params,
        labels={"kappa": "condition number κ", "fraction": "step size η · L/2"},
        formats={"kappa": "g", "fraction": ".2f"}, initial=start,
        caption=("Move the step-size slider towards 1 and past it, then change κ. Left: the path of gradient "
                 "descent (torch.optim.SGD with the full gradient) on the contours of a quadratic with eigenvalues "
                 "1 and κ. Right: the distance to the minimum on a log scale, with the worst-case bound "
                 "max|1 − ηλ|ᵗ. Below η = 2/L the path converges, zig-zagging across the narrow valley when η "
                 "is close to 2/L; above it, it diverges. At a large κ every stable step converges slowly."),
        alt=("Two panels: an elliptical contour plot with the zig-zag path of gradient descent, and a "
             "log-scale plot of the distance to the minimum against the step, for the chosen condition number "
             "and step size"))


def interactive():
    """A live version for Jupyter: sliders for kappa, the step size (a fraction of 2/L) and the number of steps."""
    import ipywidgets as widgets

    kappa = widgets.FloatLogSlider(value=10.0, base=10, min=0, max=2, step=0.05, description="κ",
                                   continuous_update=False)
    fraction = widgets.FloatSlider(value=0.9, min=0.05, max=1.1, step=0.01, description="η · L/2",
                                   continuous_update=False)
    num_steps = widgets.IntSlider(value=40, min=5, max=200, step=5, description="steps", continuous_update=False)
    image = widgets.Image(format="png")
    box = widgets.VBox([widgets.HBox([kappa, fraction, num_steps]), image])
    box.state = {"renders": 0}
    fig = Figure(figsize=FIGSIZE, layout="constrained")

    def render(_change=None):
        frame(kappa.value, fraction.value, num_steps.value, fig=fig)
        image.value = png_bytes(fig)
        box.state["renders"] += 1

    for w in (kappa, fraction, num_steps):
        w.observe(render, names="value")
    box.controls = {"kappa": kappa, "fraction": fraction, "num_steps": num_steps}
    render()
    return box


# ---------------------------------------------------------------- the digits experiments
def digits_split(n_train: int | None = None, seed: int = 0):
    """The digits scaled to [0, 1] as float32 tensors: (X_train, y_train), (X_val, y_val), a 75/25 split.
    ``n_train`` keeps only the first n_train training examples (after the shuffle)."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    order = np.random.default_rng(seed).permutation(len(X))
    X, y = torch.tensor(X[order] / 16.0, dtype=torch.float32), torch.tensor(y[order])
    cut = int(0.75 * len(X))
    X_tr, y_tr = X[:cut], y[:cut]
    if n_train is not None:
        X_tr, y_tr = X_tr[:n_train], y_tr[:n_train]
    return (X_tr, y_tr), (X[cut:], y[cut:])


def per_example_gradients(W, b, X, y) -> np.ndarray:
    """Gradients of the cross-entropy of softmax regression (logits X W^T + b), one row per example (float64),
    computed by torch.func (grad of one example's loss, vectorized over the examples with vmap)."""
    from torch.func import grad, vmap

    W, b = torch.as_tensor(W, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64)
    X, y = torch.as_tensor(X, dtype=torch.float64), torch.as_tensor(y)

    def loss(W, b, x, target):
        return F.cross_entropy((x @ W.T + b)[None], target[None])

    gW, gb = vmap(grad(loss, argnums=(0, 1)), in_dims=(None, None, 0, 0))(W, b, X, y)
    return torch.cat([gW.reshape(len(y), -1), gb], dim=1).numpy()


def gradient_noise(G: np.ndarray, batch_sizes: Sequence[int], num_batches: int = 400, seed: int = 0) -> np.ndarray:
    """Mean squared distance between the gradient of a random mini-batch (drawn without replacement) and the
    full gradient, for each batch size. ``G`` holds the per-example gradients, one row each."""
    g = torch.Generator().manual_seed(seed)
    full = G.mean(axis=0)
    out = []
    for B in batch_sizes:
        d = [np.sum((G[torch.randperm(len(G), generator=g)[:B].numpy()].mean(axis=0) - full) ** 2)
             for _ in range(num_batches)]
        out.append(float(np.mean(d)))
    return np.array(out)


def _mlp(seed: int):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))


def batch_size_experiment(X, y, X_val, y_val, batch_size: int, lr: float, num_epochs: int, seed: int = 0):
    """Train a 64-32-10 ReLU MLP with torch.optim.SGD (torch defaults, momentum 0) on mini-batches drawn as a
    DataLoader with shuffle=True draws them (torch's RandomSampler inside a BatchSampler, last partial batch
    kept; the tensors are indexed directly, which skips the DataLoader's per-batch collation). Returns per-epoch
    training loss (on the whole training set, after the epoch), validation loss and accuracy, cumulative
    CPU seconds of training (``time.process_time``: this process only, so other programs on a shared machine
    barely change it) and the number of optimizer steps. A run whose training loss rises above
    its starting value is stopped (diverged or unstable) and keeps the loss it reached."""
    from torch.utils.data import BatchSampler, RandomSampler

    net = _mlp(seed)
    opt = torch.optim.SGD(net.parameters(), lr=lr)
    sampler = BatchSampler(RandomSampler(range(len(X)), generator=torch.Generator().manual_seed(seed)),
                           batch_size=batch_size, drop_last=False)
    hist = {"train_loss": [], "val_loss": [], "val_acc": [], "seconds": [], "steps": []}

    def evaluate():
        with torch.no_grad():
            hist["train_loss"].append(float(F.cross_entropy(net(X), y)))
            out = net(X_val)
            hist["val_loss"].append(float(F.cross_entropy(out, y_val)))
            hist["val_acc"].append(float((out.argmax(1) == y_val).float().mean()))

    evaluate()
    hist["seconds"].append(0.0)
    hist["steps"].append(0)
    elapsed, steps = 0.0, 0
    for _ in range(num_epochs):
        t0 = time.process_time()
        for idx in sampler:
            xb, yb = X[idx], y[idx]
            opt.zero_grad()
            F.cross_entropy(net(xb), yb).backward()
            opt.step()
            steps += 1
        elapsed += time.process_time() - t0
        evaluate()
        hist["seconds"].append(elapsed)
        hist["steps"].append(steps)
        if not hist["train_loss"][-1] < hist["train_loss"][0]:
            break
    return {k: np.array(v) for k, v in hist.items()}


def top_hessian_eigenvalue(loss_fn, theta: torch.Tensor, num_iters: int = 100, seed: int = 0) -> float:
    """The largest eigenvalue of the Hessian of ``loss_fn`` at ``theta`` (a flat float64 tensor), by power
    iteration on Hessian-vector products (the Hessian of a convex loss has no negative eigenvalues)."""
    theta = theta.detach().clone().requires_grad_()
    grad = torch.autograd.grad(loss_fn(theta), theta, create_graph=True)[0]
    v = torch.randn(theta.shape, dtype=theta.dtype, generator=torch.Generator().manual_seed(seed))
    v /= v.norm()
    value = 0.0
    for _ in range(num_iters):
        hv = torch.autograd.grad(grad, theta, v, retain_graph=True)[0]
        value = float(v @ hv)
        v = hv / hv.norm()
    return value


def softmax_regression_past_limit(multiples: Sequence[float], num_steps: int = 40, seed: int = 0) -> dict:
    """Full-batch gradient descent (torch.optim.SGD) on softmax regression over all 1797 digits scaled to
    [0, 1] (float64, torch's default initialization with ``seed``), at learning rates ``multiples`` times the
    quadratic limit 2/L0, where L0 is the largest Hessian eigenvalue at the start.

    Returns ``{"L0": ..., "runs": {multiple: {"loss": losses of steps 0..num_steps, "L_end": ...}}}``.
    """
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X, y = torch.tensor(X / 16.0, dtype=torch.float64), torch.tensor(y)
    torch.manual_seed(seed)
    lin = torch.nn.Linear(64, 10).double()
    theta0 = torch.cat([lin.weight.detach().flatten(), lin.bias.detach()])

    def loss_fn(theta):
        return F.cross_entropy(X @ theta[:640].reshape(10, 64).T + theta[640:], y)

    L0 = top_hessian_eigenvalue(loss_fn, theta0, seed=seed)
    runs = {}
    for m in multiples:
        theta = theta0.clone().requires_grad_()
        opt = torch.optim.SGD([theta], lr=m * 2.0 / L0)
        losses = []
        for _ in range(num_steps):
            opt.zero_grad()
            loss = loss_fn(theta)
            losses.append(loss.item())
            loss.backward()
            opt.step()
        losses.append(loss_fn(theta).item())
        runs[m] = {"loss": np.array(losses), "L_end": top_hessian_eigenvalue(loss_fn, theta.detach(), seed=seed)}
    return {"L0": L0, "runs": runs}
