"""Execute a chapter page (a MyST notebook) outside the book build, under a chosen environment.

The portability test (``test_book_portable.py``) and its command line below use it to run every page with
torch's CPU kernels forced to another instruction set and the experiments' seeds shifted. The page is read
with myst-nb's own reader (as the book build reads it) and run by nbclient in a fresh kernel whose working
directory is the page's folder, as myst-nb runs it.

    python tests/page_runner.py chapters/07_sgd.md --env ATEN_CPU_CAPABILITY=default --env COURSE_SEED_OFFSET=7
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((REPO / "chapters").glob("[0-9][0-9]_*.md"))


@dataclass
class PageRun:
    page: str
    seconds: float
    error: str | None = None           # the failing cell's error, with the claim's text and values when a claim failed
    claims: list = field(default_factory=list)   # what coursekit.claims recorded while the page ran
    unglued: list = field(default_factory=list)  # names the prose shows with {glue...} that no cell glued


def read_page(path: Path):
    from myst_nb.core.read import read_myst_markdown_notebook

    return read_myst_markdown_notebook(path.read_text(), path=path)


def run_page(path: Path, env: dict[str, str] | None = None, timeout: int = 600) -> PageRun:
    """Run ``path`` top to bottom in a fresh python3 kernel; never raises for a failing cell."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = read_page(path)
    with tempfile.TemporaryDirectory() as records:
        kernel_env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
        kernel_env.update(env or {})
        kernel_env["COURSE_CLAIMS_DIR"] = records      # the helper writes its records here, not into _build/
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                resources={"metadata": {"path": str(path.parent)}})
        start = time.perf_counter()
        error = None
        try:
            client.execute(env=kernel_env)
        except CellExecutionError as exc:
            error = _short(str(exc))
        seconds = time.perf_counter() - start
        claims = []
        for f in sorted(Path(records).glob("*.json")):
            claims += json.loads(f.read_text())["claims"]
    glued = {out.get("metadata", {}).get("scrapbook", {}).get("name")
             for cell in nb.cells if cell.cell_type == "code" for out in cell.get("outputs", [])}
    unglued = sorted(glue_references(nb) - glued) if error is None else []
    return PageRun(path.name, seconds, error, claims, unglued)


def glue_references(nb) -> set[str]:
    """Names used by {glue}/{glue:text}/... roles and glue directives in the page's markdown."""
    import re

    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    roles = re.findall(r"\{glue(?::[a-z]+)?\}`([^`:]+)", text)
    directives = re.findall(r"^[`:]{3,}\{glue(?::[a-z]+)?\}\s+(\S+)", text, flags=re.M)
    return set(roles) | set(directives)


def _short(message: str) -> str:
    """The error of a cell failure: a failed claim's whole message (page, sentence, values), else the last lines."""
    import re

    message = re.sub(r"\x1b\[[0-9;]*m", "", message)         # the traceback's colours
    if "ClaimFailed: " in message:
        return message[message.rindex("ClaimFailed: "):].strip()
    lines = [ln for ln in message.splitlines() if ln.strip()]
    tail = [ln for ln in lines if "Error" in ln or "claim" in ln.lower()]
    return "\n".join(tail[-6:] or lines[-6:])


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pages", nargs="*", type=Path, default=CHAPTERS)
    ap.add_argument("--env", action="append", default=[], help="NAME=VALUE for the kernel")
    args = ap.parse_args()
    extra = dict(kv.split("=", 1) for kv in args.env)
    failed = 0
    for page in args.pages:
        run = run_page(page.resolve(), extra)
        print(f"{run.page:28s} {run.seconds:6.1f} s  {len(run.claims):3d} claims  "
              f"{'OK' if run.error is None and not run.unglued else 'FAILED'}", flush=True)
        if run.error:
            print("    " + run.error.replace("\n", "\n    "), flush=True)
        if run.unglued:
            print(f"    the prose uses glue names no cell glued: {run.unglued}", flush=True)
        failed += bool(run.error or run.unglued)
    sys.exit(1 if failed else 0)
