"""Tests for the Chapter 7 demo and experiment helpers (coursekit/demos/sgd.py)."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from coursekit.demos import sgd as demo  # noqa: E402
from coursekit.demos.slider import FigureSlider  # noqa: E402


# ---------------------------------------------------------------- the quadratic and gradient descent
@pytest.mark.parametrize("kappa", [1.0, 10.0, 50.0])
def test_quadratic_has_the_chosen_eigenvalues(kappa):
    A = demo.quadratic(kappa)
    np.testing.assert_allclose(A, A.T)
    np.testing.assert_allclose(np.linalg.eigvalsh(A), [1.0, kappa], rtol=1e-12)


def test_gd_path_is_gradient_descent():
    A = demo.quadratic(10.0)
    path = demo.gd_path(A, 0.05, num_steps=5)
    w = np.array(demo.START)
    np.testing.assert_allclose(path[0], w)
    for t in range(1, 6):
        w = w - 0.05 * A @ w
        np.testing.assert_allclose(path[t], w, rtol=1e-12)


@pytest.mark.parametrize("kappa", [2.0, 10.0, 50.0])
def test_the_stability_limit_is_two_over_L(kappa):
    A = demo.quadratic(kappa)
    below = demo.gd_path(A, 0.97 * 2 / kappa, num_steps=600)
    above = demo.gd_path(A, 1.03 * 2 / kappa, num_steps=600)
    assert np.linalg.norm(below[-1]) < 1e-3 * np.linalg.norm(below[0])
    assert np.linalg.norm(above[-1]) > 1e3 * np.linalg.norm(above[0])


def test_frame_is_two_readable_panels():
    fig = demo.frame(10.0, 0.9, num_steps=10)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    assert fig.get_size_inches()[0] <= 8.0
    for ax in fig.axes:
        assert ax.xaxis.label.get_fontsize() >= 10


# ---------------------------------------------------------------- the site's slider and the widget
def test_site_demo_has_one_frame_per_setting(monkeypatch):
    calls = []
    real = demo.frame

    def spy(kappa, fraction, num_steps=40, fig=None):
        calls.append((kappa, fraction))
        return real(kappa, fraction, num_steps=3)

    monkeypatch.setattr(demo, "frame", spy)
    slider = demo.site_demo(kappas=(2.0, 10.0), fractions=(0.5, 1.05))
    assert isinstance(slider, FigureSlider)
    assert sorted(calls) == sorted([(k, f) for k in (2.0, 10.0) for f in (0.5, 1.05)])
    assert len(slider.frames) == 4 and len(set(slider.frames)) == 4
    assert slider.caption and slider.alt
    assert 'type="range"' in slider._repr_html_()


def test_site_demo_default_size_and_range():
    assert len(demo.DEMO_KAPPAS) * len(demo.DEMO_FRACTIONS) <= 40
    assert min(demo.DEMO_FRACTIONS) < 0.5 and max(demo.DEMO_FRACTIONS) > 1.0 and 1.0 in demo.DEMO_FRACTIONS


def test_widget_renders_and_rerenders():
    w = demo.interactive()
    assert w.state["renders"] == 1
    w.controls["fraction"].value = 1.05
    w.controls["kappa"].value = 50.0
    w.controls["num_steps"].value = 10
    assert w.state["renders"] == 4


# ---------------------------------------------------------------- the digits experiments
def test_per_example_gradients_match_autograd():
    (X, y), _ = demo.digits_split(n_train=20)
    torch.manual_seed(0)
    W, b = 0.1 * torch.randn(10, 64, dtype=torch.float64), 0.1 * torch.randn(10, dtype=torch.float64)
    G = demo.per_example_gradients(W, b, X[:5], y[:5])
    for i in range(5):
        Wi, bi = W.clone().requires_grad_(), b.clone().requires_grad_()
        F.cross_entropy(X[i:i + 1].double() @ Wi.T + bi, y[i:i + 1]).backward()
        np.testing.assert_allclose(G[i], torch.cat([Wi.grad.reshape(-1), bi.grad]).numpy(), rtol=1e-10)


def test_gradient_noise_falls_as_one_over_b():
    G = np.random.default_rng(0).standard_normal((2000, 3))
    v = demo.gradient_noise(G, [1, 4, 16], num_batches=2000)
    sigma2 = np.mean(np.sum((G - G.mean(0)) ** 2, axis=1))
    predicted = sigma2 / np.array([1, 4, 16]) * (2000 - np.array([1, 4, 16])) / 1999
    np.testing.assert_allclose(v, predicted, rtol=0.1)


def test_batch_size_experiment_records_epochs_and_steps():
    (X, y), (Xv, yv) = demo.digits_split(n_train=50)
    h = demo.batch_size_experiment(X, y, Xv, yv, batch_size=16, lr=0.1, num_epochs=2)
    assert list(h["steps"]) == [0, 4, 8]
    assert len(h["train_loss"]) == 3 and np.all(np.diff(h["seconds"]) >= 0)
    assert h["train_loss"][-1] < h["train_loss"][0]
    diverged = demo.batch_size_experiment(X, y, Xv, yv, batch_size=50, lr=100.0, num_epochs=5)
    assert len(diverged["train_loss"]) < 6    # stopped once the loss rose above its start
