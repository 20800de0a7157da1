"""Tests for the chapter 9 demo (coursekit/demos/adaptive_methods.py)."""

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from coursekit.demos import adaptive_methods as am  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _grad(function, point):
    xy = torch.tensor(point, dtype=torch.float64, requires_grad=True)
    am.FUNCTIONS[function].fn(xy).backward()
    return xy.grad


# ----------------------------------------------------------------------------- pure functions

@pytest.mark.parametrize("function", list(am.FUNCTIONS))
@pytest.mark.parametrize("optimizer", am.OPTIMIZERS)
def test_trajectory_starts_at_start_and_has_the_right_shape(function, optimizer):
    path = am.run(function, optimizer, num_steps=7)
    assert path.shape == (8, 2)
    assert path.dtype == torch.float64
    assert torch.equal(path[0], torch.tensor(am.FUNCTIONS[function].start, dtype=torch.float64))
    # The optimizer actually moved the point.
    assert not torch.equal(path[1], path[0])


def test_custom_start_is_respected():
    path = am.run("Beale", "Adam", lr=0.01, num_steps=3, start=(2.0, -0.5))
    assert torch.equal(path[0], torch.tensor([2.0, -0.5], dtype=torch.float64))


@pytest.mark.parametrize("function", list(am.FUNCTIONS))
@pytest.mark.parametrize("lr", [1e-3, 0.05, 0.3])
@pytest.mark.parametrize("betas", [(0.9, 0.999), (0.5, 0.9), (0.0, 0.99)])
def test_adam_first_step_is_lr_per_coordinate(function, lr, betas):
    # With bias correction, m_hat = g and sqrt(v_hat) = |g| on step 1, so every
    # coordinate moves by lr * |g| / (|g| + eps) ~= lr against the gradient,
    # whatever the betas and the gradient's scale.
    path = am.run(function, "Adam", lr=lr, beta1=betas[0], beta2=betas[1], num_steps=1)
    step = path[1] - path[0]
    g = _grad(function, am.FUNCTIONS[function].start)
    assert torch.allclose(step.abs(), torch.full((2,), lr, dtype=torch.float64), rtol=1e-6)
    assert torch.equal(torch.sign(step), -torch.sign(g))


def test_rmsprop_first_step_is_lr_over_sqrt_one_minus_alpha():
    # No bias correction in RMSprop: v_1 = (1 - alpha) g^2, so the first step is
    # lr / sqrt(1 - alpha) per coordinate: ten times lr for alpha = 0.99.
    for alpha in (0.99, 0.9):
        path = am.run("Rosenbrock", "RMSprop", lr=1e-3, beta2=alpha, num_steps=1)
        step = (path[1] - path[0]).abs()
        expected = 1e-3 / math.sqrt(1.0 - alpha)
        assert torch.allclose(step, torch.full((2,), expected, dtype=torch.float64), rtol=1e-6)


def test_adamw_matches_adam_without_decay_and_differs_with_it():
    adam = am.run("Beale", "Adam", lr=0.05, num_steps=30)
    adamw0 = am.run("Beale", "AdamW", lr=0.05, num_steps=30, weight_decay=0.0)
    adamw = am.run("Beale", "AdamW", lr=0.05, num_steps=30, weight_decay=0.5)
    assert torch.allclose(adam, adamw0, rtol=0, atol=1e-12)
    assert (adam[-1] - adamw[-1]).abs().max() > 1e-3
    # Decoupled decay applied before the first Adam step: theta * (1 - lr * wd) - lr * sign(g).
    start = torch.tensor(am.FUNCTIONS["Beale"].start, dtype=torch.float64)
    g = _grad("Beale", am.FUNCTIONS["Beale"].start)
    expected = start * (1 - 0.05 * 0.5) - 0.05 * torch.sign(g)
    assert torch.allclose(adamw[1], expected, atol=1e-7)


@pytest.mark.parametrize("function", list(am.FUNCTIONS))
@pytest.mark.parametrize("optimizer", ["SGD", "SGD+momentum", "Adagrad", "RMSprop", "Adam", "AdamW"])
def test_losses_decrease_for_the_tuned_lr(function, optimizer):
    path = am.run(function, optimizer)
    values = am.losses(function, path)
    assert values.shape == (len(path),)
    assert not am.has_diverged(function, path)
    assert values[-1] < 0.8 * values[0]
    # Over the last half of the run, the loss is lower than over the first tenth.
    n = len(values)
    assert values[n // 2:].mean() < values[: n // 10].mean()


@pytest.mark.parametrize("optimizer", ["Adagrad", "RMSprop", "Adam"])
def test_adaptive_methods_solve_the_quadratic_with_their_tuned_lr(optimizer):
    values = am.losses("ill-conditioned quadratic", am.run("ill-conditioned quadratic", optimizer))
    assert values[-1] < 1e-2 * values[0]


def test_sgd_diverges_above_two_over_kappa_and_converges_below():
    # The quadratic 0.5 * (x^2 + 25 y^2): plain SGD is stable iff lr < 2 / 25.
    f = "ill-conditioned quadratic"
    assert am.has_diverged(f, am.run(f, "SGD", lr=0.1, num_steps=200))
    ok = am.run(f, "SGD", lr=0.07, num_steps=200)
    assert not am.has_diverged(f, ok)
    assert am.losses(f, ok)[-1] < 1e-3


def test_losses_match_the_function():
    path = torch.tensor([[1.0, 1.0], [0.0, 0.0]], dtype=torch.float64)
    assert torch.allclose(am.losses("Rosenbrock", path), torch.tensor([0.0, 1.0], dtype=torch.float64))


def test_lr_sweep_marks_divergence_with_inf_and_is_finite_otherwise():
    out = am.lr_sweep("ill-conditioned quadratic", "SGD", [0.01, 0.05, 0.2], num_steps=100)
    assert out.shape == (3,)
    assert np.isfinite(out[:2]).all()
    assert out[2] == math.inf
    assert out[1] < out[0]  # a larger stable lr gets further in the same number of steps


def test_make_optimizer_builds_the_real_torch_classes_with_the_mapped_hyperparameters():
    p = [torch.zeros(2, requires_grad=True)]
    expected = {
        "SGD": torch.optim.SGD, "SGD+momentum": torch.optim.SGD, "Adagrad": torch.optim.Adagrad,
        "RMSprop": torch.optim.RMSprop, "Adadelta": torch.optim.Adadelta,
        "Adam": torch.optim.Adam, "AdamW": torch.optim.AdamW,
    }
    for name, cls in expected.items():
        opt = am.make_optimizer(name, p, lr=0.123, beta1=0.8, beta2=0.95, weight_decay=0.2)
        assert type(opt) is cls
        assert opt.param_groups[0]["lr"] == 0.123
    assert am.make_optimizer("SGD+momentum", p, 0.1, beta1=0.8).param_groups[0]["momentum"] == 0.8
    assert am.make_optimizer("SGD", p, 0.1, beta1=0.8).param_groups[0]["momentum"] == 0
    assert am.make_optimizer("RMSprop", p, 0.1, beta2=0.95).param_groups[0]["alpha"] == 0.95
    assert am.make_optimizer("Adadelta", p, 0.1, beta2=0.95).param_groups[0]["rho"] == 0.95
    assert am.make_optimizer("Adam", p, 0.1, 0.8, 0.95).param_groups[0]["betas"] == (0.8, 0.95)
    assert am.make_optimizer("Adam", p, 0.1).param_groups[0]["weight_decay"] == 0
    assert am.make_optimizer("AdamW", p, 0.1, weight_decay=0.2).param_groups[0]["weight_decay"] == 0.2


def test_unknown_names_raise():
    with pytest.raises(ValueError):
        am.make_optimizer("Adamax", [torch.zeros(1, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError):
        am.run("Himmelblau", "Adam")
    with pytest.raises(ValueError):
        am.optimizer_factory("Lion", lr=0.1)


# ----------------------------------------------------------------------------- figures and widget

def test_static_figure_draws_one_line_per_optimizer_and_function():
    optimizers = ("SGD", "Adagrad", "Adam")
    fig = am.static_figure(functions=("ill-conditioned quadratic", "Beale"),
                           optimizers=optimizers, num_steps=20)
    assert isinstance(fig, matplotlib.figure.Figure)
    axes = fig.get_axes()
    assert len(axes) == 4  # contour + loss per function
    contour_axes = [ax for ax in axes if ax.get_title() in ("ill-conditioned quadratic", "Beale")]
    assert len(contour_axes) == 2
    for ax in contour_axes:
        labels = [line.get_label() for line in ax.get_lines()]
        for name in optimizers:
            assert any(label.startswith(name + ",") for label in labels), (name, labels)
        # the trajectory lines start at the function's start point
        start = am.FUNCTIONS[ax.get_title()].start
        for line in ax.get_lines():
            if line.get_label().startswith("Adam,"):
                assert np.allclose([line.get_xdata()[0], line.get_ydata()[0]], start)


def test_static_figure_single_function_and_lr_override():
    fig = am.static_figure(functions=("Rosenbrock",), optimizers=("Adam", "RMSprop"),
                           lr={"Adam": 0.02}, num_steps=10)
    assert len(fig.get_axes()) == 2
    labels = [line.get_label() for line in fig.get_axes()[0].get_lines()]
    assert "Adam, lr=0.02" in labels
    assert f"RMSprop, lr={am.DEFAULT_LR['Rosenbrock']['RMSprop']:g}" in labels


def test_diverged_runs_are_labelled_and_do_not_crash_the_figure():
    fig = am.static_figure(functions=("ill-conditioned quadratic",), optimizers=("SGD",), lr=0.5,
                           num_steps=60)
    labels = [line.get_label() for line in fig.get_axes()[0].get_lines()]
    assert any("diverged" in label for label in labels)


def test_widget_builds_and_renders_once():
    import ipywidgets as widgets

    w = am.interactive()
    assert isinstance(w, widgets.Widget)
    assert set(w.controls) >= {"function", "optimizers", "log10_lr", "beta1", "beta2", "num_steps"}
    assert w.state["renders"] == 1
    assert w.state["error"] is None
    assert set(w.state["runs"]) == set(w.controls["optimizers"].value)


def test_driving_every_control_rerenders_without_error():
    w = am.interactive()
    c = w.controls
    new_values = {
        "function": "Beale",
        "optimizers": ("Adagrad", "RMSprop", "Adadelta", "AdamW"),
        "log10_lr": -2.0,
        "beta1": 0.5,
        "beta2": 0.9,
        "weight_decay": 0.1,
        "num_steps": 30,
        "tuned_lr": True,
    }
    for name, value in new_values.items():
        before = w.state["renders"]
        c[name].value = value
        assert w.state["renders"] == before + 1, name
        assert w.state["error"] is None, (name, w.state["error"])
    runs = w.state["runs"]
    assert set(runs) == set(new_values["optimizers"])
    for path in runs.values():
        assert path.shape == (31, 2)
        assert torch.equal(path[0], torch.tensor(am.FUNCTIONS["Beale"].start, dtype=torch.float64))


def test_widget_lr_slider_sets_the_adam_step():
    w = am.interactive()
    w.controls["optimizers"].value = ("Adam",)
    w.controls["tuned_lr"].value = False
    w.controls["log10_lr"].value = -2.0
    path = w.state["runs"]["Adam"]
    assert torch.allclose((path[1] - path[0]).abs(), torch.full((2,), 0.01, dtype=torch.float64),
                          rtol=1e-6)


def test_widget_survives_a_diverging_choice():
    w = am.interactive()
    w.controls["function"].value = "Rosenbrock"
    w.controls["optimizers"].value = ("SGD",)
    w.controls["log10_lr"].value = 0.0  # lr = 1 explodes on Rosenbrock
    assert w.state["error"] is None
    assert am.has_diverged("Rosenbrock", w.state["runs"]["SGD"])
