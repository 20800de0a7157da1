"""The book's own Sphinx extensions (_ext/) and its bibliography file."""

from __future__ import annotations

import re
import sys

from conftest import REPO

sys.path.insert(0, str(REPO / "_ext"))

import bibliography_style  # noqa: E402
import numbering  # noqa: E402


def _bib_keys() -> list[str]:
    return re.findall(r"^@\w+\{([^,]+),", (REPO / "references.bib").read_text(), flags=re.M)


def test_bibliography_is_sorted_by_key_without_duplicates():
    keys = _bib_keys()
    assert len(keys) >= 20
    assert keys == sorted(keys), "references.bib: keep entries sorted by key"
    assert len(set(keys)) == len(keys)


def test_every_cited_key_is_in_the_bibliography():
    keys = set(_bib_keys())
    cited = set()
    for page in (REPO / "chapters").glob("*.md"):
        for group in re.findall(r"\{cite(?::[tp])?\}`([^`]+)`", page.read_text()):
            cited |= {k.strip() for k in group.split(",")}
    assert cited, "no citations found"
    assert cited <= keys, f"cited but not in references.bib: {sorted(cited - keys)}"


def test_reference_labels_read_like_the_citations():
    from pybtex.database import parse_file

    bib = parse_file(str(REPO / "references.bib"))
    labels = {key: bibliography_style.author_year_label(e) for key, e in bib.entries.items()}
    assert labels["hoerl1970ridge"] == "Hoerl and Kennard, 1970"
    assert labels["kingma2015adam"] == "Kingma and Ba, 2015"
    assert labels["srivastava2014dropout"] == "Srivastava et al., 2014"
    style = bibliography_style.AuthorYearLabels()
    twice = [bib.entries["hoerl1970ridge"]] * 2
    assert list(style.format_labels(twice)) == ["Hoerl and Kennard, 1970", "Hoerl and Kennard, 1970b"]


class _Env:
    def __init__(self, toc_fignumbers):
        self.toc_fignumbers = toc_fignumbers


def test_questions_restart_in_every_chapter_and_figures_carry_the_chapter():
    env = _Env({
        "chapters/02_weight_decay": {"exercise": {"q1": (1,), "q2": (2,)}, "figure": {"f1": (1,), "f2": (2,)}},
        "chapters/09_adaptive_methods": {"exercise": {"q3": (4,), "q1b": (3,)}, "figure": {"g": (3,)}},
        "intro": {"figure": {"h": (4,)}},
    })
    numbering.renumber(None, env)
    assert env.toc_fignumbers["chapters/02_weight_decay"] == {"exercise": {"q1": (1,), "q2": (2,)},
                                                             "figure": {"f1": (2, 1), "f2": (2, 2)}}
    # Document order (the book-wide numbers) is kept: q1b came first.
    assert env.toc_fignumbers["chapters/09_adaptive_methods"] == {"exercise": {"q1b": (1,), "q3": (2,)},
                                                                 "figure": {"g": (9, 1)}}
    assert env.toc_fignumbers["intro"] == {"figure": {"h": (1,)}}
    assert numbering.chapter_number("chapters/exercises/ch02_weight_decay/weight_decay") is None
