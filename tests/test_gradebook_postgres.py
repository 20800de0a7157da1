"""The gradebook on a real PostgreSQL server: the same grades as SQLite, with parallel
workers, no lost or duplicated grade, and a clear error when the database is down."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from conftest import run_cli
from postgres import create_database, postgres_server
from submissions import solution_and_buggy

A = "ch02_weight_decay"


@pytest.fixture(scope="module")
def server():
    # Not under pytest's tmp dirs: those are root-only, and the server runs as the postgres user.
    base = Path(tempfile.mkdtemp(prefix="course-pg-"))
    try:
        with postgres_server(base) as url:
            yield url
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    return solution_and_buggy(tmp_path_factory.mktemp("pgbatch") / "submitted", A, slice(0, 5))


def test_postgres_gradebook_matches_sqlite(server, batch, tmp_path):
    url = create_database(server, "course")
    run_cli("grade", A, batch, "--out", tmp_path / "pg", "--db", url, "--workers", "2", "--no-progress")
    run_cli("grade", A, batch, "--out", tmp_path / "lite", "--workers", "1", "--no-progress")
    for name in ("grades.csv", "parts.csv"):
        assert (tmp_path / "pg" / name).read_text() == (tmp_path / "lite" / name).read_text()
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
