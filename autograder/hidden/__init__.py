"""Hidden tests, called from the ``### BEGIN HIDDEN TESTS`` regions of the source notebooks.

Instructor-side only: nbgrader strips these calls from the student version,
and this package is never installed on a student's machine. Each check raises
``AssertionError`` with a hint in the student's terms; when the answer matches
a known mistake (COURSE.md's list), the hint names it. Hints never print the
hidden inputs or the expected values.
"""
