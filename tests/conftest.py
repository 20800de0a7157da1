"""Shared fixtures: the released student notebooks and one graded batch per assignment."""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
from pathlib import Path

# make test runs two test processes on two cores, and graders and kernels start more: one torch/BLAS thread per
# process (inherited by every subprocess), or tiny tensor ops spend their time oversubscribed (a 2 s test took 22 s).
os.environ.setdefault("OMP_NUM_THREADS", "1")

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

    ``make test`` runs ``pytest -n 2``: the site's users are one work unit (tests/work_units.py), but a test
    elsewhere may need the site in the other worker. The build is guarded by a lock and a stamp naming the run: a
    second worker waits for the first build and reuses it, so there is one build per run and never two at once
    into _build/.
    """
    import fcntl
    import uuid

    build = REPO / "_build"
    build.mkdir(exist_ok=True)
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID") or uuid.uuid4().hex
    stamp = build / ".site-built-for-run"
    with open(build / ".site-build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        done = json.loads(stamp.read_text()) if stamp.is_file() else {}
        if done.get("run") != run:
            stamp.unlink(missing_ok=True)
            jb = Path(sys.executable).parent / "jupyter-book"
            # As `make site` runs it: no MPLBACKEND, so page kernels use the inline backend and keep their figures.
            env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
            # --all: every page is written again (executed notebooks still come from the cache). An
            # incremental build keeps pages whose source did not change, e.g. a References page that
            # lacks a citation just added to a chapter, so the tests would see a site no fresh clone makes.
            # As `make site`: the chapter pages execute in parallel into the cache first, then the book is built.
            proc = subprocess.run([sys.executable, str(REPO / "_ext" / "execute_pages.py")],
                                  cwd=REPO, capture_output=True, text=True, env=env)
            if proc.returncode == 0:
                proc = subprocess.run([str(jb), "build", str(REPO), "--all", "-W", "-n", "--keep-going"],
                                      cwd=REPO, capture_output=True, text=True, env=env)
            done = {"run": run, "ok": proc.returncode == 0,
                    "log": f"{proc.stdout[-6000:]}\n{proc.stderr[-6000:]}"}
            stamp.write_text(json.dumps(done))
    assert done["ok"], f"book build failed:\n{done['log']}"
    return build / "html"


# ---------------------------------------------------------------- how `make test` shares the tests between two processes
from work_units import UNIT_SECONDS, work_unit  # noqa: E402


def pytest_xdist_make_scheduler(config, log):
    """``--dist loadscope`` (as `make test` runs it) hands out the units of tests/work_units.py; other modes are
    xdist's own."""
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class WorkUnits(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)

    config.option.loadscopereorder = False  # keep the longest-first order made below
    return WorkUnits(config, log)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Longest unit first; a unit's tests stay together and in pytest's order (a stable sort)."""
    sizes: dict[str, float] = {}
    for item in items:
        unit = work_unit(item.nodeid)
        sizes[unit] = sizes.get(unit, 0) + 1
    weight = {unit: UNIT_SECONDS.get(unit, 0.1 * n) for unit, n in sizes.items()}
    items.sort(key=lambda item: -weight[work_unit(item.nodeid)])
