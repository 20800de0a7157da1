"""Tests for the chapter 9 demo (coursekit/demos/adaptive_methods.py)."""

import io
import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from coursekit.demos import adaptive_methods as am  # noqa: E402
from coursekit.demos.slider import FigureSlider  # noqa: E402
from coursekit.functions import ill_conditioned_quadratic, rotated_quadratic  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _grad(function, point):
    xy = torch.tensor(point, dtype=torch.float64, requires_grad=True)
    am.FUNCTIONS[function].fn(xy).backward()
    return xy.grad


def _png_size_inches(fig: Figure):
    """The figure's size once drawn (a layout engine may not change it: the page shows it at this size)."""
    fig.savefig(io.BytesIO(), format="png", dpi=100)
    return fig.get_size_inches()


# ----------------------------------------------------------------------------- optimizers: torch's defaults

def test_make_optimizer_builds_the_real_torch_classes_with_torch_defaults():
    p = [torch.zeros(2, requires_grad=True)]
    expected = {
        "SGD": torch.optim.SGD, "SGD+momentum": torch.optim.SGD, "Adagrad": torch.optim.Adagrad,
        "RMSprop": torch.optim.RMSprop, "Adadelta": torch.optim.Adadelta,
        "Adam": torch.optim.Adam, "AdamW": torch.optim.AdamW,
    }
    for name, cls in expected.items():
        opt = am.make_optimizer(name, p, lr=0.123)
        assert type(opt) is cls
        group = opt.param_groups[0]
        assert group["lr"] == 0.123
        # Every setting but lr is the class's own default, except SGD+momentum's momentum.
        reference = cls([torch.zeros(2, requires_grad=True)], lr=0.123).param_groups[0]
        for key, value in reference.items():
            if key == "params" or (name == "SGD+momentum" and key == "momentum"):
                continue
            assert group[key] == value, (name, key, group[key], value)
    assert am.make_optimizer("SGD+momentum", p, 0.1).param_groups[0]["momentum"] == 0.9
    assert am.make_optimizer("SGD", p, 0.1).param_groups[0]["momentum"] == 0
    # The values the chapter relies on (the old demo used 0.999 for both).
    assert am.make_optimizer("RMSprop", p, 0.1).param_groups[0]["alpha"] == 0.99
    assert am.make_optimizer("Adadelta", p, 0.1).param_groups[0]["rho"] == 0.9
    assert am.make_optimizer("Adam", p, 0.1).param_groups[0]["betas"] == (0.9, 0.999)
    assert am.make_optimizer("AdamW", p, 0.1).param_groups[0]["weight_decay"] == 0.01


def test_overrides_use_torch_names():
    p = [torch.zeros(2, requires_grad=True)]
    assert am.make_optimizer("RMSprop", p, 0.1, alpha=0.9).param_groups[0]["alpha"] == 0.9
    assert am.make_optimizer("RMSprop", p, 0.1, momentum=0.5).param_groups[0]["momentum"] == 0.5
    assert am.make_optimizer("Adadelta", p, 0.1, rho=0.95).param_groups[0]["rho"] == 0.95
    assert am.make_optimizer("Adam", p, 0.1, betas=(0.0, 0.99)).param_groups[0]["betas"] == (0.0, 0.99)
    assert am.make_optimizer("SGD+momentum", p, 0.1, momentum=0.5).param_groups[0]["momentum"] == 0.5
    with pytest.raises(TypeError):
        am.make_optimizer("Adam", p, 0.1, alpha=0.9)  # not an Adam argument


def test_unknown_names_raise():
    with pytest.raises(ValueError):
        am.make_optimizer("Adamax", [torch.zeros(1, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError):
        am.run("Himmelblau", "Adam", lr=0.1)
    with pytest.raises(ValueError):
        am.optimizer_factory("Lion", lr=0.1)


def test_describe_names_only_non_default_settings():
    assert am.describe("Adam") == "Adam"
    assert am.describe("Adam", betas=(0.9, 0.999)) == "Adam"
    assert am.describe("Adam", betas=(0.0, 0.999)) == "Adam, β₁=0"
    assert am.describe("RMSprop", momentum=0.9) == "RMSprop, momentum=0.9"
    assert am.describe("SGD+momentum", momentum=0.9) == "SGD+momentum"


# ----------------------------------------------------------------------------- runs

@pytest.mark.parametrize("function", list(am.FUNCTIONS))
@pytest.mark.parametrize("optimizer", am.OPTIMIZERS)
def test_trajectory_starts_at_start_and_has_the_right_shape(function, optimizer):
    path = am.run(function, optimizer, lr=1e-2, num_steps=7)
    assert path.shape == (8, 2)
    assert path.dtype == torch.float64
    assert torch.equal(path[0], torch.tensor(am.FUNCTIONS[function].start, dtype=torch.float64))
    assert not torch.equal(path[1], path[0])


def test_custom_start_is_respected():
    path = am.run("Beale", "Adam", lr=0.01, num_steps=3, start=(2.0, -0.5))
    assert torch.equal(path[0], torch.tensor([2.0, -0.5], dtype=torch.float64))


@pytest.mark.parametrize("optimizer", am.OPTIMIZERS)
def test_run_grid_equals_separate_runs(optimizer):
    lrs = [1e-3, 0.03, 0.5]
    grid = am.run_grid("Rosenbrock", optimizer, lrs, num_steps=40)
    assert grid.shape == (3, 41, 2)
    for k, lr in enumerate(lrs):
        single = am.run("Rosenbrock", optimizer, lr=lr, num_steps=40)
        finite = torch.isfinite(single)
        assert torch.equal(grid[k][finite], single[finite])
        assert torch.equal(torch.isfinite(grid[k]), finite)


def test_run_grid_passes_settings_on():
    a = am.run_grid("Beale", "RMSprop", [0.01], num_steps=5, alpha=0.9)[0]
    b = am.run("Beale", "RMSprop", lr=0.01, num_steps=5, alpha=0.9)
    assert torch.equal(a, b)
    assert not torch.equal(a, am.run("Beale", "RMSprop", lr=0.01, num_steps=5))


@pytest.mark.parametrize("function", list(am.FUNCTIONS))
@pytest.mark.parametrize("lr", [1e-3, 0.05, 0.3])
@pytest.mark.parametrize("betas", [(0.9, 0.999), (0.5, 0.9), (0.0, 0.99)])
def test_adam_first_step_is_lr_per_coordinate(function, lr, betas):
    path = am.run(function, "Adam", lr=lr, betas=betas, num_steps=1)
    step = path[1] - path[0]
    g = _grad(function, am.FUNCTIONS[function].start)
    assert torch.allclose(step.abs(), torch.full((2,), lr, dtype=torch.float64), rtol=1e-6)
    assert torch.equal(torch.sign(step), -torch.sign(g))


def test_rmsprop_first_step_is_ten_lr_with_torch_defaults():
    # No bias correction: v_1 = (1 - alpha) g^2, so the first step is lr / sqrt(1 - alpha),
    # ten times lr for torch's alpha = 0.99 (the old demo's 0.999 gave 31.6 lr).
    path = am.run("Rosenbrock", "RMSprop", lr=1e-3, num_steps=1)
    assert torch.allclose((path[1] - path[0]).abs(), torch.full((2,), 1e-2, dtype=torch.float64), rtol=1e-6)
    path = am.run("Rosenbrock", "RMSprop", lr=1e-3, num_steps=1, alpha=0.9)
    expected = 1e-3 / math.sqrt(0.1)
    assert torch.allclose((path[1] - path[0]).abs(), torch.full((2,), expected, dtype=torch.float64), rtol=1e-6)


def test_adadelta_first_step_is_set_by_eps_and_rho_default():
    # u_0 = 0: the first step is sqrt(eps) / sqrt((1 - rho) g^2 + eps) * |g| ~ sqrt(eps / (1 - rho)).
    path = am.run("Beale", "Adadelta", lr=1.0, num_steps=1)
    step = (path[1] - path[0]).abs()
    g = _grad("Beale", am.FUNCTIONS["Beale"].start).abs()
    expected = math.sqrt(1e-6) / torch.sqrt(0.1 * g ** 2 + 1e-6) * g
    assert torch.allclose(step, expected, rtol=1e-6)


def test_adamw_matches_adam_without_decay_and_differs_with_it():
    adam = am.run("Beale", "Adam", lr=0.05, num_steps=30)
    adamw0 = am.run("Beale", "AdamW", lr=0.05, num_steps=30, weight_decay=0.0)
    adamw = am.run("Beale", "AdamW", lr=0.05, num_steps=30, weight_decay=0.5)
    assert torch.allclose(adam, adamw0, rtol=0, atol=1e-12)
    assert (adam[-1] - adamw[-1]).abs().max() > 1e-3
    start = torch.tensor(am.FUNCTIONS["Beale"].start, dtype=torch.float64)
    g = _grad("Beale", am.FUNCTIONS["Beale"].start)
    expected = start * (1 - 0.05 * 0.5) - 0.05 * torch.sign(g)
    assert torch.allclose(adamw[1], expected, atol=1e-7)


def test_losses_match_the_function():
    path = torch.tensor([[1.0, 1.0], [0.0, 0.0]], dtype=torch.float64)
    assert torch.allclose(am.losses("Rosenbrock", path), torch.tensor([0.0, 1.0], dtype=torch.float64))


def test_divergence_is_detected_per_run():
    f = "ill-conditioned quadratic"
    paths = am.run_grid(f, "SGD", [0.07, 0.1], num_steps=200)
    assert am.diverged(f, paths).tolist() == [False, True]  # plain GD is stable iff lr < 2 / 25
    assert am.has_diverged(f, paths[1]) and not am.has_diverged(f, paths[0])
    assert am.losses(f, paths[0])[-1] < 1e-3


# ----------------------------------------------------------------------------- the rotated quadratic

def test_rotated_quadratic_is_the_quadratic_turned():
    g = torch.Generator().manual_seed(0)
    p = torch.randn(50, 2, generator=g, dtype=torch.float64)
    for angle in (0.0, 30.0, 45.0, 90.0):
        a = math.radians(angle)
        R = torch.tensor([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]], dtype=torch.float64)
        assert torch.allclose(rotated_quadratic(p @ R.T, angle=angle), ill_conditioned_quadratic(p))
    # At 45 degrees the curvatures 1 and 25 lie along the diagonals.
    d = torch.tensor([1.0, 1.0], dtype=torch.float64) / math.sqrt(2)
    e = torch.tensor([-1.0, 1.0], dtype=torch.float64) / math.sqrt(2)
    assert torch.isclose(rotated_quadratic(d), torch.tensor(0.5, dtype=torch.float64))
    assert torch.isclose(rotated_quadratic(e), torch.tensor(12.5, dtype=torch.float64))


@pytest.mark.parametrize("optimizer", ["SGD", "SGD+momentum"])
def test_gradient_descent_does_not_notice_the_rotation(optimizer):
    a = am.run("ill-conditioned quadratic", optimizer, lr=0.05, num_steps=60)
    b = am.run("rotated quadratic", optimizer, lr=0.05, num_steps=60)
    assert torch.allclose(am.losses("ill-conditioned quadratic", a), am.losses("rotated quadratic", b),
                          rtol=1e-9, atol=1e-14)


@pytest.mark.parametrize("optimizer", ["Adagrad", "RMSprop", "Adam"])
def test_adaptive_methods_do_notice_the_rotation(optimizer):
    a = am.losses("ill-conditioned quadratic", am.run("ill-conditioned quadratic", optimizer, lr=0.1))
    b = am.losses("rotated quadratic", am.run("rotated quadratic", optimizer, lr=0.1))
    assert not torch.allclose(a, b, rtol=1e-3)


# ----------------------------------------------------------------------------- best rate from one grid

def test_lr_grid_is_one_log_grid_four_per_decade():
    grid = np.array(am.LR_GRID)
    assert grid[0] == pytest.approx(1e-4) and grid[-1] == pytest.approx(10 ** 0.5)
    assert np.allclose(np.diff(np.log10(grid)), 0.25)


def test_best_run_picks_the_lowest_final_objective():
    sweep = am.best_run("ill-conditioned quadratic", "SGD", [0.01, 0.05, 0.07, 0.1], num_steps=100)
    assert sweep.paths.shape == (4, 101, 2)
    assert np.isinf(sweep.finals[3])                           # lr 0.1 > 2/25 diverges
    assert sweep.best_lr == 0.07 and sweep.best_final == sweep.finals[2]
    assert sweep.finals[0] > sweep.finals[1] > sweep.finals[2]  # a larger stable lr gets further
    assert torch.equal(sweep.best_path, sweep.paths[2])
    assert sweep.label == "SGD, lr=0.07"
    # Each entry is the objective where that run ends.
    path = am.run("ill-conditioned quadratic", "SGD", lr=0.05, num_steps=100)
    assert sweep.finals[1] == pytest.approx(float(am.losses("ill-conditioned quadratic", path[-1])), rel=1e-12)


def test_solved_runs_tie_and_the_smaller_rate_wins():
    sweep = am.Sweep("f", "Adam", np.array([0.1, 0.2, 0.3]), np.array([1e-3, 1e-20, 1e-40]),
                     torch.zeros(3, 2, 2))
    assert sweep.best_lr == 0.2  # 1e-20 and 1e-40 are both below 1e-16
    sweep = am.Sweep("f", "Adam", np.array([0.1, 0.2]), np.array([math.inf, 2.0]), torch.zeros(2, 2, 2))
    assert sweep.best_lr == 0.2


def test_best_lr_matches_lr_sweep_and_run_uses_it():
    f = "ill-conditioned quadratic"
    finals = am.lr_sweep(f, "Adam")
    assert finals.shape == (len(am.LR_GRID),)
    best = am.best_lr(f, "Adam")
    assert best == am.LR_GRID[int(np.argmin(np.maximum(finals, 1e-16)))]
    assert torch.equal(am.run(f, "Adam"), am.run(f, "Adam", lr=best))
    # The settings are part of the cache key.
    assert am.best_lr(f, "Adam", betas=(0.0, 0.999)) == am.best_run(f, "Adam", betas=(0.0, 0.999)).best_lr
    assert am.best_lr(f, "Adam", num_steps=10) == am.best_run(f, "Adam", num_steps=10).best_lr


def test_the_chapters_quadratic_claims_hold():
    # What chapter 9 says about its first figure (the page asserts it too).
    aligned = {n: am.best_run("ill-conditioned quadratic", n) for n in ("SGD", "Adagrad", "RMSprop", "Adam")}
    rotated = {n: am.best_run("rotated quadratic", n) for n in ("SGD", "Adagrad", "RMSprop", "Adam")}
    assert aligned["Adagrad"].best_final < 1e-16 and aligned["RMSprop"].best_final < 1e-16
    assert aligned["Adam"].best_final > aligned["SGD"].best_final
    for n in ("Adagrad", "RMSprop", "Adam"):
        assert rotated[n].best_final > 1e-7
    assert rotated["SGD"].best_final == pytest.approx(aligned["SGD"].best_final, rel=1e-6)


# ----------------------------------------------------------------------------- figures

def _line_labels(ax):
    return [line.get_label() for line in ax.get_lines() if not line.get_label().startswith("_")]


def test_comparison_figure_two_columns_is_at_most_8_inches_with_a_legend_per_column():
    runs = {title: [am.best_run(f, n, lrs=[0.01, 0.1], num_steps=20) for n in ("SGD", "Adam")]
            for title, f in (("a", "ill-conditioned quadratic"), ("b", "rotated quadratic"))}
    fig = am.comparison_figure(runs)
    assert isinstance(fig, Figure)
    assert _png_size_inches(fig)[0] <= 8.0
    axes = fig.get_axes()
    assert len(axes) == 4
    assert [ax.get_title() for ax in axes[:2]] == ["a", "b"]
    legends = [ax.get_legend() for ax in axes if ax.get_legend() is not None]
    assert len(legends) == 2
    for legend in legends:
        texts = [t.get_text() for t in legend.get_texts()]
        assert any(t.startswith("SGD, lr=") for t in texts) and any(t.startswith("Adam, lr=") for t in texts)
        assert all(t.get_fontsize() >= 10 for t in legend.get_texts())
    # The paths start at the function's start point.
    for ax, f in zip(axes[:2], ("ill-conditioned quadratic", "rotated quadratic")):
        first = [line for line in ax.get_lines() if line.get_label().startswith("Adam")][0]
        assert np.allclose([first.get_xdata()[0], first.get_ydata()[0]], am.FUNCTIONS[f].start)


def test_comparison_figure_single_panel_draws_extras_dashed_in_the_objective_only():
    base = [am.best_run("Rosenbrock", "RMSprop", lrs=[0.01], num_steps=20)]
    extra = [am.best_run("Rosenbrock", "RMSprop", lrs=[0.01], num_steps=20, momentum=0.9)]
    fig = am.comparison_figure({"Rosenbrock": base}, extra=extra)
    ax_path, ax_loss = fig.get_axes()
    assert _png_size_inches(fig)[0] <= 8.0
    assert _line_labels(ax_path) == ["RMSprop, lr=0.01"]
    assert _line_labels(ax_loss) == ["RMSprop, lr=0.01", "RMSprop, momentum=0.9, lr=0.01"]
    assert ax_loss.get_lines()[1].get_linestyle() == "--"
    with pytest.raises(ValueError):
        am.comparison_figure({"a": base, "b": base, "c": base})


def test_sweep_figure_marks_divergence_and_the_chosen_rate():
    sweeps = [am.best_run("ill-conditioned quadratic", n, lrs=[0.01, 0.05, 0.5], num_steps=50)
              for n in ("SGD", "Adam")]
    fig = am.sweep_figure({"quadratic": sweeps})
    assert _png_size_inches(fig)[0] <= 8.0
    ax = fig.get_axes()[0]
    crosses = [line for line in ax.get_lines() if line.get_marker() == "x" and len(line.get_xdata())]
    assert any(np.allclose(line.get_xdata(), [0.5]) for line in crosses)  # SGD diverges at 0.5
    legend = fig.legends[0]
    assert [t.get_text() for t in legend.get_texts()] == ["SGD", "Adam"]


def test_diverged_runs_are_labelled_and_clipped_to_the_view():
    runs = {"SGD, lr=0.5": am.run("ill-conditioned quadratic", "SGD", lr=0.5, num_steps=60)}
    fig = Figure()
    ax_path, ax_loss = fig.subplots(1, 2)
    am.draw_paths(ax_path, "ill-conditioned quadratic", runs)
    am.draw_objective(ax_loss, "ill-conditioned quadratic", runs)
    assert any("diverged" in label for label in _line_labels(ax_loss))
    path_line = [line for line in ax_path.get_lines() if line.get_label() == "SGD, lr=0.5"][0]
    assert len(path_line.get_xdata()) < 61  # drawn only until it leaves the view


def test_frame_draws_every_optimizer_at_the_given_rate():
    fig = am.frame("rotated quadratic", 0.05, num_steps=20)
    assert _png_size_inches(fig)[0] <= 8.0
    ax_path, ax_loss = fig.get_axes()
    assert "lr = 0.05" in ax_path.get_title()
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert [label.split(" ")[0] for label in labels] == list(am.DEMO_OPTIMIZERS)
    for name in am.DEMO_OPTIMIZERS:
        line = [ln for ln in ax_path.get_lines() if ln.get_label() == name][0]
        expected = am.run("rotated quadratic", name, lr=0.05, num_steps=20)
        assert np.allclose(line.get_xdata(), expected[:, 0].numpy())


# ----------------------------------------------------------------------------- the demo on the site

def test_site_demo_is_a_slider_over_problem_and_rate_with_one_frame_each(monkeypatch):
    drawn = []
    real_frame = am.frame

    def spy(function, lr, optimizers=am.DEMO_OPTIMIZERS, **kw):
        drawn.append((function, lr, kw.get("paths")))
        return real_frame(function, lr, optimizers, num_steps=5, **kw)

    monkeypatch.setattr(am, "frame", spy)
    lrs = (0.01, 0.1, 1.0)
    slider = am.site_demo(lrs=lrs)
    assert isinstance(slider, FigureSlider)
    assert len(slider.frames) == 2 * len(lrs) == len(drawn)
    assert slider.params == {"function": ["ill-conditioned quadratic", "rotated quadratic"], "lr": list(lrs)}
    assert len(set(slider.frames)) == len(slider.frames)  # every setting draws a different picture
    # The precomputed paths are those of plain runs at that rate (torch defaults).
    for function, lr, paths in drawn:
        for name in am.DEMO_OPTIMIZERS:
            assert torch.equal(paths[name], am.run(function, name, lr=lr))
    html = slider._repr_html_()
    assert 'type="range"' in html and "learning rate" in html and "problem" in html
    assert slider.caption and slider.alt


def test_site_demo_default_size_fits_one_page():
    assert len(am.DEMO_LRS) * 2 <= 40
    assert min(am.DEMO_LRS) < 0.08 < 0.152 < max(am.DEMO_LRS)  # both divergence thresholds are on the slider


# ----------------------------------------------------------------------------- widget

def test_widget_builds_with_torch_defaults_and_renders_once():
    import ipywidgets as widgets

    w = am.interactive()
    assert isinstance(w, widgets.Widget)
    c = w.controls
    assert set(c) >= {"function", "optimizers", "log10_lr", "tuned_lr", "momentum", "beta1", "beta2",
                      "alpha", "rho", "weight_decay", "num_steps"}
    assert (c["beta1"].value, c["beta2"].value, c["alpha"].value, c["rho"].value) == (0.9, 0.999, 0.99, 0.9)
    assert c["weight_decay"].value == 0.01 and c["momentum"].value == 0.9
    assert w.state["renders"] == 1
    assert w.state["error"] is None
    assert set(w.state["runs"]) == set(c["optimizers"].value)


def test_driving_every_control_rerenders_without_error():
    w = am.interactive()
    c = w.controls
    new_values = {
        "function": "Beale",
        "optimizers": ("Adagrad", "RMSprop", "Adadelta", "AdamW", "SGD+momentum"),
        "log10_lr": -2.0,
        "momentum": 0.5,
        "beta1": 0.5,
        "beta2": 0.9,
        "alpha": 0.9,
        "rho": 0.95,
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
    for name, path in runs.items():
        assert path.shape == (31, 2)
        assert torch.equal(path[0], torch.tensor(am.FUNCTIONS["Beale"].start, dtype=torch.float64))
        # tuned: each optimizer's best rate from the grid, with the sliders' settings
        assert w.state["lrs"][name] in am.LR_GRID


def test_widget_sliders_reach_the_torch_optimizers():
    w = am.interactive()
    c = w.controls
    c["optimizers"].value = ("RMSprop",)
    c["log10_lr"].value = -3.0
    c["alpha"].value = 0.9
    path = w.state["runs"]["RMSprop"]
    expected = 1e-3 / math.sqrt(1 - 0.9)  # first RMSprop step with alpha = 0.9
    assert torch.allclose((path[1] - path[0]).abs(), torch.full((2,), expected, dtype=torch.float64),
                          rtol=1e-4)
    c["optimizers"].value = ("Adam",)
    c["log10_lr"].value = -2.0
    path = w.state["runs"]["Adam"]
    assert torch.allclose((path[1] - path[0]).abs(), torch.full((2,), 0.01, dtype=torch.float64), rtol=1e-6)
    assert w.children[1].children[0].value[:4] == b"\x89PNG"  # the picture is there


def test_widget_survives_a_diverging_choice():
    w = am.interactive()
    w.controls["function"].value = "Rosenbrock"
    w.controls["optimizers"].value = ("SGD",)
    w.controls["log10_lr"].value = 0.0  # lr = 1 explodes on Rosenbrock
    assert w.state["error"] is None
    assert am.has_diverged("Rosenbrock", w.state["runs"]["SGD"])


@pytest.mark.parametrize("optimizer", ["SGD+momentum", "Adam"])
def test_train_digits_grid_equals_separate_runs(optimizer):
    lrs, seeds = [1e-3, 1e-1], [0, 5]
    grid = am.train_digits_grid(optimizer, lrs, seeds, num_epochs=2)
    assert grid.shape == (2, 2, 3, 4)
    for i, lr in enumerate(lrs):
        for j, seed in enumerate(seeds):
            (X_tr, y_tr), (X_va, y_va), _ = am.digits_splits(seed)
            net = am.digits_mlp(seed)
            opt = am.make_optimizer(optimizer, net.parameters(), lr)
            g = torch.Generator().manual_seed(seed)
            for _ in range(2):
                perm = torch.randperm(len(X_tr), generator=g)
                for k in range(0, len(X_tr), 64):
                    idx = perm[k:k + 64]
                    opt.zero_grad()
                    torch.nn.functional.cross_entropy(net(X_tr[idx]), y_tr[idx]).backward()
                    opt.step()
            with torch.no_grad():
                val = torch.nn.functional.cross_entropy(net(X_va), y_va).item()
            assert grid[i, j, -1, 1] == pytest.approx(val, rel=1e-4, abs=1e-5)
