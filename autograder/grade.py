"""Autograde a folder of submissions with nbgrader and export the results."""

from __future__ import annotations

import csv
import functools
import hashlib
import json
import os
import re
import shutil
import socket
from dataclasses import dataclass, field
from pathlib import Path

from .course import COURSE_ID, REPO, SOURCE, UsageError, check_assignment, nbgrader_config, prepare_environment
from .nbgrader_speedups import skip_unused_imports

skip_unused_imports()  # before anything imports nbgrader (and with it jsonschema)

# The columns of `nbgrader export` (nbgrader.plugins.export.CsvExportPlugin).
PART_COLUMNS = ["student_id", "assignment", "notebook", "part", "score", "max_score", "message", "points_by_item"]
GRADE_COLUMNS = ["assignment", "duedate", "timestamp", "student_id", "last_name", "first_name",
                 "email", "raw_score", "late_submission_penalty", "score", "max_score"]


@dataclass
class GradeReport:
    assignment: str
    graded: list[str] = field(default_factory=list)
    problems: dict[str, str] = field(default_factory=dict)  # student_id -> why it was not graded
    notes: dict[str, list[str]] = field(default_factory=dict)  # student_id -> what was odd but graded
    unchanged: list[str] = field(default_factory=list)  # skipped: graded before, files unchanged
    grades_csv: Path | None = None
    parts_csv: Path | None = None
    report_html: Path | None = None


def find_students(assignment: str, submitted: Path) -> list[str]:
    if not submitted.is_dir():
        raise UsageError(f"submissions folder not found: {submitted}")
    students = sorted(p.name for p in submitted.iterdir()
                      if p.is_dir() and (p / assignment).is_dir() and not p.name.startswith("."))
    if not students:
        raise UsageError(f"no submissions of '{assignment}' in {submitted} "
                         f"(expected {submitted}/<student_id>/{assignment}/<notebook>.ipynb)")
    return students


class GradingFailed(Exception):
    """nbgrader could not grade a submission (e.g. the gradebook was locked or down): not the student's doing.

    Such a submission gets no fingerprint, so the next run grades it again.
    """

    def __init__(self, step: str, result: dict, notes: list[str]):
        reason, self.database = _first_error_line(result)
        super().__init__(f"{step} failed: {reason}")
        self.notes = notes


def _first_error_line(result: dict) -> tuple[str, bool]:
    """The line that says why an nbgrader API call failed, and whether it was the database."""
    # A database error's own line (in the error or only in the log), not nbgrader's generic advice
    # to run `nbgrader db upgrade` or to "see the above traceback". nbgrader re-raises a failed commit
    # as InvalidEntry, so the driver's error may only show as "...: (sqlite3.OperationalError) ...".
    everything = f"{result.get('error') or ''}\n{result.get('log') or ''}".splitlines()
    database = [ln for ln in everything if "sqlalchemy.exc." in ln or "OperationalError) " in ln]
    if database:
        return "gradebook database error: " + database[-1].strip().split(": ", 1)[-1][:300], True
    text = (result.get("error") or result.get("log") or "").strip().splitlines()
    lines = [ln for ln in text if "Error" in ln or "error" in ln] or text or ["unknown error"]
    return lines[-1].strip()[:300], False


def with_busy_timeout(db_url: str, patience: float) -> str:
    """An SQLite URL whose connections wait ``patience`` s for a lock instead of pysqlite's 5 s.

    Concurrent workers each hold the write lock briefly; on a loaded machine one of them can be
    descheduled while holding it. A timeout given in the URL is kept.
    """
    if not db_url.startswith("sqlite") or re.search(r"[?&]timeout=", db_url):
        return db_url
    return f"{db_url}{'&' if '?' in db_url else '?'}timeout={patience:g}"


_GAVE_UP_ON: set[str] = set()  # databases this process waited for in vain: not waited for again until back


def wait_for_database(db_url: str, patience: float) -> bool:
    """After a database error: True once a database server answers again (within ``patience`` s).

    False at once for SQLite (its connections already waited ``patience`` for the lock), and for a
    server this process already waited for in vain: a database that stays down costs each worker
    ``patience`` once, not once per remaining submission.
    """
    import time

    if db_url.startswith("sqlite"):
        return False
    deadline = time.monotonic() + (0 if db_url in _GAVE_UP_ON else patience)
    while True:
        try:
            check_database(db_url)
            _GAVE_UP_ON.discard(db_url)
            return True
        except UsageError:
            if time.monotonic() >= deadline:
                _GAVE_UP_ON.add(db_url)
                return False
            time.sleep(1)


def grade(assignment: str, submitted: Path, out: Path, db_url: str | None = None,
          timeout: int = 60, progress: bool = True, sandbox: bool = True, workers: int | None = None,
          force: bool = False, dask: str | None = None, due: str | None = None, late_policy: str = "none",
          name_pattern: str | None = None, db_patience: float = 60) -> GradeReport:
    """Grade every submission of ``assignment`` in ``submitted`` into ``out``.

    Submissions are graded by ``workers`` processes at once (default: one per
    core), each submission in its own sandbox. A submission whose files are
    unchanged since it was last graded into ``out`` is skipped unless
    ``force``: a run that was killed picks up where it stopped. With ``dask``
    ("local" or a scheduler address such as tcp://10.0.0.5:8786) the same
    tasks run on a Dask cluster instead of a local process pool. A gradebook
    that is locked or stops answering is waited for up to ``db_patience`` s;
    a submission it still fails is not final: the next run grades it again.
    """
    import warnings

    from nbgrader.api import Gradebook
    from sqlalchemy.exc import SAWarning
    from tqdm import tqdm

    # nbgrader 0.9.6 trips SQLAlchemy 2's autoflush warnings on every autograde; they are not ours to fix.
    warnings.filterwarnings("ignore", category=SAWarning)
    notebooks = check_assignment(assignment)
    from .late import parse_policy

    try:
        parse_policy(late_policy)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if not db_patience >= 0:
        raise UsageError(f"--db-patience must be a number of seconds >= 0, not {db_patience}")
    prepare_environment()
    out = out.resolve()
    submitted = submitted.resolve()
    if submitted.is_file() or (submitted.is_dir() and not _has_nbgrader_layout(submitted, assignment)
                               and any(p.is_file() for p in submitted.iterdir())):
        submitted = collect_lms(submitted, assignment, out, name_pattern or LMS_PATTERN)
    students = find_students(assignment, submitted)

    root = out / "nbgrader"  # nbgrader's course directory: source, submitted, autograded, feedback
    out.mkdir(parents=True, exist_ok=True)
    db_url = with_busy_timeout(db_url or f"sqlite:///{out / 'gradebook.db'}", db_patience)
    check_database(db_url)

    report = GradeReport(assignment)
    rules = _rules_fingerprint(assignment, due, late_policy, timeout, sandbox)
    todo = {}  # student -> fingerprint of their files and of the rules they are graded by
    for student in students:
        fingerprint = _fingerprint(submitted / student / assignment, rules)
        if not force and fingerprint == _graded_fingerprint(root, student, assignment):
            report.unchanged.append(student)
        else:
            todo[student] = fingerprint
    if report.unchanged:  # skipped only if their grades are in this gradebook (it may be new, or another one)
        in_gradebook = _submitted_students(db_url, assignment) | set(_load_problems(root, assignment, students))
        for student in [s for s in report.unchanged if s not in in_gradebook]:
            report.unchanged.remove(student)
            todo[student] = _fingerprint(submitted / student / assignment, rules)
    settings = (str(root), assignment, notebooks, str(submitted), str(out), db_url, timeout, sandbox, late_policy,
                db_patience)
    workers = max(1, min(workers or os.cpu_count() or 1, len(todo) or 1))
    bar = tqdm(total=len(todo), desc=f"grading {assignment}", unit="submission", disable=not progress,
               postfix={"skipped": len(report.unchanged)} if report.unchanged else None)
    # Workers (and their sandboxes) start up while the course directory is prepared.
    prepare = functools.partial(_prepare_course, root, assignment, db_url, timeout, sandbox, late_policy, due)
    for student, message, notes in _run_all(todo, settings, workers, dask, prepare):
        if notes:
            report.notes[student] = notes
        if message:
            report.problems[student] = message
        else:
            report.graded.append(student)
        bar.update()
    bar.close()

    problems = _load_problems(root, assignment, students)
    from sqlalchemy.exc import SQLAlchemyError

    for attempt in (1, 2):
        try:
            with Gradebook(db_url) as gb:
                for student in problems:  # listed in grades.csv with 0, like any non-submitter
                    gb.update_or_create_student(student)
                report.grades_csv = _export(gb, assignment, out / "grades.csv")
                report.parts_csv = _write_parts(gb, root, assignment, notebooks, problems, out / "parts.csv")
            break
        except SQLAlchemyError as exc:
            if attempt == 1 and wait_for_database(db_url, db_patience):
                continue
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            raise UsageError(f"the gradebook database {_redact(db_url)} failed before grades.csv was written: "
                             f"{reason}. This run graded {len(report.graded)} submission(s) and could not grade "
                             f"{len(report.problems)}; what was graded is kept: run the same command again "
                             "to finish") from None
    (out / "run.json").write_text(json.dumps({
        "assignment": assignment, "problems": problems,
        "notes": {s: n for s in students if (n := _load_notes(root, assignment, s))}}, indent=1))
    from .report import build

    report.report_html = build(out)
    return report


def check_database(db_url: str) -> None:
    """A UsageError unless the gradebook database can be reached (nothing is graded otherwise)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    try:
        engine = create_engine(db_url)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except (SQLAlchemyError, ArgumentError, ImportError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise UsageError(f"cannot reach the gradebook database {_redact(db_url)}: {reason}") from None


def _redact(url: str) -> str:
    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", url)


def _prepare_course(root: Path, assignment: str, db_url: str, timeout: int, sandbox: bool, late_policy: str,
                    due: str | None) -> None:
    from nbgrader.api import Gradebook
    from nbgrader.apps import NbGraderAPI
    from nbgrader.utils import parse_utc

    (root / "source").mkdir(parents=True, exist_ok=True)
    shutil.rmtree(root / "source" / assignment, ignore_errors=True)
    shutil.copytree(SOURCE / assignment, root / "source" / assignment)
    # So that plain nbgrader (formgrader, generate_feedback, export) run in `root` finds the same gradebook.
    (root / "nbgrader_config.py").write_text(
        "c = get_config()  # noqa: F821  (written by `python -m autograder grade`)\n"
        f"c.CourseDirectory.root = {str(root)!r}\n"
        f"c.CourseDirectory.course_id = {COURSE_ID!r}\n"
        f"c.CourseDirectory.db_url = {db_url!r}\n"
        "import sys; sys.path.insert(0, " + repr(str(REPO)) + ")\n"
        "from autograder.course import nbgrader_config\n"
        f"c.merge(nbgrader_config(c.CourseDirectory.root, c.CourseDirectory.db_url, {timeout}, {sandbox}, "
        f"{late_policy!r}))\n")
    api = NbGraderAPI(config=nbgrader_config(root, db_url, timeout=timeout, sandbox=sandbox,
                                             late_policy=late_policy))
    # Records the assignment, its notebooks and graded cells in the gradebook.
    result = api.generate_assignment(assignment, force=True)
    if not result["success"]:
        raise RuntimeError(f"could not prepare '{assignment}': {_first_error_line(result)[0]}")
    if due:
        try:
            duedate = parse_utc(due)
        except Exception:
            raise UsageError(f"cannot read the due date {due!r}; use e.g. '2026-11-20 23:59:00 UTC'") from None
        with Gradebook(db_url) as gb:
            gb.update_or_create_assignment(assignment, duedate=duedate)


# A learning-management-system download: <student>_[LATE_][<number>_...]<notebook>.ipynb
# (Canvas names files like this). nbgrader's zip_collect matches the regexp against the path
# under its extracted/ folder, so patterns start with (?:.*/)? to allow sub-folders of a zip.
LMS_PATTERN = r"^(?:.*/)?(?P<student_id>[^_/]+)_(?:LATE_)?(?:\d+_)*(?P<file_id>[^_/][^/]*\.ipynb)$"


def _has_nbgrader_layout(folder: Path, assignment: str) -> bool:
    return any((p / assignment).is_dir() for p in folder.iterdir() if p.is_dir())


def collect_lms(source: Path, assignment: str, out: Path, pattern: str) -> Path:
    """Turn a zip or a flat folder from an LMS into nbgrader's layout with nbgrader's own zip_collect.

    Returns the folder <student_id>/<assignment>/<notebook>.ipynb it wrote (with timestamp.txt when
    the file names carry a timestamp).
    """
    from nbgrader.apps import NbGraderAPI  # noqa: F401  (nbgrader's apps must be importable)
    from nbgrader.apps.zipcollectapp import ZipCollectApp
    from traitlets.config import Config

    intake = out / "intake"
    archive = intake / "downloaded" / assignment / "archive"
    shutil.rmtree(intake, ignore_errors=True)
    archive.mkdir(parents=True)
    if source.is_file():
        if source.suffix.lower() != ".zip":
            raise UsageError(f"{source} is neither a folder nor a .zip archive")
        shutil.copyfile(source, archive / source.name)
    else:
        for path in source.iterdir():
            if path.is_file():
                shutil.copyfile(path, archive / path.name)
    c = Config()
    c.CourseDirectory.root = str(intake)
    c.CourseDirectory.assignment_id = assignment
    c.FileNameCollectorPlugin.named_regexp = pattern
    c.FileNameCollectorPlugin.valid_ext = [".ipynb", ".txt", ".py", ".csv", ".json"]
    c.ZipCollectApp.log_level = "WARN"  # per-file INFO lines would drown the real warnings
    app = ZipCollectApp(config=c)
    app.initialize([])
    try:
        app.start()
    except Exception as exc:
        raise UsageError(f"could not collect the LMS download {source}: {exc}") from None
    collected = intake / "submitted"
    if not collected.is_dir() or not any(collected.iterdir()):
        raise UsageError(f"no file in {source} matches the name pattern {pattern!r} "
                         "(set --name-pattern, with groups student_id and file_id)")
    return collected


def _fingerprint(folder: Path, rules: str = "") -> str:
    """Names and contents of every file in ``folder``, and ``rules``."""
    digest = hashlib.sha256(rules.encode() + b"\0")
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _rules_fingerprint(assignment: str, due: str | None, late_policy: str, timeout: int, sandbox: bool) -> str:
    """What else decides a grade: the exercise source, the hidden tests and the options.

    A rerun with a new due date, late policy or a fixed test regrades every submission,
    instead of keeping grades made under the old rules.
    """
    digest = hashlib.sha256(json.dumps([due, late_policy, timeout, sandbox]).encode())
    for path in sorted(SOURCE.glob(f"{assignment}/*.ipynb")) + sorted((REPO / "autograder" / "hidden").glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _state_dir(root: Path, student: str, assignment: str) -> Path:
    return root / "state" / student / assignment


def _submitted_students(db_url: str, assignment: str) -> set[str]:
    """Students with a graded submission of ``assignment`` in the gradebook (none if it is new)."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url) as gb:
        return {sub.student_id for sub in gb.assignment_submissions(assignment)}


def _graded_fingerprint(root: Path, student: str, assignment: str) -> str | None:
    path = _state_dir(root, student, assignment) / "fingerprint"
    return path.read_text() if path.is_file() else None


def _load_problems(root: Path, assignment: str, students: list[str]) -> dict[str, str]:
    found = {}
    for s in students:
        path = _state_dir(root, s, assignment) / "outcome.json"
        if path.is_file() and (problem := json.loads(path.read_text()).get("problem")):
            found[s] = problem
    return found


def _load_notes(root: Path, assignment: str, student: str) -> list[str]:
    path = _state_dir(root, student, assignment) / "outcome.json"
    return json.loads(path.read_text()).get("notes", []) if path.is_file() else []


# One NbGraderAPI per worker process, made once.
_API = None


def _worker_init(root: str, db_url: str, timeout: int, sandbox: bool, late_policy: str,
                 assignment: str | None = None) -> None:
    global _API
    import warnings

    if sandbox:  # the sandboxed fork server warms up while this process imports nbgrader
        from .sandbox import Limits
        from .verdicts import fork_server

        fork_server(Limits()).launch()
    from nbgrader.apps import NbGraderAPI
    from sqlalchemy.exc import SAWarning

    from .nbgrader_speedups import install

    warnings.filterwarnings("ignore", category=SAWarning)
    # nbgrader logs each database error with its traceback to tornado's logger, i.e. straight to the
    # terminal; the error's own line reaches the instructor in the submission's problem message.
    import logging

    logging.getLogger("tornado.application").addHandler(logging.NullHandler())
    logging.getLogger("tornado.application").propagate = False
    prepare_environment()
    install()
    _API = NbGraderAPI(config=nbgrader_config(Path(root), db_url, timeout=timeout, sandbox=sandbox,
                                              late_policy=late_policy))
    if assignment:  # its hidden tests import torch and the reference solutions
        from .verdicts import parts_of

        parts_of(assignment)


def _started(_):
    return os.getpid()


def grade_task(student: str, fingerprint: str, root: str, assignment: str, notebooks: list[str], submitted: str,
               out: str, db_url: str, timeout: int, sandbox: bool, late_policy: str, db_patience: float = 60):
    """Grade one student (in a worker process); records the outcome, then ``fingerprint``, last."""
    if _API is None:
        _worker_init(root, db_url, timeout, sandbox, late_policy)
    root_p, sub_p = Path(root), Path(submitted)
    settled = True  # False: the next run grades this student again
    for attempt in (1, 2, 3):  # a database server that went away and came back: grade again
        try:
            message, notes = _grade_one(_API, root_p, assignment, notebooks, sub_p, student, Path(out))
        except GradingFailed as exc:
            if exc.database and attempt < 3 and wait_for_database(db_url, db_patience):
                continue
            message, notes, settled = str(exc), exc.notes, False
        except Exception as exc:  # one broken submission never stops the batch
            message, notes, settled = f"grading failed: {type(exc).__name__}: {exc}", [], False
        break
    if not settled:
        message += " (not final: the next run grades it again)"
    state = _state_dir(root_p, student, assignment)
    state.mkdir(parents=True, exist_ok=True)
    # graded_by: which machine and process graded it (a cluster's instructor may need to know).
    (state / "outcome.json").write_text(json.dumps({"problem": message, "notes": notes,
                                                    "graded_by": f"{socket.gethostname()}:{os.getpid()}"}))
    if settled:
        (state / "fingerprint").write_text(fingerprint)  # written last: a killed run regrades this student
    else:
        (state / "fingerprint").unlink(missing_ok=True)
    return student, message, notes


def _run_on_dask(todo: dict[str, str], args: tuple, workers: int, address: str):
    """The same grading tasks on Dask distributed: a LocalCluster, or the scheduler at ``address``.

    Every worker must see the course directory and the submissions at the same paths (a shared
    filesystem) and reach the gradebook (PostgreSQL when the workers are on several machines).
    """
    from dask.distributed import Client, LocalCluster, as_completed

    if address == "local":
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=50)
        client = Client(cluster)
    else:
        cluster, client = None, Client(address, timeout="30s")
    try:
        # pure=False: a regrade must run again, not come from Dask's cache.
        futures = {client.submit(grade_task, s, fingerprint, *args, pure=False,
                                 key=f"grade-{args[1]}-{s}-{os.getpid()}"): s for s, fingerprint in todo.items()}
        for future in as_completed(futures):
            try:
                yield future.result()
            except Exception as exc:  # a worker died or lost the task: report, keep going
                yield futures[future], f"grading failed on the cluster: {type(exc).__name__}: {exc}", []
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _run_all(todo: dict[str, str], args: tuple, workers: int, dask: str | None = None, prepare=None):
    """Yield (student, problem, notes) as submissions finish, graded by ``workers`` processes.

    ``todo`` maps each student to the fingerprint recorded once they are graded; ``args`` are the
    rest of grade_task's arguments. ``prepare()`` runs once the workers are starting, before any
    submission is graded.
    """
    root, assignment, notebooks, submitted, out, db_url, timeout, sandbox, late_policy, _ = args
    prepare = prepare or (lambda: None)
    if dask:
        prepare()
        yield from _run_on_dask(todo, args, workers, dask)
        return
    if workers == 1:
        if sandbox and todo:
            from .sandbox import Limits
            from .verdicts import fork_server

            fork_server(Limits()).launch()
        prepare()
        for student, fingerprint in todo.items():
            yield grade_task(student, fingerprint, *args)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # spawn: workers start clean (no inherited torch threads or database connections).
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                             initializer=_worker_init, initargs=(root, db_url, timeout, sandbox,
                                                                 late_policy, assignment)) as pool:
        for i in range(workers):  # start every worker now; each imports and warms up in its initializer
            pool.submit(_started, i)
        prepare()
        futures = {pool.submit(grade_task, s, fingerprint, *args): s for s, fingerprint in todo.items()}
        for future in as_completed(futures):
            try:
                yield future.result()
            except Exception as exc:  # the worker itself died: report, keep going
                yield futures[future], f"grading failed: {type(exc).__name__}: {exc}", []


def _read_notebook(path: Path):
    """The notebook, or a one-line reason why it cannot be graded."""
    import nbformat

    try:
        return nbformat.read(path, as_version=4), None
    except UnicodeDecodeError:
        return None, f"{path.name} is not UTF-8 text"
    except Exception as exc:  # invalid JSON, not a notebook, wrong schema
        return None, f"{path.name} is not a valid notebook ({type(exc).__name__})"


@functools.lru_cache(maxsize=None)
def _source_cells(assignment: str, notebook: str) -> tuple[dict, ...]:
    """nbgrader metadata of each cell of the exercise's source, read once per grading process."""
    import nbformat

    source = nbformat.read(SOURCE / assignment / f"{notebook}.ipynb", as_version=4)
    return tuple(c.metadata.get("nbgrader", {}) for c in source.cells)


def _graded_ids(assignment: str, notebook: str) -> set[str]:
    """grade_ids of the exercise's graded cells: its test cells and written answers."""
    return {meta["grade_id"] for meta in _source_cells(assignment, notebook) if meta.get("grade")}


def renamed_notebooks(src: Path, assignment: str, notebooks: list[str]) -> dict[str, Path]:
    """{expected notebook: file} for a download that renamed the one notebook of a submission.

    Browsers and LMSs save "weight_decay (1).ipynb" or "weight_decay-Copy1.ipynb". When exactly one expected
    notebook is missing, exactly one other notebook was submitted, and that one carries every graded cell id of
    the missing one, it is the student's work under another name.
    """
    missing = [nb for nb in notebooks if not (src / f"{nb}.ipynb").is_file()]
    others = sorted(p for p in src.glob("*.ipynb") if p.stem not in notebooks)
    if len(missing) != 1 or len(others) != 1:
        return {}
    parsed, why = _read_notebook(others[0])
    if why:
        return {}
    ids = {c.metadata.get("nbgrader", {}).get("grade_id") for c in parsed.cells}
    return {missing[0]: others[0]} if _graded_ids(assignment, missing[0]) <= ids else {}


def tamper_notes(nb, assignment: str, notebook: str) -> list[str]:
    """What a student changed that they should not have: noted, then undone by nbgrader before grading."""
    from nbgrader.utils import compute_checksum

    tests = [meta["grade_id"] for meta in _source_cells(assignment, notebook)
             if meta.get("grade") and not meta.get("solution")]
    cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in nb.cells}
    notes = []
    for gid in tests:
        cell = cells.get(gid)
        if cell is None:
            notes.append(f"test cell {gid} was deleted or its metadata stripped (restored for grading)")
        elif cell.cell_type != "code":
            notes.append(f"test cell {gid} was changed to {cell.cell_type} (restored for grading)")
        elif cell.metadata["nbgrader"].get("checksum") != compute_checksum(cell):
            notes.append(f"test cell {gid} was edited (restored for grading)")
    kernel = nb.metadata.get("kernelspec", {}).get("name")
    if kernel not in (None, "python3"):
        notes.append(f"the kernel was changed to {kernel!r} (graded with python3)")
    return notes


def _grade_one(api, root: Path, assignment: str, notebooks: list[str], submitted: Path,
               student: str, out: Path) -> tuple[str | None, list[str]]:
    """Grade one student: (a problem that stopped grading, or None; notes on what was odd)."""
    src = submitted / student / assignment
    renamed = renamed_notebooks(src, assignment, notebooks) if src.is_dir() else {}
    files = {nb: src / f"{nb}.ipynb" for nb in notebooks if (src / f"{nb}.ipynb").is_file()} | renamed
    present = [nb for nb in notebooks if nb in files]
    notes = [f"graded {path.name} as {nb}.ipynb: the file was renamed (keep the notebook's name next time)"
             for nb, path in renamed.items()]
    extra = sorted(p.name for p in src.glob("*.ipynb") if p.stem not in notebooks and p not in renamed.values())
    if not present:
        expected = ", ".join(f"{nb}.ipynb" for nb in notebooks)
        found = ", ".join(sorted(p.name for p in src.iterdir())) or "nothing"
        return f"empty submission: expected {expected}, found {found}", notes
    if extra:
        notes.append("extra notebook(s) not graded: " + ", ".join(extra))
    readable = []
    for nb in present:
        parsed, why = _read_notebook(files[nb])
        if why:
            notes.append(f"{why}: 0 points for it")
        else:
            readable.append(nb)
            notes += tamper_notes(parsed, assignment, nb)
    missing = [nb for nb in notebooks if nb not in present]
    if missing:
        notes.append("missing notebook(s): " + ", ".join(f"{nb}.ipynb" for nb in missing))
    if not readable:
        return "; ".join(notes), []
    dest = root / "submitted" / student / assignment
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    for path in src.iterdir():  # only what can be graded: unreadable notebooks would stop nbgrader
        if path.is_file() and path.suffix != ".ipynb":
            shutil.copyfile(path, dest / path.name)
    for nb in readable:  # under the name nbgrader expects (a renamed download gets its name back)
        shutil.copyfile(files[nb], dest / f"{nb}.ipynb")

    result = api.autograde(assignment, student, force=True, create=True)
    if not result["success"]:
        raise GradingFailed("autograde", result, notes)
    result = api.generate_feedback(assignment, student, force=True)
    if not result["success"]:
        raise GradingFailed("feedback", result, notes)
    for nb in readable:
        html = root / "feedback" / student / assignment / f"{nb}.html"
        target = out / "feedback" / student / assignment / f"{nb}.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(html, target)
    return None, notes


def part_messages(root: Path, student: str, assignment: str, notebook: str) -> dict[str, str]:
    """grade_id -> the message its test cell shows in the autograded notebook."""
    import nbformat

    path = root / "autograded" / student / assignment / f"{notebook}.ipynb"
    if not path.is_file():
        return {}
    messages = {}
    for cell in nbformat.read(path, as_version=4).cells:
        meta = cell.metadata.get("nbgrader", {})
        if not meta.get("grade"):
            continue
        if cell.cell_type == "markdown":
            messages[meta["grade_id"]] = "written answer: graded by hand"
            continue
        texts = [o.get("evalue") or o.get("text", "") for o in cell.get("outputs", [])]
        messages[meta["grade_id"]] = " ".join(t.strip() for t in texts if t).strip()
    return messages


def _write_parts(gb, root: Path, assignment: str, notebooks: list[str], problems: dict, path: Path) -> Path:
    """parts.csv: one row per student x graded part, with the message the student sees."""
    from nbgrader.api import MissingEntry

    from .verdicts import parts_of

    credits = {gid: part.credit for gid, part in parts_of(assignment).items()}
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(PART_COLUMNS)
        cells = {nb: sorted(gb.find_notebook(nb, assignment).grade_cells, key=lambda c: c.name) for nb in notebooks}
        for student in sorted(s.id for s in gb.students):
            for nb in notebooks:
                messages = part_messages(root, student, assignment, nb)
                for cell in cells[nb]:
                    try:
                        grade = gb.find_grade(cell.name, nb, assignment, student)
                        score = grade.score
                        pending = grade.needs_manual_grade and grade.auto_score is None
                    except MissingEntry:
                        score, pending = 0.0, False
                    message = problems.get(student) or messages.get(cell.name, "not submitted")
                    if pending:
                        message = "written answer: waiting for manual grading"
                    items = "" if pending else points_by_item(credits.get(cell.name), score, cell.max_score, message)
                    writer.writerow([student, assignment, nb, cell.name, "" if pending else score,
                                     cell.max_score, message, items])
    return path


def points_by_item(credits, score, max_score, message: str) -> str:
    """"label earned/points; ..." for a part with partial credit ("" for others): all earned at full marks, the
    test cell's "Points:" line when partly right, none otherwise."""
    if not credits:
        return ""
    earned = {c.label: 0.0 for c in credits}
    if score is not None and float(score) >= float(max_score):
        earned = {c.label: c.points for c in credits}
    elif "Points: " in message:
        line = message.split("Points: ", 1)[1].split("\n", 1)[0]
        for c in credits:
            hit = re.search(r"(?:\(|· )" + re.escape(c.label) + r" ✔ ", line)
            earned[c.label] = c.points if hit else 0.0
    return "; ".join(f"{c.label} {earned[c.label]:g}/{c.points:g}" for c in credits)


def _export(gb, assignment: str, path: Path) -> Path:
    """grades.csv with `nbgrader export`'s columns, written with proper CSV quoting."""
    from nbgrader.api import MissingEntry

    a = gb.find_assignment(assignment)
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=GRADE_COLUMNS)
        writer.writeheader()
        # By id, as parts.csv is: nbgrader orders by name, and PostgreSQL returns students without names
        # in the order parallel workers happened to add them.
        for student in sorted(gb.students, key=lambda s: s.id):
            row = {"assignment": a.name, "duedate": a.duedate or "", "student_id": student.id,
                   "last_name": student.last_name or "", "first_name": student.first_name or "",
                   "email": student.email or "", "max_score": a.max_score}
            try:
                sub = gb.find_submission(assignment, student.id)
            except MissingEntry:
                row.update(timestamp="", raw_score=0.0, late_submission_penalty=0.0, score=0.0)
            else:
                penalty = sub.late_submission_penalty or 0.0
                row.update(timestamp=sub.timestamp or "", raw_score=sub.score,
                           late_submission_penalty=penalty, score=max(0.0, sub.score - penalty))
            writer.writerow(row)
    return path
