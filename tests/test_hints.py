"""Visible hints on the student's laptop: every known optimizer mistake is named by a
probe that uses only torch.optim and closed forms, and correct classes get no hint."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import solutions
from autograder.hidden import mistakes
from coursekit.checks import assert_close, compare_with_torch
from coursekit.checks.hints import HINTS, diagnose

# Named differently on the laptop, or only by the hidden tests, and why:
VISIBLE_EXCEPTIONS = {
    # the lagging counter makes the first step uncorrected, which is what the probe sees and says
    ("Adam", "step_off_by_one"): HINTS["no_bias_correction"].format(name="Adam"),
    # needs two parameters of one shape; the hidden tests' network has them, the scalar probe does not
    ("Adam", "shared_state"): None,
}

CASES = [(name, bug) for name, bugs in mistakes.MISTAKES.items() for bug in bugs]


@pytest.mark.parametrize("name,bug", CASES)
def test_each_mistake_is_named_on_the_laptop(name, bug):
    cls, hint = mistakes.MISTAKES[name][bug]
    assert diagnose(name, cls) == VISIBLE_EXCEPTIONS.get((name, bug), hint)


@pytest.mark.parametrize("name", sorted(mistakes.MISTAKES))
def test_correct_optimizers_get_no_hint(name):
    for cls in (getattr(torch.optim, name), getattr(solutions, name), getattr(mistakes, f"Buggy{name}")):
        assert diagnose(name, cls) is None, cls


def test_visible_comparison_names_the_mistake():
    cls, hint = mistakes.MISTAKES["Adam"]["no_bias_correction"]
    with pytest.raises(AssertionError, match="Likely cause: your update matches Adam without bias correction"):
        compare_with_torch(cls, torch.optim.Adam, dict(lr=0.01), steps=5)


def test_assert_close_names_a_known_wrong_value_without_showing_the_right_one():
    with pytest.raises(AssertionError) as err:
        assert_close(7.0, 3.5, "penalty", mistakes=[(7.0, "lam instead of lam/2")])
    assert "lam instead of lam/2" in str(err.value) and "3.5" not in str(err.value)
    with pytest.raises(AssertionError, match="largest absolute error"):
        assert_close(np.array([1.0]), np.array([2.0]), "x", mistakes=[(np.array([5.0]), "never")])
