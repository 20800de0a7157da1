"""Wall time of `python -m autograder grade` on small batches with one worker and with two, in the same run.

    .venv/bin/python bench/small_batches.py [--assignment ch02_weight_decay] [--sizes 2 6 12 24] [--rounds 2]
                                            [--json PATH]

A worker's start (nbgrader and torch imported, its sandbox warmed up, the hidden tests' references computed)
is paid once per worker and per run. On a small batch a second worker's start costs more than the
submissions it takes over; `grade` therefore starts one worker per SUBMISSIONS_PER_WORKER submissions at
most (autograder/grade.py: default_workers). This measures where the two lines cross: each batch (the
solution, repeated under other student ids) is graded into a fresh folder with --workers 1 and --workers 2,
alternating which goes first. Reported: the median seconds of each and their ratio (two workers / one).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))


def batch(folder: Path, assignment: str, size: int) -> Path:
    from submissions import solution_notebook, write_submission

    nb = solution_notebook(assignment)
    for k in range(size):
        write_submission(folder, f"student{k:03d}", assignment, nb)
    return folder


def seconds(assignment: str, submitted: Path, workers: int) -> float:
    out = Path(tempfile.mkdtemp(prefix="bench-out-"))
    try:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "autograder", "grade", assignment, str(submitted), "--out", str(out),
                        "--workers", str(workers), "--no-progress"], cwd=REPO, check=True, capture_output=True)
        return time.perf_counter() - start
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--assignment", default="ch02_weight_decay")
    ap.add_argument("--sizes", type=int, nargs="+", default=[2, 6, 12, 24])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    rows = []
    for size in args.sizes:
        folder = Path(tempfile.mkdtemp(prefix="bench-batch-"))
        try:
            batch(folder, args.assignment, size)
            times = {1: [], 2: []}
            for r in range(args.rounds):
                for workers in ((1, 2) if r % 2 == 0 else (2, 1)):
                    times[workers].append(seconds(args.assignment, folder, workers))
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        one, two = statistics.median(times[1]), statistics.median(times[2])
        rows.append({"submissions": size, "one_worker_s": round(one, 2), "two_workers_s": round(two, 2),
                     "ratio": round(two / one, 3)})
        print(f"{size:4d} submissions: 1 worker {one:6.1f} s, 2 workers {two:6.1f} s, ratio {two / one:.2f}",
              flush=True)
    if args.json:
        args.json.write_text(json.dumps({"assignment": args.assignment, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
