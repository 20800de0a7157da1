"""Benchmarks for the course engine, in one run on this machine.

    python bench/bench_course.py [--json bench/results/course.json] [--batch N]

Measures
  1. a clean book build (empty jupyter-cache) and a no-change rebuild;
  2. the run time of each solution notebook (nbclient, fresh kernel);
  3. wall time per graded submission through `python -m autograder grade`
     (1 and 2 workers, on a local process pool and on a local Dask cluster)
     against plain `nbgrader autograde` on the same submissions in the same
     run (the anchor), reported as throughput ratios per assignment and for
     the whole course. The anchor is a plain nbgrader course whose hidden
     tests make the same checks in the student's kernel (anchor_hidden.py);
     every run's per-student scores are compared with the anchor's. The
     batch cycles through the solution, the blank student copy, every buggy
     and correct variant of the test corpus, and a broken file.

The machine is shared and noisy: compare the ratios, not the seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "bench"))

from autograder.course import SOURCE, assignments, prepare_environment  # noqa: E402

BIN = Path(sys.executable).parent


def timed(cmd, **kwargs) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, **kwargs)
    return time.perf_counter() - start


def bench_book(tmp: Path) -> dict:
    """Build a copy of the book twice, as `make site` does: from nothing, then with nothing changed.

    Also the serial anchor: the same clean build with myst-nb executing the pages one after another (no
    ``_ext/execute_pages.py``), in a second copy, so the parallel pre-execution is reported as a ratio.
    """
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    times = {}
    for name, parallel in (("clean_build_s", True), ("clean_build_serial_s", False)):
        copy = tmp / f"book-{name}"
        shutil.copytree(REPO, copy, ignore=shutil.ignore_patterns(".venv", "_build", ".git", ".pytest_cache"))
        build = [str(BIN / "jupyter-book"), "build", str(copy), "-W", "-n", "--keep-going"]
        start = time.perf_counter()
        if parallel:
            subprocess.run([sys.executable, str(copy / "_ext" / "execute_pages.py")], check=True,
                           capture_output=True, cwd=copy, env=env)
        subprocess.run(build, check=True, capture_output=True, cwd=copy, env=env)
        times[name] = round(time.perf_counter() - start, 2)
        if parallel:
            times["no_change_rebuild_s"] = round(timed(build, cwd=copy, env=env), 2)
    times["parallel_over_serial"] = round(times["clean_build_s"] / times["clean_build_serial_s"], 3)
    return times


def bench_notebooks() -> dict:
    import nbformat
    from nbclient import NotebookClient

    out = {}
    for assignment, notebooks in assignments().items():
        for nb_name in notebooks:
            nb = nbformat.read(SOURCE / assignment / f"{nb_name}.ipynb", as_version=4)
            start = time.perf_counter()
            NotebookClient(nb, timeout=600, kernel_name="python3").execute()
            out[f"{assignment}/{nb_name}"] = round(time.perf_counter() - start, 2)
    return out


def _batch(sub: Path, assignment: str, n: int) -> int:
    """n submissions: the solution, the blank copy, buggy and correct variants and broken files, cycled."""
    from submissions import VARIANTS, notebook_name, released_notebook, solution_notebook, with_answer

    import nbformat

    nb_name = notebook_name(assignment)
    kinds = [("solution", lambda: solution_notebook(assignment)),
             ("blank", lambda: nbformat.reads(released_notebook(assignment), as_version=4))]
    kinds += [(v.name, lambda v=v: with_answer(assignment, v.answer, v.code))
              for kind in ("buggy", "correct") for v in VARIANTS[assignment][kind]]
    kinds.append(("broken-json", None))
    for i in range(n):
        name, make = kinds[i % len(kinds)]
        folder = sub / f"s{i:03d}-{name}" / assignment
        folder.mkdir(parents=True)
        if make is None:
            (folder / f"{nb_name}.ipynb").write_text('{"cells": [')
        else:
            nbformat.write(make(), folder / f"{nb_name}.ipynb")
    return n


def _anchor_source(assignment: str, dest: Path) -> None:
    """The exercise source with each hidden region running the hidden tests in the kernel."""
    import nbformat

    from anchor_hidden import hidden_region
    from autograder.sandboxed_execute import HIDDEN, is_test_cell

    dest.mkdir(parents=True)
    for path in (SOURCE / assignment).glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if is_test_cell(cell):
                region = hidden_region(assignment, cell.metadata["nbgrader"]["grade_id"])
                cell.source = HIDDEN.sub(lambda _: region, cell.source)
        nbformat.write(nb, dest / path.name)


def _plain_scores(db: Path, assignment: str) -> dict[str, float]:
    """student -> autograded score in plain nbgrader's gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{db}") as gb:
        return {sub.student_id: sub.score for sub in gb.assignment_submissions(assignment)}


def _our_scores(grades_csv: Path) -> dict[str, float]:
    import csv

    with open(grades_csv, newline="") as fh:
        return {row["student_id"]: float(row["raw_score"]) for row in csv.DictReader(fh)}


def bench_grading(tmp: Path, per_assignment: int, worker_counts=(1, 2)) -> dict:
    """The same submissions graded by plain `nbgrader autograde` (the anchor) and by ours."""
    out, totals = {}, {"submissions": 0, "plain_s": 0.0}
    runs = [(f"ours_workers_{w}", ["--workers", str(w)]) for w in worker_counts]
    runs += [(f"ours_dask_local_{w}", ["--dask", "--workers", str(w)]) for w in worker_counts]
    for assignment in assignments():
        sub = tmp / "sub" / assignment
        n = _batch(sub, assignment, per_assignment)
        row = {"submissions": n}
        # Anchor: a plain nbgrader course directory whose hidden tests run in the kernel (anchor_hidden.py);
        # `generate_assignment` then `autograde`, a kernel per notebook, no sandbox.
        course = tmp / "plain" / assignment
        _anchor_source(assignment, course / "source" / assignment)
        shutil.copytree(sub, course / "submitted")
        common = [f"--CourseDirectory.root={course}", f"--CourseDirectory.db_url=sqlite:///{course / 'gb.db'}"]
        nbg = [str(BIN / "nbgrader")]
        timed(nbg + ["generate_assignment", assignment, "--force"] + common, cwd=course)
        start = time.perf_counter()
        subprocess.run(nbg + ["autograde", assignment, "--force"] + common, cwd=course, capture_output=True)
        plain = time.perf_counter() - start
        row["plain_nbgrader_s_per_submission"] = round(plain / n, 3)
        anchor_scores = _plain_scores(course / "gb.db", assignment)
        totals["submissions"] += n
        totals["plain_s"] += plain
        for label, extra in runs:
            t = timed([sys.executable, "-m", "autograder", "grade", assignment, str(sub), "--out",
                       str(tmp / label / assignment), "--no-progress", *extra], cwd=REPO)
            row[f"{label}_s_per_submission"] = round(t / n, 3)
            row[f"{label}_throughput_vs_plain"] = round(plain / t, 2)
            ours = _our_scores(tmp / label / assignment / "grades.csv")
            differ = sorted(s for s in set(anchor_scores) | set(ours)
                            if abs(anchor_scores.get(s, 0.0) - ours.get(s, 0.0)) > 1e-9)
            row[f"{label}_same_scores_as_plain"] = f"{n - len(differ)}/{n}"
            if differ:
                row[f"{label}_different_scores"] = {s: [anchor_scores.get(s, 0.0), ours.get(s, 0.0)] for s in differ}
            totals["differ"] = totals.get("differ", 0) + len(differ)
            totals[f"{label}_s"] = totals.get(f"{label}_s", 0.0) + t
        out[assignment] = row
        print(assignment, json.dumps(row), flush=True)
    # The whole course: every submission of every assignment, anchor and ours in the same run.
    out["all"] = {"submissions": totals["submissions"],
                  "plain_nbgrader_s_per_submission": round(totals["plain_s"] / totals["submissions"], 3)}
    for label, _ in runs:
        out["all"][f"{label}_s_per_submission"] = round(totals[f"{label}_s"] / totals["submissions"], 3)
        out["all"][f"{label}_throughput_vs_plain"] = round(totals["plain_s"] / totals[f"{label}_s"], 2)
    out["all"]["runs_with_a_score_unlike_plain"] = totals.get("differ", 0)
    print("all", json.dumps(out["all"]), flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--batch", type=int, default=100,
                        help="submissions per assignment (default 100, so about 200 in all)")
    parser.add_argument("--skip", nargs="*", default=[], choices=["book", "notebooks", "grading"])
    args = parser.parse_args()
    prepare_environment()
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        tmp = Path(tmp)
        if "book" not in args.skip:
            results["book"] = bench_book(tmp)
            print("book:", results["book"], flush=True)
        if "notebooks" not in args.skip:
            results["solution_notebooks_s"] = bench_notebooks()
            print("solution notebooks (s):", results["solution_notebooks_s"], flush=True)
        if "grading" not in args.skip:
            results["grading"] = bench_grading(tmp, args.batch)
            print("grading:", json.dumps(results["grading"], indent=1), flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
