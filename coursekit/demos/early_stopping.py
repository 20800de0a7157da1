"""Chapter 5 demo and experiments: early stopping and data augmentation on scikit-learn's 8x8 digits.

Nothing here implements the exercise: stopping rules are applied to recorded curves, shifts use
``scipy.ndimage.shift`` and rotations ``scipy.ndimage.rotate``.
"""

from __future__ import annotations

import numpy as np


def digits_splits(n_train: int = 200, n_val: int = 500, seed: int = 0) -> dict:
    """scikit-learn's bundled 8x8 digits (1797 images, nothing downloaded), split three ways.

    Pixels are divided by 16, so they lie in [0, 1] with a background of 0 (a shifted image is filled
    with zeros, the background). Returns a dict of float32 tensors ``X_train``, ``X_val``, ``X_test``
    (rows of 64 pixels) and int64 tensors ``y_train``, ``y_val``, ``y_test``; the test set is every
    image in neither of the first two.
    """
    import torch
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    if n_train < 1 or n_val < 1 or n_train + n_val >= len(y):
        raise ValueError(f"need 1 <= n_train, n_val and n_train + n_val < {len(y)}")
    idx = np.random.default_rng(seed).permutation(len(y))
    parts = np.split(idx, [n_train, n_train + n_val])
    out = {}
    for name, part in zip(("train", "val", "test"), parts):
        out[f"X_{name}"] = torch.tensor(X[part] / 16.0, dtype=torch.float32)
        out[f"y_{name}"] = torch.tensor(y[part], dtype=torch.int64)
    return out


# --------------------------------------------------------------------------- the network experiments

#: Settings of the chapter's MLP runs (mini-batch SGD with momentum, as in Chapter 2's experiment).
HIDDEN, LR, MOMENTUM, BATCH_SIZE = 128, 0.1, 0.9, 64
#: The nine whole-pixel shifts of the augmentation (max_shift = 1).
SHIFTS = tuple((dr, dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1))


def shifted_copies(X, shifts=SHIFTS):
    """Every image of ``X`` ((n, 64), background 0) shifted by each of ``shifts``, zero-filled, with
    ``scipy.ndimage.shift`` (order 0: whole pixels, nothing interpolated). Shape (len(shifts), n, 64)."""
    from scipy import ndimage

    images = np.asarray(X, dtype=np.float32).reshape(-1, 8, 8)
    return np.stack([ndimage.shift(images, (0, dr, dc), order=0, mode="constant", cval=0.0).reshape(-1, 64)
                     for dr, dc in shifts])


def train_mlp(splits: dict, *, num_epochs: int = 150, augment: bool = False, seed: int = 0,
              keep_states: bool = False, hidden: int = HIDDEN, lr: float = LR, patience: int | None = None,
              batch_size: int = BATCH_SIZE):
    """Train a 64-``hidden``-10 ReLU MLP with ``torch.optim.SGD(lr, momentum=0.9)``, batches of ``batch_size``
    (``BATCH_SIZE`` = 64 by default), on the
    mean cross-entropy; with ``augment``, each training image of each epoch is shifted by one of the nine
    shifts of at most one pixel, drawn uniformly (validation and test data are never augmented).

    With ``patience``, training ends after the first epoch that lies ``patience`` or more epochs after the
    epoch of the lowest validation loss so far (and is not itself a new lowest), at most ``num_epochs``.

    Returns ``(net, history)``: ``history`` holds per-epoch ``train_loss`` and ``train_acc`` (on the
    un-augmented training images), ``val_loss``, ``val_acc``, ``test_loss``, ``test_acc``, and with
    ``keep_states`` a list
    ``states`` of deep copies of the state_dict after every epoch (cheap for this small net). Same ``seed``:
    same initialization and batch order.
    """
    import copy

    import torch
    from torch import nn

    X_train, y_train = splits["X_train"], splits["y_train"]
    copies = torch.tensor(shifted_copies(X_train.numpy())) if augment else None
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(seed)
        net = nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, 10))
        opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=MOMENTUM)
        loss_fn = nn.CrossEntropyLoss()
        order = torch.Generator().manual_seed(seed)
        pick = np.random.default_rng(seed)
        keys = ("train_loss", "train_acc", "val_loss", "val_acc", "test_loss", "test_acc")
        history = {key: [] for key in keys}
        states = []
        n = len(y_train)
        for _ in range(num_epochs):
            net.train()
            X_epoch = X_train
            if augment:
                which = torch.as_tensor(pick.integers(0, len(SHIFTS), n))
                X_epoch = copies[which, torch.arange(n)]
            perm = torch.randperm(n, generator=order)
            for start in range(0, n, batch_size):
                batch = perm[start:start + batch_size]
                opt.zero_grad()
                loss_fn(net(X_epoch[batch]), y_train[batch]).backward()
                opt.step()
            net.eval()
            with torch.no_grad():
                for split in ("train", "val", "test"):
                    out = net(splits[f"X_{split}"])
                    y = splits[f"y_{split}"]
                    history[f"{split}_loss"].append(loss_fn(out, y).item())
                    history[f"{split}_acc"].append((out.argmax(1) == y).double().mean().item())
            if keep_states:
                states.append(copy.deepcopy(net.state_dict()))
            if patience is not None:
                val = history["val_loss"]
                since_best = len(val) - 1 - int(np.argmin(val))
                if since_best >= max(patience, 1):
                    break
    finally:
        torch.set_num_threads(threads)
    history = {key: np.array(values) for key, values in history.items()}
    if keep_states:
        history["states"] = states
    return net, history


def patience_stop(val_loss, patience: int) -> tuple[int, int]:
    """Where a patience rule (min_delta = 0, Keras' semantics) stops on a recorded validation curve.

    Returns ``(stop, best)``: the 0-based epoch at whose evaluation training ends (the first epoch that
    is not a new minimum and lies ``patience`` or more epochs after the best one so far; the last epoch
    if there is none) and the epoch of the best value up to it, whose weights a restore brings back.
    """
    # Offline, on the whole recorded curve at once (the exercise's stopper works online, one epoch at a time).
    v = np.asarray(val_loss, dtype=float)
    epochs = np.arange(len(v))
    new_best = np.r_[True, v[1:] < np.minimum.accumulate(v)[:-1]]
    best_so_far = np.maximum.accumulate(np.where(new_best, epochs, 0))
    stops = np.flatnonzero(~new_best & (epochs - best_so_far >= patience))
    stop = int(stops[0]) if stops.size else len(v) - 1
    return stop, int(best_so_far[stop])


# --------------------------------------------------------------------------- the demo

#: The slider positions of the website's demo.
PATIENCES = (0, 1, 2, 3, 5, 8, 10, 15, 20, 30, 50)
#: Size and font of a demo frame: at the site's column width (about 700 px) it shows at full size.
FIGSIZE = (7.0, 3.8)
FONT_SIZE = 11
NUM_EPOCHS = 150


_RUNS: dict = {}


def demo_run(n_train: int = 200, n_val: int = 500, seed: int = 0, num_epochs: int = NUM_EPOCHS) -> dict:
    """The recorded run the demo and the chapter use: ``train_mlp`` on ``digits_splits(n_train, n_val,
    seed)`` with a copy of the state after every epoch (computed once per process)."""
    key = (n_train, n_val, seed, num_epochs)
    if key not in _RUNS:
        splits = digits_splits(n_train, n_val, seed)
        _, history = train_mlp(splits, num_epochs=num_epochs, seed=seed, keep_states=True)
        _RUNS[key] = history
    return _RUNS[key]


def sweep_patience(val_loss, patiences=PATIENCES) -> dict:
    """For each patience: the epoch training stops, the best (restored) epoch, and the validation loss
    of the weights at the stop and of the restored weights."""
    val_loss = np.asarray(val_loss, dtype=float)
    stops, bests = zip(*(patience_stop(val_loss, p) for p in patiences))
    stops, bests = np.array(stops), np.array(bests)
    return {"patience": np.array(patiences), "stop": stops, "best": bests,
            "val_at_stop": val_loss[stops], "val_restored": val_loss[bests]}


def _draw(fig, history: dict, patience: int, sweep: dict) -> None:
    epochs = np.arange(1, len(history["val_loss"]) + 1)
    stop, best = patience_stop(history["val_loss"], patience)
    ax_curve, ax_sweep = fig.subplots(1, 2, width_ratios=(3, 2))
    # A linear axis, clipped at 3.5 times the lowest validation loss: a log axis would hide the few per cent
    # by which the validation loss creeps back up after its minimum.
    ax_curve.plot(epochs, history["train_loss"], color="tab:blue", label="training")
    ax_curve.plot(epochs, history["val_loss"], color="tab:orange", label="validation")
    ax_curve.axvspan(stop + 1, epochs[-1], color="0.85", label="not trained")
    ax_curve.axvline(best + 1, color="tab:green", lw=1.5, label=f"restored: {best + 1}")
    ax_curve.axvline(stop + 1, color="tab:red", lw=1.5, ls="--", label=f"stopped: {stop + 1}")
    ax_curve.set(xlabel="epoch", ylabel="mean cross-entropy",
                 ylim=(0, 3.5 * float(np.min(history["val_loss"]))), xlim=(1, epochs[-1]),
                 title=f"patience = {patience}")
    ax_curve.legend(loc="upper right", fontsize=10, ncol=2, framealpha=0.9)
    ax_curve.grid(True, alpha=0.3)
    pos = np.arange(len(sweep["patience"]))
    k = list(sweep["patience"]).index(patience)
    ax_sweep.plot(pos, sweep["val_at_stop"], "o-", color="tab:red", ms=4, label="at the stop")
    ax_sweep.plot(pos, sweep["val_restored"], "s-", color="tab:green", ms=4, label="restored")
    ax_sweep.axvline(k, color="0.5", lw=1)
    ax_sweep.set_xticks(pos[::2], [str(p) for p in sweep["patience"][::2]])
    ax_sweep.set(xlabel="patience", ylabel="validation loss", title="weights returned")
    ax_sweep.legend(fontsize=10, loc="center right")
    ax_sweep.grid(True, alpha=0.3)
    for ax in (ax_curve, ax_sweep):
        ax.tick_params(labelsize=FONT_SIZE, which="both")


def demo_figure(patience: int = 10, history: dict | None = None):
    """One frame: the recorded curves with the stop and the restored epoch for ``patience`` (left), and the
    validation loss of the weights a loop returns with and without restoring, for every patience (right)."""
    import matplotlib
    from matplotlib.figure import Figure

    history = demo_run() if history is None else history
    sweep = sweep_patience(history["val_loss"])
    with matplotlib.rc_context({"font.size": FONT_SIZE}):
        fig = Figure(figsize=FIGSIZE, layout="constrained")
        _draw(fig, history, patience, sweep)
    return fig


def site_demo(initial: int = 0, seed: int = 0):
    """The website's demo: a slider over ``PATIENCES``, every frame drawn now from one recorded run
    (``demo_run(seed=seed)``: the seed draws the split, the initialization and the batch order)."""
    from coursekit.demos.slider import figure_slider

    history = demo_run(seed=seed)

    def draw(patience):
        return demo_figure(patience, history)

    return figure_slider(
        draw, {"patience": list(PATIENCES)}, initial={"patience": initial},
        caption=("Move the slider from patience 0 to 50. Left: training and validation loss of the MLP on 200 "
                 "digits; the red dashed line is where a patience rule stops, the green line the best epoch "
                 "up to then, whose weights a restore brings back. Right: the validation loss of the weights "
                 "returned without restoring (red) and with it (green) for every patience; the current one "
                 "is marked."),
        alt=("Two panels. Left: falling training loss and a validation loss that bottoms out and creeps up, "
             "with vertical lines at the stopping and the best epoch. Right: two curves of validation loss "
             "against patience; the restored one is never above the one at the stop."))


def interactive():
    """The live version for Jupyter: a slider for the patience over the recorded run (0 to 60)."""
    import ipywidgets as widgets
    import matplotlib
    from matplotlib.figure import Figure

    from coursekit.demos.slider import png_bytes

    class EarlyStoppingDemo(widgets.VBox):
        def __init__(self):
            self.history = demo_run()
            self.sweep = sweep_patience(self.history["val_loss"], tuple(range(61)))
            self.patience = widgets.IntSlider(value=10, min=0, max=60, description="patience",
                                              continuous_update=False)
            self.image = widgets.Image(format="png")
            self.summary = widgets.HTML()
            self.state: dict = {}
            super().__init__([self.patience, self.summary, self.image])
            self.patience.observe(self._update, names="value")
            self._update()

        def _update(self, change=None):
            p = int(self.patience.value)
            with matplotlib.rc_context({"font.size": FONT_SIZE}):
                fig = Figure(figsize=FIGSIZE, layout="constrained")
                _draw(fig, self.history, p, self.sweep)
                self.image.value = png_bytes(fig, dpi=80)
            stop, best = patience_stop(self.history["val_loss"], p)
            v = self.history["val_loss"]
            self.state = {"patience": p, "stop": stop, "best": best, "val_at_stop": float(v[stop]),
                          "val_restored": float(v[best])}
            self.summary.value = (f"patience {p}: stops after epoch {stop + 1}, restores epoch {best + 1}; "
                                  f"validation loss {v[stop]:.3f} at the stop, {v[best]:.3f} restored")

    return EarlyStoppingDemo()
