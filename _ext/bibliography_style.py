"""Author–year labels on the References page, matching the in-text citations.

The chapters cite author–year ("Hoerl and Kennard (1970)", via
``bibtex_reference_style: author_year``). pybtex's built-in styles label the
list with numbers or alpha keys, so a reader could not find "Hoerl and Kennard,
1970" in it. This style labels each entry the way it is cited and sorts by
author, year and title.
"""

from __future__ import annotations

from pybtex.plugin import register_plugin
from pybtex.style.formatting.plain import Style as PlainStyle
from pybtex.style.labels import BaseLabelStyle


def _surnames(entry) -> list[str]:
    people = entry.persons.get("author") or entry.persons.get("editor") or []
    return [" ".join(p.prelast_names + p.last_names) for p in people]


def author_year_label(entry) -> str:
    names = _surnames(entry)
    if not names:
        who = entry.fields.get("title", entry.key)
    elif len(names) == 1:
        who = names[0]
    elif len(names) == 2:
        who = f"{names[0]} and {names[1]}"
    else:
        who = f"{names[0]} et al."
    who = who.replace("{", "").replace("}", "")
    return f"{who}, {entry.fields.get('year', 'n.d.')}"


class AuthorYearLabels(BaseLabelStyle):
    def format_labels(self, sorted_entries):
        seen: dict[str, int] = {}
        for entry in sorted_entries:
            label = author_year_label(entry)
            seen[label] = seen.get(label, 0) + 1
            # Two works by the same authors in one year: 2019a, 2019b.
            yield label if seen[label] == 1 else f"{label}{chr(ord('a') + seen[label] - 1)}"


class AuthorYearStyle(PlainStyle):
    default_label_style = AuthorYearLabels
    default_sorting_style = "author_year_title"


def setup(app):
    register_plugin("pybtex.style.formatting", "course_author_year", AuthorYearStyle)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
