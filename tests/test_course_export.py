"""One course gradebook (issue 24, item 6): `python -m autograder export` writes a row per student with a column
per assignment (late penalty applied), the total and the pending written answers, from the SQLite gradebooks of
each assignment's --out or from one shared PostgreSQL gradebook; and Canvas's import format."""

from __future__ import annotations

import csv
import shutil
import tempfile
from pathlib import Path

import pytest

from conftest import run_cli
from submissions import released_notebook, solution_notebook, write_submission

ASSIGNMENTS = ("ch02_weight_decay", "ch10_lr_schedules")
DUE = "2026-11-20 23:59:00 UTC"


def _batch(base: Path, assignment: str) -> Path:
    import nbformat

    sub = base / f"sub-{assignment}"
    path = write_submission(sub, "alice", assignment, solution_notebook(assignment))
    if assignment == "ch10_lr_schedules":  # a day late: per-day:0.5 halves it
        (path.parent / "timestamp.txt").write_text("2026-11-21 08:00:00 UTC")
    write_submission(sub, "bob", assignment, nbformat.reads(released_notebook(assignment), as_version=4))
    return sub


def _read(path):
    with open(path, newline="") as fh:
        return list(csv.reader(fh))


def _grade_all(tmp_path, db=None):
    for a in ASSIGNMENTS:
        args = ["grade", a, _batch(tmp_path, a), "--out", tmp_path / "results" / a, "--due", DUE,
                "--late-policy", "per-day:0.5", "--no-progress", "--workers", "1"]
        run_cli(*args, *(["--db", db] if db else []))


def _expected(tmp_path):
    """Per student: the score column of each assignment's grades.csv (penalty applied) and pending_manual."""
    out = {}
    for a in ASSIGNMENTS:
        with open(tmp_path / "results" / a / "grades.csv", newline="") as fh:
            for r in csv.DictReader(fh):
                out.setdefault(r["student_id"], {})[a] = (float(r["score"]), int(r["pending_manual"]))
    return out


def _check(table, expected):
    header, rows = table[0], {r[0]: r for r in table[1:]}
    assert header == ["student_id", "last_name", "first_name", "email", *ASSIGNMENTS, "total", "max_total",
                      "pending_manual"]
    assert set(rows) == {"alice", "bob"}
    for student, per in expected.items():
        row = dict(zip(header, rows[student]))
        for a in ASSIGNMENTS:
            assert float(row[a]) == per[a][0], (student, a)
        assert float(row["total"]) == pytest.approx(sum(v[0] for v in per.values()))
        assert int(row["pending_manual"]) == sum(v[1] for v in per.values())
    alice = dict(zip(header, rows["alice"]))
    assert int(alice["pending_manual"]) == 2          # one written answer per assignment, not graded yet
    assert float(rows["bob"][header.index("total")]) == 0


def test_course_export_from_each_assignments_sqlite_gradebook(tmp_path):
    _grade_all(tmp_path)
    expected = _expected(tmp_path)
    late = expected["alice"]["ch10_lr_schedules"][0]
    assert late > 0
    run_cli("export", "--results", tmp_path / "results", "--out", tmp_path / "course.csv")
    _check(_read(tmp_path / "course.csv"), expected)
    run_cli("export", "--results", tmp_path / "results", "--out", tmp_path / "canvas.csv", "--canvas")
    canvas = _read(tmp_path / "canvas.csv")
    assert canvas[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *ASSIGNMENTS]
    assert canvas[1][0] == "Points Possible" and all(float(x) > 0 for x in canvas[1][5:])
    alice = next(r for r in canvas[2:] if r[3] == "alice")
    assert float(alice[5 + ASSIGNMENTS.index("ch10_lr_schedules")]) == late


def test_course_export_from_one_shared_postgresql_gradebook(tmp_path):
    from postgres import create_database, postgres_server

    base = Path(tempfile.mkdtemp(prefix="course-pg-export-"))
    try:
        with postgres_server(base) as server:
            url = create_database(server.url, "course")
            _grade_all(tmp_path, db=url)
            run_cli("export", "--db", url, "--out", tmp_path / "course.csv")
            _check(_read(tmp_path / "course.csv"), _expected(tmp_path))
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_export_errors_are_one_line(tmp_path):
    proc = run_cli("export", "--results", tmp_path / "nothing", "--out", tmp_path / "c.csv", check=False)
    assert proc.returncode == 2 and "results folder not found" in proc.stderr
    (tmp_path / "empty").mkdir()
    proc = run_cli("export", "--results", tmp_path / "empty", "--out", tmp_path / "c.csv", check=False)
    assert proc.returncode == 2 and "no gradebook.db" in proc.stderr
    proc = run_cli("export", "--db", "postgresql://nobody@127.0.0.1:1/x", "--out", tmp_path / "c.csv", check=False)
    assert proc.returncode == 2 and "cannot reach the gradebook database" in proc.stderr
