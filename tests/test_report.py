"""autograder.report on hand-made grading output: what the item analysis counts."""

from __future__ import annotations

import csv
import json
import re

from autograder import report
from autograder.export import GRADE_COLUMNS, PART_COLUMNS


def _write(out, grades, parts, problems):
    with open(out / "grades.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=GRADE_COLUMNS)
        w.writeheader()
        for student, score in grades:
            w.writerow({"assignment": "ch09_adaptive_methods", "duedate": "", "timestamp": "", "student_id": student,
                        "last_name": "", "first_name": "", "email": "", "raw_score": score,
                        "late_submission_penalty": 0.0, "score": score, "max_score": 12.0})
    with open(out / "parts.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(PART_COLUMNS)
        w.writerows(parts)
    (out / "run.json").write_text(json.dumps({"assignment": "ch09_adaptive_methods", "problems": problems}))


def _row(page, part):
    """The cells of the item-analysis row of ``part``."""
    match = re.search(rf"<tr><td>{part}</td>(.*?)</tr>", page, re.S)
    assert match, part
    return re.findall(r"<td>(.*?)</td>", match.group(1), re.S)


def test_pending_answers_are_pending_and_ungradable_submissions_are_not_mistakes(tmp_path):
    nb, a = "adaptive_methods", "ch09_adaptive_methods"
    empty = "empty submission: expected adaptive_methods.ipynb, found nothing"
    parts = [
        ["alice", a, nb, "test_adam", 2.0, 2.0, ""],
        ["alice", a, nb, "written", "", 2.0, "written answer: waiting for manual grading"],
        ["bob", a, nb, "test_adam", 0.0, 2.0, "your update matches Adam without bias correction"],
        ["bob", a, nb, "written", "", 2.0, "written answer: waiting for manual grading"],
        ["carol", a, nb, "test_adam", 0.0, 2.0, empty],
        ["carol", a, nb, "written", 0.0, 2.0, empty],
    ]
    _write(tmp_path, [("alice", 2.0), ("bob", 0.0), ("carol", 0.0)], parts, {"carol": empty})
    page = report.build(tmp_path).read_text()
    # Only alice and bob were graded: bob failed Adam; carol's empty submission is not a "mistake".
    assert _row(page, "test_adam")[:5] == ["2", "50%", "1.00 / 2", "—", "0"]
    assert "without bias correction" in _row(page, "test_adam")[5] and "empty submission" not in _row(page, "test_adam")[5]
    # The written answer is waiting for a human, not "100% failed".
    assert _row(page, "written") == ["0", "—", "—", "—", "2", "2 waiting for manual grading"]
    # carol is under attention, with why.
    attention = page.split("<h2>Needs attention</h2>")[1]
    assert "carol" in attention and "not graded" in attention and "found nothing" in attention
    assert "manual grading pending" in attention and "alice, bob" in attention


def test_partial_credit_shows_the_share_of_students_earning_each_item(tmp_path):
    nb, a = "adaptive_methods", "ch09_adaptive_methods"
    parts = [
        ["alice", a, nb, "test_adam", 3.0, 3.0, "✔ passed", "the update 2/2; weight_decay 0.5/0.5; float32 0.5/0.5"],
        ["bob", a, nb, "test_adam", 2.5, 3.0, "✘ Points: 2.5 of 3", "the update 2/2; weight_decay 0/0.5; float32 0.5/0.5"],
        ["dan", a, nb, "test_adam", 0.0, 3.0, "wrong", "the update 0/2; weight_decay 0/0.5; float32 0/0.5"],
    ]
    _write(tmp_path, [("alice", 3.0), ("bob", 2.5), ("dan", 0.0)], parts, {})
    row = _row(report.build(tmp_path).read_text(), "test_adam")
    assert row[:4] == ["3", "67%", "1.83 / 3", "the update: 67%<br>weight_decay: 33%<br>float32: 67%"]
