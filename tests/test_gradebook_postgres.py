"""The gradebook on a real PostgreSQL server: the same grades as SQLite, with parallel
workers, no lost or duplicated grade, and a clear error when the database is down
(before the run, or in the middle of it)."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import pytest

from conftest import finished, run_cli, start_grading
from postgres import create_database, postgres_server
from submissions import solution_and_buggy

A = "ch02_weight_decay"


@pytest.fixture(scope="module")
def server():
    # Not under pytest's tmp dirs: those are root-only, and the server runs as the postgres user.
    base = Path(tempfile.mkdtemp(prefix="course-pg-"))
    try:
        with postgres_server(base) as server:
            yield server
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    return solution_and_buggy(tmp_path_factory.mktemp("pgbatch") / "submitted", A, slice(0, 5))


@pytest.fixture(scope="module")
def sqlite_run(batch, tmp_path_factory):
    out = tmp_path_factory.mktemp("lite")
    run_cli("grade", A, batch, "--out", out, "--workers", "1", "--no-progress")
    return out


def _same_csvs(out, reference):
    for name in ("grades.csv", "parts.csv"):
        assert (out / name).read_text() == (reference / name).read_text(), name


def test_postgres_gradebook_matches_sqlite(server, batch, sqlite_run, tmp_path):
    url = create_database(server.url, "course")
    run_cli("grade", A, batch, "--out", tmp_path / "pg", "--db", url, "--workers", "2", "--no-progress")
    _same_csvs(tmp_path / "pg", sqlite_run)
    import psycopg

    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM submitted_assignment")
        assert cur.fetchone()[0] == 6
        cur.execute("SELECT count(*), count(DISTINCT (cell_id, notebook_id)) FROM grade")
        total, distinct = cur.fetchone()
        assert total == distinct == 6 * 6  # 6 students x 6 graded cells, none lost, none twice


def test_database_down_is_one_clear_line(batch, tmp_path):
    proc = run_cli("grade", A, batch, "--out", tmp_path, "--db", "postgresql://postgres@127.0.0.1:1/none",
                   check=False)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot reach the gradebook database"), proc.stderr


def test_a_server_restart_mid_run_is_waited_for(server, batch, sqlite_run, tmp_path):
    """The server crashes after the first grade and is back 3 s later: the workers wait for it and
    grade again what the crash interrupted; the run ends as if nothing happened."""
    url = create_database(server.url, "restart")
    proc = start_grading(A, batch, tmp_path, "--db", url, "--workers", "2", after=1)
    server.stop()
    time.sleep(3)
    server.start()
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0 and "graded 6 submission(s), 0 with problems" in stdout, stdout + stderr
    _same_csvs(tmp_path, sqlite_run)


def test_a_server_that_stays_down_loses_no_grade(server, batch, sqlite_run, tmp_path):
    """The server crashes after the first grade and stays down past --db-patience: the run ends with
    one clear line, the grades made are kept, and once the server is back the same command grades
    the rest, ending like SQLite."""
    url = create_database(server.url, "crash")
    proc = start_grading(A, batch, tmp_path, "--db", url, "--workers", "2", "--db-patience", "2", after=1)
    server.stop()
    try:
        stdout, stderr = proc.communicate(timeout=300)
    finally:
        server.start()
    assert proc.returncode == 2, stdout + stderr
    lines = stderr.strip().splitlines()
    assert lines[-1].startswith("error: the gradebook database") and "run the same command again" in lines[-1]
    assert "Traceback" not in stderr, stderr
    done = finished(tmp_path, A)
    assert 1 <= done < 6
    rerun = run_cli("grade", A, batch, "--out", tmp_path, "--db", url, "--workers", "2", "--no-progress")
    assert f"graded {6 - done} submission(s), 0 with problems, {done} unchanged" in rerun.stdout
    _same_csvs(tmp_path, sqlite_run)


def test_a_server_waited_for_in_vain_is_not_waited_for_again(server):
    """Each worker waits --db-patience once for a server that stays down, not once per submission;
    once the server answers again, the next outage is waited for in full."""
    from autograder.gradebook import wait_for_database

    url = create_database(server.url, "patience")
    server.stop()
    try:
        started = time.monotonic()
        assert not wait_for_database(url, 3)
        assert time.monotonic() - started >= 3
        started = time.monotonic()
        assert not wait_for_database(url, 3)
        assert time.monotonic() - started < 1.5  # one probe, no waiting
    finally:
        server.start()
    assert wait_for_database(url, 3)  # back: answered at once
    server.stop()
    try:
        started = time.monotonic()
        assert not wait_for_database(url, 2)
        assert time.monotonic() - started >= 2
    finally:
        server.start()
