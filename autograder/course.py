"""Where the course's exercises live and how nbgrader is configured for them."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from traitlets.config import Config

from .errors import UsageError  # noqa: F401  (re-exported)
from .layout import COURSE_ID, REPO, SOURCE  # noqa: F401  (re-exported: the course's places)


def assignments() -> dict[str, list[str]]:
    """Assignment name -> its notebook names (without .ipynb), from ``source/``."""
    found = {}
    for folder in sorted(p for p in SOURCE.iterdir() if p.is_dir()):
        notebooks = sorted(nb.stem for nb in folder.glob("*.ipynb"))
        if notebooks:
            found[folder.name] = notebooks
    return found


def check_assignment(name: str) -> list[str]:
    known = assignments()
    if name not in known:
        raise UsageError(f"unknown assignment '{name}'; known: {', '.join(known)}")
    return known[name]


def prepare_environment() -> None:
    """Make nbgrader's subprocesses and kernels see this checkout and its venv.

    nbgrader shells out to ``alembic`` when it creates a gradebook, so the
    interpreter's bin directory goes on PATH. Kernels inherit PYTHONPATH, which
    lets hidden tests import ``autograder.hidden`` and ``solutions``.
    """
    bin_dir = str(Path(sys.executable).parent)
    path = os.environ.get("PATH", "")
    if bin_dir not in path.split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + path
    pythonpath = os.environ.get("PYTHONPATH", "")
    if str(REPO) not in pythonpath.split(os.pathsep):
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), pythonpath) if p)
    os.environ.setdefault("MPLBACKEND", "Agg")


def nbgrader_config(course_root: Path, db_url: str, timeout: int = 60, sandbox: bool = True,
                    late_policy: str = "none") -> Config:
    from nbconvert.preprocessors import ClearMetadataPreprocessor
    from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, IgnorePattern, LimitOutput,
                                        SaveAutoGrades)

    from .sandboxed_execute import SandboxedExecute

    c = Config()
    c.CourseDirectory.root = str(course_root)
    c.CourseDirectory.course_id = COURSE_ID
    c.CourseDirectory.db_url = db_url
    # nbgrader's pipeline with its kernel-based Execute swapped for the sandbox,
    # which also writes the verdicts decided outside it into the test cells.
    c.Autograde.autograde_preprocessors = [SandboxedExecute, IgnorePattern, ClearMetadataPreprocessor,
                                           LimitOutput, SaveAutoGrades, AssignLatePenalties, CheckCellMetadata]
    c.SandboxedExecute.sandbox = sandbox
    # Feedback pages as nbconvert renders them, without its costly re-parse (see feedback_exporter.py).
    from .feedback_exporter import FeedbackExporter

    c.GenerateFeedback.exporter_class = FeedbackExporter
    # Penalties for work submitted after the due date (see autograder/late.py).
    from .late import LatePolicy

    c.AssignLatePenalties.plugin_class = LatePolicy
    c.LatePolicy.policy = late_policy
    # A cell running longer than this is stopped and shown as an error; the others still run.
    c.SandboxedExecute.timeout = timeout
    return c
