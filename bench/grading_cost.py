"""Grading cost per submission: this checkout's hidden tests against an earlier commit's, in the same run.

    .venv/bin/python bench/grading_cost.py [--baseline REV] [--assignments ch04_dropout ...] [--repeats 5]
                                           [--json bench/results/grading_cost.json]

New scenarios cost time. For each assignment, the reference solution's answers are judged by
``autograder.verdicts.run_submission`` (the sandboxed run of every cell and every scenario, then the verdicts:
the part of grading that the hidden tests decide; nbgrader's own overhead is the same for both) under both
versions, alternating which goes first, in fresh processes. The first submission of each process warms the
fork server and the references' caches, as the first of a batch does, and is not counted. Reported: the
median seconds per submission of each version and their ratio (this checkout / baseline).

The baseline is checked out with ``git worktree`` into a temporary folder and removed afterwards. The machine
is shared and noisy: compare the ratios, not the seconds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def worker(root: Path, assignment: str, repeats: int) -> list[float]:
    """Seconds per judged submission under the checkout at ``root`` (run in its own process)."""
    sys.path.insert(0, str(root))
    import nbformat

    from autograder.course import SOURCE, assignments, prepare_environment
    from autograder.verdicts import run_submission

    assert Path(SOURCE).resolve().is_relative_to(root.resolve()), "the worker imported the wrong checkout"
    prepare_environment()
    _sandbox_sees(root / "coursekit")
    (name,) = assignments()[assignment]
    nb = nbformat.read(SOURCE / assignment / f"{name}.ipynb", as_version=4)
    meta = [c.metadata.get("nbgrader", {}) for c in nb.cells]
    cells = [{"index": i, "source": c.source} for i, c in enumerate(nb.cells)
             if c.cell_type == "code" and not (meta[i].get("grade") and not meta[i].get("solution"))]
    answers = {m["grade_id"]: c.source for c, m in zip(nb.cells, meta) if m.get("solution")}
    times = []
    for k in range(repeats + 1):
        start = time.perf_counter()
        run = run_submission(assignment, cells, answers)
        elapsed = time.perf_counter() - start
        failed = [gid for gid, v in run.verdicts.items() if not v.passed]
        if failed:
            raise SystemExit(f"{root}: the solution of {assignment} failed {failed}")
        if k:  # the first warms the fork server and the caches
            times.append(elapsed)
    return times


def _sandbox_sees(coursekit: Path) -> None:
    """Inside the sandbox, ``coursekit`` is imported where the venv's editable install points (this checkout's):
    bind the measured checkout's coursekit there instead, so each version's probes run with its own code."""
    import importlib.metadata

    from autograder import sandbox

    files = importlib.metadata.distribution("coursekit").files or []
    finder = next((f for f in files if str(f).endswith("_finder.py")), None)
    text = finder.locate().read_text() if finder else ""
    target = text.split("'coursekit': '", 1)[1].split("'", 1)[0] if "'coursekit': '" in text else None
    if not target or Path(target).resolve() == coursekit.resolve():
        return
    argv = sandbox.Sandbox.argv

    def bound(self, command, scratch, extra_ro=None, uid=None):
        return argv(self, command, scratch, {**(extra_ro or {}), coursekit: target}, uid)
    sandbox.Sandbox.argv = bound


def measure(root: Path, assignment: str, repeats: int) -> list[float]:
    proc = subprocess.run([sys.executable, __file__, "--worker", str(root), assignment, str(repeats)],
                          cwd=root, capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(proc.stderr[-3000:] or proc.stdout[-3000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--baseline", default="584a33c", help="commit to compare with (default: before issue 23)")
    ap.add_argument("--assignments", nargs="*")
    ap.add_argument("--repeats", type=int, default=5, help="judged submissions per process, after one warm-up")
    ap.add_argument("--rounds", type=int, default=2, help="processes per version, alternating which goes first")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        root, assignment, repeats = args.worker
        print(json.dumps(worker(Path(root), assignment, int(repeats))))
        return

    sys.path.insert(0, str(REPO))
    from autograder.course import assignments

    chosen = args.assignments or sorted(assignments())
    with tempfile.TemporaryDirectory(prefix="grading-cost-") as tmp:
        base = Path(tmp) / "baseline"
        subprocess.run(["git", "worktree", "add", "--detach", str(base), args.baseline], cwd=REPO, check=True,
                       capture_output=True)
        try:
            results = {}
            print(f"{'assignment':24} {'baseline s':>10} {'this s':>8} {'ratio':>6}")
            for assignment in chosen:
                times = {"baseline": [], "current": []}
                for r in range(args.rounds):
                    order = [("baseline", base), ("current", REPO)]
                    for side, root in (order if r % 2 == 0 else order[::-1]):
                        times[side] += measure(root, assignment, args.repeats)
                b, c = statistics.median(times["baseline"]), statistics.median(times["current"])
                results[assignment] = {"baseline_s": b, "current_s": c, "ratio": c / b, "samples": times}
                print(f"{assignment:24} {b:10.2f} {c:8.2f} {c / b:6.2f}", flush=True)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(base)], cwd=REPO, capture_output=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"baseline": args.baseline, "results": results}, indent=1))


if __name__ == "__main__":
    main()
