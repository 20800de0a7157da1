"""Where the course's files are: the checkout, the exercise sources, and the course id nbgrader records."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SOURCE = REPO / "autograder" / "source"   # <assignment>/<notebook>.ipynb, nbgrader's source notebooks
COURSE_ID = "rodl"
