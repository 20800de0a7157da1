"""``python -m coursekit check NOTEBOOK.ipynb``: nbgrader's *Validate*, on the student's laptop.

It runs the notebook top to bottom in a fresh kernel, as *Kernel -> Restart & Run All* does, and goes on
after a cell fails, so that every graded part gets a verdict. Then it says, for each part, whether its
visible tests pass (with the first lines of their message), and what else would cost points: a renamed
file, a test cell that was deleted or edited, a leftover ``raise NotImplementedError()``, an unanswered
written question, a cell that raised an error or ran out of time. The exit status is 0 when nothing of
that sort was found, 1 when something was, 2 when the notebook could not be checked at all.

The notebook file itself is never written to. Only the student's own environment is needed: ``coursekit``
and Jupyter (``pip install notebook`` brings nbformat, nbclient and ipykernel). This module imports neither
nbgrader nor the instructors' ``solutions``/``autograder``: it recomputes nbgrader's cell checksums itself
(:func:`nbgrader_checksum`), and the graded cells of every exercise are listed in :data:`EXERCISES`.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import importlib.util
import json
import logging
import os
import re
import subprocess
import sys
import tempfile
import textwrap
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

DEFAULT_TIMEOUT = 60  # seconds a cell may run: the grader's default (python -m autograder grade --timeout)

# The graded cells of each exercise notebook, in notebook order, by the notebook's name (without .ipynb):
# grade_id -> (points, "tests" for a test cell | "hand" for a written answer graded by hand). They identify a
# notebook whatever its file is called, and show which graded cells are missing.
# tests/test_coursekit_check.py fails, naming the entry to write, when this drifts from autograder/source.
EXERCISES: dict[str, dict[str, tuple[float, str]]] = {
    "generalization": {"test_kfold_indices": (2, "tests"), "test_cross_val_score": (2, "tests"),
                       "test_bias_variance": (3, "tests"), "test_learning_curve": (2, "tests"),
                       "test_select_degree": (2, "tests"), "written_learning_curve": (2, "hand")},
    "weight_decay": {"test_l2_penalty": (1, "tests"), "test_ridge_loss_and_grad": (3, "tests"),
                     "test_ridge_fit": (3, "tests"), "test_decay_param_groups": (2, "tests"),
                     "test_select_lambda": (2, "tests"), "written_more_data_less_regularization": (2, "hand")},
    "lasso": {"test_soft_threshold": (1, "tests"), "test_lasso_loss_and_subgradient": (2, "tests"),
              "test_lasso_fit": (3, "tests"), "test_lasso_path": (2, "tests"), "test_l1_prox": (2, "tests"),
              "written_lasso_selection": (2, "hand")},
    "dropout": {"test_dropout_forward": (2, "tests"), "test_dropout_backward": (2, "tests"),
                "test_dropout_module": (3, "tests"), "test_mc_dropout_predict": (3, "tests"),
                "written_weight_scaling": (2, "hand")},
    "early_stopping": {"test_early_stopping": (3, "tests"), "test_train_with_early_stopping": (2, "tests"),
                       "test_random_shift": (2, "tests"), "test_mixup": (2, "tests"),
                       "written_how_patient": (2, "hand")},
    "batch_norm": {"test_batch_norm_forward": (3, "tests"), "test_batch_norm_backward": (2, "tests"),
                   "test_batchnorm_module": (4, "tests"), "test_update_bn": (2, "tests"),
                   "written_batch_dependence": (2, "hand")},
    "sgd": {"test_minibatches": (3, "tests"), "test_quadratic_step_sizes": (2, "tests"), "test_sgd": (3, "tests"),
            "test_train_epoch": (2, "tests"), "written_batch_size_and_lr": (2, "hand")},
    "momentum": {"test_sgd": (4, "tests"), "test_heavy_ball_params": (2, "tests"),
                 "test_heavy_ball_rate": (2, "tests"), "test_ema_to_torch": (2, "tests"),
                 "written_forms_and_lr_changes": (2, "hand")},
    "adaptive_methods": {"test_adagrad": (2, "tests"), "test_rmsprop": (2, "tests"), "test_adadelta": (2, "tests"),
                         "test_adam": (3, "tests"), "test_adamw": (2, "tests"),
                         "written_adamw_vs_adam_l2": (2, "hand")},
    "lr_schedules": {"test_step_lr": (2, "tests"), "test_cosine_lr": (2, "tests"), "test_linear_lr": (2, "tests"),
                     "test_warmup_cosine": (2, "tests"), "test_fit": (2, "tests"),
                     "written_wrong_interval": (2, "hand")},
    "tuning": {"test_log_uniform": (2, "tests"), "test_grid_search": (2, "tests"), "test_random_search": (2, "tests"),
               "test_successive_halving": (3, "tests"), "test_final_report": (2, "tests"),
               "written_random_vs_grid": (2, "hand")},
    "capstone": {"test_make_splits": (2, "tests"), "test_train": (3, "tests"), "test_run_study": (2, "tests"),
                 "test_summarize": (2, "tests"), "written_report": (4, "hand")},
}

UNANSWERED = "YOUR ANSWER HERE"  # what nbgrader leaves in a written-answer cell of the student copy
RUNTIME = ("nbformat", "nbclient", "jupyter_client", "ipykernel")
MESSAGE_LINES = 3  # lines of an error message shown per part (the first ones, never a whole traceback)
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_TIMEOUT_NAME = "CourseKitCellTimeout"


class CheckError(Exception):
    """The notebook cannot be checked at all (exit status 2)."""


# ---------------------------------------------------------------- what the notebook holds
def _nbgrader(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def _source(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def nbgrader_checksum(cell) -> str:
    """nbgrader's ``utils.compute_checksum`` (nbgrader 0.9), rewritten so that students need no nbgrader.

    An md5 over the source, the cell type, whether it is a grade/solution/locked cell, its grade id and,
    for a grade cell, its points. The flags are hashed as nbgrader reads them from the metadata.
    """
    meta = _nbgrader(cell)
    grade = meta.get("grade", False)
    solution = meta.get("solution", False)
    locked = False if solution else (True if grade else meta.get("locked", False))
    m = hashlib.md5()
    for part in (_source(cell), cell["cell_type"], str(grade), str(solution), str(locked), meta["grade_id"]):
        m.update(part.encode("utf-8"))
    if grade:
        m.update(str(float(meta["points"])).encode("utf-8"))
    return m.hexdigest()


def _is_locked(meta: dict) -> bool:
    return not meta.get("solution") and bool(meta.get("grade") or meta.get("locked"))


def has_stub(source: str) -> bool:
    """Whether the code still raises NotImplementedError (nbgrader's stub), outside comments and strings."""
    code = "\n".join(ln for ln in source.splitlines() if not ln.lstrip().startswith(("%", "!")))
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return bool(re.search(r"^\s*raise\s+NotImplementedError\b", code, re.M))
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) and node.exc is not None:
            exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if isinstance(exc, ast.Name) and exc.id == "NotImplementedError":
                return True
    return False


def _first_line(source: str, width: int = 50) -> str:
    line = next((ln.strip() for ln in source.splitlines() if ln.strip()), "")
    return line if len(line) <= width else line[:width - 3] + "..."


def _heading(cells, index: int) -> str | None:
    """The nearest '## ' heading above cell ``index``, without its '(N points...)' tail."""
    for cell in reversed(cells[:index]):
        if cell["cell_type"] == "markdown":
            m = re.search(r"^##\s+(.+)$", _source(cell), re.M)
            if m:
                title = re.sub(r"\s*\(\s*[\d.½]+\s+points?\b[^)]*\)\s*$", "", m.group(1)).strip()
                return re.sub(r"\$\\?([^$]*)\$", r"\1", title)  # "$\lambda$" -> "lambda"
    return None


def identify(nb) -> tuple[str | None, dict[str, float]]:
    """Which exercise this is, from its graded cells' grade ids: (notebook name, its graded cells)."""
    present = {_nbgrader(c).get("grade_id") for c in nb["cells"]} - {None}
    best = max(EXERCISES, key=lambda name: len(present & set(EXERCISES[name])))
    if present & set(EXERCISES[best]):
        return best, EXERCISES[best]
    return None, {}


# ---------------------------------------------------------------- the report
@dataclass
class Part:
    grade_id: str
    title: str
    points: float
    by_hand: bool                 # a written answer: graded by hand, no visible test
    cell: int | None              # its index in the notebook; None when it is missing
    answers: list[str] = field(default_factory=list)   # grade ids of the answer cells it tests
    status: str = "not run"       # pass, fail, error, todo, timeout, not run, missing | answered, unanswered
    message: str = ""
    tampered: str | None = None   # "edited", "changed to markdown", "missing"


@dataclass
class Report:
    notebook: str
    exercise: str | None
    expected: str | None          # the file name the grader looks for
    seconds: float = 0.0
    cells_run: int = 0
    parts: list[Part] = field(default_factory=list)
    problems: list[dict] = field(default_factory=list)   # {"kind", "part", "message"}: would cost points
    warnings: list[str] = field(default_factory=list)    # worth knowing, costs nothing

    @property
    def ok(self) -> bool:
        return not self.problems

    def problem(self, kind: str, message: str, part: str | None = None) -> None:
        self.problems.append({"kind": kind, "part": part, "message": message})

    def to_json(self) -> dict:
        out = asdict(self)
        out["ok"] = self.ok
        return out


def _points(p: float) -> str:
    p = int(p) if float(p).is_integer() else p
    return f"{p} point" + ("" if p == 1 else "s")


# ---------------------------------------------------------------- running it
def _missing_runtime() -> list[str]:
    return [name for name in RUNTIME if importlib.util.find_spec(name) is None]


def _run(nb, folder: Path, timeout: float) -> dict[int, dict]:
    """Execute every code cell in order in a fresh kernel of this Python; cell index -> what happened.

    Errors do not stop the run (nbgrader's test cells each stand alone). A cell that runs longer than
    ``timeout`` is interrupted and marked; a kernel that dies ends the run (later cells are not run).
    """
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    class ThisPython(KernelSpecManager):
        """The kernel runs on the interpreter that runs the check, the one that has coursekit."""

        def get_kernel_spec(self, kernel_name):
            return KernelSpec(argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                              display_name="Python 3", language="python", resource_dir=str(folder),
                              # as the grader runs it: a notebook may shorten its long runs when this is set
                              env={"NBGRADER_EXECUTION": "autograde"})

    log = logging.getLogger("coursekit.check")
    log.addHandler(logging.NullHandler())
    log.propagate = False
    results: dict[int, dict] = {}

    def executed(cell, cell_index, execute_reply, **_):
        content = (execute_reply or {}).get("content", {})
        results[cell_index]["timed_out"] = content.get("ename") == _TIMEOUT_NAME

    km = AsyncKernelManager(kernel_name="python3", kernel_spec_manager=ThisPython())
    client = NotebookClient(nb, km=km, timeout=timeout, allow_errors=True, interrupt_on_timeout=True,
                            error_on_timeout={"ename": _TIMEOUT_NAME, "evalue": "", "traceback": []},
                            record_timing=False, log=log, on_cell_executed=executed,
                            resources={"metadata": {"path": str(folder)}})
    with tempfile.TemporaryFile("w+") as kernel_log:  # the kernel's own chatter stays off the terminal
        try:
            with client.setup_kernel(stdout=kernel_log, stderr=subprocess.STDOUT):
                for i, cell in enumerate(nb.cells):
                    if cell.cell_type != "code" or not cell.source.strip():
                        continue
                    results[i] = {"timed_out": False, "died": False}
                    try:
                        client.execute_cell(cell, i)
                    except DeadKernelError:
                        results[i]["died"] = True
                        kernel_log.seek(0)
                        results[i]["log"] = kernel_log.read()[-2000:]
                        break
        except DeadKernelError:  # while shutting down
            pass
        except RuntimeError as exc:  # the kernel did not start
            kernel_log.seek(0)
            raise CheckError(f"could not start a Python kernel: {exc}\n{kernel_log.read()[-2000:]}") from None
    return results


def _error(cell) -> dict | None:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            return {"ename": out.get("ename", ""), "evalue": _ANSI.sub("", out.get("evalue", "")),
                    "traceback": _ANSI.sub("", "\n".join(out.get("traceback", [])))}
    return None


def _name(title: str) -> str:
    """'Part 3: closed-form ridge regression' -> 'Part 3', for use inside a sentence."""
    m = re.match(r"(Part\s+\w+)\s*:", title)
    return m.group(1) if m else title


def _describe(nb, index: int, parts_by_cell: dict[int, Part]) -> str:
    cell = nb.cells[index]
    meta = _nbgrader(cell)
    if index in parts_by_cell:
        return f"the test cell of {_name(parts_by_cell[index].title)}"
    if meta.get("solution"):
        return f"your {meta['grade_id']} cell"
    return f"the cell starting `{_first_line(cell.source)}`"


def _where(nb, error: dict, parts_by_cell: dict[int, Part], own: int | None = None) -> str:
    """'(line L of <cell>)' for the last frame of the traceback that is in one of the notebook's cells;
    '(line L)' when that cell is ``own``, the cell the message is about."""
    frames = re.findall(r"Cell In\[(\d+)\], line (\d+)", error["traceback"])
    if not frames:
        return ""
    count, line = map(int, frames[-1])
    index = next((i for i, c in enumerate(nb.cells) if c.get("execution_count") == count), None)
    if index is None:
        return ""
    return f" (line {line})" if index == own else f" (line {line} of {_describe(nb, index, parts_by_cell)})"


def _message(error: dict, where: str = "") -> str:
    # IPython names a cell's code after a temporary file: "invalid syntax (2638424761.py, line 1)"
    evalue = re.sub(r" \(\d+\.py, line \d+\)", "", error["evalue"])
    lines = [ln.rstrip() for ln in evalue.strip().splitlines() if ln.strip()]
    head = f"{error['ename']}: {lines[0]}" if lines else error["ename"]
    shown = [head + where] + lines[1:MESSAGE_LINES]
    if len(lines) > MESSAGE_LINES:
        shown.append("...")
    return "\n".join(shown)


# ---------------------------------------------------------------- the check
def check(path: str | Path, timeout: float = DEFAULT_TIMEOUT) -> Report:
    path = Path(path)
    if not path.is_file():
        raise CheckError(f"no such file: {path}")
    missing = _missing_runtime()
    if missing:
        raise CheckError("this check runs your notebook in a fresh Jupyter kernel, so it needs Jupyter in this "
                         f"environment (missing: {', '.join(missing)}). Install it with: pip install notebook")
    import nbformat

    try:
        with warnings.catch_warnings():  # nbformat's notes on duplicate cell ids and the like
            warnings.simplefilter("ignore")
            nb = nbformat.reads(path.read_text(encoding="utf-8"), as_version=4, capture_validation_error={})
    except UnicodeDecodeError:
        raise CheckError(f"{path.name} is not a notebook (not UTF-8 text)") from None
    except Exception as exc:
        raise CheckError(f"{path.name} is not a valid notebook ({type(exc).__name__}: {exc})") from None

    exercise, graded = identify(nb)
    report = Report(notebook=str(path), exercise=exercise, expected=f"{exercise}.ipynb" if exercise else None)
    cells = nb.cells

    # The graded parts, in notebook order, each with the answer cells above it.
    ids = [_nbgrader(c).get("grade_id") for c in cells]
    answers: list[str] = []
    for i, cell in enumerate(cells):
        meta = _nbgrader(cell)
        if meta.get("solution") and cell.cell_type == "code" and not meta.get("grade"):
            answers.append(meta.get("grade_id", f"cell {i}"))
        if meta.get("grade") and ids.index(meta.get("grade_id")) == i:
            report.parts.append(Part(meta.get("grade_id", ""), _heading(cells, i) or meta.get("grade_id", ""),
                                     float(meta.get("points", 0)), by_hand=bool(meta.get("solution")), cell=i,
                                     answers=[] if meta.get("solution") else answers))
            if not meta.get("solution"):
                answers = []
    if not report.parts and exercise is None:
        raise CheckError(f"{path.name} has no graded cells: it is not a course exercise notebook, or its cells "
                         "lost their metadata (copied into a new notebook?). Submit the notebook you downloaded "
                         "from the exercise page, with your answers typed into it.")

    # A renamed file, a missing or copied graded cell.
    if exercise is None:
        report.warnings.append("coursekit does not know this exercise (is your coursekit older than the "
                               "notebook?), so it cannot check the file name or look for deleted test cells.")
    elif path.name != report.expected:
        report.problem("renamed", f'This file is named "{path.name}", but the grader looks for '
                                  f'"{report.expected}" (downloads often rename files). Rename it before you submit.')
    for gid in sorted({g for g in ids if g is not None and ids.count(g) > 1}):
        report.problem("duplicate", f"{ids.count(gid)} cells carry the grade id {gid}: a cell of the exercise was "
                                    "copied. nbgrader cannot grade a notebook with copies; delete the copy.", gid)
    present = {p.grade_id for p in report.parts}
    for gid, (points, kind) in graded.items():
        if gid not in present:
            answer = gid.removeprefix("test_")
            where = next((i for i, g in enumerate(ids) if g == answer), None)
            title = (where is not None and _heading(cells, where)) or f"the part tested by {gid}"
            part = Part(gid, title, float(points), by_hand=kind == "hand", cell=None,
                        status="missing", tampered="missing")
            part.message = (f"its {'answer' if part.by_hand else 'test'} cell ({gid}) is missing: deleted, or its "
                            "metadata removed. The grader needs it: copy it back from a fresh download of the "
                            "notebook.")
            report.parts.append(part)
            report.problem("missing", f"{_name(title)}: {part.message}", gid)

    order = list(graded)
    report.parts.sort(key=lambda p: (order.index(p.grade_id) if p.grade_id in order else len(order),
                                     p.cell if p.cell is not None else -1))

    # Edited locked cells (nbgrader's checksums), cells whose type changed.
    parts_by_cell = {p.cell: p for p in report.parts if p.cell is not None}
    for i, cell in enumerate(cells):
        meta = _nbgrader(cell)
        if not meta or "grade_id" not in meta:
            continue
        part = parts_by_cell.get(i)
        what = f"The test cell of {_name(part.title)}" if part and not part.by_hand else (
            f"The answer cell of {_name(part.title)}" if part else f"The cell starting `{_first_line(cell.source)}`")
        if meta.get("cell_type") and meta["cell_type"] != cell.cell_type:
            report.problem("type changed", f"{what} was changed from {meta['cell_type']} to {cell.cell_type}; "
                                           "change it back.", meta["grade_id"])
            if part:
                part.tampered = f"changed to {cell.cell_type}"
        elif _is_locked(meta) and meta.get("checksum") != nbgrader_checksum(cell):
            restore = "paste the original back into it from a fresh download of the notebook"
            if part:
                part.tampered = "edited"
                report.problem("edited", f"{what} was edited. The grader runs the original test, so your edit only "
                                         f"changes what this check sees: {restore}.", meta["grade_id"])
            else:
                report.problem("edited", f"{what} is locked, and it was edited. The grader puts the original back "
                                         f"before grading, so code that relies on your edit will fail there: "
                                         f"{restore}.", meta["grade_id"])

    kernel = nb.metadata.get("kernelspec", {}).get("name")
    if kernel not in (None, "python3"):
        report.warnings.append(f"The notebook's kernel is {kernel!r}; it is checked and graded with python3.")

    # Run it, as Restart & Run All does.
    start = time.monotonic()
    results = _run(nb, path.resolve().parent, timeout)
    report.seconds = round(time.monotonic() - start, 1)
    report.cells_run = sum(1 for r in results.values() if not r["died"])
    died = next((i for i, r in results.items() if r["died"]), None)
    if died is not None:
        log = [ln for ln in results[died].get("log", "").strip().splitlines()
               if "Kernel is running over TCP" not in ln][-3:]
        report.problem("kernel died", f"Python crashed (the kernel died) while running "
                                      f"{_describe(nb, died, parts_by_cell)}; later cells did not run."
                                      + ("\n" + "\n".join(log) if log else ""))

    # Each part's verdict.
    answer_cells = {_nbgrader(c).get("grade_id"): i for i, c in enumerate(cells) if _nbgrader(c).get("solution")}
    for part in report.parts:
        if part.cell is None:
            continue
        if part.by_hand:
            cell = cells[part.cell]
            text = cell.source.strip()
            if cell.cell_type == "markdown" and (not text or text == UNANSWERED):
                part.status, part.message = "unanswered", f'your answer still reads "{UNANSWERED}"'
                report.problem("unanswered", f"{_name(part.title)}: not answered yet.", part.grade_id)
            else:
                part.status, part.message = "answered", "graded by hand"
            continue
        stubs = [a for a in part.answers if a in answer_cells and has_stub(cells[answer_cells[a]].source)]
        run = results.get(part.cell)
        error = _error(cells[part.cell]) if run else None
        ran = [a for a in part.answers if a in answer_cells and answer_cells[a] in results]
        slow_answers = [a for a in ran if results[answer_cells[a]]["timed_out"]]
        failed_answers = [(a, _error(cells[answer_cells[a]])) for a in ran if _error(cells[answer_cells[a]])]
        if stubs:
            part.status = "todo"
            part.message = " ".join(f"`raise NotImplementedError()` is still in your {a} cell: replace it with "
                                    "your code." for a in stubs)
        elif run is None or run["died"]:
            part.status, part.message = "not run", "not run: the kernel died before this test"
        elif slow_answers or run["timed_out"]:
            part.status = "timeout"
            what = f"your {slow_answers[0]} cell" if slow_answers else "the test"
            part.message = f"{what} ran longer than {timeout:g} s and was stopped (the grader stops it too)"
        elif failed_answers:
            a, err = failed_answers[0]
            part.status = "error"
            part.message = f"your {a} cell raised an error: " + _message(
                err, _where(nb, err, parts_by_cell, own=answer_cells[a]))
        elif error:
            part.status = "fail" if error["ename"] == "AssertionError" else "error"
            where = "" if part.status == "fail" else _where(nb, error, parts_by_cell, own=part.cell)
            part.message = _message(error, where)
        else:
            part.status = "pass"
        if part.status in ("fail", "error", "timeout", "todo"):
            report.problem(part.status, f"{_name(part.title)}: {part.message}", part.grade_id)

    # Stubs and errors outside the graded parts' answer cells.
    tested = {a for p in report.parts for a in p.answers}
    for i, cell in enumerate(cells):
        if cell.cell_type != "code" or i in parts_by_cell:
            continue
        meta = _nbgrader(cell)
        gid = meta.get("grade_id")
        if gid in tested:
            continue
        where = _describe(nb, i, parts_by_cell)
        if not _is_locked(meta) and has_stub(cell.source):
            report.problem("stub", f"`raise NotImplementedError()` is still in {where}: replace it with your code.")
        elif i in results and results[i]["timed_out"]:
            report.problem("timeout", f"{where[0].upper()}{where[1:]} ran longer than {timeout:g} s and was stopped "
                                      "(the grader stops it too).")
        elif i in results and _error(cell):
            err = _error(cell)
            report.problem("error", f"{where[0].upper()}{where[1:]} raised an error: "
                                    + _message(err, _where(nb, err, parts_by_cell, own=i)))
    return report


# ---------------------------------------------------------------- what the student reads
_LABEL = {"pass": "PASS", "fail": "FAIL", "error": "ERROR", "todo": "TODO", "timeout": "TIME", "not run": "SKIP",
          "missing": "GONE", "answered": "DONE", "unanswered": "TODO"}


def _wrap(text: str, indent: str, first: str | None = None, width: int = 100) -> list[str]:
    lines = []
    for i, line in enumerate(text.splitlines()):
        lead = first if (first is not None and i == 0) else indent
        lines += textwrap.wrap(line, width, initial_indent=lead, subsequent_indent=indent,
                               break_long_words=False, break_on_hyphens=False) or [lead]
    return lines


def render(report: dict) -> str:
    """The compact summary printed for a student (from :meth:`Report.to_json`)."""
    name = Path(report["notebook"]).name
    out = [f"Checking {name}: ran it top to bottom in a fresh kernel ({report['cells_run']} code cells, "
           f"{report['seconds']:.1f} s).", ""]
    # Problems outside the parts' rows come first: a renamed file, or an imports cell that failed, matters
    # more than what follows from it (every later test then fails with a NameError).
    listed = {(p["grade_id"], p["status"]) for p in report["parts"]}
    other = [p for p in report["problems"] if (p["part"], p["kind"]) not in listed]
    if other:
        out.append("Fix these first:")
        for p in other:
            out += _wrap(p["message"], "    ", first="  - ")
        out.append("")
    for part in report["parts"]:
        how = ", graded by hand" if part["by_hand"] else ""
        # An edited test cell that passes is not a pass: the grader runs the original test (and the summary
        # below does not count it), so the row must not say PASS either.
        label = "EDIT" if part["tampered"] == "edited" and part["status"] == "pass" else _LABEL[part["status"]]
        out.append(f"  {label:<5} {part['title']} ({_points(part['points'])}{how})")
        message = part["message"] if part["status"] not in ("pass", "answered") else ""
        if part["tampered"] == "edited":
            message = (message + "\n" if message else "") + "(this test cell was edited: the grader runs the original)"
        out += _wrap(message, "        ")
    if report["warnings"]:
        out.append("")
        for w in report["warnings"]:
            out += _wrap(f"Note: {w}", "    ", first="  ")
    auto = [p for p in report["parts"] if not p["by_hand"]]
    passed = [p for p in auto if p["status"] == "pass" and p["tampered"] is None]
    hand = [p for p in report["parts"] if p["by_hand"]]
    out.append("")
    out.append(f"Visible tests pass for {len(passed)} of {len(auto)} autograded parts "
               f"({sum(p['points'] for p in passed):g} of {_points(sum(p['points'] for p in auto))}).")
    if report["ok"]:
        out.append("Hidden tests run when your work is graded: passing the visible ones is necessary, not sufficient.")
        if hand:
            names = ", ".join(_name(p["title"]) for p in hand)
            out.append(f"{names} ({_points(sum(p['points'] for p in hand))}) "
                       f"{'is' if len(hand) == 1 else 'are'} graded by hand.")
        out.append(f"Nothing found that would cost points: submit {name} as it is.")
    else:
        n = len(report["problems"])
        out.append(f"{n} problem{'s' if n != 1 else ''} would cost points: fix {'them' if n != 1 else 'it'} "
                   "and run the check again.")
    return "\n".join(out)


def main(argv: list[str] | None = None, prog: str = "python -m coursekit check") -> int:
    parser = argparse.ArgumentParser(
        prog=prog, description="Check an exercise notebook before you submit it: run it top to bottom in a fresh "
        "kernel (as Restart & Run All does), report each graded part's visible tests, and warn about what would "
        "cost points. Exit status: 0 all good, 1 something would cost points, 2 the notebook could not be checked.")
    parser.add_argument("notebook", help="the exercise notebook, e.g. weight_decay.ipynb")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="S",
                        help=f"seconds a cell may run before it is stopped (default {DEFAULT_TIMEOUT}, as at grading)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON (for tools)")
    args = parser.parse_args(argv)
    for stream in (sys.stdout, sys.stderr):  # a message with a non-ASCII character on a cp1252 console
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
    try:
        report = check(args.notebook, timeout=args.timeout)
    except CheckError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: the check did not finish", file=sys.stderr)
        return 130
    result = report.to_json()
    try:
        print(json.dumps(result, indent=1) if args.json else render(result), flush=True)
    except BrokenPipeError:  # piped into `head` or a closed pager
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0 if report.ok else 1
