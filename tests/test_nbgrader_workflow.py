"""After `python -m autograder grade`, plain nbgrader still works on the result: the formgrader
serves the submissions for manual grading, and a manual grade flows into nbgrader's own
generate_feedback and export."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from conftest import run_cli
from submissions import solution_notebook, write_submission

A = "ch02_weight_decay"
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("workflow")
    write_submission(base / "sub", "alice", A, solution_notebook(A))
    run_cli("grade", A, base / "sub", "--out", base / "out", "--no-progress")
    return base / "out"


def test_manual_grade_flows_into_nbgrader_export_and_feedback(graded):
    root = graded / "nbgrader"
    with Gradebook(f"sqlite:///{graded / 'gradebook.db'}") as gb:
        grade = gb.find_grade("written_more_data_less_regularization", "weight_decay", A, "alice")
        assert grade.needs_manual_grade
        grade.manual_score = 2.0
        gb.db.commit()
    subprocess.run([str(BIN / "nbgrader"), "export", "--to", str(graded / "export.csv")], cwd=root, check=True,
                   capture_output=True)
    row = (graded / "export.csv").read_text().splitlines()[1].split(",")
    assert row[3] == "alice" and float(row[-2]) == 13.0 and float(row[-1]) == 13.0
    subprocess.run([str(BIN / "nbgrader"), "generate_feedback", A, "--force"], cwd=root, check=True,
                   capture_output=True)
    assert (root / "feedback" / "alice" / A / "weight_decay.html").is_file()


def test_formgrader_serves_the_gradebook(graded):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([str(BIN / "jupyter"), "server", "--no-browser", "--allow-root", f"--port={port}",
                               "--ip=127.0.0.1", "--IdentityProvider.token=t0ken", "--ServerApp.open_browser=False"],
                              cwd=graded / "nbgrader", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}/formgrader/api/assignments?token=t0ken"
        deadline = time.monotonic() + 60
        while True:
            try:
                body = urllib.request.urlopen(url, timeout=5).read()
                break
            except OSError:
                assert time.monotonic() < deadline, "the formgrader did not answer"
                time.sleep(0.5)
        assignments = json.loads(body)
        (entry,) = [a for a in assignments if a["name"] == A]
        assert entry["num_submissions"] == 1
    finally:
        server.terminate()
        server.wait(timeout=30)
