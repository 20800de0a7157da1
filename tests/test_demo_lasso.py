"""Tests for the Chapter 3 demo, coursekit.demos.lasso."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure
from sklearn.linear_model import Lasso

from coursekit.demos import lasso as demo

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


# ----------------------------------------------------------------- the computation

def test_fit_is_sklearns_lasso_and_elastic_net():
    X, y = demo.plane_data()
    w, b = demo.fit(X, y, 0.1)
    sk = Lasso(alpha=0.1, tol=1e-12, max_iter=100_000).fit(X, y)
    np.testing.assert_allclose(w, sk.coef_, rtol=1e-9)
    assert b == pytest.approx(sk.intercept_)
    # the elastic net penalty is alpha * (r |w| + (1 - r)/2 w^2): at its solution the subgradient vanishes
    w, b = demo.fit(X, y, 0.2, 0.5)
    Xc, yc = X - X.mean(0), y - y.mean()
    g = Xc.T @ (Xc @ w - yc) / len(y) + 0.2 * (0.5 * np.sign(w) + 0.5 * w)
    np.testing.assert_allclose(g[w != 0], 0.0, atol=1e-8)


def test_path_is_decreasing_and_ends_at_zero():
    alphas, coefs = demo.path(1.0)
    assert np.all(np.diff(alphas) < 0) and coefs.shape == (10, len(alphas))
    X, y, _ = demo.path_data()
    Xc, yc = X - X.mean(0), y - y.mean()
    alpha_max = np.max(np.abs(Xc.T @ yc)) / len(y)
    assert np.all(coefs[:, alphas > alpha_max] == 0) and np.all(coefs[:, -1] != 0)
    # each column is the lasso at that alpha
    k = 40
    np.testing.assert_allclose(coefs[:, k], demo.fit(X, y, alphas[k])[0], atol=1e-8)


def test_penalty_is_the_elastic_net_per_unit_alpha():
    assert demo.penalty(1.0, -2.0, 1.0) == 3.0
    assert demo.penalty(1.0, -2.0, 0.0) == pytest.approx(2.5)


# ----------------------------------------------------------------- the figures

def test_demo_figure_is_two_panels_that_fit_the_page_with_legible_text():
    fig = demo.demo_figure(-0.5, 1.0)
    assert isinstance(fig, Figure)
    width, height = fig.get_size_inches()
    assert width <= 8 and height <= 5
    ax_plane, ax_path = fig.axes
    assert ax_path.get_xscale() == "log"
    fig.canvas.draw()
    sizes = [t.get_fontsize() for ax in fig.axes
             for t in [ax.title, ax.xaxis.label, ax.yaxis.label] + ax.get_xticklabels() + ax.get_yticklabels()]
    assert min(sizes) >= 10, sizes
    # at 10^-0.5 the lasso's two-feature fit sits on the w_1 axis, and the title says so
    assert "w = (0.39, 0.00)" in ax_plane.get_title()
    assert "3 of 10" in ax_path.get_title()


def test_the_current_alpha_is_marked_on_the_path():
    fig = demo.demo_figure(-1.0, 0.5)
    _, ax_path = fig.axes
    marks = [line for line in ax_path.get_lines()
             if len(line.get_xdata()) == 2 and np.allclose(line.get_xdata(), [0.1, 0.1])]
    assert len(marks) == 1
    assert "elastic net" in fig.axes[0].get_title()


def test_site_demo_has_a_frame_per_setting():
    from coursekit.demos.slider import FigureSlider

    slider = demo.site_demo()
    assert isinstance(slider, FigureSlider)
    assert slider.params["log10_alpha"] == list(demo.SLIDER_LOG_ALPHAS)
    assert slider.params["l1_ratio"] == list(demo.SLIDER_L1_RATIOS)
    assert len(slider.frames) == len(demo.SLIDER_LOG_ALPHAS) * len(demo.SLIDER_L1_RATIOS) <= 40
    assert all(frame.startswith(PNG_MAGIC) for frame in slider.frames)
    assert len(set(slider.frames)) == len(slider.frames)          # every setting shows a different picture
    assert slider.params["log10_alpha"][slider.start["log10_alpha"]] == -1.0
    assert slider.params["l1_ratio"][slider.start["l1_ratio"]] == 1.0
    html = slider._repr_html_()
    assert html.count('type="range"') == 2 and 'alt="' in html


# ----------------------------------------------------------------- the widget

def test_widget_builds_and_recomputes():
    import ipywidgets as widgets

    w = demo.interactive()
    assert isinstance(w, widgets.VBox)
    assert bytes(w.image.value).startswith(PNG_MAGIC)
    first = bytes(w.image.value)
    assert w.state["alpha"] == pytest.approx(0.1) and w.state["nonzero"] == 3
    w.log_alpha.value = -2.0
    assert bytes(w.image.value) != first
    assert w.state["nonzero"] == np.count_nonzero(demo.fit(*demo.path_data()[:2], 0.01)[0])
    w.l1_ratio.value = 0.5
    X, y, _ = demo.path_data()
    np.testing.assert_allclose(w.state["w"], demo.fit(X, y, 0.01, 0.5)[0])
    assert "l1_ratio = 0.5" in w.summary.value


# ----------------------------------------------------------------- the network experiment

@pytest.fixture(scope="module")
def digits():
    from coursekit.demos.weight_decay import digits_splits

    return digits_splits(n_train=200, n_val=100, seed=0)


def test_prox_gives_exact_zeros_and_the_penalty_does_not(digits):
    net_prox, h_prox = demo.train_l1_mlp(3e-3, "prox", num_epochs=3, splits=digits)
    net_pen, h_pen = demo.train_l1_mlp(3e-3, "penalty", num_epochs=3, splits=digits)
    assert set(h_prox) == {"val_acc", "train_loss", "zeros", "dead_pixels"}
    assert all(len(v) == 3 for v in h_prox.values())
    assert h_prox["zeros"][-1] == int((net_prox[0].weight == 0).sum()) > 0
    assert h_pen["zeros"][-1] == 0
    assert h_prox["val_acc"][-1] == pytest.approx(demo.accuracy(net_prox, digits["X_val"], digits["y_val"]))


def test_one_prox_step_is_sgd_then_softshrink(digits):
    one = {k: v[:32] for k, v in digits.items()}
    torch.manual_seed(0)
    start = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10))
    net0, _ = demo.train_l1_mlp(0.0, "prox", num_epochs=1, splits=one)
    net1, _ = demo.train_l1_mlp(0.05, "prox", num_epochs=1, splits=one)
    with torch.no_grad():
        # without the penalty: one SGD step; with it: the same step, then softshrink by lr * lam on W1 only
        assert torch.allclose(net1[0].weight, torch.nn.functional.softshrink(net0[0].weight, 0.1 * 0.05))
        assert torch.equal(net1[2].weight, net0[2].weight)
        assert not torch.equal(net0[0].weight, start[0].weight)


def test_bad_arguments_and_threads(digits):
    with pytest.raises(ValueError):
        demo.train_l1_mlp(1e-3, "adam", splits=digits)
    with pytest.raises(ValueError):
        demo.train_l1_mlp(-1.0, "prox", splits=digits)
    before = torch.get_num_threads()
    demo.train_l1_mlp(0.0, "prox", num_epochs=1, splits=digits)
    assert torch.get_num_threads() == before
