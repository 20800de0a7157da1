"""Visible checks for the exercise notebooks.

These run on the student's laptop before submission. They compare against
oracles the student already has (torch, numpy, finite differences) and raise
``AssertionError`` with a message that says what is wrong in plain terms.
"""

from .common import assert_close, numerical_gradient
from .optimizers import assert_same_trajectory, compare_with_torch, optimizer_trajectory

__all__ = ["assert_close", "numerical_gradient", "assert_same_trajectory", "compare_with_torch", "optimizer_trajectory"]
