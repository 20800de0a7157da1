"""``python -m coursekit check``: the check students run on their laptop before submitting.

Every notebook is checked the way a student runs the command: a subprocess ``python -m coursekit check
NOTEBOOK`` started in the notebook's folder, without this checkout on PYTHONPATH, and with packages named
``autograder``, ``solutions`` and ``nbgrader`` first on the path that record any import of them and fail.
So a run that works proves the command (and the kernel it starts) needs none of them.

The runs: for every exercise, the solution (exit 0) and the released blank copy (exit 1, every part a
stub); for chapter 2 also a buggy submission (one known mistake in each of four parts), a tampered copy
(a test cell edited to ``assert True`` over a wrong answer, a test cell deleted, the file renamed by a
download) and a stress copy (a cell that hangs, a cell that kills Python). They run once per module, two
at a time; each takes a few seconds.
"""

from __future__ import annotations

import ast
import copy
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

from conftest import ASSIGNMENTS, REPO
from autograder.course import SOURCE
from coursekit import check as ck
from submissions import VARIANTS, cell_index, set_source, solution_notebook

NOTEBOOKS = [(a, nb) for a, nbs in sorted(ASSIGNMENTS.items()) for nb in nbs]
SITE_COPY = REPO / "chapters" / "exercises"
A2 = "ch02_weight_decay"
FORBIDDEN = ("autograder", "solutions", "nbgrader")
# Answers of chapter 2 whose parts do not depend on each other (Part 5 calls Part 3's ridge_fit).
INDEPENDENT = ("l2_penalty", "ridge_loss_and_grad", "decay_param_groups", "select_lambda")
STRESS_TIMEOUT = 3


def _graded(nb) -> dict[str, tuple[float, str]]:
    """grade_id -> (points, "tests" | "hand"), in notebook order: what coursekit.check.EXERCISES lists."""
    return {c.metadata["nbgrader"]["grade_id"]: (c.metadata["nbgrader"]["points"],
                                                 "hand" if c.metadata["nbgrader"].get("solution") else "tests")
            for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")}


def _buggy_ch02() -> list:
    """The first buggy variant (with a visible message) of each independent answer of chapter 2."""
    chosen = {}
    for v in VARIANTS[A2]["buggy"]:
        if v.answer in INDEPENDENT and v.visible and v.answer not in chosen:
            chosen[v.answer] = v
    assert set(chosen) == set(INDEPENDENT)
    return list(chosen.values())


def _tampered(nb):
    """A wrong Part 1 behind a test cell edited to `assert True`, and Part 3's test cell deleted."""
    wrong = next(v for v in VARIANTS[A2]["buggy"] if v.answer == "l2_penalty")
    set_source(nb, "l2_penalty", wrong.code)
    set_source(nb, "test_l2_penalty", "assert True")
    del nb.cells[cell_index(nb, "test_ridge_fit")]
    return nb


def _stress(blank):
    """Part 1 and 2's cells with a cell that hangs between them and one that ends the kernel's process."""
    cells = [blank.cells[cell_index(blank, gid)] for gid in ("l2_penalty", "test_l2_penalty")]
    cells[0].source = "def l2_penalty(w, lam):\n    return 0.0"
    hang = nbformat.v4.new_code_cell("import time\ntime.sleep(600)")
    crash = nbformat.v4.new_code_cell("import os\nos._exit(1)")
    nb = copy.deepcopy(blank)
    nb.cells = [hang, *cells, crash, blank.cells[cell_index(blank, "test_ridge_loss_and_grad")]]
    return nb


@pytest.fixture(scope="module")
def student(tmp_path_factory):
    """(environment, marker file): a student's environment, where importing instructor code is recorded."""
    poison = tmp_path_factory.mktemp("poison")
    marker = poison / "imported.txt"
    for name in FORBIDDEN:
        (poison / name).mkdir()
        (poison / name / "__init__.py").write_text(
            f"open({str(marker)!r}, 'a').write({name!r} + '\\n')\n"
            f"raise ImportError('a student has no {name}')\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MPLBACKEND")}
    env["PYTHONPATH"] = str(poison)
    return env, marker


def _run(path: Path, env: dict, *options: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "coursekit", "check", path.name, *options], cwd=path.parent,
                          env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def runs(student, tmp_path_factory):
    """name -> (exit status, stdout, stderr, JSON report or None): every notebook checked once."""
    env, _ = student
    root = tmp_path_factory.mktemp("laptop")
    jobs = {}  # name -> (path, options)

    def put(name, nb_name, nb):
        path = root / name / f"{nb_name}.ipynb"
        path.parent.mkdir()
        nbformat.write(nb, path)
        return path

    for assignment, nb_name in NOTEBOOKS:
        jobs[f"solution-{assignment}"] = (put(f"solution-{assignment}", nb_name, solution_notebook(assignment)),
                                          ["--json"])
        blank = root / f"blank-{assignment}" / f"{nb_name}.ipynb"
        blank.parent.mkdir()
        shutil.copyfile(SITE_COPY / assignment / f"{nb_name}.ipynb", blank)
        jobs[f"blank-{assignment}"] = (blank, [])  # as a student reads it
    buggy = solution_notebook(A2)
    for v in _buggy_ch02():
        set_source(buggy, v.answer, v.code)
    jobs["buggy"] = (put("buggy", "weight_decay", buggy), ["--json"])
    jobs["tampered"] = (put("tampered", "weight_decay (1)", _tampered(solution_notebook(A2))), ["--json"])
    jobs["stress"] = (put("stress", "weight_decay", _stress(nbformat.read(SITE_COPY / A2 / "weight_decay.ipynb", 4))),
                      ["--json", "--timeout", str(STRESS_TIMEOUT)])

    def one(item):
        name, (path, options) = item
        proc = _run(path, env, *options)
        report = json.loads(proc.stdout) if "--json" in options and proc.stdout.strip() else None
        return name, (proc.returncode, proc.stdout, proc.stderr, report)

    with ThreadPoolExecutor(2) as pool:
        return dict(pool.map(one, jobs.items()))


def _problems(report, kind):
    return [p for p in report["problems"] if p["kind"] == kind]


# ---------------------------------------------------------------- the solution passes, the blank copy does not
@pytest.mark.parametrize("assignment,notebook", NOTEBOOKS)
def test_the_solution_passes(runs, assignment, notebook):
    status, out, err, report = runs[f"solution-{assignment}"]
    assert status == 0, out + err
    assert report["ok"] and report["problems"] == [] and report["exercise"] == notebook
    assert {p["grade_id"] for p in report["parts"]} == set(ck.EXERCISES[notebook])
    for part in report["parts"]:
        assert part["status"] == ("answered" if part["by_hand"] else "pass"), part
    assert report["cells_run"] == sum(1 for c in solution_notebook(assignment).cells
                                      if c.cell_type == "code" and c.source.strip())


@pytest.mark.parametrize("assignment,notebook", NOTEBOOKS)
def test_the_blank_copy_fails_naming_every_stub(runs, assignment, notebook):
    status, out, err, _ = runs[f"blank-{assignment}"]
    assert status == 1, out + err
    assert err == "" and "Traceback" not in out
    released = nbformat.read(SITE_COPY / assignment / f"{notebook}.ipynb", 4)
    answers = [c.metadata["nbgrader"]["grade_id"] for c in released.cells
               if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"]
    tests = [c for c in released.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert len(answers) >= 4 and len(tests) == len(answers) + 1
    for gid in answers:
        assert f"`raise NotImplementedError()` is still in your {gid} cell" in out, gid
    todo = re.findall(r"^  TODO  (Part \d+)", out, re.M)
    assert todo == [f"Part {k}" for k in range(1, len(tests) + 1)], out
    assert 'your answer still reads "YOUR ANSWER HERE"' in out
    assert f"Visible tests pass for 0 of {len(answers)} autograded parts" in out
    assert f"{len(tests)} problems would cost points" in out


# ---------------------------------------------------------------- a buggy submission
def test_a_buggy_submission_fails_with_the_visible_message(runs):
    status, out, err, report = runs["buggy"]
    assert status == 1, out + err
    parts = {p["grade_id"]: p for p in report["parts"]}
    for v in _buggy_ch02():
        assert parts[v.part]["status"] == "fail", (v.name, parts[v.part])
        assert parts[v.part]["message"].startswith("AssertionError: ")
        assert v.visible in parts[v.part]["message"], (v.name, parts[v.part]["message"])
        assert "Traceback" not in parts[v.part]["message"] and parts[v.part]["message"].count("\n") < 4
    assert parts["test_ridge_fit"]["status"] == "pass"  # the untouched part still passes
    assert {p["kind"] for p in report["problems"]} == {"fail"}
    text = ck.render(report)  # and the student reads the message
    for v in _buggy_ch02():
        assert v.visible.split(";")[0] in " ".join(text.split()), v.name


# ---------------------------------------------------------------- tampering
def test_an_edited_test_cell_is_flagged_even_though_it_passes(runs):
    status, out, err, report = runs["tampered"]
    assert status == 1, out + err
    part = next(p for p in report["parts"] if p["grade_id"] == "test_l2_penalty")
    assert part["status"] == "pass" and part["tampered"] == "edited"  # `assert True` passes the wrong answer ...
    (edited,) = _problems(report, "edited")  # ... and the check says so
    assert edited["part"] == "test_l2_penalty" and "The test cell of Part 1 was edited" in edited["message"]
    assert "this test cell was edited" in ck.render(report)
    # The row agrees with the summary, which does not count the part: it says EDIT, never PASS.
    rows = [ln for ln in ck.render(report).splitlines() if ln.startswith("  ") and not ln.startswith("   ")
            and ln.split()[0] in ("EDIT", "PASS", "FAIL") and "Part 1" in ln]
    assert len(rows) == 1 and rows[0].split()[0] == "EDIT", rows


def test_a_deleted_test_cell_is_flagged(runs):
    report = runs["tampered"][3]
    (missing,) = _problems(report, "missing")
    assert missing["part"] == "test_ridge_fit" and missing["message"].startswith("Part 3: its test cell")
    part = next(p for p in report["parts"] if p["grade_id"] == "test_ridge_fit")
    assert part["status"] == "missing" and part["title"] == "Part 3: closed-form ridge regression"
    assert [p["grade_id"] for p in report["parts"]] == list(ck.EXERCISES["weight_decay"])  # still in order


def test_a_renamed_file_is_flagged(runs):
    report = runs["tampered"][3]
    (renamed,) = _problems(report, "renamed")
    assert report["exercise"] == "weight_decay" and report["expected"] == "weight_decay.ipynb"
    assert '"weight_decay (1).ipynb"' in renamed["message"] and '"weight_decay.ipynb"' in renamed["message"]
    assert {p["kind"] for p in report["problems"]} == {"edited", "missing", "renamed"}


def test_a_hanging_cell_and_a_crash(runs):
    """A cell over --timeout is stopped and the run goes on; a crash of Python ends it, reported."""
    status, out, err, report = runs["stress"]
    assert status == 1, out + err
    (hung,) = _problems(report, "timeout")
    assert hung["message"].startswith("The cell starting `import time` ran longer than 3 s")
    parts = {p["grade_id"]: p for p in report["parts"]}
    # the test after the hanging cell still ran (its imports cell is missing: assert_close is undefined)
    assert parts["test_l2_penalty"]["status"] == "error"
    assert "NameError: name 'assert_close' is not defined" in parts["test_l2_penalty"]["message"]
    (died,) = _problems(report, "kernel died")
    assert "the cell starting `import os`" in died["message"]
    assert parts["test_ridge_loss_and_grad"]["status"] == "not run"
    assert report["seconds"] < STRESS_TIMEOUT + 60


# ---------------------------------------------------------------- a student's environment
def test_no_run_imported_instructor_code(runs, student):
    _, marker = student
    assert len(runs) == 2 * len(NOTEBOOKS) + 3
    assert not marker.exists(), f"imported in a student's environment: {marker.read_text()}"


def test_the_command_imports_no_instructor_code():
    for path in (REPO / "coursekit" / "check.py", REPO / "coursekit" / "__main__.py"):
        names = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
        assert names and not names & set(FORBIDDEN), f"{path.name} imports {names & set(FORBIDDEN)}"


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The python of a student's environment as README's steps make it: a fresh venv holding the wheel that
    `pip install .` builds. Its other packages (torch, notebook, ...) are this environment's, listed in a
    .pth file (.pth files in those folders are not read, so this checkout's editable coursekit stays out)."""
    tmp = tmp_path_factory.mktemp("student-venv")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
                    "-w", str(tmp / "wheel"), str(REPO)], check=True)
    (wheel,) = (tmp / "wheel").glob("coursekit-*.whl")
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    (site,) = venv.glob("lib/python*/site-packages")
    zipfile.ZipFile(wheel).extractall(site)
    (site / "course_deps.pth").write_text("".join(p + "\n" for p in sys.path if p.endswith("site-packages")))
    return venv / "bin" / "python"


def test_from_the_installed_wheel_the_solution_passes(installed, student, tmp_path):
    env, marker = student
    site = installed.parent.parent
    found = subprocess.run([str(installed), "-c", "import coursekit, sys; print(coursekit.__file__)"], env=env,
                           cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert Path(found.strip()).is_relative_to(site), found  # the wheel's coursekit, not this checkout's
    assert list(site.glob("lib/python*/site-packages/coursekit/checks/__init__.py")), \
        "the wheel students install has no coursekit.checks: every exercise's imports cell fails"
    path = tmp_path / "weight_decay.ipynb"
    nbformat.write(solution_notebook(A2), path)
    proc = subprocess.run([str(installed), "-m", "coursekit", "check", path.name], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not marker.exists()


def test_without_jupyter_it_says_what_to_install(tmp_path):
    """No site-packages at all (python -S): a one-line error, exit status 2, no traceback."""
    nb = tmp_path / "weight_decay.ipynb"
    shutil.copyfile(SITE_COPY / A2 / "weight_decay.ipynb", nb)
    proc = subprocess.run([sys.executable, "-S", "-m", "coursekit", "check", nb.name], cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("error: ") and "pip install notebook" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


def test_what_it_cannot_check_is_a_one_line_error(tmp_path, student):
    env, _ = student
    plain = tmp_path / "plain.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")]), plain)
    (tmp_path / "broken.ipynb").write_text("{not json")
    for name, words in [("plain.ipynb", "has no graded cells"), ("broken.ipynb", "is not a valid notebook"),
                        ("missing.ipynb", "no such file")]:
        proc = _run(tmp_path / name, env)
        assert proc.returncode == 2 and words in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    usage = subprocess.run([sys.executable, "-m", "coursekit"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert usage.returncode == 2 and "python -m coursekit check NOTEBOOK.ipynb" in usage.stderr


# ---------------------------------------------------------------- nbgrader's checksum, without nbgrader
def test_checksum_is_nbgraders():
    from nbgrader.utils import compute_checksum

    cells = []
    for assignment, nb_name in NOTEBOOKS:
        cells += [c for c in nbformat.read(SITE_COPY / assignment / f"{nb_name}.ipynb", 4).cells
                  if "nbgrader" in c.metadata]
        cells += [c for c in nbformat.read(SOURCE / assignment / f"{nb_name}.ipynb", 4).cells
                  if "nbgrader" in c.metadata]
    assert len(cells) > 60
    variants = []
    for cell in cells:
        variants.append(cell)
        for change in ({"source": cell.source + "\n# edited"}, {"cell_type": "markdown"}, {"points": 2.5},
                       {"grade": not cell.metadata.nbgrader.get("grade", False), "points": 1},
                       {"solution": not cell.metadata.nbgrader.get("solution", False)},
                       {"locked": not cell.metadata.nbgrader.get("locked", False)}):
            other = copy.deepcopy(cell)
            for key, value in change.items():
                if key in ("source", "cell_type"):
                    other[key] = value
                else:
                    other.metadata.nbgrader[key] = value
            variants.append(other)
    for cell in variants:
        assert ck.nbgrader_checksum(cell) == compute_checksum(cell), cell.metadata.nbgrader
    # The released copies' stored checksums are what both compute: an untouched cell is never "edited".
    for cell in cells:
        if ck._is_locked(cell.metadata.nbgrader) and "checksum" in cell.metadata.nbgrader:
            assert ck.nbgrader_checksum(cell) == cell.metadata.nbgrader["checksum"]
    # Source as a list of lines (raw JSON) hashes as the joined text.
    raw = copy.deepcopy(dict(cells[0]))
    raw["source"] = cells[0].source.splitlines(keepends=True)
    assert ck.nbgrader_checksum(raw) == compute_checksum(cells[0])


# ---------------------------------------------------------------- the exercises it knows
def test_it_knows_every_exercise():
    """EXERCISES lists, for each notebook of autograder/source, its graded cells and their points."""
    want = {nb_name: _graded(nbformat.read(SOURCE / a / f"{nb_name}.ipynb", 4)) for a, nb_name in NOTEBOOKS}
    for nb_name, graded in want.items():
        entry = ck.EXERCISES.get(nb_name)
        assert entry == graded and list(entry) == list(graded), (
            f"coursekit/check.py's EXERCISES is out of date; its entry should read\n    {nb_name!r}: {graded!r},")
    gone = set(ck.EXERCISES) - set(want)
    assert not gone, f"coursekit/check.py's EXERCISES lists notebooks that no longer exist: {gone}"


def test_it_recognizes_a_notebook_by_its_graded_cells():
    nb = nbformat.read(SITE_COPY / A2 / "weight_decay.ipynb", 4)
    assert ck.identify(nb)[0] == "weight_decay"
    nb.cells = [c for c in nb.cells if c.metadata.nbgrader.get("grade_id") == "test_ridge_fit"]
    assert ck.identify(nb)[0] == "weight_decay"  # one graded cell is enough
    nb.cells[0].metadata = {}
    assert ck.identify(nb) == (None, {})


def test_stub_detection():
    assert ck.has_stub("def f():\n    # YOUR CODE HERE\n    raise NotImplementedError()")
    assert ck.has_stub("def f():\n    raise NotImplementedError")
    assert ck.has_stub("%matplotlib inline\nraise NotImplementedError('todo')")
    assert ck.has_stub("def f(:\n    raise NotImplementedError()")  # a syntax error elsewhere
    assert not ck.has_stub("def f():\n    # raise NotImplementedError()\n    return 1")
    assert not ck.has_stub('def f():\n    """Do not raise NotImplementedError."""\n    return 1')
    assert not ck.has_stub("try:\n    g()\nexcept NotImplementedError:\n    pass")


def test_the_notebook_runs_marked_as_graded(tmp_path):
    # As the grader does (and plain nbgrader autograde): a long cell, like the capstone's study, may shorten itself.
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import os\nassert os.environ.get('NBGRADER_EXECUTION') == 'autograde', os.environ.get('NBGRADER_EXECUTION')")])
    ck._run(nb, tmp_path, timeout=60)
    assert ck._error(nb.cells[0]) is None, nb.cells[0].outputs
