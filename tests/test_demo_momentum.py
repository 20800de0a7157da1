"""Tests for the Chapter 8 demo, coursekit.demos.momentum."""

import io

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import torch

from coursekit.demos import momentum as m

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_runs_are_torch_sgd_with_momentum_on_the_quadratic():
    w = m.run(0.5, steps=3)
    # by hand: buf_1 = g_1, buf_t = 0.5 buf + g_t, w -= lr * buf
    h, x, buf = np.array([m.MU, m.L]), np.array(m.START), None
    for t in range(3):
        g = h * x
        buf = g.copy() if buf is None else 0.5 * buf + g
        x = x - m.LR * buf
        np.testing.assert_allclose(w[t + 1], x, rtol=1e-12, atol=1e-14)


def test_rates_follow_the_theory_of_the_chapter():
    # lr = 1/L: gradient descent contracts by 1 - mu/L; the best momentum is (1 - sqrt(lr mu))^2 = 0.64;
    # above it the rate is sqrt(beta)
    assert m.measured_rate(0.0) == pytest.approx(1 - m.MU / m.L, abs=1e-6)
    rates = {b: m.measured_rate(b) for b in m.SLIDER_BETAS}
    assert min(rates, key=rates.get) == 0.64
    for b in (0.7, 0.8, 0.9):
        assert rates[b] == pytest.approx(np.sqrt(b), abs=0.01)
    assert m.steps_to(0.0) == 337 and m.steps_to(0.64) == 74


def test_demo_figure_is_two_panels_that_fit_the_page():
    fig = m.demo_figure(0.8)
    assert len(fig.axes) == 2
    w, _ = fig.get_size_inches()
    assert w <= 8
    assert "β = 0.8" in [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "0.89" in fig.axes[1].get_title()


def test_a_diverging_step_still_draws():
    fig = m.demo_figure(0.0, lr=3.0 / m.L)
    assert "3/L" in fig.axes[0].get_title()


def test_site_demo_has_a_frame_per_slider_position():
    from matplotlib.image import imread

    from coursekit.demos.slider import FigureSlider

    slider = m.site_demo()
    assert isinstance(slider, FigureSlider)
    values = slider.params["beta"]
    assert values == list(m.SLIDER_BETAS) and len(values) <= 40
    assert len(slider.frames) == len(values)
    assert all(frame.startswith(PNG_MAGIC) for frame in slider.frames)
    assert len(set(slider.frames)) == len(values)
    assert slider.start == {"beta": 0}
    html = slider._repr_html_()
    assert 'type="range"' in html and "momentum β" in html and 'alt="' in html
    assert imread(io.BytesIO(slider.frames[0])).shape[1] <= 8 * 100


def test_widget_builds_and_rerenders():
    import ipywidgets as widgets

    w = m.interactive()
    assert isinstance(w, widgets.VBox)
    assert bytes(w.image.value).startswith(PNG_MAGIC)
    first = bytes(w.image.value)
    w.beta.value = 0.9
    assert bytes(w.image.value) != first
    assert w.state["rate"] == pytest.approx(m.measured_rate(0.9), rel=1e-9)
    w.lr.value = 2.5                      # a large step: still renders
    assert w.state["lr"] == pytest.approx(2.5 / m.L)
    assert bytes(w.image.value).startswith(PNG_MAGIC)


def test_digits_experiment_uses_torch_sgd_settings():
    splits = m.digits_splits()
    assert len(splits[0]) == 1000 and len(splits[2]) == 797
    assert float(splits[0].max()) <= 1.0
    h = m.train_digits("Nesterov", 0.1, num_epochs=2, splits=splits)
    assert len(h["val_loss"]) == 2 and h["val_loss"][1] < h["val_loss"][0]
    assert m.METHODS["Nesterov"] == {"momentum": 0.9, "nesterov": True}
    torch.manual_seed(0)
