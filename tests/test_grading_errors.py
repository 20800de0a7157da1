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
    """One empty folder and one renamed notebook next to a good submission:
    the batch finishes, the good one is graded, the others get a 0 and a message."""
    sub = tmp_path / "sub"
    nb = notebook_name(A)
    (sub / "empty" / A).mkdir(parents=True)
    (sub / "renamed" / A).mkdir(parents=True)
    shutil.copyfile(released / A / f"{nb}.ipynb", sub / "renamed" / A / "my_work.ipynb")
    (sub / "blank" / A).mkdir(parents=True)
    shutil.copyfile(released / A / f"{nb}.ipynb", sub / "blank" / A / f"{nb}.ipynb")
    proc = run_cli("grade", A, sub, "--out", tmp_path / "out", "--no-progress")
    assert "empty: empty submission: expected weight_decay.ipynb, found nothing" in proc.stdout
    assert "renamed: empty submission: expected weight_decay.ipynb, found my_work.ipynb" in proc.stdout
    assert "graded 1 submission(s), 2 with problems" in proc.stdout
    rows = (tmp_path / "out" / "grades.csv").read_text().splitlines()
    assert len(rows) == 4 and all(r.split(",")[9] == "0.0" for r in rows[1:])
