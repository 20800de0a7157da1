"""Claims of a chapter page, measured over seeds, glued into the prose and asserted with a margin.

A sentence such as "p = 0.5 reaches the lowest validation loss" is a claim about a distribution: the page
runs the experiment on several seeds, states the result through myst-nb's ``glue`` (never typed by hand) and
checks it here, so the build fails, naming the page, the sentence and the values, when it stops being true::

    from coursekit import claims
    claims.page("ch04")
    runs = claims.over_seeds(lambda seed: best_val_loss(p=0.5, seed=seed) / best_val_loss(p=0.0, seed=seed))
    claims.glue("ratio", runs.mean, "{:.2f}")                    # {glue:text}`ratio` in the prose
    claims.check("dropout lowers the best validation loss on every seed",
                 runs.max < 1 - 0.02, values=runs, margin=0.02)

Seeds: ``seeds(n)`` are ``0 .. n-1`` shifted by the integer in ``COURSE_SEED_OFFSET`` (default 0). Every
experiment of a page takes its seeds from here, so the test suite can run the whole book on other seeds.

Records: every claim checked is written to ``$COURSE_CLAIMS_DIR/<page>.json`` (when the variable is set; the
book build sets it to ``_build/claims``) with its values, margin, seeds, CPU capability and seed offset. The
book's *Claims* page lists them.
"""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

__all__ = ["ClaimFailed", "Spread", "check", "describe", "every_seed", "glue", "over_seeds", "page",
           "paired_difference", "seed", "seed_offset", "seeds", "t_interval"]


class ClaimFailed(AssertionError):
    """A sentence of the page is false on this run; the message names the page, the sentence and the values."""


def seed_offset() -> int:
    """The shift added to every experiment seed, from ``COURSE_SEED_OFFSET`` (0 when unset)."""
    raw = os.environ.get("COURSE_SEED_OFFSET", "0").strip() or "0"
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"COURSE_SEED_OFFSET must be an integer, not {raw!r}") from None


def seed(k: int = 0) -> int:
    """Seed number ``k`` of the page's experiments (``k`` + the offset)."""
    return int(k) + seed_offset()


def seeds(n: int = 3, start: int = 0) -> list[int]:
    """``n`` consecutive experiment seeds from ``start``, shifted by the offset."""
    if n < 1:
        raise ValueError("n must be at least 1")
    return [seed(start + i) for i in range(n)]


@dataclass(frozen=True)
class Spread:
    """One quantity measured once per seed."""

    seeds: tuple[int, ...]
    values: tuple[float, ...]

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def mean(self) -> float:
        return float(statistics.fmean(self.values))

    @property
    def std(self) -> float:
        """Sample standard deviation over seeds (ddof = 1; 0.0 for one seed)."""
        return float(statistics.stdev(self.values)) if self.n > 1 else 0.0

    @property
    def min(self) -> float:
        return float(min(self.values))

    @property
    def max(self) -> float:
        return float(max(self.values))

    def __iter__(self):
        return iter(self.values)

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return self.values[i]

    def __repr__(self) -> str:
        return f"{self.mean:.4g} ± {self.std:.2g} (sample std over {self.n} seeds; min {self.min:.4g}, max {self.max:.4g})"


def over_seeds(run: Callable[[int], object], seed_list: Iterable[int] | int = 3):
    """Call ``run(seed)`` for each seed; return a :class:`Spread`, or a dict of them when ``run`` returns a dict.

    ``seed_list`` is a list of seeds or a count (``seeds(count)``).
    """
    seed_list = seeds(seed_list) if isinstance(seed_list, int) else [int(s) for s in seed_list]
    results = [run(s) for s in seed_list]
    if all(isinstance(r, dict) for r in results):
        keys = list(results[0])
        return {k: Spread(tuple(seed_list), tuple(float(r[k]) for r in results)) for k in keys}
    return Spread(tuple(seed_list), tuple(float(r) for r in results))


# --- records -------------------------------------------------------------------------------------------------

_page: str | None = None
_records: list[dict] = []


def page(name: str) -> None:
    """Name the page whose claims follow (``"ch07"``); starts a fresh record for it."""
    global _page
    _page = str(name)
    _records.clear()
    _write()


def _environment() -> dict:
    env = {"seed_offset": seed_offset(), "machine": platform.machine(), "python": platform.python_version()}
    try:
        import torch

        env["torch"] = torch.__version__
        env["cpu_capability"] = torch.backends.cpu.get_cpu_capability()
    except Exception:  # torch is optional for a page that does not use it
        pass
    forced = os.environ.get("ATEN_CPU_CAPABILITY")
    if forced:
        env["aten_cpu_capability"] = forced
    return env


def _jsonable(values) -> object:
    if isinstance(values, Spread):
        return {"seeds": list(values.seeds), "values": [_num(v) for v in values.values],
                "mean": _num(values.mean), "std": _num(values.std)}
    if isinstance(values, dict):
        return {str(k): _jsonable(v) for k, v in values.items()}
    if isinstance(values, (list, tuple)):
        return [_jsonable(v) for v in values]
    try:
        return _num(float(values))
    except (TypeError, ValueError):
        return str(values)


def _num(x: float):
    x = float(x)
    return x if math.isfinite(x) else str(x)


def _seed_count(values) -> int:
    if isinstance(values, Spread):
        return values.n
    if isinstance(values, dict):
        return max((_seed_count(v) for v in values.values()), default=1)
    return 1


def _write() -> None:
    folder = os.environ.get("COURSE_CLAIMS_DIR")
    if not folder or _page is None:
        return
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    doc = {"page": _page, "environment": _environment(), "claims": _records}
    tmp = path / f".{_page}.json.tmp"
    tmp.write_text(json.dumps(doc, indent=1))
    tmp.replace(path / f"{_page}.json")


def check(sentence: str, holds: bool, *, values=None, margin: float | str | None = None) -> None:
    """Record the claim ``sentence`` and raise :class:`ClaimFailed` unless ``holds``.

    ``values``: what the claim was judged on (a :class:`Spread`, a dict of them, or numbers).
    ``margin``: how far the values must clear the claim's threshold (a number, or words such as "3 std").
    A claim over several seeds is one whose ``values`` hold a :class:`Spread` of at least 3 seeds;
    any other claim is recorded as deterministic (closed-form or exact computation).
    """
    if _page is None:
        raise RuntimeError("call claims.page('chNN') before the page's first claim")
    n = _seed_count(values)
    record = {"sentence": sentence, "holds": bool(holds), "values": _jsonable(values),
              "margin": margin if isinstance(margin, (str, type(None))) else _num(margin),
              "seeds": n, "kind": "over seeds" if n >= 3 else "deterministic"}
    _records.append(record)
    _write()
    if not holds:
        raise ClaimFailed(f"claim failed on page {_page}: {sentence}\n  values: {_jsonable(values)}"
                          f"\n  margin: {margin}\n  environment: {_environment()}")


def glue(name: str, value, fmt: str | None = None):
    """Glue ``value`` under ``name`` for ``{glue:text}`name``` in the prose, as the formatted string ``fmt``.

    Gluing the formatted text (not the float) fixes the rounding in one place. Outside a book build
    (no myst-nb) it returns the text and does nothing else.
    """
    text = fmt.format(value) if fmt else value
    try:
        from myst_nb import glue as _glue
    except ImportError:
        return text
    _glue(name, text, display=False)
    return text


def every_seed(a: Spread, b: Spread, predicate: Callable[[float, float], bool]) -> bool:
    """True when ``predicate(a_i, b_i)`` holds on every seed (paired by position)."""
    if a.seeds != b.seeds:
        raise ValueError("paired comparison needs the same seeds")
    return all(predicate(x, y) for x, y in zip(a.values, b.values))


def paired_difference(a: Spread, b: Spread) -> Spread:
    """Per-seed differences a − b (the seeds must match): the right spread for a paired comparison."""
    if a.seeds != b.seeds:
        raise ValueError("paired comparison needs the same seeds")
    return Spread(a.seeds, tuple(x - y for x, y in zip(a.values, b.values)))


def t_interval(spread: Spread, confidence: float = 0.95) -> tuple[float, float]:
    """Student-t confidence interval for the mean of ``spread`` (needs scipy, which scikit-learn brings)."""
    from scipy import stats

    if spread.n < 2:
        raise ValueError("an interval needs at least 2 seeds")
    half = stats.t.ppf(0.5 + confidence / 2, spread.n - 1) * spread.std / math.sqrt(spread.n)
    return float(spread.mean - half), float(spread.mean + half)


def describe(spread: Spread, fmt: str = "{:.3f}") -> str:
    """'mean ± std' in ``fmt``, the form the prose uses for a spread (the std is the sample std over seeds)."""
    return f"{fmt.format(spread.mean)} ± {fmt.format(spread.std)}"

