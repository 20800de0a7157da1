"""Checks of how an answer is written, read from its source code.

``matrix_inverse_uses`` finds the places where code forms an inverse matrix:
calls such as ``np.linalg.inv``, ``scipy.linalg.inv``, ``torch.linalg.inv``,
``np.linalg.pinv``, ``torch.inverse`` or ``A.inverse()``, ``np.matrix``'s
``.I``, those functions imported by name, and ``solve(A, eye(d))``, which
computes the inverse one column at a time. It looks at what the code calls,
not at what it names things: a variable called ``inv`` or ``inv_n``, or the
word in a comment or a docstring, is fine.

The visible tests (``assert_no_matrix_inverse``) and the grader's hidden tests
use the same function, so they agree on what counts. The visible check reads
one function, so it also looks up the names the function calls in its module:
``inv`` imported above the function by ``from scipy.linalg import inv`` is
found there. Line numbers count from the top of the cell.
"""

from __future__ import annotations

import ast
import inspect
import textwrap

# Attribute or imported names that give an inverse matrix.
INVERSE_FUNCTIONS = {"inv", "inv_ex", "pinv", "pinv2", "pinvh", "inverse"}
_LINALG_MODULES = ("numpy", "scipy", "torch")


def _describe(node) -> str:
    text = ast.unparse(node)
    return text if len(text) <= 60 else text[:57] + "..."


def _is_identity(node) -> bool:
    """``np.eye(d)``, ``np.identity(d)``, ``torch.eye(d)``, ``eye(d)``: an identity matrix."""
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    return name in ("eye", "identity")


def matrix_inverse_uses(source: str, first_line: int = 1) -> list[str]:
    """Where ``source`` forms an inverse matrix, as short descriptions with line numbers (empty if nowhere).

    ``first_line``: the number of the source's first line in its cell or file.
    """
    try:
        tree = ast.parse(textwrap.dedent(source))
    except SyntaxError:
        return []
    found = []
    for node in ast.walk(tree):
        what, note = None, ""
        if isinstance(node, ast.Attribute) and node.attr in INVERSE_FUNCTIONS:
            what = _describe(node)                                # np.linalg.inv, la.pinv, A.inverse
        elif isinstance(node, ast.Attribute) and node.attr == "I":
            what, note = _describe(node), ", the inverse of an np.matrix"
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in _LINALG_MODULES:
            names = [a.name for a in node.names if a.name in INVERSE_FUNCTIONS]
            if names:
                what = f"from {node.module} import {', '.join(names)}"
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr" \
                and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant) \
                and node.args[1].value in INVERSE_FUNCTIONS:
            what = _describe(node)
        elif isinstance(node, ast.Call) and len(node.args) >= 2 and _is_identity(node.args[1]):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if name in ("solve", "lstsq", "cho_solve", "lu_solve"):
                what = f"{_describe(func)}(..., {_describe(node.args[1])})"
                note = ", which computes the whole inverse matrix"
        if what:
            line = node.lineno + first_line - 1
            found.append((line, f"{what} on line {line}{note}"))
    return [text for _, text in sorted(set(found))]


def inverse_message(name: str, found: list[str]) -> str:
    """The message for a function that forms an inverse matrix (the same in visible and hidden tests)."""
    return (f"{name}: do not form the inverse matrix ({found[0]}); solve the linear system for w directly "
            "with np.linalg.solve(A, b), which is cheaper and numerically more accurate than inverting A")


def _imported_inverses(func, source: str, first_line: int) -> list[str]:
    """Names the function calls that are bound, in its module, to an inverse function imported by name
    (``from scipy.linalg import inv`` above the function): the source of the function alone hides them."""
    import sys

    known = {}
    for module_name in ("numpy.linalg", "scipy.linalg", "torch", "torch.linalg"):
        module = sys.modules.get(module_name)  # only what the student's code has imported
        for attr in INVERSE_FUNCTIONS:
            if module is not None and callable(getattr(module, attr, None)):
                known.setdefault(id(getattr(module, attr)), f"{module_name}.{attr}")
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            target = getattr(func, "__globals__", {}).get(node.func.id)
            if target is not None and id(target) in known:
                found.append(f"{node.func.id} on line {node.lineno + first_line - 1}, which is {known[id(target)]}")
    return found


def assert_no_matrix_inverse(func) -> None:
    """Raise AssertionError if ``func`` forms an inverse matrix (see ``matrix_inverse_uses``)."""
    try:
        lines, first_line = inspect.getsourcelines(func)
    except (OSError, TypeError):  # no source to read (e.g. defined in an interactive console): nothing to check
        return
    source = textwrap.dedent("".join(lines))
    found = matrix_inverse_uses(source, max(first_line, 1))
    try:
        found += _imported_inverses(func, source, max(first_line, 1))
    except SyntaxError:
        pass
    if found:
        raise AssertionError(inverse_message(getattr(func, "__name__", "your function"), found))
