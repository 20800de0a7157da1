"""Students never get the reference solutions: not from coursekit, the site pages or the wheel."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import zipfile

import nbformat

from conftest import REPO

STUDENT_FACING = ["coursekit", "chapters"]


def _imports(source: str) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _code_of(path):
    if path.suffix == ".py":
        yield path.read_text()
    elif path.suffix == ".ipynb":
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code":
                yield "\n".join(ln for ln in cell.source.splitlines() if not ln.startswith(("%", "!")))
    elif path.suffix == ".md":  # MyST code cells: from a ```{code-cell} line to a bare ``` line
        for block in re.findall(r"^```\{code-cell\}[^\n]*\n(.*?)^```\s*$", path.read_text(), re.S | re.M):
            # Cell options: a leading "---" YAML block (captions, alt text) or ":key: value" lines.
            block = re.sub(r"\A---\n.*?^---\n", "", block, flags=re.S | re.M)
            yield "\n".join(ln for ln in block.splitlines()
                            if not ln.startswith(("%", "!", ":")))  # magics and cell options


def test_no_student_facing_file_imports_instructor_code():
    files = [p for d in STUDENT_FACING for p in (REPO / d).rglob("*") if p.suffix in (".py", ".ipynb", ".md")]
    assert len(files) >= 8
    for path in files:
        for code in _code_of(path):
            bad = _imports(code) & {"solutions", "autograder"}
            assert not bad, f"{path.relative_to(REPO)} imports {bad}"


def test_the_scanner_catches_an_import():
    assert _imports("import numpy\nfrom solutions.optimizers import Adam") == {"numpy", "solutions"}


def test_student_wheel_holds_only_coursekit(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "--quiet", "-w", str(tmp_path), str(REPO)], check=True)
    (wheel,) = tmp_path.glob("coursekit-*.whl")
    tops = {name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist()}
    assert "coursekit" in tops
    assert not {t for t in tops if not t.startswith("coursekit")}, tops
    # Every module of the package is in it (a students' install once lacked coursekit.checks and .demos).
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {p.relative_to(REPO).as_posix() for p in (REPO / "coursekit").rglob("*.py")}
    assert modules <= names, f"missing from the wheel: {sorted(modules - names)}"
