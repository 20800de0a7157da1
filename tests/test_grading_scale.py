"""Grading at scale: parallel workers give the sequential scores, a killed run resumes,
--force regrades, and every run ends with the instructor's HTML report."""

from __future__ import annotations

import os
import re
import signal
import time

import pytest

from conftest import finished, graders, run_cli, start_grading
from submissions import solution_and_buggy, with_answer, write_submission

A = "ch02_weight_decay"


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    return solution_and_buggy(tmp_path_factory.mktemp("scale") / "submitted", A, slice(0, 7))


@pytest.fixture(scope="module")
def sequential(batch, tmp_path_factory):
    out = tmp_path_factory.mktemp("sequential")
    run_cli("grade", A, batch, "--out", out, "--workers", "1", "--no-progress")
    return out


def _stable(path):
    return path.read_text()


def test_parallel_workers_give_the_sequential_scores(batch, sequential, tmp_path):
    run_cli("grade", A, batch, "--out", tmp_path, "--workers", "2", "--no-progress")
    assert len(graders(tmp_path, A)) == 2 and len(graders(sequential, A)) == 1
    assert _stable(tmp_path / "parts.csv") == _stable(sequential / "parts.csv")
    assert _stable(tmp_path / "grades.csv") == _stable(sequential / "grades.csv")


def test_a_killed_run_resumes_and_ends_like_an_uninterrupted_one(batch, sequential, tmp_path):
    proc = start_grading(A, batch, tmp_path, "--workers", "1", after=3)
    os.killpg(proc.pid, signal.SIGKILL)  # kill -9, workers and sandboxes included
    proc.communicate()
    done = finished(tmp_path, A)
    assert 3 <= done < 8
    rerun = run_cli("grade", A, batch, "--out", tmp_path, "--workers", "1", "--no-progress")
    graded, skipped = map(int, re.search(r"graded (\d+) .* (\d+) unchanged and skipped", rerun.stdout).groups())
    assert skipped == done and graded == 8 - done
    assert _stable(tmp_path / "parts.csv") == _stable(sequential / "parts.csv")
    assert _stable(tmp_path / "grades.csv") == _stable(sequential / "grades.csv")


def _hold_write_lock(db, seconds, proc, out):
    """Hold SQLite's exclusive lock on ``db`` for ``seconds`` while ``proc`` grades; no one finishes meanwhile."""
    import sqlite3

    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("BEGIN EXCLUSIVE")
    time.sleep(1)  # a worker past its last write may still finish
    held_from = finished(out, A)
    time.sleep(seconds - 1)
    assert proc.poll() is None and finished(out, A) == held_from, "grading went on without the gradebook"
    conn.execute("COMMIT")
    conn.close()


def test_workers_wait_for_a_locked_sqlite_gradebook(batch, sequential, tmp_path):
    """pysqlite gives up on a lock after 5 s; the grader's connections wait (up to 60 s)."""
    proc = start_grading(A, batch, tmp_path, "--workers", "2", after=1)
    _hold_write_lock(tmp_path / "gradebook.db", 8, proc, tmp_path)
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0 and "0 with problems" in stdout, stdout + stderr
    assert _stable(tmp_path / "parts.csv") == _stable(sequential / "parts.csv")
    assert _stable(tmp_path / "grades.csv") == _stable(sequential / "grades.csv")


def test_a_gradebook_that_stays_locked_fails_no_grade_for_good(batch, sequential, tmp_path):
    """Past --db-patience, the submissions being graded fail with the database's reason, the batch
    goes on, and the next run grades exactly those again."""
    proc = start_grading(A, batch, tmp_path, "--workers", "2", "--db-patience", "1", after=1)
    # Short: with 1 s of patience each remaining submission fails in about a second, and the run
    # must still be going when the lock is released.
    _hold_write_lock(tmp_path / "gradebook.db", 2, proc, tmp_path)
    stdout, stderr = proc.communicate(timeout=300)
    failed = re.findall(r"^(\S+): (?:autograde|manual grades|feedback) failed: (.*)$", stdout, re.M)
    assert failed and len(failed) == int(re.search(r"(\d+) with problems", stdout).group(1)), stdout + stderr
    for student, message in failed:
        assert "database is locked" in message and "not final: the next run grades it again" in message
        assert f"{student}," in (tmp_path / "grades.csv").read_text()  # listed, with the grades it has
    assert finished(tmp_path, A) == 8 - len(failed)
    rerun = run_cli("grade", A, batch, "--out", tmp_path, "--workers", "2", "--no-progress")
    assert f"graded {len(failed)} submission(s), 0 with problems, {8 - len(failed)} unchanged" in rerun.stdout
    assert _stable(tmp_path / "parts.csv") == _stable(sequential / "parts.csv")
    assert _stable(tmp_path / "grades.csv") == _stable(sequential / "grades.csv")


def test_a_failed_commit_is_reported_as_the_database_error(tmp_path):
    """nbgrader turns a commit that hit a locked database into InvalidEntry, and its converter then says
    only "see the above traceback": the message must still name the database's own error."""
    import sqlite3
    import traceback

    from nbgrader.api import Gradebook

    from autograder.gradebook import first_error_line as _first_error_line

    url = f"sqlite:///{tmp_path / 'gradebook.db'}?timeout=0.2"
    with Gradebook(url) as gb:
        conn = sqlite3.connect(tmp_path / "gradebook.db", isolation_level=None)
        conn.execute("BEGIN EXCLUSIVE")
        with pytest.raises(Exception) as caught:
            gb.add_student("alice")
        conn.execute("COMMIT")
    assert type(caught.value).__name__ == "InvalidEntry"
    log = "".join(traceback.format_exception(caught.value))
    error = "nbgrader.converters.base.NbGraderException: Please see the the above traceback for details"
    assert _first_error_line({"error": error, "log": log}) == \
        ("gradebook database error: (sqlite3.OperationalError) database is locked", True)


def test_changed_submissions_are_regraded_and_force_regrades_all(batch, tmp_path):
    import shutil

    sub = tmp_path / "sub"
    shutil.copytree(batch, sub)
    run_cli("grade", A, sub, "--out", tmp_path / "out", "--no-progress")
    write_submission(sub, "solution", A, with_answer(A, "l2_penalty", "def l2_penalty(w, lam):\n    return 0.0\n"))
    again = run_cli("grade", A, sub, "--out", tmp_path / "out", "--no-progress")
    assert "graded 1 submission(s), 0 with problems, 7 unchanged and skipped" in again.stdout
    assert "solution,ch02_weight_decay,weight_decay,test_l2_penalty,0.0" in (tmp_path / "out" / "parts.csv").read_text()
    forced = run_cli("grade", A, sub, "--out", tmp_path / "out", "--force", "--no-progress")
    assert "graded 8 submission(s), 0 with problems;" in forced.stdout
    # A gradebook that lost the grades (deleted here; or a new --db) is filled again, not skipped.
    (tmp_path / "out" / "gradebook.db").unlink()
    again = run_cli("grade", A, sub, "--out", tmp_path / "out", "--no-progress")
    assert "graded 8 submission(s), 0 with problems;" in again.stdout
    assert "solution,ch02_weight_decay,weight_decay,test_l2_penalty,0.0" in (tmp_path / "out" / "parts.csv").read_text()


def test_report_is_self_contained_and_names_the_mistakes(sequential):
    html = (sequential / "report.html").read_text()
    histogram = re.search(r'<svg [^>]*aria-label="histogram of scores".*?</svg>', html)
    assert histogram and histogram.group(0).count("<rect ") >= 5 and "Grade distribution" in histogram.group(0)
    assert not re.search(r'(src|href)="(https?:)?//', html), "the report must work offline"
    assert "Item analysis" in html and "test_ridge_loss_and_grad" in html
    assert "the intercept must not be penalized" in html
    assert "manual grading pending" in html


def _gradebook_rows(out):
    """Every grade and comment nbgrader stored, with the submission timestamps and penalties."""
    from nbgrader.api import Gradebook
    from sqlalchemy import text

    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        rows = []
        for sub in gb.assignment_submissions(A):
            rows.append((sub.student_id, str(sub.timestamp), sub.late_submission_penalty))
            for nb in sub.notebooks:
                rows += [(sub.student_id, g.name, g.auto_score, g.manual_score, g.needs_manual_grade)
                         for g in nb.grades]
                rows += [(sub.student_id, c.name, c.auto_comment, c.manual_comment) for c in nb.comments]
        # the stamp of nbgrader's migrations, which the speed-ups read in-process instead of running `alembic heads`
        rows += [("alembic_version", *r) for r in gb.db.execute(text("SELECT version_num FROM alembic_version"))]
    return sorted(rows, key=repr)


def test_speedups_change_nothing_that_nbgrader_writes(batch, sequential, tmp_path):
    """Grading with nbgrader's fixed costs removed (autograder/nbgrader_speedups.py) stores exactly
    what nbgrader alone stores."""
    env = {**os.environ, "AUTOGRADER_NO_SPEEDUPS": "1"}
    run_cli("grade", A, batch, "--out", tmp_path, "--workers", "1", "--no-progress", env=env)
    assert _gradebook_rows(tmp_path) == _gradebook_rows(sequential)
    assert _stable(tmp_path / "parts.csv") == _stable(sequential / "parts.csv")
    for page in sequential.glob("feedback/*/*/*.html"):
        assert page.read_text() == (tmp_path / page.relative_to(sequential)).read_text(), page
