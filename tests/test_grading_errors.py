"""Bad input to `python -m autograder grade` gets a one-line error, never a traceback."""

from __future__ import annotations

import shutil

from conftest import run_cli
from submissions import notebook_name

A = "ch02_weight_decay"


def _one_line_error(proc, needle):
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


def test_missing_submissions_folder(tmp_path):
    _one_line_error(run_cli("grade", A, tmp_path / "nope", "--out", tmp_path / "out", check=False),
                    "submissions folder not found")


def test_unknown_assignment(tmp_path):
    (tmp_path / "sub" / "s1" / "hw9").mkdir(parents=True)
    _one_line_error(run_cli("grade", "hw9", tmp_path / "sub", "--out", tmp_path / "out", check=False),
                    "unknown assignment 'hw9'")


def test_no_submissions_of_that_assignment(tmp_path):
    (tmp_path / "sub" / "s1" / "other").mkdir(parents=True)
    _one_line_error(run_cli("grade", A, tmp_path / "sub", "--out", tmp_path / "out", check=False),
                    "no submissions of 'ch02_weight_decay'")


def test_release_unknown_assignment(tmp_path):
    _one_line_error(run_cli("release", "--out", tmp_path, "hw9", check=False), "unknown assignment 'hw9'")


def test_empty_and_renamed_submissions_are_reported_not_fatal(tmp_path, released):
    """An empty folder, a notebook that is not the exercise, a download that renamed the notebook and a blank
    copy: the batch finishes; the renamed one is graded under its proper name with a note, the others get 0."""
    import nbformat

    from submissions import solution_notebook

    sub = tmp_path / "sub"
    nb = notebook_name(A)
    (sub / "empty" / A).mkdir(parents=True)
    (sub / "stranger" / A).mkdir(parents=True)
    nbformat.write(nbformat.v4.new_notebook(), sub / "stranger" / A / "my_work.ipynb")   # no graded cells
    (sub / "renamed" / A).mkdir(parents=True)
    nbformat.write(solution_notebook(A), sub / "renamed" / A / f"{nb} (1).ipynb")        # as a browser saves it
    (sub / "blank" / A).mkdir(parents=True)
    shutil.copyfile(released / A / f"{nb}.ipynb", sub / "blank" / A / f"{nb}.ipynb")
    proc = run_cli("grade", A, sub, "--out", tmp_path / "out", "--no-progress")
    assert "empty: empty submission: expected weight_decay.ipynb, found nothing" in proc.stdout
    assert "stranger: empty submission: expected weight_decay.ipynb, found my_work.ipynb" in proc.stdout
    assert "graded weight_decay (1).ipynb as weight_decay.ipynb: the file was renamed" in proc.stdout
    assert "graded 2 submission(s), 2 with problems" in proc.stdout
    rows = {r.split(",")[3]: r.split(",") for r in (tmp_path / "out" / "grades.csv").read_text().splitlines()[1:]}
    assert set(rows) == {"empty", "stranger", "renamed", "blank"}
    assert [rows[s][9] for s in ("empty", "stranger", "blank")] == ["0.0", "0.0", "0.0"]
    # Every autograded point (the written answer waits for a human).
    parts = (tmp_path / "out" / "parts.csv").read_text().splitlines()
    renamed = [p.split(",") for p in parts if p.startswith("renamed,")]
    autograded = [p for p in renamed if p[4] != ""]
    assert len(autograded) >= 4 and all(p[4] == p[5] for p in autograded), renamed
