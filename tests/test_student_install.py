"""A student installs ``coursekit`` from the built site alone, and ``python -m coursekit check`` runs.

The wheel is the one the site serves (conftest's ``site`` builds the book once per run, as ``make site`` does),
found through the link on the home page. It is installed into a fresh venv with the file address the home page
shows for a site opened as local files, and the check then runs on a released student notebook.

The fresh venv must get ``coursekit`` from the wheel only. The project's venv has coursekit as an *editable*
install (a ``.pth`` that loads a finder pointing into this checkout), so a ``--system-site-packages`` venv would
import that copy. Installing torch from scratch would take minutes, so the heavy dependencies come from the
project's venv through one ``.pth`` line naming its site-packages: such a line only puts the folder on
``sys.path`` and never runs the ``.pth`` files inside it, so the editable finder is not loaded; and nothing here
puts the checkout on ``PYTHONPATH``. pip runs ``--isolated --no-index``: every dependency the wheel declares must
already be satisfied (a wrong pin fails). The test asserts that ``coursekit`` is imported from inside the fresh
venv.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat

from conftest import REPO

NOTEBOOK = REPO / "chapters" / "exercises" / "ch02_weight_decay" / "weight_decay.ipynb"
# One part answered correctly (the course's penalty lam/2 * ||w||^2), so the check has a passing part to report.
ANSWER = ("def l2_penalty(w, lam):\n"
          "    return float(lam / 2 * np.sum(np.asarray(w, dtype=float) ** 2))\n")


def served_wheel(site: Path) -> Path:
    """The wheel the home page links to, as a file of the built site."""
    home = (site / "intro.html").read_text()
    links = re.findall(r'<a class="ck-wheel-download[^"]*" href="([^"]+)"', home)
    assert links, "the home page has no link to the coursekit wheel"
    wheel = (site / unquote(urlsplit(links[0]).path)).resolve()
    assert wheel.is_file(), f"the home page links a wheel that is not in the site: {links[0]}"
    return wheel


def _env(venv: Path) -> dict[str, str]:
    """The environment of a student's shell with the fresh venv activated: no path into this checkout."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP") and not k.startswith("PIP_")}
    env["VIRTUAL_ENV"] = str(venv)
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["OMP_NUM_THREADS"] = "1"
    return env


def test_the_site_wheel_installs_alone_and_checks_a_released_notebook(site, tmp_path):
    wheel = served_wheel(site)
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    assert wheel.name == f"coursekit-{version}-py3-none-any.whl", wheel.name
    tops = {n.split("/")[0] for n in zipfile.ZipFile(wheel).namelist()}
    assert tops == {"coursekit", f"coursekit-{version}.dist-info"}, f"the served wheel holds more than coursekit: {tops}"

    venv = tmp_path / "student-env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    env = _env(venv)
    purelib = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                  env=env, cwd=tmp_path, capture_output=True, text=True, check=True).stdout.strip())
    # torch, numpy, ..., and Jupyter's nbclient/ipykernel for the check, from the project's venv (see the docstring).
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (purelib / "course-deps.pth").write_text("".join(f"{d}\n" for d in sorted(deps)))

    # The line the home page shows for a site opened as local files: pip install file:///.../coursekit-....whl
    pip = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--isolated", "--no-index",
                          "--disable-pip-version-check", wheel.as_uri()],
                         env=env, cwd=tmp_path, capture_output=True, text=True)
    assert pip.returncode == 0, f"pip install of the site's wheel failed:\n{pip.stdout[-3000:]}\n{pip.stderr[-3000:]}"

    where = subprocess.run([str(python), "-c", "import json, sys, coursekit, coursekit.check, coursekit.checks; "
                            "print(json.dumps([coursekit.__file__, sorted(m for m in sys.modules if 'editable' in m)]))"],
                           env=env, cwd=tmp_path, capture_output=True, text=True)
    assert where.returncode == 0, where.stderr
    file, editable = json.loads(where.stdout)
    assert Path(file).is_relative_to(venv), f"coursekit was imported from {file}, not from the wheel in {venv}"
    assert not editable, f"the project's editable finder was loaded: {editable}"

    nb = nbformat.read(NOTEBOOK, as_version=4)
    (answer,) = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "l2_penalty"]
    answer.source = ANSWER
    work = tmp_path / "work"
    work.mkdir()
    nbformat.write(nb, work / NOTEBOOK.name)
    proc = subprocess.run([str(python), "-m", "coursekit", "check", NOTEBOOK.name, "--json"],
                          env=env, cwd=work, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 1, f"exit {proc.returncode} (1 expected: parts left to do)\n{proc.stdout}\n{proc.stderr}"
    report = json.loads(proc.stdout)
    assert report["exercise"] == "weight_decay", report
    status = {p["grade_id"]: p["status"] for p in report["parts"]}
    assert status["test_l2_penalty"] == "pass", status
    assert {s for g, s in status.items() if g != "test_l2_penalty"} <= {"todo", "unanswered"}, status
