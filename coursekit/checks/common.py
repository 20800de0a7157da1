"""Comparison helpers shared by visible and hidden tests."""

from __future__ import annotations

import numpy as np


def assert_close(got, want, what: str, rtol: float = 1e-7, atol: float = 1e-9, mistakes=()) -> None:
    """Raise AssertionError naming ``what`` unless ``got`` matches ``want``.

    ``mistakes``: pairs (value a known mistake gives, hint naming it); when
    ``got`` matches one of them, the message is that hint. The message gives
    shapes and the size of the error, never ``want`` itself.
    """
    if got is None:
        raise AssertionError(f"{what}: your function returned None (did you forget `return`?)")
    try:
        got_arr = np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        raise AssertionError(f"{what}: expected a number or an array of numbers, got {type(got).__name__}") from None
    want_arr = np.asarray(want, dtype=float)
    if got_arr.shape != want_arr.shape:
        raise AssertionError(f"{what}: expected shape {want_arr.shape}, got shape {got_arr.shape}")
    if not np.all(np.isfinite(got_arr)):
        raise AssertionError(f"{what}: the result contains NaN or inf")
    if not np.allclose(got_arr, want_arr, rtol=rtol, atol=atol):
        for wrong, hint in mistakes:
            wrong = np.asarray(wrong, dtype=float)
            if wrong.shape == got_arr.shape and np.allclose(got_arr, wrong, rtol=rtol, atol=atol):
                raise AssertionError(f"{what}: {hint}")
        err = float(np.max(np.abs(got_arr - want_arr)))
        raise AssertionError(f"{what}: wrong value (largest absolute error {err:.3g})")


def numerical_gradient(f, x, h: float = 1e-6):
    """Centered finite differences of a scalar function ``f`` at ``x`` (float64)."""
    x = np.array(x, dtype=float)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        f_plus = f(x)
        x[i] = old - h
        f_minus = f(x)
        x[i] = old
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad
