"""Tests for the Chapter 11 demo and experiment helpers (coursekit/demos/tuning.py)."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from coursekit.demos import tuning as demo  # noqa: E402
from coursekit.demos.slider import FigureSlider  # noqa: E402


# ---------------------------------------------------------------- the toy landscape
def test_toy_scores_depend_on_lr_much_more_than_on_weight_decay():
    best = demo.toy_scores({"lr": 10 ** demo.BEST_LOG_LR, "weight_decay": 1e-4})
    assert best["train"] < best["val"] < best["test"]
    lr_off = demo.toy_scores({"lr": 10 ** (demo.BEST_LOG_LR + 1), "weight_decay": 1e-4})["val"] - best["val"]
    wd_off = demo.toy_scores({"lr": 10 ** demo.BEST_LOG_LR, "weight_decay": 1e-3})["val"] - best["val"]
    assert lr_off > 10 * wd_off > 0


def test_grid_and_random_points_span_the_ranges():
    grid = demo.grid_points(3)
    assert len(grid) == 9 and len({p["lr"] for p in grid}) == 3
    np.testing.assert_allclose(sorted({p["lr"] for p in grid}), np.geomspace(*demo.LR_RANGE, 3))
    rand = demo.random_points(9, seed=0)
    assert len({p["lr"] for p in rand}) == 9
    assert all(demo.LR_RANGE[0] <= p["lr"] <= demo.LR_RANGE[1] for p in rand)
    assert rand == demo.random_points(9, seed=0) and rand != demo.random_points(9, seed=1)


def test_frame_is_two_readable_panels():
    fig = demo.frame(9, 0)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    assert fig.get_size_inches()[0] <= 8.0
    for ax in fig.axes:
        assert ax.xaxis.label.get_fontsize() >= 10 and ax.title.get_fontsize() >= 10


# ---------------------------------------------------------------- the site's slider and the widget
def test_site_demo_has_one_frame_per_setting(monkeypatch):
    calls = []
    real = demo.frame

    def spy(n_trials, seed, fig=None):
        calls.append((n_trials, seed))
        return real(n_trials, seed)

    monkeypatch.setattr(demo, "frame", spy)
    slider = demo.site_demo(trials=(4, 9), seeds=(0, 1))
    assert isinstance(slider, FigureSlider)
    assert sorted(calls) == [(4, 0), (4, 1), (9, 0), (9, 1)]
    assert len(slider.frames) == 4 and len(set(slider.frames)) == 4
    assert slider.caption and slider.alt
    assert 'type="range"' in slider._repr_html_()


def test_site_demo_default_size():
    assert len(demo.DEMO_TRIALS) * len(demo.DEMO_SEEDS) <= 40


def test_widget_renders_and_rerenders():
    w = demo.interactive()
    assert w.state["renders"] == 1
    w.controls["n_trials"].value = 16
    w.controls["seed"].value = 3
    assert w.state["renders"] == 3


# ---------------------------------------------------------------- the digits estimator
def test_digits_splits_are_stratified_60_20_20():
    (Xtr, ytr), (Xva, yva), (Xte, yte) = demo.digits_splits()
    assert (len(Xtr), len(Xva), len(Xte)) == (1077, 360, 360)
    assert Xtr.dtype == np.float32 and Xtr.max() <= 1.0
    assert np.bincount(yva).min() >= 35


def test_estimator_learns_and_works_with_scikit_learn_search():
    from sklearn.model_selection import GridSearchCV

    (Xtr, ytr), (Xva, yva), _ = demo.digits_splits()
    net = demo.TorchMLPClassifier(lr=0.02, num_epochs=30).fit(Xtr, ytr)
    assert np.mean(net.predict(Xva) == yva) > 0.85
    again = demo.TorchMLPClassifier(lr=0.02, num_epochs=30).fit(Xtr, ytr)
    np.testing.assert_array_equal(net.predict_proba(Xva), again.predict_proba(Xva))  # seeded: reproducible
    X, y = np.vstack([Xtr, Xva]), np.r_[ytr, yva]
    search = GridSearchCV(demo.TorchMLPClassifier(num_epochs=10), {"lr": [1e-4, 0.02]}, scoring="neg_log_loss",
                          cv=demo.validation_split(len(Xtr), len(Xva)), refit=False).fit(X, y)
    assert search.best_params_["lr"] == 0.02
    assert len(search.cv_results_["mean_test_score"]) == 2
