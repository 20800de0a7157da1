"""The work units of `make test`: groups of tests that must run in one test process, handed out longest first.

A unit shares an expensive module fixture: a test file, or one chapter of the files whose fixtures are built per
chapter (a chapter's graded batch, its page run twice, its visible tests). tests/conftest.py gives them to
pytest-xdist's scheduler (``--dist loadscope``) and sorts them longest first, so the two processes finish together.
"""

from __future__ import annotations

import re
from pathlib import Path

PER_CHAPTER = {"test_grading_pipeline", "test_exercises", "test_book_portable"}
# The site is built once per run under a lock (the `site` fixture); its users run in one process, one after another.
SITE_USERS = {"test_site", "test_site_browser", "test_student_install"}


def work_unit(nodeid: str) -> str:
    """The unit of a test: 'site', 'test_x' (its file), or 'test_x::chNN' for the per-chapter files."""
    stem = Path(nodeid.split("::", 1)[0]).stem
    if stem in SITE_USERS:
        return "site"
    if stem in PER_CHAPTER:
        chapter = re.search(r"\[(?:ch)?(\d\d)_", nodeid)
        if chapter:
            return f"{stem}::ch{chapter.group(1)}"
    return stem


# Seconds per unit in a full `make test` on this 2-core machine (2026-12-07), from `bench/test_times.py --units`.
# Only their order matters: a stale figure costs some balance, never a result. A unit not listed counts 0.1 s a test.
UNIT_SECONDS = {
    "site": 551, "test_coursekit_check": 242, "test_grading_scale": 229, "test_grading_pipeline::ch12": 180,
    "test_gradebook_postgres": 139, "test_grading_pipeline::ch09": 108, "test_grading_pipeline::ch06": 102,
    "test_grading_pipeline::ch11": 97, "test_grading_pipeline::ch05": 92, "test_manual_grades": 88,
    "test_grading_pipeline::ch08": 86, "test_grading_pipeline::ch07": 84, "test_grading_pipeline::ch10": 82,
    "test_grading_pipeline::ch01": 81, "test_grading_attacks": 76, "test_grading_pipeline::ch03": 75,
    "test_grading_dask": 68, "test_grading_pipeline::ch04": 66, "test_grading_pipeline::ch02": 64,
    "test_exercises::ch12": 63, "test_course_export": 51, "test_late_work": 51, "test_demo_adaptive_methods": 48,
    "test_book_portable::ch01": 40, "test_book_portable::ch04": 39, "test_solutions_optimizers": 37,
    "test_book_portable::ch09": 35, "test_book_portable::ch11": 35, "test_grading_intake": 32,
    "test_book_portable::ch02": 32, "test_exercises::ch03": 32, "test_book_portable::ch12": 30,
    "test_book_portable::ch05": 29, "test_exercises::ch09": 28, "test_book_portable::ch06": 28,
    "test_exercises::ch07": 27, "test_exercises::ch08": 26, "test_exercises::ch10": 26,
    "test_book_portable::ch03": 25, "test_book_portable::ch07": 24, "test_exercises::ch02": 24,
    "test_nbgrader_workflow": 23, "test_exercises::ch11": 23, "test_exercises::ch01": 22,
    "test_book_portable::ch08": 21, "test_book_portable::ch10": 20, "test_exercises::ch04": 18,
    "test_grading_errors": 18, "test_fork_server": 17, "test_exercises::ch05": 17, "test_exercises::ch06": 17,
    "test_feedback_pages": 15, "test_feedback_exporter": 15, "test_sandbox": 12, "test_demo_weight_decay": 11,
    "test_release_solutions": 11, "test_demo_lasso": 8, "test_demo_generalization": 7,
}
