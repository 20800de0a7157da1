"""The feedback page a student gets back: one HTML file per graded notebook.

The page (template ``autograder/templates/student_feedback``) starts with every graded part under its title
(the ``## `` heading above it in the source notebook), with its score and its message, then shows the notebook
as graded. It is written for the student, so before rendering, on a copy of the notebook:

- the hidden-test region of each test cell (``### BEGIN HIDDEN TESTS`` ... ``### END HIDDEN TESTS``, which names
  the instructor's files) is removed, and so is the points result of a partly right part (shown as the score);
- the checkout's and the environment's paths are cut from outputs (tracebacks, warnings).

Math renders offline with the MathJax the site vendors (``_vendor/mathjax``, made by ``make``):
:func:`install_mathjax` copies it once to ``feedback/mathjax/`` next to the pages, which load it with a relative
link (``feedback/<student>/<assignment>/<nb>.html`` -> ``../../mathjax/``). A page opened without that copy
falls back to the CDN.

Rendering is nbconvert's HTMLExporter minus one full re-parse of the page: nbconvert renders the template, then
parses the whole page with BeautifulSoup to give images without alt text a default one and to make
``.jp-Notebook`` cells focusable, and serializes the page again. The template is based on the classic one,
which has no ``jp-`` cells, so only the alt text matters; the round trip cost about a third of a second per
page. This exporter adds the alt text directly; tests/test_feedback_exporter.py checks that, once normalised by
BeautifulSoup, its pages equal those of :class:`NbconvertFeedbackExporter` (the same page through nbconvert's
own code path).
"""

from __future__ import annotations

import copy
import html
import re
import shutil
import sys
from pathlib import Path

from nbconvert.exporters import HTMLExporter, TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

from .layout import REPO, SOURCE

NO_ALT = "No description has been provided for this image"  # nbconvert's wording
_IMG_WITHOUT_ALT = re.compile(r"<img\b(?![^>]*\balt=)([^>]*?)\s*(/?)>", re.I)

TEMPLATES = Path(__file__).with_name("templates")
TEMPLATE = "student_feedback"
MATHJAX = REPO / "_vendor" / "mathjax"          # made by `make` (Makefile: MATHJAX)
MATHJAX_LINK = "../../mathjax/tex-mml-chtml.js"  # from feedback/<student>/<assignment>/<nb>.html
MATHJAX_CDN = "https://cdn.jsdelivr.net/npm/mathjax@3.2.2/es5/tex-mml-chtml.js"

HIDDEN = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?(?:^[ \t]*### END HIDDEN TESTS[^\n]*\n?|\Z)", re.S | re.M)
_POINTS_TAIL = re.compile(r"\s*\(\s*[\d.½]+\s+points?\b[^)]*\)\s*$")
# Absolute paths into an environment's packages: "/.../site-packages/torch/x.py" -> "torch/x.py".
_PACKAGE_PATH = re.compile(r"(?:/[^\s\"'<>:()]+)*/(?:site|dist)-packages/")
UNANSWERED = ("YOUR ANSWER HERE", "")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")  # a written answer left as released


def add_alt_text(html_text: str) -> str:
    return _IMG_WITHOUT_ALT.sub(lambda m: f'<img{m.group(1)} alt="{NO_ALT}"{m.group(2)}>', html_text)


# ---------------------------------------------------------------- what the page says about each part
def _source_text(cell) -> str:
    return cell.source if isinstance(cell.source, str) else "".join(cell.source)


def _heading_above(cells, index: int) -> str | None:
    """The nearest '## ' heading above cell ``index``, without its '(N points...)' tail."""
    for cell in reversed(cells[:index]):
        if cell.cell_type == "markdown":
            found = re.findall(r"^##\s+(.+?)\s*#*\s*$", _source_text(cell), re.M)
            if found:
                return _POINTS_TAIL.sub("", found[-1]).strip() or None
    return None


def part_titles(assignment: str, notebook: str, source: Path | None = None) -> dict[str, str]:
    """grade_id -> the title of the part a graded or answer cell belongs to: the '## ' heading above it (a test
    cell and the answer cell it grades share one) in the source notebook, e.g. "Part 1: inverted dropout in
    numpy"; the grade_id when there is none."""
    import nbformat

    path = (source or SOURCE) / assignment / f"{notebook}.ipynb"
    if not path.is_file():
        return {}
    cells = nbformat.read(path, as_version=4).cells
    titles = {}
    for i, cell in enumerate(cells):
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") or meta.get("solution"):
            titles[meta["grade_id"]] = _heading_above(cells, i) or meta["grade_id"]
    return titles


def title_html(title: str) -> str:
    """A heading's inline markdown as HTML: `code` as <code>, $math$ left for MathJax."""
    parts = re.split(r"(`[^`]+`)", title)
    return "".join(f"<code>{html.escape(p[1:-1])}</code>" if p.startswith("`") and p.endswith("`") and len(p) > 1
                   else html.escape(p, quote=False) for p in parts)


def title_text(title: str) -> str:
    """A heading as plain words: no backticks, "$\\lambda$" -> "lambda" (for pages without MathJax)."""
    title = title.replace("`", "")
    return re.sub(r"\$\\?([^$]*)\$", r"\1", title)


def scrub(text: str) -> str:
    """Cut the checkout's and the environment's paths from a text a student sees."""
    if not isinstance(text, str):
        return text
    text = _PACKAGE_PATH.sub("", text)
    for prefix in {str(REPO), str(REPO.resolve()), sys.prefix, sys.base_prefix}:
        if prefix and prefix != "/":
            text = text.replace(prefix + "/", "").replace(prefix, "the course")
    return text


def _meta(cell) -> dict:
    return cell.metadata.get("nbgrader", {}) or {}


def _is_test(cell) -> bool:
    return cell.cell_type == "code" and bool(_meta(cell).get("grade")) and not _meta(cell).get("solution")


def test_message(cell) -> str:
    """What a test cell's outputs say: the verdict, without its ✔/✘ mark."""
    texts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            texts.append(out.get("text", ""))
        elif out.get("output_type") == "error":
            texts.append(f"{out.get('evalue', '')}" if out.get("ename") == "AssertionError"
                         else f"{out.get('ename', '')}: {out.get('evalue', '')}")
    text = "\n".join(t.strip() for t in texts if t and t.strip())
    return re.sub(r"^[✔✘]\s*", "", text)


def split_top(text: str, sep: str = "; ") -> list[str]:
    """``text`` split at ``sep`` outside parentheses: "a (x; y); b" -> ["a (x; y)", "b"]."""
    items, depth, start, i = [], 0, 0, 0
    while i < len(text):
        ch = text[i]
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        elif depth == 0 and text.startswith(sep, i):
            items.append(text[start:i])
            start = i = i + len(sep)
            continue
        i += 1
    items.append(text[start:])
    return [s.strip() for s in items if s.strip()]


def readable(message: str) -> str:
    """A verdict laid out for reading: the failing scenarios one per line instead of one long line."""
    lines = []
    for line in message.splitlines():
        found = re.match(r"^((?:\w+Error: )?)Fails with: (.+)$", line)
        items = split_top(found.group(2).rstrip(".")) if found else []
        if len(items) > 1:
            lines += [f"{found.group(1)}Fails with:"] + [f"  • {item}" for item in items]
        else:
            lines.append(line)
    return "\n".join(lines)


def _clean(nb):
    """The notebook as a student may see it: no hidden-test region, no points result, no instructor's paths."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if _is_test(cell):
            cell.source = HIDDEN.sub("", _source_text(cell)).lstrip("\n")
            cell.outputs = [o for o in cell.get("outputs", []) if o.get("output_type") != "execute_result"]
            for out in cell.outputs:  # the verdict, laid out for reading
                if "text" in out:
                    out["text"] = readable(out["text"])
                if "traceback" in out:
                    out["traceback"] = [readable(line) for line in out["traceback"]]
        outputs = cell.get("outputs", []) if cell.cell_type == "code" else []
        printed = " ".join(_ANSI.sub("", o.get("text", "")) for o in outputs if o.get("output_type") == "stream")
        if "Traceback (most recent call last)" in printed:
            # IPython already printed the traceback, pointing into the student's cell: the error itself in one line.
            for out in outputs:
                if out.get("output_type") == "error":
                    out["traceback"] = [f"{out.get('ename', '')}: {out.get('evalue', '')}"]
        for out in outputs:
            for key in ("text", "evalue"):
                if key in out:
                    out[key] = scrub(out[key])
            if "traceback" in out:
                out["traceback"] = [scrub(line) for line in out["traceback"]]
            for mime, value in list(out.get("data", {}).items()):
                if mime.startswith("text/") and isinstance(value, str):
                    out["data"][mime] = scrub(value)
    return nb


def _pending(resources: dict) -> set[str]:
    """grade_ids of written answers a human has not graded yet (from the gradebook nbgrader renders from)."""
    info = resources.get("nbgrader", {})
    if not info.get("db_url"):
        return set()
    try:
        from nbgrader.api import Gradebook

        from .export import is_pending

        with Gradebook(info["db_url"]) as gb:
            nb = gb.find_submission_notebook(info["notebook"], info["assignment"], info["student"])
            return {g.name for g in nb.grades if is_pending(g)}
    except Exception:  # no gradebook entry: nothing is known to be pending
        return set()


def feedback_parts(nb, resources: dict) -> dict:
    """What the page's summary shows: each graded part with its title, score, message and state."""
    info = resources.get("nbgrader", {})
    titles = part_titles(info.get("assignment", ""), info.get("notebook", "")) if info else {}
    pending = _pending(resources)
    parts = []
    for cell in nb.cells:
        meta = _meta(cell)
        if not meta.get("grade"):
            continue
        gid = meta["grade_id"]
        score, points = float(meta.get("score") or 0), float(meta.get("points") or 0)
        part = {"id": gid, "title": titles.get(gid, gid), "score": score, "points": points,
                "kind": "test" if _is_test(cell) else "answer", "pending": gid in pending,
                "comment": meta.get("comment") or ""}
        part["title_html"] = title_html(part["title"])
        part["state"] = "full" if score >= points > 0 else "partial" if score > 0 else "none"
        if part["kind"] == "test":
            part["message"] = readable(test_message(cell))
        elif part["pending"]:
            part["message"] = "Your written answer is waiting to be graded by hand."
        elif _source_text(cell).strip() in UNANSWERED:
            part["message"] = "Not answered."
        else:
            part["message"] = "Graded by hand." if not part["comment"] else ""
        parts.append(part)
    return {"notebook": info.get("notebook") or resources.get("metadata", {}).get("name", "notebook"),
            "parts": parts, "by_cell": {p["id"]: p for p in parts},
            "pending": sum(p["pending"] for p in parts), "pending_points": sum(p["points"] for p in parts
                                                                                if p["pending"]),
            "titles": {gid: title_html(t) for gid, t in titles.items()},
            "mathjax": MATHJAX_LINK, "mathjax_cdn": MATHJAX_CDN}


def install_mathjax(feedback_dir: Path) -> Path | None:
    """Copy the site's vendored MathJax to ``feedback_dir/mathjax`` (once), where every page links it.
    None when the checkout has no vendored copy (``make`` makes it): pages then load MathJax from the CDN."""
    feedback_dir = Path(feedback_dir)
    source, target = MATHJAX, feedback_dir / "mathjax"
    if not (source / "tex-mml-chtml.js").is_file():
        return None
    js = target / "tex-mml-chtml.js"
    if not js.is_file() or js.stat().st_size != (source / "tex-mml-chtml.js").stat().st_size:
        # Files are overwritten, nothing is deleted (a student could be called "mathjax"); the script that pages
        # load goes last, so an interrupted copy is finished by the next run.
        shutil.copytree(source, target, dirs_exist_ok=True, ignore=lambda d, names: [
            n for n in names if Path(d) == source and n == "tex-mml-chtml.js"])
        shutil.copyfile(source / "tex-mml-chtml.js", js)
    return target


# ---------------------------------------------------------------- the exporter
class FeedbackExporter(HTMLExporter):
    """nbgrader's GenerateFeedback exporter (autograder/course.py): the student feedback template, the
    notebook cleaned for students, and no re-parse of the rendered page."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        # GenerateFeedback configures HTMLExporter with nbgrader's own "feedback" template; this page is ours.
        self.extra_template_basedirs = [str(TEMPLATES), *self.extra_template_basedirs]
        self.template_name = TEMPLATE
        self.template_paths = self._template_paths()  # computed once, from the template configured first
        self._invalidate_environment_cache()

    def _render(self, nb, resources, **kw):
        info = nb.metadata.get("language_info", {})
        lexer = info.get("pygments_lexer", info.get("name"))
        # The filters HTMLExporter registers before rendering, set up the same way.
        self.register_filter("highlight_code",
                             self.filters.get("highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)))
        resources = self._init_resources(resources)
        self.register_filter("filter_data_type",
                             WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata, parent=self,
                                                   resources=resources))
        html_text, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
        return add_alt_text(html_text), resources

    def _preprocess(self, nb, resources):
        # After nbgrader's GetGrades (registered on this exporter), which puts the scores in the notebook.
        nb, resources = super()._preprocess(nb, resources)
        resources["feedback"] = feedback_parts(nb, resources)
        return _clean(nb), resources

    def from_notebook_node(self, nb, resources=None, **kw):
        return self._render(nb, resources, **kw)


class NbconvertFeedbackExporter(FeedbackExporter):
    """The same page through nbconvert's HTMLExporter code path (with its BeautifulSoup round trip): the
    reference tests/test_feedback_exporter.py compares FeedbackExporter's pages with."""

    def _render(self, nb, resources, **kw):
        return HTMLExporter.from_notebook_node(self, nb, resources, **kw)
