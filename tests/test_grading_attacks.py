"""Verdicts a student's code cannot forge, a real sandbox, and hostile or broken submissions.

One batch of submissions for ch02 goes through `python -m autograder grade`:
each is the solution notebook with one attack or one kind of damage. Every
wrong answer must score 0 on its part whatever it does to its own process,
every correct part must keep its points, and the batch must finish with a
message for each odd submission.
"""

from __future__ import annotations

import csv
import hashlib
import json
import sqlite3
import time

import nbformat
import pytest

from conftest import REPO, run_cli
from submissions import insert_after, set_source, solution_notebook, write_submission

A = "ch02_weight_decay"
NB = "weight_decay"
PARTS = ["test_decay_param_groups", "test_l2_penalty", "test_ridge_fit", "test_ridge_loss_and_grad",
         "test_select_lambda"]

WRONG_PENALTY = "def l2_penalty(w, lam):\n    return 0.0\n"

# name -> (how to build the notebook from the solution, the parts that must score 0)
ATTACKS = {
    # --- wrong answers that plain nbgrader gave full marks
    "patch-allclose": (lambda nb: set_source(nb, "ridge_fit", """
import numpy as np, coursekit.checks
np.allclose = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
coursekit.checks.assert_close = lambda *a, **k: None
def ridge_fit(X, y, lam):
    return np.zeros(X.shape[1]), 0.0
"""), {"test_ridge_fit"}),
    "input-transformer": (lambda nb: set_source(nb, "l2_penalty", """
get_ipython().input_transformers_post.append(lambda lines: ["pass\\n"])
""" + WRONG_PENALTY), set(PARTS)),
    "display-formatter": (lambda nb: set_source(nb, "l2_penalty", """
formatter = get_ipython().display_formatter.formatters["text/plain"]
formatter.for_type(float, lambda x, p, cycle: p.text("1.0"))
formatter.for_type(str, lambda x, p, cycle: p.text("1.0"))
""" + WRONG_PENALTY), {"test_l2_penalty"}),
    "gradebook-writer": (lambda nb: set_source(nb, "l2_penalty", """
import os, subprocess, sys
subprocess.Popen([sys.executable, "-c", '''
import glob, os, sqlite3, time
os.setsid()
time.sleep(3)
for path in glob.glob("/**/gradebook.db", recursive=True):
    db = sqlite3.connect(path)
    db.execute("UPDATE grade SET auto_score = 100")
    db.commit()
'''], start_new_session=True)
""" + WRONG_PENALTY), {"test_l2_penalty"}),
    # --- correct answers that plain nbgrader gave 0
    "stderr-warnings": (lambda nb: set_source(nb, "l2_penalty", """
import sys, warnings
import torch
def l2_penalty(w, lam):
    warnings.warn("a warning from a correct answer", UserWarning)
    print("and some text on stderr", file=sys.stderr)
    torch.tensor([1.0]).numpy()
    return 0.5 * lam * float(np.sum(np.asarray(w, dtype=float) ** 2))
"""), set()),
    # --- reading the instructor's files, writing outside, the network
    "spy": (lambda nb: insert_after(nb, "imports", f"""
import glob, json, os, socket
report = {{}}
for name, path in [("solutions", "{REPO}/solutions/regularization.py"),
                   ("source", "{REPO}/autograder/source/{A}/{NB}.ipynb"),
                   ("hidden", "{REPO}/autograder/hidden/{A}.py")]:
    try:
        open(path).read(); report[name] = "READ"
    except OSError:
        report[name] = "blocked"
found = []
for top in ("/work", "/tmp", "/home", "/srv", "/var", "/opt", "/mnt", "/root"):
    for folder, dirs, files in os.walk(top):
        dirs[:] = [d for d in dirs if d not in ("site-packages", "lib")]
        found += [os.path.join(folder, n) for n in dirs + files
                  if n in ("gradebook.db", "submitted", "autograded", "solutions", "autograder", "source")]
report["found"] = found[:20]
try:
    open("{REPO}/pwned", "w").write("x"); report["write"] = "WROTE"
except OSError:
    report["write"] = "blocked"
try:
    socket.create_connection(("1.1.1.1", 80), timeout=2); report["network"] = "CONNECTED"
except OSError:
    report["network"] = "blocked"
print("SPY" + json.dumps(report))
"""), set()),
    # --- broken submissions
    "infinite-loop": (lambda nb: set_source(nb, "l2_penalty", "def l2_penalty(w, lam):\n    while True:\n        pass\n"),
                      {"test_l2_penalty"}),
    "toplevel-loop": (lambda nb: insert_after(nb, "imports", "while True:\n    pass\n"), set()),
    "memory-bomb": (lambda nb: set_source(nb, "ridge_fit", """
def ridge_fit(X, y, lam):
    hoard = []
    while True:
        hoard.append(np.empty(1 << 28))  # 2 GiB of address space a time
"""), {"test_ridge_fit"}),
    "os-exit": (lambda nb: insert_after(nb, "l2_penalty", "import os\nos._exit(0)\n"), set()),
    "sys-exit": (lambda nb: set_source(nb, "l2_penalty", "import sys\ndef l2_penalty(w, lam):\n    sys.exit(1)\n"),
                 {"test_l2_penalty"}),
    "segfault": (lambda nb: insert_after(nb, "imports", "import ctypes\nctypes.string_at(0)\n"), set()),
    "huge-output": (lambda nb: insert_after(nb, "imports", "for _ in range(200):\n    print('x' * 250_000)\n"), set()),
    "deleted-test-cell": (lambda nb: nb.cells.pop(
        next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == "test_ridge_fit"))
        and nb, set()),
    "edited-test-cell": (lambda nb: set_source(set_source(nb, "test_l2_penalty", "pass"), "l2_penalty", WRONG_PENALTY),
                         {"test_l2_penalty"}),
    "stripped-metadata": (lambda nb: [c.metadata.pop("nbgrader") for c in nb.cells
                                      if c.metadata.get("nbgrader", {}).get("grade_id") == "test_decay_param_groups"]
                          and nb, set()),
    "retyped-test-cell": (lambda nb: _retype(nb, "test_select_lambda"), set()),
    "kernelspec": (lambda nb: nb.metadata.update(kernelspec={"name": "ir", "display_name": "R", "language": "R"})
                   or nb, set()),
}


def _retype(nb, grade_id):
    i = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    old = nb.cells[i]
    nb.cells[i] = nbformat.v4.new_markdown_cell(old.source, metadata=old.metadata)
    return nb


@pytest.fixture(scope="module")
def attacked(tmp_path_factory):
    base = tmp_path_factory.mktemp("attacks")
    sub = base / "submitted"
    for name, (build, _) in ATTACKS.items():
        write_submission(sub, name, A, build(solution_notebook(A)))
    (sub / "invalid-json" / A).mkdir(parents=True)
    (sub / "invalid-json" / A / f"{NB}.ipynb").write_text('{"cells": [')
    (sub / "not-utf8" / A).mkdir(parents=True)
    (sub / "not-utf8" / A / f"{NB}.ipynb").write_bytes(b'{"cells": "\xff\xfe\xfa"}')
    write_submission(sub, "extra-notebook", A, solution_notebook(A))
    nbformat.write(solution_notebook(A), sub / "extra-notebook" / A / "scratch.ipynb")
    write_submission(sub, "solution", A, solution_notebook(A))
    out = base / "out"
    proc = run_cli("grade", A, sub, "--out", out, "--timeout", "10", "--no-progress")
    db = out / "gradebook.db"
    digest = hashlib.sha256(db.read_bytes()).hexdigest()
    time.sleep(6)  # longer than the background writer waits
    with open(out / "parts.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    parts = {(r["student_id"], r["part"]): r for r in rows}
    return proc, out, parts, digest


def _score(parts, student, part):
    row = parts[(student, part)]
    return float(row["score"]), float(row["max_score"]), row["message"]


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_each_attack_scores_exactly_what_it_deserves(attacked, name):
    _, _, parts, _ = attacked
    zero = ATTACKS[name][1]
    for part in PARTS:
        score, max_score, message = _score(parts, name, part)
        if part in zero:
            assert score == 0, f"{name}: {part} scored {score} despite a wrong answer"
        else:
            assert score == max_score, f"{name}: {part} lost points: {message}"


def test_nothing_outlives_grading_or_touches_the_gradebook(attacked):
    _, out, parts, digest = attacked
    assert hashlib.sha256((out / "gradebook.db").read_bytes()).hexdigest() == digest
    db = sqlite3.connect(out / "gradebook.db")
    assert db.execute("SELECT count(*) FROM grade WHERE auto_score > 100").fetchone()[0] == 0


def test_student_code_sees_no_instructor_file_and_no_network(attacked):
    _, out, _, _ = attacked
    nb = nbformat.read(out / "nbgrader" / "autograded" / "spy" / A / f"{NB}.ipynb", as_version=4)
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    report = json.loads(text.split("SPY", 1)[1].splitlines()[0])
    assert report["solutions"] == report["source"] == report["hidden"] == "blocked"
    assert report["found"] == [], report["found"]
    assert report["write"] == "blocked" and report["network"] == "blocked"
    assert not (REPO / "pwned").exists()


def test_messages_explain_what_happened(attacked):
    proc, _, parts, _ = attacked
    assert "timed out" in _score(parts, "infinite-loop", "test_l2_penalty")[2]
    assert "MemoryError" in _score(parts, "memory-bomb", "test_ridge_fit")[2]
    assert "SystemExit" in _score(parts, "sys-exit", "test_l2_penalty")[2]
    out = proc.stdout
    assert "invalid-json: weight_decay.ipynb is not a valid notebook" in out
    assert "not-utf8: weight_decay.ipynb is not UTF-8 text" in out
    assert "extra-notebook: note: extra notebook(s) not graded: scratch.ipynb" in out
    assert "deleted-test-cell: note: test cell test_ridge_fit was deleted or its metadata stripped" in out
    assert "edited-test-cell: note: test cell test_l2_penalty was edited" in out
    assert "stripped-metadata: note: test cell test_decay_param_groups was deleted or its metadata stripped" in out
    assert "retyped-test-cell: note: test cell test_select_lambda was changed to markdown" in out
    assert "kernelspec: note: the kernel was changed to 'ir'" in out
    for student in ("invalid-json", "not-utf8"):
        assert all(float(_score(parts, student, p)[0]) == 0 for p in PARTS)


def test_cells_that_kill_or_hang_the_process_are_reported_in_feedback(attacked):
    _, out, _, _ = attacked
    for student, words in [("os-exit", "ended the process"), ("segfault", "SIGSEGV"),
                           ("toplevel-loop", "ran too long")]:
        nb = nbformat.read(out / "nbgrader" / "autograded" / student / A / f"{NB}.ipynb", as_version=4)
        errors = [o.get("evalue", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs
                  if o.get("output_type") == "error"]
        assert any(words in e for e in errors), (student, errors)


def test_enormous_output_is_cut(attacked):
    _, out, _, _ = attacked
    assert (out / "feedback" / "huge-output" / A / f"{NB}.html").stat().st_size < 3_000_000


def test_solution_in_the_same_batch_is_untouched(attacked):
    _, _, parts, _ = attacked
    for part in PARTS:
        score, max_score, _ = _score(parts, "solution", part)
        assert score == max_score


RNG_GAMES = """
import random, time
import numpy as np, torch
_seed = int(time.time() * 1e6) % 2**32
random.seed(_seed); np.random.seed(_seed); torch.manual_seed(_seed)
np.random.standard_normal(1000); torch.randn(1000)
def l2_penalty(w, lam):
    w = np.asarray(w, dtype=float).ravel()
    return 0.5 * lam * float(np.sum(w[np.random.permutation(w.size)] ** 2))
"""


def test_same_submission_same_grade_whatever_the_random_state(tmp_path):
    sub = tmp_path / "sub"
    write_submission(sub, "rng-games", A, set_source(solution_notebook(A), "l2_penalty", RNG_GAMES))
    write_submission(sub, "wrong", A, set_source(solution_notebook(A), "l2_penalty", WRONG_PENALTY))
    results = []
    for run in ("first", "second"):
        run_cli("grade", A, sub, "--out", tmp_path / run, "--no-progress")
        results.append((tmp_path / run / "parts.csv").read_text())
    assert results[0] == results[1]
    rows = {(r["student_id"], r["part"]): r for r in csv.DictReader(results[0].splitlines())}
    assert float(rows[("rng-games", "test_l2_penalty")]["score"]) == 1.0
    assert float(rows[("wrong", "test_l2_penalty")]["score"]) == 0.0
