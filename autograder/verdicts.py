"""Verdicts a student's code cannot forge.

The student's notebook runs in a sandbox (``autograder.harness``), which
reports only what the student's functions *returned* on the hidden inputs.
Here, in the grader's own process, those values are compared with references
computed from ``solutions`` and torch; the references never enter the
sandbox. Nothing the student's code does to its own process (patching
``np.allclose``, input transformers, display formatters, killing itself,
background processes) can change a verdict: the only way to pass is to return
the right values.

Each assignment's module ``autograder.hidden.<assignment>`` declares
``PARTS``: test-cell grade_id -> :class:`Part`.
"""

from __future__ import annotations

import importlib
import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from .sandbox import ForkServer, Limits, Sandbox

HARNESS = Path(__file__).with_name("harness.py")


class Failure(Exception):
    """A wrong answer; the message is shown to the student."""


class Mistake(Failure):
    """A wrong answer whose cause is known (a named mistake of COURSE.md, a precision problem): its message
    names the cause and is shown before everything else in the part's feedback."""


@dataclass
class Scenario:
    """One behaviour of a part's written contract, tried on hidden inputs.

    ``check`` receives the raw results of ``calls`` (decode them with :func:`returned`) and raises
    :class:`Failure` (or :class:`Mistake`) when the answer is wrong. ``covers`` names the items of the
    part's ``contract`` this scenario exercises; every item needs one (tests/test_contracts.py).
    """
    label: str                                    # shown to the student: "weight_decay > 0", "an unsorted grid"
    calls: list[dict]                             # sent to the sandbox, see harness.perform
    check: Callable[[list], None]
    covers: tuple[str, ...] = ()


@dataclass
class Part:
    """A graded test cell. Either ``scenarios`` (the calls and the judge are derived from them, and every
    scenario is judged and reported) or, for parts not yet written that way, ``calls`` and ``judge``."""
    answer: str                                   # grade_id of the answer cell this part grades
    calls: list[dict] = field(default_factory=list)  # sent to the sandbox, see harness.perform
    judge: Callable[[list], None] | None = None   # raises Failure on a wrong answer
    static: Callable[[str], None] | None = None   # checks of the answer cell's source
    description: str = ""
    contract: dict[str, str] = field(default_factory=dict)  # item -> what the exercise's text promises
    scenarios: list[Scenario] = field(default_factory=list)

    def __post_init__(self):
        if self.scenarios:
            if self.calls or self.judge is not None:
                raise ValueError("a Part takes either scenarios or calls and a judge, not both")
            self.calls = [c for s in self.scenarios for c in s.calls]
            self.judge = self._judge_scenarios
        elif self.judge is None:
            raise ValueError("a Part needs scenarios or a judge")

    def _judge_scenarios(self, values: list) -> None:
        """Judge every scenario; one Failure reporting all of them when any fails."""
        outcomes, start = [], 0
        for s in self.scenarios:
            chunk, start = values[start:start + len(s.calls)], start + len(s.calls)
            try:
                s.check(chunk)
                outcomes.append((s.label, None))
            except Failure as exc:
                outcomes.append((s.label, exc))
            except Exception as exc:  # an answer so odd that the comparison itself broke: still just wrong
                outcomes.append((s.label, Failure(f"your answer could not be checked ({type(exc).__name__})")))
        if any(exc is not None for _, exc in outcomes):
            raise Failure(scenario_report(outcomes))


def _clip(text: str, limit: int = 240) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def scenario_report(outcomes: list[tuple[str, Exception | None]]) -> str:
    """Feedback for a part from (scenario label, its Failure or None), e.g.

        Likely mistake: <the first named mistake>.
        Fails with: weight_decay > 0 (<what differs>); two parameter groups (<what differs>).
        Passes with: default settings, lr changed during training, a state_dict round trip.
    """
    failed = [(label, exc) for label, exc in outcomes if exc is not None]
    passed = [label for label, exc in outcomes if exc is None]
    named = [str(exc) for _, exc in failed if isinstance(exc, Mistake)]
    if not passed and len({str(exc) for _, exc in failed}) == 1:  # one cause everywhere: say it once
        if named:
            return f"Likely mistake: {_clip(named[0], 400).rstrip('.')}.\nFails with every scenario."
        return str(failed[0][1])  # "not implemented yet", a crash...
    lines = []
    if named:
        lines.append("Likely mistake: " + _clip(named[0], 400).rstrip(".") + ".")
    details = []
    for label, exc in failed:
        text = str(exc)
        # one named mistake is shown once, above; other scenarios that hit it are just listed
        details.append(label if (named and text == named[0]) else f"{label} ({_clip(text)})")
    lines.append("Fails with: " + "; ".join(details) + ".")
    lines.append("Passes with: " + (", ".join(passed) if passed else "none of the scenarios") + ".")
    return "\n".join(lines)


@dataclass
class Verdict:
    passed: bool
    message: str


@dataclass
class SubmissionRun:
    cell_outputs: dict[int, list] = field(default_factory=dict)
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    problem: str | None = None                    # the sandbox itself failed


class Foreign:
    """A returned value that is not numbers (a string, an object, ...)."""

    def __init__(self, what):
        self.what = what

    def __repr__(self):
        return f"<{self.what}>"


def _f8_array(text, shape) -> np.ndarray:
    import base64

    data = base64.b64decode(text, validate=True)
    if not isinstance(shape, list) or not all(isinstance(n, int) and n >= 0 for n in shape) \
            or len(data) != 8 * int(np.prod(shape, dtype=np.int64)):
        raise ValueError("a returned array does not match its shape")
    return np.frombuffer(data, dtype="<f8").reshape(shape).copy()


def decode(value):
    if isinstance(value, dict):
        if "__f8__" in value:
            return _f8_array(value["__f8__"], value["shape"])
        if "__tuple__" in value:
            return tuple(decode(v) for v in value["__tuple__"])
        if "__dict__" in value:
            return {k: decode(v) for k, v in value["__dict__"].items()}
        if "__type__" in value:
            return Foreign(value["__type__"])
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


def returned(values: list, what: str) -> list:
    """The decoded return values; a Failure naming the first call that raised."""
    out = []
    for v in values:
        if not v.get("ok"):
            err = v.get("error", "unknown error")
            if err.startswith("NotImplementedError"):
                raise Failure(f"{what} is not implemented yet")
            raise Failure(f"{what} raised {err}")
        out.append(decode(v["value"]))
    return out


def parts_of(assignment: str) -> dict[str, Part]:
    return importlib.import_module(f"autograder.hidden.{assignment}").PARTS


def run_submission(assignment: str, cells: list[dict], answers: dict[str, str],
                   sandbox: Sandbox | None = None, cell_timeout: int = 60, part_timeout: int = 120) -> SubmissionRun:
    """Execute ``cells`` (index, source) in the sandbox, then judge every part.

    ``answers``: answer-cell grade_id -> its source, for static checks.
    """
    parts = parts_of(assignment)
    sandbox = sandbox or Sandbox()
    job = {"cells": cells, "parts": {gid: p.calls for gid, p in parts.items()},
           "cell_timeout": cell_timeout, "part_timeout": part_timeout}
    # The harness may run every cell and every part once: that bounds the wall time.
    budget = cell_timeout * (len(cells) + 2) + (part_timeout + 10) * (len(parts) + 1)
    sandbox = Sandbox(limits=Limits(**{**sandbox.limits.__dict__, "wall_seconds": budget,
                                       "cpu_seconds": budget}), enabled=sandbox.enabled)
    run = SubmissionRun()
    files = {"job.json": json.dumps(job).encode()}
    if sandbox.enabled:  # a warm child of this process's sandboxed fork server
        res, found = fork_server(sandbox.limits).run(files, wall_seconds=budget, cpu_seconds=budget)
        raw = found.get("results.json")
    else:  # --no-sandbox: a fresh process with the same limits
        scratch = Path(tempfile.mkdtemp(prefix="submission-"))
        try:
            (scratch / "job.json").write_bytes(files["job.json"])
            shutil.copyfile(HARNESS, scratch / "harness.py")
            res = sandbox.run([sandbox_python(), "harness.py"], scratch)
            path = scratch / "results.json"
            raw = path.read_bytes() if path.is_file() and path.stat().st_size < 64 << 20 else None
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    try:
        results = json.loads(raw) if raw else {}
    except ValueError:
        results = {}
    if not isinstance(results, dict):
        results = {}
    if not results:
        run.problem = ("the sandbox produced no results"
                       + (" (time limit)" if res.timed_out else f": {res.stderr.strip()[-300:]}"))
    run.cell_outputs = {int(k): v for k, v in results.get("cells", {}).items() if str(k).isdigit()}
    reported = results.get("parts", {})
    for gid, part in parts.items():
        run.verdicts[gid] = judge(part, reported.get(gid), answers.get(part.answer, ""), run.problem)
    return run


def judge(part: Part, reported: dict | None, answer_source: str, problem: str | None) -> Verdict:
    try:
        if part.static is not None:
            part.static(answer_source)
        if not isinstance(reported, dict):
            raise Failure(f"this part could not be tested: {problem or 'no result from the sandbox'}")
        if "error" in reported:
            raise Failure(f"testing this part failed: {reported['error']}")
        values = reported.get("values")
        if not isinstance(values, list) or len(values) != len(part.calls):
            raise Failure("this part could not be tested: incomplete results")
        part.judge(values)
    except Failure as exc:
        return Verdict(False, str(exc))
    except Exception as exc:  # an answer so odd that the comparison itself broke: still just wrong
        return Verdict(False, f"your answer could not be checked ({type(exc).__name__}: {exc})")
    if part.scenarios:
        return Verdict(True, f"passed all {len(part.scenarios)} scenarios: "
                             + ", ".join(s.label for s in part.scenarios))
    return Verdict(True, f"passed: {len(part.calls)} checks" + (f" ({part.description})" if part.description else ""))


_SERVERS: dict = {}


def fork_server(limits: Limits) -> ForkServer:
    """This process's fork server for ``limits``, started on first use and stopped when the process exits."""
    key = tuple(sorted((k, v) for k, v in limits.__dict__.items() if k not in ("cpu_seconds", "wall_seconds")))
    if key not in _SERVERS:
        import atexit
        from multiprocessing import util

        server = _SERVERS[key] = ForkServer(HARNESS, limits)
        atexit.register(server.stop)
        util.Finalize(server, server.stop, exitpriority=10)  # pool workers skip atexit
    return _SERVERS[key]


def sandbox_python() -> str:
    import sys

    return sys.executable
