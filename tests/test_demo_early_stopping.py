"""Chapter 5's demo and experiment helpers (coursekit.demos.early_stopping): the digits splits, the shifted
copies, the MLP runs, the patience rule on recorded curves (against the reference EarlyStopping), the figure,
the site's slider and the live widget."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure
from scipy import ndimage

from coursekit.demos import early_stopping as es
from solutions.early_stopping import EarlyStopping

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _history(num_epochs=80, seed=0):
    """A synthetic run: training loss falling, validation loss U-shaped with noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(num_epochs)
    train = 2.0 * np.exp(-t / 10) + 1e-3
    val = 0.3 + 2.0 * np.exp(-t / 8) + 0.002 * t + 0.02 * rng.standard_normal(num_epochs)
    return {"train_loss": train, "val_loss": val}


@pytest.fixture
def synthetic(monkeypatch):
    history = _history()
    monkeypatch.setattr(es, "demo_run", lambda *args, **kwargs: history)
    return history


@pytest.fixture(scope="module")
def digits():
    return es.digits_splits(n_train=100, n_val=200, seed=0)


def test_digits_splits_partition_the_data_with_a_zero_background(digits):
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    assert digits["X_train"].shape == (100, 64) and digits["X_test"].shape == (len(y) - 300, 64)
    assert digits["X_train"].dtype == torch.float32 and digits["y_val"].dtype == torch.int64
    for split in ("train", "val", "test"):
        assert digits[f"X_{split}"].min() == 0 and digits[f"X_{split}"].max() <= 1
    counts = sum(torch.bincount(digits[f"y_{s}"], minlength=10) for s in ("train", "val", "test"))
    assert counts.tolist() == np.bincount(y, minlength=10).tolist()
    with pytest.raises(ValueError):
        es.digits_splits(n_train=1000, n_val=1000)


def test_shifted_copies_move_whole_pixels_and_fill_with_zeros():
    X = np.zeros((2, 64), dtype=np.float32)
    X[0, 0] = 1.0            # top-left pixel
    X[1, 9] = 2.0            # row 1, column 1
    copies = es.shifted_copies(X)
    assert copies.shape == (9, 2, 64)
    for k, (dr, dc) in enumerate(es.SHIFTS):
        img = copies[k, 1].reshape(8, 8)
        assert img[1 + dr, 1 + dc] == 2.0 and img.sum() == 2.0
        top_left = copies[k, 0].reshape(8, 8)
        if dr < 0 or dc < 0:
            assert top_left.sum() == 0     # moved out of the frame: gone, not wrapped around
        else:
            assert top_left[dr, dc] == 1.0
        np.testing.assert_array_equal(img, ndimage.shift(X[1].reshape(8, 8), (dr, dc), order=0, cval=0.0))


def test_train_mlp_records_every_epoch_and_is_reproducible(digits):
    net, h = es.train_mlp(digits, num_epochs=3, keep_states=True)
    assert {"train_loss", "train_acc", "val_loss", "val_acc", "test_loss", "test_acc", "states"} <= set(h)
    assert all(len(h[k]) == 3 for k in ("train_loss", "val_loss", "test_acc", "states"))
    with torch.no_grad():
        out = net(digits["X_val"])
    assert h["val_loss"][-1] == pytest.approx(torch.nn.functional.cross_entropy(out, digits["y_val"]).item(), rel=1e-5)
    assert torch.equal(h["states"][-1]["0.weight"], net[0].weight) and h["states"][0]["0.weight"] is not net[0].weight
    assert not torch.equal(h["states"][0]["0.weight"], h["states"][-1]["0.weight"])     # real copies
    _, again = es.train_mlp(digits, num_epochs=3)
    np.testing.assert_array_equal(again["val_loss"], h["val_loss"])


def test_augmentation_changes_training_only(digits):
    _, plain = es.train_mlp(digits, num_epochs=2)
    _, shifted = es.train_mlp(digits, num_epochs=2, augment=True)
    assert not np.allclose(plain["train_loss"], shifted["train_loss"])
    # The data the run is evaluated on are not changed by it.
    again = es.digits_splits(n_train=100, n_val=200, seed=0)
    assert all(torch.equal(again[k], digits[k]) for k in again)


def test_train_mlp_stops_with_patience(digits):
    _, h = es.train_mlp(digits, num_epochs=300, patience=0, lr=0.5)
    v = h["val_loss"]
    assert len(v) < 300 and v[-1] >= v[:-1].min()                  # stopped at the first non-improvement
    assert np.all(np.diff(v[:-1]) < 0)


@pytest.mark.parametrize("seed", range(20))
def test_patience_stop_agrees_with_the_reference_early_stopping(seed):
    val = _history(60, seed)["val_loss"]
    for patience in (0, 1, 3, 8, 20):
        stopper, net = EarlyStopping(patience=patience), torch.nn.Linear(1, 1)
        stop = next((t for t, v in enumerate(val) if stopper.step(v, net)), len(val) - 1)
        assert es.patience_stop(val, patience) == (stop, stopper.best_epoch)


def test_sweep_patience_restoring_never_hurts():
    sweep = es.sweep_patience(_history()["val_loss"])
    assert list(sweep["patience"]) == list(es.PATIENCES)
    assert np.all(sweep["val_restored"] <= sweep["val_at_stop"])
    assert np.all(np.diff(sweep["stop"]) >= 0) and np.all(sweep["best"] <= sweep["stop"])


def test_demo_figure_is_two_readable_panels():
    fig = es.demo_figure(5, _history())
    assert isinstance(fig, Figure)
    width, height = fig.get_size_inches()
    assert width <= 8 and height <= 5
    assert len(fig.axes) == 2
    fig.canvas.draw()
    sizes = [t.get_fontsize() for ax in fig.axes
             for t in [ax.title, ax.xaxis.label, ax.yaxis.label] + ax.get_xticklabels() + ax.get_yticklabels()]
    sizes += [t.get_fontsize() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts()]
    assert min(sizes) >= 10, sizes
    stop, best = es.patience_stop(_history()["val_loss"], 5)
    labels = [line.get_label() for line in fig.axes[0].get_lines()]
    assert f"stopped: {stop + 1}" in labels and f"restored: {best + 1}" in labels


def test_site_demo_has_a_frame_per_patience(synthetic):
    from matplotlib.image import imread

    from coursekit.demos.slider import FigureSlider

    slider = es.site_demo()
    assert isinstance(slider, FigureSlider)
    assert slider.params["patience"] == list(es.PATIENCES) and len(slider.frames) <= 40
    assert all(frame.startswith(PNG_MAGIC) for frame in slider.frames)
    assert len(set(slider.frames)) == len(slider.frames)
    assert slider.start == {"patience": 0}
    html = slider._repr_html_()
    assert 'type="range"' in html and 'alt="' in html
    assert imread(io.BytesIO(slider.frames[0])).shape[1] <= 8 * 100


def test_widget_recomputes_when_the_slider_moves(synthetic):
    import ipywidgets as widgets

    w = es.interactive()
    assert isinstance(w, widgets.VBox) and isinstance(w.patience, widgets.IntSlider)
    first = bytes(w.image.value)
    assert first.startswith(PNG_MAGIC)
    w.patience.value = 0
    assert bytes(w.image.value) != first
    stop, best = es.patience_stop(synthetic["val_loss"], 0)
    assert (w.state["stop"], w.state["best"]) == (stop, best)
    assert f"epoch {stop + 1}" in w.summary.value
