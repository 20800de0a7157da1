"""Hidden tests, one module per assignment, each declaring ``PARTS``.

A part pairs the calls sent into the sandbox (the student's functions on
hidden inputs) with a judge that runs here, in the grader, and compares the
returned values with ``solutions`` and torch. When an answer matches a known
mistake (COURSE.md's list, ``mistakes.py``), the message names it. Messages
never contain the hidden inputs or the expected values.

Instructor-side only: never released, never installed, never visible inside
the sandbox. The source notebooks' ``### BEGIN HIDDEN TESTS`` regions only
point here.
"""
