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
import re
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
    names the cause.

    ``key`` identifies the mistake across scenarios (a HINTS key); without one it is the message after its
    first ": " with the numbers blanked. ``also`` lists the mistakes a degenerate scenario cannot tell apart from
    it (keys, or (key, message) pairs for a mistake no scenario names alone, as a combination of two): the part
    names the one mistake every failing scenario is consistent with. ``plain`` says what differs without naming a cause; it is shown
    instead of the message when the part's other failing scenarios do not name the same mistake (see
    :func:`scenario_report`)."""

    def __init__(self, message: str, key: str | None = None, plain: str | None = None, also: tuple = (),
                 items: tuple = ()):
        super().__init__(message)
        # raised by a static check: the contract items it breaks (the others can still earn their credit);
        # () means the whole part
        self.items = tuple(items)
        self.key = key or re.sub(r"\d[\d.e+-]*", "#", str(message).split(": ", 1)[-1]).strip()
        self.plain = plain or "wrong result"
        # the other mistakes this scenario cannot tell from ``key`` (their models coincide on its inputs): keys, or
        # (key, message) when that mistake is named in its own words should every failing scenario point to it
        self.messages = {a[0]: a[1] for a in also if isinstance(a, tuple)}
        self.keys = frozenset((self.key, *(a[0] if isinstance(a, tuple) else a for a in also)))


@dataclass
class Credit:
    """Points a part gives for a group of its contract items: earned when every scenario covering each of
    ``items`` passes. A part's credits partition its contract; the first is its core behaviour."""
    label: str                                    # shown to students: "the update with default options"
    points: float
    items: tuple[str, ...]


@dataclass
class Scenario:
    """One behaviour of a part's written contract, tried on hidden inputs.

    ``check`` receives the raw results of ``calls`` (decode them with :func:`returned`) and raises
    :class:`Failure` (or :class:`Mistake`) when the answer is wrong. When the answer passes, ``check`` may
    return the keys of the mistakes this scenario tells apart from correct behaviour: the answer did not make
    them, so no other scenario may name them (:func:`scenario_report`). ``covers`` names the items of the
    part's ``contract`` this scenario exercises; every item needs one (tests/test_contracts.py).
    """
    label: str                                    # shown to the student: "weight_decay > 0", "an unsorted grid"
    calls: list[dict]                             # sent to the sandbox, see harness.perform
    check: Callable[[list], None]
    covers: tuple[str, ...] = ()


class Outcomes(list):
    """(scenario label, its Failure or None) per scenario; ``ruled_out``: the keys of the mistakes that a scenario
    the answer passes tells apart from correct behaviour. A check returns those keys, or a function that
    returns them when computing them costs time: it is called only when another scenario of the part fails."""
    ruled_out: frozenset = frozenset()


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
    credit: list[Credit] = field(default_factory=list)  # partial credit by contract item; [] = all or nothing

    def __post_init__(self):
        if self.scenarios:
            if self.calls or self.judge is not None:
                raise ValueError("a Part takes either scenarios or calls and a judge, not both")
            self.calls = [c for s in self.scenarios for c in s.calls]
            self.judge = self._judge_scenarios
        elif self.judge is None:
            raise ValueError("a Part needs scenarios or a judge")

    def outcomes(self, values: list) -> Outcomes:
        """(scenario label, its Failure or None) for every scenario, and the mistakes the passing ones rule out."""
        outcomes, start, later = Outcomes(), 0, []
        for s in self.scenarios:
            chunk, start = values[start:start + len(s.calls)], start + len(s.calls)
            try:
                ruled_out = s.check(chunk)
                outcomes.append((s.label, None))
                if callable(ruled_out):   # models that cost time: computed only if a scenario fails (below)
                    later.append(ruled_out)
                elif ruled_out:
                    outcomes.ruled_out |= frozenset(ruled_out)
            except Failure as exc:
                outcomes.append((s.label, exc))
            except Exception as exc:  # an answer so odd that the comparison itself broke: still just wrong
                outcomes.append((s.label, Failure(f"your answer could not be checked ({type(exc).__name__})")))
        if later and any(exc is not None for _, exc in outcomes):   # rule-outs only matter to a failing part
            outcomes.ruled_out |= frozenset().union(*(frozenset(thunk()) for thunk in later))
        return outcomes

    def _judge_scenarios(self, values: list) -> None:
        """Judge every scenario; one Failure reporting all of them when any fails."""
        outcomes = self.outcomes(values)
        if any(exc is not None for _, exc in outcomes):
            raise Failure(scenario_report(outcomes))

    def earned(self, outcomes: list[tuple[str, Exception | None]], broken: tuple = ()) -> list[tuple[Credit, bool]]:
        """Each credit and whether it is earned: all its items met, an item being met when every scenario
        covering it passes (and no static check says the code breaks it: ``broken``), and the first credit, the
        core, earned too. A part without credits has one credit, its whole contract."""
        failed_items = {item for s, (_, exc) in zip(self.scenarios, outcomes) if exc is not None for item in s.covers}
        failed_items |= set(broken)
        credits = self.credit or [Credit("the whole part", 1.0, tuple(self.contract))]
        met = [(c, not (set(c.items) & failed_items)) for c in credits]
        if not met[0][1]:  # options are shares of a working core: an answer wrong at its core earns nothing
            met = [(c, False) for c, _ in met]
        return met


def _clip(text: str, limit: int = 240) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def scenario_report(outcomes: list[tuple[str, Exception | None]]) -> str:
    """Feedback for a part from (scenario label, its Failure or None), e.g.

        Likely mistake: <the mistake every failing scenario names>.
        Fails with: weight_decay > 0; two parameter groups (<what differs>).
        Passes with: default settings, lr changed during training, a state_dict round trip.

    A mistake is named only when every failing scenario names it and no passing scenario rules it out
    (``Outcomes.ruled_out``: its model would have failed there): a mistake that one degenerate scenario cannot
    tell from another, that explains only some failures, or that the answer shows it did not make elsewhere, is
    not the answer's. Those scenarios then say what differs (``Mistake.plain``) without naming a cause.
    """
    failed = [(label, exc) for label, exc in outcomes if exc is not None]
    passed = [label for label, exc in outcomes if exc is None]
    named = None
    if failed and all(isinstance(exc, Mistake) for _, exc in failed):
        common = frozenset.intersection(*(exc.keys for _, exc in failed))
        common -= getattr(outcomes, "ruled_out", frozenset())
        if len(common) == 1:  # the one mistake every failing scenario is consistent with: in its own words
            (key,) = common
            named = next((str(exc) for _, exc in failed if exc.key == key), None) \
                or next((exc.messages[key] for _, exc in failed if key in exc.messages), None)
    if not passed and (named or len({str(exc) for _, exc in failed}) == 1):  # one cause everywhere: say it once
        if named:
            return f"Likely mistake: {_clip(named, 400).rstrip('.')}.\nFails with every scenario."
        if not isinstance(failed[0][1], Mistake):  # a Mistake left unnamed may name a cause it did not show
            return str(failed[0][1])  # "not implemented yet", a crash...
    lines = []
    if named:
        lines.append("Likely mistake: " + _clip(named, 400).rstrip(".") + ".")
    details = []
    for label, exc in failed:
        if named:  # named once, above; the scenarios that show it are just listed
            details.append(label)
        else:
            details.append(f"{label} ({_clip(exc.plain if isinstance(exc, Mistake) else str(exc))})")
    lines.append("Fails with: " + "; ".join(details) + ".")
    lines.append("Passes with: " + (", ".join(passed) if passed else "none of the scenarios") + ".")
    return "\n".join(lines)


@dataclass
class Verdict:
    passed: bool
    message: str
    earned: list[tuple[str, float, float]] = field(default_factory=list)  # (credit label, earned, points)

    @property
    def fraction(self) -> float:
        """The share of the part's points earned: 1 or 0 for a part without partial credit."""
        if self.passed:
            return 1.0
        total = sum(points for _, _, points in self.earned)
        return sum(e for _, e, _ in self.earned) / total if total else 0.0


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


class Returned(np.ndarray):
    """A returned array, as float64, that remembers the dtype the student's code gave it (``returned_dtype``:
    "float32", "int64", ...): the evidence for a precision diagnosis."""
    returned_dtype: str = "float64"

    def __array_finalize__(self, obj):
        self.returned_dtype = getattr(obj, "returned_dtype", "float64")

    def __array_wrap__(self, obj, context=None, return_scalar=False):
        out = super().__array_wrap__(obj, context, return_scalar)
        return out[()] if isinstance(out, np.ndarray) and out.ndim == 0 else out  # reductions give numbers


def _f8_array(text, shape, dtype=None) -> np.ndarray:
    import base64

    data = base64.b64decode(text, validate=True)
    if not isinstance(shape, list) or not all(isinstance(n, int) and n >= 0 for n in shape) \
            or len(data) != 8 * int(np.prod(shape, dtype=np.int64)):
        raise ValueError("a returned array does not match its shape")
    arr = np.frombuffer(data, dtype="<f8").reshape(shape).copy().view(Returned)
    arr.returned_dtype = str(dtype)[:20] if isinstance(dtype, str) else "float64"
    return arr


def decode(value):
    if isinstance(value, dict):
        if "__f8__" in value:
            return _f8_array(value["__f8__"], value["shape"], value.get("dtype"))
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
    static = None   # a static check that breaks only some items: judged with the scenarios
    try:
        if part.static is not None:
            try:
                part.static(answer_source)
            except Mistake as exc:
                if not (exc.items and part.scenarios and part.credit):
                    raise
                static = exc
        if not isinstance(reported, dict):
            raise Failure(f"this part could not be tested: {problem or 'no result from the sandbox'}")
        if "error" in reported:
            raise Failure(f"testing this part failed: {reported['error']}")
        values = reported.get("values")
        if not isinstance(values, list) or len(values) != len(part.calls):
            raise Failure("this part could not be tested: incomplete results")
        if part.scenarios:
            outcomes = part.outcomes(values)
            broken = static.items if static else ()
            if static:
                ruled_out, outcomes = outcomes.ruled_out, Outcomes([("how it is computed", static)] + outcomes)
                outcomes.ruled_out = ruled_out
            if any(exc is not None for _, exc in outcomes):
                earned = [(c.label, c.points if met else 0.0, c.points)
                          for c, met in part.earned(outcomes[1:] if static else outcomes, broken)]
                if not part.credit:
                    earned = []
                message = scenario_report(outcomes)
                if earned and any(e for _, e, _ in earned):
                    message = credit_line(earned) + "\n" + message
                return Verdict(False, message, earned)
        else:
            part.judge(values)
    except Failure as exc:
        return Verdict(False, str(exc))
    except Exception as exc:  # an answer so odd that the comparison itself broke: still just wrong
        return Verdict(False, f"your answer could not be checked ({type(exc).__name__}: {exc})")
    if part.scenarios:
        return Verdict(True, f"passed all {len(part.scenarios)} scenarios: "
                             + ", ".join(s.label for s in part.scenarios))
    return Verdict(True, f"passed: {len(part.calls)} checks" + (f" ({part.description})" if part.description else ""))


def credit_line(earned: list[tuple[str, float, float]]) -> str:
    """The points line of a partly right part: "Points: 2.5 of 3 (core ✔ 2 of 2 · weight_decay ✘ 0 of 0.5)."."""
    got, total = sum(e for _, e, _ in earned), sum(p for _, _, p in earned)
    items = " · ".join(f"{label} {'✔' if e == p else '✘'} {e:g} of {p:g}" for label, e, p in earned)
    return f"Points: {got:g} of {total:g} ({items})."


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
