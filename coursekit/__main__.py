"""``python -m coursekit COMMAND``: the course's commands for students.

``check NOTEBOOK.ipynb``  run an exercise notebook as the grader would and say what would cost points
                          (see :mod:`coursekit.check`).
"""

from __future__ import annotations

import sys

USAGE = """usage: python -m coursekit check NOTEBOOK.ipynb [--timeout S] [--json]

commands:
  check   run an exercise notebook top to bottom in a fresh kernel, as Restart & Run All does, report
          each graded part's visible tests and warn about what would cost points (before you submit)"""


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["check"]:
        from .check import main as check

        return check(argv[1:])
    if argv[:1] in (["-h"], ["--help"]):
        print(USAGE)
        return 0
    print(USAGE, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
