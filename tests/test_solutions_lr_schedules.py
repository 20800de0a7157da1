"""The reference solutions of Chapter 10 (solutions/lr_schedules.py) against their oracles: torch's StepLR,
CosineAnnealingLR and LinearLR, SequentialLR of LinearLR and CosineAnnealingLR, and a training loop written out
for ``fit``; and the sandbox drivers and visible checks of coursekit.checks.lr_schedules on the reference."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from coursekit.checks import lr_schedules as checks
from solutions import lr_schedules as ref

CASES = [
    ("StepLR", {"step_size": 3, "gamma": 0.5}), ("StepLR", {"step_size": 1, "gamma": 0.9}), ("StepLR", {"step_size": 2}),
    ("CosineAnnealingLR", {"T_max": 5}), ("CosineAnnealingLR", {"T_max": 4, "eta_min": 0.01}),
    ("CosineAnnealingLR", {"T_max": 1}),
    ("LinearLR", {}), ("LinearLR", {"start_factor": 0.1, "total_iters": 4}),
    ("LinearLR", {"start_factor": 1.0, "end_factor": 0.2, "total_iters": 3}),
    ("LinearLR", {"start_factor": 0.5, "total_iters": 1}),
    ("WarmupCosineLR", {"warmup_iters": 3, "T_max": 5}),
    ("WarmupCosineLR", {"warmup_iters": 1, "T_max": 4, "start_factor": 0.5, "eta_min": 0.02}),
]


@pytest.mark.parametrize("name,kwargs", CASES)
@pytest.mark.parametrize("roundtrip_at", [None, 3])
@pytest.mark.parametrize("optimizer", ["SGD", "Adam"])
def test_schedulers_match_torch_step_for_step(name, kwargs, roundtrip_at, optimizer):
    lrs = (0.3, 0.05, 0.01)
    ours = checks.schedule_run(getattr(ref, name), kwargs, lrs, 15, roundtrip_at, optimizer)
    theirs = checks.schedule_run(checks.TORCH[name], kwargs, lrs, 15, roundtrip_at, optimizer)
    np.testing.assert_allclose(ours["lrs"], theirs["lrs"], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(ours["last_lr"], ours["lrs"], rtol=0, atol=0)
    assert ours["last_epoch"] == theirs["last_epoch"] == list(range(16))
    assert ours["base_lrs"] == list(lrs)


@pytest.mark.parametrize("name", ["StepLR", "CosineAnnealingLR", "LinearLR", "WarmupCosineLR"])
def test_visible_checks_pass_the_reference(name):
    checks.check_scheduler(getattr(ref, name), name)


def test_step_with_epoch_uses_the_closed_form_like_torch():
    """The deprecated step(epoch) calls _get_closed_form_lr when it exists, else get_lr: ours is closed-form."""
    p = torch.nn.Parameter(torch.zeros(1))
    o1, o2 = torch.optim.SGD([p], lr=0.1), torch.optim.SGD([p], lr=0.1)
    ours, theirs = ref.StepLR(o1, 2, 0.5), torch.optim.lr_scheduler.StepLR(o2, 2, 0.5)
    with pytest.warns(UserWarning):
        ours.step(5)
    with pytest.warns(UserWarning):
        theirs.step(5)
    assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr())


def _plain_fit(net, optimizer, scheduler, batches, num_epochs, interval):
    history = []
    for _ in range(num_epochs):
        losses = []
        for X, y in batches:
            optimizer.zero_grad()
            loss = F.cross_entropy(net(X), y)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            if interval == "step":
                scheduler.step()
        if interval == "epoch":
            scheduler.step()
        history.append(float(np.mean(losses)))
    return history


@pytest.mark.parametrize("interval", ["epoch", "step"])
@pytest.mark.parametrize("schedule", ["step", "warmup", "cosine"])
def test_fit_matches_a_loop_written_out(interval, schedule):
    ours = checks.run_fit(ref.fit, 3, 3, interval=interval, schedule=schedule)
    theirs = checks.run_fit(_plain_fit, 3, 3, interval=interval, schedule=schedule)
    assert ours["order"] == theirs["order"] == checks.expected_order(3, 3, interval)
    assert not ours["warned"] and ours["floats"]
    np.testing.assert_allclose(ours["lrs"], theirs["lrs"])
    np.testing.assert_allclose(ours["params"], theirs["params"], rtol=1e-12)
    np.testing.assert_allclose(ours["history"], theirs["history"], rtol=1e-12)


def test_fit_visible_check_and_the_warning_probe():
    checks.check_fit(ref.fit)

    def wrong_order(net, optimizer, scheduler, batches, num_epochs, interval="epoch"):
        for _ in range(num_epochs):
            scheduler.step()
            for X, y in batches:
                optimizer.zero_grad()
                F.cross_entropy(net(X), y).backward()
                optimizer.step()
        return [0.0] * num_epochs

    out = checks.run_fit(wrong_order, 2, 2)
    assert out["warned"] and out["order"] == "SOOSOO"
    with pytest.raises(AssertionError, match="before optimizer.step"):
        checks.check_fit(wrong_order)
