"""How good is the feedback? Grade the corpus of tests/submissions through the real pipeline and measure it.

    .venv/bin/python bench/corpus_quality.py [--assignments ch02_weight_decay ...] [--json PATH] [--show N]
                                             [--graded DIR]

For every assignment: the solution, the blank copy and every buggy and correct variant of
``tests/submissions/chNN.py`` are graded with ``python -m autograder grade`` (the instructor's command), and
``parts.csv`` (the message each student sees per part) is read back. Reported, in issue 10's terms:

- false passes: buggy variants that keep full marks on the part they break;
- false fails: correct variants (and the solution) that lose any autograded point;
- localizing messages: among the caught buggy variants, those whose message on that part names the mistake
  ("Likely mistake: ...", or a static check of the code) or names a scenario that separates the answer from the
  correct behaviour (it fails some scenarios and passes others);
- named: caught buggy variants whose message names a mistake; wrong names: those whose named mistake is not the
  variant's own (its message lacks the variant's ``hidden`` words);
  (or contains its ``not_named`` words, a mistake it resembles but did not make);
- partial: caught buggy variants that still earn some of the part's points (partial credit by contract item).
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from submissions import STATIC_MESSAGES, VARIANTS, build_batch, localizes  # noqa: E402

from autograder.course import assignments  # noqa: E402
from autograder.release import release  # noqa: E402

def measure(assignment: str, work: Path, graded: Path | None = None) -> dict:
    if graded is not None:   # a batch of the same corpus graded already, e.g. by tests/test_grading_pipeline.py
        found = sorted(graded.glob(f"**/{assignment}*/out/parts.csv"), key=lambda p: p.stat().st_mtime)
        if not found:
            raise SystemExit(f"no {assignment}*/out/parts.csv under {graded}")
        out = found[-1].parent
    else:
        released = work / "released"
        if not (released / assignment).is_dir():
            release(released, [assignment])
        submitted, out = work / assignment / "submitted", work / assignment / "out"
        build_batch(submitted, assignment, released)
        subprocess.run([sys.executable, "-m", "autograder", "grade", assignment, str(submitted), "--out", str(out)],
                       cwd=REPO, check=True, capture_output=True, text=True)
    rows = {}
    with open(out / "parts.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            rows[(row["student_id"], row["part"])] = row
    buggy, correct = VARIANTS[assignment]["buggy"], VARIANTS[assignment]["correct"]
    false_passes, unlocalized, caught, named, wrongly_named, partial = [], [], [], [], [], []
    for v in buggy:
        row = rows[(v.name, v.part)]
        if row["score"] != "" and float(row["score"]) >= float(row["max_score"]):
            false_passes.append(v.name)
            continue
        caught.append(v.name)
        if row["score"] != "" and float(row["score"]) > 0:
            partial.append(v.name)
        if not localizes(row["message"]):
            unlocalized.append((v.name, row["message"]))
        if "Likely mistake:" in row["message"] or any(s in row["message"] for s in STATIC_MESSAGES):
            named.append(v.name)
            if (v.hidden and v.hidden not in row["message"]) or (v.not_named and v.not_named in row["message"]):
                wrongly_named.append((v.name, row["message"]))   # a name, but not the variant's own mistake
    false_fails = []
    for name in ["solution"] + [v.name for v in correct]:
        lost = [part for (student, part), row in rows.items()
                if student == name and row["score"] != "" and float(row["score"]) < float(row["max_score"])]
        if lost:
            false_fails.append((name, lost))
    return {"assignment": assignment, "buggy": len(buggy), "correct": len(correct) + 1,
            "false_passes": false_passes, "false_fails": false_fails, "caught": len(caught),
            "localized": len(caught) - len(unlocalized), "unlocalized": unlocalized,
            "named": len(named), "wrongly_named": wrongly_named, "partial": len(partial),
            "messages": {v.name: rows[(v.name, v.part)]["message"] for v in buggy}}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--assignments", nargs="*", default=sorted(assignments()))
    ap.add_argument("--json", type=Path)
    ap.add_argument("--show", type=int, default=0, help="print the messages of the first N buggy variants")
    ap.add_argument("--graded", type=Path, help="read the newest <assignment>*/out/parts.csv under DIR (e.g. the "
                    "test suite's pytest temporary folder) instead of grading the corpus again")
    args = ap.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory(prefix="corpus-quality-") as tmp:
        for assignment in args.assignments:
            results.append(measure(assignment, Path(tmp), args.graded))
    total = {k: sum(r[k] for r in results) for k in ("buggy", "correct", "caught", "localized", "named", "partial")}
    fp = sum(len(r["false_passes"]) for r in results)
    ff = sum(len(r["false_fails"]) for r in results)
    wn = sum(len(r["wrongly_named"]) for r in results)
    print(f"{'assignment':28} {'buggy':>5} {'false passes':>12} {'correct':>7} {'false fails':>11} {'localized':>14} "
          f"{'named':>7} {'wrong names':>11} {'partial':>7}")
    for r in results:
        print(f"{r['assignment']:28} {r['buggy']:5d} {len(r['false_passes']):12d} {r['correct']:7d} "
              f"{len(r['false_fails']):11d} {r['localized']:6d}/{r['caught']:<3d} "
              f"({100 * r['localized'] / max(r['caught'], 1):.0f}%) {r['named']:7d} {len(r['wrongly_named']):11d} "
              f"{r['partial']:7d}")
    print(f"{'all':28} {total['buggy']:5d} {fp:12d} ({100 * fp / max(total['buggy'], 1):.1f}%) {total['correct']:7d} "
          f"{ff:11d} {total['localized']:6d}/{total['caught']:<3d} "
          f"({100 * total['localized'] / max(total['caught'], 1):.0f}%) {total['named']:7d} {wn:11d} "
          f"{total['partial']:7d}")
    for r in results:
        for name in r["false_passes"]:
            print(f"FALSE PASS {r['assignment']}: {name}")
        for name, parts in r["false_fails"]:
            print(f"FALSE FAIL {r['assignment']}: {name} lost points on {parts}")
        for name, message in r["unlocalized"]:
            print(f"NOT LOCALIZED {r['assignment']}: {name}: {message[:300]}")
        for name, message in r["wrongly_named"]:
            print(f"NAMED ANOTHER MISTAKE {r['assignment']}: {name}: {message[:300]}")
        for name, message in list(r["messages"].items())[:args.show]:
            print(f"--- {r['assignment']}: {name}\n{message}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 1 if fp or ff else 0


if __name__ == "__main__":
    sys.exit(main())
