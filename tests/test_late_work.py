"""Late work is seen wherever the submission carries its time (issue 24, item 2): nbgrader's timestamp.txt, an
LMS file name's late marker, a timestamp group in --name-pattern; a submission whose time cannot be known is said
to be graded as on time; per-student extensions move the due date and are applied by the late policy.
(A timestamp group in --name-pattern: tests/test_grading_intake.py.)"""

from __future__ import annotations

import csv
import json

import nbformat
import pytest

from conftest import run_cli
from submissions import notebook_name, solution_notebook, write_submission

A = "ch10_lr_schedules"
DUE = "2026-11-20 23:59:00 UTC"


def _grades(out):
    with open(out / "grades.csv", newline="") as fh:
        return {r["student_id"]: r for r in csv.DictReader(fh)}


@pytest.fixture(scope="module")
def full_marks():
    return nbformat.writes(solution_notebook(A))


def test_lms_late_marker_is_applied_and_unmarked_work_is_on_time(tmp_path, full_marks):
    nb = notebook_name(A)
    download = tmp_path / "canvas"
    download.mkdir()
    (download / f"alicesmith_10001_900001_{nb}.ipynb").write_text(full_marks)
    (download / f"jonesbob_LATE_10002_900002_{nb}.ipynb").write_text(full_marks)
    proc = run_cli("grade", A, download, "--out", tmp_path / "out", "--due", DUE, "--late-policy", "zero",
                   "--no-progress")
    grades = _grades(tmp_path / "out")
    assert float(grades["alicesmith"]["score"]) == float(grades["alicesmith"]["raw_score"]) > 0
    assert float(grades["jonesbob"]["raw_score"]) > 0 and float(grades["jonesbob"]["score"]) == 0
    assert "jonesbob: note: marked LATE by the LMS" in proc.stdout
    assert "alicesmith: note" not in proc.stdout  # the LMS marks late files: an unmarked one is on time
    # without a due date the marker is still reported, and nothing is deducted
    proc = run_cli("grade", A, download, "--out", tmp_path / "nodue", "--no-progress")
    assert "jonesbob: note: marked LATE by the LMS; no penalty without --due" in proc.stdout


def test_timestamps_extensions_and_unknown_times(tmp_path, full_marks):
    sub = tmp_path / "submitted"
    for student, stamp in (("bob", "2026-11-21 10:00:00 UTC"), ("carol", "2026-11-21 10:00:00 UTC"),
                           ("dan", None)):
        path = write_submission(sub, student, A, solution_notebook(A))
        if stamp:
            (path.parent / "timestamp.txt").write_text(stamp)
    ext = tmp_path / "extensions.csv"
    ext.write_text("student_id,due\nbob,2026-11-23 23:59:00 UTC\nzoe,2026-11-25 23:59:00 UTC\n")
    out = tmp_path / "out"
    proc = run_cli("grade", A, sub, "--out", out, "--due", DUE, "--late-policy", "per-day:0.25",
                   "--extensions", ext, "--no-progress")
    grades = _grades(out)
    raw = float(grades["carol"]["raw_score"])
    assert float(grades["carol"]["score"]) == pytest.approx(0.75 * raw)       # one started day late
    assert float(grades["bob"]["score"]) == float(grades["bob"]["raw_score"])  # within his extension
    assert float(grades["dan"]["score"]) == float(grades["dan"]["raw_score"])
    assert "dan: note: submission time unknown" in proc.stdout
    assert "zoe: note: has an extension but no submission" in proc.stdout
    assert json.loads((out / "run.json").read_text())["extensions"]["bob"] == "2026-11-23 23:59:00"
    report = (out / "report.html").read_text()
    assert "carol" in report and "after the due date 2026-11-20 23:59:00" in report
    assert "after their extended due date" not in report                  # bob was within his
    assert report.count("due 2026-11-23 23:59:00 UTC") == 1 and "due 2026-11-25 23:59:00 UTC" in report
    # The extension is withdrawn: bob is regraded, and now late.
    ext.write_text("student_id,due\n")
    run_cli("grade", A, sub, "--out", out, "--due", DUE, "--late-policy", "per-day:0.25", "--extensions", ext,
            "--no-progress")
    assert float(_grades(out)["bob"]["score"]) == pytest.approx(0.75 * raw)


def test_bad_extensions_are_one_line_errors(tmp_path):
    sub = tmp_path / "submitted"
    write_submission(sub, "bob", A, solution_notebook(A))
    ext = tmp_path / "ext.csv"
    ext.write_text("student_id,due\nbob,next tuesday\n")
    proc = run_cli("grade", A, sub, "--out", tmp_path / "out", "--due", DUE, "--extensions", ext, check=False)
    assert proc.returncode == 2 and "line 2: cannot read the due date 'next tuesday'" in proc.stderr
    proc = run_cli("grade", A, sub, "--out", tmp_path / "out", "--extensions", ext, check=False)
    assert proc.returncode == 2 and "--extensions needs --due" in proc.stderr
