"""The gradebook database: reaching it, waiting for it while it is locked or down, and why nbgrader failed."""

from __future__ import annotations

import re

from .course import UsageError


class GradingFailed(Exception):
    """nbgrader could not grade a submission (e.g. the gradebook was locked or down): not the student's doing.

    Such a submission gets no fingerprint, so the next run grades it again.
    """

    def __init__(self, step: str, result: dict, notes: list[str]):
        reason, self.database = first_error_line(result)
        super().__init__(f"{step} failed: {reason}")
        self.notes = notes


def first_error_line(result: dict) -> tuple[str, bool]:
    """The line that says why an nbgrader API call failed, and whether it was the database."""
    # A database error's own line (in the error or only in the log), not nbgrader's generic advice
    # to run `nbgrader db upgrade` or to "see the above traceback". nbgrader re-raises a failed commit
    # as InvalidEntry, so the driver's error may only show as "...: (sqlite3.OperationalError) ...".
    everything = f"{result.get('error') or ''}\n{result.get('log') or ''}".splitlines()
    database = [ln for ln in everything if "sqlalchemy.exc." in ln or "OperationalError) " in ln]
    if database:
        return "gradebook database error: " + database[-1].strip().split(": ", 1)[-1][:300], True
    text = (result.get("error") or result.get("log") or "").strip().splitlines()
    lines = [ln for ln in text if "Error" in ln or "error" in ln] or text or ["unknown error"]
    return lines[-1].strip()[:300], False


def with_busy_timeout(db_url: str, patience: float) -> str:
    """An SQLite URL whose connections wait ``patience`` s for a lock instead of pysqlite's 5 s.

    Concurrent workers each hold the write lock briefly; on a loaded machine one of them can be
    descheduled while holding it. A timeout given in the URL is kept.
    """
    if not db_url.startswith("sqlite") or re.search(r"[?&]timeout=", db_url):
        return db_url
    return f"{db_url}{'&' if '?' in db_url else '?'}timeout={patience:g}"


_GAVE_UP_ON: set[str] = set()  # databases this process waited for in vain: not waited for again until back


def wait_for_database(db_url: str, patience: float) -> bool:
    """After a database error: True once a database server answers again (within ``patience`` s).

    False at once for SQLite (its connections already waited ``patience`` for the lock), and for a
    server this process already waited for in vain: a database that stays down costs each worker
    ``patience`` once, not once per remaining submission.
    """
    import time

    if db_url.startswith("sqlite"):
        return False
    deadline = time.monotonic() + (0 if db_url in _GAVE_UP_ON else patience)
    while True:
        try:
            check_database(db_url)
            _GAVE_UP_ON.discard(db_url)
            return True
        except UsageError:
            if time.monotonic() >= deadline:
                _GAVE_UP_ON.add(db_url)
                return False
            time.sleep(1)


def check_database(db_url: str) -> None:
    """A UsageError unless the gradebook database can be reached (nothing is graded otherwise)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    try:
        engine = create_engine(db_url)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except (SQLAlchemyError, ArgumentError, ImportError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise UsageError(f"cannot reach the gradebook database {redact(db_url)}: {reason}") from None


def redact(url: str) -> str:
    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", url)


def submitted_students(db_url: str, assignment: str) -> set[str]:
    """Students with a graded submission of ``assignment`` in the gradebook (none if it is new)."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url) as gb:
        return {sub.student_id for sub in gb.assignment_submissions(assignment)}
