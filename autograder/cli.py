"""Command line: ``python -m autograder {release,grade,export} ...``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .course import UsageError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    rel = sub.add_parser("release", help="write the student notebooks")
    rel.add_argument("--out", required=True, type=Path, help="folder for <assignment>/<notebook>.ipynb")
    rel.add_argument("assignments", nargs="*", help="only these assignments (default: all)")
    rel.add_argument("--solutions", action="store_true",
                     help="write the solution notebooks instead, for handing out after grading")

    ex = sub.add_parser("export", help="one CSV for the whole course: a row per student, a column per assignment")
    src = ex.add_mutually_exclusive_group(required=True)
    src.add_argument("--results", type=Path, nargs="+",
                     help="the --out folders of grade (SQLite gradebooks), or a folder holding them")
    src.add_argument("--db", help="one shared gradebook URL holding every assignment (e.g. PostgreSQL)")
    ex.add_argument("--out", required=True, type=Path, help="the CSV to write")
    ex.add_argument("--canvas", action="store_true", help="Canvas's gradebook import format")

    gr = sub.add_parser("grade", help="autograde submissions, write feedback and grades.csv")
    gr.add_argument("assignment", help="assignment name, e.g. ch02_weight_decay")
    gr.add_argument("submitted", type=Path,
                    help="folder laid out as <student_id>/<assignment>/<notebook>.ipynb, or an LMS download: "
                         "a .zip or a flat folder of files named <student_id>_..._<notebook>.ipynb")
    gr.add_argument("--name-pattern", default=None,
                    help="regexp for LMS file names, with groups student_id and file_id and optionally "
                         "timestamp (nbgrader zip_collect's convention)")
    gr.add_argument("--due", default=None, help="due date, e.g. '2026-11-20 23:59:00 UTC'")
    gr.add_argument("--extensions", type=Path, default=None,
                    help="CSV with columns student_id and due: those students' own due dates (needs --due)")
    gr.add_argument("--late-policy", default="none",
                    help="none (flag only, default) | zero | per-day:F (lose fraction F per started day)")
    gr.add_argument("--out", required=True, type=Path, help="results folder (gradebook, feedback, grades.csv)")
    gr.add_argument("--db", default=None, help="gradebook URL (default: sqlite:///OUT/gradebook.db)")
    gr.add_argument("--db-patience", type=float, default=60, metavar="S",
                    help="seconds to wait for a gradebook that is locked or stops answering before giving up on "
                         "a submission, which the next run then grades again (default 60)")
    gr.add_argument("--timeout", type=int, default=60, help="seconds a single cell may run (default 60)")
    gr.add_argument("--no-sandbox", action="store_true",
                    help="run student code WITHOUT the bubblewrap sandbox (only where it cannot work; "
                         "student code then runs with your permissions)")
    gr.add_argument("--workers", type=int, default=None,
                    help="submissions graded at once, each in its own process (default: one per core, at most one per "
                         "40 submissions)")
    gr.add_argument("--dask", nargs="?", const="local", default=None, metavar="SCHEDULER",
                    help="run the grading tasks on Dask distributed: a local cluster of --workers processes, "
                         "or the scheduler at SCHEDULER (e.g. tcp://10.0.0.5:8786)")
    gr.add_argument("--force", action="store_true",
                    help="regrade every submission, even those unchanged since they were graded into OUT")
    gr.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    gr.add_argument("--verbose", action="store_true",
                    help="also show nbgrader's own log (always written to OUT/nbgrader.log)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "release":
            from .release import release, release_solutions

            if args.solutions:
                print("warning: these are the solutions: hand them out only after every submission is graded",
                      file=sys.stderr)
            for path in (release_solutions if args.solutions else release)(args.out, args.assignments or None):
                print(path)
            return 0
        if args.command == "export":
            from .export import gradebook_urls, write_course
            from .gradebook import check_database

            urls = gradebook_urls(args.results) if args.results else [args.db]
            for url in urls:
                check_database(url)
            print(write_course(args.out, urls, canvas=args.canvas))
            return 0
        from .grade import grade
        from .sandbox import SandboxUnavailable, check_available

        if args.no_sandbox:
            print("WARNING: --no-sandbox: student code runs unisolated, with your permissions.", file=sys.stderr)
        else:
            try:
                check_available()
            except SandboxUnavailable as exc:
                raise UsageError(f"cannot sandbox student code: {exc}. Refusing to grade; pass --no-sandbox "
                                 "to grade without isolation") from None
        report = grade(args.assignment, args.submitted, args.out, db_url=args.db, timeout=args.timeout,
                       progress=not args.no_progress, sandbox=not args.no_sandbox, workers=args.workers,
                       force=args.force, dask=args.dask, due=args.due, late_policy=args.late_policy,
                       name_pattern=args.name_pattern, db_patience=args.db_patience, extensions=args.extensions,
                       verbose=args.verbose)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for name in report.uncollected:
        print(f"{name}: not graded: its name does not match the LMS name pattern (see --name-pattern)")
    for student, message in sorted(report.problems.items()):
        print(f"{student}: {message}")
    for student, notes in sorted(report.notes.items()):
        for note in notes:
            print(f"{student}: note: {note}")
    skipped = f", {len(report.unchanged)} unchanged and skipped" if report.unchanged else ""
    if report.refreshed:
        skipped += f" ({len(report.refreshed)} with feedback updated from formgrader)"
    print(f"graded {len(report.graded)} submission(s), {len(report.problems)} with problems{skipped}; "
          f"grades: {report.grades_csv}; parts: {report.parts_csv}; report: {report.report_html}")
    return 0
