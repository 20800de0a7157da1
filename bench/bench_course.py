"""Benchmarks for the course engine, in one run on this machine.

    python bench/bench_course.py [--json bench/results/course.json] [--batch N]

Measures
  1. a clean book build (empty jupyter-cache) and a no-change rebuild;
  2. the run time of each solution notebook (nbclient, fresh kernel);
  3. wall time per graded submission through `python -m autograder grade`,
     against plain `nbgrader autograde` on the same submissions in the same
     run (the anchor), reported as a ratio.

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

from autograder.course import SOURCE, assignments, prepare_environment  # noqa: E402

BIN = Path(sys.executable).parent


def timed(cmd, **kwargs) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, **kwargs)
    return time.perf_counter() - start


def bench_book(tmp: Path) -> dict:
    """Build a copy of the book twice: from nothing, then with nothing changed."""
    copy = tmp / "book"
    shutil.copytree(REPO, copy, ignore=shutil.ignore_patterns(".venv", "_build", ".git", ".pytest_cache"))
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    cmd = [str(BIN / "jupyter-book"), "build", str(copy), "-W", "-n", "--keep-going"]
    clean = timed(cmd, cwd=copy, env=env)
    rebuild = timed(cmd, cwd=copy, env=env)
    return {"clean_build_s": round(clean, 2), "no_change_rebuild_s": round(rebuild, 2)}


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


def bench_grading(tmp: Path, per_assignment: int) -> dict:
    """Same submissions (solution, blank and buggy variants) graded both ways."""
    from submissions import build_batch

    released = tmp / "released"
    subprocess.run([sys.executable, "-m", "autograder", "release", "--out", str(released)], check=True,
                   cwd=REPO, capture_output=True)
    out = {}
    for assignment in assignments():
        sub = tmp / "sub" / assignment
        build_batch(sub, assignment, released)
        keep = sorted(p.name for p in sub.iterdir())[:per_assignment]
        for p in sub.iterdir():
            if p.name not in keep:
                shutil.rmtree(p)
        n = len(keep)
        ours = timed([sys.executable, "-m", "autograder", "grade", assignment, str(sub), "--out",
                      str(tmp / "ours" / assignment), "--no-progress"], cwd=REPO)
        # Anchor: a plain nbgrader course directory and `nbgrader generate_assignment` + `autograde`.
        course = tmp / "plain" / assignment
        shutil.copytree(SOURCE / assignment, course / "source" / assignment)
        shutil.copytree(sub, course / "submitted")
        # nbgrader's submitted/ layout is <student>/<assignment>/: build_batch already wrote that.
        db = f"sqlite:///{course / 'gradebook.db'}"
        nbg = [str(BIN / "nbgrader")]
        common = [f"--CourseDirectory.root={course}", f"--CourseDirectory.db_url={db}"]
        timed(nbg + ["generate_assignment", assignment, "--force"] + common, cwd=course)
        plain = timed(nbg + ["autograde", assignment, "--force"] + common, cwd=course)
        out[assignment] = {"submissions": n, "ours_s_per_submission": round(ours / n, 2),
                           "plain_autograde_s_per_submission": round(plain / n, 2),
                           "ratio_ours_over_plain": round(ours / plain, 2)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--batch", type=int, default=8, help="submissions per assignment (default 8)")
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
