"""Number quiz questions and figures within each chapter.

Sphinx numbers every enumerable node (figures, sphinx-exercise's exercises) with
one counter for the whole book unless the table of contents is numbered. Our
chapters keep their course numbers (02, 09, ...) in their file names, so we
renumber after Sphinx has assigned the numbers:

* quiz items (``{exercise}``) become "Question 1, 2, ..." within each page
  (the word comes from ``numfig_format`` in ``_config.yml``);
* figures become "Fig. 2.1, 2.2, ..." on ``chapters/02_*`` and "Fig. 1, 2, ..."
  on pages that are not chapters.

``{numref}`` references use the same numbers, so "see Question 4" always points
at this chapter's fourth question.
"""

from __future__ import annotations

import re

_CHAPTER = re.compile(r"(?:^|/)(\d+)_[^/]*$")


def chapter_number(docname: str) -> int | None:
    """2 for ``chapters/02_weight_decay``; None for pages that are not chapters."""
    match = _CHAPTER.search(docname)
    return int(match.group(1)) if match and docname.startswith("chapters/") else None


def renumber(app, env) -> list[str]:
    for docname, by_type in env.toc_fignumbers.items():
        chapter = chapter_number(docname)
        for figtype, numbers in by_type.items():
            # Sphinx's numbers grow in document order; keep that order, restart at 1.
            for k, node_id in enumerate(sorted(numbers, key=numbers.get), start=1):
                per_chapter = figtype != "exercise" and chapter is not None
                numbers[node_id] = (chapter, k) if per_chapter else (k,)
    return []


def setup(app):
    # After Sphinx's own TocTreeCollector (priority 500) has assigned the book-wide numbers.
    app.connect("env-get-updated", renumber, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
