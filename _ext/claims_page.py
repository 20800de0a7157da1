"""The *Claims* page: every claim the chapter pages checked while the book was built, with its evidence.

Each chapter page names itself with ``coursekit.claims.page("chNN")`` and checks its sentences with
``claims.check``; the helper writes one JSON record per page into ``$COURSE_CLAIMS_DIR``. This extension points
that variable at ``_build/claims`` before any page executes (page kernels inherit the build's environment), and
the ``course-claims`` directive turns the records into one section per chapter: the sentence, the values it was
judged on (per seed), the margin, and the CPU and seed offset of the run.

A chapter page without records is a build warning (an error under ``-W``), so the page cannot silently lose its
evidence. The page that holds the directive is re-read on every build, after the chapters (Sphinx reads
documents in sorted order, and ``chapters/claims`` sorts after ``chapters/NN_*``).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from docutils import nodes
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)
MAX_SHOWN = 6          # values listed per quantity before "..."


def _set_records_dir(app):
    # setdefault: a caller (the portability test) may point it elsewhere.
    os.environ.setdefault("COURSE_CLAIMS_DIR", str(Path(app.outdir).parent / "claims"))


def _always_reread(app, env, added, changed, removed):
    return [doc for doc in env.found_docs if doc.endswith("claims") and doc.startswith("chapters/")]


def _num(x) -> str:
    if isinstance(x, str):
        return x
    if x == 0:
        return "0"
    if abs(x) >= 1000 or abs(x) < 1e-3:
        return f"{x:.3g}"
    return f"{x:.4g}"


def _values(v, name: str = "") -> list[str]:
    """Lines that show the values a claim was judged on."""
    prefix = f"{name}: " if name else ""
    if isinstance(v, dict) and "values" in v and "seeds" in v:
        vals = [_num(x) for x in v["values"]]
        shown = ", ".join(vals[:MAX_SHOWN]) + (", …" if len(vals) > MAX_SHOWN else "")
        return [f"{prefix}{_num(v['mean'])} ± {_num(v['std'])} (seeds {v['seeds'][0]}–{v['seeds'][-1]}: {shown})"]
    if isinstance(v, dict):
        lines = []
        for k, sub in v.items():
            lines += _values(sub, f"{name}.{k}" if name else k)
        return lines
    if isinstance(v, list):
        if all(not isinstance(x, (dict, list)) for x in v):
            vals = [_num(x) for x in v]
            return [prefix + "[" + ", ".join(vals[:MAX_SHOWN]) + (", …" if len(vals) > MAX_SHOWN else "") + "]"]
        lines = []
        for i, sub in enumerate(v):
            lines += _values(sub, f"{name}[{i}]")
        return lines
    if v is None:
        return ["—"]
    return [prefix + _num(v)]


def _table(headers, rows, widths):
    table = nodes.table(classes=["course-claims", "colwidths-given"])   # widths as <col> styles
    group = nodes.tgroup(cols=len(headers))
    table += group
    for w in widths:
        group += nodes.colspec(colwidth=w)
    head = nodes.thead()
    group += head
    row = nodes.row()
    for h in headers:
        row += nodes.entry("", nodes.paragraph(text=h))
    head += row
    body = nodes.tbody()
    group += body
    for cells in rows:
        row = nodes.row()
        for cell in cells:
            entry = nodes.entry()
            for line in (cell if isinstance(cell, list) else [cell]):
                entry += nodes.paragraph(text=line)
            row += entry
        body += row
    return table


def _environment(env: dict) -> str:
    cpu = env.get("cpu_capability", "?")
    forced = env.get("aten_cpu_capability")
    cpu_text = f"torch CPU kernels {cpu}" + (f" (forced with ATEN_CPU_CAPABILITY={forced})" if forced else "")
    return (f"Built with {cpu_text}, torch {env.get('torch', '?')}, Python {env.get('python', '?')} on "
            f"{env.get('machine', '?')}; seed offset {env.get('seed_offset', 0)} (COURSE_SEED_OFFSET).")


class CourseClaims(SphinxDirective):
    """``course-claims``: one section per chapter page listing its recorded claims."""

    def run(self):
        folder = Path(os.environ["COURSE_CLAIMS_DIR"])
        chapters = sorted(Path(self.env.srcdir, "chapters").glob("[0-9][0-9]_*.md"))
        records = {}
        for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
            try:
                doc = json.loads(path.read_text())
            except (OSError, ValueError) as exc:
                logger.warning(f"claims record {path} is unreadable: {exc}", location=self.get_location())
                continue
            records[doc["page"]] = doc
        out = []
        total = over_seeds = 0
        sections = []
        for chapter in chapters:
            key = "ch" + chapter.name[:2]
            doc = records.get(key)
            if doc is None:
                logger.warning(f"{chapter.name} recorded no claims (no {key}.json in {folder}): every page checks "
                               f"its claims with coursekit.claims", location=self.get_location())
                continue
            claims = doc["claims"]
            failed = [c["sentence"] for c in claims if not c["holds"]]
            if failed:
                logger.warning(f"{chapter.name}: claims that did not hold: {failed}", location=self.get_location())
            total += len(claims)
            n_seeded = sum(c["kind"] == "over seeds" for c in claims)
            over_seeds += n_seeded
            section = nodes.section(ids=[f"claims-{key}"], names=[f"claims-{key}"])
            title = self._chapter_title(chapter)
            section += nodes.title(text=title)
            para = nodes.paragraph()
            ref = nodes.reference("", "", internal=True,
                                  refuri=self.env.app.builder.get_relative_uri("chapters/claims", f"chapters/{chapter.stem}"))
            ref += nodes.Text(f"Chapter {int(chapter.name[:2])}")
            para += ref
            para += nodes.Text(f": {len(claims)} claims checked, {n_seeded} of them over 3 or more seeds. "
                               + _environment(doc.get("environment", {})))
            section += para
            rows = []
            for i, c in enumerate(claims, 1):
                margin = c.get("margin")
                rows.append([str(i), c["sentence"], _values(c.get("values")),
                             "—" if margin is None else _num(margin),
                             f"{c['seeds']} seeds" if c["kind"] == "over seeds" else "exact",
                             "holds" if c["holds"] else "FAILED"])
            section += _table(["#", "Claim", "Values it was judged on", "Margin", "Kind", "Result"], rows,
                              [4, 34, 38, 9, 8, 7])
            sections.append(section)
        summary = nodes.paragraph(text=f"{total} claims in {len(sections)} chapters; {over_seeds} of them are "
                                       f"measured over 3 or more seeds, the rest are exact computations "
                                       f"(closed-form or deterministic).")
        out.append(summary)
        out += sections
        return out

    def _chapter_title(self, chapter: Path) -> str:
        for line in chapter.read_text().splitlines():
            m = re.match(r"#\s+(.*)", line)
            if m:
                return f"Chapter {int(chapter.name[:2])}: {m.group(1).strip()}"
        return chapter.stem


def setup(app):
    app.connect("builder-inited", _set_records_dir)
    app.connect("env-get-outdated", _always_reread)
    app.add_directive("course-claims", CourseClaims)
    return {"parallel_read_safe": False, "parallel_write_safe": True}
