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
    result = wd.sweep(wd.LAMBDAS, degree=degree)
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

def _texts(fig):
    return [t.get_text() for ax in fig.axes for t in ax.texts + [ax.title]] + \
        [t.get_text() for legend in fig.legends for t in legend.get_texts()]


def test_demo_figure_is_two_panels_that_fit_the_page():
    fig = wd.demo_figure(-4.5)
    assert isinstance(fig, Figure)
    width, height = fig.get_size_inches()
    assert width <= 8 and height <= 5
    ax_fit, ax_err = fig.axes
    assert ax_fit.get_xscale() == "linear" and ax_err.get_xscale() == "log"
    assert ax_err.get_yscale() == "log"
    fig.canvas.draw()
    # Every piece of text is at least 10 pt: legible when the page shrinks the figure a little.
    sizes = [t.get_fontsize() for ax in fig.axes
             for t in [ax.title, ax.xaxis.label, ax.yaxis.label] + ax.get_xticklabels() + ax.get_yticklabels()]
    sizes += [t.get_fontsize() for legend in fig.legends for t in legend.get_texts()]
    assert min(sizes) >= 10, sizes


def test_demo_figure_draws_the_fit_and_marks_the_current_lambda():
    result = wd.sweep()
    fig = wd.demo_figure(-2.0, result=result)
    ax_fit, ax_err = fig.axes
    fit = [line for line in ax_fit.get_lines() if line.get_label() == "ridge fit"]
    assert len(fit) == 1
    x, y_hat = wd.fit_curve(1e-2)
    np.testing.assert_allclose(fit[0].get_xdata(), x)
    np.testing.assert_allclose(fit[0].get_ydata(), y_hat)
    # The marker sits at lambda on both error curves.
    here = wd.sweep([1e-2])
    marks = [line for line in ax_err.get_lines() if line.get_marker() == "o"]
    assert len(marks) == 1
    np.testing.assert_allclose(marks[0].get_xdata(), [1e-2, 1e-2])
    np.testing.assert_allclose(marks[0].get_ydata(), [here["train_mse"][0], here["val_mse"][0]])
    # The error curves are the sweep passed in.
    curves = {line.get_label(): line for line in ax_err.get_lines()}
    np.testing.assert_allclose(curves["training"].get_ydata(), result["train_mse"])
    np.testing.assert_allclose(curves["validation"].get_ydata(), result["val_mse"])
    assert "10^{-2.0}" in ax_fit.get_title() and f"{here['coef_norm'][0]:.3g}" in ax_fit.get_title()


def test_a_fit_that_leaves_the_plot_is_labelled_with_its_value():
    # At lambda = 1e-9 the curve plunges below the axis near x = -1; the figure says where to.
    _, y_hat = wd.fit_curve(1e-9)
    assert y_hat.min() < wd.Y_LIMITS[0]
    texts = _texts(wd.demo_figure(-9.0))
    assert any(f"{y_hat.min():.1f}".replace("-", "\u2212") in t for t in texts), texts
    # Inside the limits there is no such label.
    assert not any("reaches" in t for t in _texts(wd.demo_figure(-3.0)))


def test_site_demo_has_a_frame_per_slider_position():
    from coursekit.demos.slider import FigureSlider

    slider = wd.site_demo()
    assert isinstance(slider, FigureSlider)
    values = slider.params["log10_lam"]
    assert values == list(wd.SLIDER_LOG_LAMBDAS)
    assert values[0] == -9.0 and values[-1] == 1.0 and np.allclose(np.diff(values), 0.5)
    assert len(slider.frames) == len(values) <= 40
    assert all(frame.startswith(PNG_MAGIC) for frame in slider.frames)
    assert len(set(slider.frames)) == len(values)           # every position shows a different picture
    assert slider.start == {"log10_lam": 0}                  # starts at the overfitted end
    html = slider._repr_html_()
    assert 'type="range"' in html and "log10 λ" in html
    assert html.count("data:image/png;base64,") == 2 and 'alt="' in html
    # Each frame is what demo_figure draws at that lambda, at the page's width.
    from matplotlib.image import imread
    import io

    first = imread(io.BytesIO(slider.frames[0]))
    assert first.shape[1] <= 8 * 100


def test_site_demo_can_start_elsewhere(monkeypatch):
    from matplotlib.figure import Figure

    monkeypatch.setattr(wd, "demo_figure", lambda *args, **kwargs: Figure(figsize=(1, 1)))  # only the start matters
    slider = wd.site_demo(initial=-4.5)
    assert slider.params["log10_lam"][slider.start["log10_lam"]] == -4.5


def test_static_figure_is_one_frame_of_the_demo():
    fig = wd.static_figure(-4.0)
    assert len(fig.axes) == 2
    assert "10^{-4.0}" in fig.axes[0].get_title()


# ----------------------------------------------------------------- the widget

def test_widget_builds_with_a_rendered_image():
    import ipywidgets as widgets

    w = wd.interactive()
    assert isinstance(w, widgets.VBox)
    assert isinstance(w.log_lambda, widgets.FloatSlider)
    assert isinstance(w.degree, widgets.IntSlider)
    assert w.log_lambda.min <= -9 and w.log_lambda.max >= 1
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


# ----------------------------------------------------------------- the network experiment

@pytest.fixture(scope="module")
def digits():
    return wd.digits_splits(n_train=200, n_val=500, seed=0)


def test_digits_splits_partition_the_data_and_are_standardized(digits):
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    assert digits["X_train"].shape == (200, 64) and digits["X_val"].shape == (500, 64)
    assert digits["X_test"].shape == (len(y) - 700, 64)
    assert digits["X_train"].dtype == torch.float32 and digits["y_train"].dtype == torch.int64
    # Standardized with training statistics: the training pixels have mean 0 and std 1 (or 0 if constant).
    mean = digits["X_train"].double().mean(0)
    std = digits["X_train"].double().std(0, unbiased=False)
    assert mean.abs().max() < 1e-5
    assert torch.all(((std - 1).abs() < 1e-4) | (std < 1e-6))
    # The three splits partition the data set: label counts add up.
    counts = sum(torch.bincount(digits[f"y_{s}"], minlength=10) for s in ("train", "val", "test"))
    assert counts.tolist() == np.bincount(y, minlength=10).tolist()
    with pytest.raises(ValueError):
        wd.digits_splits(n_train=1000, n_val=1000)


def test_train_digits_mlp_decays_weights_and_not_biases(digits):
    net, h = wd.train_digits_mlp(1e-2, num_epochs=3, splits=digits)
    assert set(h) == {"train_loss", "val_loss", "train_acc", "val_acc", "weight_norm"}
    assert all(len(v) == 3 for v in h.values())
    # Reported numbers are what the returned net computes.
    out = net(digits["X_val"])
    assert h["val_loss"][-1] == pytest.approx(torch.nn.functional.cross_entropy(out, digits["y_val"]).item(), rel=1e-5)
    assert h["val_acc"][-1] == pytest.approx(wd.accuracy(net, digits["X_val"], digits["y_val"]))
    norm = torch.sqrt(net[0].weight.pow(2).sum() + net[2].weight.pow(2).sum()).item()
    assert h["weight_norm"][-1] == pytest.approx(norm, rel=1e-5)


def test_decay_reaches_the_weights_and_not_the_biases(digits):
    # One full-batch step without momentum, with and without decay, from the same start: the
    # difference is lr * weight_decay * w on the two weight matrices and nothing on the biases.
    one_batch = {k: v[:32] for k, v in digits.items()}
    net_a, _ = wd.train_digits_mlp(0.0, num_epochs=1, splits=one_batch, lr=0.1, momentum=0.0)
    net_b, _ = wd.train_digits_mlp(0.5, num_epochs=1, splits=one_batch, lr=0.1, momentum=0.0)
    torch.manual_seed(0)  # the initialization train_digits_mlp uses for seed=0
    start = torch.nn.Sequential(torch.nn.Linear(64, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10))
    with torch.no_grad():
        for idx in (0, 2):
            np.testing.assert_allclose((net_a[idx].weight - net_b[idx].weight).numpy(),
                                       (0.1 * 0.5 * start[idx].weight).numpy(), atol=1e-6)
            assert torch.allclose(net_a[idx].bias, net_b[idx].bias, atol=1e-7)
            assert not torch.allclose(net_a[idx].bias, start[idx].bias)   # the biases did train


def test_same_seed_same_run_and_decay_shrinks_the_weights(digits):
    _, h1 = wd.train_digits_mlp(1e-2, num_epochs=4, splits=digits)
    _, h2 = wd.train_digits_mlp(1e-2, num_epochs=4, splits=digits)
    np.testing.assert_array_equal(h1["val_loss"], h2["val_loss"])
    _, h0 = wd.train_digits_mlp(0.0, num_epochs=4, splits=digits)
    assert h1["weight_norm"][-1] < h0["weight_norm"][-1]
    with pytest.raises(ValueError):
        wd.train_digits_mlp(-1.0, num_epochs=1, splits=digits)


def test_train_digits_mlp_leaves_torch_threads_as_it_found_them(digits):
    before = torch.get_num_threads()
    wd.train_digits_mlp(0.0, num_epochs=1, splits=digits)
    assert torch.get_num_threads() == before
