"""Shared fixtures: the released student notebooks and one graded batch per assignment."""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from autograder.course import assignments, prepare_environment  # noqa: E402

# The same environment the grader gives nbgrader: venv bin on PATH (alembic),
# this checkout on PYTHONPATH (hidden tests), a headless matplotlib backend.
prepare_environment()

ASSIGNMENTS = assignments()


def run_cli(*args, check=True, **kwargs) -> subprocess.CompletedProcess:
    """``python -m autograder ...`` exactly as an instructor runs it."""
    proc = subprocess.run([sys.executable, "-m", "autograder", *map(str, args)], cwd=REPO,
                          capture_output=True, text=True, **kwargs)
    if check and proc.returncode != 0:
        raise AssertionError(f"autograder {args} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def graders(out: Path, assignment: str) -> set[str]:
    """The distinct host:pid of the processes that graded the submissions in ``out``."""
    return {json.loads(p.read_text())["graded_by"] for p in out.glob(f"nbgrader/state/*/{assignment}/outcome.json")}


def finished(out: Path, assignment: str) -> int:
    """How many students have been graded for good into ``out`` (their fingerprint is written last)."""
    return len(list((out / "nbgrader" / "state").glob(f"*/{assignment}/fingerprint")))


def start_grading(assignment: str, submitted: Path, out: Path, *options, after: int) -> subprocess.Popen:
    """Start ``autograder grade`` in its own session; return once ``after`` students are finished."""
    import time

    cmd = [sys.executable, "-m", "autograder", "grade", assignment, str(submitted), "--out", str(out),
           "--no-progress", *map(str, options)]
    proc = subprocess.Popen(cmd, cwd=REPO, start_new_session=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while finished(out, assignment) < after:
        assert proc.poll() is None, f"the run ended too soon: {proc.communicate()}"
        assert time.monotonic() < deadline, "no student finished in 300 s"
        time.sleep(0.1)
    return proc


def html_text(raw: str) -> str:
    """What a reader sees of an HTML page: tags removed (code is split into highlighting spans), unescaped."""
    return html.unescape(re.sub(r"<[^>]+>", "", raw))


@pytest.fixture(scope="session")
def released(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("released")
    run_cli("release", "--out", out)
    return out


@pytest.fixture(scope="session")
def site() -> Path:
    """The book, built once per test run exactly as `make site` builds it; the folder of its HTML.

    Every test that reads the site is marked ``xdist_group("site")``, so under
    ``pytest -n N --dist loadgroup`` they all run in one worker and the build happens once.
    """
    jb = Path(sys.executable).parent / "jupyter-book"
    # As `make site` runs it: no MPLBACKEND, so page kernels use the inline backend and keep their figures.
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    proc = subprocess.run([str(jb), "build", str(REPO), "-W", "-n", "--keep-going"],
                          cwd=REPO, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, f"book build failed:\n{proc.stdout[-6000:]}\n{proc.stderr[-6000:]}"
    return REPO / "_build" / "html"
