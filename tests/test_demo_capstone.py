"""Tests for the Chapter 12 demo and page helpers, coursekit.demos.capstone."""

import io

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure
from scipy import stats

from coursekit.demos import capstone as cap

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
RUNS = {"A": [0.95, 0.96, 0.94, 0.97, 0.955], "B": [0.90, 0.93, 0.91, 0.92, 0.915]}


def test_make_net_reads_hidden_and_dropout_and_is_seeded_by_the_global_state():
    net = cap.make_net({"hidden": 8, "dropout": 0.25})
    assert [type(m).__name__ for m in net] == ["Linear", "ReLU", "Dropout", "Linear"]
    assert net[0].out_features == 8 and net[2].p == 0.25 and net[3].out_features == 10
    torch.manual_seed(3)
    a = cap.make_net()
    torch.manual_seed(3)
    b = cap.make_net()
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert a[0].weight.dtype == torch.float32


def test_t_interval_matches_scipy():
    v = RUNS["A"]
    mean, std, half = cap.t_interval(v)
    low, high = stats.t.interval(0.95, len(v) - 1, loc=np.mean(v), scale=stats.sem(v))
    assert mean == pytest.approx(np.mean(v)) and std == pytest.approx(np.std(v, ddof=1))
    assert mean - half == pytest.approx(low) and mean + half == pytest.approx(high)


@pytest.fixture(scope="module")
def tiny_splits():
    return cap.page_splits(n_train=120, n_val=80, seed=1)


def test_page_run_is_reproducible_and_reports_the_restored_epoch(tiny_splits):
    cfg = {"optimizer": "sgd-momentum", "lr": 0.3, "num_epochs": 12, "patience": 2, "hidden": 16}
    a = cap.page_run(cfg, 0, tiny_splits)
    b = cap.page_run(cfg, 0, tiny_splits)
    assert a["val_loss"] == b["val_loss"] and a["test"] == b["test"]
    assert len(a["val_loss"]) == 12 and 1 <= a["epochs_run"] <= 12
    stop, best = cap._patience_stop(a["val_loss"], 2)
    assert a["epochs_run"] == stop + 1 and a["test"] == a["test_acc"][best]
    assert a["val_loss"][best] == min(a["val_loss"][:stop + 1])
    plain = cap.page_run({**cfg, "patience": None}, 0, tiny_splits)
    assert plain["test"] == plain["test_acc"][-1] and plain["val_loss"] == a["val_loss"]


@pytest.mark.parametrize("kind", ["sgd-momentum", "adam", "adamw"])
def test_page_run_uses_the_named_torch_optimizer(kind, tiny_splits, monkeypatch):
    seen = []
    for name in ("SGD", "Adam", "AdamW"):
        cls = getattr(torch.optim, name)
        monkeypatch.setattr(torch.optim, name, type(name, (cls,), {"__init__": lambda self, *a, _c=cls, _n=name, **k:
                                                                    (seen.append((_n, k)), _c.__init__(self, *a, **k))[1]}))
    cap.page_run({"optimizer": kind, "lr": 0.01, "weight_decay": 0.1, "num_epochs": 1, "hidden": 8}, 0, tiny_splits)
    name, kwargs = seen[0]
    assert name == {"sgd-momentum": "SGD", "adam": "Adam", "adamw": "AdamW"}[kind]
    assert kwargs["weight_decay"] == 0.1 and kwargs.get("momentum", 0.9) == 0.9


def test_demo_figure_and_site_demo():
    from matplotlib.image import imread

    from coursekit.demos.slider import FigureSlider

    assert isinstance(cap.demo_figure(3, RUNS), Figure)
    slider = cap.site_demo(RUNS, initial=3)
    assert isinstance(slider, FigureSlider)
    assert slider.params["k"] == [2, 3, 4, 5] and len(slider.frames) <= 40
    assert all(f.startswith(PNG_MAGIC) for f in slider.frames) and len(set(slider.frames)) == len(slider.frames)
    html = slider._repr_html_()
    assert 'type="range"' in html and 'alt="' in html
    assert imread(io.BytesIO(slider.frames[0])).shape[1] <= 8 * 100


def test_widget_recomputes_when_the_slider_moves():
    w = cap.interactive(RUNS)
    assert w.state["A"][2] == pytest.approx(cap.t_interval(RUNS["A"][:3])[2])
    w.k.value = 5
    assert w.state["A"][2] == pytest.approx(cap.t_interval(RUNS["A"])[2])
    assert bytes(w.image.value).startswith(PNG_MAGIC)


def test_plot_summary():
    fig = cap.plot_summary({"a": {"n": 3, "mean": 0.9, "ci_low": 0.85, "ci_high": 0.95},
                            "b": {"n": 3, "mean": 0.8, "ci_low": 0.7, "ci_high": 0.9}})
    assert isinstance(fig, Figure) and fig.get_size_inches()[0] <= 8
