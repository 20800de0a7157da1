# Two entry points for a fresh machine (see README.md):
#   make site   -> environment + student notebooks + the book in _build/html (with the coursekit wheel)
#   make test   -> environment + the whole test suite
# Everything runs inside .venv; nothing is installed system-wide except the
# Debian packages that `make system-deps` adds (needs root; skipped if present).

PY      := python3
VENV    := .venv
BIN     := $(VENV)/bin
# nbgrader shells out to `alembic` when it creates a gradebook: keep .venv/bin on PATH.
export PATH := $(abspath $(BIN)):$(PATH)
.PHONY: site test env lock exercises clean system-deps

# MathJax is served by the site itself, so pages render math offline. It comes from the npm
# registry at build time (pinned), like every other dependency, and is never committed.
MATHJAX_VERSION := 3.2.2
MATHJAX := _vendor/mathjax/tex-mml-chtml.js

# The stamp is rebuilt whenever the lock or the package metadata changes.
$(VENV)/.installed: requirements/lock.txt requirements/direct.txt pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	# -c pins every transitive package; torch==2.13.0 resolves to the CPU wheel on disk.
	$(BIN)/pip install --quiet --disable-pip-version-check -c requirements/lock.txt -r requirements/direct.txt
	# The student-facing helpers, editable so chapter edits need no reinstall.
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

env: $(VENV)/.installed

# Debian packages: bubblewrap sandboxes student code (setpriv and runuser come with util-linux);
# the tests start a real PostgreSQL server for the shared-gradebook case, and open every page of
# the built site in Debian's headless Chromium (driven from .venv by Playwright for Python, pointed
# at /usr/bin/chromium: Playwright's own browser download is never used).
# Installed only when missing; needs root, as the grader itself does.
system-deps:
	@command -v bwrap >/dev/null && command -v setpriv >/dev/null && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
	  && test -x /usr/bin/chromium || { \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap util-linux postgresql chromium; }

$(MATHJAX):
	rm -rf /tmp/course-mathjax && mkdir -p /tmp/course-mathjax
	cd /tmp/course-mathjax && npm pack --silent mathjax@$(MATHJAX_VERSION) >/dev/null && tar xzf mathjax-$(MATHJAX_VERSION).tgz
	rm -rf _vendor/mathjax && mkdir -p _vendor/mathjax
	# The combined TeX+CHTML bundle, the TeX extensions it autoloads, fonts and menu; not the speech engine.
	cd /tmp/course-mathjax/package/es5 && cp -r tex-mml-chtml.js input output ui a11y adaptors $(CURDIR)/_vendor/mathjax/

# Student notebooks are generated from autograder/source by nbgrader, never hand-edited.
exercises: env
	$(BIN)/python -m autograder release --out chapters/exercises

site: exercises $(MATHJAX)
	# -W: warnings are errors; -n: nitpicky cross-references; --keep-going: report them all;
	# --all: rewrite every page (an incremental build kept a References page without a new citation).
	# Unchanged pages are not re-executed either way (jupyter-cache).
	# The chapter pages execute first, one kernel per core, into the build's cache (_ext/execute_pages.py); the
	# build then takes them from the cache. A failing claim stops here, naming the page, the sentence and the values.
	# The build also makes the student package: _ext/student_downloads.py builds the coursekit wheel (from a clean
	# copy of pyproject.toml and coursekit/ only) into _build/html/downloads/, which the home page and every exercise
	# page link with their install lines (pip install <its address>, or download it and pip install the file).
	$(BIN)/python _ext/execute_pages.py
	$(BIN)/jupyter-book build . -W -n --keep-going --all

# -n 2: two test processes (CI has 2 cores). --dist loadscope: the tests are shared out in the work units of
# tests/conftest.py (a test file, or one chapter of the files with a fixture per chapter, or the site's users),
# longest first, so a module fixture (a chapter's graded batch, the site build) is made once and both processes
# finish together. The site build is also guarded by a lock (tests/conftest.py), since several files use it.
# --durations=25: the slowest tests in the log, to watch the cost per chapter. PYTEST_ARGS adds options by hand
# (e.g. make test PYTEST_ARGS="--junitxml=times.xml" for bench/test_times.py).
PYTEST_ARGS ?=
test: env system-deps $(MATHJAX)
	$(BIN)/python -m pytest -n 2 --dist loadscope --durations=25 $(PYTEST_ARGS) tests

lock:
	rm -rf /tmp/course-lock-venv && $(PY) -m venv /tmp/course-lock-venv
	/tmp/course-lock-venv/bin/pip install --quiet -r requirements/direct.txt
	{ echo "# Full pinned lock for every environment of the course (site, grading, tests)."; \
	  echo "# Generated from requirements/direct.txt by 'make lock'; do not edit by hand."; \
	  /tmp/course-lock-venv/bin/pip freeze | grep -v -iE '^(-e |coursekit)' | sed -e 's/^torch==.*/torch==2.13.0/'; } > requirements/lock.txt

clean:
	rm -rf _build
