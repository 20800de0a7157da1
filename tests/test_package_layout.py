"""The grading package's structure: no module imports another that imports it back (at any depth, in any
function), so each module can be read and tested from the bottom up."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "autograder"


def _imports(path: Path) -> set[str]:
    """The autograder modules ``path`` imports, anywhere in the file."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
            found.add(node.module.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.level == 1:  # from . import report
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("autograder."):
            found.add(node.module.split(".")[1])
    return found & {p.stem for p in PACKAGE.glob("*.py")}


def test_no_import_cycles_in_the_grading_package():
    graph = {p.stem: _imports(p) for p in PACKAGE.glob("*.py")}
    cycles = []

    def visit(node, path):
        for nxt in sorted(graph.get(node, ())):
            if nxt in path:
                cycles.append(" -> ".join(path[path.index(nxt):] + [nxt]))
            elif len(path) < len(graph):
                visit(nxt, path + [nxt])
    for start in sorted(graph):
        visit(start, [start])
    assert not cycles, f"import cycles: {sorted(set(cycles))[:5]}"


def test_the_grading_command_is_split_by_concern():
    """grade.py orchestrates; intake, resume, dispatch, gradebook and export each hold one concern."""
    for module in ("intake", "resume", "dispatch", "gradebook", "export"):
        assert (PACKAGE / f"{module}.py").is_file(), module
    assert len((PACKAGE / "grade.py").read_text().splitlines()) < 300


def test_student_data_stays_out_of_git():
    """The folders the instructors' page writes (student copies, raw submissions, grades, feedback) are ignored."""
    import subprocess

    repo = PACKAGE.parent
    for path in ("release/ch04_dropout/dropout.ipynb", "results/ch04/feedback/alice/ch04_dropout/dropout.html",
                 "results/ch04/gradebook.db", "submitted/alice/ch04_dropout/dropout.ipynb",
                 "solutions-release/ch04_dropout/dropout.ipynb"):
        ignored = subprocess.run(["git", "check-ignore", "-q", path], cwd=repo).returncode == 0
        assert ignored, f"{path} would be committed: add its folder to .gitignore"
