"""`make test` hands out work units (tests/work_units.py): every test that shares a chapter's fixture is in that
chapter's unit, so two processes never build the same graded batch, page run or kernel."""

from __future__ import annotations

from work_units import PER_CHAPTER, SITE_USERS, UNIT_SECONDS, work_unit

# the per-chapter module fixtures of PER_CHAPTER's files
CHAPTER_FIXTURES = {"graded", "visible_messages"}


def test_a_chapter_fixture_never_spans_two_units(request):
    items = request.session.items
    units: dict[tuple[str, str], set[str]] = {}
    for item in items:
        stem = item.path.stem
        for name in CHAPTER_FIXTURES & set(item.fixturenames) if stem in PER_CHAPTER else ():
            param = item.callspec.params[name]
            units.setdefault((name, param), set()).add(work_unit(item.nodeid))
        if stem in SITE_USERS:
            assert work_unit(item.nodeid) == "site", item.nodeid
    if any(item.path.stem in PER_CHAPTER for item in items):   # collected with this file: the fixtures are seen
        assert units, "no test of a per-chapter fixture was collected"
    for (name, param), seen in units.items():
        assert len(seen) == 1 and param[:4] in next(iter(seen)), f"{name}[{param}] is in the units {seen}"


def test_units_by_chapter_and_file():
    assert work_unit("tests/test_grading_pipeline.py::test_variants[ch02_weight_decay-buggy]") \
        == "test_grading_pipeline::ch02"
    assert work_unit("tests/test_book_portable.py::test_page_claims_hold[12_capstone]") == "test_book_portable::ch12"
    assert work_unit("tests/test_exercises.py::test_x[ch01_generalization-generalization]") == "test_exercises::ch01"
    assert work_unit("tests/test_grading_pipeline.py::test_every_assignment_has_a_corpus") == "test_grading_pipeline"
    assert work_unit("tests/test_site_browser.py::test_every_page_in_a_real_browser") == "site"
    assert work_unit("tests/test_sandbox.py::test_y[a-b]") == "test_sandbox"
    assert set(UNIT_SECONDS) >= {"site", *(f"test_grading_pipeline::ch{n:02d}" for n in range(1, 13))}
