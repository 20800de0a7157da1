"""Tests for the Chapter 1 demo and experiments, coursekit.demos.generalization."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from coursekit.demos import generalization as g

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


# ----------------------------------------------------------------- the closed forms
@pytest.mark.parametrize("degree", [0, 3, 7])
def test_smoother_reproduces_least_squares(degree):
    x = g.training_inputs()
    y = np.random.default_rng(3).standard_normal(len(x))
    coef = np.polynomial.polynomial.polyfit(x, y, degree)
    np.testing.assert_allclose(g.smoother(degree, x, g.GRID) @ y,
                               np.polynomial.polynomial.polyval(g.GRID, coef), atol=1e-8)
    with pytest.raises(ValueError):
        g.smoother(-1, x, x)


def test_closed_form_matches_a_simulation():
    r = g.decomposition([2, 5])
    for i, d in enumerate((2, 5)):
        _, Y, fits = g.sample_fits(d, num_fits=3000, seed=0)
        truth = g.true_function(g.GRID)
        assert fits.var(axis=0).mean() == pytest.approx(r["variance"][i], rel=0.06)
        assert np.mean((fits.mean(axis=0) - truth) ** 2) == pytest.approx(r["bias2"][i], rel=0.1, abs=2e-4)
        # expected training error: simulate it at the training inputs
        x = g.training_inputs()
        H = g.smoother(d, x, x)
        train = np.mean((Y @ H.T - Y) ** 2)
        assert train == pytest.approx(r["train"][i], rel=0.05)


def test_the_classic_picture():
    r = g.decomposition()
    assert np.all(np.diff(r["variance"]) > 0)                 # variance grows with the degree
    assert np.all(np.diff(r["train"]) < 0)                    # training error only falls
    assert r["bias2"][0] > 10 * r["bias2"][5]
    best = int(np.argmin(r["test"]))
    assert 0 < best < len(r["test"]) - 1                       # U-shaped test error
    np.testing.assert_allclose(r["test"], r["bias2"] + r["variance"] + g.NOISE ** 2)
    assert np.all(r["train"] < r["test"])


# ----------------------------------------------------------------- the figures
def test_demo_figure_fits_the_page():
    fig = g.demo_figure(3)
    assert isinstance(fig, Figure)
    w, h = fig.get_size_inches()
    assert w <= 8 and h <= 5
    fig.canvas.draw()
    sizes = [t.get_fontsize() for ax in fig.axes
             for t in [ax.title, ax.xaxis.label, ax.yaxis.label] + ax.get_xticklabels() + ax.get_yticklabels()]
    sizes += [t.get_fontsize() for legend in fig.legends for t in legend.get_texts()]
    assert min(sizes) >= 10, sizes
    ax_fit, ax_err = fig.axes
    expected = [line for line in ax_fit.get_lines() if line.get_label() == "expected fit"][0]
    x = g.training_inputs()
    np.testing.assert_allclose(expected.get_ydata(), g.smoother(3, x, g.GRID) @ g.true_function(x))
    assert "degree 3" in ax_fit.get_title()


def test_site_demo_has_a_frame_per_degree():
    from coursekit.demos.slider import FigureSlider

    slider = g.site_demo()
    assert isinstance(slider, FigureSlider)
    assert slider.params["degree"] == list(g.DEGREES)
    assert len(slider.frames) == len(g.DEGREES) <= 40
    assert all(f.startswith(PNG_MAGIC) for f in slider.frames)
    assert len(set(slider.frames)) == len(slider.frames)
    assert slider.start == {"degree": 0}
    html = slider._repr_html_()
    assert 'type="range"' in html and 'alt="' in html


def test_widget_recomputes():
    import ipywidgets as widgets

    w = g.interactive()
    assert isinstance(w, widgets.VBox)
    assert bytes(w.image.value).startswith(PNG_MAGIC)
    first = bytes(w.image.value)
    w.degree.value = 9
    assert w.state["degree"] == 9 and bytes(w.image.value) != first
    r = g.decomposition(n=w.n_train.value)
    assert w.state["variance"] == pytest.approx(r["variance"][9])
    w.n_train.value = 100
    r100 = g.decomposition(n=100)
    assert w.state["variance"] == pytest.approx(r100["variance"][9])
    assert w.state["variance"] < r["variance"][9]             # more data, less variance
    assert "degree 9" in w.summary.value


# ----------------------------------------------------------------- the experiments
@pytest.fixture(scope="module")
def digits():
    return g.digits_splits(n_train=100, n_val=200, seed=0)


def test_digits_splits(digits):
    assert digits["X_train"].shape == (100, 64) and digits["X_val"].shape == (200, 64)
    assert digits["X_train"].dtype == torch.float32 and digits["y_train"].dtype == torch.int64
    assert digits["X_train"].double().mean(0).abs().max() < 1e-5
    with pytest.raises(ValueError):
        g.digits_splits(1000, 1000)


def test_shuffled_labels_keep_the_counts(digits):
    y = digits["y_train"]
    r = g.shuffled_labels(y)
    assert torch.equal(torch.bincount(r, minlength=10), torch.bincount(y, minlength=10))
    assert (r != y).double().mean() > 0.7


def test_train_mlp_reports_what_the_net_computes(digits):
    net, h = g.train_mlp(16, digits, num_epochs=3)
    assert set(h) == {"train_loss", "train_acc", "val_loss", "val_acc"} and len(h["val_acc"]) == 3
    with torch.no_grad():
        out = net(digits["X_val"])
    assert h["val_loss"][-1] == pytest.approx(torch.nn.functional.cross_entropy(out, digits["y_val"]).item(),
                                              rel=1e-5)
    _, h2 = g.train_mlp(16, digits, num_epochs=3)
    np.testing.assert_array_equal(h["val_loss"], h2["val_loss"])
    before = torch.get_num_threads()
    g.train_mlp(4, digits, num_epochs=1)
    assert torch.get_num_threads() == before


def test_random_features_interpolate_past_the_threshold():
    r = g.random_feature_errors([20, 100, 400], n_train=100, n_test=200, num_draws=2)
    assert r["train_mse"][2] < 1e-12 and r["train_mse"][1] < 1e-8 and r["train_mse"][0] > 0.1
    assert r["test_mse"][1] > r["test_mse"][0] and r["test_mse"][1] > r["test_mse"][2]   # the peak at p = n
    assert r["norm"][1] > r["norm"][2]
