"""Visible checks for the exercise notebooks.

These run on the student's laptop before submission. They compare against
oracles the student already has (torch, numpy, scikit-learn, finite
differences) and raise ``AssertionError`` with a message that says what is
wrong in plain terms.
"""

from .common import assert_close, numerical_gradient
from .optimizers import assert_same_trajectory, compare_with_torch, optimizer_trajectory
from .regularization import assert_param_groups
from .source import assert_no_matrix_inverse

__all__ = ["assert_close", "numerical_gradient", "assert_same_trajectory", "compare_with_torch", "optimizer_trajectory",
           "assert_param_groups", "assert_no_matrix_inverse"]
