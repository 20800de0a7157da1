"""Where the test suite's time goes: per chapter, and the fixed cost of the engine.

    make test PYTEST_ARGS="--junitxml=/tmp/times.xml"
    .venv/bin/python bench/test_times.py /tmp/times.xml
    .venv/bin/python bench/test_times.py /tmp/times.xml --units   # per work unit (tests/work_units.py)

A test belongs to a chapter when its id names the chapter's assignment
(``ch02_weight_decay``), its topic (``weight_decay``) or its number
(``ch02``), or when its file tests that chapter's reference code. Everything
else (sandbox, attacks, scale, PostgreSQL, Dask, site-wide checks) is the
engine's fixed cost, which does not grow with chapters. Page execution times
come from the book's jupyter-cache (``_build/.jupyter_cache``). Times are
test-process seconds (setup + call + teardown); with ``-n 2`` the wall time is
roughly their sum over two.
"""

from __future__ import annotations

import argparse
import json
import re
import sqlite3
import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# Test files of a chapter's reference code, whose ids do not name the chapter.
FILE_CHAPTER = {f"test_solutions_{topic}": chapter for topic, chapter in [
    ("generalization", "ch01"), ("regularization", "ch02"), ("lasso", "ch03"), ("dropout", "ch04"),
    ("early_stopping", "ch05"), ("batch_norm", "ch06"), ("sgd", "ch07"), ("momentum", "ch08"),
    ("optimizers", "ch09"), ("lr_schedules", "ch10"), ("tuning", "ch11"), ("capstone", "ch12")]}


def chapters() -> dict[str, list[str]]:
    """chNN -> the names that identify it in a test id."""
    out = {}
    for src in sorted((REPO / "autograder" / "source").iterdir()):
        number, topic = src.name.split("_", 1)
        out[number] = [src.name, topic, number]
    return out


def chapter_of(testid: str, known: dict[str, list[str]]) -> str:
    for module, chapter in FILE_CHAPTER.items():
        if module in testid:
            return chapter
    for chapter, names in known.items():
        if any(re.search(rf"(?<![a-z0-9]){re.escape(n)}(?![a-z0-9])", testid) for n in names):
            return chapter
    return "fixed"


def page_seconds() -> dict[str, float]:
    db = REPO / "_build" / ".jupyter_cache" / "global.db"
    if not db.exists():
        return {}
    rows = sqlite3.connect(db).execute("select uri, data from nbcache order by pk").fetchall()
    # The newest record of each page (older ones are earlier versions of it).
    return {Path(uri).stem: json.loads(data or "{}").get("execution_seconds", 0.0) for uri, data in rows}


def print_units(junit: Path) -> int:
    """Each work unit's test-process seconds, and how a longest-first deal to two processes splits them."""
    sys.path.insert(0, str(REPO / "tests"))
    from work_units import work_unit

    seconds = defaultdict(float)
    for case in ET.parse(junit).getroot().iter("testcase"):
        module, _, cls = case.get("classname").partition(".test_")
        path = f"{module.replace('.', '/')}/test_{cls.split('.')[0]}.py"
        seconds[work_unit(f"{path}::{case.get('name')}")] += float(case.get("time", 0))
    loads = [0.0, 0.0]
    for unit, s in sorted(seconds.items(), key=lambda kv: -kv[1]):
        loads[loads.index(min(loads))] += s
    print("UNIT_SECONDS = {")
    for unit, s in sorted(seconds.items(), key=lambda kv: -kv[1]):
        if s >= 5:
            print(f"    {unit!r}: {s:.0f},")
    print("}")
    print(f"# total {sum(seconds.values()):.0f} s; dealt longest first to two processes: "
          f"{loads[0]:.0f} s and {loads[1]:.0f} s")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("junit", type=Path, help="pytest --junitxml output")
    ap.add_argument("--units", action="store_true",
                    help="seconds per work unit of make test, longest first, as tests/work_units.py's UNIT_SECONDS")
    args = ap.parse_args(argv)
    if args.units:
        return print_units(args.junit)
    known = chapters()
    totals, counts = defaultdict(float), defaultdict(int)
    for case in ET.parse(args.junit).getroot().iter("testcase"):
        testid = f"{case.get('classname')}::{case.get('name')}"
        chapter = chapter_of(testid, known)
        totals[chapter] += float(case.get("time", 0))
        counts[chapter] += 1
    pages = page_seconds()
    print(f"{'':8} {'tests':>6} {'test s':>8} {'page s':>7}")
    for chapter in sorted(totals, key=lambda c: (c == "fixed", c)):
        page = sum(s for stem, s in pages.items() if chapter != "fixed" and stem.startswith(chapter[2:] + "_"))
        print(f"{chapter:8} {counts[chapter]:6d} {totals[chapter]:8.1f} {page:7.1f}")
    per_chapter = [totals[c] for c in known]
    if per_chapter:
        print(f"mean per chapter: {sum(per_chapter) / len(per_chapter):.1f} test-process seconds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
