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


@dataclass
class Part:
    answer: str                                   # grade_id of the answer cell this part grades
    calls: list[dict]                             # sent to the sandbox, see harness.perform
    judge: Callable[[list], None]                 # raises Failure on a wrong answer
    static: Callable[[str], None] | None = None   # checks of the answer cell's source
    description: str = ""


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
