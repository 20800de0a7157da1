"""Execute the chapter pages into the book's execution cache, several at a time, before Sphinx reads them.

myst-nb's ``cache`` mode executes a page while Sphinx reads it, one page after another. The book has twelve pages
of multi-seed experiments, so on a two-core machine a clean build would spend half its execution time with a core
idle. This script does the same work in parallel: it reads each page exactly as myst-nb does, skips the pages
whose code the cache already holds, runs the others in a pool of kernels (cwd = the page's folder, as myst-nb runs
them), and stores the executed notebooks in ``_build/.jupyter_cache``, where the build then finds them.

Claims records go to ``_build/claims`` (``coursekit.claims``, read by ``_ext/claims_page.py``). A failing page
is reported with its error (for a failed claim: the page, the sentence and the values) and is not cached; the
exit status is 1 when any page failed.

    python _ext/execute_pages.py [-j 2] [--timeout 300] [chapters/NN_topic.md ...]
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

BOOK = Path(__file__).resolve().parent.parent
CACHE = BOOK / "_build" / ".jupyter_cache"
CLAIMS = BOOK / "_build" / "claims"


def pages() -> list[Path]:
    """The executable pages of the book: the chapter notebooks (MyST markdown with a kernelspec)."""
    return sorted((BOOK / "chapters").glob("[0-9][0-9]_*.md"))


def read(path: Path):
    from myst_nb.core.read import read_myst_markdown_notebook

    return read_myst_markdown_notebook(path.read_text(), path=path)


def execute(path: Path, timeout: int):
    """Run one page in a fresh kernel; return (path, executed notebook or None, seconds, error text)."""
    from jupyter_cache.executors.utils import single_nb_execution

    nb = read(path)
    result = single_nb_execution(nb, cwd=str(path.parent), timeout=timeout, allow_errors=False,
                                 meta_override=True)
    error = None
    if result.err is not None:
        text = re.sub(r"\x1b\[[0-9;]*m", "", result.exc_string or str(result.err))
        error = text[text.rindex("ClaimFailed: "):] if "ClaimFailed: " in text else "\n".join(text.splitlines()[-8:])
    return path, (nb if error is None else None), result.time, error


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--timeout", type=int, default=300)
    ap.add_argument("only", nargs="*", type=Path, help="these pages only (default: every chapter page)")
    args = ap.parse_args(argv)
    chosen = [p.resolve() for p in args.only] or pages()

    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    os.environ.setdefault("COURSE_CLAIMS_DIR", str(CLAIMS))   # inherited by every kernel
    os.environ.pop("MPLBACKEND", None)                        # kernels use the inline backend, as in the build
    if args.jobs > 1:
        os.environ.setdefault("OMP_NUM_THREADS", "1")         # one thread per kernel: the kernels share the cores
    cache = get_cache(str(CACHE))
    todo = []
    for path in chosen:
        try:
            cache.match_cache_notebook(read(path))
        except KeyError:
            todo.append(path)
    print(f"execute_pages: {len(chosen) - len(todo)} pages cached, {len(todo)} to run with {args.jobs} kernels",
          flush=True)
    failed = []
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [pool.submit(execute, path, args.timeout) for path in todo]
        for future in as_completed(futures):
            path, nb, seconds, error = future.result()
            if error is None:
                cache.cache_notebook_bundle(CacheBundleIn(nb, str(path), data={"execution_seconds": seconds}),
                                            check_validity=False, overwrite=True)
                print(f"  {path.name:28s} {seconds:6.1f} s", flush=True)
            else:
                failed.append(path.name)
                print(f"  {path.name:28s} FAILED after {seconds:.1f} s\n    " + error.replace("\n", "\n    "),
                      flush=True)
    print(f"execute_pages: {time.perf_counter() - start:.1f} s in all", flush=True)
    if failed:
        print(f"execute_pages: {len(failed)} pages failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
