"""What a rerun needs: fingerprints of each graded submission and of the rules it was graded by, and the outcome
recorded per student, so that a killed or repeated run grades only what changed."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from .course import REPO, SOURCE


def files_fingerprint(folder: Path, rules: str = "") -> str:
    """Names and contents of every file in ``folder``, and ``rules``."""
    digest = hashlib.sha256(rules.encode() + b"\0")
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def rules_fingerprint(assignment: str, due: str | None, late_policy: str, timeout: int, sandbox: bool) -> str:
    """What else decides a grade: the exercise source, the hidden tests and the options.

    A rerun with a new due date, late policy or a fixed test (of this assignment, or shared) regrades every
    submission, instead of keeping grades made under the old rules.
    """
    digest = hashlib.sha256(json.dumps([due, late_policy, timeout, sandbox]).encode())
    for path in sorted(SOURCE.glob(f"{assignment}/*.ipynb")) + judging_files(assignment):
        digest.update(str(path.relative_to(REPO)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def judging_files(assignment: str) -> list[Path]:
    """The code that decides this assignment's verdicts: its hidden-test module and the shared ones, the probes,
    the reference solutions and the judge. Another chapter's hidden tests are not among them."""
    hidden = REPO / "autograder" / "hidden"
    shared = [p for p in hidden.glob("*.py") if not re.match(r"ch\d\d_", p.name)]
    return sorted([hidden / f"{assignment}.py", *shared, *(REPO / "coursekit" / "checks").glob("*.py"),
                   *(REPO / "solutions").glob("*.py"), REPO / "autograder" / "verdicts.py",
                   REPO / "autograder" / "harness.py"])


def state_dir(root: Path, student: str, assignment: str) -> Path:
    return root / "state" / student / assignment


def graded_fingerprint(root: Path, student: str, assignment: str) -> str | None:
    path = state_dir(root, student, assignment) / "fingerprint"
    return path.read_text() if path.is_file() else None


def load_problems(root: Path, assignment: str, students: list[str]) -> dict[str, str]:
    found = {}
    for s in students:
        path = state_dir(root, s, assignment) / "outcome.json"
        if path.is_file() and (problem := json.loads(path.read_text()).get("problem")):
            found[s] = problem
    return found


def load_notes(root: Path, assignment: str, student: str) -> list[str]:
    path = state_dir(root, student, assignment) / "outcome.json"
    return json.loads(path.read_text()).get("notes", []) if path.is_file() else []
