"""Keep pages free of scripts the course does not use.

Jupyter Book always loads sphinx-thebe (live code through a remote kernel),
even with ``launch_buttons.thebe: false``. Its configuration script, which
points at unpkg.com, was added to every page twice, and the second copy is a
console error ("Identifier 'THEBE_JS_URL' has already been declared"). The
course runs offline and has no live-code button, so Thebe's scripts are
dropped from every page.
"""

from __future__ import annotations


def _is_thebe(script) -> bool:
    filename = getattr(script, "filename", None) or str(script)
    body = getattr(script, "attributes", {}).get("body", "")
    return "sphinx-thebe" in (filename or "") or "THEBE_JS_URL" in body


def drop_thebe(app, pagename, templatename, context, doctree):
    if "script_files" in context:
        context["script_files"] = [s for s in context["script_files"] if not _is_thebe(s)]


def setup(app):
    app.connect("html-page-context", drop_thebe, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
