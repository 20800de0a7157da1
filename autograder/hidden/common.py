"""Building blocks of the hidden test modules: the calls sent into the sandbox, and comparisons whose
messages name what differs without ever showing the hidden inputs or the expected values."""

from __future__ import annotations

import numpy as np

from ..verdicts import Failure, Foreign, Mistake, returned

__all__ = ["call", "probe", "close", "expect", "pair", "returned", "low_precision", "Failure", "Mistake",
           "Foreign"]


def _encode(a):
    if isinstance(a, np.ndarray):   # float32 stays float32 in the sandbox; every other dtype arrives as float64
        return {"__array__": np.asarray(a, float).ravel().tolist(), "shape": list(np.shape(a)),
                **({"dtype": "float32"} if a.dtype == np.float32 else {})}
    if isinstance(a, (list, tuple)):
        return [_encode(v) for v in a]
    return a


def call(name: str, *args) -> dict:
    """``name(*args)`` in the sandbox: the student's function on these arguments (numpy arrays arrive as float64,
    float32 ones as float32)."""
    return {"kind": "call", "name": name, "args": [_encode(a) for a in args]}


def probe(driver: str, name: str, *args) -> dict:
    """``driver(student's name, *args)`` in the sandbox, where ``driver`` is "coursekit.checks.<module>:<function>":
    for classes and modules that must be exercised (constructed, stepped, put in eval mode) rather than called."""
    return {"kind": "probe", "probe": driver, "name": name, "args": [_encode(a) for a in args]}


def close(a, b, rtol=1e-7, atol=1e-9) -> bool:
    """Do ``a`` and ``b`` agree (same shape, finite, allclose)? For matching known mistakes."""
    if isinstance(a, Foreign) or a is None:
        return False
    try:
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    except (TypeError, ValueError):
        return False
    return a.shape == b.shape and bool(np.all(np.isfinite(a))) and bool(np.allclose(a, b, rtol=rtol, atol=atol))


# Agreement to this relative error, but not to the tolerance asked for, is a precision problem, not a wrong formula.
PRECISION = 1e-4


def expect(got, want, what, rtol=1e-7, atol=1e-9) -> None:
    """A Failure naming ``what`` unless ``got`` matches ``want``; never shows ``want``.

    A result right to about float32 precision but not to the tolerance is a :class:`Mistake` that says so."""
    if got is None:
        raise Failure(f"{what}: your function returned None (did you forget `return`?)")
    if isinstance(got, (Foreign, str)):
        raise Failure(f"{what}: expected numbers, got a {getattr(got, 'what', 'string')}")
    try:
        arr, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    except (TypeError, ValueError):
        raise Failure(f"{what}: expected numbers or an array of numbers") from None
    if arr.shape != want.shape:
        raise Failure(f"{what}: expected shape {want.shape}, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise Failure(f"{what}: the result contains NaN or inf")
    if not np.allclose(arr, want, rtol=rtol, atol=atol):
        err = float(np.max(np.abs(arr - want)))
        rel = err / max(float(np.max(np.abs(want))), 1e-300)
        if np.allclose(arr, want, rtol=PRECISION, atol=atol):
            if low_precision(got):
                raise Mistake(f"{what}: right to about {rel:.0e} relative, but not to the {rtol:g} required: your "
                              f"result is {low_precision(got)}, so this is a precision problem, not a wrong formula "
                              "(compute in the input's dtype)", key="precision",
                              plain=f"close, but only to about {rel:.0e} relative")
            raise Failure(f"{what}: wrong value, close but not equal (about {rel:.0e} relative, {rtol:g} required): "
                          "a small term of the formula differs")
        raise Failure(f"{what}: wrong value (largest absolute error {err:.3g})")


LOW_PRECISION = ("float32", "float16", "bfloat16")


def low_precision(value) -> str:
    """The low-precision dtype (e.g. "float32") of a returned array, or of any array in a returned tuple, list or
    dict; "" when there is none. Evidence for a precision diagnosis: without it a near miss is a formula's."""
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        return next((d for d in map(low_precision, value) if d), "")
    dtype = getattr(value, "returned_dtype", "")
    return dtype if dtype in LOW_PRECISION else ""


def pair(value, what, n):
    """``value`` as a tuple of ``n`` returned values, or a Failure saying what to return."""
    if not (isinstance(value, tuple) and len(value) == n):
        raise Failure(f"{what}: return a tuple of {n} values")
    return value


def uses(source: str, names) -> list[str]:
    """Where the code refers to any of ``names`` (as a name, an attribute, or an imported name), as
    "name on line N" strings; [] when it does not (or does not parse: the run itself will say so)."""
    import ast

    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    names, found = set(names), []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in names:
            found.append((node.id, node.lineno))
        elif isinstance(node, ast.Attribute) and node.attr in names:
            found.append((node.attr, node.lineno))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            module = getattr(node, "module", None) or ""
            for alias in node.names:
                hit = {alias.name, alias.name.rsplit(".", 1)[-1], *module.split(".")} & names
                found += [(h, node.lineno) for h in sorted(hit)]
    return [f"{name} on line {line}" for name, line in sorted(set(found), key=lambda x: (x[1], x[0]))]


def forbid(names, what: str):
    """A static check for ``Part(static=...)``: a Failure when the answer cell refers to any of ``names``,
    the library code the exercise asks the student to write themselves (and the tests use as the oracle)."""
    names = tuple(names)

    def check(source: str) -> None:
        found = uses(source, names)
        if found:
            raise Mistake(f"{what} must be written by you, not taken from the library the tests compare it with: "
                          f"your answer uses {', '.join(found[:3])}")
    return check
