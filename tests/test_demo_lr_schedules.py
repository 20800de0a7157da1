"""Tests for the Chapter 10 demo and experiment helpers (coursekit/demos/lr_schedules.py)."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from coursekit.demos import lr_schedules as demo  # noqa: E402
from coursekit.demos.slider import FigureSlider  # noqa: E402


# ---------------------------------------------------------------- the schedules
def test_schedules_have_their_shapes():
    T = 40
    assert np.allclose(demo.lr_curve("constant", T, 0.3), 0.3)
    step = demo.lr_curve("step", T, 1.0)
    assert np.allclose(step[:20], 1.0) and np.allclose(step[20:30], 0.1) and np.allclose(step[30:], 0.01)
    t = np.arange(T)
    np.testing.assert_allclose(demo.lr_curve("cosine", T, 0.5), 0.5 * (1 + np.cos(np.pi * t / T)) / 2, atol=1e-12)
    wc = demo.lr_curve("warmup + cosine", T, 1.0)
    np.testing.assert_allclose(wc[:4], [0.1, 0.325, 0.55, 0.775])
    np.testing.assert_allclose(wc[4:], (1 + np.cos(np.pi * np.arange(T - 4) / (T - 4))) / 2, atol=1e-12)
    with pytest.raises(ValueError):
        demo.make_scheduler("nope", torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1), 5)


def test_noisy_quadratic_reaches_the_predicted_floor():
    h = np.array(demo.CURVATURES)
    for eta in (0.1, 0.5):
        excess = demo.noisy_quadratic(np.full(400, eta), num_seeds=400)
        floor = np.sum(eta * demo.NOISE ** 2 / (2 * (2 - eta * h)))
        assert abs(excess[-100:].mean() / floor - 1) < 0.1
    assert demo.noisy_quadratic(np.zeros(3))[-1] == pytest.approx(0.5 * np.dot(h, np.square(demo.START)))


def test_frame_is_two_readable_panels():
    fig = demo.frame("warmup + cosine", 0.4, num_steps=30)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    assert fig.get_size_inches()[0] <= 8.0
    for ax in fig.axes:
        assert ax.xaxis.label.get_fontsize() >= 10 and ax.get_legend() is not None


# ---------------------------------------------------------------- the site's slider and the widget
def test_site_demo_has_one_frame_per_setting(monkeypatch):
    calls = []
    real = demo.frame

    def spy(schedule, peak, num_steps=demo.DEMO_STEPS, fig=None):
        calls.append((schedule, peak))
        return real(schedule, peak, num_steps=20)

    monkeypatch.setattr(demo, "frame", spy)
    slider = demo.site_demo(schedules=("constant", "cosine"), peaks=(0.2, 0.8))
    assert isinstance(slider, FigureSlider)
    assert sorted(calls) == sorted([(s, p) for s in ("constant", "cosine") for p in (0.2, 0.8)])
    assert len(slider.frames) == 4 and len(set(slider.frames)) == 4
    assert slider.caption and slider.alt
    assert 'type="range"' in slider._repr_html_()


def test_site_demo_default_size():
    assert len(demo.SCHEDULES) * len(demo.DEMO_PEAKS) <= 40


def test_widget_renders_and_rerenders():
    w = demo.interactive()
    assert w.state["renders"] == 1
    w.controls["schedule"].value = "step"
    w.controls["peak"].value = 0.8
    w.controls["num_steps"].value = 100
    assert w.state["renders"] == 4


# ---------------------------------------------------------------- the digits experiments
def test_train_digits_records_every_epoch_and_learns():
    data = demo.digits_data()
    assert [len(a) for a in data] == [1347, 450, 1347, 450]
    r = demo.train_digits("cosine", 0.2, num_epochs=3, momentum=0.9, data=data)
    assert all(len(v) == 3 for v in r.values())
    assert r["train_loss"][-1] < r["train_loss"][0] and r["val_acc"][-1] > r["val_acc"][0]


def test_range_test_grows_the_rate_geometrically():
    rates, losses = demo.range_test(lr_min=1e-3, lr_max=1.0, num_steps=10)
    np.testing.assert_allclose(rates, np.geomspace(1e-3, 1.0, 10), rtol=1e-9)
    assert len(losses) == 10 and np.isfinite(losses[0])


def test_batched_runs_match_separate_runs():
    data = demo.digits_data(seed=1)
    runs = [("cosine", 0.2), ("step", 0.4)]
    batched = demo.train_digits_batched(runs, num_epochs=2, seed=1, data=data, momentum=0.9)
    for (name, peak), b in zip(runs, batched):
        single = demo.train_digits(name, peak, num_epochs=2, seed=1, data=data, momentum=0.9)
        for key in ("train_loss", "val_loss", "val_acc"):
            np.testing.assert_allclose(b[key], single[key], rtol=1e-4, atol=1e-5)
