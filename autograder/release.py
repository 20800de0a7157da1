"""Generate the student version of every exercise with nbgrader."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from .course import SOURCE, UsageError, assignments, nbgrader_config, prepare_environment


def release(out: Path, only: list[str] | None = None) -> list[Path]:
    """Write ``out/<assignment>/<notebook>.ipynb`` for each assignment.

    nbgrader works in a scratch course directory: ``generate_assignment
    --force`` deletes its destination, so it never writes into ``out`` itself.
    Only the notebooks are copied over; other files already in ``out`` stay.
    """
    from nbgrader.apps import NbGraderAPI

    prepare_environment()
    known = assignments()
    names = only or list(known)
    for name in names:
        if name not in known:
            raise UsageError(f"unknown assignment '{name}'; known: {', '.join(known)}")
    written = []
    with tempfile.TemporaryDirectory(prefix="release-") as tmp:
        root = Path(tmp)
        shutil.copytree(SOURCE, root / "source")
        api = NbGraderAPI(config=nbgrader_config(root, f"sqlite:///{root / 'gradebook.db'}"))
        for name in names:
            result = api.generate_assignment(name, force=True)
            if not result["success"]:
                raise RuntimeError(f"nbgrader generate_assignment {name} failed:\n{result.get('error') or result.get('log')}")
            dest = out / name
            dest.mkdir(parents=True, exist_ok=True)
            for notebook in known[name]:
                target = dest / f"{notebook}.ipynb"
                shutil.copyfile(root / "release" / name / f"{notebook}.ipynb", target)
                written.append(target)
    return written
