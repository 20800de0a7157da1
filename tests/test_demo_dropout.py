"""Tests for the Chapter 4 demo, coursekit.demos.dropout."""

import matplotlib

matplotlib.use("Agg")

import io

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure
from torch import nn

from coursekit.demos import dropout as dd

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def small_runs():
    """The grid of the demo, trained for 3 epochs only (the real sweep takes the page's time)."""
    splits = dd._splits()
    return {p: dd.train_digits_mlp(p, num_epochs=3, splits=splits)[1] for p in dd.P_GRID}


@pytest.fixture
def fast_sweep(monkeypatch, small_runs):
    monkeypatch.setattr(dd, "sweep", lambda *args, **kwargs: small_runs)
    return small_runs


# ----------------------------------------------------------------- the computation

def test_mlp_has_dropout_after_each_hidden_layer():
    net = dd.make_mlp(0.3)
    drops = [m for m in net if isinstance(m, nn.Dropout)]
    assert len(drops) == 2 and all(m.p == 0.3 for m in drops)
    assert isinstance(net[-1], nn.Linear) and net[-1].out_features == 10


def test_training_history_is_measured_in_eval_mode_on_the_returned_net():
    splits = dd._splits()
    net, h = dd.train_digits_mlp(0.5, num_epochs=2, splits=splits)
    assert set(h) == {"train_loss", "val_loss", "train_acc", "val_acc"} and all(len(v) == 2 for v in h.values())
    assert not net.training and not any(m.training for m in net.modules())
    with torch.no_grad():
        out = net(splits["X_val"])
    assert h["val_loss"][-1] == pytest.approx(nn.functional.cross_entropy(out, splits["y_val"]).item(), rel=1e-6)
    # Eval mode: the same input gives the same output (dropout off).
    with torch.no_grad():
        assert torch.equal(net(splits["X_val"][:5]), net(splits["X_val"][:5]))


def test_runs_are_reproducible_and_differ_only_through_p():
    splits = dd._splits()
    _, a = dd.train_digits_mlp(0.3, num_epochs=2, splits=splits)
    _, b = dd.train_digits_mlp(0.3, num_epochs=2, splits=splits)
    np.testing.assert_array_equal(a["val_loss"], b["val_loss"])
    _, c = dd.train_digits_mlp(0.0, num_epochs=2, splits=splits)
    assert not np.array_equal(a["val_loss"], c["val_loss"])
    with pytest.raises(ValueError):
        dd.train_digits_mlp(1.0, num_epochs=1, splits=splits)


def test_training_leaves_torch_threads_as_it_found_them():
    before = torch.get_num_threads()
    dd.train_digits_mlp(0.1, num_epochs=1)
    assert torch.get_num_threads() == before


def test_summary_is_the_last_epoch_and_the_gap(small_runs):
    s = dd.summary(small_runs)
    assert list(s["p"]) == list(dd.P_GRID)
    np.testing.assert_allclose(s["gap"], s["val_loss"] - s["train_loss"])
    assert np.all(s["best_val_loss"] <= s["val_loss"])
    assert s["val_loss"][0] == small_runs[0.0]["val_loss"][-1]


def test_regression_data_leaves_a_gap_and_mc_regression_is_deterministic():
    x, y = dd.regression_data()
    assert x.shape == y.shape == (40,)
    assert not np.any(np.abs(x) < 0.3) and x.min() >= -1 and x.max() <= 1
    net_a, net_b = dd.mc_regression(num_steps=20), dd.mc_regression(num_steps=20)
    assert not net_a.training
    for pa, pb in zip(net_a.parameters(), net_b.parameters()):
        assert torch.equal(pa, pb)
    assert sum(isinstance(m, nn.Dropout) and m.p == 0.2 for m in net_a.modules()) == 2


# ----------------------------------------------------------------- the figures

def test_demo_figure_is_two_readable_panels(small_runs):
    fig = dd.demo_figure(0.5, small_runs)
    assert isinstance(fig, Figure)
    width, height = fig.get_size_inches()
    assert width <= 8 and height <= 5
    ax_curves, ax_p = fig.axes
    fig.canvas.draw()
    sizes = [t.get_fontsize() for ax in fig.axes
             for t in [ax.title, ax.xaxis.label, ax.yaxis.label] + ax.get_xticklabels() + ax.get_yticklabels()]
    sizes += [t.get_fontsize() for t in ax_p.get_legend().get_texts()]
    sizes += [t.get_fontsize() for legend in fig.legends for t in legend.get_texts()]
    assert min(sizes) >= 10, sizes
    # Left: the curves of p = 0.5 and of no dropout; right: one point per p and a line at p.
    labels = [line.get_label() for line in ax_curves.get_lines()]
    assert "p = 0.5, validation" in labels and "no dropout, validation" in labels
    lines = {line.get_label(): line for line in ax_p.get_lines()}
    np.testing.assert_allclose(lines["after the last epoch"].get_ydata(), dd.summary(small_runs)["val_loss"])
    np.testing.assert_allclose(lines["lowest, any epoch"].get_ydata(), dd.summary(small_runs)["best_val_loss"])
    marks = [line for line in ax_p.get_lines() if list(line.get_xdata()) == [0.5, 0.5]]
    assert len(marks) == 1
    with pytest.raises(ValueError):
        dd.demo_figure(0.25, small_runs)


def test_site_demo_has_a_distinct_frame_per_p(fast_sweep):
    from matplotlib.image import imread

    from coursekit.demos.slider import FigureSlider

    slider = dd.site_demo()
    assert isinstance(slider, FigureSlider)
    assert slider.params["p"] == list(dd.P_GRID) and len(slider.frames) == len(dd.P_GRID) <= 40
    assert all(frame.startswith(PNG_MAGIC) for frame in slider.frames)
    assert len(set(slider.frames)) == len(dd.P_GRID)
    assert slider.params["p"][slider.start["p"]] == 0.5
    html = slider._repr_html_()
    assert 'type="range"' in html and 'alt="' in html
    assert imread(io.BytesIO(slider.frames[0])).shape[1] <= 8 * 100


# ----------------------------------------------------------------- the widget

def test_widget_builds_and_follows_the_slider(fast_sweep):
    import ipywidgets as widgets

    w = dd.interactive()
    assert isinstance(w, widgets.VBox)
    assert bytes(w.image.value).startswith(PNG_MAGIC)
    assert w.state["p"] == 0.5
    first = bytes(w.image.value)
    w.p.value = 0.7
    assert w.state["p"] == 0.7 and bytes(w.image.value) != first
    assert w.state["val_loss"] == pytest.approx(fast_sweep[0.7]["val_loss"][-1])
    assert "0.7" in w.summary.value
