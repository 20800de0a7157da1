"""Everything a student needs comes from the site itself: the ``coursekit`` wheel and each exercise notebook.

- **The wheel.** When the build starts, ``coursekit`` is built into ``downloads/`` of the HTML output from a
  clean copy of ``pyproject.toml`` and ``coursekit/`` only, so nothing else of the checkout (``solutions/``,
  ``autograder/``, a stale ``build/``) can reach it. It is made by every build, never committed (``_build/``
  is ignored).
- **Install lines.** The ``{course-install}`` directive shows the wheel's link, ``pip install <its address>``
  and the offline way (download, then ``pip install coursekit-<version>-py3-none-any.whl``). The address is
  ``html_baseurl`` + path when the configuration sets ``html_baseurl``; otherwise ``course-downloads.js`` (in
  ``_theme/``) writes the address the reader's browser sees, a web address or a ``file://`` one. With an
  argument, ``{course-install} exercises/<assignment>/<notebook>.ipynb``, it also offers that notebook.
- **Exercise pages** (``chapters/exercises/*/*.ipynb``) get that box under their title by themselves.
- **Downloads that save the file.** A ``download`` attribute on a link to another ``file://`` file is ignored by
  Chromium (each local file is its own origin), so a site opened as local files used to show the notebook's
  JSON. The box's notebook link is a ``data:`` URL of the student notebook with ``download="<notebook>.ipynb"``,
  which every browser saves, from a server or from local files. ``course-downloads.js`` gives the theme's
  download menu the ``download`` attribute and, on a page opened as a local file, the same ``data:`` URL.
"""

from __future__ import annotations

import base64
import html
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from docutils import nodes
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)

DOWNLOADS = "downloads"  # folder of the HTML output that serves the wheel
EXERCISE_DOCS = "chapters/exercises/"
SCRIPT = "course-downloads.js"  # _theme/, copied to _static/


def build_wheel(repo: Path, out: Path) -> Path:
    """Build the ``coursekit`` wheel from a clean copy of the package into ``out``; the wheel's path."""
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("coursekit-*.whl"):
        old.unlink()
    with tempfile.TemporaryDirectory(prefix="coursekit-wheel-") as tmp:
        src = Path(tmp) / "src"
        src.mkdir()
        shutil.copy2(repo / "pyproject.toml", src)
        shutil.copytree(repo / "coursekit", src / "coursekit",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"))
        # setuptools' own PEP 517 backend, with this Python (the one that builds the book).
        code = "import sys; from setuptools import build_meta; print(build_meta.build_wheel(sys.argv[1]))"
        proc = subprocess.run([sys.executable, "-c", code, str(Path(tmp) / "dist")], cwd=src,
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"building the coursekit wheel failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
        name = proc.stdout.strip().splitlines()[-1]
        wheel = out / name
        shutil.copy2(Path(tmp) / "dist" / name, wheel)
    return wheel


def make_wheel(app) -> None:
    repo = Path(app.srcdir)
    wheel = build_wheel(repo, Path(app.outdir) / DOWNLOADS)
    app.coursekit_wheel = (wheel.name, wheel.stat().st_size)
    logger.info(f"coursekit wheel: {DOWNLOADS}/{wheel.name} ({wheel.stat().st_size / 1000:.0f} kB)")


# ---------------------------------------------------------------- the install box

def _code(text: str) -> str:
    """A shell line as a code block of the theme (so it gets the copy button)."""
    return f'<div class="highlight-bash notranslate"><div class="highlight"><pre><span></span>{text}</pre></div></div>'


def box_html(app, docname: str, notebook: Path | None) -> str:
    """The HTML of the install box for page ``docname``, offering ``notebook`` too when given."""
    name, size = app.coursekit_wheel
    up = "../" * docname.count("/")
    rel = f"{up}{DOWNLOADS}/{name}"
    base = (app.config.html_baseurl or "").rstrip("/")
    shown = f"{base}/{DOWNLOADS}/{name}" if base else rel
    e = html.escape
    install = (
        _code(f'pip install <span class="ck-wheel-url" data-wheel="{e(rel)}"'
              f'{" data-fixed" if base else ""}>{e(shown)}</span>')
        + f'<p>Offline, or if that address does not reach this site: download '
          f'<a class="ck-wheel-download reference external" href="{e(rel)}" download="{e(name)}">'
          f'<code>{e(name)}</code></a> ({size / 1000:.0f} kB), then, in the folder you saved it to:</p>'
        + _code(f"pip install {e(name)}")
        + '<p>It brings torch, numpy, matplotlib, scikit-learn and ipywidgets with it, and never the solutions. '
          'You also need Jupyter (<code>pip install notebook</code>) if you do not have it.</p>')
    if notebook is None:  # the home page's Start here: the lines only
        return f'<div class="ck-install">{install}</div>'
    data = base64.b64encode(notebook.read_bytes()).decode()
    items = [
        f'<li><p><strong>Download</strong> <a class="ck-notebook-download reference external" '
        f'href="data:application/x-ipynb+json;base64,{data}" download="{e(notebook.name)}">'
        f'<code>{e(notebook.name)}</code></a> and keep that name: the grader looks for it.</p></li>',
        '<li><p><strong>Install</strong> the course helpers <code>coursekit</code> once, in the Python environment '
        'where you run Jupyter:</p>' + install + '</li>',
        f'<li><p><strong>Work</strong> in <code>jupyter notebook {e(notebook.name)}</code>, then '
        f'<strong>check</strong> before you submit (it runs the notebook as the grader does):</p>'
        + _code(f"python -m coursekit check {e(notebook.name)}") + "</li>",
    ]
    return ('<div class="admonition tip ck-install">\n<p class="admonition-title">Work on this exercise on your '
            f'own computer</p>\n<ol class="arabic simple">{"".join(items)}</ol>\n</div>')


class CourseInstall(SphinxDirective):
    """``{course-install}`` [notebook]: the install box, with a download of ``notebook`` when given."""

    optional_arguments = 1
    has_content = False

    def run(self):
        notebook = None
        if self.arguments:
            rel, path = self.env.relfn2path(self.arguments[0], self.env.docname)
            notebook = Path(path)
            if not notebook.is_file():
                raise self.error(f"course-install: no notebook {rel}")
            self.env.note_dependency(rel)
        return [nodes.raw("", box_html(self.env.app, self.env.docname, notebook), format="html")]


def box_on_exercise_pages(app, doctree) -> None:
    """Each exercise notebook's page gets the box right under its title."""
    docname = app.env.docname
    if not docname.startswith(EXERCISE_DOCS):
        return
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is None or not isinstance(section[0], nodes.title):
        logger.warning(f"{docname}: no title to put the download and install box under", location=docname)
        return
    notebook = Path(app.env.doc2path(docname))
    section.insert(1, nodes.raw("", box_html(app, docname, notebook), format="html"))


def wheel_changed(app, env, added, changed, removed) -> list[str]:
    """A build without --all keeps pages read before: when the wheel's name changed, read them all again."""
    if getattr(env, "coursekit_wheel", None) == app.coursekit_wheel[0]:
        return []
    env.coursekit_wheel = app.coursekit_wheel[0]
    return sorted(env.found_docs)


def setup(app):
    app.connect("builder-inited", make_wheel)
    app.connect("env-get-outdated", wheel_changed)
    app.add_directive("course-install", CourseInstall)
    app.connect("doctree-read", box_on_exercise_pages)
    app.add_js_file(SCRIPT, loading_method="defer")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
