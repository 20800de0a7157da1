"""The book's claims hold on another CPU and on other seeds, not only on the machine that built it.

The site build (``conftest.site``) executes every chapter page once, on this machine's fastest torch CPU kernels
and the pages' own seeds. Here every chapter page runs once more from scratch (no execution cache), with

- torch's CPU kernels forced to another instruction set: ``ATEN_CPU_CAPABILITY=default`` (no AVX), so the last
  bits of floating point differ as they do on a reader's CPU; and
- every experiment seed shifted by ``COURSE_SEED_OFFSET`` (STYLE.md, "A sentence about a result is a claim").

Every claim a page checks (``coursekit.claims.check``) must hold there too; a failure names the page, the
sentence and the values. ``COURSE_PORTABLE_CPU`` and ``COURSE_PORTABLE_SEED_OFFSET`` choose other settings by hand,
e.g. ``COURSE_PORTABLE_CPU=avx2 COURSE_PORTABLE_SEED_OFFSET=7 .venv/bin/python -m pytest tests/test_book_portable.py``.
"""

from __future__ import annotations

import json
import os

import pytest

from conftest import REPO
from page_runner import CHAPTERS, run_page

CPU = os.environ.get("COURSE_PORTABLE_CPU", "default")
OFFSET = os.environ.get("COURSE_PORTABLE_SEED_OFFSET", "101")
TIMES = REPO / "_build" / "portable-page-times.json"


@pytest.mark.parametrize("page", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_page_claims_hold_on_another_cpu_and_other_seeds(page):
    run = run_page(page, {"ATEN_CPU_CAPABILITY": CPU, "COURSE_SEED_OFFSET": OFFSET})
    _record_time(run)
    assert run.error is None, (f"{page.name} fails with ATEN_CPU_CAPABILITY={CPU}, COURSE_SEED_OFFSET={OFFSET}:\n"
                               f"{run.error}")
    assert not run.unglued, f"{page.name}: the prose shows glue names that no cell glued: {run.unglued}"
    assert run.claims, f"{page.name} checked no claim with coursekit.claims"
    seeded = [c for c in run.claims if c["kind"] == "over seeds"]
    # The run really was shifted: every multi-seed claim was judged on seeds that start at the offset or later.
    for c in seeded:
        assert _min_seed(c["values"]) >= int(OFFSET), f"{page.name}: '{c['sentence']}' ignored COURSE_SEED_OFFSET"


def _min_seed(values) -> float:
    if isinstance(values, dict) and "seeds" in values:
        return min(values["seeds"])
    if isinstance(values, dict):
        return min((_min_seed(v) for v in values.values()), default=float("inf"))
    if isinstance(values, list):
        return min((_min_seed(v) for v in values), default=float("inf"))
    return float("inf")


def _record_time(run):
    """Each page's execution time in this run, for the log and bench/README (the machine is shared: noisy)."""
    TIMES.parent.mkdir(exist_ok=True)
    times = json.loads(TIMES.read_text()) if TIMES.is_file() else {}
    times[run.page] = {"seconds": round(run.seconds, 1), "claims": len(run.claims),
                       "over_seeds": sum(c["kind"] == "over seeds" for c in run.claims),
                       "cpu": CPU, "seed_offset": int(OFFSET)}
    TIMES.write_text(json.dumps(times, indent=1))
