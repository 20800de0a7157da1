"""Grading submissions in parallel, one task per student: a local process pool or a Dask cluster. Each task runs
nbgrader's autograde and feedback for one submission and records its outcome."""

from __future__ import annotations

import json
import os
import shutil
import socket
from pathlib import Path

from .course import nbgrader_config, prepare_environment
from .gradebook import GradingFailed, wait_for_database
from .intake import _read_notebook, renamed_notebooks, tamper_notes
from .manual import answer_checksums, keep_human_grades, load_checksums
from .resume import state_dir


# One NbGraderAPI per worker process, made once.
_API = None


def _worker_init(root: str, db_url: str, timeout: int, sandbox: bool, late_policy: str,
                 assignment: str | None = None) -> None:
    global _API
    import warnings

    if sandbox:  # the sandboxed fork server warms up while this process imports nbgrader
        from .sandbox import Limits
        from .verdicts import fork_server

        fork_server(Limits()).launch()
    from nbgrader.apps import NbGraderAPI
    from sqlalchemy.exc import SAWarning

    from .nbgrader_speedups import install

    warnings.filterwarnings("ignore", category=SAWarning)
    # nbgrader logs each database error with its traceback to tornado's logger, i.e. straight to the
    # terminal; the error's own line reaches the instructor in the submission's problem message.
    import logging

    logging.getLogger("tornado.application").addHandler(logging.NullHandler())
    logging.getLogger("tornado.application").propagate = False
    prepare_environment()
    install()
    _API = NbGraderAPI(config=nbgrader_config(Path(root), db_url, timeout=timeout, sandbox=sandbox,
                                              late_policy=late_policy))
    if assignment:  # its hidden tests import torch and the reference solutions
        from .verdicts import parts_of

        parts_of(assignment)


def _started(_):
    return os.getpid()


def grade_task(student: str, fingerprint: str, root: str, assignment: str, notebooks: list[str], submitted: str,
               out: str, db_url: str, timeout: int, sandbox: bool, late_policy: str, db_patience: float = 60):
    """Grade one student (in a worker process); records the outcome, then ``fingerprint``, last."""
    if _API is None:
        _worker_init(root, db_url, timeout, sandbox, late_policy)
    root_p, sub_p = Path(root), Path(submitted)
    settled = True  # False: the next run grades this student again
    for attempt in (1, 2, 3):  # a database server that went away and came back: grade again
        try:
            message, notes = _grade_one(_API, root_p, assignment, notebooks, sub_p, student, Path(out))
        except GradingFailed as exc:
            if exc.database and attempt < 3 and wait_for_database(db_url, db_patience):
                continue
            message, notes, settled = str(exc), exc.notes, False
        except Exception as exc:  # one broken submission never stops the batch
            message, notes, settled = f"grading failed: {type(exc).__name__}: {exc}", [], False
        break
    if not settled:
        message += " (not final: the next run grades it again)"
    state = state_dir(root_p, student, assignment)
    state.mkdir(parents=True, exist_ok=True)
    # graded_by: which machine and process graded it (a cluster's instructor may need to know).
    (state / "outcome.json").write_text(json.dumps({"problem": message, "notes": notes,
                                                    "graded_by": f"{socket.gethostname()}:{os.getpid()}"}))
    if settled:
        (state / "fingerprint").write_text(fingerprint)  # written last: a killed run regrades this student
    else:
        (state / "fingerprint").unlink(missing_ok=True)
    return student, message, notes


def _grade_one(api, root: Path, assignment: str, notebooks: list[str], submitted: Path,
               student: str, out: Path) -> tuple[str | None, list[str]]:
    """Grade one student: (a problem that stopped grading, or None; notes on what was odd)."""
    src = submitted / student / assignment
    renamed = renamed_notebooks(src, assignment, notebooks) if src.is_dir() else {}
    files = {nb: src / f"{nb}.ipynb" for nb in notebooks if (src / f"{nb}.ipynb").is_file()} | renamed
    present = [nb for nb in notebooks if nb in files]
    notes = [f"graded {path.name} as {nb}.ipynb: the file was renamed (keep the notebook's name next time)"
             for nb, path in renamed.items()]
    extra = sorted(p.name for p in src.glob("*.ipynb") if p.stem not in notebooks and p not in renamed.values())
    if not present:
        expected = ", ".join(f"{nb}.ipynb" for nb in notebooks)
        found = ", ".join(sorted(p.name for p in src.iterdir())) or "nothing"
        return f"empty submission: expected {expected}, found {found}", notes
    if extra:
        notes.append("extra notebook(s) not graded: " + ", ".join(extra))
    readable = []
    for nb in present:
        parsed, why = _read_notebook(files[nb])
        if why:
            notes.append(f"{why}: 0 points for it")
        else:
            readable.append(nb)
            notes += tamper_notes(parsed, assignment, nb)
    missing = [nb for nb in notebooks if nb not in present]
    if missing:
        notes.append("missing notebook(s): " + ", ".join(f"{nb}.ipynb" for nb in missing))
    if not readable:
        return "; ".join(notes), []
    dest = root / "submitted" / student / assignment
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    for path in src.iterdir():  # only what can be graded: unreadable notebooks would stop nbgrader
        if path.is_file() and path.suffix != ".ipynb":
            shutil.copyfile(path, dest / path.name)
    for nb in readable:  # under the name nbgrader expects (a renamed download gets its name back)
        shutil.copyfile(files[nb], dest / f"{nb}.ipynb")

    state = state_dir(root, student, assignment)
    before, now = load_checksums(state), answer_checksums([dest / f"{nb}.ipynb" for nb in readable])
    result = api.autograde(assignment, student, force=True, create=True)
    if not result["success"]:
        raise GradingFailed("autograde", result, notes)
    from sqlalchemy.exc import SQLAlchemyError

    try:  # a human's grade stands while the answer it judged is unchanged
        gb = api.gradebook
        try:
            notes += keep_human_grades(gb, assignment, student, readable, before, now)
        finally:
            gb.close()
    except SQLAlchemyError as exc:  # the database's own reason, waited for and retried like autograde's
        raise GradingFailed("manual grades", {"error": f"{type(exc).__name__}: {exc}"}, notes) from None
    state.mkdir(parents=True, exist_ok=True)
    (state / "answers.json").write_text(json.dumps(now))
    publish_feedback(api, root, out, assignment, student, readable, notes)
    return None, notes


def publish_feedback(api, root: Path, out: Path, assignment: str, student: str, notebooks: list[str],
                     notes: list[str] | None = None) -> None:
    """nbgrader's feedback pages for ``student``, from the gradebook as it is now, copied to
    ``out/feedback/<student>/<assignment>/``: the one place the instructor hands them out from."""
    result = api.generate_feedback(assignment, student, force=True)
    if not result["success"]:
        raise GradingFailed("feedback", result, notes or [])
    for nb in notebooks:
        html = root / "feedback" / student / assignment / f"{nb}.html"
        if not html.is_file():
            continue
        target = out / "feedback" / student / assignment / f"{nb}.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(html, target)


def _run_on_dask(todo: dict[str, str], args: tuple, workers: int, address: str):
    """The same grading tasks on Dask distributed: a LocalCluster, or the scheduler at ``address``.

    Every worker must see the course directory and the submissions at the same paths (a shared
    filesystem) and reach the gradebook (PostgreSQL when the workers are on several machines).
    """
    from dask.distributed import Client, LocalCluster, as_completed

    if address == "local":
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=50)
        client = Client(cluster)
    else:
        cluster, client = None, Client(address, timeout="30s")
    try:
        # pure=False: a regrade must run again, not come from Dask's cache.
        futures = {client.submit(grade_task, s, fingerprint, *args, pure=False,
                                 key=f"grade-{args[1]}-{s}-{os.getpid()}"): s for s, fingerprint in todo.items()}
        for future in as_completed(futures):
            try:
                yield future.result()
            except Exception as exc:  # a worker died or lost the task: report, keep going
                yield futures[future], f"grading failed on the cluster: {type(exc).__name__}: {exc}", []
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def run_all(todo: dict[str, str], args: tuple, workers: int, dask: str | None = None, prepare=None):
    """Yield (student, problem, notes) as submissions finish, graded by ``workers`` processes.

    ``todo`` maps each student to the fingerprint recorded once they are graded; ``args`` are the
    rest of grade_task's arguments. ``prepare()`` runs once the workers are starting, before any
    submission is graded.
    """
    root, assignment, notebooks, submitted, out, db_url, timeout, sandbox, late_policy, _ = args
    prepare = prepare or (lambda: None)
    if dask:
        prepare()
        yield from _run_on_dask(todo, args, workers, dask)
        return
    if workers == 1:
        if sandbox and todo:
            from .sandbox import Limits
            from .verdicts import fork_server

            fork_server(Limits()).launch()
        prepare()
        for student, fingerprint in todo.items():
            yield grade_task(student, fingerprint, *args)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # spawn: workers start clean (no inherited torch threads or database connections).
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                             initializer=_worker_init, initargs=(root, db_url, timeout, sandbox,
                                                                 late_policy, assignment)) as pool:
        for i in range(workers):  # start every worker now; each imports and warms up in its initializer
            pool.submit(_started, i)
        prepare()
        futures = {pool.submit(grade_task, s, fingerprint, *args): s for s, fingerprint in todo.items()}
        for future in as_completed(futures):
            try:
                yield future.result()
            except Exception as exc:  # the worker itself died: report, keep going
                yield futures[future], f"grading failed: {type(exc).__name__}: {exc}", []
