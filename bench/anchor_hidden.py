"""The hidden tests run inside the student's kernel: the benchmark's anchor.

A plain nbgrader course runs its hidden tests in the notebook's own kernel,
with the grader's permissions. ``bench_course.py`` builds such a course from
``autograder/source`` (each hidden region calls :func:`check`) and grades it
with plain ``nbgrader autograde``, so that the anchor does the same checks as
``python -m autograder grade`` and must reach the same scores. Never used for
real grading: code in the same process can forge any of this.
"""

from __future__ import annotations

import json
from pathlib import Path

from autograder.harness import perform
from autograder.verdicts import judge, parts_of


def hidden_region(assignment: str, grade_id: str) -> str:
    """The hidden region of a test cell in the anchor course."""
    return ("### BEGIN HIDDEN TESTS\n"
            "from bench.anchor_hidden import check\n"
            f"check({assignment!r}, {grade_id!r}, globals())\n"
            "### END HIDDEN TESTS\n")


def _answer_source(grade_id: str) -> str:
    """The answer cell's source; nbgrader runs the notebook in the student's submitted folder."""
    for path in sorted(Path.cwd().glob("*.ipynb")):
        for cell in json.loads(path.read_text()).get("cells", []):
            if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id:
                source = cell.get("source", "")
                return "".join(source) if isinstance(source, list) else source
    return ""


def check(assignment: str, grade_id: str, ns: dict) -> None:
    """Raise AssertionError with the hint unless the part is right, like the sandboxed grader."""
    part = parts_of(assignment)[grade_id]
    values = []
    for call in part.calls:
        # A call may stand in for some of the student's helpers: put theirs back afterwards
        # (the sandbox runs each part in a forked child instead).
        names = {spec["name"] for spec in call.get("substitutes", [])}
        saved = {n: ns[n] for n in names if n in ns}
        try:
            values.append({"ok": True, "value": perform(call, ns)})
        except Exception as exc:
            values.append({"ok": False, "error": f"{type(exc).__name__}: {str(exc)[:500]}"})
        finally:
            for n in names:
                if n in saved:
                    ns[n] = saved[n]
                else:
                    ns.pop(n, None)
    # Through JSON as the sandbox's results are, so both judge the same values.
    reported = json.loads(json.dumps({"values": values}, allow_nan=True))
    verdict = judge(part, reported, _answer_source(part.answer), None)
    if not verdict.passed:
        raise AssertionError(verdict.message)
