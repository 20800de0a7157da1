"""Tests for the Chapter 2 demo, coursekit.demos.weight_decay."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from coursekit.demos import weight_decay as wd

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


# ----------------------------------------------------------------- the computation

def test_splits_are_disjoint_thirds_with_x_in_first_column():
    (P_tr, y_tr), (P_va, y_va), (P_te, y_te) = wd.make_splits(degree=12, seed=0)
    assert P_tr.shape == (30, 12) and P_va.shape == (30, 12) and P_te.shape == (30, 12)
    assert y_tr.shape == (30,)
    x_all = np.concatenate([P_tr[:, 0], P_va[:, 0], P_te[:, 0]])
    assert len(np.unique(x_all)) == 90
    np.testing.assert_allclose(P_tr[:, 4], P_tr[:, 0] ** 5)
    # Changing the degree changes the features, not the data.
    (P3, y3), _, _ = wd.make_splits(degree=3, seed=0)
    np.testing.assert_array_equal(y3, y_tr)
    np.testing.assert_array_equal(P3[:, 0], P_tr[:, 0])


@pytest.mark.parametrize("degree", [3, 12, 15])
def test_weight_norm_decreases_strictly_as_lambda_grows(degree):
    result = wd.sweep(np.logspace(-6, 2, 41), degree=degree)
    norms = result["coef_norm"]
    assert np.all(np.diff(norms) < 0), norms
    # Shrinkage is substantial over the range, not a rounding-level effect.
    assert norms[-1] < 0.01 * norms[0]


def test_training_error_never_decreases_as_lambda_grows():
    result = wd.sweep(degree=12)
    assert np.all(np.diff(result["train_mse"]) >= -1e-12)
    assert result["train_mse"][-1] > 3 * result["train_mse"][0]


def test_validation_error_is_u_shaped():
    # The demo's claim: too little and too much regularization both hurt.
    result = wd.sweep(degree=12)
    val = result["val_mse"]
    best = int(np.argmin(val))
    assert 0 < best < len(val) - 1
    assert val[0] > 1.5 * val[best]
    assert val[-1] > 3 * val[best]
    # The best validation error is close to the noise floor.
    assert val[best] < 1.5 * wd.NOISE ** 2


@pytest.mark.parametrize("lam", [1e-4, 1e-2, 1.0])
def test_ridge_model_minimizes_the_course_objective(lam):
    # J(w, b) = 1/(2n) sum (Xw + b - y)^2 + lam/2 ||w||^2, intercept not penalized:
    # sklearn's solution must be a stationary point of J (checked with autograd).
    model = wd.ridge_model(lam, degree=12)
    (P_tr, y_tr), _, _ = wd.make_splits(degree=12)
    X = torch.tensor(P_tr, dtype=torch.float64)
    y = torch.tensor(y_tr, dtype=torch.float64)
    w = torch.tensor(model.coef_, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(float(model.intercept_), dtype=torch.float64, requires_grad=True)
    J = 0.5 * ((X @ w + b - y) ** 2).mean() + 0.5 * lam * (w ** 2).sum()
    J.backward()
    assert abs(b.grad.item()) < 1e-8
    assert w.grad.abs().max().item() < 1e-8 * max(1.0, lam * w.abs().max().item())


def test_sweep_agrees_with_ridge_model():
    lams = [1e-5, 1e-3, 1e-1]
    result = wd.sweep(lams, degree=12)
    (P_tr, y_tr), (P_va, y_va), _ = wd.make_splits(degree=12)
    for i, lam in enumerate(lams):
        model = wd.ridge_model(lam, degree=12)
        assert result["coef_norm"][i] == pytest.approx(np.linalg.norm(model.coef_), rel=1e-9)
        assert result["train_mse"][i] == pytest.approx(np.mean((model.predict(P_tr) - y_tr) ** 2), rel=1e-9)
        assert result["val_mse"][i] == pytest.approx(np.mean((model.predict(P_va) - y_va) ** 2), rel=1e-9)


def test_huge_lambda_predicts_the_training_mean():
    # Only w is shrunk; the unpenalized intercept settles at mean(y_train).
    (_, y_tr), _, _ = wd.make_splits(degree=12)
    _, y_hat = wd.fit_curve(1e8, degree=12)
    np.testing.assert_allclose(y_hat, y_tr.mean(), atol=1e-6)


def test_negative_lambda_is_rejected():
    with pytest.raises(ValueError):
        wd.ridge_model(-1e-3)


# ----------------------------------------------------------------- the figures

def test_static_figure_has_three_panels_and_one_fit_per_lambda():
    fig = wd.static_figure(lams=(1e-6, 1e-2))
    assert isinstance(fig, Figure)
    ax_fit, ax_norm, ax_err = fig.axes
    labels = [line.get_label() for line in ax_fit.get_lines()]
    assert sum("ridge" in label for label in labels) == 2
    assert ax_norm.get_xscale() == "log" and ax_err.get_xscale() == "log"
    fig.canvas.draw()  # renders without error


def test_static_figure_rejects_too_many_lambdas():
    with pytest.raises(ValueError):
        wd.static_figure(lams=(1e-6, 1e-4, 1e-2, 1.0))


# ----------------------------------------------------------------- the widget

def test_widget_builds_with_a_rendered_image():
    import ipywidgets as widgets

    w = wd.interactive()
    assert isinstance(w, widgets.VBox)
    assert isinstance(w.log_lambda, widgets.FloatSlider)
    assert isinstance(w.degree, widgets.IntSlider)
    assert w.log_lambda.min <= -6 and w.log_lambda.max >= 2
    assert bytes(w.image.value).startswith(PNG_MAGIC)
    assert w.state["degree"] == 12
    assert w.state["lam"] == pytest.approx(10.0 ** w.log_lambda.value)


def test_moving_the_sliders_rerenders_and_recomputes():
    w = wd.interactive()
    first_png, first_norm = bytes(w.image.value), w.state["coef_norm"]

    w.log_lambda.value = 1.0
    assert bytes(w.image.value).startswith(PNG_MAGIC)
    assert bytes(w.image.value) != first_png
    assert w.state["lam"] == pytest.approx(10.0)
    expected = wd.sweep([10.0], degree=12)
    assert w.state["coef_norm"] == pytest.approx(expected["coef_norm"][0])
    assert w.state["val_mse"] == pytest.approx(expected["val_mse"][0])
    assert w.state["coef_norm"] < first_norm  # more decay, smaller weights
    assert "10" in w.summary.value

    png_before = bytes(w.image.value)
    w.degree.value = 3
    assert w.state["degree"] == 3
    expected = wd.sweep([10.0], degree=3)
    assert w.state["coef_norm"] == pytest.approx(expected["coef_norm"][0])
    assert w.state["train_mse"] == pytest.approx(expected["train_mse"][0])
    assert bytes(w.image.value) != png_before
    _, y_hat = wd.fit_curve(10.0, degree=3)
    np.testing.assert_allclose(w.state["y_hat"], y_hat)

    # Walk the slider across its range: every position renders.
    for value in (w.log_lambda.min, -3.0, w.log_lambda.max):
        w.log_lambda.value = value
        assert bytes(w.image.value).startswith(PNG_MAGIC)
