"""Tests for the Chapter 6 demo, coursekit.demos.batch_norm."""

import io

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from torch import nn  # noqa: E402

from coursekit.demos import batch_norm as bd  # noqa: E402
from coursekit.demos.slider import FigureSlider  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


# ----------------------------------------------------------------- the running statistics

@pytest.mark.parametrize("momentum", [0.1, 0.37, 1.0])
def test_trace_follows_torchs_update_rule(momentum):
    t = bd.running_trace(momentum, batch_size=8)
    rm, rv = 0.0, 1.0
    for k in range(bd.NUM_BATCHES):
        rm = (1 - momentum) * rm + momentum * t["batch_mean"][k]
        rv = (1 - momentum) * rv + momentum * t["batch_var"][k]      # batch_var is the unbiased variance
        assert t["running_mean"][k] == pytest.approx(rm, rel=1e-12, abs=1e-12)
        assert t["running_var"][k] == pytest.approx(rv, rel=1e-12, abs=1e-12)


def test_momentum_none_is_the_cumulative_average():
    t = bd.running_trace(None, batch_size=8)
    k = np.arange(1, bd.NUM_BATCHES + 1)
    np.testing.assert_allclose(t["running_mean"], np.cumsum(t["batch_mean"]) / k, rtol=1e-10)
    np.testing.assert_allclose(t["running_var"], np.cumsum(t["batch_var"]) / k, rtol=1e-10)


def test_stream_changes_halfway_and_batches_are_unbiased():
    t = bd.running_trace(0.1, batch_size=256)
    assert np.all(t["true_mean"][:bd.SHIFT_AT] == bd.BEFORE[0]) and np.all(t["true_mean"][bd.SHIFT_AT:] == bd.AFTER[0])
    assert abs(t["batch_mean"][:bd.SHIFT_AT].mean() - bd.BEFORE[0]) < 0.03
    assert abs(t["batch_var"][bd.SHIFT_AT:].mean() - bd.AFTER[1]) < 0.01
    # small momentum lags, momentum 1 is the last batch
    slow = bd.running_trace(0.01, batch_size=16)
    assert slow["running_mean"][-1] < 1.0
    fast = bd.running_trace(1.0, batch_size=16)
    np.testing.assert_allclose(fast["running_mean"], fast["batch_mean"])
    with pytest.raises(ValueError):
        bd.running_trace(0.1, batch_size=1)


def test_demo_figure_is_two_readable_panels():
    fig = bd.demo_figure(0.1, 16)
    assert isinstance(fig, Figure)
    fig.savefig(io.BytesIO(), format="png", dpi=100)
    width, height = fig.get_size_inches()
    assert width <= 8 and height <= 5
    assert len(fig.axes) == 2
    sizes = [t.get_fontsize() for ax in fig.axes
             for t in [ax.title, ax.xaxis.label, ax.yaxis.label] + ax.get_xticklabels() + ax.get_yticklabels()]
    sizes += [t.get_fontsize() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts()]
    assert min(sizes) >= 10, sizes
    running = [line for line in fig.axes[0].get_lines() if line.get_label() == "running"]
    np.testing.assert_allclose(running[0].get_ydata(), bd.running_trace(0.1, 16)["running_mean"])
    assert "momentum = 0.1" in fig._suptitle.get_text()
    assert "None" in bd.demo_figure(None, 16)._suptitle.get_text()


def test_site_demo_has_a_frame_per_setting():
    slider = bd.site_demo()
    assert isinstance(slider, FigureSlider)
    assert slider.params == {"momentum": list(bd.SLIDER_MOMENTA), "batch_size": list(bd.SLIDER_BATCH_SIZES)}
    assert len(slider.frames) == len(bd.SLIDER_MOMENTA) * len(bd.SLIDER_BATCH_SIZES) <= 40
    assert all(frame.startswith(PNG_MAGIC) for frame in slider.frames)
    assert len(set(slider.frames)) == len(slider.frames)
    html = slider._repr_html_()
    assert html.count('type="range"') == 2 and 'alt="' in html


def test_widget_builds_and_recomputes():
    import ipywidgets as widgets

    w = bd.interactive()
    assert isinstance(w, widgets.VBox)
    first = bytes(w.image.value)
    assert first.startswith(PNG_MAGIC) and w.state["momentum"] == pytest.approx(0.1)
    w.cumulative.value = True
    assert w.state["momentum"] is None and bytes(w.image.value) != first
    np.testing.assert_allclose(w.state["running_mean"], bd.running_trace(None, 16)["running_mean"])
    w.batch_size.value = 256
    assert w.state["batch_size"] == 256


# ----------------------------------------------------------------- the network experiment

@pytest.fixture(scope="module")
def data():
    return bd.digits_data()


def test_digits_data_is_standardized_with_training_statistics(data):
    assert data["X_train"].shape == (1200, 64) and data["X_val"].shape == (597, 64)
    mean = data["X_train"].double().mean(0)
    assert mean.abs().max() < 1e-5
    assert data["y_train"].dtype == torch.long


def test_make_mlp_places_batch_norm_before_relu_without_linear_bias():
    net = bd.make_mlp(True)
    kinds = [type(m) for m in net]
    assert kinds[:3] == [nn.Linear, nn.BatchNorm1d, nn.ReLU] and kinds.count(nn.BatchNorm1d) == bd.DEPTH
    assert all(m.bias is None for m in net[:-1] if isinstance(m, nn.Linear)) and net[-1].bias is not None
    plain = bd.make_mlp(False)
    assert nn.BatchNorm1d not in [type(m) for m in plain]
    assert sum(isinstance(m, nn.Linear) for m in plain) == bd.DEPTH + 1


def test_train_mlp_is_reproducible_and_reports_eval_mode_losses(data):
    net, h = bd.train_mlp(True, 0.1, num_epochs=2, data=data)
    _, h2 = bd.train_mlp(True, 0.1, num_epochs=2, data=data)
    np.testing.assert_array_equal(h["train_loss"], h2["train_loss"])
    assert not net.training
    with torch.no_grad():
        loss = nn.functional.cross_entropy(net(data["X_train"]), data["y_train"]).item()
    assert h["train_loss"][-1] == pytest.approx(loss, rel=1e-6)
    assert set(h) == {"train_loss", "val_loss", "val_acc"} and all(len(v) == 2 for v in h.values())


def test_a_diverged_run_is_padded_and_does_not_train(data):
    _, h = bd.train_mlp(False, 3.0, num_epochs=4, data=data)
    assert len(h["train_loss"]) == 4
    assert not bd.trains(h)
    assert bd.trains({"train_loss": np.array([2.0, 0.5])}) and not bd.trains({"train_loss": np.array([np.nan])})


def test_train_mlp_leaves_torch_threads_as_it_found_them(data):
    before = torch.get_num_threads()
    bd.train_mlp(False, 0.1, num_epochs=1, data=data)
    assert torch.get_num_threads() == before
