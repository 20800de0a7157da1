"""The sandboxed fork server: warm jobs that cannot see or touch each other, or the server."""

from __future__ import annotations

import json
import os

import pytest

from autograder.course import REPO
from autograder.sandbox import ForkServer, Limits, _read_file, check_available
from autograder.verdicts import HARNESS

try:
    check_available()
except Exception as exc:  # pragma: no cover - the test command installs bubblewrap
    pytest.fail(f"the sandbox must be available for these tests: {exc}")


@pytest.fixture(scope="module")
def server():
    srv = ForkServer(HARNESS, Limits())
    yield srv
    srv.stop()


def run(server, *cells, wall=60, cell_timeout=30):
    """Run ``cells`` as one job; (Result, {cell index: its stdout and error text})."""
    job = {"cells": [{"index": i, "source": src} for i, src in enumerate(cells)], "parts": {},
           "cell_timeout": cell_timeout, "part_timeout": 30}
    res, found = server.run({"job.json": json.dumps(job).encode()}, wall_seconds=wall, cpu_seconds=wall)
    if "results.json" not in found:
        return res, None
    cells_out = json.loads(found["results.json"])["cells"]
    return res, {int(k): "".join(o.get("text", "") + o.get("evalue", "") for o in v) for k, v in cells_out.items()}


# A cell runs in the runner, whose parent is the job's supervisor, whose parent is the server.
FIND_SERVER = ("import os\n"
               "status = dict(l.split(':', 1) for l in open(f'/proc/{os.getppid()}/status'))\n"
               "server = int(status['PPid'])\n"
               "assert b'--serve' in open(f'/proc/{server}/cmdline', 'rb').read()\n"
               "assert int(status['Uid'].split()[0]) == os.getuid()\n")


def test_jobs_start_warm_with_fresh_globals(server):
    _, out = run(server, "x = 41\nimport sys\nprint('torch' in sys.modules, 'numpy' in sys.modules)")
    assert out[0].strip() == "True True"  # imported once by the server, not by each job
    first = server.proc.pid
    _, out = run(server, "print('x' in globals(), 'np' in globals())")
    assert out[0].strip() == "False False"
    assert server.proc is not None and server.proc.pid == first  # cleaned up and reused, not restarted


def test_leftover_processes_are_killed_before_the_next_job(server):
    _, out = run(server, "import subprocess, os\n"
                         "p = subprocess.Popen(['sleep', '300'], start_new_session=True)\n"
                         "if os.fork() == 0:\n"
                         "    os.setsid()\n"
                         "    import time\n"
                         "    while True: time.sleep(0.1)\n"
                         "print(p.pid)")
    leftover = int(out[0])
    _, out = run(server, f"import os\nprint(os.path.exists('/proc/{leftover}'))\n"
                         "print(sorted(open(f'/proc/{p}/cmdline', 'rb').read().split(b'\\0')[0].decode() "
                         "for p in os.listdir('/proc') if p.isdigit()))")
    first, names = out[0].splitlines()
    assert first == "False"
    assert "sleep" not in names
    # bwrap's init, the server, this job's supervisor and runner: nothing else.
    assert len(eval(names)) == 4, names


def test_tmp_and_system_v_ipc_are_wiped_between_jobs(server):
    shm = ("import ctypes\nlibc = ctypes.CDLL(None)\n"
           "libc.shmget.argtypes = [ctypes.c_int, ctypes.c_size_t, ctypes.c_int]\n")
    _, out = run(server, "import os\nopen('/tmp/secret', 'w').write('answers')\n"
                         "os.makedirs('/tmp/locked/deeper')\nopen('/tmp/locked/deeper/f', 'w').write('x')\n"
                         "os.chmod('/tmp/locked/deeper', 0)\nos.chmod('/tmp/locked', 0)\n"
                         + shm + "print(libc.shmget(0x4242, 4096, 0o1000 | 0o600) >= 0)")
    assert out[0].strip() == "True"  # the segment was created
    _, out = run(server, "import os\nprint(os.listdir('/tmp'))\n" + shm + "print(libc.shmget(0x4242, 0, 0))")
    listing, segment = out[0].splitlines()
    # Only what bwrap made to hold the read-only mounts is left (when the checkout itself is under /tmp).
    assert all(f"/tmp/{name}" == str(REPO)[:len(f"/tmp/{name}")] for name in eval(listing)), listing
    assert segment == "-1"


def test_jobs_cannot_read_the_server_or_write_outside_their_folder(server):
    _, out = run(server, FIND_SERVER +
                 "for what in ('mem', 'environ', 'maps'):\n"
                 "    try:\n"
                 "        open(f'/proc/{server}/{what}', 'rb').read(1)\n"
                 "        print(what, 'readable')\n"
                 "    except PermissionError:\n"
                 "        print(what, 'denied')\n"
                 "for path in ('/work/scratch/x', '/work/harness/harness.py', 'mine.txt'):\n"
                 "    try:\n"
                 "        open(path, 'w').write('x')\n"
                 "        print(path, 'written')\n"
                 "    except OSError:\n"
                 "        print(path, 'denied')\n")
    assert out[0].splitlines() == ["mem denied", "environ denied", "maps denied", "/work/scratch/x denied",
                                   "/work/harness/harness.py denied", "mine.txt written"]


def test_a_job_that_kills_the_server_costs_only_that_job(server):
    run(server, "print('warm')")
    before = server.proc.pid
    # The job's own supervisor may still write its results after the server died; either way
    # the server is replaced and the next job runs normally.
    run(server, FIND_SERVER + "import signal\nos.kill(server, signal.SIGKILL)")
    res, out = run(server, "print('next job runs')")
    assert res.returncode == 0 and out[0].strip() == "next job runs"
    assert server.proc.pid != before


def test_a_job_over_its_wall_time_is_stopped_and_the_next_runs(server):
    res, out = run(server, "while True: pass", wall=3, cell_timeout=100)
    assert res.timed_out and out is None
    res, out = run(server, "print(6 * 7)")
    assert out[0].strip() == "42"


def test_results_are_never_read_through_a_link(tmp_path):
    (tmp_path / "secret").write_text("root only")
    os.symlink(tmp_path / "secret", tmp_path / "results.json")
    assert _read_file(tmp_path / "results.json", 1 << 20) is None
    (tmp_path / "plain.json").write_text("{}")
    assert _read_file(tmp_path / "plain.json", 1 << 20) == b"{}"
    assert _read_file(tmp_path / "plain.json", 1) is None  # over the size limit
