"""The instructor's day: an LMS download (zip or flat folder) collected with nbgrader's
zip_collect, due dates and a late policy, and the report flags late work."""

from __future__ import annotations

import csv
import zipfile

import nbformat

from conftest import run_cli
from submissions import VARIANTS, solution_notebook, with_answer

A = "ch02_weight_decay"
PATTERN = r"^(?:.*/)?(?P<student_id>[a-z]+)_attempt_(?P<timestamp>\d{8}T\d{6})_(?P<file_id>\w+\.ipynb)$"


def _downloads(folder):
    folder.mkdir()
    nbformat.write(solution_notebook(A), folder / "alice_attempt_20261120T100000_weight_decay.ipynb")
    nbformat.write(solution_notebook(A), folder / "bob_attempt_20261122T120000_weight_decay.ipynb")
    v = VARIANTS[A]["buggy"][0]
    nbformat.write(with_answer(A, v.answer, v.code), folder / "carol_attempt_20261120T230000_weight_decay.ipynb")
    return folder


def test_zip_download_due_date_and_per_day_penalty(tmp_path):
    flat = _downloads(tmp_path / "flat")
    archive = tmp_path / "download.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for p in flat.iterdir():
            z.write(p, f"download/{p.name}")
    proc = run_cli("grade", A, archive, "--out", tmp_path / "out", "--name-pattern", PATTERN,
                   "--due", "2026-11-20 23:59:00 UTC", "--late-policy", "per-day:0.1", "--no-progress")
    assert "graded 3 submission(s), 0 with problems" in proc.stdout
    rows = {r["student_id"]: r for r in csv.DictReader(open(tmp_path / "out" / "grades.csv"))}
    assert rows["alice"]["late_submission_penalty"] == "0.0" and float(rows["alice"]["score"]) == 11.0
    # 1 day 12 hours late: two started days, 10% each
    assert float(rows["bob"]["late_submission_penalty"]) == 2.2 and float(rows["bob"]["score"]) == 8.8
    assert float(rows["carol"]["raw_score"]) < 11.0 and rows["carol"]["late_submission_penalty"] == "0.0"
    report = (tmp_path / "out" / "report.html").read_text()
    assert "1 d 12 h after the due date" in report and "penalty 2.2" in report

    # The same download again under the default policy: new rules, so every submission is regraded;
    # bob is still flagged late in the report, now without a penalty.
    proc = run_cli("grade", A, archive, "--out", tmp_path / "out", "--name-pattern", PATTERN,
                   "--due", "2026-11-20 23:59:00 UTC", "--no-progress")
    assert "graded 3 submission(s), 0 with problems;" in proc.stdout
    rows = {r["student_id"]: r for r in csv.DictReader(open(tmp_path / "out" / "grades.csv"))}
    assert float(rows["bob"]["late_submission_penalty"]) == 0.0 and float(rows["bob"]["score"]) == 11.0
    report = (tmp_path / "out" / "report.html").read_text()
    assert "1 d 12 h after the due date 2026-11-20 23:59:00, penalty 0" in report
    assert report.count("after the due date") == 1  # alice and carol were on time


def test_flat_folder_with_the_default_lms_names(tmp_path):
    flat = tmp_path / "canvas"
    flat.mkdir()
    nbformat.write(solution_notebook(A), flat / "doejane_12345_678901_weight_decay.ipynb")
    nbformat.write(solution_notebook(A), flat / "roerichard_LATE_23456_789012_weight_decay.ipynb")
    nbformat.write(solution_notebook(A), flat / "Untitled.ipynb")   # no student in the name
    proc = run_cli("grade", A, flat, "--out", tmp_path / "out", "--no-progress")
    ids = {r["student_id"] for r in csv.DictReader(open(tmp_path / "out" / "grades.csv"))}
    assert ids == {"doejane", "roerichard"}
    # Quiet by default (issue 24, item 5): one line per real problem, nbgrader's own log in a file.
    lines = proc.stdout.strip().splitlines()
    assert lines[:-1] == [
        "Untitled.ipynb: not graded: its name does not match the LMS name pattern (see --name-pattern)",
        "roerichard: note: marked LATE by the LMS; no penalty without --due"]
    assert lines[-1].startswith("graded 2 submission(s), 0 with problems")
    assert proc.stderr == ""
    log = (tmp_path / "out" / "nbgrader.log").read_text()
    assert "Invalid submission notebook name" in log or "Directory not found" in log


def test_bad_late_policy_and_unmatched_names_are_one_line_errors(tmp_path):
    flat = _downloads(tmp_path / "flat")
    proc = run_cli("grade", A, flat, "--out", tmp_path / "o1", "--late-policy", "per-week", check=False)
    assert proc.returncode == 2 and "late policy must be" in proc.stderr
    proc = run_cli("grade", A, flat, "--out", tmp_path / "o2", "--name-pattern", r"^(?P<student_id>x)(?P<file_id>y)$",
                   check=False)
    assert proc.returncode == 2 and "matches the name pattern" in proc.stderr and "Traceback" not in proc.stderr
