"""Visible hints on the student's laptop: every known optimizer mistake is named by a
probe that uses only torch.optim and closed forms, and correct classes get no hint; chapter 2's
checks name what is wrong with an answer's parameter groups or its use of an inverse matrix."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import solutions
from autograder.hidden import mistakes
from coursekit.checks import assert_close, assert_no_matrix_inverse, assert_param_groups, compare_with_torch
from coursekit.checks.hints import diagnose
from coursekit.checks.source import matrix_inverse_uses
from submissions.ch09 import VISIBLE_EXCEPTIONS  # named differently on the laptop, or only by the hidden tests

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


# ---------------------------------------------------------------- chapter 2's visible checks
INVERSE_CASES = {
    # forms an inverse matrix
    "w = np.linalg.inv(A) @ b": True,
    "from scipy.linalg import inv\nw = inv(A) @ b": True,
    "w = np.linalg.pinv(A) @ b": True,
    "w = np.asarray(np.asmatrix(A).I @ b)": True,
    "w = np.linalg.solve(A, np.eye(d)) @ b": True,
    "w = torch.linalg.inv(A) @ b": True,
    "w = A.inverse() @ b": True,
    "w = getattr(np.linalg, 'inv')(A) @ b": True,
    "import scipy.linalg as la\nw = la.inv(A) @ b": True,
    # does not: names, comments and docstrings that merely contain "inv"
    "inv = 1.0 / n\nw = np.linalg.solve(inv * A, inv * b)": False,
    "inv_n = 1 / n\nw = np.linalg.solve(A, b)": False,
    "# np.linalg.inv would be slower\nw = np.linalg.solve(A, b)": False,
    "def f(A, b):\n    '''Never np.linalg.inv.'''\n    return np.linalg.solve(A, b)": False,
    "w = np.linalg.lstsq(A, b, rcond=None)[0]": False,
    "not python (": False,
}


@pytest.mark.parametrize("source,forms_inverse", INVERSE_CASES.items())
def test_matrix_inverse_uses_flags_calls_not_names(source, forms_inverse):
    assert bool(matrix_inverse_uses(source)) == forms_inverse, matrix_inverse_uses(source)


def test_assert_no_matrix_inverse_sees_an_inverse_imported_by_name(tmp_path, monkeypatch):
    (tmp_path / "answer_by_name.py").write_text(
        "import numpy as np\nfrom numpy.linalg import inv as invert\n\n\n"
        "def fit(A, b):\n    inv = 2.0\n    return invert(A) @ b * inv\n\n\n"
        "def fine(A, b):\n    inv = 2.0\n    return np.linalg.solve(A, b) * inv\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import answer_by_name

    with pytest.raises(AssertionError, match=r"fit: do not form the inverse matrix \(invert on line 7, "
                                             r"which is numpy.linalg.inv\)"):
        assert_no_matrix_inverse(answer_by_name.fit)
    assert_no_matrix_inverse(answer_by_name.fine)


def _norm_net():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.BatchNorm1d(8), torch.nn.ReLU(),
                               torch.nn.Linear(8, 8, bias=False), torch.nn.LayerNorm(8), torch.nn.Linear(8, 3))


def test_assert_param_groups_names_what_is_in_the_wrong_group():
    net = _norm_net()
    weights = [net[0].weight, net[3].weight, net[5].weight]
    rest = [p for p in net.parameters() if all(p is not w for w in weights)]
    assert_param_groups([{"params": weights, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}],
                        net, 0.1, decayed=weights)
    cases = [
        ([{"params": list(net.parameters()), "weight_decay": 0.1}], r"biases are decayed \(0.bias, 5.bias\)"),
        ([{"params": weights + [net[1].weight, net[4].weight], "weight_decay": 0.1},
          {"params": [net[0].bias, net[1].bias, net[4].bias, net[5].bias], "weight_decay": 0.0}],
         r"normalization parameters are decayed \(1.weight of BatchNorm1d, 4.weight of LayerNorm\).*although the "
         r"scale is called 'weight'"),
        ([{"params": weights[:2], "weight_decay": 0.1}, {"params": rest + weights[2:], "weight_decay": 0.0}],
         r"should be decayed but are not: 5.weight"),
        ([{"params": weights, "weight_decay": 0.1}], r"every parameter must be in one group; missing: 0.bias"),
        ([{"params": weights, "weight_decay": 0.1}, {"params": rest + weights[:1], "weight_decay": 0.0}],
         r"a parameter appears twice"),
        ([{"params": weights, "weight_decay": 0.5}, {"params": rest, "weight_decay": 0.0}],
         r"must be the weight_decay you were given \(0.1\) or 0.0"),
        ((p for p in net.parameters()), r"return a list of dicts"),
    ]
    for groups, message in cases:
        with pytest.raises(AssertionError, match=message):
            assert_param_groups(groups, net, 0.1, decayed=weights)
