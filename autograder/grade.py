"""Autograde a folder of submissions with nbgrader and export the results.

The steps live in their own modules: ``intake`` (LMS downloads, renamed and tampered notebooks), ``resume``
(fingerprints for reruns), ``dispatch`` (process pool or Dask), ``gradebook`` (the database) and ``export``
(grades.csv, parts.csv).
"""

from __future__ import annotations

import functools
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from .course import COURSE_ID, REPO, SOURCE, UsageError, check_assignment, nbgrader_config, prepare_environment
from .nbgrader_speedups import skip_unused_imports

skip_unused_imports()  # before anything imports nbgrader (and with it jsonschema)

from .dispatch import run_all  # noqa: E402
from .export import write_grades, write_parts  # noqa: E402
from .gradebook import check_database, first_error_line, redact, submitted_students, wait_for_database, with_busy_timeout  # noqa: E402,E501
from .intake import LMS_PATTERN, collect_lms, find_students, has_nbgrader_layout, uncollected_files  # noqa: E402
from .resume import files_fingerprint, graded_fingerprint, load_notes, load_problems, rules_fingerprint  # noqa: E402


@dataclass
class GradeReport:
    assignment: str
    graded: list[str] = field(default_factory=list)
    problems: dict[str, str] = field(default_factory=dict)  # student_id -> why it was not graded
    notes: dict[str, list[str]] = field(default_factory=dict)  # student_id -> what was odd but graded
    unchanged: list[str] = field(default_factory=list)  # skipped: graded before, files unchanged
    refreshed: list[str] = field(default_factory=list)  # of those, feedback remade with grades from formgrader
    uncollected: list[str] = field(default_factory=list)  # LMS files whose names do not match the pattern
    grades_csv: Path | None = None
    parts_csv: Path | None = None
    report_html: Path | None = None


def grade(assignment: str, submitted: Path, out: Path, db_url: str | None = None,
          timeout: int = 60, progress: bool = True, sandbox: bool = True, workers: int | None = None,
          force: bool = False, dask: str | None = None, due: str | None = None, late_policy: str = "none",
          name_pattern: str | None = None, db_patience: float = 60,
          extensions: Path | None = None, verbose: bool = False) -> GradeReport:
    """Grade every submission of ``assignment`` in ``submitted`` into ``out``.

    Submissions are graded by ``workers`` processes at once (default: one per
    core), each submission in its own sandbox. A submission whose files are
    unchanged since it was last graded into ``out`` is skipped unless
    ``force``: a run that was killed picks up where it stopped. With ``dask``
    ("local" or a scheduler address such as tcp://10.0.0.5:8786) the same
    tasks run on a Dask cluster instead of a local process pool. A gradebook
    that is locked or stops answering is waited for up to ``db_patience`` s;
    a submission it still fails is not final: the next run grades it again.
    ``extensions`` is a CSV of student_id and due: those students' own due dates.
    """
    import warnings

    from nbgrader.api import Gradebook
    from sqlalchemy.exc import SAWarning
    from tqdm import tqdm

    # nbgrader 0.9.6 trips SQLAlchemy 2's autoflush warnings on every autograde; they are not ours to fix.
    warnings.filterwarnings("ignore", category=SAWarning)
    notebooks = check_assignment(assignment)
    from .late import lms_late_students, parse_policy, read_extensions, submission_times

    try:
        parse_policy(late_policy)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if due:
        from nbgrader.utils import parse_utc

        try:
            parse_utc(due)
        except Exception:
            raise UsageError(f"cannot read the due date {due!r}; use e.g. '2026-11-20 23:59:00 UTC'") from None
    own_due = read_extensions(extensions, due)
    if not db_patience >= 0:
        raise UsageError(f"--db-patience must be a number of seconds >= 0, not {db_patience}")
    prepare_environment()
    out = out.resolve()
    submitted = submitted.resolve()
    lms = submitted.is_file() or (submitted.is_dir() and not has_nbgrader_layout(submitted, assignment)
                                  and any(p.is_file() for p in submitted.iterdir()))
    if lms:
        out.mkdir(parents=True, exist_ok=True)
        submitted = collect_lms(submitted, assignment, out, name_pattern or LMS_PATTERN, verbose)
        report_uncollected = uncollected_files(out, assignment, name_pattern or LMS_PATTERN)
    else:
        report_uncollected = []
    students = find_students(assignment, submitted)
    # When each student submitted: timestamp.txt, the LMS's late marker, or unknown (said, never silent).
    late_marked = lms_late_students(out / "intake" / "downloaded" / assignment / "extracted") if lms else set()
    time_notes = submission_times(submitted, assignment, students, due, late_marked,
                                  lms_marks_lateness=lms and not name_pattern)
    for student in sorted(set(own_due) - set(students)):
        time_notes.setdefault(student, []).append("has an extension but no submission")

    root = out / "nbgrader"  # nbgrader's course directory: source, submitted, autograded, feedback
    out.mkdir(parents=True, exist_ok=True)
    db_url = with_busy_timeout(db_url or f"sqlite:///{out / 'gradebook.db'}", db_patience)
    check_database(db_url)

    report = GradeReport(assignment, uncollected=report_uncollected)
    rules = rules_fingerprint(assignment, due, late_policy, timeout, sandbox)
    todo = {}  # student -> fingerprint of their files and of the rules they are graded by
    for student in students:
        fingerprint = files_fingerprint(submitted / student / assignment, rules + own_due.get(student, ""))
        if not force and fingerprint == graded_fingerprint(root, student, assignment):
            report.unchanged.append(student)
        else:
            todo[student] = fingerprint
    if report.unchanged:  # skipped only if their grades are in this gradebook (it may be new, or another one)
        in_gradebook = submitted_students(db_url, assignment) | set(load_problems(root, assignment, students))
        for student in [s for s in report.unchanged if s not in in_gradebook]:
            report.unchanged.remove(student)
            todo[student] = files_fingerprint(submitted / student / assignment, rules + own_due.get(student, ""))
    settings = (str(root), assignment, notebooks, str(submitted), str(out), db_url, timeout, sandbox, late_policy,
                db_patience)
    workers = max(1, min(workers or default_workers(len(todo), dask), len(todo) or 1))
    bar = tqdm(total=len(todo), desc=f"grading {assignment}", unit="submission", disable=not progress,
               postfix={"skipped": len(report.unchanged)} if report.unchanged else None)
    # Workers (and their sandboxes) start up while the course directory is prepared.
    prepare = functools.partial(_prepare_course, root, assignment, db_url, timeout, sandbox, late_policy, due,
                                own_due)
    for student, notes in time_notes.items():
        report.notes[student] = list(notes)
    for student, message, notes in run_all(todo, settings, workers, dask, prepare):
        notes = time_notes.get(student, []) + list(notes or [])
        if notes:
            report.notes[student] = notes
        if message:
            report.problems[student] = message
        else:
            report.graded.append(student)
        bar.update()
    bar.close()
    # Grades given in formgrader since the last run reach the feedback pages handed out.
    report.refreshed = refresh_feedback(root, out, assignment, notebooks, report.unchanged, db_url, timeout,
                                        sandbox, late_policy)

    problems = load_problems(root, assignment, students)
    from sqlalchemy.exc import SQLAlchemyError

    for attempt in (1, 2):
        try:
            with Gradebook(db_url) as gb:
                for student in problems:  # listed in grades.csv with 0, like any non-submitter
                    gb.update_or_create_student(student)
                report.grades_csv = write_grades(gb, assignment, out / "grades.csv")
                report.parts_csv = write_parts(gb, root, assignment, notebooks, problems, out / "parts.csv")
            break
        except SQLAlchemyError as exc:
            if attempt == 1 and wait_for_database(db_url, db_patience):
                continue
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            raise UsageError(f"the gradebook database {redact(db_url)} failed before grades.csv was written: "
                             f"{reason}. This run graded {len(report.graded)} submission(s) and could not grade "
                             f"{len(report.problems)}; what was graded is kept: run the same command again "
                             "to finish") from None
    (out / "run.json").write_text(json.dumps({
        "assignment": assignment, "problems": problems,
        "notes": {s: n for s in sorted(set(students) | set(time_notes))
                  if (n := time_notes.get(s, []) + load_notes(root, assignment, s))},
        "extensions": own_due}, indent=1))
    from .report import build

    report.report_html = build(out)
    return report


# A worker's start (nbgrader and torch imported, its sandbox warmed up, the hidden tests' references computed) takes
# a core for several seconds, beside the main process preparing the course: on a 2-core machine a second worker
# made a batch of 24 slower (x1.22) and broke even at 48 (bench/README.md, "Workers for a small batch").
SUBMISSIONS_PER_WORKER = 40


def default_workers(submissions: int, dask: str | None = None) -> int:
    """Workers when --workers is not given: one per core, but one per SUBMISSIONS_PER_WORKER submissions at most
    on this machine (a Dask cluster's workers are started anyway: one per core there)."""
    cores = os.cpu_count() or 1
    if dask:
        return cores
    return max(1, min(cores, -(-submissions // SUBMISSIONS_PER_WORKER)))


def _prepare_course(root: Path, assignment: str, db_url: str, timeout: int, sandbox: bool, late_policy: str,
                    due: str | None, own_due: dict[str, str] | None = None) -> None:
    from nbgrader.api import Gradebook
    from nbgrader.apps import NbGraderAPI
    from nbgrader.utils import parse_utc

    from .nbgrader_speedups import install

    install()  # in this process too: a new gradebook is set up here
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
        raise RuntimeError(f"could not prepare '{assignment}': {first_error_line(result)[0]}")
    if due:
        try:
            duedate = parse_utc(due)
        except Exception:
            raise UsageError(f"cannot read the due date {due!r}; use e.g. '2026-11-20 23:59:00 UTC'") from None
        from .late import apply_extensions

        with Gradebook(db_url) as gb:
            gb.update_or_create_assignment(assignment, duedate=duedate)
            apply_extensions(gb, assignment, due, own_due or {})


def refresh_feedback(root: Path, out: Path, assignment: str, notebooks: list[str], students: list[str], db_url: str,
                     timeout: int, sandbox: bool, late_policy: str) -> list[str]:
    """Remake the feedback pages of the skipped students a human graded or commented on in formgrader, so that
    ``out/feedback`` always shows the gradebook as it is. Returns those students."""
    from nbgrader.api import Gradebook
    from nbgrader.apps import NbGraderAPI

    from .dispatch import publish_feedback
    from .manual import has_human_grades, reapply_late_penalty

    from sqlalchemy.exc import SQLAlchemyError

    try:
        with Gradebook(db_url) as gb:
            graded_by_hand = [s for s in students if has_human_grades(gb, assignment, s)]
            for student in graded_by_hand:
                reapply_late_penalty(gb, assignment, student, late_policy)
    except SQLAlchemyError:  # the database is down: writing grades.csv next says so, in one line
        return []
    if not graded_by_hand:
        return []
    api = NbGraderAPI(config=nbgrader_config(root, db_url, timeout=timeout, sandbox=sandbox, late_policy=late_policy))
    done = []
    for student in graded_by_hand:
        try:
            publish_feedback(api, root, out, assignment, student, notebooks)
            done.append(student)
        except Exception as exc:  # one student's page never stops the others
            import sys

            print(f"{student}: feedback not updated: {exc}", file=sys.stderr)
    return done
