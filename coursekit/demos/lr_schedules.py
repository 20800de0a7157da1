"""Chapter 10 demo and experiments: learning-rate schedules.

* :func:`make_scheduler` builds the chapter's four schedules from torch's own classes (constant, step decay,
  cosine, linear warmup then cosine), and :func:`lr_curve` reads the rate each optimizer step uses.
* :func:`noisy_quadratic` runs SGD with noisy gradients on a two-dimensional quadratic under any sequence of
  rates (numpy, many seeds at once): a constant rate stalls at a noise floor, a falling one goes below it.
* :func:`frame` draws the demo: the schedule, and the excess loss of SGD under it next to a constant rate;
  :func:`site_demo` precomputes it for the website's slider, :func:`interactive` recomputes it in Jupyter.
* :func:`train_digits` trains the chapter's MLP on scikit-learn's digits with a schedule stepped per iteration,
  and :func:`range_test` runs the learning-rate range test.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure
from torch.optim.lr_scheduler import CosineAnnealingLR, LambdaLR, LinearLR, MultiStepLR, SequentialLR

from .slider import png_bytes

SCHEDULES = ("constant", "step", "cosine", "warmup + cosine")
COLORS = {"constant": "#555555", "step": "#1f77b4", "cosine": "#d62728", "warmup + cosine": "#2ca02c"}
FIGSIZE = (8.0, 3.4)
CURVATURES = (1.0, 0.25)  # the quadratic's eigenvalues
NOISE = 1.0               # standard deviation of the gradient noise in each coordinate
START = (3.0, 3.0)
DEMO_PEAKS = (0.1, 0.2, 0.4, 0.8, 1.6)
DEMO_STEPS = 300


def make_scheduler(name: str, optimizer, total_steps: int, warmup_fraction: float = 0.1):
    """One of :data:`SCHEDULES` over ``total_steps`` scheduler steps, from torch's classes.

    "step": MultiStepLR dividing the rate by 10 at 50 % and 75 % of the run; "cosine": CosineAnnealingLR with
    T_max = total_steps; "warmup + cosine": SequentialLR of LinearLR(start_factor=0.1) for 10 % of the run and
    a cosine over the rest; "constant": LambdaLR of 1.
    """
    if name == "constant":
        return LambdaLR(optimizer, lambda t: 1.0)
    if name == "step":
        return MultiStepLR(optimizer, milestones=[total_steps // 2, 3 * total_steps // 4], gamma=0.1)
    if name == "cosine":
        return CosineAnnealingLR(optimizer, T_max=total_steps)
    if name == "warmup + cosine":
        w = max(1, int(round(warmup_fraction * total_steps)))
        warm = LinearLR(optimizer, start_factor=0.1, end_factor=1.0, total_iters=w)
        cos = CosineAnnealingLR(optimizer, T_max=total_steps - w)
        return SequentialLR(optimizer, [warm, cos], milestones=[w])
    raise ValueError(f"unknown schedule {name!r}; one of {SCHEDULES}")


def lr_curve(name: str, total_steps: int, peak: float = 1.0, **kwargs) -> np.ndarray:
    """The rate each of ``total_steps`` optimizer steps uses under schedule ``name`` (scheduler stepped after
    every optimizer step, as torch's docs say)."""
    return np.array(_lr_curve(name, int(total_steps), float(peak), tuple(sorted(kwargs.items()))))


@functools.lru_cache(maxsize=256)
def _lr_curve(name, total_steps, peak, kwargs):
    kwargs = dict(kwargs)
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=peak)
    sched = make_scheduler(name, opt, total_steps, **kwargs)
    out = []
    for _ in range(total_steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return tuple(out)


def noisy_quadratic(lrs: Sequence[float], num_seeds: int = 200, seed: int = 0) -> np.ndarray:
    """SGD on f(w) = sum_i h_i w_i^2 / 2 (h = :data:`CURVATURES`) with gradient noise N(0, NOISE^2) per coordinate,
    from :data:`START`, with rate ``lrs[t]`` at step t. Returns the mean excess loss f(w_t) (f* = 0) over
    ``num_seeds`` runs, for t = 0, ..., len(lrs)."""
    h = np.array(CURVATURES)
    rng = np.random.default_rng(seed)
    w = np.tile(np.array(START, dtype=float), (num_seeds, 1))
    out = [float(np.mean(0.5 * (w ** 2) @ h))]
    for lr in lrs:
        g = h * w + NOISE * rng.standard_normal(w.shape)
        w = w - lr * g
        out.append(float(np.mean(0.5 * (w ** 2) @ h)))
    return np.array(out)


@functools.lru_cache(maxsize=128)
def _excess(schedule, num_steps, peak):
    return noisy_quadratic(lr_curve(schedule, num_steps, peak))


def frame(schedule: str = "cosine", peak: float = 0.4, num_steps: int = DEMO_STEPS, fig: Figure | None = None):
    """Two panels: the schedule's rate per step (constant at the same peak in grey), and the mean excess loss of
    SGD on the noisy quadratic under both (log scale)."""
    fig = fig or Figure(figsize=FIGSIZE, layout="constrained")
    fig.clear()
    ax1, ax2 = fig.subplots(1, 2)
    const = lr_curve("constant", num_steps, peak)
    ours = lr_curve(schedule, num_steps, peak)
    const_loss, our_loss = _excess("constant", num_steps, peak), _excess(schedule, num_steps, peak)
    steps = np.arange(1, num_steps + 1)
    ax1.plot(steps, const, color=COLORS["constant"], lw=1.5, ls="--", label="constant")
    if schedule != "constant":
        ax1.plot(steps, ours, color=COLORS[schedule], lw=2, label=schedule)
    ax1.set_xlabel("optimizer step", fontsize=11)
    ax1.set_ylabel("learning rate", fontsize=11)
    ax1.set_ylim(0, 1.8)
    ax1.set_title(f"peak rate {peak:g}", fontsize=11)
    ax1.legend(fontsize=10, loc="upper right")
    ax1.tick_params(labelsize=10)
    ax2.semilogy(np.arange(num_steps + 1), const_loss, color=COLORS["constant"], lw=1.5, ls="--",
                 label="constant")
    if schedule != "constant":
        ax2.semilogy(np.arange(num_steps + 1), our_loss, color=COLORS[schedule], lw=2, label=schedule)
    ax2.set_ylim(1e-2, 1e1)
    ax2.set_xlabel("optimizer step", fontsize=11)
    ax2.set_ylabel("mean excess loss", fontsize=11)
    ax2.set_title("SGD on a noisy quadratic", fontsize=11)
    ax2.legend(fontsize=10, loc="upper right")
    ax2.tick_params(labelsize=10)
    return fig


def site_demo(schedules: Sequence[str] = SCHEDULES, peaks: Sequence[float] = DEMO_PEAKS):
    """The website's demo: sliders over the schedule and its peak rate, every frame drawn now."""
    from coursekit.demos.slider import figure_slider

    params = {"schedule": list(schedules), "peak": list(peaks)}
    start = {name: value for name, value in (("schedule", "cosine"), ("peak", 0.4)) if value in params[name]}
    return figure_slider(
        lambda schedule, peak: frame(schedule, peak), params,
        labels={"schedule": "schedule", "peak": "peak learning rate"}, formats={"peak": "g"}, initial=start,
        caption=("Move the schedule slider, then the peak rate. Left: the rate each SGD step uses (grey dashes: the "
                 "same peak held constant). Right: the mean excess loss over 200 runs of SGD with noisy gradients "
                 "on a quadratic with curvatures 1 and 0.25, log scale. A constant rate stalls at a noise floor "
                 "that grows with the rate; every schedule that ends low goes far below it."),
        alt=("Two panels: the learning rate against the optimizer step for the chosen schedule and a constant "
             "rate, and the mean excess loss of SGD on a noisy quadratic against the step on a log scale for both"))


def interactive():
    """A live version for Jupyter: the schedule, the peak rate and the number of steps."""
    import ipywidgets as widgets

    schedule = widgets.Dropdown(options=list(SCHEDULES), value="cosine", description="schedule")
    peak = widgets.FloatLogSlider(value=0.4, base=10, min=-2, max=0.3, step=0.05, description="peak lr",
                                  continuous_update=False)
    num_steps = widgets.IntSlider(value=DEMO_STEPS, min=50, max=1000, step=50, description="steps",
                                  continuous_update=False)
    image = widgets.Image(format="png")
    box = widgets.VBox([widgets.HBox([schedule, peak, num_steps]), image])
    box.state = {"renders": 0}
    fig = Figure(figsize=FIGSIZE, layout="constrained")

    def render(_change=None):
        frame(schedule.value, peak.value, num_steps.value, fig=fig)
        image.value = png_bytes(fig)
        box.state["renders"] += 1

    for w in (schedule, peak, num_steps):
        w.observe(render, names="value")
    box.controls = {"schedule": schedule, "peak": peak, "num_steps": num_steps}
    render()
    return box


# ---------------------------------------------------------------- the digits experiments
def digits_data(seed: int = 0):
    """scikit-learn's digits scaled to [0, 1], split 75/25 into training and validation sets (float32 tensors)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X_train, X_val, y_train, y_val = train_test_split(X / 16.0, y, test_size=0.25, random_state=seed, stratify=y)
    t = lambda a, dt: torch.tensor(a, dtype=dt)  # noqa: E731
    return t(X_train, torch.float32), t(X_val, torch.float32), t(y_train, torch.long), t(y_val, torch.long)


def mlp(seed: int = 0, hidden: int = 64):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(64, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, hidden),
                               torch.nn.ReLU(), torch.nn.Linear(hidden, 10))


def train_digits(schedule: str, peak: float, num_epochs: int = 20, batch_size: int = 128, seed: int = 0,
                 data=None, momentum: float = 0.0):
    """The MLP trained with torch.optim.SGD (``momentum``, torch's default 0) at peak rate ``peak`` under
    ``schedule``, stepped after every optimizer step. ``seed`` sets the initialization and the batch order.
    Returns {"train_loss", "val_loss", "val_acc"}: per epoch, the loss of the weights after the epoch on the
    whole training set (not a running mean of batch losses, which would penalize large rates), and the
    validation loss and accuracy after the epoch."""
    X_train, X_val, y_train, y_val = data if data is not None else digits_data()
    net = mlp(seed)
    opt = torch.optim.SGD(net.parameters(), lr=peak, momentum=momentum)
    n = len(X_train)
    per_epoch = (n + batch_size - 1) // batch_size
    sched = make_scheduler(schedule, opt, num_epochs * per_epoch)
    g = torch.Generator().manual_seed(seed)
    out = {"train_loss": [], "val_loss": [], "val_acc": []}
    for _ in range(num_epochs):
        net.train()
        order = torch.randperm(n, generator=g)
        for k in range(per_epoch):
            idx = order[k * batch_size:(k + 1) * batch_size]
            opt.zero_grad()
            loss = F.cross_entropy(net(X_train[idx]), y_train[idx])
            loss.backward()
            opt.step()
            sched.step()
        net.eval()
        with torch.no_grad():
            logits = net(X_val)
            out["val_loss"].append(F.cross_entropy(logits, y_val).item())
            out["val_acc"].append((logits.argmax(1) == y_val).float().mean().item())
            out["train_loss"].append(F.cross_entropy(net(X_train), y_train).item())
    return {k: np.array(v) for k, v in out.items()}


def range_test(lr_min: float = 1e-3, lr_max: float = 10.0, num_steps: int = 120, batch_size: int = 128,
               seed: int = 0, data=None, momentum: float = 0.0):
    """The learning-rate range test: one short run whose rate grows geometrically from ``lr_min`` to ``lr_max``
    (torch's ExponentialLR stepped every iteration), recording each mini-batch loss (inf once it overflows).
    Returns (rates, losses)."""
    X_train = (data if data is not None else digits_data())[0]
    y_train = (data if data is not None else digits_data())[2]
    net = mlp(seed)
    opt = torch.optim.SGD(net.parameters(), lr=lr_min, momentum=momentum)
    gamma = (lr_max / lr_min) ** (1 / (num_steps - 1))
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=gamma)
    g = torch.Generator().manual_seed(seed)
    rates, losses = [], []
    order = torch.randperm(len(X_train), generator=g)
    for k in range(num_steps):
        start = (k * batch_size) % (len(X_train) - batch_size)
        idx = order[start:start + batch_size]
        rates.append(opt.param_groups[0]["lr"])
        opt.zero_grad()
        loss = F.cross_entropy(net(X_train[idx]), y_train[idx])
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item() if np.isfinite(loss.item()) else np.inf)
    return np.array(rates), np.array(losses)


def train_digits_batched(runs: Sequence[tuple[str, float]], num_epochs: int = 20, batch_size: int = 128,
                         seed: int = 0, data=None, momentum: float = 0.9):
    """Many runs of :func:`train_digits` at once, one per (schedule, peak) in ``runs``, on the same data, the
    same initialization and the same batch order (all set by ``seed``), so the runs are paired.

    The networks are stacked and trained together with batched matrix products; the update is torch.optim.SGD's
    (``momentum``, dampening 0, the buffer starting at the first gradient) with the rate each step of
    :func:`lr_curve` gives, i.e. the rate torch's scheduler would set. It matches :func:`train_digits` up to
    floating-point rounding and is several times faster. Returns a list of dicts like :func:`train_digits`.
    """
    X_train, X_val, y_train, y_val = data if data is not None else digits_data()
    n, R = len(X_train), len(runs)
    per_epoch = (n + batch_size - 1) // batch_size
    total = num_epochs * per_epoch
    # every schedule here is a factor times the peak: read torch's factors once per schedule, scale by the peak
    lrs = torch.tensor(np.array([peak * lr_curve(name, total, 1.0) for name, peak in runs]), dtype=torch.float32)
    layers = [m for m in mlp(seed) if isinstance(m, torch.nn.Linear)]
    params = []
    for m in layers:  # (R, in, out) weights and (R, 1, out) biases, every run starting from the same net
        params.append(m.weight.detach().t().unsqueeze(0).repeat(R, 1, 1).requires_grad_())
        params.append(m.bias.detach().view(1, 1, -1).repeat(R, 1, 1).requires_grad_())
    bufs = [None] * len(params)

    def forward(X):
        h = X.unsqueeze(0).expand(R, -1, -1)
        for k in range(0, len(params), 2):
            h = torch.baddbmm(params[k + 1], h, params[k])
            if k + 2 < len(params):
                h = torch.relu(h)
        return h  # (R, batch, 10)

    def losses(logits, y):  # mean cross-entropy of each run
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.repeat(R), reduction="none").view(R, -1).mean(1)

    g = torch.Generator().manual_seed(seed)
    out = [{"train_loss": [], "val_loss": [], "val_acc": []} for _ in range(R)]
    step = 0
    for _ in range(num_epochs):
        order = torch.randperm(n, generator=g)
        for k in range(per_epoch):
            idx = order[k * batch_size:(k + 1) * batch_size]
            for p in params:
                p.grad = None
            losses(forward(X_train[idx]), y_train[idx]).sum().backward()  # runs are independent
            with torch.no_grad():
                lr = lrs[:, step].view(R, 1, 1)
                for i, p in enumerate(params):
                    d = p.grad
                    if momentum:
                        bufs[i] = d.clone() if bufs[i] is None else bufs[i].mul_(momentum).add_(d)
                        d = bufs[i]
                    p.sub_(lr * d)
            step += 1
        with torch.no_grad():
            logits = forward(X_val)
            val_loss, val_acc = losses(logits, y_val), (logits.argmax(-1) == y_val).float().mean(1)
            train_loss = losses(forward(X_train), y_train)
        for r in range(R):
            out[r]["val_loss"].append(float(val_loss[r]))
            out[r]["val_acc"].append(float(val_acc[r]))
            out[r]["train_loss"].append(float(train_loss[r]))
    return [{k: np.array(v) for k, v in o.items()} for o in out]
