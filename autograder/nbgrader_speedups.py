"""Remove nbgrader 0.9.6's fixed costs per graded submission, in grading processes only.

Measured with cProfile on 12 submissions, nbgrader's own bookkeeping cost about
1.5 s per submission, of which these two are pure overhead:

* every ``Gradebook(...)`` builds a new SQLAlchemy engine, lists the tables
  and issues CREATE TABLE IF NOT EXISTS for each (about 30 ms with SQLite, a
  new connection each time with PostgreSQL). Autograde and feedback open a
  gradebook about ten times per submission. Here a process keeps one engine
  per database URL once its schema has been set up, and sessions come from
  that engine's connection pool.
* every cell's nbgrader metadata is checked with ``jsonschema.validate``,
  which checks the schema itself against its meta-schema each time. Here the
  validator for nbgrader's fixed schema is built once; errors are the same
  (``best_match`` of the same validator's errors).

A new gradebook costs more: nbgrader stamps it with the head revision of its alembic migrations, which it learns by
running the ``alembic heads`` command in a new Python process (3 to 6 s, once per fresh gradebook, i.e. once per
grading run into a new --out). Here the same head is read in this process with alembic's own ScriptDirectory,
once per process.

A fourth is start-up: importing nbgrader imports jsonschema, which builds the
grammar of the optional ``rfc3987_syntax`` package (installed for
jupyter-events) to check "iri" formats, which nothing here checks: 1.3 of the
2.4 s that importing nbgrader takes, in every grading process.

All four change how often work is done, never what is written: tests grade the
same submissions with and without them and compare the gradebooks. They are
applied only to nbgrader 0.9.6, the version this course pins; with any other
version grading works unchanged, just slower. ``AUTOGRADER_NO_SPEEDUPS=1``
turns them off.
"""

from __future__ import annotations

import json
import os

_installed = False


def install() -> bool:
    """Apply the speed-ups in this process (idempotent); False if they do not apply."""
    global _installed
    if _installed:
        return True
    import nbgrader

    if os.environ.get("AUTOGRADER_NO_SPEEDUPS") or nbgrader.__version__ != "0.9.6":
        return False
    _reuse_gradebook_engines()
    _cache_metadata_validators()
    _alembic_head_in_process()
    _installed = True
    return True


def skip_unused_imports() -> None:
    """Before jsonschema is imported: make its optional rfc3987_syntax import fail (it then skips those formats)."""
    import sys

    if not os.environ.get("AUTOGRADER_NO_SPEEDUPS") and "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)  # None in sys.modules: "import" raises ImportError


def _reuse_gradebook_engines() -> None:
    from nbgrader import api
    from sqlalchemy.orm import scoped_session, sessionmaker

    original_init = api.Gradebook.__init__
    engines: dict[str, object] = {}  # database URL -> engine whose schema is known to be set up

    def __init__(self, db_url, course_id="default_course", authenticator=None):
        engine = engines.get(db_url)
        if engine is None:  # first use in this process: nbgrader's own set-up (tables, alembic stamp)
            original_init(self, db_url, course_id, authenticator)
            engines[db_url] = self.engine
            return
        # The rest of nbgrader's __init__, on the engine that is already set up.
        self.engine = engine
        self.db = scoped_session(sessionmaker(autoflush=True, bind=engine, future=True))
        self.check_course(course_id=course_id)
        self.course_id = course_id
        self.authenticator = authenticator

    def close(self):
        self.db.remove()  # the session's connection goes back to the pool; the engine stays
        if not any(engine is self.engine for engine in engines.values()):
            self.engine.dispose()

    api.Gradebook.__init__ = __init__
    api.Gradebook.close = close


class _CachedJsonschema:
    """Stands in for the ``jsonschema`` module inside ``nbgrader.nbgraderformat.common``."""

    def __init__(self):
        import jsonschema

        self._jsonschema = jsonschema
        self.ValidationError = jsonschema.ValidationError
        self._validators: dict[str, object] = {}

    def validate(self, instance, schema):
        key = json.dumps(schema, sort_keys=True)
        validator = self._validators.get(key)
        if validator is None:
            cls = self._jsonschema.validators.validator_for(schema)
            cls.check_schema(schema)
            validator = self._validators[key] = cls(schema)
        error = self._jsonschema.exceptions.best_match(validator.iter_errors(instance))
        if error is not None:
            raise error

    def __getattr__(self, name):
        return getattr(self._jsonschema, name)


def _cache_metadata_validators() -> None:
    from nbgrader.nbgraderformat import common

    common.jsonschema = _CachedJsonschema()


def _alembic_head_in_process() -> None:
    import functools

    from nbgrader import api

    @functools.lru_cache(maxsize=None)
    def get_alembic_version() -> str:
        """The head revision of nbgrader's migrations, as ``alembic heads`` prints it first."""
        from alembic.config import Config
        from alembic.script import ScriptDirectory
        from nbgrader.dbutil import ALEMBIC_DIR

        config = Config()
        config.set_main_option("script_location", ALEMBIC_DIR)
        return ScriptDirectory.from_config(config).get_heads()[0]

    api.get_alembic_version = get_alembic_version
